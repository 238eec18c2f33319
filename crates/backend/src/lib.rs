//! Workload back ends for the provider daemon.
//!
//! [`Backend`] is what the daemon programs against: capacity ([`Backend::inventory`]),
//! idempotent [`Backend::provision`] keyed by lease id, status, logs, suspend/resume,
//! teardown, metered [`Usage`] and [`Backend::list`] for reconciling after a restart.
//! Implementations: [`process::ProcessRunner`] (services as sandboxed processes in Linux
//! namespaces and cgroups, see `docs/backend.md`) and the SLURM back end in `ve-slurm`.
//!
//! The trait is synchronous and object safe (`Arc<dyn Backend>`): every operation is
//! bounded (file and cgroup writes, short-lived helper processes, no waiting for a
//! workload to finish), so async callers run it on `tokio::task::spawn_blocking`.

mod backend;
mod error;
mod spec;

pub mod process;

pub use backend::{
    Backend, Endpoint, FailureReason, Inventory, Provisioned, ServiceState, ServiceStatus, Usage,
    WorkloadState, WorkloadStatus,
};
pub use error::BackendError;
pub use spec::{LeaseId, PortSpec, Protocol, Resources, ServiceSpec, WorkloadSpec};
