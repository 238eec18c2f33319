//! The [`Backend`] trait and the values it returns.

use serde::{Deserialize, Serialize};

use crate::{BackendError, LeaseId, Protocol, Resources, WorkloadSpec};

/// A workload back end as the provider daemon sees it.
///
/// Contract (every implementation, see `docs/backend.md`):
/// - **Idempotent provision**: `provision(lease, spec)` for a lease that already has a
///   workload with the same spec returns the existing one (`created = false`) and never
///   starts a second copy, also across daemon restarts and concurrent calls. A different
///   spec for a live lease is [`BackendError::SpecConflict`].
/// - **Durable**: workloads outlive the daemon process; a new instance over the same state
///   finds them with [`Backend::list`] (adopts them).
/// - **Suspend keeps the workload** (memory, files, endpoints); resume continues it.
///   Both are idempotent.
/// - **Teardown** is idempotent: an unknown lease returns `Ok(None)`.
/// - Errors for which [`BackendError::is_transient`] holds say nothing about the
///   workload's health; never tear down because of one.
pub trait Backend: Send + Sync {
    /// Short name for logs and metrics, e.g. `"process"`, `"slurm"`.
    fn name(&self) -> &'static str;

    /// Capacity: what the back end has in total, what live workloads hold, what is free.
    /// The bid engine bids only on orders that fit `available`.
    fn inventory(&self) -> Result<Inventory, BackendError>;

    /// Starts the lease's workload (or returns the one already running for it).
    fn provision(&self, lease: &LeaseId, spec: &WorkloadSpec) -> Result<Provisioned, BackendError>;

    /// Current state of every service and its endpoints. [`BackendError::NotFound`] if
    /// the back end has no workload for the lease.
    fn status(&self, lease: &LeaseId) -> Result<WorkloadStatus, BackendError>;

    /// The last `tail` lines of a service's output (stdout and stderr interleaved).
    fn logs(
        &self,
        lease: &LeaseId,
        service: &str,
        tail: usize,
    ) -> Result<Vec<String>, BackendError>;

    /// Stops the workload from running without losing it (escrow paused).
    fn suspend(&self, lease: &LeaseId) -> Result<(), BackendError>;

    /// Lets a suspended workload run again.
    fn resume(&self, lease: &LeaseId) -> Result<(), BackendError>;

    /// Stops the workload and removes everything it had. Returns the final usage (for the
    /// closing usage record), or `None` if there was no workload.
    fn teardown(&self, lease: &LeaseId) -> Result<Option<Usage>, BackendError>;

    /// Usage so far, cumulative since provisioning (the daemon bills deltas).
    fn usage(&self, lease: &LeaseId) -> Result<Usage, BackendError>;

    /// Every workload the back end holds, for reconciling against chain state after a
    /// restart (ordered by lease id).
    fn list(&self) -> Result<Vec<WorkloadStatus>, BackendError>;
}

/// Back-end capacity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub total: Resources,
    /// Sum of the resources of every workload the back end holds (suspended ones included:
    /// they keep their reservation).
    pub allocated: Resources,
    /// `total - allocated`.
    pub available: Resources,
    pub workloads: u32,
}

/// Where a service port is reachable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub service: String,
    /// The port the manifest named.
    pub port: u16,
    pub protocol: Protocol,
    /// Host name or IP the tenant connects to.
    pub host: String,
    pub host_port: u16,
}

impl Endpoint {
    /// `host:port`.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.host_port)
    }
}

/// Result of [`Backend::provision`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provisioned {
    pub lease: LeaseId,
    pub endpoints: Vec<Endpoint>,
    /// False if the workload already existed (idempotent repeat).
    pub created: bool,
}

/// Why a service is no longer running.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "value")]
pub enum FailureReason {
    /// Killed by the kernel for exceeding its memory limit.
    OutOfMemory,
    /// Exited with a non-zero code.
    ExitCode(i32),
    /// Killed by a signal (not the back end's own teardown).
    Signal(i32),
    /// The back end lost track of it (e.g. host reboot, job vanished from the scheduler).
    Lost,
    /// The back end could not start it.
    StartFailed(String),
    /// The scheduler cancelled it or hit its time limit.
    Cancelled(String),
}

