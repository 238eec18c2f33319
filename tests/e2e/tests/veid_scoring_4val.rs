//! Identity scoring consensus on a real 4-validator localnet (issue 5, item 6): CometBFT
//! v0.38 with vote extensions, one enclave service per validator, documents and selfies
//! uploaded with the CLI. In one chain, one phase after the other:
//!
//! 1. all honest — a request reaches a consensus score within 3 blocks, every validator
//!    agreeing;
//! 2. node3's enclave restarted with `--fault-score-offset 40` (signs a deviant score) —
//!    the request still finalizes at the honest median, node3 is recorded as deviating
//!    (`veid_score_deviation` event, `scoring/participation/<node3>` counter);
//! 3. node3 stopped — 3 of 4 validators still finalize a request;
//! 4. node3 restarted with app.toml `[fault] tamper_injected_scores = true` (and an honest
//!    enclave) — the block that carries the scores is steered to a height node3 proposes
//!    in round 0: the other validators reject its tampered proposal, the height commits
//!    in a later round with another proposer, the chain goes on, and the score is the
//!    honest one.
//!
//! Steering (phase 4): the chain injects a score at H+1 once the extensions of H carry
//! results from more than 2/3 of the power. The test withholds node1's and node2's
//! enclaves (their sockets renamed, so their nodes' vote extensions carry nothing and
//! the request stays below quorum), has those enclaves score the request directly over
//! the renamed sockets, and puts the sockets back just after the commit of H-1, where
//! H+1 is a height node3 proposes in round 0 (equal powers: the round-0 proposers repeat
//! every 4 heights).

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use ve_e2e::{dead, num, procs_mentioning, str_of, wait_until, Localnet, Proc, Rpc, CHAIN_ID};

const VALIDATORS: usize = 4;
/// The validator whose enclave lies, that is stopped, and that tampers.
const FAULTY: usize = 3;
/// The enclaves withheld while steering phase 4.
const HELD: [usize; 2] = [1, 2];
/// Offset of the deviant enclave: its scores differ from the honest ones by 40 or 61.
const DEVIANT_OFFSET: &str = "40";
/// CometBFT timeout_commit: long enough for the steering window (phase 4).
const BLOCK_INTERVAL: &str = "1s";

/// The scoring crate's genuine applicant: it scores high (VERIFIED), so the honest
/// median and the deviant score are both far from 0.
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/scoring/testdata")
        .join(name)
}

/// One validator of the localnet.
struct Node {
    index: usize,
    home: PathBuf,
    home_str: String,
    rpc: Rpc,
    /// Consensus address, upper-case hex (as CometBFT prints it).
    address: String,
    /// The enclave socket its app.toml points at.
    socket: PathBuf,
}

impl Node {
    fn log(&self) -> PathBuf {
        self.home.join("logs").join("node.log")
    }

    /// `virtengine start` and `cometbft` of this node.
    fn node_procs(&self) -> Vec<Proc> {
        procs_mentioning(&self.home_str)
            .into_iter()
            .filter(|p| p.is_virtengine_start() || p.is_cometbft())
            .collect()
    }

    /// This node's enclave service process (`virtengine enclave run ...`).
    fn enclave_proc(&self, net_home: &str) -> Option<Proc> {
        let socket = self.socket.to_string_lossy().into_owned();
        let enclave_dir = self
            .socket
            .parent()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default();
        procs_mentioning(net_home).into_iter().find(|p| {
            p.argv.get(1).map(String::as_str) == Some("enclave")
                && p.argv.iter().any(|a| a == "run")
                && p.argv
                    .iter()
                    .any(|a| a == &socket || a == &enclave_dir || a.starts_with(&self.home_str))
        })
    }
}

struct Chain {
    net: Localnet,
    nodes: Vec<Node>,
    /// Processes this test started (restarted nodes and enclaves); the localnet's `Drop`
    /// kills them too (their command lines name its home).
    children: Vec<Child>,
    /// Validators whose enclave socket is withheld ([`Chain::hold`]).
    held: Vec<usize>,
    started: Instant,
}

