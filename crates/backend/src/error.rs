//! Typed back-end errors with stable codes (codespace `backend`).

use ve_types::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("no workload for lease {0}")]
    NotFound(String),
    #[error("invalid workload spec: {0}")]
    InvalidSpec(String),
    #[error(
        "lease {0} is already provisioned with a different spec: tear it down first to redeploy"
    )]
    SpecConflict(String),
    #[error("insufficient capacity: {0}")]
    InsufficientCapacity(String),
    #[error("image {image:?} not found in {dir}: build it with scripts/build-images.sh")]
    ImageNotFound { image: String, dir: String },
    #[error("no free host port in {low}-{high}: widen the port range or tear down leases")]
    PortsExhausted { low: u16, high: u16 },
    #[error("{op} is not supported by the {backend} back end")]
    Unsupported {
        backend: &'static str,
        op: &'static str,
    },
    #[error("cannot {op} lease {lease}: workload is {state}")]
    InvalidState {
        lease: String,
        op: &'static str,
        state: String,
    },
    #[error("back-end environment is not usable: {0}")]
    Environment(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{command} failed: {message}")]
    Command { command: String, message: String },
    #[error("back-end state store is corrupt: {0}")]
    Corrupt(String),
}

impl BackendError {
    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// True for failures of the machinery (I/O, helper commands, the host environment) that
    /// may go away on retry. The daemon must never tear a lease down because of one.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Io { .. } | Self::Command { .. } | Self::Environment(_)
        )
    }
}

impl ErrorCode for BackendError {
    fn codespace(&self) -> &'static str {
        "backend"
    }
    fn code(&self) -> u32 {
        match self {
            Self::NotFound(_) => 2,
            Self::InvalidSpec(_) => 3,
            Self::SpecConflict(_) => 4,
            Self::InsufficientCapacity(_) => 5,
            Self::ImageNotFound { .. } => 6,
            Self::PortsExhausted { .. } => 7,
            Self::Unsupported { .. } => 8,
            Self::InvalidState { .. } => 9,
            Self::Environment(_) => 10,
            Self::Io { .. } => 11,
            Self::Command { .. } => 12,
            Self::Corrupt(_) => 13,
        }
    }
}
