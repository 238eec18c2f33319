use crate::proto::Params;
use crate::IdentityError;

/// Hard input limits (not params): the most any param may allow.
pub const HARD_MAX_SALT: u32 = 128;
pub const HARD_MAX_PAYLOAD: u64 = 1 << 20;
pub const HARD_MAX_RECIPIENTS: usize = 100;
/// Model sets active at once: the current one plus a few during an upgrade.
pub const HARD_MAX_ACTIVE_MODELS: usize = 16;
/// Longest appeal reason, bytes.
pub const HARD_MAX_APPEAL_REASON: u32 = 2000;

/// identity parameters. Times are block time; counts are per block where named so.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityParams {
    pub max_scopes_per_account: u32,
    pub max_scopes_per_type: u32,
    pub salt_min_bytes: u32,
    pub salt_max_bytes: u32,
    pub require_client_signature: bool,
    pub require_user_signature: bool,
    pub verification_expiry_days: u32,
    pub max_uploads_per_account_per_block: u32,
    pub max_uploads_per_block: u32,
    pub max_requests_per_account_per_block: u32,
    /// Encryption-registry fingerprints every scope envelope must be addressed to. Issue 5
    /// (scoring consensus) replaces this list with the validators' active enclave keys.
    pub recipient_fingerprints: Vec<String>,
    pub borderline_lower: u32,
    pub borderline_upper: u32,
    pub max_expiries_per_block: u32,
    pub max_payload_bytes: u64,
    pub request_timeout_blocks: u64,
    pub max_timeouts_per_block: u32,
    pub fallback_timeout_blocks: u64,
    pub appeal_window_blocks: u64,
    pub min_appeal_reason_length: u32,
    pub max_history_per_account: u32,
    /// The model registry: model-set hashes (64 lowercase hex) whose consensus results
    /// may be applied. Empty: no restriction (bootstrap only).
    pub active_model_hashes: Vec<String>,
}

impl Default for IdentityParams {
    fn default() -> Self {
        Self {
            max_scopes_per_account: 50,
            max_scopes_per_type: 5,
            salt_min_bytes: 16,
            salt_max_bytes: 64,
            require_client_signature: true,
            require_user_signature: true,
            verification_expiry_days: 365,
            max_uploads_per_account_per_block: 3,
            max_uploads_per_block: 50,
            max_requests_per_account_per_block: 5,
            recipient_fingerprints: Vec::new(),
            borderline_lower: 45,
            borderline_upper: 50,
            max_expiries_per_block: 100,
            max_payload_bytes: HARD_MAX_PAYLOAD,
            request_timeout_blocks: 100,
            max_timeouts_per_block: 50,
            fallback_timeout_blocks: 50,
            appeal_window_blocks: 100_800,
            min_appeal_reason_length: 50,
            max_history_per_account: 100,
            active_model_hashes: Vec::new(),
        }
    }
}

impl IdentityParams {
    pub fn validate(&self) -> Result<(), IdentityError> {
        let bad = |m: &str| Err(IdentityError::InvalidParams(m.to_string()));
        if self.max_scopes_per_account == 0 || self.max_scopes_per_account > 1000 {
            return bad("max_scopes_per_account must be 1..=1000");
        }
        if self.max_scopes_per_type == 0 || self.max_scopes_per_type > self.max_scopes_per_account {
            return bad("max_scopes_per_type must be 1..=max_scopes_per_account");
        }
        if self.salt_min_bytes < 16
            || self.salt_max_bytes < self.salt_min_bytes
            || self.salt_max_bytes > HARD_MAX_SALT
        {
            return bad("salt bounds must satisfy 16 <= salt_min_bytes <= salt_max_bytes <= 128");
        }
        if self.verification_expiry_days == 0 || self.verification_expiry_days > 3650 {
            return bad("verification_expiry_days must be 1..=3650");
        }
        if self.max_uploads_per_account_per_block == 0
            || self.max_uploads_per_block == 0
            || self.max_uploads_per_block > 10_000
            || self.max_requests_per_account_per_block == 0
        {
            return bad(
                "upload and request limits must be positive (max_uploads_per_block <= 10000)",
            );
        }
        if self.recipient_fingerprints.len() > HARD_MAX_RECIPIENTS {
            return bad("at most 100 recipient_fingerprints");
        }
        for (i, fp) in self.recipient_fingerprints.iter().enumerate() {
            if ve_crypto::envelope::validate_fingerprint(fp).is_err() {
                return Err(IdentityError::InvalidParams(format!(
                    "recipient fingerprint {:?} is not 40 lowercase hex characters",
                    fp.chars().take(64).collect::<String>()
                )));
            }
            if self.recipient_fingerprints.iter().take(i).any(|p| p == fp) {
                return Err(IdentityError::InvalidParams(format!(
                    "recipient {fp} listed twice"
                )));
            }
        }
        if self.active_model_hashes.len() > HARD_MAX_ACTIVE_MODELS {
            return bad("at most 16 active_model_hashes");
        }
        for (i, h) in self.active_model_hashes.iter().enumerate() {
            let hex64 = h.len() == 64
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !hex64 {
                return Err(IdentityError::InvalidParams(format!(
                    "active model hash {:?} is not 64 lowercase hex characters",
                    h.chars().take(80).collect::<String>()
                )));
            }
            if self.active_model_hashes.iter().take(i).any(|p| p == h) {
                return Err(IdentityError::InvalidParams(format!(
                    "active model hash {h} listed twice"
                )));
            }
        }
        if self.borderline_lower > self.borderline_upper
            || self.borderline_upper > crate::types::MAX_SCORE
        {
            return bad("borderline band must satisfy lower <= upper <= 100");
        }
        if self.max_expiries_per_block == 0 || self.max_expiries_per_block > 10_000 {
            return bad("max_expiries_per_block must be 1..=10000");
        }
        if self.max_payload_bytes == 0 || self.max_payload_bytes > HARD_MAX_PAYLOAD {
            return bad("max_payload_bytes must be 1..=1048576");
        }
        if self.request_timeout_blocks == 0 || self.request_timeout_blocks > 1_000_000 {
            return bad("request_timeout_blocks must be 1..=1000000");
        }
        if self.max_timeouts_per_block == 0 || self.max_timeouts_per_block > 10_000 {
            return bad("max_timeouts_per_block must be 1..=10000");
        }
        if self.fallback_timeout_blocks == 0 || self.fallback_timeout_blocks > 1_000_000 {
            return bad("fallback_timeout_blocks must be 1..=1000000");
        }
        if self.appeal_window_blocks == 0 || self.appeal_window_blocks > 10_000_000 {
            return bad("appeal_window_blocks must be 1..=10000000");
        }
        if self.min_appeal_reason_length == 0
            || self.min_appeal_reason_length > HARD_MAX_APPEAL_REASON
        {
            return bad("min_appeal_reason_length must be 1..=2000");
        }
        if self.max_history_per_account == 0 || self.max_history_per_account > 10_000 {
            return bad("max_history_per_account must be 1..=10000");
        }
        Ok(())
    }

