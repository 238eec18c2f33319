//! Provider daemon: turns confirmed chain orders into bids (and, in later work, leases
//! into running workloads).
//!
//! Layout, from the chain inwards:
//! - [`events`]: market events of one committed height, parsed from `/block_results`;
//! - [`ingest`]: the ingestion state machine — every height after the checkpoint is
//!   processed exactly once, in order, its effects and the new checkpoint in one
//!   database transaction ([`store`]);
//! - [`decision`]: the pure bid decision (placement, tenant requirements, capacity,
//!   price cap) — no I/O, so it is fast and property-tested;
//! - [`pricing`]: per-resource rates or an external script with a time limit;
//! - [`chain`]: queries and signed transactions through `ve-client`;
//! - [`engine`]: the bid worker that acts on the stored order records;
//! - [`daemon`]: the run loop (websocket `NewBlock` + polling fallback);
//! - [`lease`]: won leases as workloads on a back end, usage records on chain;
//! - [`api`]: the tenant-facing HTTP API (manifests, status, logs; signed requests);
//! - [`hpc`]: HPC jobs on SLURM (submit, report status and usage, cancel, heartbeats).
//!
//! Fail-safe rule (Akash providers' worst failure): the daemon acts only on committed
//! chain state and never releases a lease's resources because a query failed.

pub mod api;
pub mod chain;
pub mod config;
pub mod daemon;
pub mod decision;
pub mod engine;
pub mod error;
pub mod events;
pub mod hpc;
pub mod ingest;
pub mod inventory;
pub mod lease;
pub mod metrics;
pub mod pricing;
pub mod records;
pub mod resources;
pub mod store;

pub use config::Config;
pub use error::DaemonError;
