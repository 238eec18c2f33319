//! Every key the identity module writes. The layout of state is a public API.
//! Addresses are the 20 raw bytes; heights and times are 8-byte big-endian.

use ve_types::Address;

pub const PARAMS: &[u8] = b"identity/params";
/// `identity/time` → i64 BE: block time of the latest block (for queries).
pub const BLOCK_TIME: &[u8] = b"identity/time";
/// `identity/reqseq` → u64 BE: requests ever created (makes request ids unique).
pub const REQUEST_SEQ: &[u8] = b"identity/reqseq";
pub const RECORD_PREFIX: &[u8] = b"identity/record/";
pub const SCOPE_PREFIX: &[u8] = b"identity/scope/";
pub const BY_TYPE_PREFIX: &[u8] = b"identity/bytype/";
pub const PENDING_PREFIX: &[u8] = b"identity/pending/";
pub const SALT_PREFIX: &[u8] = b"identity/salt/";
pub const SCORE_PREFIX: &[u8] = b"identity/score/";
pub const REQUEST_PREFIX: &[u8] = b"identity/req/";
pub const QUEUE_PREFIX: &[u8] = b"identity/queue/";
pub const ACCOUNT_REQUEST_PREFIX: &[u8] = b"identity/acctreq/";
pub const RATE_PREFIX: &[u8] = b"identity/rate/";
pub const SCOPE_EXPIRY_PREFIX: &[u8] = b"identity/sexp/";

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// `identity/record/<addr>` → `IdentityRecord`.
pub fn record(a: &Address) -> Vec<u8> {
    cat(&[RECORD_PREFIX, a.as_bytes()])
}

/// `identity/scope/<addr>` — one account's scopes (all, revoked included).
pub fn scopes(a: &Address) -> Vec<u8> {
    cat(&[SCOPE_PREFIX, a.as_bytes()])
}

/// `identity/scope/<addr><scope_id>` → `IdentityScope`.
pub fn scope(a: &Address, scope_id: &str) -> Vec<u8> {
    cat(&[SCOPE_PREFIX, a.as_bytes(), scope_id.as_bytes()])
}

/// `identity/bytype/<addr><type u32 BE>` — live (not revoked) scopes of one type.
pub fn by_type(a: &Address, scope_type: i32) -> Vec<u8> {
    let t = u32::try_from(scope_type).unwrap_or(0).to_be_bytes();
    cat(&[BY_TYPE_PREFIX, a.as_bytes(), &t])
}

/// `identity/bytype/<addr><type u32 BE><scope_id>` → empty.
pub fn by_type_entry(a: &Address, scope_type: i32, scope_id: &str) -> Vec<u8> {
    cat(&[&by_type(a, scope_type), scope_id.as_bytes()])
}

/// `identity/pending/<addr>` — scopes in PENDING status (not revoked).
pub fn pending(a: &Address) -> Vec<u8> {
    cat(&[PENDING_PREFIX, a.as_bytes()])
}

/// `identity/pending/<addr><scope_id>` → empty.
pub fn pending_entry(a: &Address, scope_id: &str) -> Vec<u8> {
    cat(&[PENDING_PREFIX, a.as_bytes(), scope_id.as_bytes()])
}

/// `identity/salt/<SHA-256(salt)>` → `<addr><height u64 BE>`: the salt registry. An entry
/// is never deleted (a salt is usable once ever); growth is bounded by the upload limits
/// and paid for by upload gas.
pub fn salt(salt_hash: &[u8; 32]) -> Vec<u8> {
    cat(&[SALT_PREFIX, salt_hash])
}

/// `identity/score/<addr>` → `ScoreRecord`.
pub fn score(a: &Address) -> Vec<u8> {
    cat(&[SCORE_PREFIX, a.as_bytes()])
}

/// `identity/req/<request_id>` → `VerificationRequest`.
pub fn request(request_id: &str) -> Vec<u8> {
    cat(&[REQUEST_PREFIX, request_id.as_bytes()])
}

/// `identity/queue/<requested_block u64 BE><request_id>` → empty: requests waiting for
/// the scoring consensus, oldest first.
pub fn queue_entry(block: u64, request_id: &str) -> Vec<u8> {
    cat(&[QUEUE_PREFIX, &block.to_be_bytes(), request_id.as_bytes()])
}

