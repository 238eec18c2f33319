//! One handler per message: stateless checks, then stateful checks, then effects.

use crate::keeper::{consent_valid, now, parse_account};
use crate::keepers::{ClientCheck, Keepers};
use crate::params::{HARD_MAX_PAYLOAD, HARD_MAX_SALT};
use crate::payload::{client_digest, user_digest, UploadSigningInput};
use crate::proto::*;
use crate::types::{needs_explicit_consent, scope_type, scope_type_name, SCOPE_VERSION};
use crate::{events, state, state_key, IdentityError, IdentityParams};
use prost::Message;
use std::sync::Arc;
use ve_module::gate::{MfaGate, Role, RoleGate, SensitiveAction};
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
        //    of the identity recipient set: the active validator enclave keys, or
        //    params.recipient_fingerprints on a chain without registered enclaves.
        if bytes > params.max_payload_bytes {
            return Err(IdentityError::PayloadTooLarge {
                len: msg.encrypted_payload.len(),
                max: params.max_payload_bytes,
            }
            .into());
        }
        let mut required = self.keepers.enclaves.enclave_recipient_fingerprints(ctx)?;
        if required.is_empty() {
            required.clone_from(&params.recipient_fingerprints);
        }
        if required.is_empty() {
            return Err(IdentityError::NoRecipientSet.into());
        }
        let recipients = self
            .keepers
            .envelopes
            .validate_envelope(ctx, &msg.encrypted_payload)?;
        if let Some(missing) = required.iter().find(|fp| !recipients.contains(fp)) {
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
        if state::wallet(ctx, &sender)?.is_some() {
            add_wallet_ref(ctx, &sender, &scope, t)?;
        }
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
        if let Some(mut r) = state::wallet_ref(ctx, &sender, &msg.scope_id)? {
            r.status = ScopeRefStatus::Revoked as i32;
            r.revoked_at = t;
            r.revocation_reason = msg.reason.clone();
            state::set_wallet_ref(ctx, &sender, &r)?;
            ctx.emit(events::scope_reference_changed(&sender.to_string(), &r));
        }
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
        let t = now(ctx)?;
        let settings = state::wallet(ctx, &sender)?.map(|w| w.consent_settings.unwrap_or_default());
        if settings.as_ref().is_some_and(|c| !c.share_for_verification) {
            return Err(IdentityError::ConsentSettingsRefuse(
                "share_for_verification is off: turn it on with MsgUpdateConsentSettings",
            )
            .into());
        }
        let reverify = settings.as_ref().is_none_or(|c| c.allow_re_verification);
        let limit = usize::try_from(params.max_scopes_per_account).unwrap_or(usize::MAX);
        let scope_ids = if msg.scope_ids.is_empty() {
            // Every PENDING scope, and every EXPIRED one (re-verification) unless the
            // wallet's consent settings forbid it; biometric scopes without a valid
            // consent are left out (not used).
            let mut ids = state::pending_scope_ids(ctx, &sender, limit)?;
            if reverify {
                ids.extend(state::expired_scope_ids(ctx, &sender, limit)?);
                ids.sort();
                ids.truncate(limit);
            }
            let mut usable = Vec::with_capacity(ids.len());
            for id in ids {
                let s = state::scope(ctx, &sender, &id)?.ok_or_else(|| {
                    IdentityError::Corrupt("index points at a missing scope".into())
                })?;
                if !needs_explicit_consent(s.scope_type) || consent_valid(ctx, &sender, &id, t)? {
                    usable.push(id);
                }
            }
            usable
        } else {
            if msg.scope_ids.len() > limit {
                return Err(IdentityError::InvalidField {
                    field: "scope_ids",
                    reason: format!("more than max_scopes_per_account ({limit})"),
                }
                .into());
            }
            for id in &msg.scope_ids {
                let s = state::scope(ctx, &sender, id)?
                    .ok_or_else(|| IdentityError::ScopeNotFound(id.clone()))?;
                if s.revoked {
                    return Err(IdentityError::ScopeRevoked(id.clone()).into());
                }
                if needs_explicit_consent(s.scope_type) && !consent_valid(ctx, &sender, id, t)? {
                    return Err(IdentityError::ConsentRequired(id.clone()).into());
                }
                if s.status == VerificationStatus::Expired as i32 && !reverify {
                    return Err(IdentityError::ConsentSettingsRefuse(
                        "allow_re_verification is off: turn it on with MsgUpdateConsentSettings",
                    )
                    .into());
                }
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
        for id in &scope_ids {
            // Re-verification: EXPIRED -> PENDING first (the status machine's way back).
            if state::scope(ctx, &sender, id)?
                .is_some_and(|s| !s.revoked && s.status == VerificationStatus::Expired as i32)
            {
                crate::keeper::transition_scope(
                    ctx,
                    &sender,
                    id,
                    VerificationStatus::Pending,
                    "re-verification requested",
                )?;
            }
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

/// Adds (or re-activates) the wallet's reference to `scope`.
fn add_wallet_ref(
    ctx: &mut Context<'_>,
    owner: &Address,
    scope: &IdentityScope,
    t: i64,
) -> Result<(), AppError> {
    let r = ScopeReference {
        scope_id: scope.scope_id.clone(),
        scope_type: scope.scope_type,
        envelope_hash: scope
            .metadata
            .as_ref()
            .map(|m| m.payload_hash.clone())
            .unwrap_or_default(),
        added_at: t,
        status: ScopeRefStatus::Active as i32,
        ..Default::default()
    };
    state::set_wallet_ref(ctx, owner, &r)?;
    ctx.emit(events::scope_reference_changed(&owner.to_string(), &r));
    Ok(())
}

fn active_wallet(ctx: &mut Context<'_>, a: &Address) -> Result<IdentityWallet, AppError> {
    let w = state::wallet(ctx, a)?.ok_or_else(|| IdentityError::WalletNotFound(a.to_string()))?;
    if w.status != WalletStatus::Active as i32 {
        return Err(IdentityError::WalletNotActive(a.to_string()).into());
    }
    Ok(w)
}

fn bump_consent_version(w: &mut IdentityWallet, t: i64) -> Result<u64, AppError> {
    let mut c = w.consent_settings.unwrap_or_default();
    c.consent_version = c
        .consent_version
        .checked_add(1)
        .ok_or(IdentityError::Overflow("consent version"))?;
    c.last_updated_at = t;
    let v = c.consent_version;
    w.consent_settings = Some(c);
    w.updated_at = t;
    Ok(v)
}

/// Consent settings of a new wallet when the creator gives none.
pub fn default_consent_settings() -> ConsentSettings {
    ConsentSettings {
        share_with_providers: false,
        share_for_verification: true,
        allow_re_verification: true,
        allow_derived_feature_sharing: false,
        consent_version: 0,
        last_updated_at: 0,
    }
}

/// `/virtengine.identity.v1.MsgCreateIdentityWallet`: one wallet per account, its Ed25519
/// binding key proven by a signature over the binding digest (docs/veid.md §9). The
/// account's live scopes become the wallet's scope references.
pub struct CreateWalletHandler;

impl MsgHandler for CreateWalletHandler {
    type Msg = MsgCreateIdentityWallet;
    fn type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgCreateIdentityWallet"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgCreateIdentityWalletResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_account(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_account(&msg.sender)?;
        check_len("binding_pub_key", msg.binding_pub_key.len(), 32, 32)?;
        check_len("binding_signature", msg.binding_signature.len(), 64, 64)?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_account(&msg.sender)?;
        let sender_s = sender.to_string();
        if state::wallet(ctx, &sender)?.is_some() {
            return Err(IdentityError::WalletExists(sender_s).into());
        }
        let wallet_id = crate::payload::wallet_id(&sender_s);
        let chain_id = ctx.block().chain_id.clone();
        let digest = crate::payload::binding_digest(
            &chain_id,
            &sender_s,
            &wallet_id,
            &msg.binding_pub_key,
            0,
        );
        ctx.consume_gas(SIG_VERIFY_GAS, "binding signature")?;
        if !crate::payload::ed25519_verify(&msg.binding_pub_key, &digest, &msg.binding_signature) {
            return Err(IdentityError::BadBindingSignature.into());
        }
        let t = now(ctx)?;
        let mut settings = msg
            .consent_settings
            .unwrap_or_else(default_consent_settings);
        settings.consent_version = 0;
        settings.last_updated_at = t;
        let w = IdentityWallet {
            wallet_id: wallet_id.clone(),
            account: sender_s.clone(),
            status: WalletStatus::Active as i32,
            binding_pub_key: msg.binding_pub_key.clone(),
            binding_signature: msg.binding_signature.clone(),
            binding_version: 0,
            created_at: t,
            updated_at: t,
            last_binding_at: t,
            consent_settings: Some(settings),
            created_height: ctx.block().height,
        };
        state::set_wallet(ctx, &sender, &w)?;
        // Live scopes are at most max_scopes_per_type per type.
        let params = state::params(ctx)?;
        let per_type = usize::try_from(params.max_scopes_per_type).unwrap_or(usize::MAX);
        for st in 1..=12 {
            for id in state::live_scope_ids_of_type(ctx, &sender, st, per_type)? {
                if let Some(scope) = state::scope(ctx, &sender, &id)? {
                    add_wallet_ref(ctx, &sender, &scope, t)?;
                }
            }
        }
        ctx.emit(events::wallet_created(&w));
        ctx.emit(message_event(&sender));
        Ok(MsgCreateIdentityWalletResponse {
            wallet_id,
            created_at: t,
        }
        .encode_to_vec())
    }
}

/// `/virtengine.identity.v1.MsgRebindWallet`: replaces the binding key. Gated by an MFA
/// session for `SensitiveAction::IdentityRebind` (checked here, in the handler), then the
/// current key must sign the hand-over and the new key its binding.
pub struct RebindWalletHandler {
    pub mfa: Arc<dyn MfaGate>,
}

impl MsgHandler for RebindWalletHandler {
    type Msg = MsgRebindWallet;
    fn type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgRebindWallet"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgRebindWalletResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_account(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_account(&msg.sender)?;
        check_len("new_binding_pub_key", msg.new_binding_pub_key.len(), 32, 32)?;
        check_len(
            "new_binding_signature",
            msg.new_binding_signature.len(),
            64,
            64,
        )?;
        check_len("old_signature", msg.old_signature.len(), 64, 64)?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_account(&msg.sender)?;
        let sender_s = sender.to_string();
        let mut w = active_wallet(ctx, &sender)?;
        self.mfa
            .require_mfa(ctx, &sender, SensitiveAction::IdentityRebind, 0)?;
        if w.binding_pub_key == msg.new_binding_pub_key {
            return Err(IdentityError::InvalidField {
                field: "new_binding_pub_key",
                reason: "equals the current binding key".into(),
            }
            .into());
        }
        let version = w
            .binding_version
            .checked_add(1)
            .ok_or(IdentityError::Overflow("binding version"))?;
        let chain_id = ctx.block().chain_id.clone();
        ctx.consume_gas(SIG_VERIFY_GAS.saturating_mul(2), "rebind signatures")?;
        let hand_over = crate::payload::rebind_digest(
            &chain_id,
            &sender_s,
            &w.wallet_id,
            &w.binding_pub_key,
            &msg.new_binding_pub_key,
            version,
        );
        if !crate::payload::ed25519_verify(&w.binding_pub_key, &hand_over, &msg.old_signature) {
            return Err(IdentityError::BadRebindSignature.into());
        }
        let binding = crate::payload::binding_digest(
            &chain_id,
            &sender_s,
            &w.wallet_id,
            &msg.new_binding_pub_key,
            version,
        );
        if !crate::payload::ed25519_verify(
            &msg.new_binding_pub_key,
            &binding,
            &msg.new_binding_signature,
        ) {
            return Err(IdentityError::BadBindingSignature.into());
        }
        let t = now(ctx)?;
        let old_key = std::mem::replace(&mut w.binding_pub_key, msg.new_binding_pub_key.clone());
        w.binding_signature = msg.new_binding_signature.clone();
        w.binding_version = version;
        w.last_binding_at = t;
        w.updated_at = t;
        state::set_wallet(ctx, &sender, &w)?;
        ctx.emit(events::wallet_rebound(&w, &old_key));
        ctx.emit(message_event(&sender));
        Ok(MsgRebindWalletResponse {
            binding_version: version,
        }
        .encode_to_vec())
    }
}

/// `/virtengine.identity.v1.MsgUpdateConsentSettings`: the wallet's global settings.
pub struct UpdateConsentSettingsHandler;

impl MsgHandler for UpdateConsentSettingsHandler {
    type Msg = MsgUpdateConsentSettings;
    fn type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgUpdateConsentSettings"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgUpdateConsentSettingsResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_account(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_account(&msg.sender).map(|_| ())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_account(&msg.sender)?;
        let mut w = active_wallet(ctx, &sender)?;
        let t = now(ctx)?;
        let mut c = w.consent_settings.unwrap_or_default();
        c.share_with_providers = msg.share_with_providers;
        c.share_for_verification = msg.share_for_verification;
        c.allow_re_verification = msg.allow_re_verification;
        c.allow_derived_feature_sharing = msg.allow_derived_feature_sharing;
        w.consent_settings = Some(c);
        let version = bump_consent_version(&mut w, t)?;
        state::set_wallet(ctx, &sender, &w)?;
        ctx.emit(events::consent_settings_updated(
            &w.account,
            &w.consent_settings.unwrap_or_default(),
        ));
        ctx.emit(message_event(&sender));
        Ok(MsgUpdateConsentSettingsResponse {
            consent_version: version,
        }
        .encode_to_vec())
    }
}

/// Longest consent purpose, bytes.
pub const MAX_PURPOSE: usize = 256;

/// `/virtengine.identity.v1.MsgGrantScopeConsent`: consent for one live scope of the
/// sender (needs a wallet). Biometric scopes cannot be verified without one.
pub struct GrantScopeConsentHandler;

impl MsgHandler for GrantScopeConsentHandler {
    type Msg = MsgGrantScopeConsent;
    fn type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgGrantScopeConsent"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgGrantScopeConsentResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_account(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_account(&msg.sender)?;
        check_scope_id(&msg.scope_id)?;
        check_len("purpose", msg.purpose.len(), 0, MAX_PURPOSE)?;
        if msg.expires_at < 0 {
            return Err(IdentityError::InvalidField {
                field: "expires_at",
                reason: "negative".into(),
            }
            .into());
        }
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_account(&msg.sender)?;
        let mut w = active_wallet(ctx, &sender)?;
        let s = state::scope(ctx, &sender, &msg.scope_id)?
            .ok_or_else(|| IdentityError::ScopeNotFound(msg.scope_id.clone()))?;
        if s.revoked {
            return Err(IdentityError::ScopeRevoked(msg.scope_id.clone()).into());
        }
        let t = now(ctx)?;
        if msg.expires_at != 0 && msg.expires_at <= t {
            return Err(IdentityError::InvalidField {
                field: "expires_at",
                reason: format!("{} is not after the current block time {t}", msg.expires_at),
            }
            .into());
        }
        let c = ScopeConsent {
            scope_id: msg.scope_id.clone(),
            granted: true,
            granted_at: t,
            revoked_at: 0,
            expires_at: msg.expires_at,
            purpose: msg.purpose.clone(),
        };
        state::set_consent(ctx, &sender, &c)?;
        let version = bump_consent_version(&mut w, t)?;
        state::set_wallet(ctx, &sender, &w)?;
        ctx.emit(events::consent_granted(&w.account, &c, version));
        ctx.emit(message_event(&sender));
        Ok(MsgGrantScopeConsentResponse {
            consent_version: version,
        }
        .encode_to_vec())
    }
}

