//! The gate every sensitive handler calls ([`MfaKeeper`] implements
//! `ve_module::gate::MfaGate`): account state, VEID minimum score and an MFA session
//! carried in the transaction's `MfaProof` extension option.
//!
//! Order of checks for `require_mfa(signer, action, value_uve)`:
//! 1. the signer's account state is operational (roles);
//! 2. the action's config exists and is enabled, the value reaches its threshold (uve),
//!    and (for opt-in actions) the signer has an enabled policy — otherwise not gated;
//! 3. the signer's verified VEID score >= the config's `min_veid_score`;
//! 4. required combinations: the signer's enabled policy (per action), else the config's;
//!    a combination holding VEID also needs score >= the policy/params VEID threshold;
//! 5. trusted-device bypass or reduction where the config and the policy allow it;
//! 6. one session of `MfaProof.session_ids` belongs to the signer, authorizes the action
//!    (same action, or same category and at least the risk), is valid at block time,
//!    matches the proof's device if both name one, and its verified factors meet a
//!    combination; a single-use session is consumed.

use crate::keepers::Keepers;
use crate::proto::*;
use crate::types::{action_name, action_of, authorizes, describe, parse_uve, satisfied};
use crate::{events, state, MfaError, MfaParams};
use prost::Message;
use ve_module::gate::{MfaGate, SensitiveAction};
use ve_module::{Context, Store};
use ve_types::{Address, AppError};

/// Type URL of the MFA proof extension option; the app allow-lists it.
pub const PROOF_TYPE_URL: &str = "/virtengine.mfa.v1.MfaProof";
/// Most session ids one proof may name.
pub const MAX_PROOF_SESSIONS: usize = 16;

/// What gating an action for an account asks for.
#[derive(Clone, Debug)]
pub struct Requirement {
    pub config: SensitiveTxConfig,
    pub combinations: Vec<FactorCombination>,
    /// The account's policy, if enabled.
    pub policy: Option<MfaPolicy>,
    pub threshold_uve: u128,
}

/// The requirement for `addr` doing `action` with `value_uve` at stake; `None` when the
/// action is not gated (no enabled config, below the threshold, opt-in without policy).
pub fn requirement(
    store: &mut impl Store,
    addr: &Address,
    action: SensitiveAction,
    value_uve: u128,
) -> Result<Option<Requirement>, AppError> {
    let Some(config) = state::config(store, action as u32)? else {
        return Ok(None);
    };
    if !config.enabled {
        return Ok(None);
    }
    let threshold_uve = parse_uve(&config.value_threshold_uve)?;
    if threshold_uve > 0 && value_uve < threshold_uve {
        return Ok(None);
    }
    let policy = state::policy(store, addr)?.filter(|p| p.enabled);
    if config.policy_required && policy.is_none() {
        return Ok(None);
    }
    let from_policy = policy.as_ref().map(|p| match action {
        SensitiveAction::AccountRecovery => p.recovery_factors.clone(),
        SensitiveAction::KeyRotation
        | SensitiveAction::EncryptionKeyRotation
        | SensitiveAction::IdentityRebind => p.key_rotation_factors.clone(),
        _ => Vec::new(),
    });
    let combinations = match (from_policy, &policy) {
        (Some(specific), _) if !specific.is_empty() => specific,
        (_, Some(p)) if !p.required_factors.is_empty() => p.required_factors.clone(),
        _ => config.required_factor_combinations.clone(),
    };
    Ok(Some(Requirement {
        config,
        combinations,
        policy,
        threshold_uve,
    }))
}

/// The VEID score the VEID factor needs: the policy's threshold, else params'.
pub fn veid_threshold(params: &MfaParams, policy: Option<&MfaPolicy>) -> u32 {
    match policy.map(|p| p.veid_threshold) {
        Some(t) if t > 0 => t,
        _ => params.min_veid_score_for_mfa,
    }
}

/// A session is valid at `now` iff unexpired and (not single-use or unused).
pub fn session_valid(s: &AuthorizationSession, now: i64) -> bool {
    now < s.expires_at && (!s.single_use || s.used_at == 0)
}

/// The MFA proof of the transaction being executed, if any.
pub fn read_proof(ctx: &Context<'_>) -> Result<Option<MfaProof>, AppError> {
    let Some(bytes) = ctx.tx().and_then(|t| t.extension(PROOF_TYPE_URL)) else {
        return Ok(None);
    };
    let p = MfaProof::decode(bytes).map_err(|e| MfaError::BadProof(e.to_string()))?;
    if p.session_ids.len() > MAX_PROOF_SESSIONS {
        return Err(MfaError::BadProof(format!("at most {MAX_PROOF_SESSIONS} session_ids")).into());
    }
    if p.device_fingerprint.len() > crate::msg_server::MAX_FINGERPRINT || p.trust_token.len() > 64 {
        return Err(MfaError::BadProof("device_fingerprint or trust_token too long".into()).into());
    }
    Ok(Some(p))
}

/// The gate, as the app hands it to handlers (`Arc<dyn MfaGate>`).
#[derive(Clone)]
pub struct MfaKeeper {
    pub keepers: Keepers,
}

