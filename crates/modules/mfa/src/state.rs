//! Typed access to mfa state. No other code reads or writes `mfa/` keys.

use crate::proto::*;
use crate::{state_key, MfaError, MfaParams};
use prost::Message;
use ve_module::{Context, Store};
use ve_types::{Address, AppError};

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    MfaError::Corrupt(format!("{what}: {e}")).into()
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

fn list<M: Message + Default>(
    store: &mut impl Store,
    prefix: &[u8],
    limit: usize,
    what: &str,
) -> Result<Vec<M>, AppError> {
    store
        .prefix(prefix, limit)?
        .into_iter()
        .map(|(_, v)| M::decode(v.as_slice()).map_err(|e| corrupt(what, e)))
        .collect()
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

pub fn params(store: &mut impl Store) -> Result<MfaParams, AppError> {
    Ok(get::<Params>(store, state_key::PARAMS, "params")?
        .map(|p| MfaParams::from_proto(&p))
        .unwrap_or_default())
}

pub fn set_params(store: &mut impl Store, p: &MfaParams) -> Result<(), AppError> {
    store.put(state_key::PARAMS.to_vec(), p.to_proto().encode_to_vec())
}

/// The next id sequence number (1, 2, ...), recorded as used.
pub fn next_seq(store: &mut impl Store) -> Result<u64, AppError> {
    let next = read_u64(store, state_key::SEQ)?
        .checked_add(1)
        .ok_or(MfaError::Overflow("id sequence"))?;
    store.put(state_key::SEQ.to_vec(), next.to_be_bytes().to_vec())?;
    Ok(next)
}

pub fn last_block_time(store: &mut impl Store) -> Result<i64, AppError> {
    Ok(i64::try_from(read_u64(store, state_key::BLOCK_TIME)?).unwrap_or(0))
}

pub fn set_last_block_time(store: &mut impl Store, t: i64) -> Result<(), AppError> {
    let v = u64::try_from(t).unwrap_or(0);
    store.put(state_key::BLOCK_TIME.to_vec(), v.to_be_bytes().to_vec())
}

/// Block time for a rule: the block's, or in CheckTx the last block's.
pub fn now(ctx: &mut Context<'_>) -> Result<i64, AppError> {
    let t = ctx.block().time_unix;
    if t > 0 {
        Ok(t)
    } else {
        last_block_time(ctx)
    }
}

pub fn factor(
    store: &mut impl Store,
    a: &Address,
    id: &str,
) -> Result<Option<FactorEnrollment>, AppError> {
    get(store, &state_key::factor(a, id), "factor")
}

pub fn set_factor(
    store: &mut impl Store,
    a: &Address,
    f: &FactorEnrollment,
) -> Result<(), AppError> {
    store.put(state_key::factor(a, &f.factor_id), f.encode_to_vec())
}

pub fn delete_factor(store: &mut impl Store, a: &Address, id: &str) -> Result<(), AppError> {
    store.delete(state_key::factor(a, id))
}

/// The account's factors (at most `limit`), by factor id.
pub fn factors(
    store: &mut impl Store,
    a: &Address,
    limit: usize,
) -> Result<Vec<FactorEnrollment>, AppError> {
    list(store, &state_key::factors(a), limit, "factor")
}

pub fn policy(store: &mut impl Store, a: &Address) -> Result<Option<MfaPolicy>, AppError> {
    get(store, &state_key::policy(a), "policy")
}

pub fn set_policy(store: &mut impl Store, a: &Address, p: &MfaPolicy) -> Result<(), AppError> {
    store.put(state_key::policy(a), p.encode_to_vec())
}

pub fn challenge(store: &mut impl Store, id: &str) -> Result<Option<Challenge>, AppError> {
    get(store, &state_key::challenge(id), "challenge")
}

/// Writes a challenge; keeps the open-challenge index in step with its status.
pub fn set_challenge(store: &mut impl Store, a: &Address, c: &Challenge) -> Result<(), AppError> {
    store.put(state_key::challenge(&c.challenge_id), c.encode_to_vec())?;
    if c.status == ChallengeStatus::Verified as i32 || c.status == ChallengeStatus::Expired as i32 {
        store.delete(state_key::open_challenge(a, &c.challenge_id))
    } else {
        store.put(state_key::open_challenge(a, &c.challenge_id), Vec::new())
    }
}

pub fn open_challenge_ids(
    store: &mut impl Store,
    a: &Address,
    limit: usize,
) -> Result<Vec<String>, AppError> {
    let prefix = state_key::open_challenges(a);
    store
        .prefix(&prefix, limit)?
        .into_iter()
        .map(|(k, _)| {
            k.get(prefix.len()..)
                .and_then(|b| std::str::from_utf8(b).ok())
                .map(str::to_string)
                .ok_or_else(|| corrupt("open challenge index", "key"))
        })
        .collect()
}

pub fn session(store: &mut impl Store, id: &str) -> Result<Option<AuthorizationSession>, AppError> {
    get(store, &state_key::session(id), "session")
}

pub fn set_session(
    store: &mut impl Store,
    a: &Address,
    s: &AuthorizationSession,
) -> Result<(), AppError> {
    store.put(state_key::account_session(a, &s.session_id), Vec::new())?;
    store.put(state_key::session(&s.session_id), s.encode_to_vec())
}

pub fn delete_session(store: &mut impl Store, a: &Address, id: &str) -> Result<(), AppError> {
    store.delete(state_key::account_session(a, id))?;
    store.delete(state_key::session(id))
}

pub fn device(
    store: &mut impl Store,
    a: &Address,
    fingerprint: &str,
) -> Result<Option<TrustedDevice>, AppError> {
    get(store, &state_key::device(a, fingerprint), "trusted device")
}

pub fn devices(
    store: &mut impl Store,
    a: &Address,
    limit: usize,
) -> Result<Vec<TrustedDevice>, AppError> {
    list(store, &state_key::devices(a), limit, "trusted device")
}

pub fn set_device(store: &mut impl Store, a: &Address, d: &TrustedDevice) -> Result<(), AppError> {
    store.put(
        state_key::device(a, &d.device_fingerprint),
        d.encode_to_vec(),
    )
}

pub fn delete_device(
    store: &mut impl Store,
    a: &Address,
    fingerprint: &str,
) -> Result<(), AppError> {
    store.delete(state_key::device(a, fingerprint))
}

pub fn config(store: &mut impl Store, tx_type: u32) -> Result<Option<SensitiveTxConfig>, AppError> {
    get(store, &state_key::config(tx_type), "sensitive tx config")
}

pub fn set_config(store: &mut impl Store, c: &SensitiveTxConfig) -> Result<(), AppError> {
    let t = u32::try_from(c.transaction_type).map_err(|_| corrupt("config", "negative type"))?;
    store.put(state_key::config(t), c.encode_to_vec())
}

pub fn configs(store: &mut impl Store) -> Result<Vec<SensitiveTxConfig>, AppError> {
    list(
        store,
        state_key::CONFIG_PREFIX,
        1_000,
        "sensitive tx config",
    )
}