/// `/virtengine.identity.v1.MsgRevokeScopeConsent`: withdraws consent; a scope waiting in
/// a verification request goes back to PENDING (the request no longer uses it).
pub struct RevokeScopeConsentHandler;

impl MsgHandler for RevokeScopeConsentHandler {
    type Msg = MsgRevokeScopeConsent;
    fn type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgRevokeScopeConsent"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgRevokeScopeConsentResponse"
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
        let mut w = active_wallet(ctx, &sender)?;
        let mut c = state::consent(ctx, &sender, &msg.scope_id)?
            .filter(|c| c.granted)
            .ok_or_else(|| {
                IdentityError::InvalidRequest(format!(
                    "no granted consent for scope {}",
                    msg.scope_id
                ))
            })?;
        let t = now(ctx)?;
        c.granted = false;
        c.revoked_at = t;
        state::set_consent(ctx, &sender, &c)?;
        if let Some(s) = state::scope(ctx, &sender, &msg.scope_id)? {
            if !s.revoked && s.status == VerificationStatus::InProgress as i32 {
                crate::keeper::transition_scope(
                    ctx,
                    &sender,
                    &msg.scope_id,
                    VerificationStatus::Pending,
                    "consent withdrawn",
                )?;
            }
        }
        let version = bump_consent_version(&mut w, t)?;
        state::set_wallet(ctx, &sender, &w)?;
        ctx.emit(events::consent_revoked(
            &w.account,
            &msg.scope_id,
            &msg.reason,
            version,
        ));
        ctx.emit(message_event(&sender));
        Ok(MsgRevokeScopeConsentResponse {
            consent_version: version,
        }
        .encode_to_vec())
    }
}

