//! redb table layout. Every table is created at open, so read transactions never hit
//! `TableDoesNotExist`. All writes of one block happen in one write transaction.

use crate::StorageError;
use redb::TableDefinition;

/// Store metadata: [`META_LATEST`] and [`META_OLDEST`] versions.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// The latest committed version. Absent before the first commit.
pub(crate) const META_LATEST: &str = "latest";
/// The oldest version still queryable (retention). Absent before the first commit.
pub(crate) const META_OLDEST: &str = "oldest";

/// Root hash of every retained version, so `root_hash(v)` needs no tree walk.
pub(crate) const ROOTS: TableDefinition<u64, &[u8]> = TableDefinition::new("roots");

/// JMT nodes: borsh(NodeKey) -> borsh(Node).
pub(crate) const NODES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("jmt_nodes");

/// JMT stale-node index: (stale_since_version, borsh(NodeKey)). A node stale since `s`
/// is only reachable from versions `< s`, so it can go once `s <= oldest`.
pub(crate) const STALE_NODES: TableDefinition<(u64, &[u8]), ()> =
    TableDefinition::new("jmt_stale_nodes");

/// Versioned values: (user key, version written) -> value, `None` = deleted at that version.
/// The value at version `v` is the last entry with version `<= v`. Ordered by user key, so
/// past-version range scans need no hashing.
pub(crate) const VALUES: TableDefinition<(&[u8], u64), Option<&[u8]>> =
    TableDefinition::new("values");

/// Prunable value entries: (prunable_at_version, user key, entry version). The entry
/// `(key, entry_version)` in [`VALUES`] is unneeded once `prunable_at <= oldest`: either it was
/// superseded at `prunable_at`, or it is a tombstone written at `prunable_at`.
pub(crate) const STALE_VALUES: TableDefinition<(u64, &[u8], u64), ()> =
    TableDefinition::new("stale_values");

/// Plain latest state, key-ordered: the fast path for reads at the latest version.
pub(crate) const LATEST: TableDefinition<&[u8], &[u8]> = TableDefinition::new("latest");

/// JMT key hash -> user key, needed to build ICS-23 non-existence proofs (neighbour keys).
pub(crate) const PREIMAGES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("preimages");

/// Maps any database-layer error into [`StorageError::Db`]; the caller treats it as fatal.
pub(crate) fn db_err<E: std::fmt::Display>(e: E) -> StorageError {
    StorageError::Db(e.to_string())
}

/// Maps a jmt (anyhow) error into [`StorageError::Tree`].
pub(crate) fn tree_err<E: std::fmt::Display>(e: E) -> StorageError {
    StorageError::Tree(e.to_string())
}

/// Decodes a stored 32-byte root hash.
pub(crate) fn decode_root(bytes: &[u8]) -> Result<[u8; 32], StorageError> {
    <[u8; 32]>::try_from(bytes)
        .map_err(|_| StorageError::Corrupt(format!("root hash of length {}", bytes.len())))
}
