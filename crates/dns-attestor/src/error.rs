/// Why the attestor did not sign.
#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    #[error("invalid challenge: {0}")]
    BadChallenge(String),
    #[error("{record} does not hold \"{expected}\" (found: {found:?}): publish the TXT record the chain gave you and try again")]
    TokenMissing {
        record: String,
        expected: String,
        found: Vec<String>,
    },
    #[error("DNS lookup of {record} failed: {reason}")]
    Lookup { record: String, reason: String },
    #[error("attestor key: {0}")]
    Key(String),
}

impl AttestError {
    /// Whether the provider can fix it (bad request or record not published) rather than
    /// the attestor's DNS being unreachable.
    pub fn is_client_error(&self) -> bool {
        matches!(self, Self::BadChallenge(_) | Self::TokenMissing { .. })
    }
}
