use ve_types::ErrorCode;

/// audit errors. Codes are stable: never renumber, only append.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("invalid attributes: {0}")]
    InvalidAttributes(String),
    #[error(
        "{0} is not a registered provider: auditors sign attributes of registered providers only"
    )]
    ProviderNotFound(String),
    #[error("auditor {auditor} has signed no attributes for provider {owner}")]
    RecordNotFound { owner: String, auditor: String },
    #[error("attribute {key:?} was not signed by auditor {auditor} for provider {owner}")]
    AttributeNotFound {
        owner: String,
        auditor: String,
        key: String,
    },
    #[error("invalid audit genesis: {0}")]
    InvalidGenesis(String),
    #[error("stored audit state is corrupt: {0}")]
    Corrupt(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl ErrorCode for AuditError {
    fn codespace(&self) -> &'static str {
        "audit"
    }
    fn code(&self) -> u32 {
        match self {
            Self::InvalidAddress(..) => 2,
            Self::InvalidAttributes(_) => 3,
            Self::ProviderNotFound(_) => 4,
            Self::RecordNotFound { .. } => 5,
            Self::AttributeNotFound { .. } => 6,
            Self::InvalidGenesis(_) => 7,
            Self::Corrupt(_) => 8,
            Self::InvalidRequest(_) => 9,
        }
    }
}
