//! Mock consensus: drives the application in-process (InitChain, FinalizeBlock, Commit)
//! with no CometBFT, no sockets and no wall clock. App tests and benchmarks use it so
//! they run in milliseconds and exactly the same way every time.

use crate::app::{App, BlockHeader, BlockOutcome};
use crate::genesis::AppGenesis;
use ve_storage::{Storage, StorageConfig};
use ve_types::AppError;

/// Chain id used by the harness unless a test picks another.
pub const TEST_CHAIN_ID: &str = "virtengine-test-1";
/// Block interval of the harness clock, in seconds.
pub const BLOCK_SECONDS: i64 = 5;

/// A single-node chain driven by the test.
pub struct TestNode {
    app: App,
    height: u64,
    time_unix: i64,
    _dir: Option<tempfile::TempDir>,
}

impl TestNode {
    /// A fresh chain in a temporary directory, initialised from `genesis`.
    pub fn new(genesis: &AppGenesis) -> Result<Self, AppError> {
        let dir = tempfile::tempdir().map_err(|e| AppError::new("test", 1, e.to_string()))?;
        let storage = Storage::open(dir.path(), StorageConfig::default())
            .map_err(|e| AppError::new("store", 1, e.to_string()))?;
        let mut node = Self::with_app(App::with_storage(storage)?, 0);
        node._dir = Some(dir);
        node.init_chain(TEST_CHAIN_ID, genesis)?;
        Ok(node)
    }

    /// A fresh chain whose CometBFT validator set is `validators` (Ed25519 keys, powers)
    /// and whose enclave registry is `enclaves`: for scoring-consensus tests.
    pub fn with_validators(
        genesis: &AppGenesis,
        validators: &[([u8; 32], u64)],
        enclaves: std::sync::Arc<dyn crate::scoring::EnclaveDirectory>,
    ) -> Result<Self, AppError> {
        let dir = tempfile::tempdir().map_err(|e| AppError::new("test", 1, e.to_string()))?;
        let storage = Storage::open(dir.path(), StorageConfig::default())
            .map_err(|e| AppError::new("store", 1, e.to_string()))?;
        let app = App::with_storage(storage)?.with_enclave_directory(enclaves);
        let mut node = Self::with_app(app, 0);
        node._dir = Some(dir);
        let json =
            serde_json::to_vec(genesis).map_err(|e| AppError::new("genesis", 1, e.to_string()))?;
        node.app
            .init_chain_with_validators(TEST_CHAIN_ID, &json, validators)?;
        Ok(node)
    }

    /// The next block's height and time, as the harness will give them.
    pub fn next_header(&self) -> (u64, i64) {
        (
            self.height.saturating_add(1),
            self.time_unix.saturating_add(BLOCK_SECONDS),
        )
    }

    /// One block carrying `last_commit` (CometBFT's `decided_last_commit`), against which
    /// an injected scoring transaction in `txs[0]` is checked.
    pub fn execute_block_with_commit(
        &mut self,
        txs: &[Vec<u8>],
        last_commit: ve_proto::tendermint_proto::v0_38::abci::CommitInfo,
    ) -> Result<BlockOutcome, AppError> {
        self.height = self.height.saturating_add(1);
        self.time_unix = self.time_unix.saturating_add(BLOCK_SECONDS);
        let outcome = self.app.finalize_block(
            &BlockHeader {
                height: self.height,
                time_unix: self.time_unix,
                last_commit: Some(last_commit),
            },
            txs,
        )?;
        self.app.commit()?;
        Ok(outcome)
    }

    /// A fresh node started from an exported genesis taken at `height`: its first block
    /// is `height + 1`, with the clock where the exporting node's harness clock was.
    pub fn from_export(genesis: &AppGenesis, height: u64) -> Result<Self, AppError> {
        let dir = tempfile::tempdir().map_err(|e| AppError::new("test", 1, e.to_string()))?;
        let storage = Storage::open(dir.path(), StorageConfig::default())
            .map_err(|e| AppError::new("store", 1, e.to_string()))?;
        let mut node = Self::with_app(App::with_storage(storage)?, height);
        node._dir = Some(dir);
        node.init_chain(TEST_CHAIN_ID, genesis)?;
        Ok(node)
    }

    /// Wraps an existing app whose last committed height is `height` (for restart tests).
    pub fn with_app(app: App, height: u64) -> Self {
        let time_unix =
            1_700_000_000_i64.saturating_add(BLOCK_SECONDS.saturating_mul(height as i64));
        Self {
            app,
            height,
            time_unix,
            _dir: None,
        }
    }

    pub fn init_chain(&mut self, chain_id: &str, genesis: &AppGenesis) -> Result<(), AppError> {
        let json =
            serde_json::to_vec(genesis).map_err(|e| AppError::new("genesis", 1, e.to_string()))?;
        self.app.init_chain(chain_id, &json).map(|_| ())
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// Height of the last committed block.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// FinalizeBlock then Commit of one block holding `txs`.
    pub fn execute_block(&mut self, txs: &[Vec<u8>]) -> Result<BlockOutcome, AppError> {
        let outcome = self.finalize_block(txs)?;
        self.app.commit()?;
        Ok(outcome)
    }

    /// One block whose system step (after begin-block, before the transactions) runs
    /// `step`: how tests drive keeper-internal APIs, e.g. identity verification results.
    pub fn execute_block_with_system(
        &mut self,
        txs: &[Vec<u8>],
        step: crate::SystemStep<'_>,
    ) -> Result<BlockOutcome, AppError> {
        self.height = self.height.saturating_add(1);
        self.time_unix = self.time_unix.saturating_add(BLOCK_SECONDS);
        let outcome = self.app.finalize_block_with_system(
            &BlockHeader {
                height: self.height,
                time_unix: self.time_unix,
                last_commit: None,
            },
            txs,
            Some(step),
        )?;
        self.app.commit()?;
        Ok(outcome)
    }

    /// Block time (unix seconds) of the last block.
    pub fn time(&self) -> i64 {
        self.time_unix
    }

    /// Jumps the harness clock forward by `seconds` (the next block carries the new time).
    pub fn advance_time(&mut self, seconds: i64) {
        self.time_unix = self.time_unix.saturating_add(seconds);
    }

    /// FinalizeBlock only, leaving the block staged (for crash tests).
    pub fn finalize_block(&mut self, txs: &[Vec<u8>]) -> Result<BlockOutcome, AppError> {
        self.height = self.height.saturating_add(1);
        self.time_unix = self.time_unix.saturating_add(BLOCK_SECONDS);
        self.app.finalize_block(
            &BlockHeader {
                height: self.height,
                time_unix: self.time_unix,
                last_commit: None,
            },
            txs,
        )
    }

    /// Empty blocks until `height`.
    pub fn advance_to(&mut self, height: u64) -> Result<(), AppError> {
        while self.height < height {
            self.execute_block(&[])?;
        }
        Ok(())
    }
}
