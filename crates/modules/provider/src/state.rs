//! Typed access to provider state. No other code reads or writes `provider/` keys.

use crate::proto::{Attestor, DomainVerification, Params, Provider};
use crate::{state_key, ProviderError, ProviderParams};
use prost::Message;
use ve_module::Store;
use ve_types::{Address, AppError};

/// Most attestors kept (the list is read whole by queries).
pub const MAX_ATTESTORS: usize = 256;

fn decode<M: Message + Default>(what: &str, b: &[u8]) -> Result<M, AppError> {
    M::decode(b).map_err(|e| ProviderError::Corrupt(format!("{what}: {e}")).into())
}

pub fn params(store: &mut impl Store) -> Result<ProviderParams, AppError> {
    match store.get(state_key::PARAMS)? {
        Some(b) => Ok(ProviderParams::from_proto(&decode::<Params>("params", &b)?)),
        None => Ok(ProviderParams::default()),
    }
}

pub fn set_params(store: &mut impl Store, p: &ProviderParams) -> Result<(), AppError> {
    p.validate()?;
    store.put(state_key::PARAMS.to_vec(), p.to_proto().encode_to_vec())
}

/// The provider registered by `owner`, if any. What other modules (market, audit,
/// offering) read through their adapters.
pub fn provider(store: &mut impl Store, owner: &Address) -> Result<Option<Provider>, AppError> {
    store
        .get(&state_key::provider(owner))?
        .map(|b| decode("provider", &b))
        .transpose()
}

pub fn set_provider(store: &mut impl Store, owner: &Address, p: &Provider) -> Result<(), AppError> {
    store.put(state_key::provider(owner), p.encode_to_vec())
}

pub fn delete_provider(store: &mut impl Store, owner: &Address) -> Result<(), AppError> {
    store.delete(state_key::provider(owner))
}

pub fn provider_from_bytes(b: &[u8]) -> Result<Provider, AppError> {
    decode("provider", b)
}

pub fn verification(
    store: &mut impl Store,
    owner: &Address,
) -> Result<Option<DomainVerification>, AppError> {
    store
        .get(&state_key::verification(owner))?
        .map(|b| decode("domain verification", &b))
        .transpose()
}

pub fn set_verification(
    store: &mut impl Store,
    owner: &Address,
    v: &DomainVerification,
) -> Result<(), AppError> {
    store.put(state_key::verification(owner), v.encode_to_vec())
}

pub fn delete_verification(store: &mut impl Store, owner: &Address) -> Result<(), AppError> {
    store.delete(state_key::verification(owner))
}

pub fn attestor(store: &mut impl Store, key: &[u8; 32]) -> Result<Option<Attestor>, AppError> {
    store
        .get(&state_key::attestor(key))?
        .map(|b| decode("attestor", &b))
        .transpose()
}

pub fn set_attestor(store: &mut impl Store, a: &Attestor) -> Result<(), AppError> {
    let key = key32(&a.public_key)?;
    store.put(state_key::attestor(&key), a.encode_to_vec())
}

pub fn delete_attestor(store: &mut impl Store, key: &[u8; 32]) -> Result<(), AppError> {
    store.delete(state_key::attestor(key))
}

pub fn attestors(store: &mut impl Store) -> Result<Vec<Attestor>, AppError> {
    store
        .prefix(state_key::ATTESTOR_PREFIX, MAX_ATTESTORS)?
        .iter()
        .map(|(_, v)| decode("attestor", v))
        .collect()
}

/// A 32-byte Ed25519 public key from bytes.
pub fn key32(b: &[u8]) -> Result<[u8; 32], AppError> {
    <[u8; 32]>::try_from(b).map_err(|_| {
        ProviderError::InvalidPublicKey(format!(
            "an attestor key is a 32-byte Ed25519 public key, got {} bytes",
            b.len()
        ))
        .into()
    })
}