    /// Seconds a verification stays valid.
    pub fn expiry_seconds(&self) -> i64 {
        i64::from(self.verification_expiry_days).saturating_mul(86_400)
    }

    pub fn to_proto(&self) -> Params {
        Params {
            max_scopes_per_account: self.max_scopes_per_account,
            max_scopes_per_type: self.max_scopes_per_type,
            salt_min_bytes: self.salt_min_bytes,
            salt_max_bytes: self.salt_max_bytes,
            require_client_signature: self.require_client_signature,
            require_user_signature: self.require_user_signature,
            verification_expiry_days: self.verification_expiry_days,
            max_uploads_per_account_per_block: self.max_uploads_per_account_per_block,
            max_uploads_per_block: self.max_uploads_per_block,
            max_requests_per_account_per_block: self.max_requests_per_account_per_block,
            recipient_fingerprints: self.recipient_fingerprints.clone(),
            borderline_lower: self.borderline_lower,
            borderline_upper: self.borderline_upper,
            max_expiries_per_block: self.max_expiries_per_block,
            max_payload_bytes: self.max_payload_bytes,
            request_timeout_blocks: self.request_timeout_blocks,
            max_timeouts_per_block: self.max_timeouts_per_block,
            fallback_timeout_blocks: self.fallback_timeout_blocks,
            appeal_window_blocks: self.appeal_window_blocks,
            min_appeal_reason_length: self.min_appeal_reason_length,
            max_history_per_account: self.max_history_per_account,
            active_model_hashes: self.active_model_hashes.clone(),
        }
    }

    pub fn from_proto(p: &Params) -> Self {
        Self {
            max_scopes_per_account: p.max_scopes_per_account,
            max_scopes_per_type: p.max_scopes_per_type,
            salt_min_bytes: p.salt_min_bytes,
            salt_max_bytes: p.salt_max_bytes,
            require_client_signature: p.require_client_signature,
            require_user_signature: p.require_user_signature,
            verification_expiry_days: p.verification_expiry_days,
            max_uploads_per_account_per_block: p.max_uploads_per_account_per_block,
            max_uploads_per_block: p.max_uploads_per_block,
            max_requests_per_account_per_block: p.max_requests_per_account_per_block,
            recipient_fingerprints: p.recipient_fingerprints.clone(),
            borderline_lower: p.borderline_lower,
            borderline_upper: p.borderline_upper,
            max_expiries_per_block: p.max_expiries_per_block,
            max_payload_bytes: p.max_payload_bytes,
            request_timeout_blocks: p.request_timeout_blocks,
            max_timeouts_per_block: p.max_timeouts_per_block,
            fallback_timeout_blocks: p.fallback_timeout_blocks,
            appeal_window_blocks: p.appeal_window_blocks,
            min_appeal_reason_length: p.min_appeal_reason_length,
            max_history_per_account: p.max_history_per_account,
            active_model_hashes: p.active_model_hashes.clone(),
        }
    }
}
