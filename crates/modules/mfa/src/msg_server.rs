//! One handler per message: stateless checks, then stateful checks, then effects.
//!
//! `MsgVerifyChallenge` never fails because the answer is wrong: the attempt is recorded
//! (and the challenge locked at the limit) in a successful transaction whose response
//! and events carry the outcome, so attempt limits survive (spec GO-BUG fixed).

use crate::attestation::{self, AttestationInput};
use crate::gate::{requirement, session_valid, veid_threshold, MfaKeeper};
use crate::ids::{self, Derivation};
use crate::proto::*;
use crate::types::{
    action_name, action_of, factor_name, factor_of, risk, satisfied, validate_combinations,
    validate_config, Risk,
};
use crate::webauthn::{self, RelyingParty};
use crate::{events, state, state_key, MfaError, MfaParams};
use prost::Message;
use ve_module::gate::{MfaGate, SensitiveAction};
use ve_module::{Context, Event, MsgHandler};
use ve_types::{Address, AppError};

/// Hard input limits, bytes.
pub const MAX_LABEL: usize = 64;
pub const MAX_FINGERPRINT: usize = 256;
pub const MAX_USER_AGENT: usize = 256;
pub const MAX_SEALED_SECRET: usize = 4_096;
pub const MAX_BACKUP_CODE: usize = 128;
pub const MAX_KEY_ID: usize = 64;
/// Gas of one signature verification and of parsing, per byte.
pub const SIG_VERIFY_GAS: u64 = 5_000;
pub const PARSE_GAS_PER_BYTE: u64 = 2;

pub(crate) fn parse_addr(s: &str) -> Result<Address, AppError> {
    s.parse()
        .map_err(|e| MfaError::InvalidAddress(s.chars().take(100).collect(), format!("{e}")).into())
}

fn field(field: &'static str, reason: impl Into<String>) -> AppError {
    MfaError::InvalidField {
        field,
        reason: reason.into(),
    }
    .into()
}

fn check_len(name: &'static str, len: usize, min: usize, max: usize) -> Result<(), AppError> {
    if len < min || len > max {
        return Err(field(name, format!("{len} bytes; must be {min}..={max}")));
    }
    Ok(())
}

fn check_id(name: &'static str, id: &str) -> Result<(), AppError> {
    if ids::is_id(id) {
        Ok(())
    } else {
        Err(field(name, "32 lowercase hex characters"))
    }
}

fn message_event(sender: &Address) -> Event {
    Event::new("message")
        .attr("sender", sender)
        .attr("module", "mfa")
}

fn charge_parse(ctx: &mut Context<'_>, bytes: usize) -> Result<(), AppError> {
    let n = u64::try_from(bytes).unwrap_or(u64::MAX);
    ctx.consume_gas(PARSE_GAS_PER_BYTE.saturating_mul(n), "mfa parse")
}

fn add_secs(t: i64, secs: u64) -> Result<i64, AppError> {
    i64::try_from(secs)
        .ok()
        .and_then(|s| t.checked_add(s))
        .ok_or_else(|| MfaError::Overflow("time").into())
}

fn rp(params: &MfaParams) -> RelyingParty<'_> {
    RelyingParty {
        rp_id: &params.fido2_rp_id,
        origins: &params.fido2_allowed_origins,
        require_user_verification: params.fido2_require_user_verification,
    }
}

fn allowed(params: &MfaParams, t: i32) -> Result<FactorType, AppError> {
    let f = factor_of(t).ok_or_else(|| field("factor_type", format!("unknown factor type {t}")))?;
    if !params.factor_allowed(f) {
        return Err(MfaError::FactorTypeNotAllowed(factor_name(f)).into());
    }
    Ok(f)
}

/// `/virtengine.mfa.v1.MsgEnrollFactor`.
pub struct EnrollFactorHandler {
    pub keeper: MfaKeeper,
}

impl EnrollFactorHandler {
    fn enroll_fido2(
        &self,
        ctx: &mut Context<'_>,
        params: &MfaParams,
        sender: &Address,
        reg: &Fido2Registration,
        now: i64,
    ) -> Result<FactorEnrollment, AppError> {
        check_id("fido2_registration.challenge_id", &reg.challenge_id)?;
        let mut ch = state::challenge(ctx, &reg.challenge_id)?
            .filter(|c| c.account == sender.to_string() && c.registration)
            .ok_or_else(|| MfaError::ChallengeNotFound(reg.challenge_id.clone()))?;
        if ch.status != ChallengeStatus::Pending as i32 || now >= ch.expires_at {
            return Err(MfaError::ChallengeNotPending(
                ch.challenge_id.clone(),
                "not pending or expired",
            )
            .into());
        }
        charge_parse(
            ctx,
            reg.client_data_json
                .len()
                .saturating_add(reg.attestation_object.len()),
        )?;
        ctx.consume_gas(SIG_VERIFY_GAS, "fido2 attestation")?;
        let r = webauthn::verify_registration(
            &reg.client_data_json,
            &reg.attestation_object,
            &ch.challenge_data,
            &rp(params),
        )
        .map_err(MfaError::Fido2Registration)?;
        let factor_id = ids::fido2_factor_id(&r.credential_id);
        if state::factor(ctx, sender, &factor_id)?.is_some() {
            return Err(MfaError::FactorExists(factor_id).into());
        }
        ch.status = ChallengeStatus::Verified as i32;
        ch.verified_at = now;
        ch.factor_id = factor_id.clone();
        state::set_challenge(ctx, sender, &ch)?;
        Ok(FactorEnrollment {
            factor_id,
            fido2: Some(Fido2Credential {
                credential_id: r.credential_id,
                cose_public_key: r.cose_key,
                aaguid: r.aaguid,
                sign_count: r.sign_count,
                attestation_type: r.attestation_type,
                algorithm: r.algorithm,
            }),
            ..Default::default()
        })
    }

