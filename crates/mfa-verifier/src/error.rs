//! Errors of the verifier service. Each maps to an HTTP status and carries a message
//! that says what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum VerifierError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Internal(String),
    #[error("chain query failed: {0} (is the node reachable?)")]
    Chain(String),
    #[error("{0}")]
    NotFound(String),
    /// The challenge or enrolment is in a state that cannot be answered.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Secret(#[from] crate::secret::SecretError),
    #[error("sending mail failed: {0}")]
    Mail(String),
    #[error("{0}")]
    TooSoon(String),
    #[error("this verifier has no SMTP server configured (--smtp): it cannot send email codes")]
    NoMailer,
}

impl VerifierError {
    /// HTTP status for the API.
    pub fn status(&self) -> u16 {
        match self {
            VerifierError::BadRequest(_) => 400,
            VerifierError::NotFound(_) => 404,
            VerifierError::Conflict(_) => 409,
            VerifierError::Secret(_) => 422,
            VerifierError::TooSoon(_) => 429,
            VerifierError::Chain(_) | VerifierError::Mail(_) => 502,
            VerifierError::NoMailer => 503,
            VerifierError::Config(_) | VerifierError::Io { .. } | VerifierError::Internal(_) => 500,
        }
    }
}
