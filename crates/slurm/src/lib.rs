//! SLURM back end: job spec to batch script, sbatch/squeue/sacct/scancel/sinfo with parsers
//! tested on real command output (see `testdata/`, captured by `testdata/capture.sh`).
//!
//! ```no_run
//! # async fn demo(spec: ve_slurm::JobSpec) -> ve_slurm::Result<()> {
//! let slurm = ve_slurm::Slurm::new();
//! let id = slurm.submit(&spec).await?;
//! let status = slurm.status(id).await?;      // queued / running / completed / failed / timeout / cancelled
//! if status.state.is_terminal() {
//!     let usage = slurm.usage(id).await?;    // elapsed, CPU time, MaxRSS, allocated TRES
//! #   let _ = usage;
//! }
//! # Ok(()) }
//! ```

mod backend;
mod client;
mod error;
mod inventory;
mod records;
mod script;
mod spec;
mod state;
mod units;

pub use backend::{SlurmBackend, HOST_IMAGE};
pub use client::{Slurm, DEFAULT_COMMAND_TIMEOUT, FINAL_RECORD_WAIT};
pub use error::{Result, SlurmError};
pub use inventory::{
    parse_gpu_gres, parse_nodes, parse_partitions, ClusterInventory, CpuCounts, GpuGres, Node,
    Partition,
};
pub use records::{
    parse_sacct, parse_squeue, status_from_sacct, usage_from_sacct, JobUsage, SacctRow,
};
pub use script::{format_time_limit, render_batch_script, shell_single_quote};
pub use spec::{GpuRequest, JobSpec, MAX_TIME_LIMIT_MINUTES};
pub use state::{JobState, JobStatus};
pub use units::Tres;

#[cfg(test)]
mod parser_tests;
#[cfg(test)]
mod real_output_tests;