/// `identity/acctreq/<addr>` — one account's requests (every status).
pub fn account_requests(a: &Address) -> Vec<u8> {
    cat(&[ACCOUNT_REQUEST_PREFIX, a.as_bytes()])
}

/// `identity/acctreq/<addr><request_id>` → empty.
pub fn account_request(a: &Address, request_id: &str) -> Vec<u8> {
    cat(&[ACCOUNT_REQUEST_PREFIX, a.as_bytes(), request_id.as_bytes()])
}

/// `identity/rate/<height u64 BE>` — one block's counters; deleted by that block's end-block.
pub fn rate_height(height: u64) -> Vec<u8> {
    cat(&[RATE_PREFIX, &height.to_be_bytes()])
}

/// `identity/rate/<height>t` → u32 BE: uploads in the block.
pub fn rate_total(height: u64) -> Vec<u8> {
    cat(&[&rate_height(height), b"t"])
}

/// `identity/rate/<height>u<addr>` → u32 BE: the account's uploads in the block.
pub fn rate_uploads(height: u64, a: &Address) -> Vec<u8> {
    cat(&[&rate_height(height), b"u", a.as_bytes()])
}

/// `identity/rate/<height>r<addr>` → u32 BE: the account's verification requests in the block.
pub fn rate_requests(height: u64, a: &Address) -> Vec<u8> {
    cat(&[&rate_height(height), b"r", a.as_bytes()])
}

/// `identity/sexp/<expires_at u64 BE>` — verified scopes by expiry time (times are positive).
pub fn scope_expiry_time(expires_at: i64) -> Vec<u8> {
    let t = u64::try_from(expires_at).unwrap_or(0);
    cat(&[SCOPE_EXPIRY_PREFIX, &t.to_be_bytes()])
}

/// `identity/sexp/<expires_at u64 BE><addr><scope_id>` → empty.
pub fn scope_expiry(expires_at: i64, a: &Address, scope_id: &str) -> Vec<u8> {
    cat(&[
        &scope_expiry_time(expires_at),
        a.as_bytes(),
        scope_id.as_bytes(),
    ])
}

pub const EXPIRED_PREFIX: &[u8] = b"identity/expired/";
pub const SCORE_EXPIRY_PREFIX: &[u8] = b"identity/scexp/";
pub const WALLET_PREFIX: &[u8] = b"identity/wallet/";
pub const WALLET_REF_PREFIX: &[u8] = b"identity/wref/";
pub const CONSENT_PREFIX: &[u8] = b"identity/consent/";
pub const HISTORY_PREFIX: &[u8] = b"identity/hist/";
pub const HISTORY_SEQ_PREFIX: &[u8] = b"identity/histseq/";
pub const FALLBACK_PREFIX: &[u8] = b"identity/fallback/";
pub const FALLBACK_QUEUE_PREFIX: &[u8] = b"identity/fbq/";
/// `identity/appealseq` → u64 BE: appeals ever submitted (makes appeal ids unique).
pub const APPEAL_SEQ: &[u8] = b"identity/appealseq";
pub const APPEAL_PREFIX: &[u8] = b"identity/appeal/";
pub const ACCOUNT_APPEAL_PREFIX: &[u8] = b"identity/acctappeal/";
pub const OPEN_APPEAL_PREFIX: &[u8] = b"identity/openappeal/";
pub const APPEAL_QUEUE_PREFIX: &[u8] = b"identity/appealq/";

/// `identity/expired/<addr>` — scopes in EXPIRED status (not revoked): re-verifiable.
pub fn expired(a: &Address) -> Vec<u8> {
    cat(&[EXPIRED_PREFIX, a.as_bytes()])
}

/// `identity/expired/<addr><scope_id>` → empty.
pub fn expired_entry(a: &Address, scope_id: &str) -> Vec<u8> {
    cat(&[EXPIRED_PREFIX, a.as_bytes(), scope_id.as_bytes()])
}

/// `identity/scexp/<expires_at u64 BE>` — VERIFIED score records by expiry time.
pub fn score_expiry_time(expires_at: i64) -> Vec<u8> {
    let t = u64::try_from(expires_at).unwrap_or(0);
    cat(&[SCORE_EXPIRY_PREFIX, &t.to_be_bytes()])
}

