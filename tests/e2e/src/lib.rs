//! Harness for end-to-end tests on a real localnet: the `virtengine` binary and its
//! CometBFT child run as ordinary processes in a temporary home, on non-default ports,
//! and are driven through the CLI and the CometBFT RPC, as a user or a script would.
//!
//! * [`virtengine_bin`] finds the binary (`$VIRTENGINE_BIN`, else `<target>/release`, else
//!   `<target>/debug`) and fails loudly when there is none.
//! * [`Localnet`] starts a localnet (`localnet start --detach`) and owns its processes: its
//!   `Drop` SIGKILLs every process whose command line names the temporary home (process
//!   groups included) even when the test fails, and prints the node logs on failure.
//! * [`Rpc`] is a small blocking client for the CometBFT RPC (GET with URI parameters).
//! * [`History`] records what the chain said at each height (block hash, app hashes, tx
//!   hashes, tx results) and reports any height whose record later changes.
//! * [`Ledger`] replays every `transfer` event from genesis and compares the result with
//!   the balances the app answers at the same height.
//! * [`load`]: a client load of CLI bank sends; [`faults`]: the 4-validator fault runner
//!   (network namespaces, kill -9, SIGSTOP, partitions, wiped-data restarts).

// Test support, never consensus code: wall-clock deadlines and panicking on failure are
// exactly what a test harness needs.
#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub mod faults;
pub mod load;
pub mod netns;
pub mod provider_daemon;
pub mod provider_net;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Chain id of every localnet.
pub const CHAIN_ID: &str = "virtengine-localnet-1";
/// The funded test accounts of a localnet, in accounts.json order.
pub const ACCOUNTS: [&str; 5] = ["alice", "bob", "charlie", "provider", "operator"];
/// Genesis balance of each test account, in uve.
pub const GENESIS_BALANCE: u128 = 1_000_000_000_000;
/// The Cosmos SDK's fee collector module address (sha256("fee_collector")[..20]); the
/// same bytes under the `ve` prefix are ours ([`fee_collector_address`]).
pub const COSMOS_FEE_COLLECTOR: &str = "cosmos17xpfvakm2amg962yls6f84z3kell8c5lserqta";

/// Default ports of node 0 (RPC, P2P, ABCI, REST, gRPC, metrics, CometBFT metrics, its
/// enclave's one-time-code endpoint); a test adds its own offset to all of them.
const DEFAULT_PORTS: [u16; 8] = [26657, 26656, 26658, 1317, 9090, 26660, 26661, 26690];
/// Validators a test localnet may run (node i adds i × 100 to the offset).
const MAX_TEST_VALIDATORS: u16 = 4;

// ---------------------------------------------------------------------------------------
// The binary
// ---------------------------------------------------------------------------------------

/// The `virtengine` binary under test: `$VIRTENGINE_BIN`, else the release build, else
/// the debug build of this workspace. Panics with what to do when there is none: an
/// end-to-end test that silently skips proves nothing.
pub fn virtengine_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("VIRTENGINE_BIN").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            is_executable(&p),
            "VIRTENGINE_BIN={} is not an executable file: build it (`cargo build --release -p virtengine`) or unset VIRTENGINE_BIN",
            p.display()
        );
        return p;
    }
    let dirs = target_dirs();
    for profile in ["release", "debug"] {
        for d in &dirs {
            let p = d.join(profile).join("virtengine");
            if is_executable(&p) {
                return p;
            }
        }
    }
    panic!(
        "the virtengine binary was not found (looked for release/virtengine and debug/virtengine in {}): \
         build it with `cargo build --release -p virtengine` (or `bash scripts/setup.sh`), \
         or point VIRTENGINE_BIN at it",
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// Candidate cargo target directories: `$CARGO_TARGET_DIR`, the one this test
/// executable was built into (`<target>/<profile>/deps/<test>`), and `<workspace>/target`.
fn target_dirs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        out.push(PathBuf::from(d));
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(t) = exe.ancestors().nth(3) {
            out.push(t.to_path_buf());
        }
    }
    out.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("..")
            .join("target"),
    );
    let mut seen = BTreeSet::new();
    out.retain(|d| seen.insert(d.canonicalize().unwrap_or_else(|_| d.clone())));
    out
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Prints which binary the test uses (and how old it is), once per test.
pub fn announce_bin(bin: &Path) {
    let age = std::fs::metadata(bin)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .map(|d| format!("built {} s ago", d.as_secs()))
        .unwrap_or_default();
    eprintln!("[e2e] using virtengine binary {} ({age})", bin.display());
}

// ---------------------------------------------------------------------------------------
// Running commands
// ---------------------------------------------------------------------------------------

/// The outcome of one command.
#[derive(Debug, Clone)]
pub struct Run {
    pub args: Vec<String>,
    pub success: bool,
    pub status: String,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
    pub elapsed: Duration,
}