impl Chain {
    fn start() -> Self {
        let started = Instant::now();
        let net = Localnet::start(
            "veid4",
            &["--validators", "4", "--timeout-commit", BLOCK_INTERVAL],
        );
        let mut nodes = Vec::new();
        for i in 0..VALIDATORS {
            let home = net.home.join(format!("node{i}"));
            let rpc = Rpc::new(26657 + net.offset + 100 * i as u16);
            let status = rpc
                .get("/status")
                .unwrap_or_else(|e| panic!("node{i} /status: {e}"));
            let address = str_of(&status["validator_info"]["address"]);
            assert_eq!(address.len(), 40, "node{i} validator address in {status}");
            let app_toml = std::fs::read_to_string(home.join("config").join("app.toml"))
                .unwrap_or_else(|e| panic!("node{i} app.toml: {e}"));
            let socket = enclave_socket(&app_toml).unwrap_or_else(|| {
                panic!("node{i}'s app.toml has no [enclave] socket: the localnet must run one enclave service per validator\n{app_toml}")
            });
            nodes.push(Node {
                index: i,
                home_str: home.to_str().unwrap().to_string(),
                home,
                rpc,
                address,
                socket,
            });
        }
        let chain = Self {
            net,
            nodes,
            children: Vec::new(),
            held: Vec::new(),
            started,
        };
        for n in &chain.nodes {
            assert!(
                n.enclave_proc(&chain.net.home_str).is_some(),
                "no enclave service process for node{} (socket {})\n{:?}",
                n.index,
                n.socket.display(),
                procs_mentioning(&chain.net.home_str)
                    .iter()
                    .map(Proc::cmdline)
                    .collect::<Vec<_>>()
            );
        }
        chain
    }

    fn elapsed(&self) -> String {
        format!("{:.1} s", self.started.elapsed().as_secs_f64())
    }

    fn rpc(&self) -> &Rpc {
        &self.nodes[0].rpc
    }

    fn height(&self) -> u64 {
        self.rpc().height().unwrap_or(0)
    }

    /// A `tx …` that must commit with code 0; its JSON output.
    fn tx(&self, args: &[&str]) -> Value {
        let (r, v) = self.net.tx_json(args);
        assert!(r.success && v["code"] == 0, "{}", r.describe());
        v
    }

    fn query(&self, args: &[&str]) -> Value {
        self.net.query_json(args)
    }

    /// Uploads the document and selfie fixtures for `account` and requests verification;
    /// returns (request id, height of the request).
    fn upload_and_request(&self, account: &str) -> (String, u64) {
        let doc = fixture("genuine_doc.jpg");
        let selfie = fixture("genuine_selfie.jpg");
        let up = self.tx(&[
            "tx",
            "identity",
            "upload",
            "--document",
            doc.to_str().unwrap(),
            "--selfie",
            selfie.to_str().unwrap(),
            "--consent",
            "--from",
            account,
        ]);
        assert_eq!(up["scopes"].as_array().map(Vec::len), Some(2), "{up}");
        let req = self.tx(&["tx", "identity", "request-verification", "--from", account]);
        let id = str_of(&req["request_id"]);
        assert_eq!(id.len(), 32, "{req}");
        let h = num(&req["height"]);
        assert!(h > 0, "no height in {req}");
        (id, h)
    }

    fn request(&self, id: &str) -> Value {
        self.query(&["query", "identity", "request", id])["request"].clone()
    }

    /// Waits until request `id` has left the queue; returns it (it must be COMPLETED).
    fn wait_scored(&self, id: &str, timeout: Duration) -> Value {
        let r = wait_until(
            &format!("request {id} to be scored"),
            timeout,
            Duration::from_millis(300),
            || {
                let r = self.request(id);
                let status = str_of(&r["status"]);
                (status != "PENDING" && status != "IN_PROGRESS").then_some(r)
            },
            || self.diagnose(),
        );
        assert_eq!(r["status"], "COMPLETED", "{r}\n{}", self.diagnose());
        r
    }

    fn score_of(&self, account: &str) -> u64 {
        let s = self.query(&["query", "identity", "score", account]);
        assert_eq!(s["found"], true, "{s}");
        s["score"]
            .as_u64()
            .unwrap_or_else(|| panic!("no score in {s}"))
    }

