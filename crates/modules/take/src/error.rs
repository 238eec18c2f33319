use ve_types::ErrorCode;

/// take errors. Codes are stable: never renumber, only append.
#[derive(Debug, thiserror::Error)]
pub enum TakeError {
    #[error("invalid take params: {0}")]
    InvalidParams(String),
    #[error("stored take state is corrupt: {0}")]
    Corrupt(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl ErrorCode for TakeError {
    fn codespace(&self) -> &'static str {
        "take"
    }
    fn code(&self) -> u32 {
        match self {
            Self::InvalidParams(_) => 2,
            Self::Corrupt(_) => 3,
            Self::InvalidRequest(_) => 4,
        }
    }
}
