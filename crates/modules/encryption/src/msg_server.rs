//! One handler per message: stateless checks, then stateful checks, then effects.

use crate::proto::*;
use crate::{events, state, EncryptionError, EncryptionParams};
use prost::Message;
use ve_crypto::envelope::{validate_fingerprint, Algorithm, RecipientPublicKey, PRIMARY_ALGORITHM};
use ve_module::{Context, Event, MsgHandler};
use ve_types::{Address, AppError};

/// Longest key label, in bytes.
pub const MAX_LABEL_LEN: usize = 128;

pub(crate) fn parse_addr(s: &str) -> Result<Address, AppError> {
    s.parse()
        .map_err(|e| EncryptionError::InvalidAddress(s.to_string(), format!("{e}")).into())
}

fn check_fingerprint(fp: &str) -> Result<(), AppError> {
    validate_fingerprint(fp)
        .map_err(|_| EncryptionError::InvalidFingerprint(fp.chars().take(64).collect()).into())
}

fn check_label(label: &str) -> Result<(), AppError> {
    if label.len() > MAX_LABEL_LEN {
        return Err(EncryptionError::LabelTooLong(label.len()).into());
    }
    Ok(())
}

/// Empty means the primary algorithm; otherwise any case of a supported id.
pub(crate) fn parse_algorithm(id: &str) -> Result<&'static Algorithm, AppError> {
    if id.is_empty() {
        return Ok(&PRIMARY_ALGORITHM);
    }
    match Algorithm::by_id_ignore_case(id) {
        Ok(a) if a.supported => Ok(a),
        _ => Err(EncryptionError::UnsupportedAlgorithm(id.chars().take(64).collect()).into()),
    }
}

fn parse_key(bytes: &[u8]) -> Result<RecipientPublicKey, AppError> {
    RecipientPublicKey::from_slice(bytes).map_err(|e| EncryptionError::InvalidPublicKey(e).into())
}

/// Registers `pk` for `owner`: shared by register and rotate so both obey the same rules.
pub(crate) fn register_key(
    ctx: &mut Context<'_>,
    params: &EncryptionParams,
    owner: &Address,
    pk: &RecipientPublicKey,
    algorithm: &Algorithm,
    label: &str,
) -> Result<RecipientKeyRecord, AppError> {
    if !params.allows(algorithm.id) {
        return Err(EncryptionError::AlgorithmNotAllowed(algorithm.id.to_string()).into());
    }
    let fingerprint = pk.fingerprint();
    if state::key(ctx, &fingerprint)?.is_some() {
        return Err(EncryptionError::KeyAlreadyRegistered(fingerprint).into());
    }
    if state::live_count(ctx, owner)? >= u64::from(params.max_keys_per_account) {
        return Err(EncryptionError::TooManyKeys {
            max: params.max_keys_per_account,
        }
        .into());
    }
    let height = ctx.block().height;
    let expires_at = if params.default_key_ttl_blocks == 0 {
        0
    } else {
        height
            .checked_add(params.default_key_ttl_blocks)
            .ok_or(EncryptionError::Overflow("key expiry height"))?
    };
    let record = RecipientKeyRecord {
        address: owner.to_string(),
        public_key: pk.as_bytes().to_vec(),
        fingerprint,
        algorithm_id: algorithm.id.to_string(),
        key_version: state::next_version(ctx, owner)?,
        label: label.to_string(),
        status: KeyStatus::Active as i32,
        registered_at: height,
        revoked_at: 0,
        expires_at,
        rotated_to: String::new(),
    };
    state::set_key(ctx, &record)?;
    state::add_live(ctx, owner, 1)?;
    if expires_at != 0 {
        state::enqueue_expiry(ctx, expires_at, &record.fingerprint)?;
    }
    ctx.emit(events::key_registered(&record));
    Ok(record)
}

/// Loads a key that `owner` holds and that is usable now.
fn owned_usable_key(
    ctx: &mut Context<'_>,
    owner: &Address,
    fingerprint: &str,
) -> Result<RecipientKeyRecord, AppError> {
    let r = state::key(ctx, fingerprint)?
        .ok_or_else(|| EncryptionError::KeyNotFound(fingerprint.to_string()))?;
    if r.address != owner.to_string() {
        return Err(EncryptionError::NotKeyOwner(fingerprint.to_string()).into());
    }
    let height = ctx.block().height;
    if !state::usable_at(&r, height) {
        return Err(EncryptionError::KeyNotActive {
            fingerprint: fingerprint.to_string(),
            status: state::status_name(&r, height),
        }
        .into());
    }
    Ok(r)
}

fn message_event(sender: &Address) -> Event {
    Event::new("message")
        .attr("sender", sender)
        .attr("module", "encryption")
}

/// `/virtengine.encryption.v1.MsgRegisterRecipientKey`.
pub struct RegisterKeyHandler;

