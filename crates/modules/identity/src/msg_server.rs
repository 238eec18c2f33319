//! One handler per message: stateless checks, then stateful checks, then effects.

use crate::keeper::{now, parse_account};
use crate::keepers::{ClientCheck, Keepers};
use crate::params::{HARD_MAX_PAYLOAD, HARD_MAX_SALT};
use crate::payload::{client_digest, user_digest, UploadSigningInput};
use crate::proto::*;
use crate::types::{scope_type, scope_type_name, SCOPE_VERSION};
use crate::{events, state, state_key, IdentityError, IdentityParams};
use prost::Message;
use ve_module::{Context, Event, MsgHandler};
use ve_types::{Address, AppError};

/// Hard input limits, bytes.
pub const MAX_SCOPE_ID: usize = 128;
pub const MAX_REASON: usize = 512;
pub const MAX_CLIENT_ID: usize = 64;
pub const MAX_CLIENT_VERSION: usize = 32;
pub const MAX_DEVICE_FINGERPRINT: usize = 256;
pub const MAX_SIGNATURE: usize = 512;
pub const MAX_GEO_HINT: usize = 128;
/// Gas of one signature verification (client or user) and of hashing, per byte.
pub const SIG_VERIFY_GAS: u64 = 2_000;
pub const HASH_GAS_PER_BYTE: u64 = 1;

/// 1-128 characters from `A-Z a-z 0-9 . _ : -`.
pub fn check_scope_id(id: &str) -> Result<(), IdentityError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_SCOPE_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(IdentityError::InvalidScopeId(
            id.chars().take(MAX_SCOPE_ID).collect(),
        ))
    }
}

fn check_len(field: &'static str, len: usize, min: usize, max: usize) -> Result<(), IdentityError> {
    if len < min || len > max {
        return Err(IdentityError::InvalidField {
            field,
            reason: format!("{len} bytes; must be {min}..={max}"),
        });
    }
    Ok(())
}

fn message_event(sender: &Address) -> Event {
    Event::new("message")
        .attr("sender", sender)
        .attr("module", "identity")
}

/// `/virtengine.identity.v1.MsgUploadScope`: every check of docs/veid.md "Upload".
pub struct UploadScopeHandler {
    pub keepers: Keepers,
}

impl UploadScopeHandler {
    fn check_limits(
        &self,
        ctx: &mut Context<'_>,
        params: &IdentityParams,
        sender: &Address,
    ) -> Result<(), AppError> {
        let h = ctx.block().height;
        if state::counter(ctx, &state_key::rate_total(h))? >= params.max_uploads_per_block {
            return Err(IdentityError::RateLimited("max_uploads_per_block").into());
        }
        if state::counter(ctx, &state_key::rate_uploads(h, sender))?
            >= params.max_uploads_per_account_per_block
        {
            return Err(IdentityError::RateLimited("max_uploads_per_account_per_block").into());
        }
        Ok(())
    }
}

