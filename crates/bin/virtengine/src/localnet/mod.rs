//! `virtengine localnet start|stop|status|init`: a throwaway multi-validator chain on this
//! machine, for development, tests and demos. `init` only writes the homes, for tools that
//! run the nodes themselves (e.g. each in its own network namespace, `--node-ips`).
//!
//! ```text
//! <home>/localnet.json       what was built: chain id, nodes and their ports
//! <home>/accounts.json       funded test accounts: [{"name","address","mnemonic"}]
//! <home>/keyring-test/       the same accounts as keys (`virtengine keys list`)
//! <home>/localnet.pids       "node<i> <pid>" per running node
//! <home>/node<i>/            a full node home (see `virtengine init`), logs in node<i>/logs/
//! <home>/capture-client.key  the approved VEID test capture client (JSON: id, Ed25519 key),
//!                            registered in the config module's genesis
//! <home>/SIMULATED-platform-attestation.key
//!                            the localnet-wide SIMULATED platform key that signs every
//!                            enclave's attestation report (see enclave.rs)
//! <home>/node<i>/enclave/    node i's enclave service home; its X25519 key is one of the
//!                            identity recipients, its process `node<i>-enclave`
//! ```

mod build;
pub mod enclave;
pub mod provider;
mod run;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};

use crate::cli::output::{print_json, OutputFormat};
use crate::cli::status::{node_status, status_client};
use crate::config::Ports;
use crate::home;
use crate::logging::LogFormat;
use crate::node::supervise;

/// Chain id of every localnet.
pub const CHAIN_ID: &str = "virtengine-localnet-1";
/// Names of the funded test accounts.
pub const ACCOUNTS: [&str; 5] = ["alice", "bob", "charlie", "provider", "operator"];
/// Balance of each test account.
pub const ACCOUNT_BALANCE: &str = "1000000000000uve";
/// Port distance between consecutive nodes.
pub const NODE_PORT_STRIDE: u16 = 100;
/// The approved VEID test capture client: key file in the localnet home, and its id.
pub const CAPTURE_CLIENT_KEY_FILE: &str = "capture-client.key";
pub const CAPTURE_CLIENT_ID: &str = "localnet-capture";

#[derive(Debug, Args)]
pub struct LocalnetArgs {
    /// Localnet home directory [default: ~/.virtengine-localnet].
    #[arg(long, global = true, env = "VIRTENGINE_LOCALNET_HOME")]
    pub home: Option<PathBuf>,
    #[command(subcommand)]
    pub cmd: LocalnetCmd,
}

#[derive(Debug, Subcommand)]
pub enum LocalnetCmd {
    /// Build a fresh chain (unless --keep) and run it until Ctrl-C (or --detach).
    #[command(after_help = "Examples:\n  \
        virtengine localnet start                    # 1 validator, default ports, foreground\n  \
        virtengine localnet start --validators 4     # node i uses default ports + i*100\n  \
        virtengine localnet start --detach && virtengine query bank balances $(virtengine keys show alice -a)\n  \
        virtengine localnet start --port-offset 10000 --home /tmp/ln   # beside another localnet\n\n\
        Ports of node i (offset = --port-offset + i*100): CometBFT RPC 26657, P2P 26656, ABCI 26658,\n\
        REST 1317, gRPC 9090, metrics 26660, CometBFT metrics 26661.")]
    Start(StartArgs),
    /// Build a fresh chain (node homes, genesis, test accounts) without starting it; run
    /// each node yourself with `virtengine start --home <home>/node<i>`.
    #[command(after_help = "Examples:\n  \
        virtengine localnet init --validators 4 --home /tmp/ln\n  \
        virtengine localnet init --validators 4 --home /tmp/ln --node-ips 10.200.0.1,10.200.0.2,10.200.0.3,10.200.0.4\n\n\
        With --node-ips, node i listens for P2P on 0.0.0.0 and its peers dial it at the i-th\n\
        address (e.g. nodes in separate network namespaces); RPC, ABCI, REST and gRPC stay on\n\
        127.0.0.1 inside the node's own network namespace.")]
    Init(InitArgs),
    /// Stop a localnet started in the background (or from another terminal).
    Stop,
    /// Show each node: running?, height, app hash, catching up.
    Status {
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },
}

#[derive(Debug, Clone, Args)]
pub struct StartArgs {
    #[command(flatten)]
    pub build: BuildArgs,
    /// Reuse the chain in --home if there is one (restart it) instead of wiping it.
    #[arg(long)]
    pub keep: bool,
    /// Start the nodes in the background and return once the chain produces blocks.
    #[arg(long)]
    pub detach: bool,
    /// Log format of the nodes (their logs go to <home>/node<i>/logs/).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Seconds to wait for the first block.
    #[arg(long, default_value_t = 90)]
    pub ready_timeout: u64,
    /// SMTP relay (`smtp://host:port`) the validator enclaves send MFA email codes
    /// through; without it email factors cannot be answered.
    #[arg(long)]
    pub mfa_smtp: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub build: BuildArgs,
    /// Comma-separated address of each node (one per validator): peers dial node i at
    /// the i-th address instead of 127.0.0.1, and P2P listens on 0.0.0.0.
    #[arg(long, value_delimiter = ',')]
    pub node_ips: Vec<std::net::IpAddr>,
}

