//! `hpc` (spec §5.3, flow §6.4): SLURM clusters, HPC offerings, jobs scheduled through
//! the chain, usage accounting, settlement and contributor rewards.
//!
//! - A provider registers a cluster (tier standard + MFA), keeps it alive with heartbeats
//!   (stale ⇒ OFFLINE in end-block) and relays node-agent metadata (stale ⇒ node STALE).
//! - Offerings price node-hours, core-hours, GPU-hours, memory/storage GB-hours and
//!   network GB per queue, with a minimum VEID tier and a maximum runtime.
//! - A tenant submits a job: tier checked, a deterministic scheduling decision stored
//!   ([`scheduling`], [`proximity`]), the max price locked in escrow (`hpc/JOB-<id>`).
//! - The provider reports QUEUED (SLURM id), RUNNING, then a terminal state with exit
//!   code and usage; the chain enforces the time limit (TIMEOUT, billed for the limit).
//! - A finished job is billed ([`billing`]); the unused escrow is refunded at once, the
//!   bill settles after the dispute window to platform / node contributors / provider.
//!
//! `docs/hpc.md` has the rules, numbers and the message reference for provider daemons.

pub mod billing;
mod cluster_msgs;
pub mod component;
mod error;
pub mod events;
pub mod genesis;
mod handler;
mod job_msgs;
pub mod keeper;
pub mod params;
pub mod proximity;
pub mod query;
pub mod scheduling;
pub mod state;
pub mod state_key;

pub use cluster_msgs::{
    ClusterHeartbeatHandler, CreateOfferingHandler, RegisterClusterHandler,
    UpdateNodeMetadataHandler,
};
pub use component::end_block;
pub use error::HpcError;
pub use genesis::HpcGenesis;
pub use job_msgs::{
    CancelJobHandler, FlagDisputeHandler, ReportJobStatusHandler, ReportJobUsageHandler,
    ResolveDisputeHandler, SubmitJobHandler,
};
pub use keeper::{Keeper, Keepers, MODULE_ACCOUNT};
pub use params::HpcParams;

pub use ve_proto::virtengine::hpc::v1 as proto;