    /// (results that agreed with the consensus, results that deviated) of a validator,
    /// read from `scoring/participation/<address>` at the latest height.
    fn participation(&self, node: &Node) -> (u64, u64) {
        let mut key = b"scoring/participation/".to_vec();
        key.extend(
            (0..node.address.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&node.address[i..i + 2], 16).unwrap()),
        );
        let (code, value, _, log) = self.rpc().abci_query("/store/key", &key, 0).unwrap();
        assert_eq!(code, 0, "{log}");
        if value.is_empty() {
            return (0, 0);
        }
        assert_eq!(
            value.len(),
            16,
            "participation record of node{}",
            node.index
        );
        let agreed = u64::from_be_bytes(value[..8].try_into().unwrap());
        let deviated = u64::from_be_bytes(value[8..].try_into().unwrap());
        (agreed, deviated)
    }

    /// Events of the transactions of block `height` with their attributes.
    fn tx_events(&self, height: u64) -> Vec<(String, Vec<(String, String)>)> {
        let r = self
            .rpc()
            .get(&format!("/block_results?height={height}"))
            .unwrap();
        let mut out = Vec::new();
        for tx in r["txs_results"].as_array().cloned().unwrap_or_default() {
            for e in tx["events"].as_array().cloned().unwrap_or_default() {
                let attrs = e["attributes"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|a| (str_of(&a["key"]), str_of(&a["value"])))
                    .collect();
                out.push((str_of(&e["type"]), attrs));
            }
        }
        out
    }

    /// (round the block was committed in, proposer address) of `height`.
    fn commit_round_and_proposer(&self, height: u64) -> (u64, String) {
        let c = self.rpc().get(&format!("/commit?height={height}")).unwrap();
        (
            num(&c["signed_header"]["commit"]["round"]),
            str_of(&c["signed_header"]["header"]["proposer_address"]),
        )
    }

    fn diagnose(&self) -> String {
        let mut s = format!(
            "node0 height {:?}, pending: {}\n",
            self.rpc().height(),
            self.net
                .client(&["query", "identity", "pending", "--output", "json"])
                .stdout
        );
        for n in &self.nodes {
            s.push_str(&format!(
                "--- node{} ({}): last lines of {}:\n{}\n",
                n.index,
                n.address,
                n.log().display(),
                ve_e2e::tail(&n.log(), 15)
            ));
        }
        s
    }

    /// Spawns `argv` (a `virtengine` command line) in its own process group, output
    /// appended to `log`.
    fn spawn(&mut self, argv: &[String], log: &Path) {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let mut cmd = Command::new(&self.net.bin);
        cmd.args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .process_group(0);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("VIRTENGINE_") {
                cmd.env_remove(&k);
            }
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {argv:?}: {e}"));
        self.children.push(child);
    }

    /// SIGTERM to `procs` (a clean stop), SIGKILL after 20 s; waits until they are gone.
    fn stop_procs(&self, procs: &[Proc], what: &str) {
        for p in procs {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(p.pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while !procs.iter().all(|p| dead(p.pid)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        for p in procs.iter().filter(|p| !dead(p.pid)) {
            ve_e2e::sigkill(p);
        }
        wait_until(
            &format!("{what} to exit"),
            Duration::from_secs(10),
            Duration::from_millis(50),
            || procs.iter().all(|p| dead(p.pid)).then_some(()),
            || format!("still alive: {procs:?}"),
        );
    }

    /// Restarts validator `i`'s enclave service with the same command line plus `extra`
    /// flags; waits until it answers on its socket. Returns its log file.
    fn restart_enclave(&mut self, i: usize, extra: &[&str]) -> PathBuf {
        let p = self.nodes[i]
            .enclave_proc(&self.net.home_str)
            .unwrap_or_else(|| panic!("node{i} has no enclave process"));
        // The localnet's command line, without a fault flag a previous restart added.
        let mut argv = p.argv.clone();
        if let Some(pos) = argv.iter().position(|a| a == "--fault-score-offset") {
            argv.drain(pos..(pos + 2).min(argv.len()));
        }
        argv.extend(extra.iter().map(|s| s.to_string()));
        self.stop_procs(&[p], &format!("node{i}'s enclave"));
        let log = self.nodes[i]
            .home
            .join("logs")
            .join("enclave-restarted.log");
        self.spawn(&argv, &log);
        let socket = self.nodes[i].socket.clone();
        wait_until(
            &format!("node{i}'s restarted enclave to answer"),
            Duration::from_secs(60),
            Duration::from_millis(100),
            || enclave_call(&socket, &json!({"op": "identity"})).ok(),
            || ve_e2e::tail(&log, 20),
        );
        log
    }

    /// Stops validator `i` (`virtengine start` stops its CometBFT first).
    fn stop_node(&self, i: usize) {
        let ps = self.nodes[i].node_procs();
        assert!(
            ps.iter().any(Proc::is_virtengine_start),
            "node{i} is not running: {ps:?}"
        );
        let start: Vec<Proc> = ps
            .iter()
            .filter(|p| p.is_virtengine_start())
            .cloned()
            .collect();
        self.stop_procs(&start, &format!("node{i}"));
        let rest = self.nodes[i].node_procs();
        self.stop_procs(&rest, &format!("node{i}'s CometBFT"));
    }

    /// Starts validator `i` again and waits until it has caught up with node0.
    fn start_node(&mut self, i: usize) {
        let argv = [
            self.net.bin.to_string_lossy().into_owned(),
            "start".into(),
            "--home".into(),
            self.nodes[i].home_str.clone(),
        ];
        let log = self.nodes[i].log();
        self.spawn(&argv, &log);
        let target = self.height();
        let rpc = self.nodes[i].rpc.clone();
        wait_until(
            &format!("node{i} to catch up to height {target}"),
            Duration::from_secs(90),
            Duration::from_millis(200),
            || {
                let s = rpc.get("/status").ok()?;
                let h = num(&s["sync_info"]["latest_block_height"]);
                (h >= target && s["sync_info"]["catching_up"] == false).then_some(())
            },
            || ve_e2e::tail(&self.nodes[i].log(), 30),
        );
    }

    /// Asks validator `i`'s enclave (at `socket`) to score request `id` directly, as its
    /// node would in ExtendVote; `Some(score)` once it has scored it.
    fn ask_enclave(&self, socket: &Path, request: &Value) -> Option<u64> {
        let reply = enclave_call(
            socket,
            &json!({"op": "score", "chain_id": CHAIN_ID, "height": 1, "request": request}),
        )
        .unwrap_or_else(|e| panic!("enclave at {}: {e}", socket.display()));
        assert!(reply["error"].is_null(), "enclave refused: {reply}");
        reply["score"]["score"].as_u64()
    }

    /// The request as the enclave service receives it (`ve_enclave::api::RequestJson`),
    /// rebuilt from the chain: request, scopes and their sealed envelopes.
    fn enclave_request(&self, id: &str, account: &str) -> Value {
        let r = self.request(id);
        let dir = tempfile::tempdir().unwrap();
        let mut scopes = Vec::new();
        for sid in r["scope_ids"].as_array().unwrap() {
            let sid = str_of(sid);
            let out = dir.path().join(&sid);
            let s = self.query(&[
                "query",
                "identity",
                "scope",
                account,
                &sid,
                "--envelope-out",
                out.to_str().unwrap(),
            ]);
            let scope_type = match str_of(&s["scope"]["scope_type"]).as_str() {
                "id_document" => 1,
                "selfie" => 2,
                other => panic!("unexpected scope type {other:?} in {s}"),
            };
            scopes.push(json!({
                "scope_id": sid,
                "scope_type": scope_type,
                "envelope": B64.encode(std::fs::read(&out).unwrap()),
            }));
        }
        json!({
            "request_id": id,
            "account": str_of(&r["account"]),
            "reference_time": r["requested_at"].as_i64().unwrap(),
            "scopes": scopes,
        })
    }

    /// Withholds validator `i`'s enclave from its node: the socket is renamed, so the
    /// node's vote extensions carry no result while the service keeps running.
    fn hold(&mut self, i: usize) {
        std::fs::rename(&self.nodes[i].socket, held(&self.nodes[i].socket)).unwrap();
        self.held.push(i);
    }

    fn release(&mut self, i: usize) {
        std::fs::rename(held(&self.nodes[i].socket), &self.nodes[i].socket).unwrap();
        self.held.retain(|h| *h != i);
    }

    /// Where validator `i`'s enclave listens right now.
    fn socket_now(&self, i: usize) -> PathBuf {
        if self.held.contains(&i) {
            held(&self.nodes[i].socket)
        } else {
            self.nodes[i].socket.clone()
        }
    }

    /// Asks every running enclave (held ones included) to score `request` until all
    /// have; returns their scores by validator (`None` for a stopped validator's).
    fn scores_of_all_enclaves(&self, request: &Value, skip: Option<usize>) -> Vec<Option<u64>> {
        wait_until(
            "every enclave to score the request",
            Duration::from_secs(60),
            Duration::from_millis(200),
            || {
                let mut out = Vec::new();
                for i in 0..VALIDATORS {
                    if Some(i) == skip {
                        out.push(None);
                    } else {
                        out.push(Some(self.ask_enclave(&self.socket_now(i), request)?));
                    }
                }
                Some(out)
            },
            || self.diagnose(),
        )
    }

    /// Stops what this test started (so `localnet stop` finds only its own nodes).
    fn stop_children(&mut self) {
        let mut procs = Vec::new();
        for c in &self.children {
            if let Ok(pid) = i32::try_from(c.id()) {
                if !dead(pid) {
                    procs.extend(
                        procs_mentioning(&self.net.home_str)
                            .into_iter()
                            .filter(|p| p.pid == pid || p.pgid == pid),
                    );
                }
            }
        }
        self.stop_procs(&procs, "the processes this test started");
        for c in &mut self.children {
            let _ = c.wait();
        }
    }
}

/// One request line to an enclave service socket; its JSON reply.
fn enclave_call(socket: &Path, call: &Value) -> Result<Value, String> {
    let mut s = UnixStream::connect(socket).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut line = serde_json::to_vec(call).unwrap();
    line.push(b'\n');
    s.write_all(&line).map_err(|e| e.to_string())?;
    let mut reply = String::new();
    BufReader::new(s)
        .read_line(&mut reply)
        .map_err(|e| e.to_string())?;
    serde_json::from_str(&reply).map_err(|e| format!("{e}: {reply:.300}"))
}

/// `socket = "..."` of app.toml's `[enclave]` section, if set.
fn enclave_socket(app_toml: &str) -> Option<PathBuf> {
    let mut in_enclave = false;
    for line in app_toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_enclave = line == "[enclave]";
        } else if in_enclave {
            if let Some(v) = line.strip_prefix("socket") {
                let v = v.trim_start().strip_prefix('=')?.trim().trim_matches('"');
                return (!v.is_empty()).then(|| PathBuf::from(v));
            }
        }
    }
    None
}

