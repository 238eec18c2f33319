//! Lease records in the daemon's redb database (see [`super::record`]).

use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use super::record::LeaseRecord;
use crate::error::{store_err, DaemonError};
use crate::events::OrderKey;
use crate::store::Store;

const LEASES: TableDefinition<&str, &[u8]> = TableDefinition::new("leases");

/// Creates the table (called when the store opens).
pub(crate) fn create_tables(txn: &WriteTransaction) -> Result<(), DaemonError> {
    txn.open_table(LEASES).map_err(store_err)?;
    Ok(())
}

fn decode(b: &[u8]) -> Result<LeaseRecord, DaemonError> {
    serde_json::from_slice(b).map_err(store_err)
}

impl Store {
    pub fn lease(&self, key: &OrderKey) -> Result<Option<LeaseRecord>, DaemonError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let t = txn.open_table(LEASES).map_err(store_err)?;
        let v = t.get(key.to_string().as_str()).map_err(store_err)?;
        v.map(|v| decode(v.value())).transpose()
    }

    /// Writes a lease record durably (before the step that depends on it).
    pub fn put_lease(&self, key: &OrderKey, rec: &LeaseRecord) -> Result<(), DaemonError> {
        let bytes = serde_json::to_vec(rec).map_err(store_err)?;
        let txn = self.db.begin_write().map_err(store_err)?;
        {
            let mut t = txn.open_table(LEASES).map_err(store_err)?;
            t.insert(key.to_string().as_str(), bytes.as_slice())
                .map_err(store_err)?;
        }
        txn.commit().map_err(store_err)
    }

    /// Stores the manifest of a lease unless it already has one. Returns the record now
    /// stored, so a repeated upload of the same manifest is a no-op and a different one
    /// is visible to the caller as a conflict.
    pub fn put_manifest_once(
        &self,
        key: &OrderKey,
        fresh: LeaseRecord,
    ) -> Result<LeaseRecord, DaemonError> {
        let txn = self.db.begin_write().map_err(store_err)?;
        let stored = {
            let mut t = txn.open_table(LEASES).map_err(store_err)?;
            let old = match t.get(key.to_string().as_str()).map_err(store_err)? {
                Some(v) => Some(decode(v.value())?),
                None => None,
            };
            match old {
                Some(r) => r,
                None => {
                    let bytes = serde_json::to_vec(&fresh).map_err(store_err)?;
                    t.insert(key.to_string().as_str(), bytes.as_slice())
                        .map_err(store_err)?;
                    fresh
                }
            }
        };
        txn.commit().map_err(store_err)?;
        Ok(stored)
    }

    /// Every lease with work left (not torn down and fully recorded), by order key.
    pub fn live_leases(&self) -> Result<Vec<(OrderKey, LeaseRecord)>, DaemonError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let t = txn.open_table(LEASES).map_err(store_err)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(store_err)? {
            let (k, v) = item.map_err(store_err)?;
            let rec = decode(v.value())?;
            if rec.is_done() {
                continue;
            }
            let key = OrderKey::parse(k.value())
                .ok_or_else(|| DaemonError::Store(format!("bad lease key {:?}", k.value())))?;
            out.push((key, rec));
        }
        Ok(out)
    }
}
