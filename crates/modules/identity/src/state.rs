//! Typed access to identity state. No other code reads or writes `identity/` keys.

use crate::proto::*;
use crate::types::SCOPE_VERSION;
use crate::{state_key, IdentityError, IdentityParams};
use prost::Message;
use ve_module::Store;
use ve_types::{Address, AppError};

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    IdentityError::Corrupt(format!("{what}: {e}")).into()
}

fn get<M: Message + Default>(
    store: &mut impl Store,
    key: &[u8],
    what: &str,
) -> Result<Option<M>, AppError> {
    match store.get(key)? {
        Some(b) => Ok(Some(M::decode(b.as_slice()).map_err(|e| corrupt(what, e))?)),
        None => Ok(None),
    }
}

pub fn params(store: &mut impl Store) -> Result<IdentityParams, AppError> {
    Ok(get::<Params>(store, state_key::PARAMS, "params")?
        .map(|p| IdentityParams::from_proto(&p))
        .unwrap_or_default())
}

pub fn set_params(store: &mut impl Store, p: &IdentityParams) -> Result<(), AppError> {
    store.put(state_key::PARAMS.to_vec(), p.to_proto().encode_to_vec())
}

fn read_u64(store: &mut impl Store, key: &[u8]) -> Result<u64, AppError> {
    match store.get(key)? {
        Some(b) => {
            let arr: [u8; 8] = b
                .as_slice()
                .try_into()
                .map_err(|_| corrupt("u64", "width"))?;
            Ok(u64::from_be_bytes(arr))
        }
        None => Ok(0),
    }
}

fn read_u32(store: &mut impl Store, key: &[u8]) -> Result<u32, AppError> {
    match store.get(key)? {
        Some(b) => {
            let arr: [u8; 4] = b
                .as_slice()
                .try_into()
                .map_err(|_| corrupt("u32", "width"))?;
            Ok(u32::from_be_bytes(arr))
        }
        None => Ok(0),
    }
}

/// Block time of the latest block, for reads outside a transaction (queries, CheckTx).
pub fn last_block_time(store: &mut impl Store) -> Result<i64, AppError> {
    Ok(i64::try_from(read_u64(store, state_key::BLOCK_TIME)?).unwrap_or(0))
}

pub fn set_last_block_time(store: &mut impl Store, t: i64) -> Result<(), AppError> {
    let v = u64::try_from(t).unwrap_or(0);
    store.put(state_key::BLOCK_TIME.to_vec(), v.to_be_bytes().to_vec())
}

pub fn record(store: &mut impl Store, a: &Address) -> Result<Option<IdentityRecord>, AppError> {
    get(store, &state_key::record(a), "identity record")
}

pub fn set_record(store: &mut impl Store, a: &Address, r: &IdentityRecord) -> Result<(), AppError> {
    store.put(state_key::record(a), r.encode_to_vec())
}

pub fn scope(
    store: &mut impl Store,
    a: &Address,
    scope_id: &str,
) -> Result<Option<IdentityScope>, AppError> {
    get(store, &state_key::scope(a, scope_id), "scope")
}

fn is_pending(s: &IdentityScope) -> bool {
    !s.revoked && s.status == VerificationStatus::Pending as i32
}

fn is_expired(s: &IdentityScope) -> bool {
    !s.revoked && s.status == VerificationStatus::Expired as i32
}

