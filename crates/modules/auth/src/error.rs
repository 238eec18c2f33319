use ve_types::ErrorCode;

/// auth errors. Codes are stable: never renumber, only append.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("rpc error: code = NotFound desc = account {0} not found")]
    AccountNotFound(String),
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("stored account is corrupt: {0}")]
    Corrupt(String),
    #[error("account number space exhausted")]
    AccountNumberOverflow,
    #[error("invalid genesis: {0}")]
    InvalidGenesis(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl ErrorCode for AuthError {
    fn codespace(&self) -> &'static str {
        "auth"
    }
    fn code(&self) -> u32 {
        match self {
            Self::AccountNotFound(_) => 2,
            Self::InvalidAddress(..) => 3,
            Self::Corrupt(_) => 4,
            Self::AccountNumberOverflow => 5,
            Self::InvalidGenesis(_) => 6,
            Self::InvalidRequest(_) => 7,
        }
    }
}