    /// A TOTP/EMAIL/SMS secret must be sealed to every active validator enclave, so any
    /// of them can check a code (and no one else can open it).
    fn check_sealed_secret(
        &self,
        ctx: &mut Context<'_>,
        f: FactorType,
        sealed: &[u8],
    ) -> Result<(), AppError> {
        check_len("sealed_secret", sealed.len(), 1, MAX_SEALED_SECRET)?;
        charge_parse(ctx, sealed.len())?;
        let parsed = ve_crypto::envelope::parse(sealed)
            .map_err(|e| field("sealed_secret", format!("not an envelope: {e}")))?;
        let recipients: Vec<&str> = parsed.recipient_ids().collect();
        let enclaves = self.keeper.keepers.enclaves.recipient_fingerprints(ctx)?;
        if enclaves.is_empty() {
            return Err(MfaError::SealedSecretNotForEnclaves(
                factor_name(f),
                "an active enclave: none is registered yet".into(),
            )
            .into());
        }
        if let Some(missing) = enclaves
            .iter()
            .find(|fp| !recipients.contains(&fp.as_str()))
        {
            return Err(
                MfaError::SealedSecretNotForEnclaves(factor_name(f), missing.clone()).into(),
            );
        }
        Ok(())
    }
}

impl MsgHandler for EnrollFactorHandler {
    type Msg = MsgEnrollFactor;
    fn type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgEnrollFactor"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgEnrollFactorResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.sender)?;
        factor_of(msg.factor_type).ok_or_else(|| {
            field(
                "factor_type",
                format!("unknown factor type {}", msg.factor_type),
            )
        })?;
        check_len("label", msg.label.len(), 0, MAX_LABEL)?;
        check_len(
            "sealed_secret",
            msg.sealed_secret.len(),
            0,
            MAX_SEALED_SECRET,
        )?;
        if !msg.contact_hash.is_empty() {
            check_len("contact_hash", msg.contact_hash.len(), 32, 32)?;
        }
        if msg.backup_code_hashes.len() > crate::params::HARD_MAX_BACKUP_CODES as usize
            || msg.backup_code_hashes.iter().any(|h| h.len() != 32)
        {
            return Err(field(
                "backup_code_hashes",
                "at most 32 SHA-256 hashes of 32 bytes",
            ));
        }
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_addr(&msg.sender)?;
        self.keeper
            .keepers
            .roles
            .require_operational(ctx, &sender)?;
        let params = state::params(ctx)?;
        let f = allowed(&params, msg.factor_type)?;
        let now = state::now(ctx)?;
        let max = usize::try_from(params.max_factors_per_account).unwrap_or(usize::MAX);
        let existing = state::factors(ctx, &sender, max.saturating_add(1))?;
        if existing.len() >= max {
            return Err(MfaError::TooManyFactors(params.max_factors_per_account).into());
        }
        let single_per_account = matches!(f, FactorType::Veid | FactorType::BackupCode);
        if single_per_account && existing.iter().any(|e| e.factor_type == f as i32) {
            return Err(MfaError::FactorExists(format!(
                "{} (revoke the existing one first)",
                factor_name(f)
            ))
            .into());
        }
        let mut e = match f {
            FactorType::Fido2 => {
                let reg = msg.fido2_registration.as_ref().ok_or_else(|| {
                    field(
                        "fido2_registration",
                        "required for FIDO2: answer a registration challenge",
                    )
                })?;
                self.enroll_fido2(ctx, &params, &sender, reg, now)?
            }
            FactorType::Totp | FactorType::Email | FactorType::Sms => {
                self.check_sealed_secret(ctx, f, &msg.sealed_secret)?;
                FactorEnrollment {
                    sealed_secret: msg.sealed_secret.clone(),
                    contact_hash: msg.contact_hash.clone(),
                    ..Default::default()
                }
            }
            FactorType::BackupCode => {
                let n = msg.backup_code_hashes.len();
                if n == 0 || n > usize::try_from(params.max_backup_codes).unwrap_or(0) {
                    return Err(field(
                        "backup_code_hashes",
                        format!("1..={} codes", params.max_backup_codes),
                    ));
                }
                for (i, h) in msg.backup_code_hashes.iter().enumerate() {
                    if msg.backup_code_hashes.iter().take(i).any(|g| g == h) {
                        return Err(field("backup_code_hashes", "a code is listed twice"));
                    }
                }
                let salt = Derivation::new(ctx, &sender)?.bytes(ids::BACKUP_SALT);
                let code_hashes = msg
                    .backup_code_hashes
                    .iter()
                    .map(|h| ve_crypto::sha256(&[salt.as_slice(), h].concat()).to_vec())
                    .collect();
                FactorEnrollment {
                    backup_codes: Some(BackupCodes {
                        salt: salt.to_vec(),
                        code_hashes,
                    }),
                    ..Default::default()
                }
            }
            FactorType::Veid => FactorEnrollment::default(),
            FactorType::TrustedDevice => {
                return Err(field(
                    "factor_type",
                    "add trusted devices with MsgAddTrustedDevice",
                ))
            }
            FactorType::HardwareKey | FactorType::Unspecified => {
                return Err(field("factor_type", "hardware keys are not supported yet"))
            }
        };
        if e.factor_id.is_empty() {
            e.factor_id = Derivation::new(ctx, &sender)?.id(ids::FACTOR);
        }
        e.account = sender.to_string();
        e.factor_type = f as i32;
        e.label = msg.label.clone();
        e.status = FactorStatus::Active as i32;
        e.enrolled_at = now;
        state::set_factor(ctx, &sender, &e)?;
        ctx.emit(events::factor_enrolled(&e));
        ctx.emit(message_event(&sender));
        Ok(MsgEnrollFactorResponse {
            factor_id: e.factor_id,
            status: e.status,
        }
        .encode_to_vec())
    }
}