/// The MFA action `MsgCompleteBorderlineFallback` requires: its own action, whose default
/// config has no VEID minimum (the score is what is borderline) and asks for one second
/// factor, single-use (docs/veid.md §10).
pub const FALLBACK_MFA_ACTION: SensitiveAction = SensitiveAction::BorderlineFallback;

/// `/virtengine.identity.v1.MsgCompleteBorderlineFallback`: completes the sender's open
/// borderline fallback once an MFA session for [`FALLBACK_MFA_ACTION`] is presented.
pub struct CompleteBorderlineFallbackHandler {
    pub mfa: Arc<dyn MfaGate>,
}

impl MsgHandler for CompleteBorderlineFallbackHandler {
    type Msg = MsgCompleteBorderlineFallback;
    fn type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgCompleteBorderlineFallback"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgCompleteBorderlineFallbackResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_account(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_account(&msg.sender).map(|_| ())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_account(&msg.sender)?;
        if state::fallback(ctx, &sender)?.is_none_or(|f| f.status != FallbackStatus::Pending as i32)
        {
            return Err(IdentityError::NoOpenFallback(sender.to_string()).into());
        }
        self.mfa.require_mfa(ctx, &sender, FALLBACK_MFA_ACTION, 0)?;
        let rec = crate::keeper::complete_borderline_fallback(ctx, &sender)?;
        let tier =
            crate::types::tier_of_record(rec.score, AccountStatus::Verified, rec.additional_factor);
        ctx.emit(message_event(&sender));
        Ok(MsgCompleteBorderlineFallbackResponse {
            score: rec.score,
            tier: tier as i32,
        }
        .encode_to_vec())
    }
}

