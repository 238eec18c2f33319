//! `--provider-daemon`: the `provider` test account as a registered provider (genesis)
//! with its provider daemon beside the nodes, so `virtengine deploy` works on the
//! localnet. Where the sandboxed process runner works (root, cgroup v1; docs/backend.md)
//! the daemon runs won leases in it; otherwise it only bids, and says why.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use ve_backend::process::{ProcessRunner, RunnerConfig};

/// The tenant API of a localnet's provider daemon is on this port plus the port offset.
pub const API_PORT: u16 = 8443;
/// Its Prometheus endpoint: this plus the port offset.
pub const METRICS_PORT: u16 = 9464;
/// Attributes the example SDLs' placement asks for.
const REGION: &str = "eu-west";

/// The provider daemon of a localnet (in localnet.json).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProviderEntry {
    pub address: String,
    pub config: PathBuf,
    pub state_dir: PathBuf,
    /// The tenant API (its on-chain `host_uri`).
    pub api_url: String,
    pub metrics_url: String,
    /// Why it only bids (not root, no cgroup v1, missing tools); `None`: it runs
    /// workloads in the process runner.
    #[serde(default)]
    pub bid_only_reason: Option<String>,
}

impl ProviderEntry {
    pub const PROCESS_NAME: &'static str = "provider-daemon";

    pub fn log(&self) -> PathBuf {
        self.state_dir.join("provider-daemon.log")
    }
}

/// Registers `address` as a provider in `state` and writes the daemon's config.
pub fn setup(
    home: &Path,
    state: &mut ve_app::AppGenesis,
    address: &str,
    rpc: &str,
    port_offset: u16,
) -> Result<ProviderEntry> {
    let port = |base: u16| {
        base.checked_add(port_offset)
            .context("--port-offset pushes the provider daemon's ports past 65535")
    };
    let (api_port, metrics_port) = (port(API_PORT)?, port(METRICS_PORT)?);
    let api_url = format!("http://127.0.0.1:{api_port}");
    state
        .provider
        .providers
        .push(ve_provider::genesis::GenesisProvider {
            owner: address
                .parse()
                .map_err(|e| anyhow::anyhow!("provider address {address}: {e}"))?,
            host_uri: api_url.clone(),
            attributes: [("region".to_string(), REGION.to_string())].into(),
            email: String::new(),
            website: String::new(),
            public_key: String::new(),
        });
    let state_dir = home.join("provider");
    let cgroup_parent = format!("virtengine-localnet-{port_offset}");
    let mut runner = RunnerConfig::new(state_dir.join("process-runner"));
    runner.cgroup_parent = cgroup_parent.clone();
    let bid_only_reason = ProcessRunner::check_environment(&runner)
        .err()
        .map(|e| e.to_string());
    // The process runner reports its own capacity; a bid-only daemon declares one.
    let capacity = if bid_only_reason.is_none() {
        format!(
            "backend = \"process\"\ncgroup_parent = \"{cgroup_parent}\"\n\n\
             [leases]\napi_listen = \"127.0.0.1:{api_port}\"\nusage_interval_secs = 30\n"
        )
    } else {
        "backend = \"static\"\ncpu_millicores = 4000\nmemory_mib = 8192\nstorage_gib = 100\n"
            .to_string()
    };
    let config = format!(
        "# The localnet's provider daemon (docs/provider-daemon.md).\n\
         state_dir = \"{state}\"\nmetrics_addr = \"127.0.0.1:{metrics_port}\"\n\n\
         [chain]\nrpc = \"{rpc}\"\npoll_interval_ms = 1000\n\n\
         [key]\nname = \"provider\"\nkeyring_dir = \"{home}\"\nkeyring_backend = \"test\"\n\n\
         [bid]\ndeposit = \"500000uve\"\nfees = \"25000uve\"\ngas = 1000000\n\n\
         [pricing]\nstrategy = \"rates\"\nper_core = \"100\"\nper_gib_memory = \"100\"\nper_gib_storage = \"10\"\n\n\
         [capacity]\n{capacity}",
        state = state_dir.display(),
        home = home.display(),
    );
    std::fs::create_dir_all(&state_dir)
        .with_context(|| format!("creating {}", state_dir.display()))?;
    let path = home.join("provider-daemon.toml");
    std::fs::write(&path, config).with_context(|| format!("writing {}", path.display()))?;
    Ok(ProviderEntry {
        address: address.to_string(),
        config: path,
        state_dir,
        api_url,
        metrics_url: format!("http://127.0.0.1:{metrics_port}/metrics"),
        bid_only_reason,
    })
}
