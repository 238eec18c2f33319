/// Failures of the store. Any of these inside block execution is fatal for the node
/// (the disk is broken or the data is corrupt), never a transaction error.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Db(String),
    #[error("merkle tree error: {0}")]
    Tree(String),
    #[error("version {requested} is not available (retained: {oldest:?}..={latest:?})")]
    VersionUnavailable {
        requested: u64,
        oldest: Option<u64>,
        latest: Option<u64>,
    },
    #[error("commit of version {got} out of order: latest committed is {latest:?}")]
    NonSequentialVersion { got: u64, latest: Option<u64> },
    #[error("corrupt store: {0}")]
    Corrupt(String),
}
