//! Typed access to cert state. No other code reads or writes `cert/` keys.

use crate::proto::{Certificate, CertificateState};
use crate::{state_key, CertError};
use prost::Message;
use ve_module::Store;
use ve_types::{Address, AppError};

pub fn from_bytes(b: &[u8]) -> Result<Certificate, AppError> {
    Certificate::decode(b).map_err(|e| CertError::Corrupt(format!("certificate: {e}")).into())
}

pub fn cert(
    store: &mut impl Store,
    owner: &Address,
    serial: &str,
) -> Result<Option<Certificate>, AppError> {
    store
        .get(&state_key::cert(owner, serial))?
        .map(|b| from_bytes(&b))
        .transpose()
}

pub fn set_cert(store: &mut impl Store, owner: &Address, c: &Certificate) -> Result<(), AppError> {
    store.put(state_key::cert(owner, &c.serial), c.encode_to_vec())
}

/// Whether `owner` has a valid (not revoked) certificate with `serial`: what a provider
/// daemon or another module asks before trusting a client certificate.
pub fn is_valid(
    store: &mut impl Store,
    owner: &Address,
    serial: &str,
    now: i64,
) -> Result<bool, AppError> {
    Ok(cert(store, owner, serial)?.is_some_and(|c| {
        c.state == CertificateState::Valid as i32 && c.not_before <= now && now < c.not_after
    }))
}
