use ve_crypto::envelope::EnvelopeError;
use ve_types::{AppError, ErrorCode};

/// encryption errors. Codes are stable: never renumber, only append. Envelope format
/// errors are `100 + EnvelopeError::code()`.
#[derive(Debug, thiserror::Error)]
pub enum EncryptionError {
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("invalid public key: {0}")]
    InvalidPublicKey(EnvelopeError),
    #[error("unknown or unsupported algorithm {0:?}: use X25519-XSALSA20-POLY1305")]
    UnsupportedAlgorithm(String),
    #[error("algorithm {0} is not allowed by the chain's params (allowed_algorithms)")]
    AlgorithmNotAllowed(String),
    #[error("key {0} is already registered (fingerprints are unique, even after revocation): generate a new key")]
    KeyAlreadyRegistered(String),
    #[error("account already has {max} usable keys (max_keys_per_account): revoke one first")]
    TooManyKeys { max: u32 },
    #[error("no key with fingerprint {0}")]
    KeyNotFound(String),
    #[error("key {0} belongs to another account")]
    NotKeyOwner(String),
    #[error("key {fingerprint} is {status}, not active")]
    KeyNotActive {
        fingerprint: String,
        status: &'static str,
    },
    #[error("key {0} is already being rotated out")]
    AlreadyRotating(String),
    #[error("label is {0} bytes: at most 128")]
    LabelTooLong(usize),
    #[error("invalid fingerprint {0:?}: expected 40 lowercase hex characters")]
    InvalidFingerprint(String),
    #[error("recipient key {0} is not registered on chain")]
    RecipientNotRegistered(String),
    #[error("recipient key {fingerprint} is not usable at height {height} (revoked or expired)")]
    RecipientNotUsable { fingerprint: String, height: u64 },
    #[error("recipient key {fingerprint} is registered for {key_algorithm}, envelope uses {envelope_algorithm}")]
    AlgorithmMismatch {
        fingerprint: String,
        key_algorithm: String,
        envelope_algorithm: String,
    },
    #[error("envelope is {len} bytes, more than max_envelope_bytes {max}")]
    EnvelopeTooLarge { len: usize, max: u64 },
    #[error("envelope has {count} recipients, more than max_recipients_per_envelope {max}")]
    TooManyRecipients { count: usize, max: u32 },
    #[error("invalid params: {0}")]
    InvalidParams(String),
    #[error("invalid genesis: {0}")]
    InvalidGenesis(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("stored encryption state is corrupt: {0}")]
    Corrupt(String),
    #[error("counter overflow: {0}")]
    Overflow(&'static str),
    #[error("invalid envelope: {0}")]
    Envelope(EnvelopeError),
    #[error("{0}")]
    Store(AppError),
}

impl From<AppError> for EncryptionError {
    fn from(e: AppError) -> Self {
        Self::Store(e)
    }
}

impl From<EnvelopeError> for EncryptionError {
    fn from(e: EnvelopeError) -> Self {
        Self::Envelope(e)
    }
}

impl ErrorCode for EncryptionError {
    fn codespace(&self) -> &'static str {
        match self {
            Self::InvalidAddress(..) => "sdk",
            Self::Store(e) => e.codespace,
            _ => "encryption",
        }
    }
    fn code(&self) -> u32 {
        match self {
            Self::InvalidAddress(..) => 7,
            Self::InvalidPublicKey(_) => 2,
            Self::UnsupportedAlgorithm(_) => 3,
            Self::AlgorithmNotAllowed(_) => 4,
            Self::KeyAlreadyRegistered(_) => 5,
            Self::TooManyKeys { .. } => 6,
            Self::KeyNotFound(_) => 7,
            Self::NotKeyOwner(_) => 8,
            Self::KeyNotActive { .. } => 9,
            Self::AlreadyRotating(_) => 10,
            Self::LabelTooLong(_) => 11,
            Self::InvalidFingerprint(_) => 12,
            Self::RecipientNotRegistered(_) => 13,
            Self::RecipientNotUsable { .. } => 14,
            Self::AlgorithmMismatch { .. } => 15,
            Self::EnvelopeTooLarge { .. } => 16,
            Self::TooManyRecipients { .. } => 17,
            Self::InvalidParams(_) => 18,
            Self::InvalidGenesis(_) => 19,
            Self::InvalidRequest(_) => 20,
            Self::Corrupt(_) => 21,
            Self::Overflow(_) => 22,
            Self::Envelope(e) => 100u32.saturating_add(e.code()),
            Self::Store(e) => e.code,
        }
    }
}
