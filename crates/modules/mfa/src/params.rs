use crate::proto::{FactorType, Params};
use crate::MfaError;

/// Hard limits (not params).
pub const HARD_MAX_ORIGINS: usize = 16;
pub const HARD_MAX_BACKUP_CODES: u32 = 32;

/// mfa parameters. Durations are seconds of block time.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfaParams {
    pub default_session_duration: u64,
    pub max_factors_per_account: u32,
    pub max_challenge_attempts: u32,
    pub challenge_ttl: u64,
    pub max_trusted_devices: u32,
    pub trusted_device_ttl: u64,
    pub min_veid_score_for_mfa: u32,
    pub require_at_least_one_factor: bool,
    /// Factor type numbers (1 TOTP, 2 FIDO2, 3 SMS, 4 EMAIL, 5 VEID, 6 TRUSTED_DEVICE,
    /// 7 HARDWARE_KEY, 8 BACKUP_CODE).
    pub allowed_factor_types: Vec<i32>,
    pub fido2_rp_id: String,
    pub fido2_allowed_origins: Vec<String>,
    pub fido2_require_user_verification: bool,
    pub max_cleanups_per_block: u32,
    pub max_backup_codes: u32,
    pub max_open_challenges_per_account: u32,
}

impl Default for MfaParams {
    fn default() -> Self {
        Self {
            default_session_duration: 900,
            max_factors_per_account: 10,
            max_challenge_attempts: 3,
            challenge_ttl: 300,
            max_trusted_devices: 5,
            trusted_device_ttl: 2_592_000,
            min_veid_score_for_mfa: 50,
            require_at_least_one_factor: true,
            allowed_factor_types: [
                FactorType::Totp,
                FactorType::Fido2,
                FactorType::Sms,
                FactorType::Email,
                FactorType::Veid,
                FactorType::TrustedDevice,
                FactorType::BackupCode,
            ]
            .into_iter()
            .map(|f| f as i32)
            .collect(),
            fido2_rp_id: "virtengine.com".into(),
            fido2_allowed_origins: vec![
                "https://virtengine.com".into(),
                "https://portal.virtengine.com".into(),
            ],
            fido2_require_user_verification: false,
            max_cleanups_per_block: 200,
            max_backup_codes: 16,
            max_open_challenges_per_account: 10,
        }
    }
}

impl MfaParams {
    pub fn validate(&self) -> Result<(), MfaError> {
        let bad = |m: &str| Err(MfaError::InvalidParams(m.to_string()));
        if self.default_session_duration == 0 || self.default_session_duration > 86_400 {
            return bad("default_session_duration must be 1..=86400 seconds");
        }
        if self.max_factors_per_account == 0 || self.max_factors_per_account > 50 {
            return bad("max_factors_per_account must be 1..=50");
        }
        if self.max_challenge_attempts == 0 || self.max_challenge_attempts > 20 {
            return bad("max_challenge_attempts must be 1..=20");
        }
        if self.challenge_ttl < 30 || self.challenge_ttl > 3_600 {
            return bad("challenge_ttl must be 30..=3600 seconds");
        }
        if self.max_trusted_devices > 50 {
            return bad("max_trusted_devices must be <= 50");
        }
        if self.trusted_device_ttl == 0 || self.trusted_device_ttl > 31_536_000 {
            return bad("trusted_device_ttl must be 1..=31536000 seconds");
        }
        if self.min_veid_score_for_mfa > 100 {
            return bad("min_veid_score_for_mfa must be 0..=100");
        }
        for (i, t) in self.allowed_factor_types.iter().enumerate() {
            if FactorType::try_from(*t).map_or(true, |f| f == FactorType::Unspecified) {
                return bad("allowed_factor_types holds an unknown factor type");
            }
            if self.allowed_factor_types.iter().take(i).any(|x| x == t) {
                return bad("allowed_factor_types lists a type twice");
            }
        }
        if self.fido2_rp_id.is_empty() || self.fido2_rp_id.len() > 253 {
            return bad("fido2_rp_id must be 1..=253 characters");
        }
        if self.fido2_allowed_origins.is_empty()
            || self.fido2_allowed_origins.len() > HARD_MAX_ORIGINS
            || self
                .fido2_allowed_origins
                .iter()
                .any(|o| o.is_empty() || o.len() > 256)
        {
            return bad("fido2_allowed_origins must hold 1..=16 origins of 1..=256 characters");
        }
        if self.max_cleanups_per_block == 0 || self.max_cleanups_per_block > 10_000 {
            return bad("max_cleanups_per_block must be 1..=10000");
        }
        if self.max_backup_codes == 0 || self.max_backup_codes > HARD_MAX_BACKUP_CODES {
            return bad("max_backup_codes must be 1..=32");
        }
        if self.max_open_challenges_per_account == 0 || self.max_open_challenges_per_account > 100 {
            return bad("max_open_challenges_per_account must be 1..=100");
        }
        Ok(())
    }

    pub fn factor_allowed(&self, f: FactorType) -> bool {
        self.allowed_factor_types.contains(&(f as i32))
    }

    pub fn to_proto(&self) -> Params {
        Params {
            default_session_duration: self.default_session_duration,
            max_factors_per_account: self.max_factors_per_account,
            max_challenge_attempts: self.max_challenge_attempts,
            challenge_ttl: self.challenge_ttl,
            max_trusted_devices: self.max_trusted_devices,
            trusted_device_ttl: self.trusted_device_ttl,
            min_veid_score_for_mfa: self.min_veid_score_for_mfa,
            require_at_least_one_factor: self.require_at_least_one_factor,
            allowed_factor_types: self.allowed_factor_types.clone(),
            fido2_rp_id: self.fido2_rp_id.clone(),
            fido2_allowed_origins: self.fido2_allowed_origins.clone(),
            fido2_require_user_verification: self.fido2_require_user_verification,
            max_cleanups_per_block: self.max_cleanups_per_block,
            max_backup_codes: self.max_backup_codes,
            max_open_challenges_per_account: self.max_open_challenges_per_account,
        }
    }

    pub fn from_proto(p: &Params) -> Self {
        Self {
            default_session_duration: p.default_session_duration,
            max_factors_per_account: p.max_factors_per_account,
            max_challenge_attempts: p.max_challenge_attempts,
            challenge_ttl: p.challenge_ttl,
            max_trusted_devices: p.max_trusted_devices,
            trusted_device_ttl: p.trusted_device_ttl,
            min_veid_score_for_mfa: p.min_veid_score_for_mfa,
            require_at_least_one_factor: p.require_at_least_one_factor,
            allowed_factor_types: p.allowed_factor_types.clone(),
            fido2_rp_id: p.fido2_rp_id.clone(),
            fido2_allowed_origins: p.fido2_allowed_origins.clone(),
            fido2_require_user_verification: p.fido2_require_user_verification,
            max_cleanups_per_block: p.max_cleanups_per_block,
            max_backup_codes: p.max_backup_codes,
            max_open_challenges_per_account: p.max_open_challenges_per_account,
        }
    }
}