/// Writes a scope and keeps the by-type, pending and expiry indexes in step with it.
/// `old` is the stored version (None for a new scope).
pub fn set_scope(
    store: &mut impl Store,
    a: &Address,
    s: &IdentityScope,
    old: Option<&IdentityScope>,
) -> Result<(), AppError> {
    let live_before = old.is_some_and(|o| !o.revoked);
    if live_before && s.revoked {
        store.delete(state_key::by_type_entry(a, s.scope_type, &s.scope_id))?;
    } else if !live_before && !s.revoked {
        store.put(
            state_key::by_type_entry(a, s.scope_type, &s.scope_id),
            Vec::new(),
        )?;
    }
    let pending_before = old.is_some_and(is_pending);
    if pending_before && !is_pending(s) {
        store.delete(state_key::pending_entry(a, &s.scope_id))?;
    } else if !pending_before && is_pending(s) {
        store.put(state_key::pending_entry(a, &s.scope_id), Vec::new())?;
    }
    let expired_before = old.is_some_and(is_expired);
    if expired_before && !is_expired(s) {
        store.delete(state_key::expired_entry(a, &s.scope_id))?;
    } else if !expired_before && is_expired(s) {
        store.put(state_key::expired_entry(a, &s.scope_id), Vec::new())?;
    }
    let expiry_of = |x: &IdentityScope| {
        (!x.revoked && x.status == VerificationStatus::Verified as i32 && x.expires_at > 0)
            .then_some(x.expires_at)
    };
    let (before, after) = (old.and_then(expiry_of), expiry_of(s));
    if before != after {
        if let Some(t) = before {
            store.delete(state_key::scope_expiry(t, a, &s.scope_id))?;
        }
        if let Some(t) = after {
            store.put(state_key::scope_expiry(t, a, &s.scope_id), Vec::new())?;
        }
    }
    store.put(state_key::scope(a, &s.scope_id), s.encode_to_vec())
}

/// Live scopes of one type, up to `limit`.
pub fn live_scope_ids_of_type(
    store: &mut impl Store,
    a: &Address,
    scope_type: i32,
    limit: usize,
) -> Result<Vec<String>, AppError> {
    let prefix = state_key::by_type(a, scope_type);
    let entries = store.prefix(&prefix, limit)?;
    entries
        .into_iter()
        .map(|(k, _)| {
            k.get(prefix.len()..)
                .and_then(|b| std::str::from_utf8(b).ok())
                .map(str::to_string)
                .ok_or_else(|| corrupt("by-type index", "key"))
        })
        .collect()
}

/// The account's PENDING scopes, up to `limit`, by scope id.
pub fn pending_scope_ids(
    store: &mut impl Store,
    a: &Address,
    limit: usize,
) -> Result<Vec<String>, AppError> {
    ids_under(store, &state_key::pending(a), limit)
}

/// The account's EXPIRED (re-verifiable) scopes, up to `limit`, by scope id.
pub fn expired_scope_ids(
    store: &mut impl Store,
    a: &Address,
    limit: usize,
) -> Result<Vec<String>, AppError> {
    ids_under(store, &state_key::expired(a), limit)
}

fn ids_under(store: &mut impl Store, prefix: &[u8], limit: usize) -> Result<Vec<String>, AppError> {
    let prefix = prefix.to_vec();
    let entries = store.prefix(&prefix, limit)?;
    entries
        .into_iter()
        .map(|(k, _)| {
            k.get(prefix.len()..)
                .and_then(|b| std::str::from_utf8(b).ok())
                .map(str::to_string)
                .ok_or_else(|| corrupt("pending index", "key"))
        })
        .collect()
}

pub fn salt_used(store: &mut impl Store, salt_hash: &[u8; 32]) -> Result<bool, AppError> {
    Ok(store.get(&state_key::salt(salt_hash))?.is_some())
}

pub fn mark_salt_used(
    store: &mut impl Store,
    salt_hash: &[u8; 32],
    a: &Address,
    height: u64,
) -> Result<(), AppError> {
    store.put(
        state_key::salt(salt_hash),
        [a.as_bytes().as_slice(), &height.to_be_bytes()].concat(),
    )
}

pub fn score(store: &mut impl Store, a: &Address) -> Result<Option<ScoreRecord>, AppError> {
    get(store, &state_key::score(a), "score record")
}

/// Writes the score record and keeps the score-expiry index (VERIFIED records with an
/// expiry) in step with it.
pub fn set_score(store: &mut impl Store, a: &Address, r: &ScoreRecord) -> Result<(), AppError> {
    let expiry_of = |x: &ScoreRecord| {
        (x.status == AccountStatus::Verified as i32 && x.expires_at > 0).then_some(x.expires_at)
    };
    let before = score(store, a)?.as_ref().and_then(expiry_of);
    let after = expiry_of(r);
    if before != after {
        if let Some(t) = before {
            store.delete(state_key::score_expiry(t, a))?;
        }
        if let Some(t) = after {
            store.put(state_key::score_expiry(t, a), Vec::new())?;
        }
    }
    store.put(state_key::score(a), r.encode_to_vec())
}

pub fn request(store: &mut impl Store, id: &str) -> Result<Option<VerificationRequest>, AppError> {
    get(store, &state_key::request(id), "verification request")
}

