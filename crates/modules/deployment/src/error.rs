use ve_types::ErrorCode;

/// deployment errors. Codes are stable: never renumber, only append.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    #[error("invalid deployment id: {0}")]
    InvalidId(String),
    #[error("deployment {0} already exists: pick another dseq")]
    DeploymentExists(String),
    #[error("deployment {0} not found: check owner and dseq with `query deployment list --owner`")]
    DeploymentNotFound(String),
    #[error("deployment {0} is closed")]
    DeploymentClosed(String),
    #[error("group {0} not found")]
    GroupNotFound(String),
    #[error("invalid groups: {0}")]
    InvalidGroups(String),
    #[error("invalid manifest hash: {0}")]
    InvalidHash(String),
    #[error("invalid deposit: {0}")]
    InvalidDeposit(String),
    #[error("group {group} is {state}: {action} is not allowed in that state")]
    InvalidGroupState {
        group: String,
        state: String,
        action: String,
    },
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("invalid deployment params: {0}")]
    InvalidParams(String),
    #[error("stored deployment state is corrupt: {0}")]
    Corrupt(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("the new manifest hash equals the current one: nothing to update")]
    HashUnchanged,
}

impl ErrorCode for DeploymentError {
    fn codespace(&self) -> &'static str {
        "deployment"
    }
    fn code(&self) -> u32 {
        match self {
            Self::InvalidId(_) => 2,
            Self::DeploymentExists(_) => 3,
            Self::DeploymentNotFound(_) => 4,
            Self::DeploymentClosed(_) => 5,
            Self::GroupNotFound(_) => 6,
            Self::InvalidGroups(_) => 7,
            Self::InvalidHash(_) => 8,
            Self::InvalidDeposit(_) => 9,
            Self::InvalidGroupState { .. } => 10,
            Self::InvalidAddress(..) => 11,
            Self::InvalidParams(_) => 12,
            Self::Corrupt(_) => 13,
            Self::InvalidRequest(_) => 14,
            Self::HashUnchanged => 15,
        }
    }
}
