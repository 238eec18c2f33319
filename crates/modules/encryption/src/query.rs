//! `virtengine.encryption.v1.Query`, one function per method.

use crate::msg_server::parse_addr;
use crate::proto::*;
use crate::{state, state_key, validate, EncryptionError};
use prost::Message;
use ve_module::{paginate, QueryContext};
use ve_types::{AppError, ErrorCode};

pub const KEYS_BY_ACCOUNT: &str = "/virtengine.encryption.v1.Query/KeysByAccount";
pub const KEY_BY_FINGERPRINT: &str = "/virtengine.encryption.v1.Query/KeyByFingerprint";
pub const PARAMS: &str = "/virtengine.encryption.v1.Query/Params";
pub const VALIDATE_ENVELOPE: &str = "/virtengine.encryption.v1.Query/ValidateEnvelope";

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, AppError> {
    M::decode(data).map_err(|e| EncryptionError::InvalidRequest(e.to_string()).into())
}

/// Routes a query path owned by encryption; `None` if the path is not ours.
pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        KEYS_BY_ACCOUNT => keys_by_account(ctx, data),
        KEY_BY_FINGERPRINT => key_by_fingerprint(ctx, data),
        PARAMS => params(ctx),
        VALIDATE_ENVELOPE => validate_envelope(ctx, data),
        _ => return None,
    })
}

pub fn keys_by_account(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryKeysByAccountRequest = decode(data)?;
    let addr = parse_addr(&req.address)?;
    let prefix = state_key::account_keys(&addr);
    let (entries, pagination) = paginate(ctx, &prefix, req.pagination.as_ref())?;
    let mut store = ctx.store();
    let mut keys = Vec::with_capacity(entries.len());
    for (k, _) in entries {
        let fp = k
            .get(prefix.len()..)
            .and_then(|b| std::str::from_utf8(b).ok())
            .ok_or_else(|| EncryptionError::Corrupt("account index key".into()))?;
        let r = state::key(&mut store, fp)?
            .ok_or_else(|| EncryptionError::Corrupt(format!("index points at missing key {fp}")))?;
        keys.push(r);
    }
    Ok(QueryKeysByAccountResponse {
        keys,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

pub fn key_by_fingerprint(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryKeyByFingerprintRequest = decode(data)?;
    let r = state::key(&mut ctx.store(), &req.fingerprint)?
        .ok_or_else(|| EncryptionError::KeyNotFound(req.fingerprint.chars().take(64).collect()))?;
    Ok(QueryKeyByFingerprintResponse {
        usable: state::usable_at(&r, ctx.height),
        key: Some(r),
    }
    .encode_to_vec())
}

pub fn params(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    Ok(QueryParamsResponse {
        params: Some(state::params(&mut ctx.store())?.to_proto()),
    }
    .encode_to_vec())
}

/// Reports instead of failing: an invalid envelope is a normal answer here.
pub fn validate_envelope(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryValidateEnvelopeRequest = decode(data)?;
    let mut resp = QueryValidateEnvelopeResponse {
        envelope_hash: hex::encode(ve_crypto::sha256(&req.envelope)),
        ..Default::default()
    };
    match validate::report(&mut ctx.store(), &req.envelope, ctx.height) {
        Ok((parsed, missing)) => {
            resp.recipient_count = u32::try_from(parsed.recipients().len()).unwrap_or(u32::MAX);
            resp.algorithm_id = parsed.algorithm.id.to_string();
            resp.signed = parsed.sender.is_some();
            resp.valid = missing.is_empty();
            if let Some(first) = missing.first() {
                resp.error = format!("recipient key {first} is not registered or not usable");
                resp.code = EncryptionError::RecipientNotRegistered(String::new()).code();
            }
            resp.missing_keys = missing;
        }
        Err(EncryptionError::Store(e)) => return Err(e),
        Err(e) => {
            resp.code = e.code();
            resp.error = e.to_string();
        }
    }
    Ok(resp.encode_to_vec())
}
