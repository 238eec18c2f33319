//! The application state machine behind the ABCI connections.
//!
//! Block lifecycle: `finalize_block` executes the block into an overlay and computes the
//! new app hash by staging (not yet making durable) the JMT update; `commit` makes it
//! durable in one database transaction. A crash before `commit` leaves the store at the
//! previous height, and CometBFT's handshake replays the block.

use crate::execute::{run_tx, Env, Mode, PreVerified, TxOutcome};
use crate::genesis::AppGenesis;
use crate::tx::{decode_tx, sign_doc_bytes, CheckedTx};
use crate::StateExport;
use crate::{modules, AppConfig};
use rayon::prelude::*;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use ve_module::{BlockInfo, GasConfig, QueryContext, ReadOnly, Router, Store};
use ve_storage::{Changes, Delta, PreparedCommit, Snapshot, StateRead, Storage, StorageError};
use ve_types::AppError;

/// `app/chain_id` → the chain id given at InitChain (UTF-8).
const CHAIN_ID_KEY: &[u8] = b"app/chain_id";

/// The answer to an ABCI query, ready for any transport (ABCI, gRPC, REST).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryResult {
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub height: u64,
    /// ICS-23 `CommitmentProof` bytes, for `prove = true` raw-key queries.
    pub proof: Option<Vec<u8>>,
}

impl QueryResult {
    pub(crate) fn error(err: &AppError, height: u64) -> Self {
        Self {
            code: err.code,
            codespace: err.codespace.to_string(),
            log: err.message.clone(),
            height,
            ..Self::default()
        }
    }
}

/// Block header facts the app needs from FinalizeBlock.
#[derive(Clone, Debug, Default)]
pub struct BlockHeader {
    pub height: u64,
    pub time_unix: i64,
    /// The block's last commit (`decided_last_commit`), against which an injected
    /// scoring transaction is checked. `None` in harnesses that inject none.
    pub last_commit: Option<ve_proto::tendermint_proto::v0_38::abci::CommitInfo>,
}

/// What FinalizeBlock returns.
#[derive(Debug)]
pub struct BlockOutcome {
    pub(crate) tx_results: Vec<TxOutcome>,
    /// Events of the begin- and end-block hooks.
    pub events: Vec<ve_module::Event>,
    pub app_hash: [u8; 32],
}

impl BlockOutcome {
    /// (code, codespace, log) per transaction, in block order.
    pub fn results(&self) -> impl Iterator<Item = (u32, &str, &str)> {
        self.tx_results
            .iter()
            .map(|r| (r.code, r.codespace.as_str(), r.log.as_str()))
    }

    /// Events and response data (`TxMsgData`) of each transaction, in block order.
    pub fn tx_events_and_data(&self) -> impl Iterator<Item = (&[ve_module::Event], &[u8])> {
        self.tx_results
            .iter()
            .map(|r| (r.events.as_slice(), r.data.as_slice()))
    }
}

struct Pending {
    height: u64,
    prepared: PreparedCommit,
}

struct Inner {
    chain_id: String,
    /// Genesis writes, kept until the first block commits them together with it.
    genesis: Option<Changes>,
    /// A finalized block waiting for `commit`.
    pending: Option<Pending>,
    /// Mempool state: the latest committed state plus accepted CheckTx effects.
    /// Built lazily after each commit.
    check_state: Option<Delta<Snapshot>>,
    /// Time of the last finalized block: the clock of VerifyVoteExtension, which CometBFT
    /// gives none.
    last_block_time: i64,
}

/// The VirtEngine application. Cheap to clone; all clones share one state machine.
#[derive(Clone)]
pub struct App {
    pub(crate) storage: Storage,
    router: Arc<Router>,
    pub(crate) gas_config: Arc<GasConfig>,
    inner: Arc<Mutex<Inner>>,
    /// The local enclave service that scores identity requests for vote extensions.
    pub(crate) score_source: Option<Arc<dyn crate::scoring::ScoreSource>>,
    /// The enclave registry as consensus code reads it.
    pub(crate) enclaves: Arc<dyn crate::scoring::EnclaveDirectory>,
    /// Test-only fault switches of the scoring consensus (off unless app.toml sets them).
    pub(crate) scoring_faults: crate::scoring::fault::Faults,
}

