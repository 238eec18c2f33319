//! The enumerations' rules: scope type names, the status machine, tiers.

use crate::proto::{AccountStatus, IdentityTier, ScopeType, VerificationStatus};

/// Schema version of scopes this chain accepts.
pub const SCOPE_VERSION: u32 = 1;

/// Score thresholds of the tiers.
pub const BASIC_THRESHOLD: u32 = 50;
pub const STANDARD_THRESHOLD: u32 = 70;
pub const PREMIUM_THRESHOLD: u32 = 85;
pub const MAX_SCORE: u32 = 100;

/// The scope type, if `t` names one (UNSPECIFIED is not a scope type).
pub fn scope_type(t: i32) -> Option<ScopeType> {
    match ScopeType::try_from(t) {
        Ok(ScopeType::Unspecified) | Err(_) => None,
        Ok(s) => Some(s),
    }
}

/// The name clients and the config registry use (`allowed_scopes`).
pub fn scope_type_name(t: ScopeType) -> &'static str {
    match t {
        ScopeType::Unspecified => "unspecified",
        ScopeType::IdDocument => "id_document",
        ScopeType::Selfie => "selfie",
        ScopeType::FaceVideo => "face_video",
        ScopeType::Biometric => "biometric",
        ScopeType::SsoMetadata => "sso_metadata",
        ScopeType::EmailProof => "email_proof",
        ScopeType::SmsProof => "sms_proof",
        ScopeType::DomainVerify => "domain_verify",
        ScopeType::AdSso => "ad_sso",
        ScopeType::BiometricHardware => "biometric_hardware",
        ScopeType::DeviceAttestation => "device_attestation",
        ScopeType::SocialMedia => "social_media",
    }
}

pub fn status_name(s: i32) -> &'static str {
    match VerificationStatus::try_from(s) {
        Ok(VerificationStatus::Unknown) => "UNKNOWN",
        Ok(VerificationStatus::Pending) => "PENDING",
        Ok(VerificationStatus::InProgress) => "IN_PROGRESS",
        Ok(VerificationStatus::Verified) => "VERIFIED",
        Ok(VerificationStatus::Rejected) => "REJECTED",
        Ok(VerificationStatus::Expired) => "EXPIRED",
        Ok(VerificationStatus::NeedsAdditionalFactor) => "NEEDS_ADDITIONAL_FACTOR",
        Ok(VerificationStatus::AdditionalFactorPending) => "ADDITIONAL_FACTOR_PENDING",
        Err(_) => "INVALID",
    }
}

/// The spec's transition table, exactly. A revoked scope refuses every transition
/// (checked by the caller, which knows the flag).
pub fn transition_allowed(from: VerificationStatus, to: VerificationStatus) -> bool {
    use VerificationStatus::*;
    matches!(
        (from, to),
        (Unknown, Pending)
            | (Pending, InProgress | Rejected | Expired)
            | (
                InProgress,
                Verified | Rejected | Pending | NeedsAdditionalFactor
            )
            | (Verified, Expired)
            | (Rejected, Pending)
            | (Expired, Pending)
            | (
                NeedsAdditionalFactor,
                AdditionalFactorPending | Rejected | Expired
            )
            | (
                AdditionalFactorPending,
                Verified | Rejected | Expired | NeedsAdditionalFactor
            )
    )
}

/// Final statuses (no verification work pending).
pub fn is_final(s: VerificationStatus) -> bool {
    matches!(
        s,
        VerificationStatus::Verified | VerificationStatus::Rejected | VerificationStatus::Expired
    )
}

/// Tier from (score, effective status): only VERIFIED gives a tier above 0.
pub fn tier_of(score: u32, status: AccountStatus) -> IdentityTier {
    if status != AccountStatus::Verified {
        return IdentityTier::Unverified;
    }
    if score >= PREMIUM_THRESHOLD {
        IdentityTier::Premium
    } else if score >= STANDARD_THRESHOLD {
        IdentityTier::Standard
    } else if score >= BASIC_THRESHOLD {
        IdentityTier::Basic
    } else {
        IdentityTier::Unverified
    }
}

/// Tier of a score record: [`tier_of`], except that a VERIFIED borderline score confirmed
/// by an additional factor (borderline fallback) counts at least as BASIC.
pub fn tier_of_record(score: u32, status: AccountStatus, additional_factor: bool) -> IdentityTier {
    let t = tier_of(score, status);
    if additional_factor && status == AccountStatus::Verified && t == IdentityTier::Unverified {
        IdentityTier::Basic
    } else {
        t
    }
}

