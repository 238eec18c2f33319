use crate::StorageError;

/// Key-value pairs in ascending key order, as returned by range reads.
pub type KvPairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Read access to state. Object safe, so contexts can hold `&dyn StateRead`.
pub trait StateRead {
    /// The value stored under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;

    /// Up to `limit` entries with `start <= key < end` (no upper bound if `end` is `None`),
    /// in ascending key order.
    fn range(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, StorageError>;

    /// Up to `limit` entries whose key starts with `prefix`, in ascending key order.
    fn prefix(&self, prefix: &[u8], limit: usize) -> Result<KvPairs, StorageError> {
        let end = prefix_end(prefix);
        self.range(prefix, end.as_deref(), limit)
    }
}

/// Write access to state.
pub trait StateWrite: StateRead {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>);
    fn delete(&mut self, key: Vec<u8>);
}

impl<T: StateRead + ?Sized> StateRead for &T {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).get(key)
    }
    fn range(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, StorageError> {
        (**self).range(start, end, limit)
    }
}

impl<T: StateRead + ?Sized> StateRead for &mut T {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).get(key)
    }
    fn range(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, StorageError> {
        (**self).range(start, end, limit)
    }
}

impl<T: StateWrite + ?Sized> StateWrite for &mut T {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        (**self).put(key, value)
    }
    fn delete(&mut self, key: Vec<u8>) {
        (**self).delete(key)
    }
}

/// The smallest key greater than every key starting with `prefix`, or `None` if the
/// prefix is all `0xff` (then the range is unbounded).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}
