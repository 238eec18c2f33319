//! Durable local state in redb: the checkpoint (last processed height) and one record
//! per order (reservation, bid, lease). A height's effects and its checkpoint are written
//! in one transaction, so a crash leaves either both or neither: after a restart the
//! daemon resumes at checkpoint + 1 and never applies a height twice.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::error::{store_err, DaemonError};
use crate::events::{ChainEvent, OrderKey};
use crate::records::{self, OrderRecord};
use crate::resources::Resources;

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const ORDERS: TableDefinition<&str, &[u8]> = TableDefinition::new("orders");
const CHECKPOINT: &str = "checkpoint";

/// What applying one height did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    pub orders_seen: u64,
    pub released: u64,
}

#[derive(Debug)]
pub struct Store {
    pub(crate) db: Database,
}

fn event_key(e: &ChainEvent) -> Option<&OrderKey> {
    Some(match e {
        ChainEvent::OrderCreated(k)
        | ChainEvent::OrderClosed(k)
        | ChainEvent::BidCreated(k)
        | ChainEvent::BidClosed(k, _)
        | ChainEvent::LeaseCreated(k)
        | ChainEvent::LeaseClosed(k)
        | ChainEvent::LeasePaused(k)
        | ChainEvent::LeaseResumed(k) => k,
        ChainEvent::Hpc(_) => return None,
    })
}

fn decode(bytes: &[u8]) -> Result<OrderRecord, DaemonError> {
    serde_json::from_slice(bytes).map_err(store_err)
}

fn encode(r: &OrderRecord) -> Result<Vec<u8>, DaemonError> {
    serde_json::to_vec(r).map_err(store_err)
}

impl Store {
    /// Opens (or creates) `dir/state.redb`.
    pub fn open(dir: &Path) -> Result<Self, DaemonError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| DaemonError::Store(format!("creating {}: {e}", dir.display())))?;
        let db = Database::create(dir.join("state.redb")).map_err(store_err)?;
        let txn = db.begin_write().map_err(store_err)?;
        txn.open_table(META).map_err(store_err)?;
        txn.open_table(ORDERS).map_err(store_err)?;
        crate::hpc::store::create_tables(&txn)?;
        crate::lease::store::create_tables(&txn)?;
        txn.commit().map_err(store_err)?;
        Ok(Self { db })
    }

    /// The last fully processed height, `None` before the first one.
    pub fn checkpoint(&self) -> Result<Option<u64>, DaemonError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let t = txn.open_table(META).map_err(store_err)?;
        Ok(t.get(CHECKPOINT).map_err(store_err)?.map(|v| v.value()))
    }

    /// Applies the events of `height` and advances the checkpoint to it, atomically.
    /// `height` must be checkpoint + 1 (any height if there is no checkpoint yet).
    pub fn apply_height(&self, height: u64, events: &[ChainEvent]) -> Result<Applied, DaemonError> {
        let txn = self.db.begin_write().map_err(store_err)?;
        let mut applied = Applied::default();
        {
            let mut meta = txn.open_table(META).map_err(store_err)?;
            let cp = meta.get(CHECKPOINT).map_err(store_err)?.map(|v| v.value());
            if let Some(cp) = cp {
                if cp.checked_add(1) != Some(height) {
                    return Err(DaemonError::Gap {
                        checkpoint: cp,
                        got: height,
                    });
                }
            }
            let hpc: Vec<_> = events
                .iter()
                .filter_map(|e| match e {
                    ChainEvent::Hpc(h) => Some(h),
                    _ => None,
                })
                .collect();
            crate::hpc::store::apply_events(&txn, &hpc, height)?;
            let mut orders = txn.open_table(ORDERS).map_err(store_err)?;
            for e in events {
                let Some(key) = event_key(e) else { continue };
                let key = key.to_string();
                let old = match orders.get(key.as_str()).map_err(store_err)? {
                    Some(v) => Some(decode(v.value())?),
                    None => None,
                };
                let had_reservation = old.as_ref().is_some_and(|r| r.reserved.is_some());
                let was_new = old.is_none();
                if let Some(new) = records::apply(old, e, height) {
                    if was_new {
                        applied.orders_seen += 1;
                    }
                    if had_reservation && new.reserved.is_none() {
                        applied.released += 1;
                    }
                    orders
                        .insert(key.as_str(), encode(&new)?.as_slice())
                        .map_err(store_err)?;
                }
            }
            meta.insert(CHECKPOINT, height).map_err(store_err)?;
        }
        txn.commit().map_err(store_err)?;
        Ok(applied)
    }

    pub fn get(&self, key: &OrderKey) -> Result<Option<OrderRecord>, DaemonError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let t = txn.open_table(ORDERS).map_err(store_err)?;
        let v = t.get(key.to_string().as_str()).map_err(store_err)?;
        v.map(|v| decode(v.value())).transpose()
    }

    /// Writes the bid worker's outcome for one order.
    pub fn put(&self, key: &OrderKey, rec: &OrderRecord) -> Result<(), DaemonError> {
        let txn = self.db.begin_write().map_err(store_err)?;
        {
            let mut t = txn.open_table(ORDERS).map_err(store_err)?;
            t.insert(key.to_string().as_str(), encode(rec)?.as_slice())
                .map_err(store_err)?;
        }
        txn.commit().map_err(store_err)
    }

    /// Every record still in play (not closed or skipped), by order key.
    pub fn open_records(&self) -> Result<Vec<(OrderKey, OrderRecord)>, DaemonError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let t = txn.open_table(ORDERS).map_err(store_err)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(store_err)? {
            let (k, v) = item.map_err(store_err)?;
            let rec = decode(v.value())?;
            if rec.is_closed() {
                continue;
            }
            let key = OrderKey::parse(k.value())
                .ok_or_else(|| DaemonError::Store(format!("bad order key {:?}", k.value())))?;
            out.push((key, rec));
        }
        Ok(out)
    }

    /// Capacity held by all reservations.
    pub fn reserved_total(&self) -> Result<Resources, DaemonError> {
        let mut total = Resources::default();
        for (_, r) in self.open_records()? {
            if let Some(res) = r.reserved {
                total = total
                    .checked_add(&res)
                    .ok_or_else(|| DaemonError::Store("reservations overflow".into()))?;
            }
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(d: u64) -> OrderKey {
        OrderKey {
            owner: "ve1t".into(),
            dseq: d,
            gseq: 1,
            oseq: 1,
        }
    }

    #[test]
    fn a_height_is_applied_once_and_only_after_its_predecessor() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.checkpoint().unwrap(), None);
        s.apply_height(10, &[ChainEvent::OrderCreated(key(1))])
            .unwrap();
        assert!(matches!(
            s.apply_height(10, &[]),
            Err(DaemonError::Gap {
                checkpoint: 10,
                got: 10
            })
        ));
        assert!(matches!(
            s.apply_height(12, &[]),
            Err(DaemonError::Gap { .. })
        ));
        s.apply_height(11, &[]).unwrap();
        assert_eq!(s.checkpoint().unwrap(), Some(11));
        assert_eq!(s.get(&key(1)).unwrap().unwrap().seen_height, 10);
    }

    #[test]
    fn state_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).unwrap();
            s.apply_height(3, &[ChainEvent::OrderCreated(key(2))])
                .unwrap();
            let mut r = s.get(&key(2)).unwrap().unwrap();
            r.reserved = Some(Resources {
                cpu_millicores: 250,
                ..Default::default()
            });
            s.put(&key(2), &r).unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.checkpoint().unwrap(), Some(3));
        assert_eq!(s.reserved_total().unwrap().cpu_millicores, 250);
    }
}