impl MsgHandler for UploadScopeHandler {
    type Msg = MsgUploadScope;
    fn type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgUploadScope"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgUploadScopeResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_account(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_account(&msg.sender)?;
        check_scope_id(&msg.scope_id)?;
        if scope_type(msg.scope_type).is_none() {
            return Err(IdentityError::InvalidScopeType(msg.scope_type).into());
        }
        check_len(
            "encrypted_payload",
            msg.encrypted_payload.len(),
            1,
            usize::try_from(HARD_MAX_PAYLOAD).unwrap_or(usize::MAX),
        )?;
        check_len(
            "salt",
            msg.salt.len(),
            1,
            usize::try_from(HARD_MAX_SALT).unwrap_or(128),
        )?;
        check_len(
            "device_fingerprint",
            msg.device_fingerprint.len(),
            1,
            MAX_DEVICE_FINGERPRINT,
        )?;
        check_len("client_id", msg.client_id.len(), 0, MAX_CLIENT_ID)?;
        check_len(
            "client_version",
            msg.client_version.len(),
            0,
            MAX_CLIENT_VERSION,
        )?;
        check_len(
            "client_signature",
            msg.client_signature.len(),
            0,
            MAX_SIGNATURE,
        )?;
        check_len("user_signature", msg.user_signature.len(), 0, MAX_SIGNATURE)?;
        check_len("payload_hash", msg.payload_hash.len(), 32, 32)?;
        check_len("geo_hint", msg.geo_hint.len(), 0, MAX_GEO_HINT)?;
        if msg.capture_timestamp < 0 {
            return Err(IdentityError::InvalidField {
                field: "capture_timestamp",
                reason: "negative".into(),
            }
            .into());
        }
        if ve_crypto::sha256(&msg.encrypted_payload).as_slice() != msg.payload_hash.as_slice() {
            return Err(IdentityError::PayloadHashMismatch.into());
        }
        Ok(())
    }

    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_account(&msg.sender)?;
        let st =
            scope_type(msg.scope_type).ok_or(IdentityError::InvalidScopeType(msg.scope_type))?;
        let params = state::params(ctx)?;
        let t = now(ctx)?;
        let height = ctx.block().height;
        let bytes = u64::try_from(msg.encrypted_payload.len()).unwrap_or(u64::MAX);
        ctx.consume_gas(HASH_GAS_PER_BYTE.saturating_mul(bytes), "payload hash")?;

        // 1. Upload limits of this block.
        self.check_limits(ctx, &params, &sender)?;

        // 2. The identity record (created on the first upload) must not be locked.
        let existing = state::record(ctx, &sender)?;
        if let Some(r) = &existing {
            if r.locked {
                return Err(IdentityError::IdentityLocked(
                    sender.to_string(),
                    r.locked_reason.clone(),
                )
                .into());
            }
        }
        let mut record = existing.clone().unwrap_or_else(|| IdentityRecord {
            account: sender.to_string(),
            created_at: t,
            ..Default::default()
        });

        // 3. Scope limits: a new scope id, room in the account and in the type.
        if state::scope(ctx, &sender, &msg.scope_id)?.is_some() {
            return Err(IdentityError::ScopeExists(msg.scope_id.clone()).into());
        }
        if record.live_scope_count >= params.max_scopes_per_account {
            return Err(IdentityError::TooManyScopes {
                max: params.max_scopes_per_account,
            }
            .into());
        }
        let per_type_limit = usize::try_from(params.max_scopes_per_type).unwrap_or(usize::MAX);
        if state::live_scope_ids_of_type(ctx, &sender, msg.scope_type, per_type_limit)?.len()
            >= per_type_limit
        {
            return Err(IdentityError::TooManyScopesOfType {
                scope_type: scope_type_name(st),
                max: params.max_scopes_per_type,
            }
            .into());
        }

        // 4. Salt: length within params and never used before (by anyone).
        let salt_len = msg.salt.len();
        let (lo, hi) = (params.salt_min_bytes, params.salt_max_bytes);
        if u32::try_from(salt_len).map_or(true, |l| l < lo || l > hi) {
            return Err(IdentityError::SaltLength {
                len: salt_len,
                min: lo,
                max: hi,
            }
            .into());
        }
        let salt_hash = ve_crypto::sha256(&msg.salt);
        if state::salt_used(ctx, &salt_hash)? {
            return Err(IdentityError::SaltReplayed(hex::encode(salt_hash)).into());
        }

        // 5. Client signature over the client digest, by an active approved client.
        let sender_s = sender.to_string();
        let chain_id = ctx.block().chain_id.clone();
        let digest = client_digest(&UploadSigningInput {
            chain_id: &chain_id,
            sender: &sender_s,
            scope_id: &msg.scope_id,
            scope_type: msg.scope_type,
            salt: &msg.salt,
            device_fingerprint: &msg.device_fingerprint,
            client_id: &msg.client_id,
            client_version: &msg.client_version,
            payload_hash: &msg.payload_hash,
            capture_timestamp: msg.capture_timestamp,
            geo_hint: &msg.geo_hint,
        });
        let client_key_version = if msg.client_signature.is_empty() && msg.client_id.is_empty() {
            if params.require_client_signature {
                return Err(IdentityError::ClientSignatureRequired.into());
            }
            0
        } else {
            if msg.client_signature.is_empty() || msg.client_id.is_empty() {
                return Err(IdentityError::ClientSignatureRequired.into());
            }
            ctx.consume_gas(SIG_VERIFY_GAS, "client signature")?;
            self.keepers.clients.verify_client_signature(
                ctx,
                &ClientCheck {
                    client_id: &msg.client_id,
                    client_version: &msg.client_version,
                    scope_type: scope_type_name(st),
                    digest: &digest,
                    signature: &msg.client_signature,
                },
            )?
        };

        // 6. User signature by the sender's account key over the user digest.
        if params.require_user_signature || !msg.user_signature.is_empty() {
            ctx.consume_gas(SIG_VERIFY_GAS, "user signature")?;
            let pk = self
                .keepers
                .accounts
                .account_pub_key(ctx, &sender)?
                .ok_or_else(|| IdentityError::NoAccountKey(sender_s.clone()))?;
            let user = user_digest(&digest, &msg.client_signature);
            ve_crypto::PublicKey::from_bytes(&pk)
                .and_then(|k| k.verify(&user, &msg.user_signature))
                .map_err(|_| IdentityError::BadUserSignature)?;
        }

        // 7. Envelope: valid for storage (encryption module) and addressed to every key
        //    of the identity recipient set.
        if bytes > params.max_payload_bytes {
            return Err(IdentityError::PayloadTooLarge {
                len: msg.encrypted_payload.len(),
                max: params.max_payload_bytes,
            }
            .into());
        }
        if params.recipient_fingerprints.is_empty() {
            return Err(IdentityError::NoRecipientSet.into());
        }
        let recipients = self
            .keepers
            .envelopes
            .validate_envelope(ctx, &msg.encrypted_payload)?;
        if let Some(missing) = params
            .recipient_fingerprints
            .iter()
            .find(|fp| !recipients.contains(fp))
        {
            return Err(IdentityError::RecipientMissing(missing.clone()).into());
        }

        // Effects.
        let scope = IdentityScope {
            owner: sender_s.clone(),
            scope_id: msg.scope_id.clone(),
            scope_type: msg.scope_type,
            version: SCOPE_VERSION,
            encrypted_payload: msg.encrypted_payload.clone(),
            metadata: Some(UploadMetadata {
                salt: msg.salt.clone(),
                salt_hash: salt_hash.to_vec(),
                device_fingerprint: msg.device_fingerprint.clone(),
                client_id: msg.client_id.clone(),
                client_version: msg.client_version.clone(),
                client_key_version,
                client_signature: msg.client_signature.clone(),
                user_signature: msg.user_signature.clone(),
                payload_hash: msg.payload_hash.clone(),
                capture_timestamp: msg.capture_timestamp,
                geo_hint: msg.geo_hint.clone(),
            }),
            status: VerificationStatus::Pending as i32,
            uploaded_at: t,
            uploaded_height: height,
            ..Default::default()
        };
        state::set_scope(ctx, &sender, &scope, None)?;
        state::mark_salt_used(ctx, &salt_hash, &sender, height)?;
        record.live_scope_count = record
            .live_scope_count
            .checked_add(1)
            .ok_or(IdentityError::Overflow("scope count"))?;
        record.total_uploads = record
            .total_uploads
            .checked_add(1)
            .ok_or(IdentityError::Overflow("upload count"))?;
        record.updated_at = t;
        state::set_record(ctx, &sender, &record)?;
        state::bump_counter(ctx, state_key::rate_total(height))?;
        state::bump_counter(ctx, state_key::rate_uploads(height, &sender))?;
        if existing.is_none() {
            ctx.emit(events::identity_created(&sender_s, t));
        }
        ctx.emit(events::scope_uploaded(&scope));
        ctx.emit(message_event(&sender));
        Ok(MsgUploadScopeResponse {
            scope_id: scope.scope_id,
            status: scope.status,
            uploaded_at: t,
        }
        .encode_to_vec())
    }
}