impl Run {
    /// stdout parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(self.stdout.trim()).ok()
    }
    pub fn describe(&self) -> String {
        format!(
            "`virtengine {}` -> {}{} after {:.1} s\n--- stdout:\n{}\n--- stderr:\n{}",
            self.args.join(" "),
            self.status,
            if self.timed_out { " (TIMED OUT)" } else { "" },
            self.elapsed.as_secs_f64(),
            self.stdout.trim_end(),
            self.stderr.trim_end()
        )
    }
}

/// Runs `bin args...` with the VirtEngine environment variables removed (so a developer's
/// settings cannot redirect a test to their chain), killing it after `timeout`.
pub fn run_cmd(bin: &Path, args: &[&str], timeout: Duration) -> Run {
    let start = Instant::now();
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("VIRTENGINE_") {
            cmd.env_remove(&k);
        }
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    let mut out_pipe = child.stdout.take().expect("stdout piped");
    let mut err_pipe = child.stderr.take().expect("stderr piped");
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out_pipe.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err_pipe.read_to_end(&mut s);
        s
    });
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > timeout => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().expect("wait for killed child");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for {}: {e}", bin.display()),
        }
    };
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned();
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        success: status.success() && !timed_out,
        status: status.to_string(),
        stdout,
        stderr,
        timed_out,
        elapsed: start.elapsed(),
    }
}

/// Polls `f` every `every` until it returns `Some`, or panics after `timeout` with
/// `what` and whatever `diagnose` adds.
pub fn wait_until<T>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut f: impl FnMut() -> Option<T>,
    diagnose: impl FnOnce() -> String,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > timeout {
            panic!(
                "timed out after {} s waiting for {what}\n{}",
                timeout.as_secs(),
                diagnose()
            );
        }
        std::thread::sleep(every);
    }
}

// ---------------------------------------------------------------------------------------
// CometBFT RPC (blocking, std only)
// ---------------------------------------------------------------------------------------

/// A CometBFT RPC endpoint, spoken to with GET and URI parameters; on this host's
/// loopback, or on the loopback of a network namespace (`/run/netns/<name>`).
#[derive(Debug, Clone)]
pub struct Rpc {
    addr: SocketAddr,
    pub url: String,
    pub netns: Option<String>,
}

