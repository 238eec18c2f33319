//! The write path: one block's changes, its JMT nodes, its root and the new latest version,
//! all written in ONE redb write transaction. If anything fails before `commit()`, dropping
//! the transaction aborts it and the store stays at the previous version.

use crate::tables::{
    db_err, tree_err, LATEST, META, META_LATEST, META_OLDEST, NODES, PREIMAGES, ROOTS, STALE_NODES,
    STALE_VALUES, VALUES,
};
use crate::tree_store::{root_node_key, TreeStore, VersionedValues};
use crate::{Changes, StorageError};
use jmt::{KeyHash, Sha256Jmt};
use redb::{ReadableTable, WriteTransaction};
use sha2::Sha256;

/// Upper bound on entries of each prune index processed per commit, so a block never pays
/// for an unbounded backlog (e.g. after retention was lowered); the rest is done next commits.
pub(crate) const PRUNE_BATCH: usize = 4096;

/// Test-only fault injection points inside a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailPoint {
    /// No fault.
    None,
    /// Fail after JMT nodes and values are written but before the version is recorded.
    AfterTreeWrite,
}

/// Writes `changes` as `version` into `txn` and returns the new root hash.
/// The caller commits `txn`; on error the caller drops it (abort).
pub(crate) fn write_block(
    txn: &WriteTransaction,
    changes: &Changes,
    version: u64,
    retain_versions: Option<u64>,
    fail: FailPoint,
) -> Result<[u8; 32], StorageError> {
    let mut meta = txn.open_table(META).map_err(db_err)?;
    let latest = meta.get(META_LATEST).map_err(db_err)?.map(|g| g.value());
    let old_oldest = meta.get(META_OLDEST).map_err(db_err)?.map(|g| g.value());
    let in_order = match latest {
        // CometBFT may start at any `initial_height >= 1`.
        None => version >= 1,
        Some(l) => l.checked_add(1) == Some(version),
    };
    if !in_order {
        return Err(StorageError::NonSequentialVersion {
            got: version,
            latest,
        });
    }

    let mut nodes = txn.open_table(NODES).map_err(db_err)?;
    let mut stale_nodes = txn.open_table(STALE_NODES).map_err(db_err)?;
    let mut values = txn.open_table(VALUES).map_err(db_err)?;
    let mut stale_values = txn.open_table(STALE_VALUES).map_err(db_err)?;
    let mut latest_t = txn.open_table(LATEST).map_err(db_err)?;
    let mut preimages = txn.open_table(PREIMAGES).map_err(db_err)?;
    let mut roots = txn.open_table(ROOTS).map_err(db_err)?;

    // 1. Ask jmt for the new nodes, reading the previous version from this transaction.
    let (root, batch) = {
        let store = TreeStore {
            nodes: &nodes,
            values: &values,
            preimages: &preimages,
            null_root_version: latest.is_none().then(|| version.saturating_sub(1)),
        };
        let tree = Sha256Jmt::new(&store);
        let value_set = changes
            .iter()
            .map(|(k, v)| (KeyHash::with::<Sha256>(k), v.clone()));
        tree.put_value_set(value_set, version).map_err(tree_err)?
    };

    // 2. JMT nodes and their stale index.
    for (node_key, node) in batch.node_batch.nodes() {
        let k = borsh::to_vec(node_key).map_err(tree_err)?;
        let v = borsh::to_vec(node).map_err(tree_err)?;
        nodes.insert(k.as_slice(), v.as_slice()).map_err(db_err)?;
    }
    for stale in &batch.stale_node_index_batch {
        let k = borsh::to_vec(&stale.node_key).map_err(tree_err)?;
        stale_nodes
            .insert((stale.stale_since_version, k.as_slice()), ())
            .map_err(db_err)?;
    }

    // 3. Values: versioned table (past reads), latest table (fast path), preimages (proofs).
    for (key, value) in changes {
        let prev = match latest {
            Some(l) => values.entry_at(key, l)?,
            None => None,
        };
        let prev_live = prev.as_ref().is_some_and(|(_, v)| v.is_some());
        match value {
            Some(val) => {
                if let Some((prev_version, _)) = prev {
                    stale_values
                        .insert((version, key.as_slice(), prev_version), ())
                        .map_err(db_err)?;
                }
                values
                    .insert((key.as_slice(), version), Some(val.as_slice()))
                    .map_err(db_err)?;
                latest_t
                    .insert(key.as_slice(), val.as_slice())
                    .map_err(db_err)?;
                let hash = KeyHash::with::<Sha256>(key);
                preimages
                    .insert(hash.0.as_slice(), key.as_slice())
                    .map_err(db_err)?;
            }
            // Deleting an absent key changes nothing.
            None if !prev_live => {}
            None => {
                if let Some((prev_version, _)) = prev {
                    stale_values
                        .insert((version, key.as_slice(), prev_version), ())
                        .map_err(db_err)?;
                }
                // The tombstone itself is unneeded once every older entry is pruned.
                stale_values
                    .insert((version, key.as_slice(), version), ())
                    .map_err(db_err)?;
                values
                    .insert((key.as_slice(), version), None::<&[u8]>)
                    .map_err(db_err)?;
                latest_t.remove(key.as_slice()).map_err(db_err)?;
            }
        }
    }
    roots.insert(version, root.0.as_slice()).map_err(db_err)?;

    if fail == FailPoint::AfterTreeWrite {
        return Err(StorageError::Db("injected failure after tree write".into()));
    }

    // 4. The new version and retention window.
    let first = old_oldest.unwrap_or(version);
    let oldest = match retain_versions {
        None => first,
        Some(n) => first.max(version.saturating_add(1).saturating_sub(n.max(1))),
    };
    meta.insert(META_LATEST, version).map_err(db_err)?;
    meta.insert(META_OLDEST, oldest).map_err(db_err)?;

    // 5. Prune what no retained version can reach (bounded per commit).
    prune_nodes(&mut nodes, &mut stale_nodes, oldest)?;
    prune_values(&mut values, &mut stale_values, oldest)?;
    prune_roots(&mut roots, &mut nodes, oldest)?;

    Ok(root.0)
}