/// `/virtengine.mfa.v1.MsgRevokeFactor` (MFA_CHANGE when the policy is enabled).
pub struct RevokeFactorHandler {
    pub keeper: MfaKeeper,
}

impl MsgHandler for RevokeFactorHandler {
    type Msg = MsgRevokeFactor;
    fn type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgRevokeFactor"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgRevokeFactorResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.sender)?;
        check_id("factor_id", &msg.factor_id)
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_addr(&msg.sender)?;
        let mut e = state::factor(ctx, &sender, &msg.factor_id)?
            .ok_or_else(|| MfaError::FactorNotFound("any", msg.factor_id.clone()))?;
        if state::policy(ctx, &sender)?.is_some_and(|p| p.enabled) {
            self.keeper
                .require_mfa(ctx, &sender, SensitiveAction::MfaChange, 0)?;
        }
        state::delete_factor(ctx, &sender, &msg.factor_id)?;
        e.status = FactorStatus::Revoked as i32;
        e.revoked_at = state::now(ctx)?;
        ctx.emit(events::factor_revoked(&e));
        ctx.emit(message_event(&sender));
        Ok(MsgRevokeFactorResponse {}.encode_to_vec())
    }
}

/// `/virtengine.mfa.v1.MsgSetMfaPolicy` (MFA_CHANGE when a policy is already enabled).
pub struct SetMfaPolicyHandler {
    pub keeper: MfaKeeper,
}

impl MsgHandler for SetMfaPolicyHandler {
    type Msg = MsgSetMfaPolicy;
    fn type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgSetMfaPolicy"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgSetMfaPolicyResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.sender)?;
        let p = msg
            .policy
            .as_ref()
            .ok_or_else(|| MfaError::InvalidPolicy("policy missing".into()))?;
        if p.account != msg.sender {
            return Err(MfaError::InvalidPolicy("policy.account must equal sender".into()).into());
        }
        validate_combinations("required_factors", &p.required_factors)?;
        validate_combinations("recovery_factors", &p.recovery_factors)?;
        validate_combinations("key_rotation_factors", &p.key_rotation_factors)?;
        if let Some(r) = p
            .trusted_device_rule
            .as_ref()
            .and_then(|r| r.reduced_factors.as_ref())
        {
            if !r.factors.is_empty() {
                validate_combinations(
                    "trusted_device_rule.reduced_factors",
                    std::slice::from_ref(r),
                )?;
            }
        }
        if p.session_duration > 86_400 {
            return Err(MfaError::InvalidPolicy(
                "session_duration must be <= 86400 seconds".into(),
            )
            .into());
        }
        if p.veid_threshold > 100 {
            return Err(MfaError::InvalidPolicy("veid_threshold must be 0..=100".into()).into());
        }
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_addr(&msg.sender)?;
        let mut p = msg
            .policy
            .clone()
            .ok_or_else(|| MfaError::InvalidPolicy("policy missing".into()))?;
        let params = state::params(ctx)?;
        let old = state::policy(ctx, &sender)?;
        if old.as_ref().is_some_and(|o| o.enabled) {
            self.keeper
                .require_mfa(ctx, &sender, SensitiveAction::MfaChange, 0)?;
        }
        if p.enabled
            && params.require_at_least_one_factor
            && state::factors(ctx, &sender, 1)?.is_empty()
        {
            return Err(MfaError::NoActiveFactor.into());
        }
        let now = state::now(ctx)?;
        p.created_at = old.as_ref().map_or(now, |o| o.created_at);
        p.updated_at = now;
        state::set_policy(ctx, &sender, &p)?;
        ctx.emit(events::policy_updated(&msg.sender, p.enabled));
        ctx.emit(message_event(&sender));
        Ok(MsgSetMfaPolicyResponse {}.encode_to_vec())
    }
}

/// `/virtengine.mfa.v1.MsgCreateChallenge`.
pub struct CreateChallengeHandler {
    pub keeper: MfaKeeper,
}