impl Rpc {
    pub fn new(port: u16) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            url: format!("http://127.0.0.1:{port}"),
            netns: None,
        }
    }

    /// `127.0.0.1:<port>` inside the named network namespace.
    pub fn in_netns(netns: &str, port: u16) -> Self {
        Self {
            netns: Some(netns.to_string()),
            ..Self::new(port)
        }
    }

    /// `GET <path_and_query>`; the JSON-RPC `result`, or an error string (transport,
    /// HTTP, or the JSON-RPC error object).
    pub fn get(&self, path_and_query: &str) -> Result<Value, String> {
        let body = http_get(
            self.addr,
            self.netns.as_deref(),
            path_and_query,
            Duration::from_secs(15),
        )?;
        let v: Value = serde_json::from_str(&body)
            .map_err(|e| format!("GET {path_and_query}: not JSON ({e}): {body:.300}"))?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            return Err(format!("GET {path_and_query}: RPC error {err}"));
        }
        v.get("result")
            .cloned()
            .ok_or_else(|| format!("GET {path_and_query}: no result in {body:.300}"))
    }

    /// Latest block height and the app hash in its header.
    pub fn status(&self) -> Result<(u64, String), String> {
        let r = self.get("/status")?;
        let s = &r["sync_info"];
        Ok((
            num(&s["latest_block_height"]),
            str_of(&s["latest_app_hash"]),
        ))
    }

    pub fn height(&self) -> Option<u64> {
        self.status().ok().map(|(h, _)| h)
    }

    /// The highest height that is surely executed and committed by the app, with its
    /// `/block_results` stored: one below the latest stored block (CometBFT shows a
    /// block's height as soon as it stores the block, before executing it).
    pub fn settled_height(&self) -> Option<u64> {
        self.height().map(|h| h.saturating_sub(1))
    }

    /// The committed transaction with this hash: (height, code, raw result JSON).
    /// `Ok(None)` when CometBFT does not know it.
    pub fn tx(&self, hash: &str) -> Result<Option<(u64, u32, Value)>, String> {
        match self.get(&format!("/tx?hash=0x{hash}")) {
            Ok(r) => {
                let code = u32::try_from(num(&r["tx_result"]["code"])).unwrap_or(u32::MAX);
                Ok(Some((num(&r["height"]), code, r)))
            }
            Err(e) if e.contains("not found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `abci_query` at `height` (0 = latest): (code, value bytes, height answered, log).
    pub fn abci_query(
        &self,
        path: &str,
        data: &[u8],
        height: u64,
    ) -> Result<(u32, Vec<u8>, u64, String), String> {
        let q = format!(
            "/abci_query?path=%22{path}%22&data=0x{}&height={height}&prove=false",
            hex_upper(data)
        );
        let r = self.get(&q)?;
        let resp = &r["response"];
        let value = match resp["value"].as_str() {
            Some(v) if !v.is_empty() => B64
                .decode(v)
                .map_err(|e| format!("abci_query {path}: value not base64: {e}"))?,
            _ => Vec::new(),
        };
        Ok((
            u32::try_from(num(&resp["code"])).unwrap_or(u32::MAX),
            value,
            num(&resp["height"]),
            str_of(&resp["log"]),
        ))
    }
}

/// A JSON number or decimal string as u64 (CometBFT writes int64 as strings); absent = 0,
/// as in protobuf.
pub fn num(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.parse().unwrap_or(u64::MAX),
        Value::Number(n) => n.as_u64().unwrap_or(u64::MAX),
        Value::Null => 0,
        _ => u64::MAX,
    }
}

pub fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

pub fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// CometBFT's transaction hash: upper-case hex SHA-256 of the tx bytes.
pub fn tx_hash(tx: &[u8]) -> String {
    hex_upper(&Sha256::digest(tx))
}

/// One HTTP/1.1 GET with `Connection: close`; the body (chunked or not).
fn http_get(
    addr: SocketAddr,
    netns: Option<&str>,
    path: &str,
    timeout: Duration,
) -> Result<String, String> {
    let mut s = match netns {
        None => TcpStream::connect_timeout(&addr, Duration::from_secs(3))
            .map_err(|e| format!("connect {addr}: {e}"))?,
        Some(ns) => netns::connect(ns, addr, Duration::from_secs(3))?,
    };
    s.set_read_timeout(Some(timeout)).ok();
    s.set_write_timeout(Some(timeout)).ok();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes())
        .map_err(|e| format!("GET {path}: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .map_err(|e| format!("GET {path}: reading: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("GET {path}: malformed HTTP response ({} bytes)", raw.len()))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let body = &raw[split + 4..];
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("GET {path}: bad status line in {head:.200}"))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body).ok_or_else(|| format!("GET {path}: bad chunked body"))?
    } else {
        body.to_vec()
    };
    let body = String::from_utf8_lossy(&body).into_owned();
    // CometBFT answers JSON-RPC errors with HTTP 500 and a JSON body: let the caller see it.
    if status != 200 && !body.trim_start().starts_with('{') {
        return Err(format!("GET {path}: HTTP {status}: {body:.300}"));
    }
    Ok(body)
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size_s = std::str::from_utf8(&b[..eol]).ok()?;
        let size = usize::from_str_radix(size_s.split(';').next()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

// ---------------------------------------------------------------------------------------
// Processes of a localnet
// ---------------------------------------------------------------------------------------

/// A live process found in /proc.
#[derive(Debug, Clone)]
pub struct Proc {
    pub pid: i32,
    pub pgid: i32,
    pub argv: Vec<String>,
}

impl Proc {
    pub fn is_cometbft(&self) -> bool {
        self.argv
            .first()
            .map(|a| a.ends_with("cometbft"))
            .unwrap_or(false)
    }
    pub fn is_virtengine_start(&self) -> bool {
        self.argv
            .first()
            .map(|a| a.ends_with("virtengine"))
            .unwrap_or(false)
            && self.argv.get(1).map(|a| a == "start").unwrap_or(false)
    }
    pub fn cmdline(&self) -> String {
        self.argv.join(" ")
    }
}

/// Every live (non-zombie) process, other than this one, whose command line mentions
/// `needle` (a unique temporary directory, so nobody else's processes match).
pub fn procs_mentioning(needle: &str) -> Vec<Proc> {
    let me = std::process::id();
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let argv: Vec<String> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if !argv.iter().any(|a| a.contains(needle)) {
            continue;
        }
        let Some((state, pgid)) = proc_state(pid) else {
            continue;
        };
        if state == 'Z' || state == 'X' {
            continue;
        }
        out.push(Proc {
            pid: pid as i32,
            pgid,
            argv,
        });
    }
    out
}

/// (state, process group) from /proc/<pid>/stat.
fn proc_state(pid: u32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(") ")?;
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let _ppid = f.next()?;
    let pgid = f.next()?.parse().ok()?;
    Some((state, pgid))
}

/// Whether `pid` is gone (or a zombie).
pub fn dead(pid: i32) -> bool {
    match proc_state(pid as u32) {
        None => true,
        Some((s, _)) => s == 'Z' || s == 'X',
    }
}