/// `/virtengine.identity.v1.MsgRevokeScope`: freezes the scope (no further transitions),
/// drops its envelope from state and frees its slot in the scope limits.
pub struct RevokeScopeHandler;

impl MsgHandler for RevokeScopeHandler {
    type Msg = MsgRevokeScope;
    fn type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgRevokeScope"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgRevokeScopeResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_account(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_account(&msg.sender)?;
        check_scope_id(&msg.scope_id)?;
        check_len("reason", msg.reason.len(), 0, MAX_REASON)?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_account(&msg.sender)?;
        let old = state::scope(ctx, &sender, &msg.scope_id)?
            .ok_or_else(|| IdentityError::ScopeNotFound(msg.scope_id.clone()))?;
        if old.revoked {
            return Err(IdentityError::ScopeRevoked(msg.scope_id.clone()).into());
        }
        let t = now(ctx)?;
        let mut s = old.clone();
        s.revoked = true;
        s.revoked_at = t;
        s.revoked_reason = msg.reason.clone();
        s.encrypted_payload = Vec::new();
        state::set_scope(ctx, &sender, &s, Some(&old))?;
        let mut record = state::record(ctx, &sender)?
            .ok_or_else(|| IdentityError::Corrupt("scope without identity record".into()))?;
        record.live_scope_count = record
            .live_scope_count
            .checked_sub(1)
            .ok_or(IdentityError::Overflow("scope count"))?;
        record.updated_at = t;
        state::set_record(ctx, &sender, &record)?;
        ctx.emit(events::scope_revoked(&s));
        ctx.emit(message_event(&sender));
        Ok(MsgRevokeScopeResponse {}.encode_to_vec())
    }
}

