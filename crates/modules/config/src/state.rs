//! Typed access to config state. No other code reads or writes `config/` keys.

use crate::proto::{ApprovedClient, AuditEntry, ClientStatus, Params};
use crate::{state_key, ConfigError, ConfigParams};
use prost::Message;
use ve_module::Store;
use ve_types::AppError;

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    ConfigError::Corrupt(format!("{what}: {e}")).into()
}

pub fn params(store: &mut impl Store) -> Result<ConfigParams, AppError> {
    match store.get(state_key::PARAMS)? {
        Some(b) => Ok(ConfigParams::from_proto(
            &Params::decode(b.as_slice()).map_err(|e| corrupt("params", e))?,
        )?),
        None => Ok(ConfigParams::default()),
    }
}

pub fn set_params(store: &mut impl Store, p: &ConfigParams) -> Result<(), AppError> {
    store.put(state_key::PARAMS.to_vec(), p.to_proto().encode_to_vec())
}

pub fn client(store: &mut impl Store, client_id: &str) -> Result<Option<ApprovedClient>, AppError> {
    match store.get(&state_key::client(client_id))? {
        Some(b) => Ok(Some(
            ApprovedClient::decode(b.as_slice()).map_err(|e| corrupt("client", e))?,
        )),
        None => Ok(None),
    }
}

/// Writes a client and moves its status index entry from `old_status` (None = new).
pub fn set_client(
    store: &mut impl Store,
    c: &ApprovedClient,
    old_status: Option<i32>,
) -> Result<(), AppError> {
    if let Some(old) = old_status {
        if old != c.status {
            store.delete(state_key::status_entry(old, &c.client_id))?;
        }
    }
    store.put(state_key::client(&c.client_id), c.encode_to_vec())?;
    store.put(state_key::status_entry(c.status, &c.client_id), Vec::new())
}

pub fn client_count(store: &mut impl Store) -> Result<u32, AppError> {
    match store.get(state_key::COUNT)? {
        Some(b) => {
            let arr: [u8; 4] = b
                .as_slice()
                .try_into()
                .map_err(|_| corrupt("count", "width"))?;
            Ok(u32::from_be_bytes(arr))
        }
        None => Ok(0),
    }
}

pub fn set_client_count(store: &mut impl Store, n: u32) -> Result<(), AppError> {
    store.put(state_key::COUNT.to_vec(), n.to_be_bytes().to_vec())
}

/// Appends an audit entry to the client's trail.
pub fn append_audit(store: &mut impl Store, e: &AuditEntry) -> Result<(), AppError> {
    let seq_key = state_key::audit_seq(&e.client_id);
    let last = match store.get(&seq_key)? {
        Some(b) => {
            let arr: [u8; 8] = b
                .as_slice()
                .try_into()
                .map_err(|_| corrupt("audit seq", "width"))?;
            u64::from_be_bytes(arr)
        }
        None => 0,
    };
    let next = last
        .checked_add(1)
        .ok_or(ConfigError::Overflow("audit sequence"))?;
    store.put(seq_key, next.to_be_bytes().to_vec())?;
    store.put(
        state_key::audit_entry(&e.client_id, next),
        e.encode_to_vec(),
    )
}

pub fn status_name(status: i32) -> &'static str {
    match ClientStatus::try_from(status) {
        Ok(ClientStatus::Active) => "active",
        Ok(ClientStatus::Suspended) => "suspended",
        Ok(ClientStatus::Revoked) => "revoked",
        _ => "unspecified",
    }
}
