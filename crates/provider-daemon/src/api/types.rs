//! Request and response bodies of the provider API.

use serde::{Deserialize, Serialize};
use ve_backend::{Endpoint, ServiceStatus};

/// Where a lease stands at the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeasePhase {
    /// Lease won; waiting for the tenant's manifest.
    AwaitingManifest,
    /// Manifest accepted; the back end is starting the workload.
    Provisioning,
    Running,
    /// Escrow ran dry: the workload is frozen, not destroyed, until the tenant tops up.
    Suspended,
    /// The workload failed (see `message` and the services).
    Failed,
    /// The lease closed and the workload was torn down.
    Closed,
}

/// `GET /v1/leases/{lease}/status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseStatus {
    /// `owner/dseq/gseq/oseq/provider`.
    pub lease: String,
    pub phase: LeasePhase,
    pub services: Vec<ServiceStatus>,
    /// Where the tenant reaches its services.
    pub endpoints: Vec<Endpoint>,
    /// Why it failed, or what it waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `GET /v1/leases/{lease}/logs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseLogs {
    pub service: String,
    pub lines: Vec<String>,
}

/// Every error answer. Codes are stable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("provider refused ({code} {kind}): {message}")]
pub struct ApiError {
    pub code: u32,
    /// Short name of the code, e.g. `hash_mismatch`.
    pub kind: String,
    pub message: String,
}

/// Stable error codes of the API.
pub mod codes {
    pub const UNAUTHENTICATED: (u32, &str) = (1, "unauthenticated");
    pub const NOT_OWNER: (u32, &str) = (2, "not_owner");
    pub const LEASE_NOT_FOUND: (u32, &str) = (3, "lease_not_found");
    pub const LEASE_NOT_ACTIVE: (u32, &str) = (4, "lease_not_active");
    pub const HASH_MISMATCH: (u32, &str) = (5, "hash_mismatch");
    pub const BAD_MANIFEST: (u32, &str) = (6, "bad_manifest");
    pub const MANIFEST_CONFLICT: (u32, &str) = (7, "manifest_conflict");
    pub const CHAIN_UNAVAILABLE: (u32, &str) = (8, "chain_unavailable");
    pub const BACKEND: (u32, &str) = (9, "backend");
    pub const BAD_REQUEST: (u32, &str) = (10, "bad_request");
}

impl ApiError {
    pub fn new(code: (u32, &str), message: impl Into<String>) -> Self {
        Self {
            code: code.0,
            kind: code.1.to_string(),
            message: message.into(),
        }
    }
}