fn held(socket: &Path) -> PathBuf {
    let mut s = socket.as_os_str().to_owned();
    s.push(".held");
    PathBuf::from(s)
}

/// Lines of `log` that contain every one of `needles`.
fn log_lines(log: &Path, needles: &[&str]) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .map(str::to_string)
        .collect()
}

#[test]
fn four_validators_score_identities_through_vote_extensions_despite_a_deviant_a_stopped_and_a_tampering_validator(
) {
    let mut chain = Chain::start();
    let addr: Vec<String> = chain.nodes.iter().map(|n| n.address.clone()).collect();
    eprintln!(
        "[veid4] localnet up at height {} after {}",
        chain.height(),
        chain.elapsed()
    );

    // 1. All honest: a consensus score within 3 blocks of the request.
    let (alice_req, alice_h) = chain.upload_and_request("alice");
    let r = chain.wait_scored(&alice_req, Duration::from_secs(60));
    let finished = num(&r["finished_block"]);
    eprintln!(
        "[veid4] phase 1: request at height {alice_h}, scored at height {finished} ({} blocks), {}",
        finished - alice_h,
        chain.elapsed()
    );
    assert!(
        finished > alice_h && finished - alice_h <= 3,
        "request at {alice_h} scored at {finished}: more than 3 blocks\n{}",
        chain.diagnose()
    );
    let honest = chain.score_of("alice");
    let events = chain.tx_events(finished);
    assert!(
        events.iter().any(|(t, a)| t == "veid_consensus_score"
            && a.contains(&("request_id".into(), alice_req.clone()))
            && a.contains(&("score".into(), honest.to_string()))),
        "no veid_consensus_score event for {alice_req} at {finished}: {events:?}"
    );
    let after1: Vec<(u64, u64)> = chain.nodes.iter().map(|n| chain.participation(n)).collect();
    eprintln!("[veid4] participation (agreed, deviated) after phase 1: {after1:?}");
    assert!(
        after1.iter().filter(|p| **p == (1, 0)).count() >= 3 && after1.iter().all(|p| p.1 == 0),
        "more than 2/3 agreeing, nobody deviating: {after1:?}"
    );

    // 2. node3's enclave signs deviant scores. node2's enclave is withheld until every
    //    enclave has scored, so node3's deviant result is surely in the deciding
    //    extensions (two honest results and a deviant one reach no agreement quorum).
    let fault_log = chain.restart_enclave(FAULTY, &["--fault-score-offset", DEVIANT_OFFSET]);
    assert!(
        !log_lines(&fault_log, &["FAULT INJECTION"]).is_empty(),
        "the deviant enclave must say so at start:\n{}",
        ve_e2e::tail(&fault_log, 10)
    );
    chain.hold(2);
    let (bob_req, bob_h) = chain.upload_and_request("bob");
    let bob_json = chain.enclave_request(&bob_req, "bob");
    let scores = chain.scores_of_all_enclaves(&bob_json, None);
    let deviant = scores[FAULTY].unwrap();
    assert!(
        scores
            .iter()
            .enumerate()
            .all(|(i, s)| i == FAULTY || *s == Some(honest))
            && deviant.abs_diff(honest) > 2,
        "enclave scores {scores:?}, honest {honest}"
    );
    chain
        .net
        .wait_height(chain.height() + 2, Duration::from_secs(30));
    let still = chain.request(&bob_req);
    assert_eq!(
        still["status"], "PENDING",
        "2 honest + 1 deviant of 4 must not finalize: {still}"
    );
    chain.release(2);
    let r = chain.wait_scored(&bob_req, Duration::from_secs(60));
    let finished = num(&r["finished_block"]);
    eprintln!(
        "[veid4] phase 2 (node{FAULTY} signs {deviant} instead of {honest}): request at {bob_h}, scored at {finished}, {}",
        chain.elapsed()
    );
    assert_eq!(
        chain.score_of("bob"),
        honest,
        "the median is the honest score"
    );
    let events = chain.tx_events(finished);
    let flagged: Vec<String> = events
        .iter()
        .filter(|(t, a)| {
            t == "veid_score_deviation" && a.contains(&("request_id".into(), bob_req.clone()))
        })
        .flat_map(|(_, a)| {
            a.iter()
                .filter(|(k, _)| k == "validator")
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(flagged, vec![addr[FAULTY].clone()], "{events:?}");
    let after2: Vec<(u64, u64)> = chain.nodes.iter().map(|n| chain.participation(n)).collect();
    eprintln!("[veid4] participation after phase 2: {after2:?}");
    assert_eq!(
        after2[FAULTY],
        (after1[FAULTY].0, 1),
        "node{FAULTY} flagged"
    );
    for i in 0..VALIDATORS {
        if i != FAULTY {
            assert_eq!(after2[i], (after1[i].0 + 1, 0), "node{i} agreed");
        }
    }

    // 3. node3 stopped: the other three still finalize.
    chain.stop_node(FAULTY);
    let stopped_at = chain.height();
    let (charlie_req, charlie_h) = chain.upload_and_request("charlie");
    let r = chain.wait_scored(&charlie_req, Duration::from_secs(60));
    let finished = num(&r["finished_block"]);
    eprintln!(
        "[veid4] phase 3 (node{FAULTY} stopped at {stopped_at}): request at {charlie_h}, scored at {finished} ({} blocks), {}",
        finished - charlie_h,
        chain.elapsed()
    );
    assert_eq!(chain.score_of("charlie"), honest);
    let after3: Vec<(u64, u64)> = chain.nodes.iter().map(|n| chain.participation(n)).collect();
    assert_eq!(
        after3[FAULTY], after2[FAULTY],
        "a stopped validator is not counted"
    );
    for i in 0..VALIDATORS {
        if i != FAULTY {
            assert_eq!(after3[i], (after2[i].0 + 1, 0), "node{i} agreed");
        }
    }

    // 4. node3 back with an honest enclave, tampering the injected tx of its proposals.
    chain.restart_enclave(FAULTY, &[]);
    let app_toml = chain.nodes[FAULTY].home.join("config").join("app.toml");
    let mut cfg = std::fs::read_to_string(&app_toml).unwrap();
    cfg.push_str("\n[fault]\ntamper_injected_scores = true\n");
    std::fs::write(&app_toml, cfg).unwrap();
    chain.start_node(FAULTY);
    assert!(
        !log_lines(&chain.nodes[FAULTY].log(), &["FAULT INJECTION ON"]).is_empty(),
        "the tampering node must say so at start"
    );
    // Heights node3 proposes in round 0 (equal powers: the round-0 proposers repeat
    // every 4 heights, whatever rounds a height needed).
    let mut seen = chain.height();
    let proposes = wait_until(
        &format!("node{FAULTY} to propose a block in round 0"),
        Duration::from_secs(30),
        Duration::from_millis(200),
        || {
            let tip = chain.rpc().settled_height()?;
            let found = (seen + 1..=tip)
                .find(|h| chain.commit_round_and_proposer(*h) == (0, addr[FAULTY].clone()));
            seen = tip;
            found
        },
        || chain.diagnose(),
    );
    let faulty_residue = proposes % 4;

    for i in HELD {
        chain.hold(i);
    }
    let (prov_req, prov_h) = chain.upload_and_request("provider");
    let prov_json = chain.enclave_request(&prov_req, "provider");
    let scores = chain.scores_of_all_enclaves(&prov_json, None);
    assert!(
        scores.iter().all(|s| *s == Some(honest)),
        "enclave scores {scores:?}"
    );
    let still = chain.request(&prov_req);
    assert_eq!(
        still["status"], "PENDING",
        "below quorum while two enclaves are withheld: {still}"
    );
    // Release them just after the commit of H-1 where node3 proposes H+1 in round 0: the
    // extensions of H carry every result, so node3's proposal of H+1 carries the scores.
    // Only a fresh change of height counts: ExtendVote(H) runs a block interval
    // (timeout_commit) after block H-1 appears, so the sockets are back in time.
    let mut last = chain.height();
    let release_at = wait_until(
        "the height two before one node3 proposes",
        Duration::from_secs(30),
        Duration::from_millis(20),
        || {
            let h = chain.height();
            let fresh = h != last;
            last = h;
            (fresh && (h + 2) % 4 == faulty_residue).then_some(h)
        },
        || chain.diagnose(),
    );
    for i in HELD {
        chain.release(i);
    }
    let r = chain.wait_scored(&prov_req, Duration::from_secs(60));
    let injected_at = num(&r["finished_block"]);
    let (round, proposer) = chain.commit_round_and_proposer(injected_at);
    eprintln!(
        "[veid4] phase 4 (node{FAULTY} tampering): request at {prov_h}, enclaves released after {release_at}, \
         scored at {injected_at} in round {round} proposed by {proposer}, {}",
        chain.elapsed()
    );
    assert_eq!(
        injected_at,
        release_at + 2,
        "the scores should land at node{FAULTY}'s height {}",
        release_at + 2
    );
    assert!(
        round >= 1 && proposer != addr[FAULTY],
        "height {injected_at} must commit in a later round by another proposer (round {round}, proposer {proposer})"
    );
    let at = format!("height={injected_at} ");
    let tampered = log_lines(
        &chain.nodes[FAULTY].log(),
        &["TAMPERED injected scoring transaction", &at],
    );
    assert!(
        !tampered.is_empty(),
        "node{FAULTY} should log its tampered proposal at {injected_at}\n{}",
        chain.diagnose()
    );
    let rejecting: Vec<usize> = (0..VALIDATORS)
        .filter(|i| {
            *i != FAULTY
                && !log_lines(&chain.nodes[*i].log(), &["rejecting proposal", &at]).is_empty()
        })
        .collect();
    eprintln!(
        "[veid4] node{FAULTY}: {}\n[veid4] rejected by nodes {rejecting:?}",
        tampered[0]
    );
    assert!(
        rejecting.len() >= 2,
        "the honest validators should reject node{FAULTY}'s proposal at {injected_at}\n{}",
        chain.diagnose()
    );
    assert_eq!(chain.score_of("provider"), honest, "the untampered score");
    let events = chain.tx_events(injected_at);
    assert!(
        events.iter().any(|(t, a)| t == "veid_consensus_score"
            && a.contains(&("request_id".into(), prov_req.clone()))
            && a.contains(&("score".into(), honest.to_string()))),
        "{events:?}"
    );
    // The chain goes on.
    chain
        .net
        .wait_height(injected_at + 3, Duration::from_secs(30));
    eprintln!(
        "[veid4] done at height {} after {}",
        chain.height(),
        chain.elapsed()
    );
    chain.stop_children();
    chain.net.stop();
}
