//! The fault runner: a 4-validator localnet, each validator in its own network namespace
//! ([`crate::netns`]), a CLI load running throughout ([`crate::load`]), and a seeded
//! sequence of perturbations, one node at a time:
//!
//! * `kill9`     — SIGKILL the node's `virtengine start` and `cometbft`, restart later;
//! * `pause`     — SIGSTOP both, SIGCONT later;
//! * `partition` — set the node's veth down (cut off from every peer), up later;
//! * `wipe`      — SIGKILL, delete CometBFT's `data/` (keeping `priv_validator_state.json`,
//!   so the validator never signs below a height it signed before) and the app's data,
//!   restart: the app starts from genesis and CometBFT block-syncs the chain from peers.
//!
//! After each fault the chain must advance by 2 heights while the fault holds (3 of 4
//! validators = 75 % > 2/3 of the voting power are up and connected), and after healing,
//! the node must catch up (not `catching_up`, within a height of the others; 120 s, plus
//! 200 ms per height for a wiped node) before the next perturbation starts, so at most one node is ever down.
//!
//! Invariants, over each node's CometBFT RPC:
//! * divergence — every height of every node has the same block hash, header app hash,
//!   FinalizeBlock app hash (`/block_results`), txs and tx results as every other node's
//!   record of it, and as the same node's record before its restarts (a wiped node is
//!   re-read from height 1 after block sync);
//! * lost tx — every tx the CLI reported committed (code 0, height h) is in block h of every
//!   node and found by `/tx` on every node at h with code 0, after all restarts;
//! * progress — as above, within a timeout;
//! * supply — on every node, balances at the final common height equal genesis plus every
//!   `transfer` event, and the total supply is the genesis total.
//!
//! Without network namespaces (not root, no iproute2), [`Network::Loopback`] runs the nodes
//! on 127.0.0.1 with the same perturbations except the partition.

// Test support: seconds as f64 are only printed.
#![allow(clippy::disallowed_types)]

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::load::{Load, LoadConfig, LoadState, Target};
use crate::netns::{self, Topology};
use crate::{
    check_balances, dead, fetch_height, num, procs_mentioning, run_cmd, sigkill, str_of, tail,
    virtengine_bin, History, Proc, Rpc, ACCOUNTS,
};

/// Validators of the fault localnet.
pub const VALIDATORS: usize = 4;
/// Heights the chain must advance while a fault holds.
const PROGRESS_BLOCKS: u64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// One network namespace per node on a bridge (needs root and iproute2).
    Netns,
    /// All nodes on 127.0.0.1 (no partitions).
    Loopback,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    pub perturbations: usize,
    pub network: Network,
    /// CometBFT timeout_commit of the localnet.
    pub timeout_commit: String,
    /// Stop starting new perturbations after this long (the report says how many ran).
    pub max_duration: Option<Duration>,
    /// How long the chain may take to advance [`PROGRESS_BLOCKS`] heights under a fault.
    pub progress_timeout: Duration,
    /// How long a healed node may take to catch up.
    pub recovery_timeout: Duration,
    /// Number of CLI senders.
    pub senders: usize,
    /// Keep the localnet home (logs) after the run.
    pub keep_home: bool,
    /// Print a line per perturbation.
    pub verbose: bool,
}

impl Config {
    pub fn new(seed: u64, perturbations: usize, network: Network) -> Self {
        Self {
            seed,
            perturbations,
            network,
            timeout_commit: "500ms".into(),
            max_duration: None,
            progress_timeout: Duration::from_secs(60),
            recovery_timeout: Duration::from_secs(120),
            senders: 4,
            keep_home: false,
            verbose: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Kill9,
    Pause,
    Partition,
    Wipe,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Kill9 => "kill9",
            Kind::Pause => "pause",
            Kind::Partition => "partition",
            Kind::Wipe => "wipe",
        }
    }
}

/// One perturbation as it happened.
#[derive(Debug, Clone)]
pub struct Perturbation {
    pub index: usize,
    pub kind: Kind,
    pub node: usize,
    pub height_at_fault: u64,
    /// Time for the others to advance [`PROGRESS_BLOCKS`] heights under the fault.
    pub progress: Duration,
    pub held: Duration,
    /// Time from heal to the node being caught up.
    pub recovery: Duration,
    pub height_after: u64,
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Report {
    pub seed: u64,
    pub network: String,
    pub planned: usize,
    pub perturbations: Vec<Perturbation>,
    /// Perturbations after which the chain progressed and the node recovered.
    pub survived: usize,
    pub final_heights: Vec<u64>,
    /// Heights 1..=common_height were compared on every node.
    pub common_height: u64,
    pub heights_checked: u64,
    pub divergences: Vec<String>,
    pub lost_txs: Vec<String>,
    pub committed_txs: usize,
    pub txs_in_blocks: usize,
    pub load: LoadSummary,
    /// No progress, a node that did not recover, a node that died, a broken invariant.
    pub failures: Vec<String>,
    pub elapsed: Duration,
    pub home: Option<PathBuf>,
}

#[derive(Debug, Default, Clone)]
pub struct LoadSummary {
    pub attempts: u64,
    pub rejected: usize,
    /// Rejections by ABCI code, with one log line each.
    pub rejected_by_code: BTreeMap<String, (usize, String)>,
    pub errors: u64,
    pub anomalies: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.divergences.is_empty()
            && self.lost_txs.is_empty()
            && self.failures.is_empty()
            && self.load.anomalies.is_empty()
            && self.survived == self.perturbations.len()
    }

