//! Usage metering for one lease: CPU from `cpuacct.usage`, memory-seconds integrated
//! (trapezoids) from `memory.usage_in_bytes` samples, storage from the lease dir's blocks.
//! The integral lives in `<lease dir>/meter.json` so it survives runner restarts.

use serde::{Deserialize, Serialize};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::cgroup::LeaseCgroups;
use super::record::write_atomic;
use crate::{BackendError, Usage};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Meter {
    /// Unix milliseconds of the last sample (0 = none yet).
    last_sample_ms: u64,
    last_memory_bytes: u64,
    /// Byte-milliseconds so far.
    memory_byte_ms: u128,
}

impl Meter {
    fn path(lease_dir: &Path) -> std::path::PathBuf {
        lease_dir.join("meter.json")
    }

    pub fn load(lease_dir: &Path) -> Result<Self, BackendError> {
        let path = Self::path(lease_dir);
        match fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| BackendError::Corrupt(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(BackendError::io(format!("reading {}", path.display()), e)),
        }
    }

    /// Adds the trapezoid since the last sample and stores the new state.
    pub fn sample(
        &mut self,
        lease_dir: &Path,
        cg: &LeaseCgroups,
        now_ms: u64,
    ) -> Result<(), BackendError> {
        let bytes = cg.memory_bytes();
        self.add_sample(now_ms, bytes);
        let json = serde_json::to_vec(self)
            .map_err(|e| BackendError::Corrupt(format!("encoding meter: {e}")))?;
        write_atomic(&Self::path(lease_dir), &json)
    }

    fn add_sample(&mut self, now_ms: u64, bytes: u64) {
        if self.last_sample_ms != 0 && now_ms > self.last_sample_ms {
            let dt = u128::from(now_ms - self.last_sample_ms);
            let avg = (u128::from(self.last_memory_bytes) + u128::from(bytes)) / 2;
            self.memory_byte_ms = self.memory_byte_ms.saturating_add(avg.saturating_mul(dt));
        }
        if now_ms >= self.last_sample_ms {
            self.last_sample_ms = now_ms;
            self.last_memory_bytes = bytes;
        }
    }

    pub fn usage(
        &self,
        lease_dir: &Path,
        cg: &LeaseCgroups,
        created_at: u64,
        now_ms: u64,
    ) -> Usage {
        let now = now_ms / 1000;
        Usage {
            cpu_nanoseconds: cg.cpu_nanoseconds(),
            memory_byte_seconds: u64::try_from(self.memory_byte_ms / 1000).unwrap_or(u64::MAX),
            storage_bytes: disk_usage(lease_dir),
            gpu_seconds: None,
            wall_seconds: now.saturating_sub(created_at),
            measured_at: now,
        }
    }
}

/// Bytes of disk blocks under `dir` (symlinks not followed; mounts of live namespaces are
/// invisible from the host).
pub(crate) fn disk_usage(dir: &Path) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let Ok(md) = e.path().symlink_metadata() else {
                continue;
            };
            total = total.saturating_add(md.blocks().saturating_mul(512));
            if md.is_dir() {
                stack.push(e.path());
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_seconds_integrate_trapezoids_between_samples() {
        let mut m = Meter::default();
        m.add_sample(1_000, 100);
        m.add_sample(3_000, 300); // 2 s at an average of 200 B
        m.add_sample(4_000, 300); // 1 s at 300 B
        assert_eq!(m.memory_byte_ms / 1000, 700);
    }

    #[test]
    fn a_sample_from_the_past_adds_nothing() {
        let mut m = Meter::default();
        m.add_sample(5_000, 100);
        m.add_sample(4_000, 1_000_000);
        assert_eq!(m.memory_byte_ms, 0);
        assert_eq!(m.last_sample_ms, 5_000);
    }
}