/// SIGKILL to each of `ps` (the processes only, not their groups), back to back in the
/// order given; waits (15 s at most) until all are gone.
pub fn kill9_and_wait(ps: &[Proc], alive: impl Fn() -> String) {
    for p in ps {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(p.pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    wait_until(
        "the killed node processes to disappear",
        Duration::from_secs(15),
        Duration::from_millis(50),
        || ps.iter().all(|p| dead(p.pid)).then_some(()),
        alive,
    );
}

/// SIGKILL to `p`, and to its process group when it leads one that is not ours.
pub fn sigkill(p: &Proc) {
    use nix::sys::signal::{kill, killpg, Signal};
    use nix::unistd::{getpgrp, Pid};
    if p.pgid == p.pid && Pid::from_raw(p.pgid) != getpgrp() {
        let _ = killpg(Pid::from_raw(p.pgid), Signal::SIGKILL);
    }
    let _ = kill(Pid::from_raw(p.pid), Signal::SIGKILL);
}

/// The last `n` lines of a file, or a note that it cannot be read.
pub fn tail(path: &Path, n: usize) -> String {
    match std::fs::read(path) {
        Ok(b) => {
            let t = String::from_utf8_lossy(&b);
            let lines: Vec<&str> = t.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        }
        Err(e) => format!("({} unreadable: {e})", path.display()),
    }
}

// ---------------------------------------------------------------------------------------
// Localnet
// ---------------------------------------------------------------------------------------

/// A 1-validator localnet in a temporary home on non-default ports. Dropping it kills
/// all of its processes (even if the test panicked); on a panic it also prints the node
/// logs and keeps the home for inspection.
pub struct Localnet {
    pub bin: PathBuf,
    dir: Option<tempfile::TempDir>,
    pub home: PathBuf,
    pub home_str: String,
    pub offset: u16,
    pub rpc: Rpc,
    /// `(name, address)` from accounts.json.
    pub accounts: Vec<(String, String)>,
}

impl std::fmt::Debug for Localnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Localnet({}, offset {})",
            self.home.display(),
            self.offset
        )
    }
}

impl Localnet {
    /// `virtengine localnet start --detach` with `extra` flags, in a fresh temporary home
    /// on a free port offset. Panics (with the command's output) if it does not come up.
    pub fn start(tag: &str, extra: &[&str]) -> Self {
        let bin = virtengine_bin();
        announce_bin(&bin);
        let dir = tempfile::Builder::new()
            .prefix(&format!("ve-e2e-{tag}-"))
            .tempdir()
            .expect("create a temporary directory");
        let home = dir.path().join("localnet");
        let home_str = home.to_str().expect("utf-8 temp path").to_string();
        let offset = free_port_offset(tag);
        let rpc = Rpc::new(DEFAULT_PORTS[0] + offset);
        let mut net = Self {
            bin,
            dir: Some(dir),
            home,
            home_str,
            offset,
            rpc,
            accounts: Vec::new(),
        };
        let offset_s = offset.to_string();
        let mut args = vec![
            "localnet",
            "start",
            "--detach",
            "--home",
            &net.home_str,
            "--port-offset",
            &offset_s,
            "--ready-timeout",
            "120",
        ];
        args.extend_from_slice(extra);
        eprintln!(
            "[e2e] starting localnet in {} (port offset {offset}, RPC {})",
            net.home_str, net.rpc.url
        );
        let r = net.cli(&args, Duration::from_secs(180));
        assert!(
            r.success,
            "localnet start failed\n{}\n{}",
            r.describe(),
            net.logs(40)
        );
        net.accounts = net.read_accounts();
        net
    }

    /// Runs the binary with a timeout.
    pub fn cli(&self, args: &[&str], timeout: Duration) -> Run {
        run_cmd(&self.bin, args, timeout)
    }

