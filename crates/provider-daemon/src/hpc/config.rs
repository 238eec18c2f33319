//! The optional `[hpc]` section of the daemon config: which chain cluster this daemon runs
//! and where its SLURM jobs live.
//!
//! ```toml
//! [hpc]
//! cluster_id = 1                        # the chain cluster (registered by this provider)
//! work_dir = "/srv/virtengine/hpc"      # job directories <work_dir>/job-<id>/, on shared storage
//! partition = "debug"                   # optional: SLURM partition for every job (default: the job's queue)
//! node_operator = "ve1..."              # optional: paid the node-pool share (default: the provider)
//! poll_interval_ms = 2000               # SLURM status polling
//! usage_interval_s = 30                 # interim usage reports of running jobs
//! heartbeat_interval_s = 60             # cluster heartbeat + node metadata (chain timeouts 300 s / 120 s)
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::error::DaemonError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HpcConfig {
    pub cluster_id: u64,
    pub work_dir: PathBuf,
    #[serde(default)]
    pub partition: Option<String>,
    #[serde(default)]
    pub node_operator: Option<String>,
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    #[serde(default = "default_usage_s")]
    pub usage_interval_s: u64,
    #[serde(default = "default_heartbeat_s")]
    pub heartbeat_interval_s: u64,
}

fn default_poll_ms() -> u64 {
    2_000
}
fn default_usage_s() -> u64 {
    30
}
fn default_heartbeat_s() -> u64 {
    60
}

fn bad(msg: impl Into<String>) -> DaemonError {
    DaemonError::Config(msg.into())
}

impl HpcConfig {
    pub fn validate(&self) -> Result<(), DaemonError> {
        if self.cluster_id == 0 {
            return Err(bad(
                "hpc.cluster_id must be a registered cluster id (1, 2, …)",
            ));
        }
        if !self.work_dir.is_absolute() {
            return Err(bad(format!(
                "hpc.work_dir {} must be an absolute path (SLURM needs absolute paths)",
                self.work_dir.display()
            )));
        }
        if let Some(op) = &self.node_operator {
            op.parse::<ve_types::Address>()
                .map_err(|e| bad(format!("hpc.node_operator {op:?}: {e}")))?;
        }
        if self.heartbeat_interval_s == 0 || self.heartbeat_interval_s > 100 {
            return Err(bad(
                "hpc.heartbeat_interval_s must be 1-100 (the chain marks nodes stale after 120 s)",
            ));
        }
        if self.usage_interval_s == 0 {
            return Err(bad("hpc.usage_interval_s must be positive"));
        }
        Ok(())
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms.max(200))
    }
}