/// What a localnet is built with (`start` and `init`).
#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Number of validators (equal power).
    #[arg(long, default_value_t = 1)]
    pub validators: u16,
    /// Added to every default port, e.g. to run beside another localnet.
    #[arg(long, env = "VIRTENGINE_LOCALNET_PORT_OFFSET", default_value_t = 0)]
    pub port_offset: u16,
    /// CometBFT timeout_commit (block interval).
    #[arg(long, default_value = "1s")]
    pub timeout_commit: String,
    /// Consensus parameter block.max_bytes.
    #[arg(long, default_value_t = 4_194_304)]
    pub block_max_bytes: u64,
    /// CometBFT mempool capacity in transactions.
    #[arg(long, default_value_t = 10_000)]
    pub mempool_size: u64,
    /// Register the `provider` test account as a provider (region=eu-west, host_uri its
    /// daemon's API on 127.0.0.1:8443 + offset) and run its provider daemon beside the
    /// nodes, so `virtengine deploy examples/web-service.yaml --from alice` works. As root
    /// the daemon runs workloads in the sandboxed process runner; otherwise it only bids.
    #[arg(long)]
    pub provider_daemon: bool,
}

/// `<home>/localnet.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub chain_id: String,
    pub nodes: Vec<NodeEntry>,
    /// VEID test setup (absent in localnets built before it existed).
    #[serde(default)]
    pub veid: Option<VeidSetup>,
    /// The provider daemon (`--provider-daemon`).
    #[serde(default)]
    pub provider: Option<provider::ProviderEntry>,
}

/// The approved test capture client and the validators' enclaves (the identity
/// recipient set) of a localnet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VeidSetup {
    pub capture_client_id: String,
    pub capture_client_key: PathBuf,
    pub capture_client_public_key: String,
    /// The localnet-wide SIMULATED platform attestation key.
    #[serde(default)]
    pub simulated_platform_key: PathBuf,
    /// One per validator: its enclave service, whose X25519 key is an identity recipient.
    #[serde(default)]
    pub enclaves: Vec<enclave::EnclaveEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeEntry {
    pub name: String,
    pub home: PathBuf,
    pub node_id: String,
    pub rpc: String,
    pub rest: String,
    pub grpc: String,
    pub p2p_port: u16,
    pub abci_port: u16,
    pub metrics: String,
}

impl NodeEntry {
    fn new(name: String, home: PathBuf, node_id: String, p: &Ports) -> Self {
        Self {
            name,
            home,
            node_id,
            rpc: format!("http://127.0.0.1:{}", p.rpc),
            rest: format!("http://127.0.0.1:{}", p.rest),
            grpc: format!("127.0.0.1:{}", p.grpc),
            p2p_port: p.p2p,
            abci_port: p.abci,
            metrics: format!("http://127.0.0.1:{}/metrics", p.metrics),
        }
    }
    pub fn log(&self) -> PathBuf {
        self.home.join("logs").join("node.log")
    }
}

/// One entry of accounts.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    pub address: String,
    pub mnemonic: String,
}

pub fn manifest_path(home: &Path) -> PathBuf {
    home.join("localnet.json")
}
pub fn pids_path(home: &Path) -> PathBuf {
    home.join("localnet.pids")
}

pub fn load_manifest(home: &Path) -> Result<Manifest> {
    let p = manifest_path(home);
    let text = std::fs::read_to_string(&p).with_context(|| {
        format!(
            "no localnet in {} ({} is missing): run `virtengine localnet start --home {}`",
            home.display(),
            p.display(),
            home.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))
}

/// `(node name, pid)` from localnet.pids; empty if there is no such file.
pub fn read_pids(home: &Path) -> Result<Vec<(String, u32)>> {
    let p = pids_path(home);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", p.display())),
    };
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.split_whitespace();
        let (Some(name), Some(pid)) = (parts.next(), parts.next()) else {
            anyhow::bail!("{}: malformed line {line:?}", p.display());
        };
        let pid = pid
            .parse()
            .with_context(|| format!("{}: bad pid in {line:?}", p.display()))?;
        out.push((name.to_string(), pid));
    }
    Ok(out)
}

pub async fn run(args: LocalnetArgs) -> Result<()> {
    let home = home::resolve(args.home.as_deref(), home::DEFAULT_LOCALNET_HOME)?;
    match args.cmd {
        LocalnetCmd::Start(s) => run::start(&home, s).await,
        LocalnetCmd::Init(a) => init(&home, &a),
        LocalnetCmd::Stop => stop(&home).await,
        LocalnetCmd::Status { output } => status(&home, output).await,
    }
}