fn fatal(e: StorageError) -> AppError {
    AppError::new("store", 1, format!("storage failure: {e}"))
}

impl App {
    /// Opens (or creates) the application state under `data_dir`.
    pub fn open(data_dir: &Path, config: AppConfig) -> Result<Self, AppError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            AppError::new(
                "store",
                1,
                format!("cannot create {}: {e}", data_dir.display()),
            )
        })?;
        let storage = Storage::open(data_dir, config.storage).map_err(fatal)?;
        Self::with_storage(storage)
    }

    pub fn with_storage(storage: Storage) -> Result<Self, AppError> {
        let router = modules::router().map_err(|e| AppError::new("app", 1, e))?;
        // The chain id arrives only with InitChain, which CometBFT does not repeat after a
        // restart; it is kept in state so a restarted node verifies signatures the same way.
        let chain_id = ReadOnly(&storage.latest_snapshot())
            .get(CHAIN_ID_KEY)?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        Ok(Self {
            storage,
            router: Arc::new(router),
            gas_config: Arc::new(GasConfig::default()),
            inner: Arc::new(Mutex::new(Inner {
                chain_id,
                genesis: None,
                pending: None,
                check_state: None,
                last_block_time: 0,
            })),
            score_source: None,
            enclaves: modules::enclave_directory(),
            scoring_faults: crate::scoring::fault::Faults::default(),
        })
    }

    /// Scores identity requests with `source` in ExtendVote (the node's enclave service).
    pub fn with_score_source(mut self, source: Arc<dyn crate::scoring::ScoreSource>) -> Self {
        self.score_source = Some(source);
        self
    }

    /// Reads enclave identities from `dir` instead of the composed registry (harnesses).
    pub fn with_enclave_directory(
        mut self,
        dir: Arc<dyn crate::scoring::EnclaveDirectory>,
    ) -> Self {
        self.enclaves = dir;
        self
    }

    /// Block time of the last finalized block (0 before the first one since start).
    pub(crate) fn last_block_time(&self) -> i64 {
        self.lock().last_block_time
    }

    /// The chain id (empty before InitChain).
    pub(crate) fn chain_id(&self) -> String {
        self.lock().chain_id.clone()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock is already a node failure; keep serving reads.
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// The whole state at committed `height` (0 = latest) as a genesis `app_state`.
    pub fn export_genesis(&self, height: u64) -> Result<AppGenesis, AppError> {
        let snapshot = self.snapshot_at(height)?;
        Ok(AppGenesis {
            state: Some(StateExport::from_snapshot(&snapshot)?),
            ..AppGenesis::default()
        })
    }

    /// Last committed height (0 before the first block) and its app hash.
    pub fn info(&self) -> (u64, Vec<u8>) {
        match self.storage.latest_version() {
            Some(v) => (v, self.storage.latest_root_hash().to_vec()),
            None => (0, Vec::new()),
        }
    }

    /// InitChain: validates genesis and stages its writes for the first block, which
    /// commits both. Returns the app hash to report: empty for a new chain (CometBFT keeps
    /// genesis.json's, also empty), the imported state's hash for an exported genesis.
    pub fn init_chain(&self, chain_id: &str, app_state: &[u8]) -> Result<Vec<u8>, AppError> {
        self.init_chain_with_validators(chain_id, app_state, &[])
    }

    /// InitChain with CometBFT's genesis validator set (Ed25519 keys and powers), kept in
    /// state for checking vote-extension signatures.
    pub fn init_chain_with_validators(
        &self,
        chain_id: &str,
        app_state: &[u8],
        validators: &[([u8; 32], u64)],
    ) -> Result<Vec<u8>, AppError> {
        let genesis =
            AppGenesis::from_json(app_state).map_err(|e| AppError::new("genesis", 1, e))?;
        let snapshot = self.storage.latest_snapshot();
        let mut delta = Delta::new(&snapshot);
        {
            let mut gas = ve_module::GasMeter::infinite();
            let mut events = Vec::new();
            let block = BlockInfo {
                height: 0,
                time_unix: 0,
                chain_id: chain_id.to_string(),
            };
            let mut ctx = ve_module::Context::new(
                &mut delta,
                &mut gas,
                &self.gas_config,
                &mut events,
                &block,
            );
            match &genesis.state {
                Some(export) => {
                    genesis
                        .validate()
                        .map_err(|e| AppError::new("genesis", 1, e))?;
                    let changes = export.changes()?;
                    StateExport::write(&changes, &mut ctx)?;
                }
                None => modules::init_genesis(&mut ctx, &genesis)?,
            }
            ctx.put(CHAIN_ID_KEY.to_vec(), chain_id.as_bytes().to_vec())?;
            if !validators.is_empty() {
                crate::scoring::validators::save(&mut ctx, validators)?;
            }
        }
        let changes = delta.into_changes();
        let app_hash = match &genesis.state {
            Some(export) => export.initial_app_hash(&self.storage, &changes)?,
            None => Vec::new(),
        };
        let mut inner = self.lock();
        inner.chain_id = chain_id.to_string();
        inner.genesis = Some(changes);
        inner.check_state = None;
        Ok(app_hash)
    }

    /// Stateless checks and signature pre-verification for a batch, in parallel.
    /// A signature is verified here against the account number in the block-start state;
    /// accounts created within the block are verified later, in order.
    fn precheck(
        &self,
        txs: &[Vec<u8>],
        base: &(dyn StateRead + Sync),
        chain_id: &str,
    ) -> Vec<Result<(CheckedTx, PreVerified), AppError>> {
        txs.par_iter()
            .map(|bytes| {
                let tx = decode_tx(bytes, &self.router, false)?;
                let mut pre = Vec::with_capacity(tx.signers.len());
                for s in &tx.signers {
                    let account = ve_auth::state::get_account(&mut ReadOnly(base), &s.address)?;
                    pre.push(account.and_then(|a| {
                        let doc = sign_doc_bytes(
                            &tx.body_bytes,
                            &tx.auth_info_bytes,
                            chain_id,
                            a.account_number,
                        );
                        s.pub_key
                            .verify(&doc, &s.signature)
                            .ok()
                            .map(|()| a.account_number)
                    }));
                }
                Ok((tx, pre))
            })
            .collect()
    }

    /// FinalizeBlock: executes every transaction in order and stages the commit.
    pub fn finalize_block(
        &self,
        header: &BlockHeader,
        txs: &[Vec<u8>],
    ) -> Result<BlockOutcome, AppError> {
        self.finalize_block_with_system(header, txs, None)
    }

    /// FinalizeBlock with a system step that runs after begin-block and before the
    /// transactions, where the scoring consensus's injected results will apply (issue 5).
    /// Until then only the test harness passes one, to drive keeper-internal APIs such as
    /// identity scores that no message may set.
    pub fn finalize_block_with_system(
        &self,
        header: &BlockHeader,
        txs: &[Vec<u8>],
        system: Option<SystemStep<'_>>,
    ) -> Result<BlockOutcome, AppError> {
        let mut inner = self.lock();
        if inner.pending.is_some() {
            // CometBFT never finalizes twice without a commit; a stale stage is discarded.
            inner.pending = None;
        }
        let snapshot = self.storage.latest_snapshot();
        let mut block_state = Delta::new(&snapshot);
        if let Some(genesis) = &inner.genesis {
            block_state.apply(genesis.clone());
        }
        let block = BlockInfo {
            height: header.height,
            time_unix: header.time_unix,
            chain_id: inner.chain_id.clone(),
        };
        let env = Env {
            block: &block,
            gas_config: &self.gas_config,
        };

        let mut block_events = Vec::new();
        run_block_hook(
            &mut block_state,
            &self.gas_config,
            &block,
            &mut block_events,
            &modules::begin_block,
        )?;
        if let Some(step) = system {
            run_block_hook(
                &mut block_state,
                &self.gas_config,
                &block,
                &mut block_events,
                step,
            )?;
        }

        let mut tx_results = Vec::with_capacity(txs.len());
        let user_txs = match txs.first() {
            Some(first) if crate::scoring::inject::is_injected(first) => {
                let (outcome, changes) = self.run_injected(&block_state, &block, header, first);
                block_state.apply(changes);
                tx_results.push(outcome);
                &txs[1..]
            }
            _ => txs,
        };
        let prechecked = {
            let base: &(dyn StateRead + Sync) = &block_state;
            self.precheck(user_txs, base, &block.chain_id)
        };
        for checked in prechecked {
            match checked {
                Err(e) => tx_results.push(TxOutcome::failed(&e, 0, 0)),
                Ok((tx, pre)) => {
                    let (outcome, changes) = run_tx(&env, &block_state, &tx, &pre, Mode::Deliver);
                    block_state.apply(changes);
                    tx_results.push(outcome);
                }
            }
        }
        if let Some(e) = tx_results.iter().find(|r| r.codespace == "store") {
            // Never commit a block whose execution hit a storage failure: halt instead.
            return Err(AppError::new("store", 1, e.log.clone()));
        }
        run_block_hook(
            &mut block_state,
            &self.gas_config,
            &block,
            &mut block_events,
            &modules::end_block,
        )?;
        let changes = block_state.into_changes();
        let prepared = self
            .storage
            .prepare(&changes, header.height)
            .map_err(fatal)?;
        let app_hash = prepared.root_hash();
        inner.pending = Some(Pending {
            height: header.height,
            prepared,
        });
        inner.last_block_time = header.time_unix;
        Ok(BlockOutcome {
            tx_results,
            events: block_events,
            app_hash,
        })
    }

    /// Commit: makes the staged block durable and resets the mempool state.
    pub fn commit(&self) -> Result<u64, AppError> {
        let mut inner = self.lock();
        let pending = inner
            .pending
            .take()
            .ok_or_else(|| AppError::new("app", 2, "commit without a finalized block"))?;
        pending.prepared.commit().map_err(fatal)?;
        inner.genesis = None;
        inner.check_state = None;
        Ok(pending.height)
    }

    /// CheckTx (new or recheck): stateless checks plus ante against the mempool state.
    pub fn check_tx(&self, bytes: &[u8]) -> TxOutcomeView {
        if crate::scoring::inject::is_injected(bytes) {
            let e = AppError::new(
                "scoring",
                4,
                "identity scoring results are injected by block proposers, never sent as transactions",
            );
            return TxOutcome::failed(&e, 0, 0).into();
        }
        let tx = match decode_tx(bytes, &self.router, false) {
            Err(e) => return TxOutcome::failed(&e, 0, 0).into(),
            Ok(tx) => tx,
        };
        let mut guard = self.lock();
        let inner = &mut *guard;
        let state = inner.check_state.get_or_insert_with(|| {
            let mut d = Delta::new(self.storage.latest_snapshot());
            if let Some(genesis) = &inner.genesis {
                d.apply(genesis.clone());
            }
            d
        });
        let height = state.base().version().saturating_add(1);
        let block = BlockInfo {
            height,
            time_unix: 0,
            chain_id: inner.chain_id.clone(),
        };
        let env = Env {
            block: &block,
            gas_config: &self.gas_config,
        };
        let pre = vec![None; tx.signers.len()];
        let (outcome, changes) = run_tx(&env, &*state, &tx, &pre, Mode::Check);
        if outcome.code == 0 {
            state.apply(changes);
        }
        TxOutcomeView::from(outcome)
    }

    /// Runs a transaction without signatures against the latest state, for gas estimation.
    pub(crate) fn simulate(&self, bytes: &[u8]) -> Result<TxOutcome, AppError> {
        let chain_id = self.lock().chain_id.clone();
        let snapshot = self.storage.latest_snapshot();
        let block = BlockInfo {
            height: snapshot.version().saturating_add(1),
            time_unix: 0,
            chain_id,
        };
        let env = Env {
            block: &block,
            gas_config: &self.gas_config,
        };
        let tx = decode_tx(bytes, &self.router, true)?;
        let pre = vec![None; tx.signers.len()];
        let (outcome, _) = run_tx(&env, &snapshot, &tx, &pre, Mode::Simulate);
        if outcome.code != 0 {
            return Err(AppError {
                codespace: "sdk",
                code: outcome.code,
                message: outcome.log,
            });
        }
        Ok(outcome)
    }

    /// Answers a query at `height` (0 = latest).
    pub fn query(&self, path: &str, data: &[u8], height: u64, prove: bool) -> QueryResult {
        let snapshot = match self.snapshot_at(height) {
            Ok(s) => s,
            Err(e) => return QueryResult::error(&e, height),
        };
        let version = snapshot.version();
        if path == crate::query::SIMULATE {
            return crate::query::simulate(self, data, version);
        }
        if let Some(key) = crate::query::raw_key_path(path, data) {
            return crate::query::raw_key(&snapshot, key, prove);
        }
        let ctx = QueryContext {
            store: &snapshot,
            height: version,
        };
        match modules::route_query(&ctx, path, data) {
            Ok(value) => QueryResult {
                value,
                height: version,
                ..QueryResult::default()
            },
            Err(e) => QueryResult::error(&e, version),
        }
    }

    fn snapshot_at(&self, height: u64) -> Result<Snapshot, AppError> {
        if height == 0 {
            return Ok(self.storage.latest_snapshot());
        }
        self.storage.snapshot(height).map_err(|e| {
            AppError::new(
                ve_module::SDK_CODESPACE,
                26,
                format!("cannot query height {height}: {e}"),
            )
        })
    }
}