/// State of one service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "detail")]
pub enum ServiceState {
    /// Accepted but not running yet (queued).
    Pending,
    Running,
    Suspended,
    /// Ended with exit code 0.
    Completed,
    Failed(FailureReason),
}

impl ServiceState {
    pub fn is_live(&self) -> bool {
        matches!(self, Self::Pending | Self::Running | Self::Suspended)
    }
}

/// Aggregate state of a workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkloadState {
    Pending,
    /// Every service running.
    Running,
    Suspended,
    /// Every service ended with exit code 0.
    Completed,
    /// At least one service failed (see the services for why).
    Failed,
}

impl WorkloadState {
    /// Failed beats suspended beats pending beats running beats completed.
    pub fn aggregate<'a>(states: impl IntoIterator<Item = &'a ServiceState>) -> Self {
        let mut out = Self::Completed;
        let rank = |s: &Self| match s {
            Self::Completed => 0,
            Self::Running => 1,
            Self::Pending => 2,
            Self::Suspended => 3,
            Self::Failed => 4,
        };
        for s in states {
            let w = match s {
                ServiceState::Pending => Self::Pending,
                ServiceState::Running => Self::Running,
                ServiceState::Suspended => Self::Suspended,
                ServiceState::Completed => Self::Completed,
                ServiceState::Failed(_) => Self::Failed,
            };
            if rank(&w) > rank(&out) {
                out = w;
            }
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceStatus {
    pub name: String,
    pub state: ServiceState,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadStatus {
    pub lease: LeaseId,
    pub state: WorkloadState,
    pub services: Vec<ServiceStatus>,
    /// [`WorkloadSpec::hash`] of what runs, to compare with the manifest on chain.
    pub spec_hash: String,
    pub resources: Resources,
    /// Unix seconds.
    pub created_at: u64,
}

impl WorkloadStatus {
    pub fn endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        self.services.iter().flat_map(|s| s.endpoints.iter())
    }
}

/// Measured usage, cumulative since provisioning. Integers: the daemon turns deltas into
/// usage records and the chain prices them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// CPU time of every process of the workload.
    pub cpu_nanoseconds: u64,
    /// Integral of resident memory over time.
    pub memory_byte_seconds: u64,
    /// Bytes on disk now.
    pub storage_bytes: u64,
    /// GPU-seconds allocated; `None` where the back end has no GPUs.
    pub gpu_seconds: Option<u64>,
    /// Seconds since the workload was created.
    pub wall_seconds: u64,
    /// Unix seconds of the measurement.
    pub measured_at: u64,
}

impl Usage {
    /// Whole CPU-seconds (floor).
    pub fn cpu_seconds(&self) -> u64 {
        self.cpu_nanoseconds / 1_000_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_state_is_the_worst_service_state() {
        use ServiceState as S;
        let agg = |s: &[S]| WorkloadState::aggregate(s.iter());
        assert_eq!(agg(&[S::Running, S::Running]), WorkloadState::Running);
        assert_eq!(agg(&[S::Running, S::Completed]), WorkloadState::Running);
        assert_eq!(agg(&[S::Completed, S::Completed]), WorkloadState::Completed);
        assert_eq!(agg(&[S::Suspended, S::Running]), WorkloadState::Suspended);
        assert_eq!(
            agg(&[
                S::Running,
                S::Failed(FailureReason::OutOfMemory),
                S::Suspended
            ]),
            WorkloadState::Failed
        );
        assert_eq!(agg(&[S::Pending, S::Running]), WorkloadState::Pending);
    }

    #[test]
    fn usage_serialises_for_records_and_floors_cpu_seconds() {
        let u = Usage {
            cpu_nanoseconds: 2_999_999_999,
            ..Usage::default()
        };
        assert_eq!(u.cpu_seconds(), 2);
        let back: Usage = serde_json::from_str(&serde_json::to_string(&u).unwrap()).unwrap();
        assert_eq!(back, u);
    }
}
