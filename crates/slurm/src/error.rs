//! Typed errors of the SLURM back end, each with a stable string code (the provider daemon
//! reports these codes and decides on retries from them).

use std::time::Duration;

/// Everything that can go wrong talking to SLURM.
#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    /// The job spec was rejected before anything was sent to SLURM.
    #[error("invalid job spec: {field}: {reason}")]
    InvalidSpec { field: &'static str, reason: String },
    /// The SLURM command could not be started at all (not installed, not on PATH).
    #[error(
        "could not run `{command}`: {source}; is SLURM installed? (bash scripts/slurm.sh setup)"
    )]
    NotInstalled {
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// The controller did not answer (slurmctld down or unreachable).
    #[error("SLURM controller unreachable while running `{command}`: {stderr}; start it with `bash scripts/slurm.sh start`")]
    ControllerUnreachable { command: String, stderr: String },
    /// A SLURM command failed; `stderr` is what it printed.
    #[error("`{command}` failed (exit status {status}): {stderr}")]
    CommandFailed {
        command: String,
        status: String,
        stderr: String,
    },
    /// A SLURM command did not finish in time (and was killed).
    #[error("`{command}` did not finish within {timeout:?}")]
    CommandTimedOut { command: String, timeout: Duration },
    /// Neither the queue nor accounting knows the job.
    #[error("SLURM job {0} not found in the queue or in accounting")]
    JobNotFound(u64),
    /// A command's output did not have the expected shape (wrong SLURM version or format).
    #[error("unexpected `{command}` output {line:?}: {reason}")]
    Parse {
        command: &'static str,
        line: String,
        reason: String,
    },
}

impl SlurmError {
    /// A stable machine-readable code (the provider daemon's error vocabulary).
    pub fn code(&self) -> &'static str {
        match self {
            SlurmError::InvalidSpec { .. } => "invalid_job_spec",
            SlurmError::NotInstalled { .. } => "scheduler_not_installed",
            SlurmError::ControllerUnreachable { .. } => "connection_failed",
            SlurmError::CommandFailed { .. } => "command_failed",
            SlurmError::CommandTimedOut { .. } => "timeout",
            SlurmError::JobNotFound(_) => "job_not_found",
            SlurmError::Parse { .. } => "unexpected_output",
        }
    }

    /// Whether trying the same request again later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SlurmError::ControllerUnreachable { .. } | SlurmError::CommandTimedOut { .. }
        )
    }

    pub(crate) fn parse(command: &'static str, line: &str, reason: impl Into<String>) -> Self {
        SlurmError::Parse {
            command,
            line: line.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        SlurmError::InvalidSpec {
            field,
            reason: reason.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, SlurmError>;
