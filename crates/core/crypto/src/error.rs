/// Why a key, signature or mnemonic was refused.
///
/// Messages never include secret material (mnemonics, private key bytes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("invalid public key: {0}")]
    InvalidPublicKey(String),
    #[error("invalid private key: {0}")]
    InvalidPrivateKey(String),
    #[error("invalid signature: expected {expected} bytes, got {got}")]
    SignatureLength { expected: usize, got: usize },
    #[error("signature is not canonical: S must be in the lower half of the curve order")]
    HighS,
    #[error("malformed signature")]
    MalformedSignature,
    #[error("signature verification failed")]
    VerificationFailed,
    #[error("invalid mnemonic: {0}")]
    InvalidMnemonic(String),
    #[error("invalid HD derivation path {path:?}: {reason}")]
    InvalidHdPath { path: String, reason: String },
    #[error("key derivation failed: {0}")]
    Derivation(String),
}
