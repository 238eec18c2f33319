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
        match self {
            // The Cosmos SDK answers a missing account with gRPC NotFound, which reaches
            // ABCI clients as `sdk` code 38; wallets and CosmJS look for exactly that.
            Self::AccountNotFound(_) => "sdk",
            _ => "auth",
        }
    }
    fn code(&self) -> u32 {
        match self {
            Self::AccountNotFound(_) => 38,
            Self::InvalidAddress(..) => 3,
            Self::Corrupt(_) => 4,
            Self::AccountNumberOverflow => 5,
            Self::InvalidGenesis(_) => 6,
            Self::InvalidRequest(_) => 7,
        }
    }
}