impl MsgHandler for CreateChallengeHandler {
    type Msg = MsgCreateChallenge;
    fn type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgCreateChallenge"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgCreateChallengeResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.sender)?;
        let f = factor_of(msg.factor_type).ok_or_else(|| {
            field(
                "factor_type",
                format!("unknown factor type {}", msg.factor_type),
            )
        })?;
        if !msg.factor_id.is_empty() {
            check_id("factor_id", &msg.factor_id)?;
        }
        if !msg.session_id.is_empty() {
            check_id("session_id", &msg.session_id)?;
        }
        if msg.registration {
            if f != FactorType::Fido2 {
                return Err(field(
                    "registration",
                    "only FIDO2 has registration challenges",
                ));
            }
        } else if action_of(msg.transaction_type).is_none() {
            return Err(field(
                "transaction_type",
                format!(
                    "unknown sensitive transaction type {}",
                    msg.transaction_type
                ),
            ));
        }
        if let Some(ci) = &msg.client_info {
            check_len(
                "client_info.device_fingerprint",
                ci.device_fingerprint.len(),
                0,
                MAX_FINGERPRINT,
            )?;
            check_len(
                "client_info.user_agent",
                ci.user_agent.len(),
                0,
                MAX_USER_AGENT,
            )?;
        }
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_addr(&msg.sender)?;
        let params = state::params(ctx)?;
        let f = allowed(&params, msg.factor_type)?;
        let now = state::now(ctx)?;
        let open_limit =
            usize::try_from(params.max_open_challenges_per_account).unwrap_or(usize::MAX);
        if state::open_challenge_ids(ctx, &sender, open_limit)?.len() >= open_limit {
            return Err(MfaError::TooManyChallenges(params.max_open_challenges_per_account).into());
        }
        let fingerprint = msg
            .client_info
            .as_ref()
            .map(|c| c.device_fingerprint.clone())
            .unwrap_or_default();
        let mut allowed_credentials = Vec::new();
        let factor_id = match f {
            _ if msg.registration => String::new(),
            FactorType::Veid => String::new(),
            FactorType::TrustedDevice => {
                let d = state::device(ctx, &sender, &fingerprint)?
                    .filter(|d| now < d.trust_expires_at)
                    .ok_or_else(|| MfaError::DeviceNotFound(fingerprint.clone()))?;
                d.device_fingerprint
            }
            _ => {
                let max = usize::try_from(params.max_factors_per_account).unwrap_or(usize::MAX);
                let e = state::factors(ctx, &sender, max)?
                    .into_iter()
                    .find(|e| {
                        e.factor_type == f as i32
                            && e.status == FactorStatus::Active as i32
                            && (msg.factor_id.is_empty() || e.factor_id == msg.factor_id)
                    })
                    .ok_or_else(|| {
                        MfaError::FactorNotFound(factor_name(f), msg.factor_id.clone())
                    })?;
                if let Some(c) = &e.fido2 {
                    allowed_credentials.push(c.credential_id.clone());
                }
                e.factor_id
            }
        };
        if !msg.session_id.is_empty() {
            let s = state::session(ctx, &msg.session_id)?
                .filter(|s| s.account == msg.sender)
                .ok_or_else(|| MfaError::SessionNotFound(msg.session_id.clone()))?;
            if s.transaction_type != msg.transaction_type {
                return Err(MfaError::SessionNotUsable(
                    s.session_id,
                    "it is for another transaction type".into(),
                )
                .into());
            }
            if !session_valid(&s, now) {
                return Err(
                    MfaError::SessionNotUsable(s.session_id, "expired or used".into()).into(),
                );
            }
        }
        let d = Derivation::new(ctx, &sender)?;
        let ch = Challenge {
            challenge_id: d.id(ids::CHALLENGE),
            account: msg.sender.clone(),
            factor_type: f as i32,
            factor_id,
            transaction_type: msg.transaction_type,
            status: ChallengeStatus::Pending as i32,
            challenge_data: d.bytes(ids::CHALLENGE_DATA).to_vec(),
            created_at: now,
            expires_at: add_secs(now, params.challenge_ttl)?,
            verified_at: 0,
            attempt_count: 0,
            max_attempts: params.max_challenge_attempts,
            session_id: msg.session_id.clone(),
            registration: msg.registration,
            client_info: msg.client_info.clone(),
            allowed_credentials: allowed_credentials.clone(),
            relying_party_id: if f == FactorType::Fido2 {
                params.fido2_rp_id.clone()
            } else {
                String::new()
            },
        };
        state::set_challenge(ctx, &sender, &ch)?;
        ctx.put(
            state_key::challenge_expiry(ch.expires_at, &ch.challenge_id),
            Vec::new(),
        )?;
        ctx.emit(events::challenge_created(&ch));
        ctx.emit(message_event(&sender));
        Ok(MsgCreateChallengeResponse {
            challenge_id: ch.challenge_id,
            challenge_data: ch.challenge_data,
            expires_at: ch.expires_at,
            relying_party_id: ch.relying_party_id,
            allowed_credentials,
        }
        .encode_to_vec())
    }
}

/// The verdict on a response: `Ok(enrolment to save)` or `Err(reason)`.
type Verdict = Result<Option<FactorEnrollment>, String>;

