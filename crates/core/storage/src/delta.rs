use crate::{KvPairs, StateRead, StateWrite, StorageError};
use std::collections::BTreeMap;

/// Pending writes: `Some(value)` sets, `None` deletes. Ordered, so applying them is deterministic.
pub type Changes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A copy-on-write overlay over a base state. Reads see this overlay's writes first,
/// then the base. Nothing reaches the base until the caller takes [`Delta::into_changes`]
/// and applies them; dropping the delta discards every write.
pub struct Delta<B> {
    base: B,
    changes: Changes,
}

impl<B: StateRead> Delta<B> {
    pub fn new(base: B) -> Self {
        Self {
            base,
            changes: Changes::new(),
        }
    }

    /// The writes made so far, in key order.
    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    /// Consumes the overlay, returning its writes.
    pub fn into_changes(self) -> Changes {
        self.changes
    }

    /// Folds writes from a child overlay (one that was built on top of this one) into this one.
    pub fn apply(&mut self, changes: Changes) {
        self.changes.extend(changes);
    }

    pub fn base(&self) -> &B {
        &self.base
    }
}

impl<B: StateRead> StateRead for Delta<B> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        match self.changes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.base.get(key),
        }
    }

    fn range(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, StorageError> {
        use std::ops::Bound;
        let upper = match end {
            Some(e) => Bound::Excluded(e.to_vec()),
            None => Bound::Unbounded,
        };
        let local: Vec<(&Vec<u8>, &Option<Vec<u8>>)> = self
            .changes
            .range((Bound::Included(start.to_vec()), upper))
            .collect();
        // Deleted keys may hide base entries, so ask the base for enough to fill `limit`
        // even if every local deletion falls inside the range.
        let deletions = local.iter().filter(|(_, v)| v.is_none()).count();
        let base = self
            .base
            .range(start, end, limit.saturating_add(deletions))?;

        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = base.into_iter().collect();
        for (k, v) in local {
            match v {
                Some(v) => {
                    merged.insert(k.clone(), v.clone());
                }
                None => {
                    merged.remove(k);
                }
            }
        }
        Ok(merged.into_iter().take(limit).collect())
    }
}

impl<B: StateRead> StateWrite for Delta<B> {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.changes.insert(key, Some(value));
    }
    fn delete(&mut self, key: Vec<u8>) {
        self.changes.insert(key, None);
    }
}
