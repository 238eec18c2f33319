//! Daemon errors with stable codes (`code()`), so logs and metrics can be matched on.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DaemonError {
    #[error("config: {0}")]
    Config(String),
    #[error("state database: {0}")]
    Store(String),
    #[error("height {got} is not the next one after checkpoint {checkpoint}: catch up first")]
    Gap { checkpoint: u64, got: u64 },
    #[error("chain RPC: {0}")]
    Rpc(#[from] ve_client::RpcError),
    #[error("chain query: {0}")]
    Query(#[from] ve_client::QueryError),
    #[error("transaction: {0}")]
    Tx(#[from] ve_client::ClientError),
    #[error("keyring: {0}")]
    Keyring(#[from] ve_client::KeyringError),
    #[error("chain answered without {0}")]
    Missing(&'static str),
    #[error("workload back end: {0}")]
    Backend(String),
    #[error("the chain refused a transaction: {0}")]
    Rejected(String),
}

impl DaemonError {
    /// Stable numeric code (never renumbered).
    pub fn code(&self) -> u32 {
        match self {
            DaemonError::Config(_) => 1,
            DaemonError::Store(_) => 2,
            DaemonError::Gap { .. } => 3,
            DaemonError::Rpc(_) => 4,
            DaemonError::Query(_) => 5,
            DaemonError::Tx(_) => 6,
            DaemonError::Keyring(_) => 7,
            DaemonError::Missing(_) => 8,
            DaemonError::Backend(_) => 9,
            DaemonError::Rejected(_) => 10,
        }
    }
}

/// Wraps a redb (or record encoding) error.
pub(crate) fn store_err(e: impl std::fmt::Display) -> DaemonError {
    DaemonError::Store(e.to_string())
}