impl MfaKeeper {
    /// Trusted-device bypass/reduction: `Some(None)` = bypass, `Some(Some(c))` = reduced
    /// to `c`, `None` = no effect.
    fn trusted_device(
        &self,
        ctx: &mut Context<'_>,
        addr: &Address,
        req: &Requirement,
        proof: &MfaProof,
        now: i64,
    ) -> Result<Option<Option<FactorCombination>>, AppError> {
        if !req.config.allow_trusted_device_reduction
            || proof.device_fingerprint.is_empty()
            || proof.trust_token.is_empty()
        {
            return Ok(None);
        }
        let Some(rule) = req
            .policy
            .as_ref()
            .and_then(|p| p.trusted_device_rule.clone())
            .filter(|r| r.enabled)
        else {
            return Ok(None);
        };
        let Some(mut d) = state::device(ctx, addr, &proof.device_fingerprint)? else {
            return Ok(None);
        };
        if now >= d.trust_expires_at
            || ve_crypto::sha256(&proof.trust_token).as_slice() != d.trust_token_hash.as_slice()
        {
            return Ok(None);
        }
        d.last_used_at = now;
        state::set_device(ctx, addr, &d)?;
        Ok(Some(rule.reduced_factors.filter(|c| !c.factors.is_empty())))
    }
}

impl MfaGate for MfaKeeper {
    fn require_mfa(
        &self,
        ctx: &mut Context<'_>,
        addr: &Address,
        action: SensitiveAction,
        value_uve: u128,
    ) -> Result<(), AppError> {
        self.keepers.roles.require_operational(ctx, addr)?;
        let Some(req) = requirement(ctx, addr, action, value_uve)? else {
            return Ok(());
        };
        let score = if req.config.min_veid_score > 0
            || req
                .combinations
                .iter()
                .any(|c| c.factors.contains(&(FactorType::Veid as i32)))
        {
            self.keepers.verified_score(ctx, addr)?
        } else {
            0
        };
        if score < req.config.min_veid_score {
            return Err(MfaError::VeidScoreTooLow {
                action: action_name(action),
                need: req.config.min_veid_score,
                have: score,
            }
            .into());
        }
        if req.combinations.is_empty() {
            return Ok(());
        }
        let params = state::params(ctx)?;
        let now = state::now(ctx)?;
        let proof = read_proof(ctx)?.unwrap_or_default();
        let mut combinations = req.combinations.clone();
        match self.trusted_device(ctx, addr, &req, &proof, now)? {
            Some(None) => {
                ctx.emit(events::mfa_bypassed(
                    &addr.to_string(),
                    action,
                    &proof.device_fingerprint,
                ));
                return Ok(());
            }
            Some(Some(reduced)) => combinations = vec![reduced],
            None => {}
        }
        let needs_veid = combinations
            .iter()
            .any(|c| c.factors.contains(&(FactorType::Veid as i32)));
        // A reduced (trusted-device) combination may name VEID where the full one did not.
        let score = if needs_veid && score == 0 {
            self.keepers.verified_score(ctx, addr)?
        } else {
            score
        };
        let veid_min = veid_threshold(&params, req.policy.as_ref());
        let required = describe(&combinations);
        let refuse = |reason: String| -> AppError {
            MfaError::MfaRequired {
                action: action_name(action),
                reason,
                required: required.clone(),
            }
            .into()
        };
        if proof.session_ids.is_empty() {
            return Err(refuse("the transaction carries no MfaProof session".into()));
        }
        let mut reason = String::new();
        for id in &proof.session_ids {
            let Some(mut s) = state::session(ctx, id)? else {
                reason = format!("session {id} does not exist");
                continue;
            };
            if s.account != addr.to_string() {
                reason = format!("session {id} belongs to another account");
                continue;
            }
            let Some(session_action) = action_of(s.transaction_type) else {
                reason = format!("session {id} has no valid transaction type");
                continue;
            };
            if !authorizes(session_action, action) {
                reason = format!(
                    "session {id} is for {} and does not cover {}",
                    action_name(session_action),
                    action_name(action)
                );
                continue;
            }
            if now >= s.expires_at {
                reason = format!("session {id} expired at {}", s.expires_at);
                continue;
            }
            if s.single_use && s.used_at != 0 {
                reason = format!("session {id} was already used (single use)");
                continue;
            }
            if !s.device_fingerprint.is_empty()
                && !proof.device_fingerprint.is_empty()
                && s.device_fingerprint != proof.device_fingerprint
            {
                reason = format!("session {id} is bound to another device");
                continue;
            }
            let verified: Vec<i32> = s.verified_factors.iter().map(|f| f.factor_type).collect();
            if !satisfied(&combinations, &verified) {
                reason = format!(
                    "session {id} has verified {} only",
                    describe(&[FactorCombination { factors: verified }])
                );
                continue;
            }
            if needs_veid && score < veid_min {
                return Err(MfaError::VeidScoreTooLow {
                    action: action_name(action),
                    need: veid_min,
                    have: score,
                }
                .into());
            }
            if s.single_use {
                s.used_at = now;
                state::set_session(ctx, addr, &s)?;
            }
            ctx.emit(events::session_used(&s, action));
            return Ok(());
        }
        Err(refuse(reason))
    }
}
