use ve_types::{AppError, ErrorCode};

/// enclave errors. Codes are stable: never renumber, only append.
#[derive(Debug, thiserror::Error)]
pub enum EnclaveError {
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("{0} is not a validator operator: enclave identities are registered by the accounts in enclave params.validator_operators")]
    NotValidatorOperator(String),
    #[error("{0} is not an authority: the allow-list and params are changed by the gov module account or an administrator")]
    Unauthorized(String),
    #[error("platform must be SGX, SEV_SNP, NITRO or SIMULATED")]
    InvalidPlatform,
    #[error("invalid {field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("{0} already has an enclave identity: use MsgReattest (same keys) or MsgRotateEnclaveKeys (new keys)")]
    AlreadyRegistered(String),
    #[error("{0} has no enclave identity: register one with MsgRegisterEnclaveIdentity")]
    NotRegistered(String),
    #[error("the X25519 key {0} is already registered by another validator")]
    KeyInUse(String),
    #[error("attestation refused: {0}")]
    Attestation(#[from] ve_attestation::AttestationError),
    #[error("the enclave runs in debug mode: its memory is readable by the host; launch it in production mode")]
    DebugEnclave,
    #[error("the report data does not bind these keys: it must be SHA-512(\"virtengine/enclave-keys/v1\" || x25519_public_key || ed25519_public_key)")]
    KeysNotBound,
    #[error("measurement {measurement} ({platform}) is not on the allow-list{suffix}")]
    MeasurementNotAllowed {
        platform: &'static str,
        measurement: String,
        suffix: &'static str,
    },
    #[error("measurement {0} is already on the allow-list")]
    MeasurementExists(String),
    #[error("measurement {0} is not on the allow-list")]
    MeasurementNotFound(String),
    #[error("attestation report and chain are {got} bytes; params.max_attestation_bytes is {max}")]
    AttestationTooLarge { got: usize, max: u32 },
    #[error("the new keys equal the current keys: use MsgReattest to refresh the attestation")]
    SameKeys,
    #[error("{0} has no active enclave identity (expired, measurement revoked, or simulated platform disabled)")]
    NotActive(String),
    #[error("the enclave signature does not verify with {0}'s current (or overlapping previous) enclave key")]
    BadEnclaveSignature(String),
    #[error("invalid params: {0}")]
    InvalidParams(String),
    #[error("invalid genesis: {0}")]
    InvalidGenesis(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("stored enclave state is corrupt: {0}")]
    Corrupt(String),
    #[error("overflow: {0}")]
    Overflow(&'static str),
    #[error("{0}")]
    Store(AppError),
}

impl From<AppError> for EnclaveError {
    fn from(e: AppError) -> Self {
        Self::Store(e)
    }
}

impl ErrorCode for EnclaveError {
    fn codespace(&self) -> &'static str {
        match self {
            Self::InvalidAddress(..) => "sdk",
            Self::Store(e) => e.codespace,
            _ => "enclave",
        }
    }
    fn code(&self) -> u32 {
        match self {
            Self::InvalidAddress(..) => 7,
            Self::NotValidatorOperator(_) => 2,
            Self::Unauthorized(_) => 3,
            Self::InvalidPlatform => 4,
            Self::InvalidField { .. } => 5,
            Self::AlreadyRegistered(_) => 6,
            Self::NotRegistered(_) => 7,
            Self::KeyInUse(_) => 8,
            Self::Attestation(_) => 9,
            Self::DebugEnclave => 10,
            Self::KeysNotBound => 11,
            Self::MeasurementNotAllowed { .. } => 12,
            Self::MeasurementExists(_) => 13,
            Self::MeasurementNotFound(_) => 14,
            Self::AttestationTooLarge { .. } => 15,
            Self::SameKeys => 16,
            Self::NotActive(_) => 17,
            Self::BadEnclaveSignature(_) => 18,
            Self::InvalidParams(_) => 19,
            Self::InvalidGenesis(_) => 20,
            Self::InvalidRequest(_) => 21,
            Self::Corrupt(_) => 22,
            Self::Overflow(_) => 23,
            Self::Store(e) => e.code,
        }
    }
}