fn init(home: &Path, args: &InitArgs) -> Result<()> {
    if let Some((name, pid)) = read_pids(home)?
        .into_iter()
        .find(|(_, pid)| supervise::alive(*pid))
    {
        anyhow::bail!(
            "a localnet is running in {} ({name} has pid {pid}): stop it first",
            home.display()
        );
    }
    build::wipe(home)?;
    let m = build::build(home, &args.build, &args.node_ips)?;
    println!(
        "built localnet {} with {} validator(s) in {} (not started)",
        m.chain_id,
        m.nodes.len(),
        home.display()
    );
    for (i, n) in m.nodes.iter().enumerate() {
        let at = args
            .node_ips
            .get(i)
            .map(|ip| format!("  P2P {ip}:{}", n.p2p_port))
            .unwrap_or_default();
        println!(
            "  {}: virtengine start --home {}{at}",
            n.name,
            n.home.display()
        );
    }
    for e in m.veid.iter().flat_map(|v| &v.enclaves) {
        println!(
            "  {} (start before {}): virtengine enclave run --home {} --socket {}\n    \
             once blocks are made: virtengine tx enclave register --file {} --from {} --home {} --keyring-backend test --node {} --yes",
            e.process_name(),
            e.node,
            e.home.display(),
            e.socket.display(),
            e.identity_file.display(),
            e.operator,
            home.display(),
            m.nodes
                .iter()
                .find(|n| n.name == e.node)
                .map(|n| n.rpc.as_str())
                .unwrap_or_default()
        );
    }
    Ok(())
}

async fn stop(home: &Path) -> Result<()> {
    let pids = read_pids(home)?;
    let running: Vec<_> = pids
        .into_iter()
        .filter(|(_, pid)| supervise::alive(*pid))
        .collect();
    if running.is_empty() {
        println!("no localnet running in {}", home.display());
        let _ = std::fs::remove_file(pids_path(home));
        return Ok(());
    }
    println!(
        "stopping {} process(es) (nodes and helper services) in {}",
        running.len(),
        home.display()
    );
    let stops = running.iter().map(|(name, pid)| async move {
        let clean = supervise::terminate_pid(
            *pid,
            supervise::STOP_TIMEOUT + std::time::Duration::from_secs(5),
        )
        .await;
        (name.clone(), *pid, clean)
    });
    for (name, pid, clean) in futures::future::join_all(stops).await {
        if clean {
            println!("  {name} (pid {pid}) stopped");
        } else {
            println!("  {name} (pid {pid}) did not stop in time and was killed");
        }
    }
    let _ = std::fs::remove_file(pids_path(home));
    Ok(())
}

#[derive(Debug, Serialize)]
struct NodeStatusOut {
    name: String,
    running: bool,
    pid: Option<u32>,
    rpc: String,
    height: Option<u64>,
    app_hash: Option<String>,
    catching_up: Option<bool>,
    error: Option<String>,
}

async fn status(home: &Path, output: OutputFormat) -> Result<()> {
    let m = load_manifest(home)?;
    let pids = read_pids(home)?;
    let mut out = Vec::new();
    for n in &m.nodes {
        let pid = pids
            .iter()
            .find(|(name, _)| *name == n.name)
            .map(|(_, p)| *p);
        let running = pid.map(supervise::alive).unwrap_or(false);
        let st = node_status(&status_client(&n.rpc)?).await;
        let (height, app_hash, catching_up, error) = match st {
            Ok(s) => (
                Some(s.latest_block_height),
                Some(s.latest_app_hash),
                Some(s.catching_up),
                None,
            ),
            Err(e) => (None, None, None, Some(format!("{e:#}"))),
        };
        out.push(NodeStatusOut {
            name: n.name.clone(),
            running,
            pid: pid.filter(|_| running),
            rpc: n.rpc.clone(),
            height,
            app_hash,
            catching_up,
            error,
        });
    }
    match output {
        OutputFormat::Json => {
            print_json(&serde_json::json!({"chain_id": m.chain_id, "home": home, "nodes": out}))
        }
        OutputFormat::Text => {
            println!("localnet {} in {}", m.chain_id, home.display());
            for n in &out {
                match (n.running, n.height) {
                    (_, Some(h)) => println!(
                        "  {:<6} running  height {:<8} app hash {}  catching up: {}  rpc {}",
                        n.name,
                        h,
                        n.app_hash.as_deref().unwrap_or(""),
                        n.catching_up.unwrap_or(false),
                        n.rpc
                    ),
                    (true, None) => println!(
                        "  {:<6} running (pid {}) but RPC {} does not answer",
                        n.name,
                        n.pid.unwrap_or(0),
                        n.rpc
                    ),
                    (false, None) => println!("  {:<6} stopped", n.name),
                }
            }
            Ok(())
        }
    }
}
