//! Sensitive-action facts (category, risk, default configs), factor-type helpers and the
//! factor-combination rule (AND inside a combination, OR across combinations).

use crate::proto::{FactorCombination, FactorType, SensitiveTxConfig, SensitiveTxType};
use crate::MfaError;
use ve_module::gate::SensitiveAction;

/// 1 VE in uve.
pub const UVE_PER_VE: u128 = 1_000_000;
/// Most combinations in a config or policy list, and factors in one combination.
pub const MAX_COMBINATIONS: usize = 8;
pub const MAX_FACTORS_PER_COMBINATION: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Risk {
    Low = 1,
    Medium = 2,
    High = 3,
    Critical = 4,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    AccountSecurity,
    Funds,
    ProviderOps,
    ValidatorOps,
    Marketplace,
    AccessControl,
    Governance,
}

pub fn action_of(t: i32) -> Option<SensitiveAction> {
    u32::try_from(t).ok().and_then(SensitiveAction::from_u32)
}

pub fn action_name(a: SensitiveAction) -> &'static str {
    SensitiveTxType::try_from(a as i32)
        .map(|t| t.as_str_name())
        .unwrap_or("SENSITIVE_TX_TYPE_UNSPECIFIED")
}

pub fn category(a: SensitiveAction) -> Category {
    use SensitiveAction as A;
    match a {
        A::LargeTransfer | A::Withdrawal => Category::Funds,
        A::KeyRotation
        | A::AccountRecovery
        | A::IdentityRebind
        | A::MfaChange
        | A::EncryptionKeyRotation
        | A::TrustedDeviceChange
        | A::BorderlineFallback => Category::AccountSecurity,
        A::ProviderRegistration | A::HpcClusterRegistration => Category::ProviderOps,
        A::ValidatorRegistration => Category::ValidatorOps,
        A::HighValueOrder => Category::Marketplace,
        A::RoleChange => Category::AccessControl,
        A::GovernanceProposal | A::GovernanceVote => Category::Governance,
    }
}

pub fn risk(a: SensitiveAction) -> Risk {
    use SensitiveAction as A;
    match a {
        A::KeyRotation | A::AccountRecovery | A::IdentityRebind | A::MfaChange => Risk::Critical,
        A::LargeTransfer
        | A::ValidatorRegistration
        | A::RoleChange
        | A::EncryptionKeyRotation
        | A::TrustedDeviceChange
        | A::BorderlineFallback => Risk::High,
        A::ProviderRegistration
        | A::HighValueOrder
        | A::GovernanceProposal
        | A::GovernanceVote
        | A::HpcClusterRegistration => Risk::Medium,
        A::Withdrawal => Risk::Low,
    }
}

/// A session for `session` authorizes `target` iff they are the same action, or of the
/// same category with the session's risk at least the target's.
pub fn authorizes(session: SensitiveAction, target: SensitiveAction) -> bool {
    session == target || (category(session) == category(target) && risk(session) >= risk(target))
}

pub fn factor_name(f: FactorType) -> &'static str {
    match f {
        FactorType::Unspecified => "unspecified",
        FactorType::Totp => "totp",
        FactorType::Fido2 => "fido2",
        FactorType::Sms => "sms",
        FactorType::Email => "email",
        FactorType::Veid => "veid",
        FactorType::TrustedDevice => "trusted_device",
        FactorType::HardwareKey => "hardware_key",
        FactorType::BackupCode => "backup_code",
    }
}

pub fn factor_of(t: i32) -> Option<FactorType> {
    FactorType::try_from(t)
        .ok()
        .filter(|f| *f != FactorType::Unspecified)
}

pub fn factor_name_i32(t: i32) -> &'static str {
    factor_of(t).map_or("unspecified", factor_name)
}