pub fn set_request(store: &mut impl Store, r: &VerificationRequest) -> Result<(), AppError> {
    store.put(state_key::request(&r.request_id), r.encode_to_vec())
}

/// The next request sequence number (1, 2, ...), recorded as used.
pub fn next_request_seq(store: &mut impl Store) -> Result<u64, AppError> {
    let next = read_u64(store, state_key::REQUEST_SEQ)?
        .checked_add(1)
        .ok_or(IdentityError::Overflow("request sequence"))?;
    store.put(state_key::REQUEST_SEQ.to_vec(), next.to_be_bytes().to_vec())?;
    Ok(next)
}

/// Adds one to a per-block counter and returns the new value.
pub fn bump_counter(store: &mut impl Store, key: Vec<u8>) -> Result<u32, AppError> {
    let next = read_u32(store, &key)?
        .checked_add(1)
        .ok_or(IdentityError::Overflow("rate counter"))?;
    store.put(key, next.to_be_bytes().to_vec())?;
    Ok(next)
}

pub fn counter(store: &mut impl Store, key: &[u8]) -> Result<u32, AppError> {
    read_u32(store, key)
}

/// A fresh scope record as an upload creates it.
pub fn new_scope_version() -> u32 {
    SCOPE_VERSION
}

fn next_seq(store: &mut impl Store, key: &[u8], what: &'static str) -> Result<u64, AppError> {
    let next = read_u64(store, key)?
        .checked_add(1)
        .ok_or(IdentityError::Overflow(what))?;
    store.put(key.to_vec(), next.to_be_bytes().to_vec())?;
    Ok(next)
}

pub fn wallet(store: &mut impl Store, a: &Address) -> Result<Option<IdentityWallet>, AppError> {
    get(store, &state_key::wallet(a), "identity wallet")
}

pub fn set_wallet(store: &mut impl Store, a: &Address, w: &IdentityWallet) -> Result<(), AppError> {
    store.put(state_key::wallet(a), w.encode_to_vec())
}

pub fn wallet_ref(
    store: &mut impl Store,
    a: &Address,
    scope_id: &str,
) -> Result<Option<ScopeReference>, AppError> {
    get(
        store,
        &state_key::wallet_ref(a, scope_id),
        "scope reference",
    )
}

pub fn set_wallet_ref(
    store: &mut impl Store,
    a: &Address,
    r: &ScopeReference,
) -> Result<(), AppError> {
    store.put(state_key::wallet_ref(a, &r.scope_id), r.encode_to_vec())
}

pub fn consent(
    store: &mut impl Store,
    a: &Address,
    scope_id: &str,
) -> Result<Option<ScopeConsent>, AppError> {
    get(store, &state_key::consent(a, scope_id), "scope consent")
}

pub fn set_consent(store: &mut impl Store, a: &Address, c: &ScopeConsent) -> Result<(), AppError> {
    store.put(state_key::consent(a, &c.scope_id), c.encode_to_vec())
}

/// Appends a history entry (its sequence is assigned here) and drops the entry that falls
/// out of the kept window of `keep` entries. Returns the sequence.
pub fn append_history(
    store: &mut impl Store,
    a: &Address,
    mut e: VerificationHistoryEntry,
    keep: u32,
) -> Result<u64, AppError> {
    let seq = next_seq(store, &state_key::history_seq(a), "history sequence")?;
    e.sequence = seq;
    store.put(state_key::history_entry(a, seq), e.encode_to_vec())?;
    if let Some(old) = seq.checked_sub(u64::from(keep)) {
        if old > 0 {
            store.delete(state_key::history_entry(a, old))?;
        }
    }
    Ok(seq)
}

pub fn fallback(
    store: &mut impl Store,
    a: &Address,
) -> Result<Option<BorderlineFallback>, AppError> {
    get(store, &state_key::fallback(a), "borderline fallback")
}