/// Most evidence hashes per appeal.
pub const MAX_EVIDENCE: usize = 10;

/// `/virtengine.identity.v1.MsgSubmitAppeal`: within `appeal_window_blocks` of the
/// rejection recorded in the score record; one open appeal per account.
pub struct SubmitAppealHandler;

impl MsgHandler for SubmitAppealHandler {
    type Msg = MsgSubmitAppeal;
    fn type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgSubmitAppeal"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgSubmitAppealResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_account(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_account(&msg.sender)?;
        let max = usize::try_from(crate::params::HARD_MAX_APPEAL_REASON).unwrap_or(2000);
        check_len("reason", msg.reason.len(), 1, max)?;
        check_len(
            "evidence_hashes",
            msg.evidence_hashes.len(),
            0,
            MAX_EVIDENCE,
        )?;
        for h in &msg.evidence_hashes {
            check_len("evidence_hashes[]", h.len(), 32, 32)?;
        }
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_account(&msg.sender)?;
        let params = state::params(ctx)?;
        let min = usize::try_from(params.min_appeal_reason_length).unwrap_or(usize::MAX);
        let max = usize::try_from(crate::params::HARD_MAX_APPEAL_REASON).unwrap_or(2000);
        check_len("reason", msg.reason.len(), min, max)?;
        let rec = state::score(ctx, &sender)?
            .filter(|r| r.status == AccountStatus::Rejected as i32)
            .ok_or(IdentityError::NothingToAppeal)?;
        let height = ctx.block().height;
        let closes = rec
            .block_height
            .checked_add(params.appeal_window_blocks)
            .ok_or(IdentityError::Overflow("appeal window"))?;
        if height > closes {
            return Err(IdentityError::AppealWindowClosed(closes).into());
        }
        if let Some(open) = state::open_appeal_id(ctx, &sender)? {
            return Err(IdentityError::AppealOpen(open).into());
        }
        let seq = state::next_appeal_seq(ctx)?;
        let id_hash = ve_crypto::sha256(
            &[
                b"virtengine-veid-appeal-v1".as_slice(),
                sender.as_bytes(),
                &height.to_be_bytes(),
                &seq.to_be_bytes(),
            ]
            .concat(),
        );
        let appeal_id = hex::encode(id_hash.get(..16).unwrap_or_default());
        let a = Appeal {
            appeal_id: appeal_id.clone(),
            account: sender.to_string(),
            reason: msg.reason.clone(),
            evidence_hashes: msg.evidence_hashes.clone(),
            status: AppealStatus::Pending as i32,
            submitted_at: now(ctx)?,
            submitted_height: height,
            original_score: rec.score,
            rejection_height: rec.block_height,
            ..Default::default()
        };
        state::set_appeal(ctx, &sender, &a)?;
        ctx.emit(events::appeal_submitted(&a));
        ctx.emit(message_event(&sender));
        Ok(MsgSubmitAppealResponse { appeal_id }.encode_to_vec())
    }
}

