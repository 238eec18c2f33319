//! [`Storage`]: the handle to the on-disk versioned store.

use crate::commit::{write_block, FailPoint};
use crate::snapshot::Window;
use crate::tables::{
    db_err, decode_root, LATEST, META, NODES, PREIMAGES, ROOTS, STALE_NODES, STALE_VALUES, VALUES,
};
use crate::{Changes, Snapshot, StorageError};
use redb::{Database, ReadableDatabase};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

/// File name of the redb database inside the storage directory.
pub const DB_FILE_NAME: &str = "state.redb";

/// How much history to keep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StorageConfig {
    /// `None`: keep every version queryable. `Some(n)`: keep the latest `n` versions
    /// (at least 1) queryable; older JMT nodes and superseded values are pruned.
    pub retain_versions: Option<u64>,
}

/// Handle to the versioned store. Cheap to clone (shared); safe to use from many threads.
/// Commits are serialized; reads go through [`Snapshot`]s and never block commits.
#[derive(Clone)]
pub struct Storage {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    config: StorageConfig,
    /// Snapshot of the latest version, refreshed after each commit, so
    /// [`Storage::latest_snapshot`] is infallible and cheap.
    latest: RwLock<Snapshot>,
    /// Serializes commits so the refreshed latest snapshot matches the last commit.
    commit_lock: Mutex<()>,
    #[cfg(test)]
    fail: Mutex<FailPoint>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("config", &self.inner.config)
            .field("latest", &self.latest_version())
            .finish_non_exhaustive()
    }
}

impl Storage {
    /// Opens (or creates) the store in directory `path` (file [`DB_FILE_NAME`] inside).
    /// After a crash, redb repairs the file on open; the store is at the last committed version.
    pub fn open(path: &Path, config: StorageConfig) -> Result<Storage, StorageError> {
        std::fs::create_dir_all(path).map_err(db_err)?;
        let db = Database::create(path.join(DB_FILE_NAME)).map_err(db_err)?;
        // Create every table so read transactions can always open them.
        let txn = db.begin_write().map_err(db_err)?;
        {
            txn.open_table(META).map_err(db_err)?;
            txn.open_table(ROOTS).map_err(db_err)?;
            txn.open_table(NODES).map_err(db_err)?;
            txn.open_table(STALE_NODES).map_err(db_err)?;
            txn.open_table(VALUES).map_err(db_err)?;
            txn.open_table(STALE_VALUES).map_err(db_err)?;
            txn.open_table(LATEST).map_err(db_err)?;
            txn.open_table(PREIMAGES).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)?;
        let latest = Snapshot::open(&db, None)?;
        Ok(Storage {
            inner: Arc::new(Inner {
                db,
                config,
                latest: RwLock::new(latest),
                commit_lock: Mutex::new(()),
                #[cfg(test)]
                fail: Mutex::new(FailPoint::None),
            }),
        })
    }

    /// The configuration this store was opened with.
    pub fn config(&self) -> &StorageConfig {
        &self.inner.config
    }

    /// The latest committed version; `None` before the first commit.
    pub fn latest_version(&self) -> Option<u64> {
        let snap = self.latest_snapshot();
        (snap.version() > 0).then_some(snap.version())
    }

    /// Root hash of the latest version, or [`crate::EMPTY_ROOT_HASH`] before the first commit.
    pub fn latest_root_hash(&self) -> [u8; 32] {
        self.latest_snapshot().root_hash()
    }

    /// Root hash (app hash) of a retained `version`.
    pub fn root_hash(&self, version: u64) -> Result<[u8; 32], StorageError> {
        let txn = self.inner.db.begin_read().map_err(db_err)?;
        Window::read(&txn)?.check(version)?;
        let roots = txn.open_table(ROOTS).map_err(db_err)?;
        let root = roots
            .get(version)
            .map_err(db_err)?
            .ok_or_else(|| StorageError::Corrupt(format!("no root for version {version}")))?;
        decode_root(root.value())
    }

    /// The oldest version still queryable; `None` before the first commit.
    pub fn oldest_version(&self) -> Result<Option<u64>, StorageError> {
        let txn = self.inner.db.begin_read().map_err(db_err)?;
        Ok(Window::read(&txn)?.oldest)
    }

