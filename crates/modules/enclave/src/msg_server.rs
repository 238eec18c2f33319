//! One handler per message: stateless checks, then the signer's authority, then stateful
//! checks (attestation verified at block time), then effects.

use crate::keeper::{self, ATTESTATION_VERIFY_GAS};
use crate::params::HARD_MAX_ATTESTATION_BYTES;
use crate::proto::*;
use crate::{events, state, EnclaveError};
use prost::Message;
use std::sync::Arc;
use ve_module::gate::RoleGate;
use ve_module::{Context, Event, MsgHandler};
use ve_types::{Address, AppError};

pub const MAX_DESCRIPTION_LEN: usize = 512;
pub const MAX_REASON_LEN: usize = 512;
pub const MAX_CHAIN_CERTS: usize = 8;

pub(crate) fn parse_addr(s: &str) -> Result<Address, AppError> {
    s.parse().map_err(|e| {
        EnclaveError::InvalidAddress(s.chars().take(100).collect(), format!("{e}")).into()
    })
}

fn check_platform(p: i32) -> Result<(), EnclaveError> {
    keeper::platform(p).map(|_| ())
}

/// A usable X25519 public key: 32 bytes, not all zero.
pub fn check_x25519(field: &'static str, k: &[u8]) -> Result<[u8; 32], EnclaveError> {
    let arr: [u8; 32] = k.try_into().map_err(|_| EnclaveError::InvalidField {
        field,
        reason: format!("expected 32 bytes, got {}", k.len()),
    })?;
    if arr.iter().all(|b| *b == 0) {
        return Err(EnclaveError::InvalidField {
            field,
            reason: "all-zero key".into(),
        });
    }
    Ok(arr)
}

/// A usable Ed25519 public key: 32 bytes, a valid point of large order.
pub fn check_ed25519(field: &'static str, k: &[u8]) -> Result<[u8; 32], EnclaveError> {
    let arr: [u8; 32] = k.try_into().map_err(|_| EnclaveError::InvalidField {
        field,
        reason: format!("expected 32 bytes, got {}", k.len()),
    })?;
    let vk =
        ed25519_dalek::VerifyingKey::from_bytes(&arr).map_err(|_| EnclaveError::InvalidField {
            field,
            reason: "not a valid Ed25519 point".into(),
        })?;
    if vk.is_weak() {
        return Err(EnclaveError::InvalidField {
            field,
            reason: "weak (small-order) key".into(),
        });
    }
    Ok(arr)
}

fn check_report(report: &[u8], chain: &[Vec<u8>]) -> Result<(), EnclaveError> {
    if report.is_empty() {
        return Err(EnclaveError::InvalidField {
            field: "attestation_report",
            reason: "empty".into(),
        });
    }
    if chain.len() > MAX_CHAIN_CERTS {
        return Err(EnclaveError::InvalidField {
            field: "attestation_chain",
            reason: format!("at most {MAX_CHAIN_CERTS} certificates"),
        });
    }
    let total = chain
        .iter()
        .fold(report.len(), |n, c| n.saturating_add(c.len()));
    let hard = usize::try_from(HARD_MAX_ATTESTATION_BYTES).unwrap_or(usize::MAX);
    if total > hard {
        return Err(EnclaveError::AttestationTooLarge {
            got: total,
            max: HARD_MAX_ATTESTATION_BYTES,
        });
    }
    Ok(())
}

fn check_len(field: &'static str, s: &str, max: usize) -> Result<(), EnclaveError> {
    if s.len() > max {
        return Err(EnclaveError::InvalidField {
            field,
            reason: format!("{} bytes; at most {max}", s.len()),
        });
    }
    Ok(())
}

fn require_operator(ctx: &mut Context<'_>, v: &Address) -> Result<crate::EnclaveParams, AppError> {
    let params = state::params(ctx)?;
    if !params.validator_operators.contains(v) {
        return Err(EnclaveError::NotValidatorOperator(v.to_string()).into());
    }
    Ok(params)
}

fn message_event(sender: &Address) -> Event {
    Event::new("message")
        .attr("sender", sender)
        .attr("module", "enclave")
}

fn expiry(ctx: &Context<'_>, params: &crate::EnclaveParams) -> Result<u64, EnclaveError> {
    ctx.block()
        .height
        .checked_add(params.identity_validity_blocks)
        .ok_or(EnclaveError::Overflow("expiry height"))
}

/// `/virtengine.enclave.v1.MsgRegisterEnclaveIdentity`.
pub struct RegisterEnclaveIdentityHandler;