/// Writes the fallback and keeps the deadline queue (PENDING fallbacks only) in step.
pub fn set_fallback(
    store: &mut impl Store,
    a: &Address,
    f: &BorderlineFallback,
) -> Result<(), AppError> {
    let open = |x: &BorderlineFallback| {
        (x.status == FallbackStatus::Pending as i32).then_some(x.deadline_height)
    };
    let before = fallback(store, a)?.as_ref().and_then(open);
    let after = open(f);
    if before != after {
        if let Some(h) = before {
            store.delete(state_key::fallback_queue(h, a))?;
        }
        if let Some(h) = after {
            store.put(state_key::fallback_queue(h, a), Vec::new())?;
        }
    }
    store.put(state_key::fallback(a), f.encode_to_vec())
}

pub fn appeal(store: &mut impl Store, id: &str) -> Result<Option<Appeal>, AppError> {
    get(store, &state_key::appeal(id), "appeal")
}

pub fn open_appeal_id(store: &mut impl Store, a: &Address) -> Result<Option<String>, AppError> {
    match store.get(&state_key::open_appeal(a))? {
        Some(b) => Ok(Some(
            String::from_utf8(b).map_err(|e| corrupt("open appeal", e))?,
        )),
        None => Ok(None),
    }
}

/// Writes the appeal and keeps the account index, the open marker and the review queue
/// (PENDING appeals) in step.
pub fn set_appeal(store: &mut impl Store, a: &Address, ap: &Appeal) -> Result<(), AppError> {
    let pending = ap.status == AppealStatus::Pending as i32;
    let q = state_key::appeal_queue(ap.submitted_height, &ap.appeal_id);
    if pending {
        store.put(state_key::open_appeal(a), ap.appeal_id.as_bytes().to_vec())?;
        store.put(q, Vec::new())?;
    } else {
        store.delete(state_key::open_appeal(a))?;
        store.delete(q)?;
    }
    store.put(state_key::account_appeal(a, &ap.appeal_id), Vec::new())?;
    store.put(state_key::appeal(&ap.appeal_id), ap.encode_to_vec())
}