/// `/virtengine.mfa.v1.MsgVerifyChallenge`: succeeds with an outcome; see the module doc.
pub struct VerifyChallengeHandler {
    pub keeper: MfaKeeper,
}

impl VerifyChallengeHandler {
    fn verdict(
        &self,
        ctx: &mut Context<'_>,
        params: &MfaParams,
        sender: &Address,
        ch: &Challenge,
        msg: &MsgVerifyChallenge,
        now: i64,
    ) -> Result<Verdict, AppError> {
        let f = factor_of(ch.factor_type).unwrap_or(FactorType::Unspecified);
        let enrolment = |ctx: &mut Context<'_>| -> Result<Option<FactorEnrollment>, AppError> {
            Ok(state::factor(ctx, sender, &ch.factor_id)?.filter(|e| {
                e.status == FactorStatus::Active as i32 && e.factor_type == ch.factor_type
            }))
        };
        Ok(match f {
            FactorType::Fido2 => {
                let Some(a) = &msg.fido2 else {
                    return Ok(Err("no fido2 assertion in the response".into()));
                };
                let Some(mut e) = enrolment(ctx)? else {
                    return Ok(Err("the FIDO2 factor is no longer enrolled".into()));
                };
                let Some(mut cred) = e.fido2.clone() else {
                    return Ok(Err("enrolment has no credential".into()));
                };
                if a.credential_id != cred.credential_id {
                    return Ok(Err("assertion is by another credential".into()));
                }
                charge_parse(
                    ctx,
                    a.client_data_json
                        .len()
                        .saturating_add(a.authenticator_data.len()),
                )?;
                ctx.consume_gas(SIG_VERIFY_GAS, "fido2 assertion")?;
                match webauthn::verify_assertion(
                    &cred.cose_public_key,
                    cred.sign_count,
                    &a.client_data_json,
                    &a.authenticator_data,
                    &a.signature,
                    &ch.challenge_data,
                    &rp(params),
                ) {
                    Ok(count) => {
                        cred.sign_count = count;
                        e.fido2 = Some(cred);
                        Ok(Some(e))
                    }
                    Err(r) => Err(r),
                }
            }
            FactorType::Totp | FactorType::Email | FactorType::Sms => {
                let Some(att) = &msg.attestation else {
                    return Ok(Err("no enclave attestation in the response".into()));
                };
                let Some(mut e) = enrolment(ctx)? else {
                    return Ok(Err("the factor is no longer enrolled".into()));
                };
                let Ok(validator) = att.verifier_key_id.parse::<Address>() else {
                    return Ok(Err(format!(
                        "verifier_key_id {:?} is not a validator operator address",
                        att.verifier_key_id
                            .chars()
                            .take(MAX_KEY_ID)
                            .collect::<String>()
                    )));
                };
                let chain_id = ctx.block().chain_id.clone();
                let input = AttestationInput {
                    chain_id: &chain_id,
                    challenge_id: &ch.challenge_id,
                    account: sender,
                    factor_type: u32::try_from(ch.factor_type).unwrap_or(0),
                    factor_id: &ch.factor_id,
                    challenge_data: &ch.challenge_data,
                    verified: att.verified,
                    otp_step: att.otp_step,
                };
                let payload = attestation::payload(&input);
                let enclaves = self.keeper.keepers.enclaves.clone();
                if !enclaves.verify_signature(ctx, &validator, &payload, &att.signature)? {
                    return Ok(Err(format!(
                        "the attestation is not signed by the active enclave of {validator}"
                    )));
                }
                if !att.verified {
                    return Ok(Err("the enclave attested a wrong code".into()));
                }
                if ch.factor_type == FactorType::Totp as i32 {
                    // One code, one use, whichever enclave checked it (RFC 6238 §5.2).
                    if att.otp_step <= e.last_otp_step {
                        return Ok(Err(format!(
                            "TOTP code already used (time step {} is not after the last accepted {}): wait for the next code",
                            att.otp_step, e.last_otp_step
                        )));
                    }
                    e.last_otp_step = att.otp_step;
                }
                Ok(Some(e))
            }
            FactorType::BackupCode => {
                if msg.backup_code.is_empty() || msg.backup_code.len() > MAX_BACKUP_CODE {
                    return Ok(Err("no backup code in the response".into()));
                }
                let Some(mut e) = enrolment(ctx)? else {
                    return Ok(Err("backup codes are no longer enrolled".into()));
                };
                let Some(mut codes) = e.backup_codes.clone() else {
                    return Ok(Err("enrolment has no codes".into()));
                };
                let h = ve_crypto::sha256(
                    &[
                        codes.salt.as_slice(),
                        &ve_crypto::sha256(msg.backup_code.as_bytes()),
                    ]
                    .concat(),
                );
                match codes
                    .code_hashes
                    .iter()
                    .position(|c| c.as_slice() == h.as_slice())
                {
                    Some(i) => {
                        codes.code_hashes.remove(i);
                        e.backup_codes = Some(codes);
                        Ok(Some(e))
                    }
                    None => Err("backup code is wrong or already used".into()),
                }
            }
            FactorType::Veid => {
                let policy = state::policy(ctx, sender)?.filter(|p| p.enabled);
                let need = veid_threshold(params, policy.as_ref());
                let have = self.keeper.keepers.verified_score(ctx, sender)?;
                if have >= need && have > 0 {
                    Ok(None)
                } else {
                    Err(format!("verified VEID score {have} is below {need}"))
                }
            }
            FactorType::TrustedDevice => {
                let Some(mut d) = state::device(ctx, sender, &ch.factor_id)? else {
                    return Ok(Err("the device is no longer trusted".into()));
                };
                if now >= d.trust_expires_at {
                    Err("device trust expired".into())
                } else if ve_crypto::sha256(&msg.trust_token).as_slice()
                    != d.trust_token_hash.as_slice()
                {
                    Err("trust token does not match".into())
                } else {
                    d.last_used_at = now;
                    state::set_device(ctx, sender, &d)?;
                    Ok(None)
                }
            }
            FactorType::HardwareKey | FactorType::Unspecified => {
                Err("this factor type cannot be verified on chain".into())
            }
        })
    }

    /// Adds the verified factor to the challenge's session (if still usable) or to a new
    /// session; returns it.
    fn record_session(
        &self,
        ctx: &mut Context<'_>,
        params: &MfaParams,
        sender: &Address,
        ch: &Challenge,
        now: i64,
    ) -> Result<AuthorizationSession, AppError> {
        let factor = VerifiedFactor {
            factor_type: ch.factor_type,
            factor_id: ch.factor_id.clone(),
            verified_at: now,
        };
        if !ch.session_id.is_empty() {
            if let Some(mut s) = state::session(ctx, &ch.session_id)?.filter(|s| {
                s.account == ch.account
                    && s.transaction_type == ch.transaction_type
                    && session_valid(s, now)
            }) {
                if !s
                    .verified_factors
                    .iter()
                    .any(|v| v.factor_type == ch.factor_type)
                {
                    s.verified_factors.push(factor);
                }
                state::set_session(ctx, sender, &s)?;
                ctx.emit(events::session_factor_added(&s, ch.factor_type));
                return Ok(s);
            }
        }
        let action = action_of(ch.transaction_type)
            .ok_or_else(|| MfaError::Corrupt("challenge transaction type".into()))?;
        let config = state::config(ctx, action as u32)?;
        let policy = state::policy(ctx, sender)?.filter(|p| p.enabled);
        let duration = match (policy.as_ref().map(|p| p.session_duration), &config) {
            (Some(d), _) if d > 0 => d,
            (_, Some(c)) if c.session_duration > 0 => c.session_duration,
            _ => params.default_session_duration,
        };
        let single_use = config.map_or(risk(action) == Risk::Critical, |c| c.single_use);
        let s = AuthorizationSession {
            session_id: Derivation::new(ctx, sender)?.id(ids::SESSION),
            account: ch.account.clone(),
            transaction_type: ch.transaction_type,
            verified_factors: vec![factor],
            created_at: now,
            expires_at: add_secs(now, duration)?,
            used_at: 0,
            single_use,
            device_fingerprint: ch
                .client_info
                .as_ref()
                .map(|c| c.device_fingerprint.clone())
                .unwrap_or_default(),
        };
        state::set_session(ctx, sender, &s)?;
        ctx.put(
            state_key::session_expiry(s.expires_at, &s.session_id),
            Vec::new(),
        )?;
        ctx.emit(events::session_created(&s));
        Ok(s)
    }
}