/// `/virtengine.identity.v1.MsgReviewAppeal`: only holders of `Role::Moderator` (through
/// the injected role gate). Approve writes the reviewed outcome — the score record
/// VERIFIED at `clamp(original_score + score_adjustment, 0, 100)`; reject closes it.
pub struct ReviewAppealHandler {
    pub roles: Arc<dyn RoleGate>,
}

fn check_appeal_id(id: &str) -> Result<(), IdentityError> {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(IdentityError::InvalidField {
            field: "appeal_id",
            reason: "must be 32 hex characters".into(),
        });
    }
    Ok(())
}

impl MsgHandler for ReviewAppealHandler {
    type Msg = MsgReviewAppeal;
    fn type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgReviewAppeal"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.identity.v1.MsgReviewAppealResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_account(&msg.reviewer)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_account(&msg.reviewer)?;
        check_appeal_id(&msg.appeal_id)?;
        check_len("reason", msg.reason.len(), 0, MAX_REASON)?;
        if !(-100..=100).contains(&msg.score_adjustment)
            || (!msg.approve && msg.score_adjustment != 0)
        {
            return Err(IdentityError::InvalidField {
                field: "score_adjustment",
                reason: "must be -100..=100, and 0 when rejecting".into(),
            }
            .into());
        }
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let reviewer = parse_account(&msg.reviewer)?;
        if !self.roles.has_role(ctx, &reviewer, Role::Moderator)? {
            return Err(IdentityError::NotModerator(reviewer.to_string()).into());
        }
        let mut a = state::appeal(ctx, &msg.appeal_id)?
            .ok_or_else(|| IdentityError::AppealNotFound(msg.appeal_id.clone()))?;
        if a.status != AppealStatus::Pending as i32 {
            return Err(IdentityError::AppealReviewed(msg.appeal_id.clone()).into());
        }
        let account = parse_account(&a.account)?;
        let t = now(ctx)?;
        if msg.approve {
            // The rejection appealed must still be the account's current record.
            let still = state::score(ctx, &account)?.is_some_and(|r| {
                r.status == AccountStatus::Rejected as i32 && r.block_height == a.rejection_height
            });
            if !still {
                return Err(IdentityError::NothingToAppeal.into());
            }
            let adjusted = i64::from(a.original_score)
                .saturating_add(i64::from(msg.score_adjustment))
                .clamp(0, i64::from(crate::types::MAX_SCORE));
            let adjusted = u32::try_from(adjusted).unwrap_or(0);
            crate::keeper::apply_appeal_outcome(ctx, &account, adjusted, &a.appeal_id)?;
            a.status = AppealStatus::Approved as i32;
            a.resulting_score = adjusted;
            a.score_adjustment = msg.score_adjustment;
        } else {
            a.status = AppealStatus::Rejected as i32;
        }
        a.reviewer = reviewer.to_string();
        a.reviewed_at = t;
        a.reviewed_height = ctx.block().height;
        a.review_reason = msg.reason.clone();
        state::set_appeal(ctx, &account, &a)?;
        ctx.emit(events::appeal_reviewed(&a));
        ctx.emit(message_event(&reviewer));
        Ok(MsgReviewAppealResponse {
            status: a.status,
            resulting_score: a.resulting_score,
        }
        .encode_to_vec())
    }
}
