//! Where the daemon's capacity comes from: a workload back end's inventory
//! (`ve_backend::Backend::inventory`, e.g. the sandboxed process runner) or, for hosts
//! without one, capacity declared in the config (`[capacity] backend = "static"`).
//!
//! The daemon subtracts its own reservations (bids and leases) from the *total*: a
//! lease's workload is both reserved here and allocated in the back end, so using the
//! back end's `available` would count it twice.

use std::path::Path;
use std::sync::Arc;

use ve_backend::process::{ProcessRunner, RunnerConfig};

use crate::config::CapacityConfig;
use crate::error::DaemonError;
use crate::resources::Resources;

pub trait Inventory: Send + Sync {
    /// Total capacity workloads can be placed on. An error means "unknown now": the
    /// daemon makes no bid this round rather than guess.
    fn total(&self) -> Result<Resources, DaemonError>;
}

/// Capacity declared in the config file.
#[derive(Debug, Clone)]
pub struct StaticInventory(pub Resources);

/// A workload back end shared by the inventory, the lease worker and the API.
pub type SharedBackend = Arc<dyn ve_backend::Backend>;

/// How often the process runner samples memory (the memory-seconds of usage records).
const SAMPLE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// What `[capacity]` opens.
pub struct Capacity {
    pub inventory: Box<dyn Inventory>,
    /// The workload back end, if the capacity comes from one.
    pub backend: Option<SharedBackend>,
    /// Keeps the back end's usage sampler running (stops when dropped).
    pub sampler: Option<ve_backend::process::Sampler>,
}

/// The inventory named by `[capacity]` and, for a workload back end, the back end itself
/// (shared with the lease worker); `state_dir` is the daemon's.
pub fn from_config(c: &CapacityConfig, state_dir: &Path) -> Result<Capacity, DaemonError> {
    match c.backend.as_str() {
        "process" => {
            let mut rc = RunnerConfig::new(
                c.runner_state_dir
                    .clone()
                    .unwrap_or_else(|| state_dir.join("process-runner")),
            );
            if let Some(d) = &c.images_dir {
                rc.images_dir = d.clone();
            }
            if let Some(p) = &c.cgroup_parent {
                rc.cgroup_parent = p.clone();
            }
            rc.capacity = c.declared().map(|r| ve_backend::Resources {
                cpu_millicores: r.cpu_millicores,
                memory_bytes: r.memory_bytes,
                storage_bytes: r.storage_bytes,
                gpu_count: u32::try_from(r.gpus).unwrap_or(u32::MAX),
            });
            let runner =
                Arc::new(ProcessRunner::open(rc).map_err(|e| DaemonError::Backend(e.to_string()))?);
            let sampler = runner.spawn_sampler(SAMPLE_EVERY);
            let runner: SharedBackend = runner;
            Ok(Capacity {
                inventory: Box::new(BackendInventory(Arc::clone(&runner))),
                backend: Some(runner),
                sampler: Some(sampler),
            })
        }
        _ => Ok(Capacity {
            inventory: Box::new(StaticInventory(c.declared().ok_or_else(|| {
                DaemonError::Config("static capacity needs cpu, memory and storage".into())
            })?)),
            backend: None,
            sampler: None,
        }),
    }
}

impl Inventory for StaticInventory {
    fn total(&self) -> Result<Resources, DaemonError> {
        Ok(self.0)
    }
}

/// The inventory a workload back end reports.
pub struct BackendInventory(pub Arc<dyn ve_backend::Backend>);

impl std::fmt::Debug for BackendInventory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BackendInventory({})", self.0.name())
    }
}

impl Inventory for BackendInventory {
    fn total(&self) -> Result<Resources, DaemonError> {
        let inv = self
            .0
            .inventory()
            .map_err(|e| DaemonError::Backend(e.to_string()))?;
        Ok(Resources {
            cpu_millicores: inv.total.cpu_millicores,
            memory_bytes: inv.total.memory_bytes,
            storage_bytes: inv.total.storage_bytes,
            gpus: u64::from(inv.total.gpu_count),
        })
    }
}