impl MsgHandler for RegisterEnclaveIdentityHandler {
    type Msg = MsgRegisterEnclaveIdentity;
    fn type_url(&self) -> &'static str {
        "/virtengine.enclave.v1.MsgRegisterEnclaveIdentity"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.enclave.v1.MsgRegisterEnclaveIdentityResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.validator)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.validator)?;
        check_platform(msg.platform)?;
        check_x25519("x25519_public_key", &msg.x25519_public_key)?;
        check_ed25519("ed25519_public_key", &msg.ed25519_public_key)?;
        check_report(&msg.attestation_report, &msg.attestation_chain)?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let v = parse_addr(&msg.validator)?;
        let params = require_operator(ctx, &v)?;
        if state::identity(ctx, &v)?.is_some() {
            return Err(EnclaveError::AlreadyRegistered(v.to_string()).into());
        }
        let x = check_x25519("x25519_public_key", &msg.x25519_public_key)?;
        let ed = check_ed25519("ed25519_public_key", &msg.ed25519_public_key)?;
        let fp = keeper::key_fingerprint(&x);
        if state::fingerprint_owner(ctx, &fp)?.is_some() {
            return Err(EnclaveError::KeyInUse(fp).into());
        }
        ctx.consume_gas(ATTESTATION_VERIFY_GAS, "attestation verification")?;
        let at = ctx.block().time_unix;
        let ev = keeper::verify_attestation(
            ctx,
            &params,
            &keeper::AttestationInput {
                platform: msg.platform,
                x25519: &x,
                ed25519: &ed,
                report: &msg.attestation_report,
                chain: &msg.attestation_chain,
            },
            at,
        )?;
        let height = ctx.block().height;
        let id = EnclaveIdentity {
            validator: v.to_string(),
            platform: msg.platform,
            x25519_public_key: x.to_vec(),
            ed25519_public_key: ed.to_vec(),
            measurement: ev.measurement,
            signer: ev.signer,
            attestation_report: msg.attestation_report.clone(),
            attestation_chain: msg.attestation_chain.clone(),
            registered_height: height,
            attested_height: height,
            attested_time: at,
            expiry_height: expiry(ctx, &params)?,
            chain_not_after: if ev.not_after == i64::MAX {
                0
            } else {
                ev.not_after
            },
            key_epoch: 1,
            key_fingerprint: fp.clone(),
            ..Default::default()
        };
        state::set_identity(ctx, &v, &id)?;
        state::set_fingerprint(ctx, &fp, &v)?;
        ctx.emit(events::identity_registered(&id));
        ctx.emit(message_event(&v));
        Ok(MsgRegisterEnclaveIdentityResponse {
            key_fingerprint: fp,
            expiry_height: id.expiry_height,
        }
        .encode_to_vec())
    }
}

/// `/virtengine.enclave.v1.MsgReattest`: a fresh report for the current keys.
pub struct ReattestHandler;

impl MsgHandler for ReattestHandler {
    type Msg = MsgReattest;
    fn type_url(&self) -> &'static str {
        "/virtengine.enclave.v1.MsgReattest"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.enclave.v1.MsgReattestResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.validator)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.validator)?;
        check_platform(msg.platform)?;
        check_report(&msg.attestation_report, &msg.attestation_chain)?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let v = parse_addr(&msg.validator)?;
        let params = require_operator(ctx, &v)?;
        let mut id =
            state::identity(ctx, &v)?.ok_or_else(|| EnclaveError::NotRegistered(v.to_string()))?;
        let x = check_x25519("x25519_public_key", &id.x25519_public_key)
            .map_err(|e| EnclaveError::Corrupt(e.to_string()))?;
        let ed = check_ed25519("ed25519_public_key", &id.ed25519_public_key)
            .map_err(|e| EnclaveError::Corrupt(e.to_string()))?;
        ctx.consume_gas(ATTESTATION_VERIFY_GAS, "attestation verification")?;
        let at = ctx.block().time_unix;
        let ev = keeper::verify_attestation(
            ctx,
            &params,
            &keeper::AttestationInput {
                platform: msg.platform,
                x25519: &x,
                ed25519: &ed,
                report: &msg.attestation_report,
                chain: &msg.attestation_chain,
            },
            at,
        )?;
        id.platform = msg.platform;
        id.measurement = ev.measurement;
        id.signer = ev.signer;
        id.attestation_report = msg.attestation_report.clone();
        id.attestation_chain = msg.attestation_chain.clone();
        id.attested_height = ctx.block().height;
        id.attested_time = at;
        id.expiry_height = expiry(ctx, &params)?;
        id.chain_not_after = if ev.not_after == i64::MAX {
            0
        } else {
            ev.not_after
        };
        state::set_identity(ctx, &v, &id)?;
        ctx.emit(events::reattested(&id));
        ctx.emit(message_event(&v));
        Ok(MsgReattestResponse {
            expiry_height: id.expiry_height,
        }
        .encode_to_vec())
    }
}