    /// `args` plus the flags that point a client command at this localnet (its keyring
    /// with the test backend, node0's RPC), with a 120 s timeout.
    pub fn client(&self, args: &[&str]) -> Run {
        let node = self.rpc.url.clone();
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&[
            "--home",
            &self.home_str,
            "--keyring-backend",
            "test",
            "--node",
            &node,
        ]);
        self.cli(&all, Duration::from_secs(120))
    }

    /// A `tx …` command signed for this chain without a prompt; its run and its JSON output.
    pub fn tx_json(&self, args: &[&str]) -> (Run, Value) {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--chain-id", CHAIN_ID, "--yes", "--output", "json"]);
        let r = self.client(&all);
        let v = r
            .json()
            .unwrap_or_else(|| panic!("stdout is not JSON\n{}", r.describe()));
        (r, v)
    }

    /// A `query …` command that must succeed; its JSON output.
    pub fn query_json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--output", "json"]);
        let r = self.client(&all);
        assert!(r.success, "{}", r.describe());
        r.json()
            .unwrap_or_else(|| panic!("stdout is not JSON\n{}", r.describe()))
    }

    fn read_accounts(&self) -> Vec<(String, String)> {
        let p = self.home.join("accounts.json");
        let text =
            std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()));
        let list: Vec<(String, String)> = v
            .as_array()
            .unwrap_or_else(|| panic!("{} is not an array", p.display()))
            .iter()
            .map(|a| (str_of(&a["name"]), str_of(&a["address"])))
            .collect();
        let names: Vec<&str> = list.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ACCOUNTS, "accounts.json names");
        for (n, a) in &list {
            assert!(a.starts_with("ve1"), "{n} has address {a:?}");
        }
        list
    }

    pub fn address(&self, name: &str) -> String {
        self.accounts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| panic!("no account {name}"))
    }

    pub fn node_home(&self) -> PathBuf {
        self.home.join("node0")
    }

    /// The last `n` lines of node0's logs (ours and CometBFT's).
    pub fn logs(&self, n: usize) -> String {
        let logs = self.node_home().join("logs");
        format!(
            "--- last {n} lines of {}:\n{}\n--- last {n} lines of {}:\n{}",
            logs.join("node.log").display(),
            tail(&logs.join("node.log"), n),
            logs.join("cometbft.log").display(),
            tail(&logs.join("cometbft.log"), n)
        )
    }

    /// Live processes of this localnet (`virtengine start` and its `cometbft`).
    pub fn procs(&self) -> Vec<Proc> {
        procs_mentioning(&self.home_str)
    }

    /// Waits until the chain is at `height` or above; returns the height seen.
    pub fn wait_height(&self, height: u64, timeout: Duration) -> u64 {
        wait_until(
            &format!("height {height} at {}", self.rpc.url),
            timeout,
            Duration::from_millis(200),
            || self.rpc.height().filter(|h| *h >= height),
            || {
                format!(
                    "last status: {:?}\nprocesses: {:?}\n{}",
                    self.rpc.status(),
                    self.procs().iter().map(Proc::cmdline).collect::<Vec<_>>(),
                    self.logs(40)
                )
            },
        )
    }

    /// `kill -9` of the node's processes (`virtengine start` and its `cometbft`; not the
    /// CLI clients talking to it), back to back in the order given by `comet_first`;
    /// waits until they are gone. Returns what was killed.
    pub fn kill9(&self, comet_first: bool) -> Vec<Proc> {
        let all = self.procs();
        let mut ps: Vec<Proc> = all
            .iter()
            .filter(|p| p.is_virtengine_start() || p.is_cometbft())
            .cloned()
            .collect();
        assert!(
            ps.iter().any(Proc::is_virtengine_start) && ps.iter().any(Proc::is_cometbft),
            "expected a `virtengine start` and a `cometbft` process for {}, found: {:?}\n{}",
            self.home_str,
            all.iter().map(Proc::cmdline).collect::<Vec<_>>(),
            self.logs(30)
        );
        ps.sort_by_key(|p| p.is_cometbft() != comet_first);
        kill9_and_wait(&ps, || format!("still alive: {:?}", self.procs()));
        ps
    }

    /// Restarts the existing chain: `localnet start --keep --detach`.
    pub fn restart(&self) -> Run {
        let r = self.cli(
            &[
                "localnet",
                "start",
                "--keep",
                "--detach",
                "--home",
                &self.home_str,
                "--ready-timeout",
                "120",
            ],
            Duration::from_secs(180),
        );
        assert!(
            r.success,
            "restart (`localnet start --keep`) failed\n{}\n{}",
            r.describe(),
            self.logs(60)
        );
        r
    }

    /// `localnet stop`: asserts it succeeds and that no process is left.
    pub fn stop(&self) {
        let r = self.cli(
            &["localnet", "stop", "--home", &self.home_str],
            Duration::from_secs(60),
        );
        assert!(r.success, "localnet stop failed\n{}", r.describe());
        wait_until(
            "all localnet processes to exit after `localnet stop`",
            Duration::from_secs(30),
            Duration::from_millis(100),
            || self.procs().is_empty().then_some(()),
            || format!("still running: {:?}", self.procs()),
        );
    }

    /// Balance of `denom` for `address` via `virtengine query bank balances --denom`.
    pub fn cli_balance(&self, address: &str) -> u128 {
        let r = self.cli(
            &[
                "query",
                "bank",
                "balances",
                address,
                "--output",
                "json",
                "--node",
                &self.rpc.url,
                "--home",
                &self.home_str,
            ],
            Duration::from_secs(30),
        );
        assert!(r.success, "balance query failed\n{}", r.describe());
        let v = r
            .json()
            .unwrap_or_else(|| panic!("not JSON\n{}", r.describe()));
        let balances = v["balances"]
            .as_array()
            .unwrap_or_else(|| panic!("no balances array\n{}", r.describe()));
        let mut total = 0u128;
        for c in balances {
            assert_eq!(
                c["denom"], "uve",
                "unexpected denom in {address}'s balances: {v}"
            );
            total += str_of(&c["amount"])
                .parse::<u128>()
                .unwrap_or_else(|e| panic!("bad amount in {v}: {e}"));
        }
        total
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        // Kill first (whatever happened), then talk.
        for _ in 0..50 {
            let ps = self.procs();
            if ps.is_empty() {
                break;
            }
            for p in &ps {
                sigkill(p);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let left = self.procs();
        if !left.is_empty() {
            eprintln!(
                "[e2e] WARNING: processes of {} survived SIGKILL: {:?}",
                self.home_str,
                left.iter().map(Proc::cmdline).collect::<Vec<_>>()
            );
        }
        if panicking {
            eprintln!("[e2e] test failed; node logs follow\n{}", self.logs(80));
            if let Some(d) = self.dir.take() {
                let kept = d.keep();
                eprintln!(
                    "[e2e] kept the localnet home for inspection: {}",
                    kept.display()
                );
            }
        }
    }
}

/// A port offset (multiple of 100 in 3000..=5900) where the ports of up to four nodes are free.
/// The range keeps every port below Linux's ephemeral range (32768+) and away from the
/// defaults (a developer's localnet), the benchmark (+10000) and the CLI crate's tests
/// (+20000..).
pub fn free_port_offset(tag: &str) -> u16 {
    const SLOTS: u32 = 30;
    let salt: u32 = tag.bytes().map(u32::from).sum();
    let start = (std::process::id().wrapping_mul(7).wrapping_add(salt)) % SLOTS;
    for i in 0..SLOTS {
        let offset = 3000 + ((start + i) % SLOTS) as u16 * 100;
        // Every node's ports, not just node 0's: a 4-validator net reaches offset + 300
        // (and e.g. slurmctld listens on 6817 = REST 1317 + 5500).
        let free = (0..MAX_TEST_VALIDATORS).all(|i| {
            DEFAULT_PORTS
                .iter()
                .all(|p| TcpListener::bind(("127.0.0.1", p + offset + i * 100)).is_ok())
        });
        if free {
            return offset;
        }
    }
    panic!("no free port offset in 3000..=5900 (every slot has a port in use): stop stray nodes (`pgrep -af virtengine`)");
}

// ---------------------------------------------------------------------------------------
// Chain history
// ---------------------------------------------------------------------------------------

/// What the chain says about one height.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeightRecord {
    pub block_hash: String,
    /// `app_hash` in this block's header: the app hash after the previous block.
    pub header_app_hash: String,
    /// `app_hash` of `/block_results`: the app hash after this block (FinalizeBlock).
    pub results_app_hash: String,
    /// CometBFT hashes of the block's transactions, in order.
    pub tx_hashes: Vec<String>,
    /// Their result codes and logs, in the same order.
    pub tx_codes: Vec<(u32, String)>,
    /// `txs_results` and `finalize_block_events`, serialised.
    pub results: String,
    /// Every `transfer` event of the block: (sender, recipient, amount in uve).
    pub transfers: Vec<(String, String, u128)>,
}

