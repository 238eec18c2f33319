//! The provider's tenant-facing HTTP API (`[api] listen` in the daemon config): tenants
//! send a lease's manifest and read its status and logs. Every request is signed by the
//! tenant's account key ([`auth`]); the daemon answers only the lease's owner.
//!
//! Routes (`{lease}` = `owner/dseq/gseq/oseq`, the provider is the daemon itself):
//! - `PUT  /v1/leases/{lease}/manifest` — body: the manifest's canonical JSON
//!   (`ve_sdl::Manifest`); refused unless its SHA-256 equals the deployment's on-chain
//!   `hash` and the lease is ours and active.
//! - `GET  /v1/leases/{lease}/status` — [`LeaseStatus`].
//! - `GET  /v1/leases/{lease}/logs?service=NAME&tail=N` — [`LeaseLogs`].
//!
//! Errors are JSON [`ApiError`] with a stable `code`.

pub mod auth;
pub mod client;
pub mod server;
pub mod types;

pub use client::ProviderClient;
pub use types::{ApiError, LeaseLogs, LeasePhase, LeaseStatus};