/// A transaction outcome as callers outside the crate see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxOutcomeView {
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub gas_wanted: u64,
    pub gas_used: u64,
}

impl From<TxOutcome> for TxOutcomeView {
    fn from(o: TxOutcome) -> Self {
        Self {
            code: o.code,
            codespace: o.codespace,
            log: o.log,
            gas_wanted: o.gas_wanted,
            gas_used: o.gas_used,
        }
    }
}

/// A block-level step with a context: module begin/end hooks, and the system step.
pub type SystemStep<'a> = &'a dyn Fn(&mut ve_module::Context<'_>) -> Result<(), AppError>;

/// Runs a begin/end-block hook in its own overlay with an unlimited gas meter (block hooks
/// are not paid for by anyone, so they must bound their own work). A hook error halts the
/// node rather than committing a block that other nodes might execute differently.
fn run_block_hook<S: StateRead>(
    state: &mut Delta<S>,
    gas_config: &GasConfig,
    block: &BlockInfo,
    events: &mut Vec<ve_module::Event>,
    hook: SystemStep<'_>,
) -> Result<(), AppError> {
    let mut gas = ve_module::GasMeter::infinite();
    let mut hook_state = Delta::new(&*state);
    let mut hook_events = Vec::new();
    {
        let mut ctx = ve_module::Context::new(
            &mut hook_state,
            &mut gas,
            gas_config,
            &mut hook_events,
            block,
        );
        hook(&mut ctx)?;
    }
    let changes = hook_state.into_changes();
    state.apply(changes);
    events.extend(hook_events);
    Ok(())
}
