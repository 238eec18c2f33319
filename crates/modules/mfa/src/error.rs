use ve_types::{AppError, ErrorCode};

/// mfa errors. Codes are stable: never renumber, only append.
#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("invalid {field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("factor type {0} is not allowed (params.allowed_factor_types)")]
    FactorTypeNotAllowed(&'static str),
    #[error("account has {0} active factors (max_factors_per_account): revoke one first")]
    TooManyFactors(u32),
    #[error(
        "no active {0} factor {1:?} for this account: enrol it first (virtengine tx mfa enroll)"
    )]
    FactorNotFound(&'static str, String),
    #[error("factor {0} is already enrolled")]
    FactorExists(String),
    #[error("no challenge {0} for this account")]
    ChallengeNotFound(String),
    #[error("challenge {0} is {1}: create a new challenge")]
    ChallengeNotPending(String, &'static str),
    #[error("account has {0} open challenges: wait until one expires or is answered")]
    TooManyChallenges(u32),
    #[error("FIDO2 registration failed: {0}")]
    Fido2Registration(String),
    #[error("no session {0} for this account")]
    SessionNotFound(String),
    #[error("session {0} cannot take more factors: {1}")]
    SessionNotUsable(String, String),
    #[error("MFA required for {action}: {reason}. Required factors: {required}. Verify them (virtengine tx mfa challenge / verify) and send the session id in the transaction's MfaProof extension option")]
    MfaRequired {
        action: &'static str,
        reason: String,
        required: String,
    },
    #[error(
        "identity score too low for {action}: need a verified VEID score >= {need}, have {have}"
    )]
    VeidScoreTooLow {
        action: &'static str,
        need: u32,
        have: u32,
    },
    #[error("malformed MfaProof extension option: {0}")]
    BadProof(String),
    #[error("policy: {0}")]
    InvalidPolicy(String),
    #[error("enabling MFA needs at least one active factor (params.require_at_least_one_factor): enrol one first")]
    NoActiveFactor,
    #[error("account has {0} trusted devices (max_trusted_devices): remove one first")]
    TooManyDevices(u32),
    #[error("no trusted device {0:?} for this account")]
    DeviceNotFound(String),
    #[error("device {0:?} is already trusted")]
    DeviceExists(String),
    #[error("sealed_secret of a {0} factor must be an envelope addressed to every active validator enclave key (query enclave active-keys); missing {1}")]
    SealedSecretNotForEnclaves(&'static str, String),
    #[error("{0} is not an authority: MFA configuration needs the gov module account, a genesis account or an administrator")]
    Unauthorized(String),
    #[error("invalid sensitive-transaction config: {0}")]
    InvalidConfig(String),
    #[error("invalid params: {0}")]
    InvalidParams(String),
    #[error("invalid genesis: {0}")]
    InvalidGenesis(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("stored mfa state is corrupt: {0}")]
    Corrupt(String),
    #[error("overflow: {0}")]
    Overflow(&'static str),
    #[error("challenge {0} was already verified")]
    ChallengeAlreadyVerified(String),
    #[error("{0}")]
    Store(AppError),
}

impl From<AppError> for MfaError {
    fn from(e: AppError) -> Self {
        Self::Store(e)
    }
}

impl ErrorCode for MfaError {
    fn codespace(&self) -> &'static str {
        match self {
            Self::InvalidAddress(..) => "sdk",
            Self::Store(e) => e.codespace,
            _ => "mfa",
        }
    }
    fn code(&self) -> u32 {
        match self {
            Self::InvalidAddress(..) => 7,
            Self::InvalidField { .. } => 2,
            Self::FactorTypeNotAllowed(_) => 3,
            Self::TooManyFactors(_) => 4,
            Self::FactorNotFound(..) => 5,
            Self::FactorExists(_) => 6,
            Self::ChallengeNotFound(_) => 7,
            Self::ChallengeNotPending(..) => 8,
            Self::TooManyChallenges(_) => 9,
            Self::Fido2Registration(_) => 10,
            Self::SessionNotFound(_) => 11,
            Self::SessionNotUsable(..) => 12,
            Self::MfaRequired { .. } => 13,
            Self::VeidScoreTooLow { .. } => 14,
            Self::BadProof(_) => 15,
            Self::InvalidPolicy(_) => 16,
            Self::NoActiveFactor => 17,
            Self::TooManyDevices(_) => 18,
            Self::DeviceNotFound(_) => 19,
            Self::DeviceExists(_) => 20,
            // 21 and 22 were the standalone verifier-key registry's (removed).
            Self::SealedSecretNotForEnclaves(..) => 23,
            Self::Unauthorized(_) => 24,
            Self::InvalidConfig(_) => 25,
            Self::InvalidParams(_) => 26,
            Self::InvalidGenesis(_) => 27,
            Self::InvalidRequest(_) => 28,
            Self::Corrupt(_) => 29,
            Self::Overflow(_) => 30,
            Self::ChallengeAlreadyVerified(_) => 31,
            Self::Store(e) => e.code,
        }
    }
}