type BytesTable<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

/// Deletes nodes that became stale at or before `oldest`: only versions `< oldest` used them.
fn prune_nodes(
    nodes: &mut BytesTable<'_>,
    stale: &mut redb::Table<'_, (u64, &'static [u8]), ()>,
    oldest: u64,
) -> Result<(), StorageError> {
    let mut doomed: Vec<(u64, Vec<u8>)> = Vec::new();
    for entry in stale.iter().map_err(db_err)?.take(PRUNE_BATCH) {
        let (k, _) = entry.map_err(db_err)?;
        let (since, node_key) = k.value();
        if since > oldest {
            break;
        }
        doomed.push((since, node_key.to_vec()));
    }
    for (since, node_key) in &doomed {
        nodes.remove(node_key.as_slice()).map_err(db_err)?;
        stale
            .remove((*since, node_key.as_slice()))
            .map_err(db_err)?;
    }
    Ok(())
}

/// Deletes value entries superseded (or tombstones written) at or before `oldest`.
fn prune_values(
    values: &mut redb::Table<'_, (&'static [u8], u64), Option<&'static [u8]>>,
    stale: &mut redb::Table<'_, (u64, &'static [u8], u64), ()>,
    oldest: u64,
) -> Result<(), StorageError> {
    let mut doomed: Vec<(u64, Vec<u8>, u64)> = Vec::new();
    for entry in stale.iter().map_err(db_err)?.take(PRUNE_BATCH) {
        let (k, _) = entry.map_err(db_err)?;
        let (at, key, entry_version) = k.value();
        if at > oldest {
            break;
        }
        doomed.push((at, key.to_vec(), entry_version));
    }
    for (at, key, entry_version) in &doomed {
        values
            .remove((key.as_slice(), *entry_version))
            .map_err(db_err)?;
        stale
            .remove((*at, key.as_slice(), *entry_version))
            .map_err(db_err)?;
    }
    Ok(())
}

/// Forgets root hashes (and root nodes) of versions below `oldest`. Root nodes need this
/// explicitly: a block with no changes copies the root under the new version without
/// marking the old one stale.
fn prune_roots(
    roots: &mut redb::Table<'_, u64, &'static [u8]>,
    nodes: &mut BytesTable<'_>,
    oldest: u64,
) -> Result<(), StorageError> {
    let mut doomed: Vec<u64> = Vec::new();
    for entry in roots.iter().map_err(db_err)?.take(PRUNE_BATCH) {
        let (k, _) = entry.map_err(db_err)?;
        let v = k.value();
        if v >= oldest {
            break;
        }
        doomed.push(v);
    }
    for v in doomed {
        roots.remove(v).map_err(db_err)?;
        let k = borsh::to_vec(&root_node_key(v)).map_err(tree_err)?;
        nodes.remove(k.as_slice()).map_err(db_err)?;
    }
    Ok(())
}