/// The next appeal sequence number (1, 2, ...), recorded as used.
pub fn next_appeal_seq(store: &mut impl Store) -> Result<u64, AppError> {
    next_seq(store, state_key::APPEAL_SEQ, "appeal sequence")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use ve_storage::KvPairs;

    /// An in-memory store: enough to check the index bookkeeping of the typed accessors.
    #[derive(Default)]
    struct Mem(BTreeMap<Vec<u8>, Vec<u8>>);

    impl Store for Mem {
        fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, AppError> {
            Ok(self.0.get(key).cloned())
        }
        fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), AppError> {
            self.0.insert(key, value);
            Ok(())
        }
        fn delete(&mut self, key: Vec<u8>) -> Result<(), AppError> {
            self.0.remove(&key);
            Ok(())
        }
        fn prefix(&mut self, prefix: &[u8], limit: usize) -> Result<KvPairs, AppError> {
            Ok(self
                .0
                .range(prefix.to_vec()..)
                .take_while(|(k, _)| k.starts_with(prefix))
                .take(limit)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect())
        }
        fn range(
            &mut self,
            start: &[u8],
            end: Option<&[u8]>,
            limit: usize,
        ) -> Result<KvPairs, AppError> {
            Ok(self
                .0
                .range(start.to_vec()..)
                .take_while(|(k, _)| end.is_none_or(|e| k.as_slice() < e))
                .take(limit)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect())
        }
    }

    fn keys_under(m: &mut Mem, prefix: &[u8]) -> usize {
        m.prefix(prefix, usize::MAX).unwrap().len()
    }

    #[test]
    fn history_keeps_exactly_the_newest_entries() {
        let mut m = Mem::default();
        let a = Address([1; 20]);
        for i in 1..=7u64 {
            let seq = append_history(&mut m, &a, VerificationHistoryEntry::default(), 3).unwrap();
            assert_eq!(seq, i);
        }
        let kept: Vec<u64> = m
            .prefix(&state_key::history(&a), 100)
            .unwrap()
            .into_iter()
            .map(|(_, v)| {
                VerificationHistoryEntry::decode(v.as_slice())
                    .unwrap()
                    .sequence
            })
            .collect();
        assert_eq!(kept, vec![5, 6, 7]);
        // Another account's history is separate.
        let b = Address([2; 20]);
        assert_eq!(
            append_history(&mut m, &b, Default::default(), 3).unwrap(),
            1
        );
    }

    #[test]
    fn fallback_deadline_queue_holds_only_pending_fallbacks() {
        let mut m = Mem::default();
        let a = Address([1; 20]);
        let mut f = BorderlineFallback {
            status: FallbackStatus::Pending as i32,
            deadline_height: 60,
            ..Default::default()
        };
        set_fallback(&mut m, &a, &f).unwrap();
        assert!(m.0.contains_key(&state_key::fallback_queue(60, &a)));
        f.status = FallbackStatus::Completed as i32;
        set_fallback(&mut m, &a, &f).unwrap();
        assert_eq!(keys_under(&mut m, state_key::FALLBACK_QUEUE_PREFIX), 0);
        // A new pending fallback with another deadline is queued under it alone.
        f.status = FallbackStatus::Pending as i32;
        f.deadline_height = 90;
        set_fallback(&mut m, &a, &f).unwrap();
        assert_eq!(keys_under(&mut m, state_key::FALLBACK_QUEUE_PREFIX), 1);
        assert!(m.0.contains_key(&state_key::fallback_queue(90, &a)));
    }

    #[test]
    fn score_expiry_index_follows_verified_records_only() {
        let mut m = Mem::default();
        let a = Address([1; 20]);
        let mut r = ScoreRecord {
            status: AccountStatus::Verified as i32,
            expires_at: 1_000,
            ..Default::default()
        };
        set_score(&mut m, &a, &r).unwrap();
        assert!(m.0.contains_key(&state_key::score_expiry(1_000, &a)));
        r.expires_at = 2_000;
        set_score(&mut m, &a, &r).unwrap();
        assert_eq!(keys_under(&mut m, state_key::SCORE_EXPIRY_PREFIX), 1);
        assert!(m.0.contains_key(&state_key::score_expiry(2_000, &a)));
        r.status = AccountStatus::Rejected as i32;
        set_score(&mut m, &a, &r).unwrap();
        assert_eq!(keys_under(&mut m, state_key::SCORE_EXPIRY_PREFIX), 0);
    }

    #[test]
    fn appeal_indexes_track_the_open_appeal() {
        let mut m = Mem::default();
        let a = Address([1; 20]);
        let mut ap = Appeal {
            appeal_id: "00112233445566778899aabbccddeeff".into(),
            status: AppealStatus::Pending as i32,
            submitted_height: 7,
            ..Default::default()
        };
        set_appeal(&mut m, &a, &ap).unwrap();
        assert_eq!(
            open_appeal_id(&mut m, &a).unwrap().as_deref(),
            Some(ap.appeal_id.as_str())
        );
        assert_eq!(keys_under(&mut m, state_key::APPEAL_QUEUE_PREFIX), 1);
        ap.status = AppealStatus::Rejected as i32;
        set_appeal(&mut m, &a, &ap).unwrap();
        assert_eq!(open_appeal_id(&mut m, &a).unwrap(), None);
        assert_eq!(keys_under(&mut m, state_key::APPEAL_QUEUE_PREFIX), 0);
        assert_eq!(keys_under(&mut m, &state_key::account_appeals(&a)), 1);
    }

    #[test]
    fn pending_and_expired_indexes_follow_scope_status_and_revocation() {
        let mut m = Mem::default();
        let a = Address([1; 20]);
        let s0 = IdentityScope {
            scope_id: "doc-1".into(),
            scope_type: 1,
            status: VerificationStatus::Pending as i32,
            ..Default::default()
        };
        set_scope(&mut m, &a, &s0, None).unwrap();
        assert_eq!(pending_scope_ids(&mut m, &a, 10).unwrap(), vec!["doc-1"]);
        let s1 = IdentityScope {
            status: VerificationStatus::Expired as i32,
            ..s0.clone()
        };
        set_scope(&mut m, &a, &s1, Some(&s0)).unwrap();
        assert!(pending_scope_ids(&mut m, &a, 10).unwrap().is_empty());
        assert_eq!(expired_scope_ids(&mut m, &a, 10).unwrap(), vec!["doc-1"]);
        let s2 = IdentityScope {
            revoked: true,
            ..s1.clone()
        };
        set_scope(&mut m, &a, &s2, Some(&s1)).unwrap();
        assert!(expired_scope_ids(&mut m, &a, 10).unwrap().is_empty());
        assert!(live_scope_ids_of_type(&mut m, &a, 1, 10)
            .unwrap()
            .is_empty());
    }
}
