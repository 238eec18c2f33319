//! Adapter that lets jmt read its nodes and values from redb tables.
//!
//! jmt only *reads* through this adapter; the batch it returns is written by
//! [`crate::Storage::commit`] inside the same redb transaction as everything else,
//! which is what makes a commit atomic.

use crate::tables::tree_err;
use crate::StorageError;
use jmt::storage::{HasPreimage, LeafNode, Node, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, Version};
use redb::ReadableTable;

/// Object-safe view of a `&[u8] -> &[u8]` table (works for both read-only and write tables).
pub(crate) trait ReadableTableBytes {
    fn get_bytes(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
}

impl<T: ReadableTable<&'static [u8], &'static [u8]>> ReadableTableBytes for T {
    fn get_bytes(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .get(key)
            .map_err(crate::tables::db_err)?
            .map(|g| g.value().to_vec()))
    }
}

/// Object-safe view of the versioned value table.
pub(crate) trait VersionedValues {
    /// The entry for `key` with the greatest version `<= max_version`, as
    /// `(entry_version, value)`: `None` = no entry; value `None` = deleted at that version.
    fn entry_at(&self, key: &[u8], max_version: u64) -> Result<Option<Entry>, StorageError>;

    /// The value of `key` at `version` (`None` if absent or deleted).
    fn value_at(&self, key: &[u8], version: u64) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.entry_at(key, version)?.and_then(|(_, v)| v))
    }
}

/// A versioned value entry: the version it was written at, and the value (`None` = deleted).
pub(crate) type Entry = (u64, Option<Vec<u8>>);

impl<T: ReadableTable<(&'static [u8], u64), Option<&'static [u8]>>> VersionedValues for T {
    fn entry_at(&self, key: &[u8], max_version: u64) -> Result<Option<Entry>, StorageError> {
        let mut it = self
            .range((key, 0u64)..=(key, max_version))
            .map_err(crate::tables::db_err)?;
        match it.next_back() {
            None => Ok(None),
            Some(entry) => {
                let (k, v) = entry.map_err(crate::tables::db_err)?;
                Ok(Some((k.value().1, v.value().map(<[u8]>::to_vec))))
            }
        }
    }
}

/// jmt's view of the store at some redb transaction.
pub(crate) struct TreeStore<'a> {
    pub(crate) nodes: &'a (dyn ReadableTableBytes + 'a),
    pub(crate) values: &'a (dyn VersionedValues + 'a),
    pub(crate) preimages: &'a (dyn ReadableTableBytes + 'a),
    /// Set only while the store is empty: the version just before the first commit.
    /// jmt starts a commit at `version` from the root at `version - 1`; for the very first
    /// commit (which may be any height >= 1, CometBFT's `initial_height`) that root does not
    /// exist, so this adapter reports an empty (`Null`) root there.
    pub(crate) null_root_version: Option<u64>,
}

/// The key of the root node of `version` (the empty nibble path).
pub(crate) fn root_node_key(version: u64) -> NodeKey {
    NodeKey::new(version, std::iter::empty().collect())
}

impl TreeStore<'_> {
    fn node(&self, node_key: &NodeKey) -> Result<Option<Node>, StorageError> {
        let key = borsh::to_vec(node_key).map_err(tree_err)?;
        match self.nodes.get_bytes(&key)? {
            Some(bytes) => borsh::from_slice::<Node>(&bytes)
                .map(Some)
                .map_err(|e| StorageError::Corrupt(format!("jmt node: {e}"))),
            None => {
                let is_virtual_root = node_key.nibble_path().num_nibbles() == 0
                    && Some(node_key.version()) == self.null_root_version;
                Ok(is_virtual_root.then_some(Node::Null))
            }
        }
    }
}

impl TreeReader for TreeStore<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.node(node_key)?)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        let Some(key) = self.preimages.get_bytes(&key_hash.0)? else {
            return Ok(None);
        };
        Ok(self.values.value_at(&key, max_version)?)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only used by jmt's state-sync restore, which this store does not support.
        Err(anyhow::anyhow!(
            "get_rightmost_leaf is not supported by ve-storage"
        ))
    }
}

impl HasPreimage for TreeStore<'_> {
    fn preimage(&self, key_hash: KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.preimages.get_bytes(&key_hash.0)?)
    }
}
