use crate::{Context, QueryContext};
use ve_storage::{KvPairs, StateRead, StorageError};
use ve_types::AppError;

/// State access as module code sees it, so one typed accessor serves a metered
/// transaction [`Context`] and an unmetered read-only view (queries, pre-checks).
pub trait Store {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, AppError>;
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), AppError>;
    fn delete(&mut self, key: Vec<u8>) -> Result<(), AppError>;
    fn prefix(&mut self, prefix: &[u8], limit: usize) -> Result<KvPairs, AppError>;
    fn range(
        &mut self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, AppError>;
}

pub(crate) fn storage_err(e: StorageError) -> AppError {
    // A store failure is not the sender's fault; the app halts on it rather than
    // committing a block that could differ between nodes.
    AppError::new("store", 1, format!("storage failure: {e}"))
}

fn read_only() -> AppError {
    AppError::new("store", 2, "write attempted through a read-only view")
}

impl Store for Context<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, AppError> {
        Context::get(self, key)
    }
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), AppError> {
        Context::put(self, key, value)
    }
    fn delete(&mut self, key: Vec<u8>) -> Result<(), AppError> {
        Context::delete(self, key)
    }
    fn prefix(&mut self, prefix: &[u8], limit: usize) -> Result<KvPairs, AppError> {
        Context::prefix(self, prefix, limit)
    }
    fn range(
        &mut self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, AppError> {
        Context::range(self, start, end, limit)
    }
}

/// An unmetered read-only view over any state.
pub struct ReadOnly<'a>(pub &'a dyn StateRead);

impl Store for ReadOnly<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, AppError> {
        self.0.get(key).map_err(storage_err)
    }
    fn put(&mut self, _key: Vec<u8>, _value: Vec<u8>) -> Result<(), AppError> {
        Err(read_only())
    }
    fn delete(&mut self, _key: Vec<u8>) -> Result<(), AppError> {
        Err(read_only())
    }
    fn prefix(&mut self, prefix: &[u8], limit: usize) -> Result<KvPairs, AppError> {
        self.0.prefix(prefix, limit).map_err(storage_err)
    }
    fn range(
        &mut self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, AppError> {
        self.0.range(start, end, limit).map_err(storage_err)
    }
}

impl<'a> QueryContext<'a> {
    /// A [`Store`] over this query's state.
    pub fn store(&self) -> ReadOnly<'a> {
        ReadOnly(self.store)
    }
}
