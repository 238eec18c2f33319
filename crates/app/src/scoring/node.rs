//! The App's side of the scoring consensus: the ABCI calls, each reading the latest
//! committed state through a throw-away overlay.

use super::{extension, fault, inject};
use crate::app::{App, BlockHeader};
use crate::execute::TxOutcome;
use ve_module::{BlockInfo, Context, GasMeter};
use ve_proto::tendermint_proto::v0_38::abci::{CommitInfo, ExtendedCommitInfo};
use ve_storage::{Changes, Delta, StateRead};
use ve_types::AppError;

impl App {
    /// Turns on test fault switches (docs/scoring-consensus.md, "Fault-injection
    /// switches"); each is honoured only while the chain allows simulated enclaves.
    pub fn with_scoring_faults(mut self, faults: fault::Faults) -> Self {
        self.scoring_faults = faults;
        self
    }

    /// Runs `f` against the latest committed state as block `height` at `time_unix`;
    /// whatever `f` writes is dropped.
    fn read_context<T>(
        &self,
        height: u64,
        time_unix: i64,
        f: impl FnOnce(&mut Context<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let snapshot = self.storage.latest_snapshot();
        let mut scratch = Delta::new(&snapshot);
        let mut gas = GasMeter::infinite();
        let mut events = Vec::new();
        let block = BlockInfo {
            height,
            time_unix,
            chain_id: self.chain_id(),
        };
        let mut ctx = Context::new(
            &mut scratch,
            &mut gas,
            &self.gas_config,
            &mut events,
            &block,
        );
        f(&mut ctx)
    }

    /// ExtendVote at `height`: the local enclave's signed results for the queued
    /// requests; empty without an enclave service or when nothing is queued.
    pub fn extend_vote(&self, height: u64, time_unix: i64) -> Vec<u8> {
        let Some(source) = self.score_source.clone() else {
            return Vec::new();
        };
        let chain_id = self.chain_id();
        match self.read_context(height, time_unix, extension::pending_requests) {
            Ok(requests) if !requests.is_empty() => {
                extension::build(source.as_ref(), &chain_id, height, &requests)
            }
            Ok(_) => Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read pending identity requests");
                Vec::new()
            }
        }
    }

    /// VerifyVoteExtension: accepts an extension only if it is well-formed for `height`
    /// and every result is signed by the sending validator's registered enclave.
    pub fn verify_vote_extension(&self, validator: &[u8], height: u64, bytes: &[u8]) -> bool {
        let Ok(validator) = <[u8; 20]>::try_from(validator) else {
            return false;
        };
        let chain_id = self.chain_id();
        let time = self.last_block_time();
        let dir = self.enclaves.clone();
        let r = self.read_context(height, time, |ctx| {
            extension::verify(ctx, dir.as_ref(), &chain_id, height, &validator, bytes)
        });
        if let Err(e) = &r {
            tracing::warn!(height, validator = %hex::encode_upper(validator), error = %e, "rejecting vote extension");
        }
        r.is_ok()
    }

    /// PrepareProposal: the mempool's transactions within `max_bytes`, behind the injected
    /// scoring transaction when the previous height's extensions reached a consensus.
    pub fn prepare_proposal(
        &self,
        height: u64,
        time_unix: i64,
        txs: Vec<Vec<u8>>,
        max_bytes: usize,
        commit: Option<&ExtendedCommitInfo>,
    ) -> Vec<Vec<u8>> {
        let chain_id = self.chain_id();
        let dir = self.enclaves.clone();
        let faults = self.scoring_faults;
        let injected = commit.and_then(|c| {
            self.read_context(height, time_unix, |ctx| {
                inject::prepare(ctx, dir.as_ref(), &chain_id, height, c)?
                    .map(|tx| fault::tamper_injected(ctx, faults, height, tx))
                    .transpose()
            })
            .unwrap_or_else(|e| {
                tracing::warn!(height, error = %e, "not injecting identity scores");
                None
            })
        });
        let mut out = Vec::with_capacity(txs.len().saturating_add(1));
        let mut used = 0usize;
        for tx in injected
            .into_iter()
            .chain(txs.into_iter().filter(|t| !inject::is_injected(t)))
        {
            used = used.saturating_add(tx.len());
            if used > max_bytes {
                break;
            }
            out.push(tx);
        }
        out
    }

    /// ProcessProposal: an injected transaction may only come first and must re-derive
    /// from the block's last commit.
    pub fn process_proposal(
        &self,
        height: u64,
        time_unix: i64,
        txs: &[Vec<u8>],
        commit: Option<&CommitInfo>,
    ) -> bool {
        if txs.iter().skip(1).any(|t| inject::is_injected(t)) {
            tracing::warn!(height, "rejecting proposal: injected transaction not first");
            return false;
        }
        let Some(first) = txs.first().filter(|t| inject::is_injected(t)) else {
            return true;
        };
        let Some(commit) = commit else {
            return false;
        };
        let chain_id = self.chain_id();
        let dir = self.enclaves.clone();
        let r = self.read_context(height, time_unix, |ctx| {
            inject::check(ctx, dir.as_ref(), &chain_id, height, first, commit)
        });
        if let Err(e) = &r {
            tracing::warn!(height, error = %e, "rejecting proposal");
        }
        r.is_ok()
    }

    /// FinalizeBlock's handling of an injected first transaction: the same check as
    /// ProcessProposal (a block-synced node never ran that), then the results applied in
    /// their own overlay. A failing check fails the transaction, deterministically.
    pub(crate) fn run_injected<S: StateRead>(
        &self,
        state: &S,
        block: &BlockInfo,
        header: &BlockHeader,
        tx: &[u8],
    ) -> (TxOutcome, Changes) {
        let mut overlay = Delta::new(state);
        let mut gas = GasMeter::infinite();
        let mut events = Vec::new();
        let result = {
            let mut ctx =
                Context::new(&mut overlay, &mut gas, &self.gas_config, &mut events, block);
            let commit = header.last_commit.clone().unwrap_or_default();
            inject::check(
                &mut ctx,
                self.enclaves.as_ref(),
                &block.chain_id,
                block.height,
                tx,
                &commit,
            )
            .and_then(|results| inject::apply(&mut ctx, &results))
        };
        match result {
            Ok(()) => (
                TxOutcome {
                    events,
                    ..TxOutcome::default()
                },
                overlay.into_changes(),
            ),
            Err(e) => (TxOutcome::failed(&e, 0, 0), Changes::new()),
        }
    }
}
