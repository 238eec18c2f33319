use ve_types::{AppError, ErrorCode};

/// identity errors. Codes are stable: never renumber, only append.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("invalid scope id {0:?}: use 1-128 characters from A-Z a-z 0-9 . _ : -")]
    InvalidScopeId(String),
    #[error("invalid scope type {0}: use 1 (id_document) .. 12 (social_media)")]
    InvalidScopeType(i32),
    #[error("invalid {field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("payload_hash does not equal SHA-256 of encrypted_payload")]
    PayloadHashMismatch,
    #[error("salt is {len} bytes; params allow {min}..={max}")]
    SaltLength { len: usize, min: u32, max: u32 },
    #[error(
        "this salt was already used (salt hash {0}): generate a fresh random salt for every upload"
    )]
    SaltReplayed(String),
    #[error("client signature required (params.require_client_signature): sign with an approved capture client")]
    ClientSignatureRequired,
    #[error("user signature does not verify with the sender's account key over the upload payload (docs/veid.md)")]
    BadUserSignature,
    #[error("sender {0} has no public key on chain yet")]
    NoAccountKey(String),
    #[error("no identity recipient set is configured (params.recipient_fingerprints): uploads are closed")]
    NoRecipientSet,
    #[error("envelope is not addressed to identity recipient {0}: seal to every key of the identity recipient set")]
    RecipientMissing(String),
    #[error("envelope is {len} bytes; params.max_payload_bytes is {max}")]
    PayloadTooLarge { len: usize, max: u64 },
    #[error("identity of {0} is locked: {1}")]
    IdentityLocked(String, String),
    #[error("scope {0} already exists for this account (scope ids are never reused)")]
    ScopeExists(String),
    #[error("account has {max} live scopes (max_scopes_per_account): revoke one first")]
    TooManyScopes { max: u32 },
    #[error("account has {max} live {scope_type} scopes (max_scopes_per_type): revoke one first")]
    TooManyScopesOfType { scope_type: &'static str, max: u32 },
    #[error("upload limit reached: {0}; try again in the next block")]
    RateLimited(&'static str),
    #[error("no scope {0} for this account")]
    ScopeNotFound(String),
    #[error("scope {0} is revoked: revoked scopes refuse every change")]
    ScopeRevoked(String),
    #[error("scope {scope_id}: status {from} cannot move to {to}")]
    InvalidTransition {
        scope_id: String,
        from: &'static str,
        to: &'static str,
    },
    #[error("no pending scopes to verify: upload scopes first (rejected or expired scopes need a new upload)")]
    NoPendingScopes,
    #[error("scope {0} listed twice")]
    DuplicateScope(String),
    #[error("no verification request {0}")]
    RequestNotFound(String),
    #[error("verification request {0} is already finished")]
    RequestFinished(String),
    #[error("score {0} is out of range 0..=100")]
    ScoreOutOfRange(u32),
    #[error("model set {0} is not active in the identity model registry (params.active_model_hashes): its results are not applied")]
    ModelNotActive(String),
    #[error("{0} is not an authority: identity admin changes need a config admin (or the gov module account)")]
    Unauthorized(String),
    #[error("identity tier {have} is below the required tier {need}: verify your identity (virtengine identity upload, then request-verification)")]
    TierTooLow { have: u32, need: u32 },
    #[error("invalid params: {0}")]
    InvalidParams(String),
    #[error("invalid genesis: {0}")]
    InvalidGenesis(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("stored identity state is corrupt: {0}")]
    Corrupt(String),
    #[error("overflow: {0}")]
    Overflow(&'static str),
    #[error("{0}")]
    Store(AppError),
    #[error("account {0} already has an identity wallet (one per account; use MsgRebindWallet to change its key)")]
    WalletExists(String),
    #[error("account {0} has no identity wallet: create one with MsgCreateIdentityWallet")]
    WalletNotFound(String),
    #[error("identity wallet of {0} is not active")]
    WalletNotActive(String),
    #[error("binding signature does not verify: sign the binding digest of docs/veid.md §9 with the Ed25519 binding key")]
    BadBindingSignature,
    #[error("old_signature does not verify with the wallet's current binding key over the rebind digest (docs/veid.md §9)")]
    BadRebindSignature,
    #[error("scope {0} is biometric: grant consent for it (MsgGrantScopeConsent) before requesting verification")]
    ConsentRequired(String),
    #[error("consent settings refuse this: {0}")]
    ConsentSettingsRefuse(&'static str),
    #[error("account {0} has no open borderline fallback")]
    NoOpenFallback(String),
    #[error("the borderline fallback of {0} passed its deadline (height {1}): request verification again")]
    FallbackExpired(String, u64),
    #[error("no rejection to appeal: appeals are for a REJECTED score record")]
    NothingToAppeal,
    #[error(
        "the appeal window closed at height {0} (params.appeal_window_blocks after the rejection)"
    )]
    AppealWindowClosed(u64),
    #[error("account already has an open appeal {0}: wait for its review")]
    AppealOpen(String),
    #[error("no appeal {0}")]
    AppealNotFound(String),
    #[error("appeal {0} was already reviewed")]
    AppealReviewed(String),
    #[error("{0} does not hold the moderator role: only moderators review appeals")]
    NotModerator(String),
}

impl From<AppError> for IdentityError {
    fn from(e: AppError) -> Self {
        Self::Store(e)
    }
}

impl ErrorCode for IdentityError {
    fn codespace(&self) -> &'static str {
        match self {
            Self::InvalidAddress(..) => "sdk",
            Self::Store(e) => e.codespace,
            _ => "identity",
        }
    }
    fn code(&self) -> u32 {
        match self {
            Self::InvalidAddress(..) => 7,
            Self::InvalidScopeId(_) => 2,
            Self::InvalidScopeType(_) => 3,
            Self::InvalidField { .. } => 4,
            Self::PayloadHashMismatch => 5,
            Self::SaltLength { .. } => 6,
            Self::SaltReplayed(_) => 7,
            Self::ClientSignatureRequired => 8,
            Self::BadUserSignature => 9,
            Self::NoAccountKey(_) => 10,
            Self::NoRecipientSet => 11,
            Self::RecipientMissing(_) => 12,
            Self::PayloadTooLarge { .. } => 13,
            Self::IdentityLocked(..) => 14,
            Self::ScopeExists(_) => 15,
            Self::TooManyScopes { .. } => 16,
            Self::TooManyScopesOfType { .. } => 17,
            Self::RateLimited(_) => 18,
            Self::ScopeNotFound(_) => 19,
            Self::ScopeRevoked(_) => 20,
            Self::InvalidTransition { .. } => 21,
            Self::NoPendingScopes => 22,
            Self::DuplicateScope(_) => 23,
            Self::RequestNotFound(_) => 24,
            Self::RequestFinished(_) => 25,
            Self::ScoreOutOfRange(_) => 26,
            Self::Unauthorized(_) => 27,
            Self::TierTooLow { .. } => 28,
            Self::InvalidParams(_) => 29,
            Self::InvalidGenesis(_) => 30,
            Self::InvalidRequest(_) => 31,
            Self::Corrupt(_) => 32,
            Self::Overflow(_) => 33,
            Self::Store(e) => e.code,
            Self::WalletExists(_) => 34,
            Self::WalletNotFound(_) => 35,
            Self::WalletNotActive(_) => 36,
            Self::BadBindingSignature => 37,
            Self::BadRebindSignature => 38,
            Self::ConsentRequired(_) => 39,
            Self::ConsentSettingsRefuse(_) => 40,
            Self::NoOpenFallback(_) => 41,
            Self::FallbackExpired(..) => 42,
            Self::NothingToAppeal => 43,
            Self::AppealWindowClosed(_) => 44,
            Self::AppealOpen(_) => 45,
            Self::AppealNotFound(_) => 46,
            Self::AppealReviewed(_) => 47,
            Self::NotModerator(_) => 48,
            Self::ModelNotActive(_) => 49,
        }
    }
}