    /// The figures as one JSON object (for `scripts/report.sh`).
    pub fn to_json(&self) -> Value {
        let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
        for p in &self.perturbations {
            *by_kind.entry(p.kind.name()).or_default() += 1;
        }
        serde_json::json!({
            "seed": self.seed,
            "network": self.network,
            "planned": self.planned,
            "run": self.perturbations.len(),
            "survived": self.survived,
            "by_kind": by_kind,
            "final_heights": self.final_heights,
            "common_height": self.common_height,
            "node_heights_read": self.heights_checked,
            "divergences": self.divergences.len(),
            "lost_txs": self.lost_txs.len(),
            "committed_txs": self.committed_txs,
            "txs_in_blocks": self.txs_in_blocks,
            "cli_sends": self.load.attempts,
            "cli_rejected": self.load.rejected,
            "cli_errors": self.load.errors,
            "failures": self.failures,
            "max_recovery_s": self.perturbations.iter().map(|p| p.recovery.as_millis()).max().unwrap_or(0) as f64 / 1000.0,
            "elapsed_s": self.elapsed.as_secs(),
            "pass": self.ok(),
        })
    }

    pub fn print(&self) {
        let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
        for p in &self.perturbations {
            *by_kind.entry(p.kind.name()).or_default() += 1;
        }
        let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let rec: Vec<f64> = self
            .perturbations
            .iter()
            .map(|p| p.recovery.as_secs_f64())
            .collect();
        let max_rec = rec.iter().copied().fold(0.0, f64::max);
        let max_prog = self
            .perturbations
            .iter()
            .map(|p| p.progress.as_secs_f64())
            .fold(0.0, f64::max);
        println!(
            "\n===== fault run: seed {} ({}) =====",
            self.seed, self.network
        );
        let row = |k: &str, v: String| println!("  {k:<28} {v}");
        row(
            "perturbations survived",
            format!(
                "{} / {} run ({} planned): {}",
                self.survived,
                self.perturbations.len(),
                self.planned,
                kinds.join(", ")
            ),
        );
        row(
            "final heights",
            self.final_heights
                .iter()
                .enumerate()
                .map(|(i, h)| format!("n{i} {h}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        row(
            "heights compared",
            format!(
                "1..={} on all nodes ({} node-heights read, incl. re-reads after wipes)",
                self.common_height, self.heights_checked
            ),
        );
        row("divergences", self.divergences.len().to_string());
        row(
            "committed txs (CLI, code 0)",
            format!(
                "{} ({} txs in blocks)",
                self.committed_txs, self.txs_in_blocks
            ),
        );
        row("lost txs", self.lost_txs.len().to_string());
        row(
            "load",
            format!(
                "{} CLI sends, {} rejected with a code, {} failed without a result",
                self.load.attempts, self.load.rejected, self.load.errors
            ),
        );
        for (code, (n, sample)) in &self.load.rejected_by_code {
            row(
                &format!("  rejected, code {code}"),
                format!("{n} (e.g. {sample:.160})"),
            );
        }
        row(
            "max progress / recovery",
            format!("{max_prog:.1} s / {max_rec:.1} s"),
        );
        row("failures", self.failures.len().to_string());
        row("elapsed", format!("{:.0} s", self.elapsed.as_secs_f64()));
        for d in self.divergences.iter().take(10) {
            println!("  DIVERGENCE: {d}");
        }
        for l in self.lost_txs.iter().take(10) {
            println!("  LOST TX: {l}");
        }
        for f in &self.failures {
            println!("  FAILURE: {f}");
        }
        for a in self.load.anomalies.iter().take(5) {
            println!("  CLI ANOMALY: {a}");
        }
        if let Some(h) = &self.home {
            println!("  home (kept): {}", h.display());
        }
        println!("  RESULT: {}", if self.ok() { "PASS" } else { "FAIL" });
    }
}

// ---------------------------------------------------------------------------------------
// Seeded randomness (splitmix64: the same seed gives the same sequence everywhere)
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5EED_FA17_0000_0000)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The perturbation plan of a seed: `(kind, node, hold in ms)`.
pub fn plan(seed: u64, n: usize, network: Network) -> Vec<(Kind, usize, u64)> {
    let kinds: &[Kind] = match network {
        Network::Netns => &[Kind::Kill9, Kind::Pause, Kind::Partition, Kind::Wipe],
        Network::Loopback => &[Kind::Kill9, Kind::Pause, Kind::Wipe],
    };
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let kind = kinds[rng.below(kinds.len() as u64) as usize];
            let node = rng.below(VALIDATORS as u64) as usize;
            let hold = 2000 + rng.below(4000);
            (kind, node, hold)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Emergency cleanup (signals): what to kill and delete if the runner is interrupted
// ---------------------------------------------------------------------------------------

static ACTIVE: Mutex<Option<(String, Vec<String>)>> = Mutex::new(None);

/// Kills every process of the active run and deletes its namespaces. For a signal
/// handler thread; idempotent.
pub fn emergency_cleanup() {
    let active = ACTIVE.lock().map(|mut a| a.take()).unwrap_or(None);
    if let Some((home, namespaces)) = active {
        eprintln!("[faults] interrupted: killing the nodes of {home} and deleting {namespaces:?}");
        kill_all(&home);
        let existing = netns::list();
        for ns in namespaces {
            if existing.contains(&ns) {
                let _ = netns::ip(&["netns", "del", &ns]);
            }
        }
        eprintln!("[faults] the localnet home (node logs) is kept: {home}");
    }
}

fn kill_all(needle: &str) {
    for _ in 0..50 {
        let ps = procs_mentioning(needle);
        if ps.is_empty() {
            return;
        }
        for p in &ps {
            sigkill(p);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let left = procs_mentioning(needle);
    if !left.is_empty() {
        eprintln!(
            "[faults] WARNING: processes survived SIGKILL: {:?}",
            left.iter().map(Proc::cmdline).collect::<Vec<_>>()
        );
    }
}

// ---------------------------------------------------------------------------------------
// The cluster
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Up,
    Killed,
    Paused,
    Partitioned,
}

struct Node {
    name: String,
    home: PathBuf,
    home_str: String,
    netns: Option<String>,
    rpc: Rpc,
    rpc_url: String,
    child: Option<Child>,
    state: State,
}

struct Cluster {
    bin: PathBuf,
    dir: Option<tempfile::TempDir>,
    home: PathBuf,
    home_str: String,
    topo: Option<Topology>,
    nodes: Vec<Node>,
    accounts: Vec<(String, String)>,
    keep_home: bool,
    failed: bool,
}

impl Cluster {
    fn create(cfg: &Config) -> Result<Self, String> {
        let bin = virtengine_bin();
        crate::announce_bin(&bin);
        let dir = tempfile::Builder::new()
            .prefix(&format!("ve-faults-{}-", cfg.seed))
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?;
        let home = dir.path().join("localnet");
        let home_str = home.to_str().ok_or("non-UTF-8 temp path")?.to_string();
        let prefix = format!("ve-f{}", cfg.seed);
        let (topo, offset) = match cfg.network {
            Network::Netns => {
                let names = Topology::names(&prefix, VALIDATORS);
                *ACTIVE.lock().map_err(|_| "poisoned")? = Some((home_str.clone(), names));
                (Some(Topology::create(&prefix, VALIDATORS)?), 0)
            }
            Network::Loopback => {
                *ACTIVE.lock().map_err(|_| "poisoned")? = Some((home_str.clone(), Vec::new()));
                (None, crate::free_port_offset("faults"))
            }
        };
        let mut cluster = Self {
            bin,
            dir: Some(dir),
            home,
            home_str,
            topo,
            nodes: Vec::new(),
            accounts: Vec::new(),
            keep_home: cfg.keep_home,
            failed: false,
        };
        let validators = VALIDATORS.to_string();
        let offset_s = offset.to_string();
        let mut args = vec![
            "localnet",
            "init",
            "--validators",
            &validators,
            "--home",
            &cluster.home_str,
            "--port-offset",
            &offset_s,
            "--timeout-commit",
            &cfg.timeout_commit,
        ];
        let ips = cluster
            .topo
            .as_ref()
            .map(|t| {
                t.ips
                    .iter()
                    .map(|ip| ip.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        if cluster.topo.is_some() {
            args.extend_from_slice(&["--node-ips", &ips]);
        }
        let r = run_cmd(&cluster.bin, &args, Duration::from_secs(120));
        if !r.success {
            return Err(format!("localnet init failed\n{}", r.describe()));
        }
        let manifest: Value = read_json(&cluster.home.join("localnet.json"))?;
        for (i, n) in manifest["nodes"]
            .as_array()
            .ok_or("localnet.json: no nodes")?
            .iter()
            .enumerate()
        {
            let rpc_url = str_of(&n["rpc"]);
            let port: u16 = rpc_url
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| format!("localnet.json: bad rpc {rpc_url:?}"))?;
            let netns = cluster.topo.as_ref().map(|t| t.nodes[i].clone());
            let rpc = match &netns {
                Some(ns) => Rpc::in_netns(ns, port),
                None => Rpc::new(port),
            };
            let home = PathBuf::from(str_of(&n["home"]));
            cluster.nodes.push(Node {
                name: str_of(&n["name"]),
                home_str: home.to_str().ok_or("non-UTF-8 node home")?.to_string(),
                home,
                netns,
                rpc,
                rpc_url,
                child: None,
                state: State::Killed,
            });
        }
        let accounts: Value = read_json(&cluster.home.join("accounts.json"))?;
        cluster.accounts = accounts
            .as_array()
            .ok_or("accounts.json is not an array")?
            .iter()
            .map(|a| (str_of(&a["name"]), str_of(&a["address"])))
            .collect();
        Ok(cluster)
    }

    fn log(&self, i: usize) -> PathBuf {
        self.nodes[i].home.join("logs").join("node.log")
    }

    fn logs(&self, i: usize, n: usize) -> String {
        let logs = self.nodes[i].home.join("logs");
        format!(
            "--- last {n} lines of {}:\n{}\n--- last {n} lines of {}:\n{}",
            logs.join("node.log").display(),
            tail(&logs.join("node.log"), n),
            logs.join("cometbft.log").display(),
            tail(&logs.join("cometbft.log"), n)
        )
    }

    /// `[ip netns exec <ns>] virtengine start --home <node home>`, output appended to the
    /// node's log, in its own process group.
    fn spawn(&mut self, i: usize) -> Result<(), String> {
        let log = self.log(i);
        if let Some(d) = log.parent() {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let f2 = f.try_clone().map_err(|e| e.to_string())?;
        let n = &self.nodes[i];
        let mut cmd = match &n.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(&self.bin);
                c
            }
            None => Command::new(&self.bin),
        };
        cmd.args(["start", "--home", &n.home_str])
            .stdin(Stdio::null())
            .stdout(Stdio::from(f))
            .stderr(Stdio::from(f2))
            .process_group(0);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("VIRTENGINE_") {
                cmd.env_remove(&k);
            }
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("starting {}: {e}", n.name))?;
        let n = &mut self.nodes[i];
        n.child = Some(child);
        n.state = State::Up;
        Ok(())
    }

    fn procs(&self, i: usize) -> Vec<Proc> {
        // "<home>/node1" also prefixes "<home>/node10": fine with 4 nodes.
        procs_mentioning(&self.nodes[i].home_str)
    }

    /// Whether node i's `virtengine start` has exited (it should not, unless killed).
    fn exited(&mut self, i: usize) -> Option<String> {
        let c = self.nodes[i].child.as_mut()?;
        match c.try_wait() {
            Ok(Some(s)) => Some(s.to_string()),
            _ => None,
        }
    }

    fn kill9(&mut self, i: usize) -> Result<(), String> {
        let ps = self.procs(i);
        if ps.is_empty() {
            return Err(format!("{}: no process to kill", self.nodes[i].name));
        }
        for p in &ps {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(p.pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let t = Instant::now();
        while !ps.iter().all(|p| dead(p.pid)) {
            if t.elapsed() > Duration::from_secs(15) {
                return Err(format!(
                    "{}: processes survived SIGKILL",
                    self.nodes[i].name
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.wait();
        }
        self.nodes[i].state = State::Killed;
        Ok(())
    }

    fn signal(&self, i: usize, sig: nix::sys::signal::Signal) -> Result<(), String> {
        let ps = self.procs(i);
        if ps.is_empty() {
            return Err(format!("{}: no process to signal", self.nodes[i].name));
        }
        for p in &ps {
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(p.pid), sig)
                .map_err(|e| format!("{sig} to {}: {e}", p.pid))?;
        }
        Ok(())
    }

    /// Deletes the node's chain data, keeping its validator signing state: CometBFT's
    /// `data/` except `priv_validator_state.json`, and the app's data.
    fn wipe(&self, i: usize) -> Result<(), String> {
        let home = &self.nodes[i].home;
        let data = home.join("cometbft").join("data");
        let pvs_path = data.join("priv_validator_state.json");
        let pvs = std::fs::read(&pvs_path).map_err(|e| format!("{}: {e}", pvs_path.display()))?;
        std::fs::remove_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        std::fs::write(&pvs_path, pvs).map_err(|e| format!("{}: {e}", pvs_path.display()))?;
        let app = home.join("data");
        if app.exists() {
            std::fs::remove_dir_all(&app).map_err(|e| format!("{}: {e}", app.display()))?;
        }
        Ok(())
    }

    fn set_link(&self, i: usize, up: bool) -> Result<(), String> {
        self.topo
            .as_ref()
            .ok_or("partition needs network namespaces")?
            .set_link(i, up)
    }

    /// `(height, catching_up)` of a node that is up; None if it does not answer.
    fn status(&self, i: usize) -> Option<(u64, bool)> {
        if matches!(self.nodes[i].state, State::Killed | State::Paused) {
            return None;
        }
        let r = self.nodes[i].rpc.get("/status").ok()?;
        let s = &r["sync_info"];
        Some((
            num(&s["latest_block_height"]),
            s["catching_up"].as_bool().unwrap_or(true),
        ))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        kill_all(&self.home_str);
        for n in &mut self.nodes {
            if let Some(mut c) = n.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        if let Some(mut t) = self.topo.take() {
            t.destroy();
        }
        if let Ok(mut a) = ACTIVE.lock() {
            *a = None;
        }
        if self.failed || std::thread::panicking() {
            for i in 0..self.nodes.len() {
                eprintln!("{}", self.logs(i, 30));
            }
        }
        if self.keep_home || self.failed || std::thread::panicking() {
            if let Some(d) = self.dir.take() {
                let kept = d.keep();
                eprintln!("[faults] kept the localnet home: {}", kept.display());
            }
        }
    }
}

fn read_json(p: &Path) -> Result<Value, String> {
    let t = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_str(&t).map_err(|e| format!("{}: {e}", p.display()))
}

// ---------------------------------------------------------------------------------------
// Observing the chain on every node
// ---------------------------------------------------------------------------------------

struct Observer {
    /// Per node: every height as first read from it, and changes on later reads.
    histories: Vec<History>,
    /// Next height to read from each node.
    next: Vec<u64>,
    /// Each height as first read from any node: (node, record).
    canonical: BTreeMap<u64, (usize, crate::HeightRecord)>,
    divergences: Vec<String>,
    reads: u64,
}

impl Observer {
    fn new(n: usize) -> Self {
        Self {
            histories: (0..n).map(|_| History::default()).collect(),
            next: vec![1; n],
            canonical: BTreeMap::new(),
            divergences: Vec::new(),
            reads: 0,
        }
    }

    /// Reads node i's settled heights not read yet (stops quietly at an RPC error: the
    /// node may be going down) and compares them.
    fn observe(&mut self, c: &Cluster, i: usize, limit: u64) {
        let Some((tip, _)) = c.status(i) else { return };
        let settled = tip.saturating_sub(1);
        let mut budget = limit;
        while self.next[i] <= settled && budget > 0 {
            let h = self.next[i];
            let Ok(rec) = fetch_height(&c.nodes[i].rpc, h) else {
                return;
            };
            self.reads += 1;
            budget -= 1;
            let hist = &mut self.histories[i];
            if let Some(old) = hist.heights.get(&h) {
                if *old != rec {
                    self.divergences.push(format!(
                        "{} height {h} changed after a restart: {}",
                        c.nodes[i].name,
                        diff(old, &rec)
                    ));
                }
            }
            hist.heights.insert(h, rec.clone());
            match self.canonical.get(&h) {
                None => {
                    self.canonical.insert(h, (i, rec));
                }
                Some((j, r)) if *r != rec => self.divergences.push(format!(
                    "height {h}: {} and {} differ: {}",
                    c.nodes[*j].name,
                    c.nodes[i].name,
                    diff(r, &rec)
                )),
                Some(_) => {}
            }
            self.next[i] = h + 1;
        }
    }
}

fn diff(a: &crate::HeightRecord, b: &crate::HeightRecord) -> String {
    let mut d = Vec::new();
    if a.block_hash != b.block_hash {
        d.push(format!("block hash {} vs {}", a.block_hash, b.block_hash));
    }
    if a.header_app_hash != b.header_app_hash {
        d.push(format!(
            "header app hash {} vs {}",
            a.header_app_hash, b.header_app_hash
        ));
    }
    if a.results_app_hash != b.results_app_hash {
        d.push(format!(
            "FinalizeBlock app hash {} vs {}",
            a.results_app_hash, b.results_app_hash
        ));
    }
    if a.tx_hashes != b.tx_hashes {
        d.push(format!("txs {:?} vs {:?}", a.tx_hashes, b.tx_hashes));
    }
    if a.tx_codes != b.tx_codes {
        d.push(format!("tx results {:?} vs {:?}", a.tx_codes, b.tx_codes));
    }
    if d.is_empty() && a.results != b.results {
        d.push(format!(
            "events/results differ:\n    {:.600}\n    {:.600}",
            a.results, b.results
        ));
    }
    d.join("; ")
}

// ---------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------

/// Runs the whole scenario; never panics on a broken invariant (it is in the report),
/// only on a broken harness. Cleans up processes and namespaces before returning.
pub fn run(cfg: &Config) -> Report {
    let t0 = Instant::now();
    let mut report = Report {
        seed: cfg.seed,
        network: match cfg.network {
            Network::Netns => "4 validators, one network namespace each".into(),
            Network::Loopback => "4 validators on loopback, no partitions".into(),
        },
        planned: cfg.perturbations,
        ..Report::default()
    };
    let mut cluster = match Cluster::create(cfg) {
        Ok(c) => c,
        Err(e) => {
            report.failures.push(format!("setup: {e}"));
            report.elapsed = t0.elapsed();
            return report;
        }
    };
    let load_state = scenario(cfg, &mut cluster, &mut report);
    if let Some(s) = load_state {
        report.load = LoadSummary {
            attempts: s.attempts,
            rejected: s.rejected.len(),
            rejected_by_code: by_code(&s.rejected),
            errors: s.errors,
            anomalies: s.anomalies,
        };
    }
    cluster.failed = !report.ok();
    if cluster.keep_home || cluster.failed {
        report.home = cluster.dir.as_ref().map(|d| d.path().to_path_buf());
    }
    drop(cluster);
    report.elapsed = t0.elapsed();
    report
}

/// "`from`: code C at height H: log" lines -> code -> (count, first log).
fn by_code(rejected: &[String]) -> BTreeMap<String, (usize, String)> {
    let mut m: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for r in rejected {
        let code = r
            .split("code ")
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .unwrap_or("?")
            .to_string();
        let e = m.entry(code).or_insert((0, r.clone()));
        e.0 += 1;
    }
    m
}

fn say(cfg: &Config, msg: String) {
    if cfg.verbose {
        eprintln!("[faults] {msg}");
    }
}

fn max_height(c: &Cluster, among: impl Iterator<Item = usize>) -> Option<u64> {
    among.filter_map(|i| c.status(i).map(|(h, _)| h)).max()
}

fn scenario(cfg: &Config, c: &mut Cluster, report: &mut Report) -> Option<LoadState> {
    let n = c.nodes.len();
    for i in 0..n {
        if let Err(e) = c.spawn(i) {
            report.failures.push(e);
            return None;
        }
    }
    let mut obs = Observer::new(n);
    // All nodes up and the chain at height 3.
    let t = Instant::now();
    loop {
        let hs: Vec<Option<u64>> = (0..n).map(|i| c.status(i).map(|(h, _)| h)).collect();
        if hs.iter().all(|h| h.map(|h| h >= 3).unwrap_or(false)) {
            break;
        }
        for i in 0..n {
            if let Some(s) = c.exited(i) {
                report.failures.push(format!(
                    "{} exited at start-up ({s})\n{}",
                    c.nodes[i].name,
                    c.logs(i, 30)
                ));
                return None;
            }
        }
        if t.elapsed() > Duration::from_secs(120) {
            report.failures.push(format!(
                "the localnet did not reach height 3 on every node within 120 s: {hs:?}\n{}",
                c.logs(0, 30)
            ));
            return None;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    say(
        cfg,
        format!(
            "localnet up in {:.1} s ({}), home {}",
            t.elapsed().as_secs_f64(),
            report.network,
            c.home.display()
        ),
    );

    let healthy: Arc<Vec<AtomicBool>> = Arc::new((0..n).map(|_| AtomicBool::new(true)).collect());
    let senders: Vec<(String, String)> = (0..cfg.senders.min(ACCOUNTS.len()))
        .map(|k| {
            let to = &c.accounts[(k + 1) % c.accounts.len()].1;
            (c.accounts[k].0.clone(), to.clone())
        })
        .collect();
    let load = Load::start(LoadConfig {
        bin: c.bin.clone(),
        home: c.home_str.clone(),
        senders,
        targets: c
            .nodes
            .iter()
            .map(|n| Target {
                netns: n.netns.clone(),
                node: n.rpc_url.clone(),
            })
            .collect(),
        pause: Duration::from_millis(100),
        healthy: Some(healthy.clone()),
    });

    let plan = plan(cfg.seed, cfg.perturbations, cfg.network);
    let run_start = Instant::now();
    for (k, (kind, i, hold_ms)) in plan.into_iter().enumerate() {
        if let Some(max) = cfg.max_duration {
            if run_start.elapsed() > max {
                say(
                    cfg,
                    format!(
                        "time budget of {} s used: stopping after {k} perturbations",
                        max.as_secs()
                    ),
                );
                break;
            }
        }
        match perturb(cfg, c, &mut obs, &healthy, k, kind, i, hold_ms) {
            Ok(p) => {
                say(
                    cfg,
                    format!(
                        "#{:<3} {:<9} n{} at h{:<5} chain +{PROGRESS_BLOCKS} in {:>4.1} s, held {:>4.1} s, recovered in {:>5.1} s (h{}), {} txs committed",
                        k + 1,
                        kind.name(),
                        i,
                        p.height_at_fault,
                        p.progress.as_secs_f64(),
                        p.held.as_secs_f64(),
                        p.recovery.as_secs_f64(),
                        p.height_after,
                        load.committed_count()
                    ),
                );
                report.perturbations.push(p);
                report.survived += 1;
            }
            Err(e) => {
                report.perturbations.push(Perturbation {
                    index: k,
                    kind,
                    node: i,
                    height_at_fault: 0,
                    progress: Duration::ZERO,
                    held: Duration::ZERO,
                    recovery: Duration::ZERO,
                    height_after: 0,
                });
                report.failures.push(format!(
                    "perturbation #{} ({} of n{i}): {e}",
                    k + 1,
                    kind.name()
                ));
                break;
            }
        }
        if !obs.divergences.is_empty() {
            report.failures.push("divergence: stopping".into());
            break;
        }
    }

    // Stop the load, let the chain settle, read everything once more and check.
    let totals = load.finish();
    finish(cfg, c, &mut obs, &totals, report);
    Some(totals)
}

#[allow(clippy::too_many_arguments)]
fn perturb(
    cfg: &Config,
    c: &mut Cluster,
    obs: &mut Observer,
    healthy: &Arc<Vec<AtomicBool>>,
    _k: usize,
    kind: Kind,
    i: usize,
    hold_ms: u64,
) -> Result<Perturbation, String> {
    let n = c.nodes.len();
    let others = || (0..n).filter(move |j| *j != i);
    for j in 0..n {
        obs.observe(c, j, u64::MAX);
    }
    let h0 = max_height(c, 0..n).ok_or("no node answers")?;
    healthy[i].store(false, Ordering::SeqCst);
    // Fault.
    match kind {
        Kind::Kill9 => c.kill9(i)?,
        Kind::Wipe => {
            c.kill9(i)?;
            c.wipe(i)?;
        }
        Kind::Pause => {
            c.signal(i, nix::sys::signal::Signal::SIGSTOP)?;
            c.nodes[i].state = State::Paused;
        }
        Kind::Partition => {
            c.set_link(i, false)?;
            c.nodes[i].state = State::Partitioned;
        }
    }
    let t_fault = Instant::now();
    // Progress under the fault, for at least the hold time.
    let mut progress = None;
    loop {
        let h = max_height(c, others());
        if progress.is_none() && h.map(|h| h >= h0 + PROGRESS_BLOCKS).unwrap_or(false) {
            progress = Some(t_fault.elapsed());
        }
        for j in others() {
            obs.observe(c, j, 50);
            if let Some(s) = c.exited(j) {
                return Err(format!(
                    "{} exited ({s}) while n{i} was down\n{}",
                    c.nodes[j].name,
                    c.logs(j, 30)
                ));
            }
        }
        if progress.is_some() && t_fault.elapsed() >= Duration::from_millis(hold_ms) {
            break;
        }
        if t_fault.elapsed() > cfg.progress_timeout {
            return Err(format!(
                "no progress: the other 3 validators stayed at height {:?} (fault at {h0}) for {} s while only n{i} was down\n{}",
                h,
                cfg.progress_timeout.as_secs(),
                c.logs((i + 1) % n, 40)
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let held = t_fault.elapsed();
    // Heal.
    match kind {
        Kind::Kill9 | Kind::Wipe => c.spawn(i)?,
        Kind::Pause => {
            c.signal(i, nix::sys::signal::Signal::SIGCONT)?;
            c.nodes[i].state = State::Up;
        }
        Kind::Partition => {
            c.set_link(i, true)?;
            c.nodes[i].state = State::Up;
        }
    }
    if kind == Kind::Wipe {
        // Re-read the wiped node from height 1: its blocks and app state are rebuilt.
        obs.next[i] = 1;
    }
    let t_heal = Instant::now();
    // A wiped node replays the whole chain: allow 200 ms per height on top (block sync
    // measured ~90 ms per height here).
    let recovery_timeout = if kind == Kind::Wipe {
        cfg.recovery_timeout + Duration::from_millis(h0.saturating_mul(200))
    } else {
        cfg.recovery_timeout
    };
    let height_after = loop {
        if let Some(s) = c.exited(i) {
            return Err(format!(
                "{} exited after the heal ({s})\n{}",
                c.nodes[i].name,
                c.logs(i, 40)
            ));
        }
        let top = max_height(c, others()).unwrap_or(0);
        if let Some((h, catching_up)) = c.status(i) {
            if !catching_up && h + 1 >= top {
                break h;
            }
        }
        for j in 0..n {
            obs.observe(c, j, 200);
        }
        if t_heal.elapsed() > recovery_timeout {
            return Err(format!(
                "{} did not catch up within {} s of the heal: status {:?}, others at {top}\n{}",
                c.nodes[i].name,
                recovery_timeout.as_secs(),
                c.status(i),
                c.logs(i, 40)
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let recovery = t_heal.elapsed();
    healthy[i].store(true, Ordering::SeqCst);
    Ok(Perturbation {
        index: _k,
        kind,
        node: i,
        height_at_fault: h0,
        progress: progress.unwrap_or(held),
        held,
        recovery,
        height_after,
    })
}

fn finish(
    cfg: &Config,
    c: &mut Cluster,
    obs: &mut Observer,
    totals: &LoadState,
    report: &mut Report,
) {
    let n = c.nodes.len();
    // Every node up; a few more blocks so every committed tx's block is settled everywhere.
    let top_committed = totals.committed.iter().map(|t| t.height).max().unwrap_or(0);
    let target = max_height(c, 0..n).unwrap_or(0).max(top_committed) + 2;
    let t = Instant::now();
    loop {
        let hs: Vec<Option<u64>> = (0..n).map(|i| c.status(i).map(|(h, _)| h)).collect();
        for i in 0..n {
            obs.observe(c, i, u64::MAX);
        }
        if hs.iter().all(|h| h.map(|h| h > target).unwrap_or(false)) {
            break;
        }
        if t.elapsed() > Duration::from_secs(90) {
            report.failures.push(format!(
                "final: not every node reached height {target} within 90 s: {hs:?}"
            ));
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    for i in 0..n {
        obs.observe(c, i, u64::MAX);
    }
    report.final_heights = (0..n)
        .map(|i| c.status(i).map(|(h, _)| h).unwrap_or(0))
        .collect();
    let common = (0..n)
        .map(|i| obs.next[i].saturating_sub(1))
        .min()
        .unwrap_or(0);
    report.common_height = common;
    report.heights_checked = obs.reads;
    // Every node must have every height up to the common one.
    for i in 0..n {
        for h in 1..=common {
            if !obs.histories[i].heights.contains_key(&h) {
                report
                    .failures
                    .push(format!("{} never answered height {h}", c.nodes[i].name));
            }
        }
    }
    report.txs_in_blocks = obs.canonical.values().map(|(_, r)| r.tx_hashes.len()).sum();
    // Lost txs: every committed tx in its block, and found by /tx, on every node.
    report.committed_txs = totals.committed.len();
    say(
        cfg,
        format!(
            "checking {} committed txs on {n} nodes, heights 1..={common}",
            totals.committed.len()
        ),
    );
    for t in &totals.committed {
        let mut missing = Vec::new();
        for i in 0..n {
            let in_block = obs.histories[i]
                .heights
                .get(&t.height)
                .map(|r| r.tx_hashes.contains(&t.hash))
                .unwrap_or(false);
            if !in_block {
                missing.push(format!("{}: not in block {}", c.nodes[i].name, t.height));
            }
            match c.nodes[i].rpc.tx(&t.hash) {
                Ok(Some((h, code, _))) if h == t.height && code == 0 => {}
                Ok(Some((h, code, _))) => missing.push(format!(
                    "{}: /tx says height {h} code {code}",
                    c.nodes[i].name
                )),
                Ok(None) => missing.push(format!("{}: /tx does not find it", c.nodes[i].name)),
                Err(e) => missing.push(format!("{}: /tx failed: {e}", c.nodes[i].name)),
            }
        }
        if !missing.is_empty() {
            report.lost_txs.push(format!(
                "tx {} from {} (committed at height {} via n{}): {}",
                t.hash,
                t.from,
                t.height,
                t.target,
                missing.join("; ")
            ));
        }
    }
    // Supply conservation on every node at the common height.
    for i in 0..n {
        let probs = check_balances(&c.nodes[i].rpc, &c.accounts, &obs.histories[i], common);
        for p in probs {
            report
                .failures
                .push(format!("{} balances: {p}", c.nodes[i].name));
        }
    }
    for i in 0..n {
        report.divergences.extend(
            obs.histories[i]
                .check_chained_app_hashes()
                .into_iter()
                .map(|e| format!("{}: {e}", c.nodes[i].name)),
        );
    }
    report.divergences.append(&mut obs.divergences);
}