impl MsgHandler for VerifyChallengeHandler {
    type Msg = MsgVerifyChallenge;
    fn type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgVerifyChallenge"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgVerifyChallengeResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.sender)?;
        check_id("challenge_id", &msg.challenge_id)?;
        if let Some(a) = &msg.fido2 {
            check_len(
                "fido2.credential_id",
                a.credential_id.len(),
                0,
                webauthn::MAX_CREDENTIAL_ID,
            )?;
            check_len(
                "fido2.client_data_json",
                a.client_data_json.len(),
                0,
                webauthn::MAX_CLIENT_DATA,
            )?;
            check_len(
                "fido2.authenticator_data",
                a.authenticator_data.len(),
                0,
                webauthn::MAX_AUTHENTICATOR_DATA,
            )?;
            check_len(
                "fido2.signature",
                a.signature.len(),
                0,
                webauthn::MAX_SIGNATURE,
            )?;
        }
        if let Some(a) = &msg.attestation {
            check_len(
                "attestation.verifier_key_id",
                a.verifier_key_id.len(),
                0,
                MAX_KEY_ID,
            )?;
            check_len("attestation.signature", a.signature.len(), 0, 128)?;
        }
        check_len("backup_code", msg.backup_code.len(), 0, MAX_BACKUP_CODE)?;
        check_len("trust_token", msg.trust_token.len(), 0, 64)
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_addr(&msg.sender)?;
        let params = state::params(ctx)?;
        let now = state::now(ctx)?;
        let mut ch = state::challenge(ctx, &msg.challenge_id)?
            .filter(|c| c.account == msg.sender)
            .ok_or_else(|| MfaError::ChallengeNotFound(msg.challenge_id.clone()))?;
        if ch.registration {
            return Err(field(
                "challenge_id",
                "a registration challenge is answered by MsgEnrollFactor",
            ));
        }
        let respond =
            |outcome: VerifyOutcome, reason: String, left: u32| MsgVerifyChallengeResponse {
                outcome: outcome as i32,
                reason,
                attempts_left: left,
                ..Default::default()
            };
        let status = ChallengeStatus::try_from(ch.status).unwrap_or(ChallengeStatus::Unspecified);
        match status {
            ChallengeStatus::Pending => {}
            ChallengeStatus::Verified => {
                return Err(MfaError::ChallengeAlreadyVerified(ch.challenge_id).into())
            }
            ChallengeStatus::Failed => {
                ctx.emit(message_event(&sender));
                return Ok(respond(
                    VerifyOutcome::Locked,
                    "challenge is locked: too many failed attempts; create a new one".into(),
                    0,
                )
                .encode_to_vec());
            }
            _ => {
                ctx.emit(message_event(&sender));
                return Ok(
                    respond(VerifyOutcome::Expired, "challenge expired".into(), 0).encode_to_vec(),
                );
            }
        }
        if now >= ch.expires_at {
            ch.status = ChallengeStatus::Expired as i32;
            state::set_challenge(ctx, &sender, &ch)?;
            ctx.emit(events::challenge_expired(&ch));
            ctx.emit(message_event(&sender));
            return Ok(
                respond(VerifyOutcome::Expired, "challenge expired".into(), 0).encode_to_vec(),
            );
        }
        ch.attempt_count = ch.attempt_count.saturating_add(1);
        let verdict = self.verdict(ctx, &params, &sender, &ch, msg, now)?;
        let enrolment = match verdict {
            Err(reason) => {
                let locked = ch.attempt_count >= ch.max_attempts;
                if locked {
                    ch.status = ChallengeStatus::Failed as i32;
                }
                state::set_challenge(ctx, &sender, &ch)?;
                ctx.emit(events::challenge_failed(&ch, &reason, locked));
                ctx.emit(message_event(&sender));
                let left = ch.max_attempts.saturating_sub(ch.attempt_count);
                let outcome = if locked {
                    VerifyOutcome::Locked
                } else {
                    VerifyOutcome::Failed
                };
                return Ok(respond(outcome, reason, left).encode_to_vec());
            }
            Ok(e) => e,
        };
        if let Some(mut e) = enrolment {
            e.last_used_at = now;
            e.use_count = e.use_count.saturating_add(1);
            state::set_factor(ctx, &sender, &e)?;
        }
        ch.status = ChallengeStatus::Verified as i32;
        ch.verified_at = now;
        let session = self.record_session(ctx, &params, &sender, &ch, now)?;
        ch.session_id = session.session_id.clone();
        state::set_challenge(ctx, &sender, &ch)?;
        let verified: Vec<i32> = session
            .verified_factors
            .iter()
            .map(|v| v.factor_type)
            .collect();
        let action = action_of(ch.transaction_type)
            .ok_or_else(|| MfaError::Corrupt("challenge transaction type".into()))?;
        let is_satisfied = match requirement(ctx, &sender, action, u128::MAX)? {
            None => true,
            Some(r) => r.combinations.is_empty() || satisfied(&r.combinations, &verified),
        };
        ctx.emit(events::factor_verified(&ch));
        ctx.emit(events::challenge_verified(&ch, &session.session_id));
        ctx.emit(message_event(&sender));
        Ok(MsgVerifyChallengeResponse {
            outcome: VerifyOutcome::Verified as i32,
            reason: String::new(),
            attempts_left: ch.max_attempts.saturating_sub(ch.attempt_count),
            session_id: session.session_id,
            session_expires_at: session.expires_at,
            verified_factors: verified,
            satisfied: is_satisfied,
        }
        .encode_to_vec())
    }
}

