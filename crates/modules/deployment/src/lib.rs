//! `deployment` (spec §4.1): what a tenant wants to run. A deployment `owner/dseq` holds
//! groups (`gseq` 1..n) of resource units with a per-block price cap, the SHA-256 of its
//! manifest, and is paid for by the escrow account `deployment/<owner>/<dseq>`.
//!
//! - Creating a deployment moves the deposit from the owner's balance into escrow; anyone
//!   may top it up later with escrow `MsgDeposit`. Creation is gated: the tenant's identity
//!   tier (param `min_tenant_tier`) and, for deposits of value, an MFA session for
//!   `HighValueOrder` (the MFA module decides the threshold).
//! - Every group that opens gets one market order; closing or pausing a group stops its
//!   order, bids and lease. The market module does that through [`MarketKeeper`], which it
//!   implements (market depends on deployment, never the reverse).
//! - The `offering` module creates deployments for tenants through [`DeploymentCreator`].

mod error;
pub mod events;
pub mod genesis;
pub mod keeper;
pub mod msg_server;
pub mod params;
pub mod query;
pub mod state;
pub mod state_key;
pub mod types;

pub use error::DeploymentError;
pub use genesis::DeploymentGenesis;
pub use keeper::{DeploymentCreator, Keeper, Keepers, MarketKeeper, NewDeployment};
pub use msg_server::{
    CloseDeploymentHandler, CloseGroupHandler, CreateDeploymentHandler, PauseGroupHandler,
    StartGroupHandler, UpdateDeploymentHandler,
};
pub use params::DeploymentParams;
pub use types::{DeploymentId, GroupId};

pub use ve_proto::virtengine::deployment::v1 as proto;

/// Escrow scope of deployment accounts: `deployment/<owner>/<dseq>`.
pub const ESCROW_SCOPE: &str = "deployment";
