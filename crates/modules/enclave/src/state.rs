//! Typed access to enclave state. No other code reads or writes `enclave/` keys.

use crate::proto::{EnclaveIdentity, MeasurementRecord, Params};
use crate::{state_key, EnclaveError, EnclaveParams};
use prost::Message;
use ve_module::Store;
use ve_types::{Address, AppError};

/// Most identities or measurements read in one pass (the operator set is capped at 500).
pub const MAX_SCAN: usize = 1_000;

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    EnclaveError::Corrupt(format!("{what}: {e}")).into()
}

pub fn params(store: &mut impl Store) -> Result<EnclaveParams, AppError> {
    match store.get(state_key::PARAMS)? {
        Some(b) => Ok(EnclaveParams::from_proto(
            &Params::decode(b.as_slice()).map_err(|e| corrupt("params", e))?,
        )?),
        None => Ok(EnclaveParams::default()),
    }
}

pub fn set_params(store: &mut impl Store, p: &EnclaveParams) -> Result<(), AppError> {
    store.put(state_key::PARAMS.to_vec(), p.to_proto().encode_to_vec())
}

pub fn identity(store: &mut impl Store, v: &Address) -> Result<Option<EnclaveIdentity>, AppError> {
    match store.get(&state_key::identity(v.as_bytes()))? {
        Some(b) => Ok(Some(
            EnclaveIdentity::decode(b.as_slice()).map_err(|e| corrupt("identity", e))?,
        )),
        None => Ok(None),
    }
}

pub fn set_identity(
    store: &mut impl Store,
    v: &Address,
    id: &EnclaveIdentity,
) -> Result<(), AppError> {
    store.put(state_key::identity(v.as_bytes()), id.encode_to_vec())
}

/// Every identity, in validator-address order.
pub fn identities(store: &mut impl Store) -> Result<Vec<EnclaveIdentity>, AppError> {
    store
        .prefix(state_key::IDENTITY_PREFIX, MAX_SCAN)?
        .into_iter()
        .map(|(_, v)| EnclaveIdentity::decode(v.as_slice()).map_err(|e| corrupt("identity", e)))
        .collect()
}

pub fn measurement(
    store: &mut impl Store,
    platform: i32,
    m: &[u8],
) -> Result<Option<MeasurementRecord>, AppError> {
    let p = u8::try_from(platform).map_err(|_| EnclaveError::InvalidPlatform)?;
    match store.get(&state_key::measurement(p, m))? {
        Some(b) => Ok(Some(
            MeasurementRecord::decode(b.as_slice()).map_err(|e| corrupt("measurement", e))?,
        )),
        None => Ok(None),
    }
}

pub fn set_measurement(store: &mut impl Store, r: &MeasurementRecord) -> Result<(), AppError> {
    let p = u8::try_from(r.platform).map_err(|_| EnclaveError::InvalidPlatform)?;
    store.put(state_key::measurement(p, &r.measurement), r.encode_to_vec())
}

/// The validator holding an X25519 key fingerprint.
pub fn fingerprint_owner(store: &mut impl Store, fp: &str) -> Result<Option<Address>, AppError> {
    match store.get(&state_key::fingerprint(fp))? {
        Some(b) => Ok(Some(
            Address::from_slice(&b).map_err(|e| corrupt("fingerprint index", e))?,
        )),
        None => Ok(None),
    }
}

pub fn set_fingerprint(store: &mut impl Store, fp: &str, v: &Address) -> Result<(), AppError> {
    store.put(state_key::fingerprint(fp), v.as_bytes().to_vec())
}

pub fn delete_fingerprint(store: &mut impl Store, fp: &str) -> Result<(), AppError> {
    store.delete(state_key::fingerprint(fp))
}
