//! A client load of CLI bank sends: one thread per sender account, each running
//! `virtengine tx bank send ... --yes --output json` in a loop (one tx in flight per
//! sender, so sequences stay right), against a rotating list of nodes, recording what the
//! CLI reported as committed.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::{run_cmd, str_of, CHAIN_ID};

/// A transaction the CLI reported as committed with code 0.
#[derive(Debug, Clone)]
pub struct Committed {
    pub from: String,
    pub hash: String,
    pub height: u64,
    /// Index of the target it was sent through.
    pub target: usize,
}

#[derive(Debug, Default)]
pub struct LoadState {
    pub attempts: u64,
    pub committed: Vec<Committed>,
    /// CLI answered with a non-zero code (CheckTx or DeliverTx): (sender, code, log).
    pub rejected: Vec<String>,
    /// CLI failed without a result (node down, timeouts): count and a sample.
    pub errors: u64,
    pub error_samples: Vec<String>,
    /// Contradictions in the CLI's own output (e.g. exit 0 with code != 0).
    pub anomalies: Vec<String>,
}

/// Where a CLI command is sent: a CometBFT RPC URL, reached from the host or from inside
/// a network namespace (`ip netns exec <netns> virtengine ...`).
#[derive(Debug, Clone)]
pub struct Target {
    pub netns: Option<String>,
    pub node: String,
}

/// What the load sends.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub bin: PathBuf,
    /// The localnet home (its `keyring-test/` holds the senders' keys).
    pub home: String,
    /// `(sender key name, recipient address)`, one thread each.
    pub senders: Vec<(String, String)>,
    /// Sender `k`'s `n`-th attempt goes to `targets[(k + n) % len]`.
    pub targets: Vec<Target>,
    /// Pause after each attempt (0 = as fast as the CLI goes).
    pub pause: Duration,
    /// If given, one flag per target: a sender skips targets whose flag is false (a node
    /// the fault runner has stopped or cut off).
    pub healthy: Option<Arc<Vec<AtomicBool>>>,
}

pub struct Load {
    stop: Arc<AtomicBool>,
    pub state: Arc<Mutex<LoadState>>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Load {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Load({} threads)", self.threads.len())
    }
}

impl Load {
    pub fn start(cfg: LoadConfig) -> Self {
        assert!(!cfg.targets.is_empty(), "a load needs a target");
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::new(Mutex::new(LoadState::default()));
        let mut threads = Vec::new();
        for (k, (from, to)) in cfg.senders.iter().cloned().enumerate() {
            let cfg = cfg.clone();
            let stop = stop.clone();
            let state = state.clone();
            threads.push(std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let mut ti = (k + n as usize) % cfg.targets.len();
                    if let Some(h) = &cfg.healthy {
                        for _ in 0..cfg.targets.len() {
                            if h.get(ti).map(|f| f.load(Ordering::SeqCst)).unwrap_or(true) {
                                break;
                            }
                            ti = (ti + 1) % cfg.targets.len();
                        }
                    }
                    let target = &cfg.targets[ti];
                    let amount = format!("{}uve", 100 + n);
                    let bin = cfg.bin.to_string_lossy().into_owned();
                    let send = [
                        "tx",
                        "bank",
                        "send",
                        &from,
                        &to,
                        &amount,
                        "--fees",
                        "5000uve",
                        "--yes",
                        "--output",
                        "json",
                        "--keyring-backend",
                        "test",
                        "--home",
                        &cfg.home,
                        "--node",
                        &target.node,
                        "--chain-id",
                        CHAIN_ID,
                        "--timeout",
                        "30",
                    ];
                    let r = match &target.netns {
                        None => run_cmd(&cfg.bin, &send, Duration::from_secs(60)),
                        Some(ns) => {
                            let mut args = vec!["netns", "exec", ns.as_str(), bin.as_str()];
                            args.extend_from_slice(&send);
                            run_cmd(std::path::Path::new("ip"), &args, Duration::from_secs(60))
                        }
                    };
                    let mut st = state.lock().unwrap();
                    st.attempts += 1;
                    let mut back_off = false;
                    match r.json() {
                        Some(v) => {
                            let code = v["code"].as_u64();
                            let hash = str_of(&v["txhash"]);
                            let height = v["height"].as_u64().unwrap_or(0);
                            match code {
                                Some(0) if r.success && !hash.is_empty() && height > 0 => {
                                    st.committed.push(Committed {
                                        from: from.clone(),
                                        hash,
                                        height,
                                        target: ti,
                                    })
                                }
                                Some(0) => st.anomalies.push(format!(
                                    "code 0 but no success/hash/height:\n{}",
                                    r.describe()
                                )),
                                Some(c) if r.success => st.anomalies.push(format!(
                                    "exit status 0 with code {c}:\n{}",
                                    r.describe()
                                )),
                                Some(c) => {
                                    st.rejected.push(format!(
                                        "{from}: code {c} at height {height}: {}",
                                        str_of(&v["raw_log"])
                                    ));
                                    back_off = true;
                                }
                                None => st
                                    .anomalies
                                    .push(format!("JSON without a code:\n{}", r.describe())),
                            }
                        }
                        None => {
                            st.errors += 1;
                            if st.error_samples.len() < 5 {
                                let last = r.stderr.lines().last().unwrap_or("").to_string();
                                st.error_samples.push(format!(
                                    "{from}: {}{}: {last}",
                                    r.status,
                                    if r.timed_out { " (timed out)" } else { "" }
                                ));
                            }
                            // The node is probably down: back off a little.
                            back_off = true;
                        }
                    }
                    drop(st);
                    if back_off {
                        std::thread::sleep(Duration::from_millis(300));
                    }
                    if !cfg.pause.is_zero() {
                        std::thread::sleep(cfg.pause);
                    }
                }
            }));
        }
        Self {
            stop,
            state,
            threads,
        }
    }

    pub fn committed(&self) -> Vec<Committed> {
        self.state.lock().unwrap().committed.clone()
    }

    pub fn committed_count(&self) -> usize {
        self.state.lock().unwrap().committed.len()
    }

    /// Stops the senders (each finishes its current command) and returns the totals.
    pub fn finish(mut self) -> LoadState {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            if t.join().is_err() {
                panic!("a load thread panicked");
            }
        }
        std::mem::take(&mut *self.state.lock().unwrap())
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
