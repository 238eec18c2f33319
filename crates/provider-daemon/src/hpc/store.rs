//! HPC job records in the daemon's redb database (`hpc_jobs`: chain job id → JSON
//! [`JobRecord`]), and this state directory's instance tag. Events are applied inside the
//! ingestion's per-height transaction ([`apply_events`]), so they share its checkpoint.

use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use super::events::HpcEvent;
use super::records::{self, JobRecord};
use crate::error::{store_err, DaemonError};
use crate::store::Store;

const JOBS: TableDefinition<u64, &[u8]> = TableDefinition::new("hpc_jobs");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const INSTANCE: &str = "hpc_instance";

fn decode(b: &[u8]) -> Result<JobRecord, DaemonError> {
    serde_json::from_slice(b).map_err(store_err)
}

fn encode(r: &JobRecord) -> Result<Vec<u8>, DaemonError> {
    serde_json::to_vec(r).map_err(store_err)
}

/// Creates the table (called when the store opens).
pub(crate) fn create_tables(txn: &WriteTransaction) -> Result<(), DaemonError> {
    txn.open_table(JOBS).map_err(store_err)?;
    Ok(())
}

/// Applies one height's hpc events within the ingestion's transaction.
pub(crate) fn apply_events(
    txn: &WriteTransaction,
    events: &[&HpcEvent],
    height: u64,
) -> Result<(), DaemonError> {
    let mut t = txn.open_table(JOBS).map_err(store_err)?;
    for e in events {
        let old = match t.get(e.job_id()).map_err(store_err)? {
            Some(v) => Some(decode(v.value())?),
            None => None,
        };
        if let Some(new) = records::apply(old, e, height) {
            t.insert(e.job_id(), encode(&new)?.as_slice())
                .map_err(store_err)?;
        }
    }
    Ok(())
}

impl Store {
    pub fn hpc_job(&self, job_id: u64) -> Result<Option<JobRecord>, DaemonError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let t = txn.open_table(JOBS).map_err(store_err)?;
        let v = t.get(job_id).map_err(store_err)?;
        v.map(|v| decode(v.value())).transpose()
    }

    /// Writes the worker's outcome for one job (durably, before the next step acts on it).
    pub fn put_hpc_job(&self, job_id: u64, rec: &JobRecord) -> Result<(), DaemonError> {
        let txn = self.db.begin_write().map_err(store_err)?;
        {
            let mut t = txn.open_table(JOBS).map_err(store_err)?;
            t.insert(job_id, encode(rec)?.as_slice())
                .map_err(store_err)?;
        }
        txn.commit().map_err(store_err)
    }

    /// Jobs not closed yet, by chain job id.
    pub fn open_hpc_jobs(&self) -> Result<Vec<(u64, JobRecord)>, DaemonError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let t = txn.open_table(JOBS).map_err(store_err)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(store_err)? {
            let (k, v) = item.map_err(store_err)?;
            let rec = decode(v.value())?;
            if !rec.is_closed() {
                out.push((k.value(), rec));
            }
        }
        Ok(out)
    }

    /// A tag unique to this state directory (set on first use), part of every SLURM job
    /// name, so jobs of another chain or an earlier state directory with the same chain job
    /// id are never mistaken for ours when looking a job up by name.
    pub fn hpc_instance(&self) -> Result<u64, DaemonError> {
        let txn = self.db.begin_write().map_err(store_err)?;
        let tag = {
            let mut meta = txn.open_table(META).map_err(store_err)?;
            let existing = meta.get(INSTANCE).map_err(store_err)?.map(|v| v.value());
            match existing {
                Some(t) => t,
                None => {
                    let t = u64::try_from(super::wall_clock().as_micros()).unwrap_or(u64::MAX);
                    meta.insert(INSTANCE, t).map_err(store_err)?;
                    t
                }
            }
        };
        txn.commit().map_err(store_err)?;
        Ok(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::ChainEvent;
    use crate::hpc::records::JobStage;

    #[test]
    fn hpc_events_share_the_checkpoint_and_records_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let tag;
        {
            let s = Store::open(dir.path()).unwrap();
            let sub = ChainEvent::Hpc(HpcEvent::JobSubmitted {
                job_id: 4,
                clusters: vec![1],
            });
            s.apply_height(10, std::slice::from_ref(&sub)).unwrap();
            // The same height again is refused as a whole: no second record, no change.
            assert!(s.apply_height(10, &[sub]).is_err());
            let mut r = s.hpc_job(4).unwrap().unwrap();
            assert_eq!(r.seen_height, 10);
            r.stage = JobStage::Submitted { slurm_job_id: 77 };
            s.put_hpc_job(4, &r).unwrap();
            tag = s.hpc_instance().unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.hpc_instance().unwrap(), tag);
        s.apply_height(11, &[ChainEvent::Hpc(HpcEvent::JobFinished { job_id: 4 })])
            .unwrap();
        let open = s.open_hpc_jobs().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].1.slurm_job_id(), Some(77));
        assert!(open[0].1.ended_on_chain);
    }
}
