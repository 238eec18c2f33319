use ve_types::{AppError, ErrorCode};

/// config errors. Codes are stable: never renumber, only append.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("{0} is not an authority: registry changes need an address in config params.admins (or the gov module account)")]
    Unauthorized(String),
    #[error("invalid client id {0:?}: use 3-64 characters, a letter first, then letters, digits, '_' or '-'")]
    InvalidClientId(String),
    #[error("client {0} is already registered (ids are never reused, even after revocation)")]
    ClientExists(String),
    #[error("no approved client {0:?}")]
    ClientNotFound(String),
    #[error("invalid public key for {key_type}: {reason}")]
    InvalidPublicKey {
        key_type: &'static str,
        reason: String,
    },
    #[error("key type must be KEY_TYPE_ED25519 or KEY_TYPE_SECP256K1")]
    InvalidKeyType,
    #[error("invalid {field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("invalid version {0:?}: expected MAJOR.MINOR.PATCH")]
    InvalidVersion(String),
    #[error("client {client_id} is {status}: {action} is not allowed from that status")]
    InvalidTransition {
        client_id: String,
        status: &'static str,
        action: &'static str,
    },
    #[error("registry is full ({0} clients, params.max_clients)")]
    TooManyClients(u32),
    #[error("client {client_id} is {status}, not active: uploads it signs are refused")]
    ClientNotActive {
        client_id: String,
        status: &'static str,
    },
    #[error("client version {version} is outside {client_id}'s allowed range [{min}, {max}]")]
    VersionNotAllowed {
        client_id: String,
        version: String,
        min: String,
        max: String,
    },
    #[error("client {client_id} is not approved for scope type {scope}")]
    ScopeNotAllowed { client_id: String, scope: String },
    #[error("client signature does not verify with {client_id}'s current key (or a rotated-out key still within its overlap)")]
    BadClientSignature { client_id: String },
    #[error("the new key equals the client's current key")]
    SameKey,
    #[error("invalid params: {0}")]
    InvalidParams(String),
    #[error("invalid genesis: {0}")]
    InvalidGenesis(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("stored config state is corrupt: {0}")]
    Corrupt(String),
    #[error("overflow: {0}")]
    Overflow(&'static str),
    #[error("{0}")]
    Store(AppError),
}

impl From<AppError> for ConfigError {
    fn from(e: AppError) -> Self {
        Self::Store(e)
    }
}

impl ErrorCode for ConfigError {
    fn codespace(&self) -> &'static str {
        match self {
            Self::InvalidAddress(..) => "sdk",
            Self::Store(e) => e.codespace,
            _ => "config",
        }
    }
    fn code(&self) -> u32 {
        match self {
            Self::InvalidAddress(..) => 7,
            Self::Unauthorized(_) => 2,
            Self::InvalidClientId(_) => 3,
            Self::ClientExists(_) => 4,
            Self::ClientNotFound(_) => 5,
            Self::InvalidPublicKey { .. } => 6,
            Self::InvalidKeyType => 7,
            Self::InvalidField { .. } => 8,
            Self::InvalidVersion(_) => 9,
            Self::InvalidTransition { .. } => 10,
            Self::TooManyClients(_) => 11,
            Self::ClientNotActive { .. } => 12,
            Self::VersionNotAllowed { .. } => 13,
            Self::ScopeNotAllowed { .. } => 14,
            Self::BadClientSignature { .. } => 15,
            Self::SameKey => 16,
            Self::InvalidParams(_) => 17,
            Self::InvalidGenesis(_) => 18,
            Self::InvalidRequest(_) => 19,
            Self::Corrupt(_) => 20,
            Self::Overflow(_) => 21,
            Self::Store(e) => e.code,
        }
    }
}