/// The record of each height, as first seen, and every later disagreement.
#[derive(Debug, Default)]
pub struct History {
    pub heights: BTreeMap<u64, HeightRecord>,
    pub mismatches: Vec<String>,
}

impl History {
    /// Fetches heights `from..=to` and compares each with what was seen before.
    pub fn observe(&mut self, rpc: &Rpc, from: u64, to: u64) -> Result<(), String> {
        for h in from..=to {
            let rec = fetch_height(rpc, h)?;
            match self.heights.get(&h) {
                None => {
                    self.heights.insert(h, rec);
                }
                Some(old) if *old == rec => {}
                Some(old) => self.mismatches.push(format!(
                    "height {h} changed:\n  before: {old:?}\n  after:  {rec:?}"
                )),
            }
        }
        Ok(())
    }

    pub fn top(&self) -> u64 {
        self.heights.keys().next_back().copied().unwrap_or(0)
    }

    /// Header app hash of h+1 must equal the FinalizeBlock app hash of h.
    pub fn check_chained_app_hashes(&self) -> Vec<String> {
        let mut bad = Vec::new();
        for (h, r) in &self.heights {
            if let Some(next) = self.heights.get(&(h + 1)) {
                if next.header_app_hash != r.results_app_hash {
                    bad.push(format!(
                        "block {} header app_hash {} != block_results({h}).app_hash {}",
                        h + 1,
                        next.header_app_hash,
                        r.results_app_hash
                    ));
                }
            }
        }
        bad
    }
}

