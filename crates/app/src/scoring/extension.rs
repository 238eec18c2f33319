//! Building and verifying one validator's vote extension.

use super::proto::{EnclaveScore, ScoreVoteExtension};
use super::{
    EnclaveDirectory, ScopeInput, ScoreSource, ScoringRequest, MAX_EXTENSION_BYTES,
    MAX_REQUESTS_PER_BLOCK,
};
use prost::Message;
use ve_crypto::attested::score_sign_bytes;
use ve_identity::proto::{RequestStatus, VerificationRequest};
use ve_module::Context;
use ve_types::{Address, AppError};

fn err(msg: impl Into<String>) -> AppError {
    AppError::new("scoring", 2, msg)
}

/// Up to [`MAX_REQUESTS_PER_BLOCK`] queued requests, oldest first, with their scopes.
pub fn pending_requests(ctx: &mut Context<'_>) -> Result<Vec<ScoringRequest>, AppError> {
    let store = ctx;
    let queue = store.prefix(ve_identity::state_key::QUEUE_PREFIX, MAX_REQUESTS_PER_BLOCK)?;
    let mut out = Vec::with_capacity(queue.len());
    for (key, _) in queue {
        let Some(id) = key
            .get(ve_identity::state_key::QUEUE_PREFIX.len().saturating_add(8)..)
            .and_then(|b| std::str::from_utf8(b).ok())
        else {
            continue;
        };
        let Some(r) = ve_identity::state::request(store, id)? else {
            continue;
        };
        let Ok(account) = r.account.parse::<Address>() else {
            continue;
        };
        let mut scopes = Vec::with_capacity(r.scope_ids.len());
        for sid in &r.scope_ids {
            if let Some(s) = ve_identity::state::scope(store, &account, sid)? {
                scopes.push(ScopeInput {
                    scope_id: s.scope_id,
                    scope_type: s.scope_type,
                    envelope: s.encrypted_payload,
                });
            }
        }
        out.push(ScoringRequest {
            request_id: r.request_id,
            account: r.account,
            scopes,
            // The request's own time, so every validator's enclave (whenever it
            // scores) judges expiry and age against the same date.
            reference_time: r.requested_at,
        });
    }
    Ok(out)
}

/// ExtendVote: the local enclave's results for `requests`. A request the enclave could
/// not score is left out (logged); an empty extension is valid.
pub fn build(
    source: &dyn ScoreSource,
    chain_id: &str,
    height: u64,
    requests: &[ScoringRequest],
) -> Vec<u8> {
    let mut scores = Vec::new();
    for r in requests.iter().take(MAX_REQUESTS_PER_BLOCK) {
        match source.score(chain_id, height, r) {
            Ok(s) => scores.push(s),
            Err(e) => {
                tracing::warn!(request = %r.request_id, error = %e, "enclave could not score request")
            }
        }
    }
    let ext = ScoreVoteExtension { height, scores };
    let bytes = ext.encode_to_vec();
    if bytes.len() > MAX_EXTENSION_BYTES {
        tracing::warn!(len = bytes.len(), "vote extension too large: sending none");
        return Vec::new();
    }
    bytes
}

fn request_open(r: &VerificationRequest) -> bool {
    r.status == RequestStatus::Pending as i32 || r.status == RequestStatus::InProgress as i32
}

/// Checks one enclave result: the request is open and belongs to the account, the score
/// is in range, and the validator's registered enclave signed exactly these fields.
pub(crate) fn verify_score(
    ctx: &mut Context<'_>,
    dir: &dyn EnclaveDirectory,
    chain_id: &str,
    height: u64,
    validator: &[u8; 20],
    s: &EnclaveScore,
) -> Result<(), AppError> {
    if s.score > 100 {
        return Err(err(format!("score {} is out of range", s.score)));
    }
    let r = ve_identity::state::request(ctx, &s.request_id)?
        .ok_or_else(|| err(format!("unknown request {}", s.request_id)))?;
    if !request_open(&r) || r.account != s.account {
        return Err(err(format!(
            "request {} is not open for {}",
            s.request_id, s.account
        )));
    }
    let enclave = dir
        .enclave_of(ctx, validator)?
        .ok_or_else(|| err("the validator has no active enclave"))?;
    let signing_key = enclave
        .signing_keys
        .iter()
        .find(|k| k.as_slice() == s.enclave_pubkey.as_slice())
        .filter(|_| s.measurement == enclave.measurement)
        .ok_or_else(|| {
            err("result not from the validator's registered enclave (key or measurement)")
        })?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(signing_key)
        .map_err(|_| err("registered enclave key is not an Ed25519 key"))?;
    let sig = ed25519_dalek::Signature::from_slice(&s.signature)
        .map_err(|_| err("enclave signature is not 64 bytes"))?;
    key.verify_strict(&score_sign_bytes(chain_id, height, s), &sig)
        .map_err(|_| err("enclave signature does not verify"))
}

/// VerifyVoteExtension (and the re-check of every extension in a proposal): structure,
/// height, bounds, no request twice, and each result's enclave signature. Never judges a
/// score against other validators' scores.
pub fn verify(
    ctx: &mut Context<'_>,
    dir: &dyn EnclaveDirectory,
    chain_id: &str,
    height: u64,
    validator: &[u8; 20],
    bytes: &[u8],
) -> Result<ScoreVoteExtension, AppError> {
    if bytes.is_empty() {
        return Ok(ScoreVoteExtension {
            height,
            scores: vec![],
        });
    }
    if bytes.len() > MAX_EXTENSION_BYTES {
        return Err(err(format!(
            "vote extension of {} bytes exceeds {MAX_EXTENSION_BYTES}",
            bytes.len()
        )));
    }
    let ext = ScoreVoteExtension::decode(bytes)
        .map_err(|e| err(format!("vote extension does not decode: {e}")))?;
    if ext.height != height {
        return Err(err(format!(
            "vote extension for height {} at height {height}",
            ext.height
        )));
    }
    if ext.scores.len() > MAX_REQUESTS_PER_BLOCK {
        return Err(err("too many results in one vote extension"));
    }
    let mut seen: Vec<&str> = Vec::with_capacity(ext.scores.len());
    for s in &ext.scores {
        if seen.contains(&s.request_id.as_str()) {
            return Err(err(format!("request {} appears twice", s.request_id)));
        }
        seen.push(&s.request_id);
        verify_score(ctx, dir, chain_id, height, validator, s)?;
    }
    Ok(ext)
}
