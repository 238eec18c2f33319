/// Why an envelope was refused. Each variant has a stable [`EnvelopeError::code`] that the
/// chain reports (offset into the `encryption` codespace), so never renumber.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("envelope is empty or truncated")]
    Truncated,
    #[error("envelope is {len} bytes, more than the limit of {max}")]
    TooLarge { len: usize, max: usize },
    #[error("envelope is not valid protobuf: {0}")]
    Malformed(String),
    #[error(
        "{0} is not in canonical encoding (fields in tag order, no defaults, no unknown fields)"
    )]
    NonCanonical(&'static str),
    #[error("unsupported envelope version {0}: this software reads version 1")]
    UnsupportedVersion(u32),
    #[error("unknown algorithm id {0:?}")]
    UnknownAlgorithm(String),
    #[error("algorithm {0} is registered but not supported for sealing or opening")]
    UnsupportedAlgorithm(String),
    #[error("algorithm version {got} is not supported (expected {expected})")]
    UnsupportedAlgorithmVersion { expected: u32, got: u32 },
    #[error("{field} must be {expected} bytes, got {got}")]
    InvalidLength {
        field: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("envelope has no recipients")]
    NoRecipients,
    #[error("envelope has {count} recipients, more than the limit of {max}")]
    TooManyRecipients { count: usize, max: usize },
    #[error("recipient {0} appears more than once")]
    DuplicateRecipient(String),
    #[error("recipients must be sorted by key id (ascending)")]
    RecipientsNotSorted,
    #[error("invalid key fingerprint {0:?}: expected 40 lowercase hex characters")]
    InvalidFingerprint(String),
    #[error("{0} is a low-order X25519 point, not a usable key")]
    WeakKey(&'static str),
    #[error("ciphertext is {0} bytes, shorter than tag + header hash (48)")]
    CiphertextTooShort(usize),
    #[error("envelope has a sender key but no valid signature")]
    InvalidSignature,
    #[error("envelope has a signature but no sender key")]
    UnexpectedSignature,
    #[error("signature required but the envelope is not signed")]
    SignatureRequired,
    #[error("payload is {len} bytes, more than the limit of {max}")]
    PayloadTooLarge { len: usize, max: usize },
    #[error("this key is not among the envelope's recipients")]
    NotARecipient,
    #[error("decryption failed: the envelope was altered or the key is wrong")]
    DecryptionFailed,
    #[error("header does not match the sealed payload: the envelope was altered")]
    HeaderMismatch,
}

impl EnvelopeError {
    /// Stable code, 1-based, never reused.
    pub fn code(&self) -> u32 {
        match self {
            Self::Truncated => 1,
            Self::TooLarge { .. } => 2,
            Self::Malformed(_) => 3,
            Self::NonCanonical(_) => 4,
            Self::UnsupportedVersion(_) => 5,
            Self::UnknownAlgorithm(_) => 6,
            Self::UnsupportedAlgorithm(_) => 7,
            Self::UnsupportedAlgorithmVersion { .. } => 8,
            Self::InvalidLength { .. } => 9,
            Self::NoRecipients => 10,
            Self::TooManyRecipients { .. } => 11,
            Self::DuplicateRecipient(_) => 12,
            Self::RecipientsNotSorted => 13,
            Self::InvalidFingerprint(_) => 14,
            Self::WeakKey(_) => 15,
            Self::CiphertextTooShort(_) => 16,
            Self::InvalidSignature => 17,
            Self::UnexpectedSignature => 18,
            Self::SignatureRequired => 19,
            Self::PayloadTooLarge { .. } => 20,
            Self::NotARecipient => 21,
            Self::DecryptionFailed => 22,
            Self::HeaderMismatch => 23,
        }
    }
}