/// `/virtengine.identity.v1.MsgRequestVerification`: one request covering the listed
/// scopes (or all PENDING ones), each moved PENDING → IN_PROGRESS, queued by height.
pub struct RequestVerificationHandler;

impl MsgHandler for RequestVerificationHandler {
    type Msg = MsgRequestVerification;
    fn type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgRequestVerification"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgRequestVerificationResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_account(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_account(&msg.sender)?;
        if msg.scope_ids.len() > 1000 {
            return Err(IdentityError::InvalidField {
                field: "scope_ids",
                reason: "more than 1000 entries".into(),
            }
            .into());
        }
        for (i, id) in msg.scope_ids.iter().enumerate() {
            check_scope_id(id)?;
            if msg.scope_ids.iter().take(i).any(|p| p == id) {
                return Err(IdentityError::DuplicateScope(id.clone()).into());
            }
        }
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_account(&msg.sender)?;
        let params = state::params(ctx)?;
        let height = ctx.block().height;
        if state::counter(ctx, &state_key::rate_requests(height, &sender))?
            >= params.max_requests_per_account_per_block
        {
            return Err(IdentityError::RateLimited("max_requests_per_account_per_block").into());
        }
        let limit = usize::try_from(params.max_scopes_per_account).unwrap_or(usize::MAX);
        let scope_ids = if msg.scope_ids.is_empty() {
            state::pending_scope_ids(ctx, &sender, limit)?
        } else {
            if msg.scope_ids.len() > limit {
                return Err(IdentityError::InvalidField {
                    field: "scope_ids",
                    reason: format!("more than max_scopes_per_account ({limit})"),
                }
                .into());
            }
            msg.scope_ids.clone()
        };
        if scope_ids.is_empty() {
            return Err(IdentityError::NoPendingScopes.into());
        }
        let seq = state::next_request_seq(ctx)?;
        let id_hash = ve_crypto::sha256(
            &[
                b"virtengine-veid-request-v1".as_slice(),
                sender.as_bytes(),
                &height.to_be_bytes(),
                &seq.to_be_bytes(),
            ]
            .concat(),
        );
        let request_id = hex::encode(id_hash.get(..16).unwrap_or_default());
        let t = now(ctx)?;
        for id in &scope_ids {
            // PENDING -> IN_PROGRESS is the only way in; the status machine refuses the rest.
            let s = crate::keeper::transition_scope(
                ctx,
                &sender,
                id,
                VerificationStatus::InProgress,
                "verification requested",
            )?;
            let tagged = IdentityScope {
                request_id: request_id.clone(),
                ..s.clone()
            };
            state::set_scope(ctx, &sender, &tagged, Some(&s))?;
        }
        let r = VerificationRequest {
            request_id: request_id.clone(),
            account: sender.to_string(),
            scope_ids: scope_ids.clone(),
            requested_at: t,
            requested_block: height,
            status: RequestStatus::Pending as i32,
            ..Default::default()
        };
        state::set_request(ctx, &r)?;
        ctx.put(state_key::queue_entry(height, &request_id), Vec::new())?;
        ctx.put(state_key::account_request(&sender, &request_id), Vec::new())?;
        state::bump_counter(ctx, state_key::rate_requests(height, &sender))?;
        ctx.emit(events::verification_requested(&r));
        ctx.emit(message_event(&sender));
        Ok(MsgRequestVerificationResponse {
            request_id,
            scope_ids,
            requested_block: height,
        }
        .encode_to_vec())
    }
}

/// `/virtengine.identity.v1.MsgUpdateParams`: by a config admin or the gov account.
pub struct UpdateParamsHandler {
    pub keepers: Keepers,
}

impl MsgHandler for UpdateParamsHandler {
    type Msg = MsgUpdateParams;
    fn type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgUpdateParams"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgUpdateParamsResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_account(&msg.authority)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_account(&msg.authority)?;
        let p = msg
            .params
            .as_ref()
            .ok_or_else(|| IdentityError::InvalidParams("params missing".into()))?;
        IdentityParams::from_proto(p).validate()?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let authority = parse_account(&msg.authority)?;
        if !self.keepers.authority.is_authority(ctx, &authority)? {
            return Err(IdentityError::Unauthorized(authority.to_string()).into());
        }
        let p = IdentityParams::from_proto(
            msg.params
                .as_ref()
                .ok_or_else(|| IdentityError::InvalidParams("params missing".into()))?,
        );
        state::set_params(ctx, &p)?;
        ctx.emit(events::params_updated(&msg.authority));
        ctx.emit(message_event(&authority));
        Ok(MsgUpdateParamsResponse {}.encode_to_vec())
    }
}
