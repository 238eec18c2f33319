//! Typed access to offering state. No other code reads or writes `offering/` keys.

use crate::proto::Offering;
use crate::{state_key, OfferingError};
use prost::Message;
use ve_module::Store;
use ve_types::{Address, AppError};

pub fn from_bytes(b: &[u8]) -> Result<Offering, AppError> {
    Offering::decode(b).map_err(|e| OfferingError::Corrupt(format!("offering: {e}")).into())
}

pub fn offering(
    store: &mut impl Store,
    provider: &Address,
    seq: u64,
) -> Result<Option<Offering>, AppError> {
    store
        .get(&state_key::offering(provider, seq))?
        .map(|b| from_bytes(&b))
        .transpose()
}

pub fn set_offering(
    store: &mut impl Store,
    provider: &Address,
    o: &Offering,
) -> Result<(), AppError> {
    store.put(state_key::offering(provider, o.seq), o.encode_to_vec())
}

fn read_u64(store: &mut impl Store, key: &[u8]) -> Result<u64, AppError> {
    match store.get(key)? {
        None => Ok(0),
        Some(b) => Ok(u64::from_be_bytes(
            <[u8; 8]>::try_from(b.as_slice())
                .map_err(|_| OfferingError::Corrupt("counter".into()))?,
        )),
    }
}

pub fn last_seq(store: &mut impl Store, provider: &Address) -> Result<u64, AppError> {
    read_u64(store, &state_key::last_seq(provider))
}

pub fn set_last_seq(store: &mut impl Store, provider: &Address, seq: u64) -> Result<(), AppError> {
    store.put(state_key::last_seq(provider), seq.to_be_bytes().to_vec())
}

pub fn active_count(store: &mut impl Store, provider: &Address) -> Result<u64, AppError> {
    read_u64(store, &state_key::active_count(provider))
}

pub fn set_active_count(
    store: &mut impl Store,
    provider: &Address,
    n: u64,
) -> Result<(), AppError> {
    store.put(state_key::active_count(provider), n.to_be_bytes().to_vec())
}
