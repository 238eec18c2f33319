//! Leases won → running workloads: the manifest the tenant sent (through [`crate::api`]),
//! checked against the deployment's on-chain hash, is run on a workload back end
//! (`ve_backend`, e.g. the sandboxed process runner); the workload follows the lease's
//! committed state (run, suspend while escrow is dry, tear down on close) and its
//! measured usage goes on chain as numbered records (`MsgRecordLeaseUsage`).

pub mod chain;
pub mod record;
pub mod store;
pub mod worker;

pub use record::LeaseRecord;
pub use worker::LeaseWorker;