impl MsgHandler for RegisterKeyHandler {
    type Msg = MsgRegisterRecipientKey;

    fn type_url(&self) -> &'static str {
        "/virtengine.encryption.v1.MsgRegisterRecipientKey"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.encryption.v1.MsgRegisterRecipientKeyResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.sender)?;
        parse_key(&msg.public_key)?;
        parse_algorithm(&msg.algorithm_id)?;
        check_label(&msg.label)
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let owner = parse_addr(&msg.sender)?;
        let pk = parse_key(&msg.public_key)?;
        let algorithm = parse_algorithm(&msg.algorithm_id)?;
        let params = state::params(ctx)?;
        let r = register_key(ctx, &params, &owner, &pk, algorithm, &msg.label)?;
        ctx.emit(message_event(&owner));
        Ok(MsgRegisterRecipientKeyResponse {
            fingerprint: r.fingerprint,
            key_version: r.key_version,
        }
        .encode_to_vec())
    }
}

/// `/virtengine.encryption.v1.MsgRevokeRecipientKey`: immediate, by the owner.
pub struct RevokeKeyHandler;

impl MsgHandler for RevokeKeyHandler {
    type Msg = MsgRevokeRecipientKey;

    fn type_url(&self) -> &'static str {
        "/virtengine.encryption.v1.MsgRevokeRecipientKey"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.encryption.v1.MsgRevokeRecipientKeyResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.sender)?;
        check_fingerprint(&msg.fingerprint)
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let owner = parse_addr(&msg.sender)?;
        let mut r = owned_usable_key(ctx, &owner, &msg.fingerprint)?;
        r.status = KeyStatus::Revoked as i32;
        r.revoked_at = ctx.block().height;
        state::set_key(ctx, &r)?;
        state::add_live(ctx, &owner, -1)?;
        // A queued expiry for this key is skipped when it comes due (status is checked).
        ctx.emit(events::key_revoked(&r));
        ctx.emit(message_event(&owner));
        Ok(MsgRevokeRecipientKeyResponse {}.encode_to_vec())
    }
}

/// `/virtengine.encryption.v1.MsgRotateRecipientKey`: registers the new key now; the old
/// one stays usable until `height + rotation_overlap_blocks`, then expires. Sensitive
/// (EncryptionKeyRotation): the handler calls the MFA gate.
pub struct RotateKeyHandler {
    pub mfa: std::sync::Arc<dyn ve_module::gate::MfaGate>,
}

impl MsgHandler for RotateKeyHandler {
    type Msg = MsgRotateRecipientKey;

    fn type_url(&self) -> &'static str {
        "/virtengine.encryption.v1.MsgRotateRecipientKey"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.encryption.v1.MsgRotateRecipientKeyResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.sender)?;
        check_fingerprint(&msg.old_fingerprint)?;
        parse_key(&msg.new_public_key)?;
        parse_algorithm(&msg.new_algorithm_id)?;
        check_label(&msg.new_label)
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let owner = parse_addr(&msg.sender)?;
        let new_pk = parse_key(&msg.new_public_key)?;
        let mut old = owned_usable_key(ctx, &owner, &msg.old_fingerprint)?;
        if !old.rotated_to.is_empty() {
            return Err(EncryptionError::AlreadyRotating(old.fingerprint).into());
        }
        self.mfa.require_mfa(
            ctx,
            &owner,
            ve_module::gate::SensitiveAction::EncryptionKeyRotation,
            0,
        )?;
        let algorithm = if msg.new_algorithm_id.is_empty() {
            parse_algorithm(&old.algorithm_id)?
        } else {
            parse_algorithm(&msg.new_algorithm_id)?
        };
        let params = state::params(ctx)?;
        let new = register_key(ctx, &params, &owner, &new_pk, algorithm, &msg.new_label)?;
        let overlap_end = ctx
            .block()
            .height
            .checked_add(params.rotation_overlap_blocks)
            .ok_or(EncryptionError::Overflow("overlap end height"))?;
        // Never extend an expiry the old key already had.
        if old.expires_at == 0 || overlap_end < old.expires_at {
            if old.expires_at != 0 {
                state::dequeue_expiry(ctx, old.expires_at, &old.fingerprint)?;
            }
            old.expires_at = overlap_end;
            state::enqueue_expiry(ctx, overlap_end, &old.fingerprint)?;
        }
        old.rotated_to = new.fingerprint.clone();
        state::set_key(ctx, &old)?;
        ctx.emit(events::key_rotated(&old, &new));
        ctx.emit(message_event(&owner));
        Ok(MsgRotateRecipientKeyResponse {
            new_fingerprint: new.fingerprint,
            old_key_expires_at: old.expires_at,
        }
        .encode_to_vec())
    }
}