/// `/virtengine.enclave.v1.MsgRotateEnclaveKeys`: new keys (with a report binding them)
/// take over at once; the previous keys stay valid for the overlap.
pub struct RotateEnclaveKeysHandler;

impl MsgHandler for RotateEnclaveKeysHandler {
    type Msg = MsgRotateEnclaveKeys;
    fn type_url(&self) -> &'static str {
        "/virtengine.enclave.v1.MsgRotateEnclaveKeys"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.enclave.v1.MsgRotateEnclaveKeysResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.validator)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.validator)?;
        check_platform(msg.platform)?;
        check_x25519("new_x25519_public_key", &msg.new_x25519_public_key)?;
        check_ed25519("new_ed25519_public_key", &msg.new_ed25519_public_key)?;
        check_report(&msg.attestation_report, &msg.attestation_chain)?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let v = parse_addr(&msg.validator)?;
        let params = require_operator(ctx, &v)?;
        let mut id =
            state::identity(ctx, &v)?.ok_or_else(|| EnclaveError::NotRegistered(v.to_string()))?;
        let x = check_x25519("new_x25519_public_key", &msg.new_x25519_public_key)?;
        let ed = check_ed25519("new_ed25519_public_key", &msg.new_ed25519_public_key)?;
        if id.x25519_public_key == x || id.ed25519_public_key == ed {
            return Err(EnclaveError::SameKeys.into());
        }
        let overlap = if msg.overlap_blocks == 0 {
            params.key_rotation_overlap_blocks
        } else {
            msg.overlap_blocks
        };
        if overlap > params.identity_validity_blocks {
            return Err(EnclaveError::InvalidField {
                field: "overlap_blocks",
                reason: format!(
                    "{overlap} exceeds identity_validity_blocks ({})",
                    params.identity_validity_blocks
                ),
            }
            .into());
        }
        let fp = keeper::key_fingerprint(&x);
        if state::fingerprint_owner(ctx, &fp)?.is_some() {
            return Err(EnclaveError::KeyInUse(fp).into());
        }
        ctx.consume_gas(ATTESTATION_VERIFY_GAS, "attestation verification")?;
        let at = ctx.block().time_unix;
        let ev = keeper::verify_attestation(
            ctx,
            &params,
            &keeper::AttestationInput {
                platform: msg.platform,
                x25519: &x,
                ed25519: &ed,
                report: &msg.attestation_report,
                chain: &msg.attestation_chain,
            },
            at,
        )?;
        let height = ctx.block().height;
        state::delete_fingerprint(ctx, &id.key_fingerprint)?;
        state::set_fingerprint(ctx, &fp, &v)?;
        id.previous_x25519_public_key = std::mem::replace(&mut id.x25519_public_key, x.to_vec());
        id.previous_ed25519_public_key = std::mem::replace(&mut id.ed25519_public_key, ed.to_vec());
        id.previous_keys_valid_until = height
            .checked_add(overlap)
            .ok_or(EnclaveError::Overflow("overlap end height"))?;
        id.key_epoch = id
            .key_epoch
            .checked_add(1)
            .ok_or(EnclaveError::Overflow("key epoch"))?;
        id.key_fingerprint = fp.clone();
        id.platform = msg.platform;
        id.measurement = ev.measurement;
        id.signer = ev.signer;
        id.attestation_report = msg.attestation_report.clone();
        id.attestation_chain = msg.attestation_chain.clone();
        id.attested_height = height;
        id.attested_time = at;
        id.expiry_height = expiry(ctx, &params)?;
        id.chain_not_after = if ev.not_after == i64::MAX {
            0
        } else {
            ev.not_after
        };
        state::set_identity(ctx, &v, &id)?;
        ctx.emit(events::keys_rotated(&id));
        ctx.emit(message_event(&v));
        Ok(MsgRotateEnclaveKeysResponse {
            key_epoch: id.key_epoch,
            previous_keys_valid_until: id.previous_keys_valid_until,
            expiry_height: id.expiry_height,
            key_fingerprint: fp,
        }
        .encode_to_vec())
    }
}

/// Who may change the allow-list and params: the gov module account, or an account
/// holding the administrator role (through the roles module's gate).
#[derive(Clone)]
pub struct Authority {
    pub gov: Address,
    pub roles: Arc<dyn RoleGate>,
}

