//! Typed access to encryption state. No other code reads or writes `encryption/` keys.

use crate::proto::{KeyStatus, Params, RecipientKeyRecord};
use crate::{state_key, EncryptionError, EncryptionParams};
use prost::Message;
use ve_module::Store;
use ve_types::{Address, AppError};

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    EncryptionError::Corrupt(format!("{what}: {e}")).into()
}

pub fn params(store: &mut impl Store) -> Result<EncryptionParams, AppError> {
    match store.get(state_key::PARAMS)? {
        Some(b) => Ok(EncryptionParams::from_proto(
            &Params::decode(b.as_slice()).map_err(|e| corrupt("params", e))?,
        )),
        None => Ok(EncryptionParams::default()),
    }
}

pub fn set_params(store: &mut impl Store, p: &EncryptionParams) -> Result<(), AppError> {
    store.put(state_key::PARAMS.to_vec(), p.to_proto().encode_to_vec())
}

pub fn key(
    store: &mut impl Store,
    fingerprint: &str,
) -> Result<Option<RecipientKeyRecord>, AppError> {
    match store.get(&state_key::key(fingerprint))? {
        Some(b) => Ok(Some(
            RecipientKeyRecord::decode(b.as_slice()).map_err(|e| corrupt("key record", e))?,
        )),
        None => Ok(None),
    }
}

/// Writes the record and its account index entry.
pub fn set_key(store: &mut impl Store, r: &RecipientKeyRecord) -> Result<(), AppError> {
    let owner: Address = r
        .address
        .parse()
        .map_err(|e| corrupt("record address", e))?;
    store.put(state_key::key(&r.fingerprint), r.encode_to_vec())?;
    store.put(state_key::account_key(&owner, &r.fingerprint), Vec::new())
}

/// Whether a key may be used for new envelopes at `height`: active, and not past its
/// expiry even if the end-block queue has not reached it yet.
pub fn usable_at(r: &RecipientKeyRecord, height: u64) -> bool {
    r.status == KeyStatus::Active as i32 && (r.expires_at == 0 || height < r.expires_at)
}

/// Human name of a record's state at `height`, for error messages.
pub fn status_name(r: &RecipientKeyRecord, height: u64) -> &'static str {
    match KeyStatus::try_from(r.status) {
        Ok(KeyStatus::Revoked) => "revoked",
        Ok(KeyStatus::Expired) => "expired",
        Ok(KeyStatus::Active) if !usable_at(r, height) => "expired",
        Ok(KeyStatus::Active) => "active",
        _ => "unknown",
    }
}

fn read_u64(store: &mut impl Store, key: &[u8]) -> Result<u64, AppError> {
    match store.get(key)? {
        Some(b) => {
            let arr: [u8; 8] = b
                .as_slice()
                .try_into()
                .map_err(|_| corrupt("counter", "width"))?;
            Ok(u64::from_be_bytes(arr))
        }
        None => Ok(0),
    }
}

/// Keys of `addr` that are neither revoked nor expired.
pub fn live_count(store: &mut impl Store, addr: &Address) -> Result<u64, AppError> {
    read_u64(store, &state_key::live_count(addr))
}

pub fn add_live(store: &mut impl Store, addr: &Address, delta: i8) -> Result<(), AppError> {
    let now = live_count(store, addr)?;
    let next = if delta >= 0 {
        now.checked_add(u64::from(delta.unsigned_abs()))
    } else {
        now.checked_sub(u64::from(delta.unsigned_abs()))
    }
    .ok_or(EncryptionError::Overflow("live key count"))?;
    let key = state_key::live_count(addr);
    if next == 0 {
        store.delete(key)
    } else {
        store.put(key, next.to_be_bytes().to_vec())
    }
}

/// The next per-account key version (1, 2, ...), recorded as used.
pub fn next_version(store: &mut impl Store, addr: &Address) -> Result<u64, AppError> {
    let key = state_key::last_version(addr);
    let next = read_u64(store, &key)?
        .checked_add(1)
        .ok_or(EncryptionError::Overflow("key version"))?;
    store.put(key, next.to_be_bytes().to_vec())?;
    Ok(next)
}

pub fn enqueue_expiry(
    store: &mut impl Store,
    height: u64,
    fingerprint: &str,
) -> Result<(), AppError> {
    store.put(state_key::expiry(height, fingerprint), Vec::new())
}

pub fn dequeue_expiry(
    store: &mut impl Store,
    height: u64,
    fingerprint: &str,
) -> Result<(), AppError> {
    store.delete(state_key::expiry(height, fingerprint))
}