pub fn fetch_height(rpc: &Rpc, h: u64) -> Result<HeightRecord, String> {
    let b = rpc.get(&format!("/block?height={h}"))?;
    let block_hash = str_of(&b["block_id"]["hash"]);
    let header_app_hash = str_of(&b["block"]["header"]["app_hash"]);
    let mut tx_hashes = Vec::new();
    if let Some(txs) = b["block"]["data"]["txs"].as_array() {
        for t in txs {
            let bytes = B64
                .decode(t.as_str().unwrap_or_default())
                .map_err(|e| format!("block {h}: tx not base64: {e}"))?;
            tx_hashes.push(tx_hash(&bytes));
        }
    }
    let r = rpc.get(&format!("/block_results?height={h}"))?;
    // block_results' app_hash is []byte in Go, so base64 in JSON; the header's is hex.
    let results_app_hash = match r["app_hash"].as_str() {
        Some(s) => hex_upper(
            &B64.decode(s)
                .map_err(|e| format!("block_results({h}).app_hash {s:?}: {e}"))?,
        ),
        None => return Err(format!("block_results({h}) has no app_hash: {r:.300}")),
    };
    let txs_results = r["txs_results"].clone();
    let n_results = txs_results.as_array().map(Vec::len).unwrap_or(0);
    if n_results != tx_hashes.len() {
        return Err(format!(
            "block {h} has {} txs but block_results has {n_results} results",
            tx_hashes.len()
        ));
    }
    let tx_codes = txs_results
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                u32::try_from(num(&t["code"])).unwrap_or(u32::MAX),
                str_of(&t["log"]),
            )
        })
        .collect();
    let fb_events = r["finalize_block_events"].clone();
    let mut transfers = Vec::new();
    let mut all_events: Vec<&Value> = Vec::new();
    for tr in txs_results.as_array().into_iter().flatten() {
        all_events.extend(tr["events"].as_array().into_iter().flatten());
    }
    all_events.extend(fb_events.as_array().into_iter().flatten());
    for e in all_events {
        if e["type"] != "transfer" {
            continue;
        }
        let attr = |k: &str| {
            e["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["key"] == k)
                .map(|a| str_of(&a["value"]))
                .unwrap_or_default()
        };
        let amount = attr("amount");
        let uve = parse_uve(&amount)
            .map_err(|e| format!("block {h}: transfer amount {amount:?}: {e}"))?;
        transfers.push((attr("sender"), attr("recipient"), uve));
    }
    Ok(HeightRecord {
        block_hash,
        header_app_hash,
        results_app_hash,
        tx_hashes,
        tx_codes,
        results:
            serde_json::json!({"txs_results": txs_results, "finalize_block_events": fb_events})
                .to_string(),
        transfers,
    })
}

/// `"5000uve"` -> 5000; anything else (another denom, several coins) is an error: the
/// tests only ever move uve.
pub fn parse_uve(s: &str) -> Result<u128, String> {
    let n = s
        .strip_suffix("uve")
        .ok_or_else(|| format!("not a uve amount: {s:?}"))?;
    n.parse::<u128>().map_err(|e| format!("{s:?}: {e}"))
}

// ---------------------------------------------------------------------------------------
// Balances
// ---------------------------------------------------------------------------------------

/// Our fee collector module account (`ve1...`): the Cosmos SDK's address bytes with our prefix.
pub fn fee_collector_address() -> String {
    let (_, data) = bech32::decode(COSMOS_FEE_COLLECTOR).expect("valid constant");
    bech32::encode::<bech32::Bech32>(bech32::Hrp::parse("ve").expect("valid hrp"), &data)
        .expect("encode")
}

/// Balances from genesis plus every `transfer` event in `history` up to `height`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger(pub BTreeMap<String, u128>);

impl Ledger {
    pub fn replay(accounts: &[(String, String)], history: &History, height: u64) -> Self {
        let mut m: BTreeMap<String, u128> = accounts
            .iter()
            .map(|(_, a)| (a.clone(), GENESIS_BALANCE))
            .collect();
        m.insert(fee_collector_address(), 0);
        for h in 1..=height {
            let rec = history
                .heights
                .get(&h)
                .unwrap_or_else(|| panic!("ledger replay: height {h} was never recorded"));
            for (from, to, amt) in &rec.transfers {
                let f = m.entry(from.clone()).or_insert(0);
                *f = f.checked_sub(*amt).unwrap_or_else(|| {
                    panic!("ledger replay: {from} spends {amt} uve it does not have at height {h}")
                });
                *m.entry(to.clone()).or_insert(0) += amt;
            }
        }
        Self(m)
    }

    pub fn total(&self) -> u128 {
        self.0.values().sum()
    }
}