impl Authority {
    fn require(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<(), AppError> {
        if keeper::is_authority(ctx, &self.gov, self.roles.as_ref(), addr)? {
            Ok(())
        } else {
            Err(EnclaveError::Unauthorized(addr.to_string()).into())
        }
    }
}

fn check_measurement(platform: i32, m: &[u8]) -> Result<(), EnclaveError> {
    let want = keeper::platform(platform)?.measurement_len();
    if m.len() != want {
        return Err(EnclaveError::InvalidField {
            field: "measurement",
            reason: format!(
                "{} bytes; a {} measurement is {want} bytes",
                m.len(),
                keeper::platform_name(platform)
            ),
        });
    }
    Ok(())
}

/// `/virtengine.enclave.v1.MsgAddMeasurement`.
pub struct AddMeasurementHandler {
    pub authority: Authority,
}

impl MsgHandler for AddMeasurementHandler {
    type Msg = MsgAddMeasurement;
    fn type_url(&self) -> &'static str {
        "/virtengine.enclave.v1.MsgAddMeasurement"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.enclave.v1.MsgAddMeasurementResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.authority)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.authority)?;
        check_measurement(msg.platform, &msg.measurement)?;
        check_len("description", &msg.description, MAX_DESCRIPTION_LEN)?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let a = parse_addr(&msg.authority)?;
        self.authority.require(ctx, &a)?;
        if let Some(m) = state::measurement(ctx, msg.platform, &msg.measurement)? {
            if !m.revoked {
                return Err(EnclaveError::MeasurementExists(hex::encode(&msg.measurement)).into());
            }
        }
        let r = MeasurementRecord {
            platform: msg.platform,
            measurement: msg.measurement.clone(),
            description: msg.description.clone(),
            added_by: a.to_string(),
            added_height: ctx.block().height,
            ..Default::default()
        };
        state::set_measurement(ctx, &r)?;
        ctx.emit(events::measurement_added(&r));
        ctx.emit(message_event(&a));
        Ok(MsgAddMeasurementResponse {}.encode_to_vec())
    }
}

/// `/virtengine.enclave.v1.MsgRevokeMeasurement`: identities with this measurement drop
/// out of the active set at once; new registrations with it are refused.
pub struct RevokeMeasurementHandler {
    pub authority: Authority,
}

impl MsgHandler for RevokeMeasurementHandler {
    type Msg = MsgRevokeMeasurement;
    fn type_url(&self) -> &'static str {
        "/virtengine.enclave.v1.MsgRevokeMeasurement"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.enclave.v1.MsgRevokeMeasurementResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.authority)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.authority)?;
        check_measurement(msg.platform, &msg.measurement)?;
        check_len("reason", &msg.reason, MAX_REASON_LEN)?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let a = parse_addr(&msg.authority)?;
        self.authority.require(ctx, &a)?;
        let mut r = state::measurement(ctx, msg.platform, &msg.measurement)?
            .filter(|m| !m.revoked)
            .ok_or_else(|| EnclaveError::MeasurementNotFound(hex::encode(&msg.measurement)))?;
        r.revoked = true;
        r.revoked_by = a.to_string();
        r.revoked_height = ctx.block().height;
        r.revoke_reason = msg.reason.clone();
        state::set_measurement(ctx, &r)?;
        ctx.emit(events::measurement_revoked(&r));
        ctx.emit(message_event(&a));
        Ok(MsgRevokeMeasurementResponse {}.encode_to_vec())
    }
}

/// `/virtengine.enclave.v1.MsgUpdateParams`.
pub struct UpdateParamsHandler {
    pub authority: Authority,
}

impl MsgHandler for UpdateParamsHandler {
    type Msg = MsgUpdateParams;
    fn type_url(&self) -> &'static str {
        "/virtengine.enclave.v1.MsgUpdateParams"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.enclave.v1.MsgUpdateParamsResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.authority)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.authority)?;
        let p = msg
            .params
            .as_ref()
            .ok_or_else(|| EnclaveError::InvalidParams("params missing".into()))?;
        crate::EnclaveParams::from_proto(p)?.validate()?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let a = parse_addr(&msg.authority)?;
        self.authority.require(ctx, &a)?;
        let p = crate::EnclaveParams::from_proto(
            msg.params
                .as_ref()
                .ok_or_else(|| EnclaveError::InvalidParams("params missing".into()))?,
        )?;
        state::set_params(ctx, &p)?;
        ctx.emit(events::params_updated(&msg.authority));
        ctx.emit(message_event(&a));
        Ok(MsgUpdateParamsResponse {}.encode_to_vec())
    }
}
