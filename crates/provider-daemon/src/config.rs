//! `provider run --config FILE`: the daemon's TOML configuration.
//!
//! ```toml
//! state_dir = "/var/lib/virtengine-provider"
//! metrics_addr = "127.0.0.1:9464"        # optional Prometheus endpoint
//! start_height = 0                        # first height on a fresh state dir (0: the latest)
//!
//! [chain]
//! rpc = "http://127.0.0.1:26657"
//! chain_id = "virtengine-localnet-1"      # optional: learnt from /status
//! poll_interval_ms = 5000                 # catch-up poll while the websocket is down
//!
//! [key]
//! name = "provider"
//! keyring_dir = "/home/op/.virtengine-localnet"   # holds keyring-<backend>/
//! keyring_backend = "test"                # or "file": passphrase from $VE_PROVIDER_PASSPHRASE
//! provider = "ve1..."                     # optional: must be the key's address
//!
//! [bid]
//! deposit = "500000uve"
//! fees = "25000uve"
//! gas = 1000000
//! timeout_blocks = 600                    # an unaccepted bid is withdrawn after this
//! max_attempts = 3                        # bid txs per order (retries after RPC errors)
//! min_tenant_tier = 0                     # VEID tier 0-3 the tenant needs
//! require_tenant_mfa = false
//!
//! [pricing]
//! strategy = "rates"                      # or "script"
//! per_core = "100"                        # per block, in the deposit's denom; 6 decimals
//! per_gib_memory = "50"
//! per_gib_storage = "1"
//! per_gpu = "1000"
//! min_price = "1"
//! # script = "/etc/virtengine/price.sh"; script_timeout_ms = 2000
//!
//! [capacity]
//! backend = "static"                      # or "process" (ve-backend's sandboxed runner)
//! cpu_millicores = 8000
//! memory_mib = 16384
//! storage_gib = 200
//! gpus = 0
//!
//! [hpc]                                   # optional: run HPC jobs on SLURM (hpc/config.rs)
//! cluster_id = 1
//! work_dir = "/srv/virtengine/hpc"
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use ve_types::Coin;

use crate::error::DaemonError;
use crate::pricing::{Rates, Script};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub state_dir: PathBuf,
    #[serde(default)]
    pub metrics_addr: Option<String>,
    #[serde(default)]
    pub start_height: u64,
    pub chain: ChainConfig,
    pub key: KeyConfig,
    pub bid: BidConfig,
    pub pricing: PricingConfig,
    pub capacity: CapacityConfig,
    /// HPC jobs on this host's SLURM cluster ([`crate::hpc`]); absent = no HPC.
    #[serde(default)]
    pub hpc: Option<crate::hpc::HpcConfig>,
    /// Running won leases on the workload back end ([`crate::lease`]); absent = bid only.
    #[serde(default)]
    pub leases: Option<LeasesConfig>,
}

/// `[leases]`: needs `capacity.backend = "process"` (a back end that runs workloads).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeasesConfig {
    /// Where the tenant API listens (the provider's on-chain `host_uri` must reach it).
    pub api_listen: String,
    /// Seconds between usage records of a running lease (and the final one on close).
    #[serde(default = "default_usage_interval")]
    pub usage_interval_secs: u64,
}