/// "veid+fido2 | totp".
pub fn describe(combos: &[FactorCombination]) -> String {
    if combos.is_empty() {
        return "none".into();
    }
    combos
        .iter()
        .map(|c| {
            c.factors
                .iter()
                .map(|f| factor_name_i32(*f))
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Whether the verified factor types meet at least one combination (all of its factors).
pub fn satisfied(combos: &[FactorCombination], verified: &[i32]) -> bool {
    combos
        .iter()
        .any(|c| !c.factors.is_empty() && c.factors.iter().all(|f| verified.contains(f)))
}

pub fn validate_combinations(field: &str, combos: &[FactorCombination]) -> Result<(), MfaError> {
    if combos.len() > MAX_COMBINATIONS {
        return Err(MfaError::InvalidPolicy(format!(
            "{field}: at most {MAX_COMBINATIONS} combinations"
        )));
    }
    for c in combos {
        if c.factors.is_empty() || c.factors.len() > MAX_FACTORS_PER_COMBINATION {
            return Err(MfaError::InvalidPolicy(format!(
                "{field}: a combination holds 1..={MAX_FACTORS_PER_COMBINATION} factors"
            )));
        }
        for (i, f) in c.factors.iter().enumerate() {
            if factor_of(*f).is_none() {
                return Err(MfaError::InvalidPolicy(format!(
                    "{field}: unknown factor type {f}"
                )));
            }
            if c.factors.iter().take(i).any(|g| g == f) {
                return Err(MfaError::InvalidPolicy(format!(
                    "{field}: factor {} listed twice in one combination",
                    factor_name_i32(*f)
                )));
            }
        }
    }
    Ok(())
}

/// A decimal uve amount ("" = 0).
pub fn parse_uve(s: &str) -> Result<u128, MfaError> {
    if s.is_empty() {
        return Ok(0);
    }
    if s.len() > 39 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MfaError::InvalidConfig(format!(
            "value_threshold_uve {s:?} is not a decimal integer"
        )));
    }
    s.parse::<u128>()
        .map_err(|e| MfaError::InvalidConfig(format!("value_threshold_uve: {e}")))
}

pub fn validate_config(c: &SensitiveTxConfig) -> Result<(), MfaError> {
    if action_of(c.transaction_type).is_none() {
        return Err(MfaError::InvalidConfig(format!(
            "unknown transaction_type {}",
            c.transaction_type
        )));
    }
    if c.min_veid_score > 100 {
        return Err(MfaError::InvalidConfig(
            "min_veid_score must be 0..=100".into(),
        ));
    }
    validate_combinations(
        "required_factor_combinations",
        &c.required_factor_combinations,
    )
    .map_err(|e| MfaError::InvalidConfig(e.to_string()))?;
    if c.session_duration > 86_400 {
        return Err(MfaError::InvalidConfig(
            "session_duration must be <= 86400 seconds".into(),
        ));
    }
    parse_uve(&c.value_threshold_uve)?;
    if c.description.len() > 256 {
        return Err(MfaError::InvalidConfig(
            "description: at most 256 bytes".into(),
        ));
    }
    Ok(())
}

fn combo(factors: &[FactorType]) -> FactorCombination {
    FactorCombination {
        factors: factors.iter().map(|f| *f as i32).collect(),
    }
}

/// The default sensitive-transaction table (spec §3.3.6; thresholds in uve, 1 VE =
/// 1,000,000 uve, so the spec's "10000" is 10,000 VE here).
pub fn default_configs() -> Vec<SensitiveTxConfig> {
    use FactorType::{BackupCode, Email, Fido2, Sms, Totp, Veid};
    use SensitiveAction as A;
    let cfg = |a: SensitiveAction,
               min_veid: u32,
               combos: Vec<FactorCombination>,
               session: u64,
               single_use: bool,
               trusted: bool,
               threshold_ve: u128,
               description: &str| SensitiveTxConfig {
        transaction_type: a as i32,
        enabled: true,
        min_veid_score: min_veid,
        required_factor_combinations: combos,
        session_duration: session,
        single_use,
        allow_trusted_device_reduction: trusted,
        value_threshold_uve: if threshold_ve == 0 {
            String::new()
        } else {
            threshold_ve.saturating_mul(UVE_PER_VE).to_string()
        },
        policy_required: false,
        description: description.into(),
    };
    let strong = || vec![combo(&[Veid, Fido2])];
    let light = || vec![combo(&[Fido2]), combo(&[Totp])];
    let mut v = vec![
        cfg(
            A::AccountRecovery,
            50,
            vec![combo(&[Veid, Fido2, Sms]), combo(&[Veid, Fido2, Email])],
            0,
            true,
            false,
            0,
            "account state change / recovery",
        ),
        cfg(
            A::BorderlineFallback,
            0,
            vec![combo(&[Fido2]), combo(&[Totp]), combo(&[Email])],
            0,
            true,
            false,
            0,
            "complete a borderline identity verification with a second factor",
        ),
        cfg(
            A::KeyRotation,
            50,
            strong(),
            0,
            true,
            false,
            0,
            "account key rotation",
        ),
        cfg(
            A::IdentityRebind,
            50,
            strong(),
            0,
            true,
            false,
            0,
            "identity wallet rebind",
        ),
        cfg(
            A::MfaChange,
            50,
            vec![combo(&[Veid, Fido2, Totp])],
            0,
            true,
            false,
            0,
            "revoke a factor or change an enabled MFA policy",
        ),
        cfg(
            A::ProviderRegistration,
            70,
            strong(),
            900,
            false,
            false,
            0,
            "provider registration",
        ),
        cfg(
            A::HpcClusterRegistration,
            70,
            strong(),
            900,
            false,
            false,
            0,
            "HPC cluster registration",
        ),
        cfg(
            A::ValidatorRegistration,
            85,
            strong(),
            0,
            true,
            false,
            0,
            "validator registration",
        ),
        cfg(
            A::LargeTransfer,
            70,
            strong(),
            900,
            false,
            false,
            10_000,
            "transfer of 10,000 VE or more",
        ),
        cfg(
            A::RoleChange,
            85,
            strong(),
            0,
            true,
            false,
            0,
            "role assignment or revocation",
        ),
        cfg(
            A::HighValueOrder,
            70,
            strong(),
            1_800,
            false,
            false,
            1_000,
            "order of 1,000 VE or more",
        ),
        cfg(
            A::GovernanceProposal,
            70,
            strong(),
            900,
            false,
            false,
            0,
            "governance proposal",
        ),
        cfg(
            A::GovernanceVote,
            70,
            light(),
            1_800,
            false,
            true,
            0,
            "governance vote",
        ),
        cfg(
            A::Withdrawal,
            50,
            light(),
            900,
            false,
            true,
            1_000,
            "withdrawal of 1,000 VE or more",
        ),
        cfg(
            A::TrustedDeviceChange,
            0,
            vec![combo(&[Fido2]), combo(&[Totp]), combo(&[BackupCode])],
            0,
            true,
            false,
            0,
            "add a trusted device",
        ),
    ];
    let mut enc = cfg(
        A::EncryptionKeyRotation,
        0,
        light(),
        0,
        true,
        false,
        0,
        "encryption recipient key rotation (accounts with an enabled MFA policy)",
    );
    enc.policy_required = true;
    v.push(enc);
    v.sort_by_key(|c| c.transaction_type);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borderline_identity_can_meet_its_fallback_config_without_a_veid_score() {
        let c = default_configs()
            .into_iter()
            .find(|c| c.transaction_type == SensitiveAction::BorderlineFallback as i32)
            .unwrap_or_default();
        assert!(c.enabled, "the fallback must ask for a second factor");
        assert_eq!(c.min_veid_score, 0);
        assert!(c.single_use);
        let combos = &c.required_factor_combinations;
        assert!(satisfied(combos, &[FactorType::Fido2 as i32]));
        assert!(!satisfied(combos, &[FactorType::Veid as i32]));
    }

    #[test]
    fn combinations_are_and_inside_or_across() {
        let c = vec![
            combo(&[FactorType::Veid, FactorType::Fido2]),
            combo(&[FactorType::Totp]),
        ];
        assert!(!satisfied(&c, &[FactorType::Fido2 as i32]));
        assert!(satisfied(
            &c,
            &[FactorType::Fido2 as i32, FactorType::Veid as i32]
        ));
        assert!(satisfied(&c, &[FactorType::Totp as i32]));
        assert!(!satisfied(&[], &[FactorType::Totp as i32]));
    }

    #[test]
    fn a_session_authorizes_lower_risk_actions_of_its_category_only() {
        assert!(authorizes(
            SensitiveAction::LargeTransfer,
            SensitiveAction::Withdrawal
        ));
        assert!(!authorizes(
            SensitiveAction::Withdrawal,
            SensitiveAction::LargeTransfer
        ));
        assert!(!authorizes(
            SensitiveAction::LargeTransfer,
            SensitiveAction::RoleChange
        ));
    }

    #[test]
    fn default_configs_are_valid_and_thresholds_are_in_uve() {
        for c in default_configs() {
            validate_config(&c).unwrap();
        }
        let large = default_configs()
            .into_iter()
            .find(|c| c.transaction_type == SensitiveAction::LargeTransfer as i32)
            .unwrap();
        assert_eq!(large.value_threshold_uve, "10000000000");
    }
}