/// `/virtengine.mfa.v1.MsgAddTrustedDevice` (TRUSTED_DEVICE_CHANGE).
pub struct AddTrustedDeviceHandler {
    pub keeper: MfaKeeper,
}

impl MsgHandler for AddTrustedDeviceHandler {
    type Msg = MsgAddTrustedDevice;
    fn type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgAddTrustedDevice"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgAddTrustedDeviceResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.sender)?;
        check_len(
            "device_fingerprint",
            msg.device_fingerprint.len(),
            1,
            MAX_FINGERPRINT,
        )?;
        check_len("label", msg.label.len(), 0, MAX_LABEL)?;
        check_len("trust_token_hash", msg.trust_token_hash.len(), 32, 32)
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_addr(&msg.sender)?;
        let params = state::params(ctx)?;
        if !params.factor_allowed(FactorType::TrustedDevice) {
            return Err(MfaError::FactorTypeNotAllowed("trusted_device").into());
        }
        if state::device(ctx, &sender, &msg.device_fingerprint)?.is_some() {
            return Err(MfaError::DeviceExists(msg.device_fingerprint.clone()).into());
        }
        let max = usize::try_from(params.max_trusted_devices).unwrap_or(usize::MAX);
        if state::devices(ctx, &sender, max.saturating_add(1))?.len() >= max {
            return Err(MfaError::TooManyDevices(params.max_trusted_devices).into());
        }
        self.keeper
            .require_mfa(ctx, &sender, SensitiveAction::TrustedDeviceChange, 0)?;
        let now = state::now(ctx)?;
        let d = TrustedDevice {
            account: msg.sender.clone(),
            device_fingerprint: msg.device_fingerprint.clone(),
            label: msg.label.clone(),
            trust_token_hash: msg.trust_token_hash.clone(),
            added_at: now,
            trust_expires_at: add_secs(now, params.trusted_device_ttl)?,
            last_used_at: 0,
        };
        state::set_device(ctx, &sender, &d)?;
        ctx.emit(events::device_added(&d));
        ctx.emit(message_event(&sender));
        Ok(MsgAddTrustedDeviceResponse {
            trust_expires_at: d.trust_expires_at,
        }
        .encode_to_vec())
    }
}