    /// A snapshot of the latest version (version 0, empty, before the first commit).
    pub fn latest_snapshot(&self) -> Snapshot {
        // A poisoned lock only means a panic elsewhere while swapping in an Arc; the
        // snapshot inside is still a complete value.
        match self.inner.latest.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// A snapshot of `version`; `VersionUnavailable` outside the retained range.
    pub fn snapshot(&self, version: u64) -> Result<Snapshot, StorageError> {
        Snapshot::open(&self.inner.db, Some(version))
    }

    /// Commits `changes` as `version` and returns the new root hash.
    ///
    /// The first commit may use any version >= 1 (CometBFT's `initial_height`); later ones
    /// must be exactly latest + 1. Empty `changes` still create a version (same root), since
    /// the app commits every block. Everything is written in one redb transaction: after a
    /// crash the store is at the previous or the new version, never between. An error here
    /// is fatal for the node (see [`StorageError`]). (If the commit is durable but reopening
    /// the latest snapshot fails, this returns an error although the version is committed;
    /// a restart sees it.)
    pub fn commit(&self, changes: &Changes, version: u64) -> Result<[u8; 32], StorageError> {
        let prepared = self.prepare(changes, version)?;
        let root = prepared.root_hash();
        prepared.commit()?;
        Ok(root)
    }

    /// Stages `changes` as `version`: computes the new root and writes everything into an
    /// open database transaction that becomes durable only at [`PreparedCommit::commit`].
    ///
    /// The app needs the root (the app hash) at FinalizeBlock but must not make the block
    /// durable before CometBFT has saved the block's results; otherwise a crash between the
    /// two leaves the app one block ahead of what CometBFT can replay. Dropping the
    /// prepared commit aborts it. Only one may be open at a time (a second `prepare` waits).
    pub fn prepare(&self, changes: &Changes, version: u64) -> Result<PreparedCommit, StorageError> {
        let txn = self.inner.db.begin_write().map_err(db_err)?;
        // On error `txn` is dropped here, which aborts it.
        let root = write_block(
            &txn,
            changes,
            version,
            self.inner.config.retain_versions,
            self.fail_point(),
        )?;
        Ok(PreparedCommit {
            storage: self.clone(),
            txn,
            version,
            root,
            keys: changes.len(),
        })
    }

    #[cfg(test)]
    fn fail_point(&self) -> FailPoint {
        match self.inner.fail.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }

    #[cfg(not(test))]
    fn fail_point(&self) -> FailPoint {
        FailPoint::None
    }

    /// Makes subsequent commits fail at `fail` (unit tests only).
    #[cfg(test)]
    pub(crate) fn set_fail_point(&self, fail: FailPoint) {
        if let Ok(mut g) = self.inner.fail.lock() {
            *g = fail;
        }
    }
}

/// A block staged by [`Storage::prepare`], waiting to become durable.
pub struct PreparedCommit {
    storage: Storage,
    txn: redb::WriteTransaction,
    version: u64,
    root: [u8; 32],
    keys: usize,
}

impl std::fmt::Debug for PreparedCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedCommit")
            .field("version", &self.version)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl PreparedCommit {
    /// The root hash the version will have.
    pub fn root_hash(&self) -> [u8; 32] {
        self.root
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    /// Makes the staged version durable and the latest.
    pub fn commit(self) -> Result<(), StorageError> {
        let inner = &self.storage.inner;
        let _serial = match inner.commit_lock.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        self.txn.commit().map_err(db_err)?;
        let snap = Snapshot::open(&inner.db, None)?;
        match inner.latest.write() {
            Ok(mut g) => *g = snap,
            Err(poisoned) => *poisoned.into_inner() = snap,
        }
        tracing::debug!(version = self.version, root = ?self.root, keys = self.keys, "committed");
        Ok(())
    }
}

/// Test helper: a store in a fresh temporary directory, deleted when the guard drops.
#[cfg(any(test, feature = "test-utils"))]
pub fn open_temp(config: StorageConfig) -> Result<(Storage, tempfile::TempDir), StorageError> {
    let dir = tempfile::tempdir().map_err(db_err)?;
    let storage = Storage::open(dir.path(), config)?;
    Ok((storage, dir))
}
