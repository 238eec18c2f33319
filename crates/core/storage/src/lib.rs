//! Versioned, authenticated key-value state for the VirtEngine chain.
//!
//! Layers, bottom to top:
//! - [`Storage`]: a Jellyfish Merkle tree over redb. One version per block height; the JMT
//!   root is the app hash. Commit writes a block's changes and its version in one redb
//!   transaction, so after a crash the store is at the previous or the new height, never between.
//! - [`Snapshot`]: a read-only view at one committed version (latest or past, within retention).
//! - [`Delta`]: a copy-on-write overlay over any [`StateRead`]. The app stacks one per block and
//!   one per transaction; dropping a delta discards its writes, so a failed transaction leaves nothing.

mod commit;
mod delta;
mod error;
#[cfg(test)]
mod fault_tests;
mod proof;
mod read;
mod snapshot;
mod storage;
mod tables;
mod tree_store;

pub use delta::{Changes, Delta};
pub use error::StorageError;
pub use proof::{ics23_spec, verify_membership, verify_non_membership};
pub use read::{KvPairs, StateRead, StateWrite};
pub use snapshot::{Snapshot, EMPTY_ROOT_HASH};
#[cfg(any(test, feature = "test-utils"))]
pub use storage::open_temp;
pub use storage::{PreparedCommit, Storage, StorageConfig, DB_FILE_NAME};
