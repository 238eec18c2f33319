//! HPC jobs on SLURM (issue #10): the provider side of the `hpc` module (docs/hpc.md).
//!
//! When the daemon config has an `[hpc]` section naming a cluster, the daemon
//! - records every `hpc_job_submitted` for its provider, and `hpc_job_cancelled` /
//!   `hpc_job_finished` for jobs it records, through the checkpointed ingestion (each
//!   height once, in the same database transaction as the checkpoint: [`store`]);
//! - submits each job to SLURM with `sbatch` ([`spec`]), persisting the chain job → SLURM
//!   job mapping **before** reporting QUEUED, so a restart never submits twice ([`worker`]);
//! - reports RUNNING, interim usage from `sacct`, and the terminal state with exit code
//!   and final usage ([`usage`]); scancels jobs the tenant cancelled or the chain timed out;
//! - sends cluster heartbeats and node metadata from `sinfo`.
//!
//! The chain is the source of truth for what was reported: each round reads the job from
//! chain and sends only the next report it is missing.

mod chain;
pub mod config;
pub mod events;
pub mod metrics;
pub mod records;
pub mod spec;
pub mod store;
pub mod usage;
pub mod worker;

/// Wall-clock time since the epoch. Off-chain only (the workspace lint forbids the wall
/// clock for consensus code): it makes the state directory's instance tag unique and
/// node-metadata sequences grow across daemon restarts; nothing on chain depends on it.
#[allow(clippy::disallowed_methods)]
pub(crate) fn wall_clock() -> std::time::Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

pub use config::HpcConfig;
pub use events::HpcEvent;
pub use worker::HpcWorker;