/// Minimal protobuf for the two bank queries used here.
mod pb {
    pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    pub fn put_str(out: &mut Vec<u8>, field: u64, s: &str) {
        put_varint(out, field << 3 | 2);
        put_varint(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }
    fn varint(b: &[u8], i: &mut usize) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let x = *b.get(*i).ok_or("truncated varint")?;
            *i += 1;
            v |= u64::from(x & 0x7f) << shift;
            if x & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }
    /// Length-delimited fields of a message: (field number, bytes); other wire types skipped.
    pub fn fields(b: &[u8]) -> Result<Vec<(u64, Vec<u8>)>, String> {
        let mut i = 0;
        let mut out = Vec::new();
        while i < b.len() {
            let key = varint(b, &mut i)?;
            match key & 7 {
                0 => {
                    varint(b, &mut i)?;
                }
                2 => {
                    let len = usize::try_from(varint(b, &mut i)?).map_err(|e| e.to_string())?;
                    let v = b.get(i..i + len).ok_or("truncated field")?.to_vec();
                    i += len;
                    out.push((key >> 3, v));
                }
                w => return Err(format!("unexpected wire type {w}")),
            }
        }
        Ok(out)
    }
    /// `repeated Coin` at field 1 of a response -> (denom, amount).
    pub fn coins(b: &[u8]) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for (f, v) in fields(b)? {
            if f != 1 {
                continue;
            }
            let mut denom = String::new();
            let mut amount = String::new();
            for (cf, cv) in fields(&v)? {
                match cf {
                    1 => denom = String::from_utf8_lossy(&cv).into_owned(),
                    2 => amount = String::from_utf8_lossy(&cv).into_owned(),
                    _ => {}
                }
            }
            out.push((denom, amount));
        }
        Ok(out)
    }
}

/// uve balance of `address` at `height` via `/cosmos.bank.v1beta1.Query/AllBalances`
/// (fails if the account holds any other denom).
pub fn balance_at(rpc: &Rpc, address: &str, height: u64) -> Result<u128, String> {
    let mut req = Vec::new();
    pb::put_str(&mut req, 1, address);
    let (code, value, answered, log) =
        rpc.abci_query("/cosmos.bank.v1beta1.Query/AllBalances", &req, height)?;
    if code != 0 {
        return Err(format!(
            "AllBalances({address}) at height {height}: code {code}: {log}"
        ));
    }
    if height != 0 && answered != height {
        return Err(format!(
            "AllBalances({address}) asked at height {height}, answered at {answered}"
        ));
    }
    let mut total = 0u128;
    for (denom, amount) in pb::coins(&value)? {
        if denom != "uve" {
            return Err(format!("{address} holds unexpected denom {denom}"));
        }
        total += amount
            .parse::<u128>()
            .map_err(|e| format!("amount {amount:?}: {e}"))?;
    }
    Ok(total)
}

/// Total uve supply at `height` via `/cosmos.bank.v1beta1.Query/TotalSupply`.
pub fn total_supply_at(rpc: &Rpc, height: u64) -> Result<u128, String> {
    let (code, value, _, log) =
        rpc.abci_query("/cosmos.bank.v1beta1.Query/TotalSupply", &[], height)?;
    if code != 0 {
        return Err(format!("TotalSupply at {height}: code {code}: {log}"));
    }
    let mut total = 0u128;
    for (denom, amount) in pb::coins(&value)? {
        if denom == "uve" {
            total += amount
                .parse::<u128>()
                .map_err(|e| format!("supply {amount:?}: {e}"))?;
        }
    }
    Ok(total)
}

/// Compares the ledger replayed from events with the app's balances at `height`, and
/// checks that the six accounts hold the whole genesis supply. Returns the problems.
pub fn check_balances(
    rpc: &Rpc,
    accounts: &[(String, String)],
    history: &History,
    height: u64,
) -> Vec<String> {
    let mut bad = Vec::new();
    let ledger = Ledger::replay(accounts, history, height);
    let genesis_total = GENESIS_BALANCE * accounts.len() as u128;
    if ledger.total() != genesis_total {
        bad.push(format!(
            "transfer events up to height {height} create or destroy coins: ledger total {} != genesis {genesis_total}",
            ledger.total()
        ));
    }
    let mut app_total = 0u128;
    for (addr, expected) in &ledger.0 {
        match balance_at(rpc, addr, height) {
            Ok(got) => {
                app_total += got;
                if got != *expected {
                    bad.push(format!(
                        "balance of {addr} at height {height}: app says {got}, genesis + transfer events say {expected}"
                    ));
                }
            }
            Err(e) => bad.push(e),
        }
    }
    if app_total != genesis_total {
        bad.push(format!(
            "sum of the five accounts and the fee collector at height {height} is {app_total} uve, genesis total is {genesis_total}"
        ));
    }
    match total_supply_at(rpc, height) {
        Ok(s) if s == genesis_total => {}
        Ok(s) => bad.push(format!(
            "total supply at height {height} is {s} uve, genesis total is {genesis_total}"
        )),
        Err(e) => bad.push(e),
    }
    bad
}