/// `identity/scexp/<expires_at u64 BE><addr>` → empty.
pub fn score_expiry(expires_at: i64, a: &Address) -> Vec<u8> {
    cat(&[&score_expiry_time(expires_at), a.as_bytes()])
}

/// `identity/wallet/<addr>` → `IdentityWallet`.
pub fn wallet(a: &Address) -> Vec<u8> {
    cat(&[WALLET_PREFIX, a.as_bytes()])
}

/// `identity/wref/<addr>` — the wallet's scope references.
pub fn wallet_refs(a: &Address) -> Vec<u8> {
    cat(&[WALLET_REF_PREFIX, a.as_bytes()])
}

/// `identity/wref/<addr><scope_id>` → `ScopeReference`.
pub fn wallet_ref(a: &Address, scope_id: &str) -> Vec<u8> {
    cat(&[WALLET_REF_PREFIX, a.as_bytes(), scope_id.as_bytes()])
}

/// `identity/consent/<addr>` — per-scope consents.
pub fn consents(a: &Address) -> Vec<u8> {
    cat(&[CONSENT_PREFIX, a.as_bytes()])
}

/// `identity/consent/<addr><scope_id>` → `ScopeConsent`.
pub fn consent(a: &Address, scope_id: &str) -> Vec<u8> {
    cat(&[CONSENT_PREFIX, a.as_bytes(), scope_id.as_bytes()])
}

/// `identity/hist/<addr>` — the account's verification history.
pub fn history(a: &Address) -> Vec<u8> {
    cat(&[HISTORY_PREFIX, a.as_bytes()])
}

/// `identity/hist/<addr><sequence u64 BE>` → `VerificationHistoryEntry`.
pub fn history_entry(a: &Address, seq: u64) -> Vec<u8> {
    cat(&[HISTORY_PREFIX, a.as_bytes(), &seq.to_be_bytes()])
}

/// `identity/histseq/<addr>` → u64 BE: history entries ever appended.
pub fn history_seq(a: &Address) -> Vec<u8> {
    cat(&[HISTORY_SEQ_PREFIX, a.as_bytes()])
}

/// `identity/fallback/<addr>` → `BorderlineFallback` (the latest, any status).
pub fn fallback(a: &Address) -> Vec<u8> {
    cat(&[FALLBACK_PREFIX, a.as_bytes()])
}

/// `identity/fbq/<deadline_height u64 BE>` — open fallbacks by deadline.
pub fn fallback_queue_height(h: u64) -> Vec<u8> {
    cat(&[FALLBACK_QUEUE_PREFIX, &h.to_be_bytes()])
}

/// `identity/fbq/<deadline_height u64 BE><addr>` → empty.
pub fn fallback_queue(h: u64, a: &Address) -> Vec<u8> {
    cat(&[&fallback_queue_height(h), a.as_bytes()])
}

/// `identity/appeal/<appeal_id>` → `Appeal`.
pub fn appeal(id: &str) -> Vec<u8> {
    cat(&[APPEAL_PREFIX, id.as_bytes()])
}

/// `identity/acctappeal/<addr>` — one account's appeals.
pub fn account_appeals(a: &Address) -> Vec<u8> {
    cat(&[ACCOUNT_APPEAL_PREFIX, a.as_bytes()])
}

/// `identity/acctappeal/<addr><appeal_id>` → empty.
pub fn account_appeal(a: &Address, id: &str) -> Vec<u8> {
    cat(&[ACCOUNT_APPEAL_PREFIX, a.as_bytes(), id.as_bytes()])
}

/// `identity/openappeal/<addr>` → appeal id of the account's open appeal.
pub fn open_appeal(a: &Address) -> Vec<u8> {
    cat(&[OPEN_APPEAL_PREFIX, a.as_bytes()])
}

/// `identity/appealq/<submitted_height u64 BE><appeal_id>` → empty: open appeals.
pub fn appeal_queue(h: u64, id: &str) -> Vec<u8> {
    cat(&[APPEAL_QUEUE_PREFIX, &h.to_be_bytes(), id.as_bytes()])
}
