//! Job states: SLURM's many state names mapped onto the six the chain knows.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SlurmError};

/// A job's state as VirtEngine reports it on chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Completed,
    Failed,
    Timeout,
    Cancelled,
}

impl JobState {
    /// Whether the job can change state no more.
    pub fn is_terminal(self) -> bool {
        !matches!(self, JobState::Queued | JobState::Running)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
            JobState::Timeout => "timeout",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Maps a SLURM state name (`squeue %T`, `sacct State`), e.g. `RUNNING` or
    /// `CANCELLED by 0`. Suspended and finishing jobs still hold their allocation, so they
    /// count as running; every abnormal end other than timeout and cancellation is a failure.
    /// An unknown name is an error rather than a guess.
    pub fn from_slurm(name: &str) -> Result<JobState> {
        let word = name.split_whitespace().next().unwrap_or_default();
        let state = match word.trim_end_matches('+') {
            "PENDING" | "REQUEUED" | "REQUEUE_FED" | "REQUEUE_HOLD" | "RESV_DEL_HOLD"
            | "CONFIGURING" => JobState::Queued,
            "RUNNING" | "COMPLETING" | "SUSPENDED" | "STOPPED" | "SIGNALING" | "STAGE_OUT"
            | "RESIZING" => JobState::Running,
            "COMPLETED" => JobState::Completed,
            "FAILED" | "NODE_FAIL" | "OUT_OF_MEMORY" | "BOOT_FAIL" | "DEADLINE" | "PREEMPTED"
            | "SPECIAL_EXIT" | "REVOKED" => JobState::Failed,
            "TIMEOUT" => JobState::Timeout,
            "CANCELLED" => JobState::Cancelled,
            _ => return Err(SlurmError::parse("state", name, "unknown SLURM job state")),
        };
        Ok(state)
    }
}

/// Where a job is, from the queue (`squeue`) or, once it left the queue, from accounting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatus {
    pub job_id: u64,
    pub state: JobState,
    /// SLURM's own state name, e.g. `CANCELLED by 0` or `OUT_OF_MEMORY`.
    pub slurm_state: String,
    /// Exit code of the batch script; known once the job is in accounting.
    pub exit_code: Option<i32>,
    /// Signal that ended the job (e.g. 15 when cancelled or timed out), if any.
    pub signal: Option<i32>,
    /// Why a queued job waits (e.g. `Resources`, `Priority`), if SLURM says.
    pub reason: Option<String>,
    /// Nodes the job runs or ran on (SLURM host list, e.g. `node[01-04]`).
    pub nodes: Option<String>,
}

/// SLURM's `ExitCode` field `code:signal`.
pub(crate) fn parse_exit_code(field: &str) -> Result<(i32, i32)> {
    let bad = |reason: &str| SlurmError::parse("sacct ExitCode", field, reason);
    let (code, signal) = field
        .split_once(':')
        .ok_or_else(|| bad("expected code:signal"))?;
    Ok((
        code.parse().map_err(|_| bad("code is not a number"))?,
        signal.parse().map_err(|_| bad("signal is not a number"))?,
    ))
}