/// Scope types whose use in verification needs an explicit, unexpired per-scope consent:
/// the biometric ones.
pub fn needs_explicit_consent(t: i32) -> bool {
    matches!(
        ScopeType::try_from(t),
        Ok(ScopeType::Selfie
            | ScopeType::FaceVideo
            | ScopeType::Biometric
            | ScopeType::BiometricHardware)
    )
}

/// The status a score record reads as at block time `now`: EXPIRED from `expires_at`.
pub fn effective_status(status: i32, expires_at: i64, now: i64) -> AccountStatus {
    let s = AccountStatus::try_from(status).unwrap_or(AccountStatus::Unknown);
    if expires_at != 0 && now >= expires_at {
        AccountStatus::Expired
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use VerificationStatus::*;

    const ALL: [VerificationStatus; 8] = [
        Unknown,
        Pending,
        InProgress,
        Verified,
        Rejected,
        Expired,
        NeedsAdditionalFactor,
        AdditionalFactorPending,
    ];

    #[test]
    fn exactly_the_spec_table_transitions_are_allowed() {
        let allowed: Vec<(VerificationStatus, VerificationStatus)> = ALL
            .iter()
            .flat_map(|f| ALL.iter().map(move |t| (*f, *t)))
            .filter(|(f, t)| transition_allowed(*f, *t))
            .collect();
        let expected = vec![
            (Unknown, Pending),
            (Pending, InProgress),
            (Pending, Rejected),
            (Pending, Expired),
            (InProgress, Pending),
            (InProgress, Verified),
            (InProgress, Rejected),
            (InProgress, NeedsAdditionalFactor),
            (Verified, Expired),
            (Rejected, Pending),
            (Expired, Pending),
            (NeedsAdditionalFactor, Rejected),
            (NeedsAdditionalFactor, Expired),
            (NeedsAdditionalFactor, AdditionalFactorPending),
            (AdditionalFactorPending, Verified),
            (AdditionalFactorPending, Rejected),
            (AdditionalFactorPending, Expired),
            (AdditionalFactorPending, NeedsAdditionalFactor),
        ];
        assert_eq!(allowed, expected);
        // No self-transitions.
        assert!(ALL.iter().all(|s| !transition_allowed(*s, *s)));
    }

    #[test]
    fn tiers_are_50_70_85_and_need_verified_status() {
        let v = AccountStatus::Verified;
        assert_eq!(tier_of(49, v), IdentityTier::Unverified);
        assert_eq!(tier_of(50, v), IdentityTier::Basic);
        assert_eq!(tier_of(69, v), IdentityTier::Basic);
        assert_eq!(tier_of(70, v), IdentityTier::Standard);
        assert_eq!(tier_of(84, v), IdentityTier::Standard);
        assert_eq!(tier_of(85, v), IdentityTier::Premium);
        assert_eq!(tier_of(100, v), IdentityTier::Premium);
        for s in [
            AccountStatus::Unknown,
            AccountStatus::Pending,
            AccountStatus::InProgress,
            AccountStatus::Rejected,
            AccountStatus::Expired,
            AccountStatus::NeedsAdditionalFactor,
        ] {
            assert_eq!(tier_of(100, s), IdentityTier::Unverified, "{s:?}");
        }
    }

    #[test]
    fn additional_factor_lifts_a_verified_borderline_score_to_basic_only() {
        let v = AccountStatus::Verified;
        assert_eq!(tier_of_record(47, v, true), IdentityTier::Basic);
        assert_eq!(tier_of_record(47, v, false), IdentityTier::Unverified);
        assert_eq!(tier_of_record(90, v, true), IdentityTier::Premium);
        assert_eq!(
            tier_of_record(47, AccountStatus::Expired, true),
            IdentityTier::Unverified
        );
    }

    #[test]
    fn only_biometric_scope_types_need_explicit_consent() {
        let need: Vec<i32> = (0..=13).filter(|t| needs_explicit_consent(*t)).collect();
        assert_eq!(need, vec![2, 3, 4, 10]);
    }

    #[test]
    fn score_expires_at_block_time() {
        let v = AccountStatus::Verified as i32;
        assert_eq!(effective_status(v, 1000, 999), AccountStatus::Verified);
        assert_eq!(effective_status(v, 1000, 1000), AccountStatus::Expired);
        assert_eq!(effective_status(v, 0, i64::MAX), AccountStatus::Verified);
    }

    #[test]
    fn scope_type_names_match_the_config_registry_vocabulary() {
        let names: Vec<&str> = (1..=12)
            .map(|t| scope_type_name(scope_type(t).unwrap()))
            .collect();
        assert_eq!(names.len(), 12);
        assert!(scope_type(0).is_none() && scope_type(13).is_none());
    }
}
