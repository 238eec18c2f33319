use ve_types::ErrorCode;

/// cert errors. Codes are stable: never renumber, only append.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("invalid certificate: {0}")]
    InvalidCertificate(String),
    #[error("invalid public key: {0}")]
    InvalidPublicKey(String),
    #[error("the public key does not match the certificate's key: publish the key the certificate was issued for")]
    KeyMismatch,
    #[error("certificate subject CN {found:?} must be the owner address {owner}")]
    SubjectMismatch { owner: String, found: String },
    #[error("certificate signature does not verify: it must be self-signed (ECDSA P-256 with SHA-256) by the published key")]
    BadSignature,
    #[error(
        "certificate is not valid at block time {now}: valid from {not_before} to {not_after}"
    )]
    OutsideValidity {
        now: i64,
        not_before: i64,
        not_after: i64,
    },
    #[error(
        "certificate {serial} of {owner} already exists: generate a new certificate (new serial)"
    )]
    CertificateExists { owner: String, serial: String },
    #[error("certificate {serial} of {owner} not found")]
    CertificateNotFound { owner: String, serial: String },
    #[error("certificate {serial} of {owner} is already revoked")]
    AlreadyRevoked { owner: String, serial: String },
    #[error("invalid cert genesis: {0}")]
    InvalidGenesis(String),
    #[error("stored cert state is corrupt: {0}")]
    Corrupt(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl ErrorCode for CertError {
    fn codespace(&self) -> &'static str {
        "cert"
    }
    fn code(&self) -> u32 {
        match self {
            Self::InvalidAddress(..) => 2,
            Self::InvalidCertificate(_) => 3,
            Self::InvalidPublicKey(_) => 4,
            Self::KeyMismatch => 5,
            Self::SubjectMismatch { .. } => 6,
            Self::BadSignature => 7,
            Self::OutsideValidity { .. } => 8,
            Self::CertificateExists { .. } => 9,
            Self::CertificateNotFound { .. } => 10,
            Self::AlreadyRevoked { .. } => 11,
            Self::InvalidGenesis(_) => 12,
            Self::Corrupt(_) => 13,
            Self::InvalidRequest(_) => 14,
        }
    }
}
