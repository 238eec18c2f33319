//! Read-only views of one committed version.

use crate::tables::{
    db_err, decode_root, tree_err, LATEST, META, META_LATEST, META_OLDEST, NODES, PREIMAGES, ROOTS,
    VALUES,
};
use crate::tree_store::{TreeStore, VersionedValues};
use crate::{KvPairs, StateRead, StorageError};
use jmt::Sha256Jmt;
use redb::{Database, ReadOnlyTable, ReadableDatabase};
use std::ops::Bound;
use std::sync::Arc;

/// Root hash of the empty tree (before the first commit): jmt's placeholder hash,
/// `b"SPARSE_MERKLE_PLACEHOLDER_HASH__"`, the same value jmt uses for an empty subtree.
pub const EMPTY_ROOT_HASH: [u8; 32] = Sha256Jmt::<TreeStore<'static>>::EMPTY_ROOT.0;

/// A read-only view of the state at one committed version.
///
/// It holds a redb read transaction, so its answers never change, even after later commits
/// or pruning. Holding one for long keeps redb from reusing the pages it sees, so drop
/// snapshots you no longer need. Cloning is cheap (shared).
#[derive(Clone)]
pub struct Snapshot {
    inner: Arc<Inner>,
}

struct Inner {
    version: u64,
    root: [u8; 32],
    /// True when `version` was the latest at open: reads use the plain latest table.
    is_latest: bool,
    latest: ReadOnlyTable<&'static [u8], &'static [u8]>,
    values: ReadOnlyTable<(&'static [u8], u64), Option<&'static [u8]>>,
    nodes: ReadOnlyTable<&'static [u8], &'static [u8]>,
    preimages: ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("version", &self.inner.version)
            .field("is_latest", &self.inner.is_latest)
            .finish_non_exhaustive()
    }
}

/// Retained range and latest version as seen by one read transaction.
pub(crate) struct Window {
    pub(crate) oldest: Option<u64>,
    pub(crate) latest: Option<u64>,
}

impl Window {
    pub(crate) fn read(txn: &redb::ReadTransaction) -> Result<Self, StorageError> {
        let meta = txn.open_table(META).map_err(db_err)?;
        let latest = meta.get(META_LATEST).map_err(db_err)?.map(|g| g.value());
        let oldest = meta.get(META_OLDEST).map_err(db_err)?.map(|g| g.value());
        Ok(Self { oldest, latest })
    }

    /// Errors with `VersionUnavailable` unless `oldest <= version <= latest`.
    pub(crate) fn check(&self, version: u64) -> Result<(), StorageError> {
        match (self.oldest, self.latest) {
            (Some(o), Some(l)) if o <= version && version <= l => Ok(()),
            _ => Err(StorageError::VersionUnavailable {
                requested: version,
                oldest: self.oldest,
                latest: self.latest,
            }),
        }
    }
}

impl Snapshot {
    /// Opens a snapshot at `version`, or at the latest version if `None`. Before the first
    /// commit the latest snapshot has version 0, no entries and root [`EMPTY_ROOT_HASH`].
    pub(crate) fn open(db: &Database, version: Option<u64>) -> Result<Self, StorageError> {
        let txn = db.begin_read().map_err(db_err)?;
        let window = Window::read(&txn)?;
        let (version, root) = match (version, window.latest) {
            (None, None) => (0, EMPTY_ROOT_HASH),
            (requested, _) => {
                let v = requested.or(window.latest).unwrap_or(0);
                window.check(v)?;
                let roots = txn.open_table(ROOTS).map_err(db_err)?;
                let root = roots
                    .get(v)
                    .map_err(db_err)?
                    .ok_or_else(|| StorageError::Corrupt(format!("no root for version {v}")))?;
                (v, decode_root(root.value())?)
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                version,
                root,
                is_latest: window.latest.unwrap_or(0) == version,
                latest: txn.open_table(LATEST).map_err(db_err)?,
                values: txn.open_table(VALUES).map_err(db_err)?,
                nodes: txn.open_table(NODES).map_err(db_err)?,
                preimages: txn.open_table(PREIMAGES).map_err(db_err)?,
            }),
        })
    }

    /// The committed version this snapshot reads (0 = empty store before the first commit).
    pub fn version(&self) -> u64 {
        self.inner.version
    }

    /// The JMT root hash (app hash) at this version.
    pub fn root_hash(&self) -> [u8; 32] {
        self.inner.root
    }

    /// The value under `key` with an ICS-23 proof against [`Snapshot::root_hash`]: an
    /// existence proof if present, else a non-existence proof. Verify with
    /// [`crate::ics23_spec`]. The empty store (version 0) has no proofs, and an existence
    /// proof of an empty value does not verify (ICS-23 verifiers require a non-empty value),
    /// so state that must be provable should never store empty values.
    pub fn get_with_proof(
        &self,
        key: &[u8],
    ) -> Result<(Option<Vec<u8>>, ics23::CommitmentProof), StorageError> {
        if self.inner.version == 0 {
            return Err(StorageError::Tree(
                "the empty store (before the first commit) has no proofs".into(),
            ));
        }
        let store = TreeStore {
            nodes: &self.inner.nodes,
            values: &self.inner.values,
            preimages: &self.inner.preimages,
            null_root_version: None,
        };
        Sha256Jmt::new(&store)
            .get_with_ics23_proof(key.to_vec(), self.inner.version)
            .map_err(tree_err)
    }

    /// Range over a past version: walks the versioned table one user key at a time,
    /// taking each key's newest entry at or below this version.
    fn range_versioned(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, StorageError> {
        let values = &self.inner.values;
        let mut out = Vec::new();
        let mut cursor: Option<Vec<u8>> = None;
        while out.len() < limit {
            let lower = match &cursor {
                None => Bound::Included((start, 0u64)),
                Some(k) => Bound::Excluded((k.as_slice(), u64::MAX)),
            };
            let upper = match end {
                Some(e) => Bound::Excluded((e, 0u64)),
                None => Bound::Unbounded,
            };
            let next_key = match values.range((lower, upper)).map_err(db_err)?.next() {
                None => break,
                Some(entry) => entry.map_err(db_err)?.0.value().0.to_vec(),
            };
            if let Some(v) = values.value_at(&next_key, self.inner.version)? {
                out.push((next_key.clone(), v));
            }
            cursor = Some(next_key);
        }
        Ok(out)
    }
}

impl StateRead for Snapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        if self.inner.is_latest {
            Ok(self
                .inner
                .latest
                .get(key)
                .map_err(db_err)?
                .map(|g| g.value().to_vec()))
        } else {
            self.inner.values.value_at(key, self.inner.version)
        }
    }

    fn range(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, StorageError> {
        if end.is_some_and(|e| e <= start) || limit == 0 {
            return Ok(Vec::new());
        }
        if !self.inner.is_latest {
            return self.range_versioned(start, end, limit);
        }
        let upper = match end {
            Some(e) => Bound::Excluded(e),
            None => Bound::Unbounded,
        };
        let mut out = Vec::new();
        let it = self
            .inner
            .latest
            .range::<&[u8]>((Bound::Included(start), upper))
            .map_err(db_err)?;
        for entry in it.take(limit) {
            let (k, v) = entry.map_err(db_err)?;
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }
}
