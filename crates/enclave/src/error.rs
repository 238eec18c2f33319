use thiserror::Error;

#[derive(Debug, Error)]
pub enum EnclaveError {
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error(
        "sealed keys cannot be opened with this platform key (wrong machine or tampered file): {0}"
    )]
    Unseal(String),
    #[error("scoring models: {0}")]
    Models(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("fault injection refused: {0}")]
    FaultRefused(String),
}

impl EnclaveError {
    pub(crate) fn io(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        Self::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    }
}