/// `/virtengine.mfa.v1.MsgRemoveTrustedDevice`.
pub struct RemoveTrustedDeviceHandler;

impl MsgHandler for RemoveTrustedDeviceHandler {
    type Msg = MsgRemoveTrustedDevice;
    fn type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgRemoveTrustedDevice"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgRemoveTrustedDeviceResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.sender)?;
        check_len(
            "device_fingerprint",
            msg.device_fingerprint.len(),
            1,
            MAX_FINGERPRINT,
        )
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_addr(&msg.sender)?;
        if state::device(ctx, &sender, &msg.device_fingerprint)?.is_none() {
            return Err(MfaError::DeviceNotFound(msg.device_fingerprint.clone()).into());
        }
        state::delete_device(ctx, &sender, &msg.device_fingerprint)?;
        ctx.emit(events::device_removed(&msg.sender, &msg.device_fingerprint));
        ctx.emit(message_event(&sender));
        Ok(MsgRemoveTrustedDeviceResponse {}.encode_to_vec())
    }
}

/// `/virtengine.mfa.v1.MsgRevokeSession`.
pub struct RevokeSessionHandler;

impl MsgHandler for RevokeSessionHandler {
    type Msg = MsgRevokeSession;
    fn type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgRevokeSession"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgRevokeSessionResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.sender)?;
        check_id("session_id", &msg.session_id)
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_addr(&msg.sender)?;
        let s = state::session(ctx, &msg.session_id)?
            .filter(|s| s.account == msg.sender)
            .ok_or_else(|| MfaError::SessionNotFound(msg.session_id.clone()))?;
        state::delete_session(ctx, &sender, &s.session_id)?;
        ctx.emit(events::session_revoked(&s));
        ctx.emit(message_event(&sender));
        Ok(MsgRevokeSessionResponse {}.encode_to_vec())
    }
}

fn require_authority(
    keeper: &MfaKeeper,
    ctx: &mut Context<'_>,
    a: &Address,
) -> Result<(), AppError> {
    if keeper.keepers.is_authority(ctx, a)? {
        Ok(())
    } else {
        Err(MfaError::Unauthorized(a.to_string()).into())
    }
}

/// `/virtengine.mfa.v1.MsgUpdateSensitiveTxConfig`.
pub struct UpdateSensitiveTxConfigHandler {
    pub keeper: MfaKeeper,
}

impl MsgHandler for UpdateSensitiveTxConfigHandler {
    type Msg = MsgUpdateSensitiveTxConfig;
    fn type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgUpdateSensitiveTxConfig"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgUpdateSensitiveTxConfigResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.authority)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.authority)?;
        let c = msg
            .config
            .as_ref()
            .ok_or_else(|| MfaError::InvalidConfig("config missing".into()))?;
        validate_config(c).map_err(AppError::from)
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let authority = parse_addr(&msg.authority)?;
        require_authority(&self.keeper, ctx, &authority)?;
        let c = msg
            .config
            .clone()
            .ok_or_else(|| MfaError::InvalidConfig("config missing".into()))?;
        state::set_config(ctx, &c)?;
        ctx.emit(events::config_updated(&c, &msg.authority));
        ctx.emit(message_event(&authority));
        Ok(MsgUpdateSensitiveTxConfigResponse {}.encode_to_vec())
    }
}

/// `/virtengine.mfa.v1.MsgUpdateParams`.
pub struct UpdateParamsHandler {
    pub keeper: MfaKeeper,
}

impl MsgHandler for UpdateParamsHandler {
    type Msg = MsgUpdateParams;
    fn type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgUpdateParams"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.mfa.v1.MsgUpdateParamsResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.authority)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.authority)?;
        let p = msg
            .params
            .as_ref()
            .ok_or_else(|| MfaError::InvalidParams("params missing".into()))?;
        MfaParams::from_proto(p).validate().map_err(AppError::from)
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let authority = parse_addr(&msg.authority)?;
        require_authority(&self.keeper, ctx, &authority)?;
        let p = MfaParams::from_proto(
            msg.params
                .as_ref()
                .ok_or_else(|| MfaError::InvalidParams("params missing".into()))?,
        );
        state::set_params(ctx, &p)?;
        ctx.emit(events::params_updated(&msg.authority));
        ctx.emit(message_event(&authority));
        Ok(MsgUpdateParamsResponse {}.encode_to_vec())
    }
}

/// The action name for messages (re-exported for error texts in other crates).
pub fn sensitive_action_name(a: SensitiveAction) -> &'static str {
    action_name(a)
}
