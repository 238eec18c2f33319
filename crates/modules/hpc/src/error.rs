use ve_types::ErrorCode;

/// hpc errors. Codes are stable: never renumber, only append.
#[derive(Debug, thiserror::Error)]
pub enum HpcError {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("cluster {0} not found")]
    ClusterNotFound(u64),
    #[error("cluster {0} is not active: it must send a heartbeat (tx hpc heartbeat) first")]
    ClusterNotActive(u64),
    #[error("offering {0} not found")]
    OfferingNotFound(u64),
    #[error("offering {0} is not active")]
    OfferingInactive(u64),
    #[error("job {0} not found")]
    JobNotFound(u64),
    #[error("job {id} is {state}: {action} is not possible")]
    InvalidJobState {
        id: u64,
        state: String,
        action: String,
    },
    #[error("{signer} may not do this: only {allowed} may")]
    Unauthorized { signer: String, allowed: String },
    #[error("invalid price: {0}")]
    InvalidPrice(String),
    #[error("no cluster can run this job: {0}")]
    NoAvailableCluster(String),
    #[error("node report sequence {got} is not above the stored {stored}: a replayed or reordered report")]
    StaleSequence { got: u64, stored: u64 },
    #[error("dispute {0} not found")]
    DisputeNotFound(u64),
    #[error("job {0} cannot be disputed: {1}")]
    DisputeRefused(u64, String),
    #[error("invalid hpc params: {0}")]
    InvalidParams(String),
    #[error("stored hpc state is corrupt: {0}")]
    Corrupt(String),
    #[error("arithmetic overflow computing {0}")]
    Overflow(String),
    #[error("usage may only grow: {0} is below the last report")]
    UsageDecreased(String),
}

impl ErrorCode for HpcError {
    fn codespace(&self) -> &'static str {
        "hpc"
    }
    fn code(&self) -> u32 {
        match self {
            Self::InvalidRequest(_) => 2,
            Self::InvalidAddress(..) => 3,
            Self::ClusterNotFound(_) => 4,
            Self::ClusterNotActive(_) => 5,
            Self::OfferingNotFound(_) => 6,
            Self::OfferingInactive(_) => 7,
            Self::JobNotFound(_) => 8,
            Self::InvalidJobState { .. } => 9,
            Self::Unauthorized { .. } => 10,
            Self::InvalidPrice(_) => 11,
            Self::NoAvailableCluster(_) => 12,
            Self::StaleSequence { .. } => 13,
            Self::DisputeNotFound(_) => 14,
            Self::DisputeRefused(..) => 15,
            Self::InvalidParams(_) => 16,
            Self::Corrupt(_) => 17,
            Self::Overflow(_) => 18,
            Self::UsageDecreased(_) => 19,
        }
    }
}
