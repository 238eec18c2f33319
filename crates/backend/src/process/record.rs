//! The durable record of a workload: `<state>/leases/<key>/record.json`, written atomically
//! (temp file + rename). It is what a restarted runner adopts.

use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

use crate::{BackendError, Endpoint, LeaseId, WorkloadSpec};

/// How far provisioning or teardown got. Anything but `Ready` found at start-up was
/// interrupted by a crash and is cleaned up (see `docs/backend.md`, reconciliation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Phase {
    Launching,
    Ready,
    Terminating,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ServiceRecord {
    pub name: String,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WorkloadRecord {
    pub lease: LeaseId,
    pub spec: WorkloadSpec,
    pub spec_hash: String,
    pub phase: Phase,
    pub services: Vec<ServiceRecord>,
    /// Unix seconds.
    pub created_at: u64,
}

impl WorkloadRecord {
    pub fn host_ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.services
            .iter()
            .flat_map(|s| s.endpoints.iter().map(|e| e.host_port))
    }
}

/// The `leases/` directory of the state dir.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    pub leases_dir: PathBuf,
}

impl Store {
    pub fn lease_dir(&self, key: &str) -> PathBuf {
        self.leases_dir.join(key)
    }

    fn record_path(&self, key: &str) -> PathBuf {
        self.lease_dir(key).join("record.json")
    }

    /// `Ok(None)` if the lease has no record.
    pub fn load(&self, key: &str) -> Result<Option<WorkloadRecord>, BackendError> {
        let path = self.record_path(key);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(BackendError::io(format!("reading {}", path.display()), e)),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| BackendError::Corrupt(format!("{}: {e}", path.display())))
    }

    pub fn save(&self, key: &str, rec: &WorkloadRecord) -> Result<(), BackendError> {
        let json = serde_json::to_vec_pretty(rec)
            .map_err(|e| BackendError::Corrupt(format!("encoding record of {}: {e}", rec.lease)))?;
        write_atomic(&self.record_path(key), &json)
    }

    /// Keys of every lease directory (with or without a valid record).
    pub fn keys(&self) -> Result<Vec<String>, BackendError> {
        let rd = fs::read_dir(&self.leases_dir)
            .map_err(|e| BackendError::io(format!("listing {}", self.leases_dir.display()), e))?;
        let mut keys: Vec<String> = rd
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        keys.sort();
        Ok(keys)
    }
}

/// Writes `bytes` to `path` so that readers see the old or the new content, never a mix.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), BackendError> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes)
        .map_err(|e| BackendError::io(format!("writing {}", tmp.display()), e))?;
    fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| BackendError::io(format!("syncing {}", tmp.display()), e))?;
    fs::rename(&tmp, path)
        .map_err(|e| BackendError::io(format!("renaming {} into place", tmp.display()), e))
}