fn default_usage_interval() -> u64 {
    60
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    pub rpc: String,
    #[serde(default)]
    pub chain_id: Option<String>,
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    pub name: String,
    pub keyring_dir: PathBuf,
    #[serde(default = "default_backend")]
    pub keyring_backend: String,
    #[serde(default)]
    pub provider: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BidConfig {
    pub deposit: String,
    #[serde(default = "default_fees")]
    pub fees: String,
    #[serde(default = "default_gas")]
    pub gas: u64,
    #[serde(default = "default_timeout_blocks")]
    pub timeout_blocks: u64,
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    #[serde(default)]
    pub min_tenant_tier: u8,
    #[serde(default)]
    pub require_tenant_mfa: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingConfig {
    #[serde(default = "default_strategy")]
    pub strategy: String,
    #[serde(default = "zero")]
    pub per_core: String,
    #[serde(default = "zero")]
    pub per_gib_memory: String,
    #[serde(default = "zero")]
    pub per_gib_storage: String,
    #[serde(default = "zero")]
    pub per_gpu: String,
    #[serde(default = "one")]
    pub min_price: String,
    #[serde(default)]
    pub script: Option<PathBuf>,
    #[serde(default = "default_script_ms")]
    pub script_timeout_ms: u64,
}

/// `backend = "static"`: the numbers below are the capacity. `backend = "process"`: the
/// sandboxed process runner of `ve-backend` (needs root) reports it; the numbers, if all
/// given, cap what it offers (default: the host's CPUs, memory and disk).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityConfig {
    #[serde(default = "default_capacity_backend")]
    pub backend: String,
    #[serde(default)]
    pub cpu_millicores: Option<u64>,
    #[serde(default)]
    pub memory_mib: Option<u64>,
    #[serde(default)]
    pub storage_gib: Option<u64>,
    #[serde(default)]
    pub gpus: u64,
    /// process runner: its state directory (default `<state_dir>/process-runner`).
    #[serde(default)]
    pub runner_state_dir: Option<PathBuf>,
    /// process runner: where `scripts/build-images.sh` put the images.
    #[serde(default)]
    pub images_dir: Option<PathBuf>,
    /// process runner: its cgroup group (everything in it belongs to the runner).
    #[serde(default)]
    pub cgroup_parent: Option<String>,
}

impl CapacityConfig {
    /// The declared capacity, if all of cpu, memory and storage are given.
    pub fn declared(&self) -> Option<crate::resources::Resources> {
        Some(crate::resources::Resources {
            cpu_millicores: self.cpu_millicores?,
            memory_bytes: self.memory_mib?.saturating_mul(1 << 20),
            storage_bytes: self.storage_gib?.saturating_mul(1 << 30),
            gpus: self.gpus,
        })
    }
}

/// How the daemon prices a screened order.
#[derive(Debug, Clone)]
pub enum PricingStrategy {
    Rates(Rates),
    Script(Script),
}

fn default_poll_ms() -> u64 {
    5_000
}
fn default_backend() -> String {
    "test".into()
}
fn default_fees() -> String {
    "25000uve".into()
}
fn default_gas() -> u64 {
    1_000_000
}
fn default_timeout_blocks() -> u64 {
    600
}
fn default_attempts() -> u32 {
    3
}
fn default_strategy() -> String {
    "rates".into()
}
fn zero() -> String {
    "0".into()
}
fn one() -> String {
    "1".into()
}
fn default_script_ms() -> u64 {
    2_000
}
fn default_capacity_backend() -> String {
    "static".into()
}

fn bad(msg: impl Into<String>) -> DaemonError {
    DaemonError::Config(msg.into())
}

impl Config {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Self, DaemonError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| bad(format!("reading {}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| bad(format!("{}: {e}", path.display())))
    }

    pub fn parse(text: &str) -> Result<Self, DaemonError> {
        let c: Config = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        c.deposit()?;
        c.fees()?;
        c.pricing()?;
        match c.capacity.backend.as_str() {
            "static" if c.capacity.declared().is_none() => return Err(bad(
                "capacity.backend = \"static\" needs cpu_millicores, memory_mib and storage_gib",
            )),
            "static" | "process" => {}
            other => {
                return Err(bad(format!(
                    "capacity.backend {other:?}: use \"static\" or \"process\""
                )))
            }
        }
        if let Some(h) = &c.hpc {
            h.validate()?;
        }
        if let Some(l) = &c.leases {
            if c.capacity.backend != "process" {
                return Err(bad(
                    "[leases] runs workloads: it needs capacity.backend = \"process\"",
                ));
            }
            l.api_listen
                .parse::<std::net::SocketAddr>()
                .map_err(|e| bad(format!("leases.api_listen {:?}: {e}", l.api_listen)))?;
            if l.usage_interval_secs == 0 {
                return Err(bad("leases.usage_interval_secs must be positive"));
            }
        }
        if c.bid.min_tenant_tier > 3 {
            return Err(bad("bid.min_tenant_tier must be 0-3"));
        }
        if c.bid.timeout_blocks == 0 || c.bid.max_attempts == 0 {
            return Err(bad(
                "bid.timeout_blocks and bid.max_attempts must be positive",
            ));
        }
        Ok(c)
    }

    pub fn deposit(&self) -> Result<Coin, DaemonError> {
        self.bid
            .deposit
            .parse()
            .map_err(|e| bad(format!("bid.deposit {:?}: {e}", self.bid.deposit)))
    }

    pub fn fees(&self) -> Result<Coin, DaemonError> {
        self.bid
            .fees
            .parse()
            .map_err(|e| bad(format!("bid.fees {:?}: {e}", self.bid.fees)))
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.chain.poll_interval_ms.max(100))
    }

    pub fn pricing(&self) -> Result<PricingStrategy, DaemonError> {
        let p = &self.pricing;
        match p.strategy.as_str() {
            "rates" => Rates::from_decimal(
                &p.per_core,
                &p.per_gib_memory,
                &p.per_gib_storage,
                &p.per_gpu,
                &p.min_price,
            )
            .map(PricingStrategy::Rates)
            .ok_or_else(|| {
                bad("pricing rates must be non-negative decimals with at most 6 decimals, min_price an integer")
            }),
            "script" => {
                let program = p
                    .script
                    .clone()
                    .ok_or_else(|| bad("pricing.strategy = \"script\" needs pricing.script"))?;
                if p.script_timeout_ms == 0 {
                    return Err(bad("pricing.script_timeout_ms must be positive"));
                }
                Ok(PricingStrategy::Script(Script {
                    program,
                    time_limit: Duration::from_millis(p.script_timeout_ms),
                }))
            }
            other => Err(bad(format!(
                "pricing.strategy {other:?}: use \"rates\" or \"script\""
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"
state_dir = "/tmp/x"
[chain]
rpc = "http://127.0.0.1:26657"
[key]
name = "provider"
keyring_dir = "/tmp/k"
[bid]
deposit = "500000uve"
[pricing]
per_core = "100"
[capacity]
cpu_millicores = 4000
memory_mib = 8192
storage_gib = 100
"#;

    #[test]
    fn minimal_config_gets_defaults() {
        let c = Config::parse(MIN).unwrap();
        assert_eq!(c.bid.timeout_blocks, 600);
        assert_eq!(c.deposit().unwrap().amount, 500_000);
        assert!(matches!(c.pricing().unwrap(), PricingStrategy::Rates(_)));
    }

    #[test]
    fn bad_values_are_refused_with_the_field_named() {
        let e = Config::parse(&MIN.replace("\"100\"", "\"-1\"")).unwrap_err();
        assert!(e.to_string().contains("pricing rates"), "{e}");
        let e = Config::parse(&MIN.replace("500000uve", "lots")).unwrap_err();
        assert!(e.to_string().contains("bid.deposit"), "{e}");
        let e =
            Config::parse(&MIN.replace("per_core = \"100\"", "strategy = \"script\"")).unwrap_err();
        assert!(e.to_string().contains("pricing.script"), "{e}");
        let e = Config::parse(&MIN.replace("storage_gib = 100", "")).unwrap_err();
        assert!(e.to_string().contains("storage_gib"), "{e}");
        let e = Config::parse(&format!("{MIN}\nbogus = 1")).unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = Config::parse(&format!("{MIN}\n[hpc]\ncluster_id = 1\nwork_dir = \"rel\""))
            .unwrap_err();
        assert!(e.to_string().contains("hpc.work_dir"), "{e}");
        let c = Config::parse(&format!(
            "{MIN}\n[hpc]\ncluster_id = 2\nwork_dir = \"/srv/hpc\""
        ))
        .unwrap();
        assert_eq!(c.hpc.unwrap().heartbeat_interval_s, 60);
    }

    #[test]
    fn leases_need_a_workload_back_end_and_a_socket_address() {
        let leases = "\n[leases]\napi_listen = \"127.0.0.1:8443\"\n";
        let e = Config::parse(&format!("{MIN}{leases}")).unwrap_err();
        assert!(e.to_string().contains("capacity.backend"), "{e}");
        let process = MIN.replace(
            "storage_gib = 100",
            "storage_gib = 100\nbackend = \"process\"",
        );
        let c = Config::parse(&format!("{process}{leases}")).unwrap();
        assert_eq!(c.leases.unwrap().usage_interval_secs, 60);
        let e = Config::parse(&format!(
            "{process}{}",
            leases.replace("127.0.0.1:8443", "localhost")
        ))
        .unwrap_err();
        assert!(e.to_string().contains("leases.api_listen"), "{e}");
    }
}
