//! The ABCI 2.0 surface: converts CometBFT requests into calls on [`App`] and serves
//! them over a socket with tower-abci. Nothing here decides anything; it only translates.

use crate::app::{App, BlockHeader};
use crate::execute::TxOutcome;
use bytes::Bytes;
use futures::future::{self, BoxFuture, FutureExt};
use std::task::{Context as TaskContext, Poll};
use tendermint::abci::{self, response, Code, Event as TmEvent, EventAttributeIndexExt};
use tendermint::block::Height;
use tendermint::merkle::proof::{ProofOp, ProofOps};
use tendermint::v0_38::abci::{
    ConsensusRequest, ConsensusResponse, InfoRequest, InfoResponse, MempoolRequest,
    MempoolResponse, SnapshotRequest, SnapshotResponse,
};
use tower_abci::BoxError;
use ve_module::Event;

/// Version string reported to CometBFT in Info.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

fn tm_events(events: &[Event]) -> Vec<TmEvent> {
    events
        .iter()
        .map(|e| {
            TmEvent::new(
                e.kind.clone(),
                e.attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()).index()),
            )
        })
        .collect()
}

/// Events in the protobuf form used inside Cosmos responses (e.g. `SimulateResponse`).
pub(crate) fn proto_events(events: &[Event]) -> Vec<tendermint_proto::abci::Event> {
    events
        .iter()
        .map(|e| tendermint_proto::abci::Event {
            r#type: e.kind.clone(),
            attributes: e
                .attributes
                .iter()
                .map(|(k, v)| tendermint_proto::abci::EventAttribute {
                    key: k.clone(),
                    value: v.clone(),
                    index: true,
                })
                .collect(),
        })
        .collect()
}

fn exec_result(o: &TxOutcome) -> abci::types::ExecTxResult {
    abci::types::ExecTxResult {
        code: Code::from(o.code),
        data: Bytes::from(o.data.clone()),
        log: o.log.clone(),
        info: String::new(),
        gas_wanted: i64::try_from(o.gas_wanted).unwrap_or(i64::MAX),
        gas_used: i64::try_from(o.gas_used).unwrap_or(i64::MAX),
        events: tm_events(&o.events),
        codespace: o.codespace.clone(),
    }
}

fn app_hash(bytes: Vec<u8>) -> Result<tendermint::AppHash, BoxError> {
    Ok(tendermint::AppHash::try_from(bytes)?)
}

impl App {
    fn consensus(&self, req: ConsensusRequest) -> Result<ConsensusResponse, BoxError> {
        Ok(match req {
            ConsensusRequest::InitChain(r) => {
                let validators: Vec<([u8; 32], u64)> = r
                    .validators
                    .iter()
                    .filter_map(|v| match v.pub_key {
                        tendermint::PublicKey::Ed25519(k) => {
                            let key = <[u8; 32]>::try_from(k.as_bytes()).ok()?;
                            Some((key, v.power.value()))
                        }
                        _ => None,
                    })
                    .collect();
                let initial_app_hash =
                    self.init_chain_with_validators(&r.chain_id, &r.app_state_bytes, &validators)?;
                tracing::info!(chain_id = %r.chain_id, validators = validators.len(), "init chain");
                ConsensusResponse::InitChain(response::InitChain {
                    consensus_params: None,
                    validators: vec![],
                    app_hash: app_hash(initial_app_hash)?,
                })
            }
            ConsensusRequest::PrepareProposal(r) => {
                let budget = usize::try_from(r.max_tx_bytes).unwrap_or(0);
                let commit = r.local_last_commit.clone().map(Into::into);
                let txs = self
                    .prepare_proposal(
                        r.height.value(),
                        r.time.unix_timestamp(),
                        r.txs.iter().map(|t| t.to_vec()).collect(),
                        budget,
                        commit.as_ref(),
                    )
                    .into_iter()
                    .map(Bytes::from)
                    .collect();
                ConsensusResponse::PrepareProposal(response::PrepareProposal { txs })
            }
            ConsensusRequest::ProcessProposal(r) => {
                let txs: Vec<Vec<u8>> = r.txs.iter().map(|t| t.to_vec()).collect();
                let commit = r.proposed_last_commit.clone().map(Into::into);
                if self.process_proposal(
                    r.height.value(),
                    r.time.unix_timestamp(),
                    &txs,
                    commit.as_ref(),
                ) {
                    ConsensusResponse::ProcessProposal(response::ProcessProposal::Accept)
                } else {
                    ConsensusResponse::ProcessProposal(response::ProcessProposal::Reject)
                }
            }
            ConsensusRequest::ExtendVote(r) => {
                let ext = self.extend_vote(r.height.value(), r.time.unix_timestamp());
                ConsensusResponse::ExtendVote(response::ExtendVote {
                    vote_extension: Bytes::from(ext),
                })
            }
            ConsensusRequest::VerifyVoteExtension(r) => {
                if self.verify_vote_extension(
                    r.validator_address.as_bytes(),
                    r.height.value(),
                    &r.vote_extension,
                ) {
                    ConsensusResponse::VerifyVoteExtension(response::VerifyVoteExtension::Accept)
                } else {
                    ConsensusResponse::VerifyVoteExtension(response::VerifyVoteExtension::Reject)
                }
            }
            ConsensusRequest::FinalizeBlock(r) => {
                let header = BlockHeader {
                    height: r.height.value(),
                    time_unix: r.time.unix_timestamp(),
                    last_commit: Some(r.decided_last_commit.clone().into()),
                };
                let txs: Vec<Vec<u8>> = r.txs.iter().map(|t| t.to_vec()).collect();
                let outcome = self.finalize_block(&header, &txs)?;
                metrics::counter!("virtengine_txs_total").increment(txs.len() as u64);
                metrics::gauge!("virtengine_block_height")
                    .set(u32::try_from(header.height).unwrap_or(u32::MAX));
                ConsensusResponse::FinalizeBlock(response::FinalizeBlock {
                    events: tm_events(&outcome.events),
                    tx_results: outcome.tx_results.iter().map(exec_result).collect(),
                    validator_updates: vec![],
                    consensus_param_updates: None,
                    app_hash: app_hash(outcome.app_hash.to_vec())?,
                })
            }
            ConsensusRequest::Commit => {
                let height = self.commit()?;
                tracing::debug!(height, "committed");
                ConsensusResponse::Commit(response::Commit {
                    data: Bytes::new(),
                    retain_height: Height::from(0u32),
                })
            }
        })
    }

    fn mempool(&self, req: MempoolRequest) -> MempoolResponse {
        let MempoolRequest::CheckTx(r) = req;
        let o = self.check_tx(&r.tx);
        MempoolResponse::CheckTx(response::CheckTx {
            code: Code::from(o.code),
            log: o.log,
            gas_wanted: i64::try_from(o.gas_wanted).unwrap_or(i64::MAX),
            gas_used: i64::try_from(o.gas_used).unwrap_or(i64::MAX),
            codespace: o.codespace,
            ..Default::default()
        })
    }

    fn info_query(&self, req: InfoRequest) -> Result<InfoResponse, BoxError> {
        Ok(match req {
            InfoRequest::Info(_) => {
                let (height, hash) = self.info();
                InfoResponse::Info(response::Info {
                    data: "virtengine".to_string(),
                    version: APP_VERSION.to_string(),
                    app_version: 1,
                    last_block_height: Height::try_from(height)?,
                    last_block_app_hash: app_hash(hash)?,
                })
            }
            InfoRequest::Query(q) => {
                let r = self.query(&q.path, &q.data, q.height.value(), q.prove);
                InfoResponse::Query(response::Query {
                    code: Code::from(r.code),
                    log: r.log,
                    info: String::new(),
                    index: 0,
                    key: Bytes::from(r.key.clone()),
                    value: Bytes::from(r.value),
                    proof: r.proof.map(|data| ProofOps {
                        ops: vec![ProofOp {
                            field_type: "ics23:jmt".to_string(),
                            key: r.key,
                            data,
                        }],
                    }),
                    height: Height::try_from(r.height)?,
                    codespace: r.codespace,
                })
            }
            InfoRequest::Echo(e) => InfoResponse::Echo(response::Echo { message: e.message }),
        })
    }

    /// Serves ABCI on a TCP address such as `127.0.0.1:26658`.
    pub async fn serve_tcp(self, addr: &str) -> Result<(), BoxError> {
        self.server()?.listen_tcp(addr.to_string()).await
    }

    /// Serves ABCI on a unix socket path.
    pub async fn serve_unix(self, path: impl AsRef<std::path::Path>) -> Result<(), BoxError> {
        self.server()?.listen_unix(path).await
    }

    fn server(
        self,
    ) -> Result<
        tower_abci::v038::Server<AbciService, AbciService, AbciService, AbciService>,
        BoxError,
    > {
        let svc = AbciService(self);
        tower_abci::v038::Server::builder()
            .consensus(svc.clone())
            .mempool(svc.clone())
            .info(svc.clone())
            .snapshot(svc)
            .finish()
            .ok_or_else(|| "incomplete ABCI server".into())
    }
}

/// One tower service for all four ABCI connections.
///
/// Consensus and mempool requests run inside `call`, in the order tower-abci reads them
/// from the socket: CheckTx order decides which of two same-sequence transactions wins,
/// and FinalizeBlock/Commit must never overlap. Info and queries are read-only and run
/// on the blocking pool, concurrently.
#[derive(Clone)]
pub struct AbciService(App);

impl tower::Service<ConsensusRequest> for AbciService {
    type Response = ConsensusResponse;
    type Error = BoxError;
    type Future = future::Ready<Result<ConsensusResponse, BoxError>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: ConsensusRequest) -> Self::Future {
        let result = self.0.consensus(req);
        if let Err(e) = &result {
            tracing::error!(error = %e, "consensus request failed: the node stops rather than diverge");
        }
        future::ready(result)
    }
}

impl tower::Service<MempoolRequest> for AbciService {
    type Response = MempoolResponse;
    type Error = BoxError;
    type Future = future::Ready<Result<MempoolResponse, BoxError>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: MempoolRequest) -> Self::Future {
        future::ready(Ok(self.0.mempool(req)))
    }
}

impl tower::Service<InfoRequest> for AbciService {
    type Response = InfoResponse;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<InfoResponse, BoxError>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: InfoRequest) -> Self::Future {
        let app = self.0.clone();
        tokio::task::spawn_blocking(move || app.info_query(req))
            .map(|joined| match joined {
                Ok(result) => result,
                Err(e) => Err(Box::new(e) as BoxError),
            })
            .boxed()
    }
}

impl tower::Service<SnapshotRequest> for AbciService {
    type Response = SnapshotResponse;
    type Error = BoxError;
    type Future = future::Ready<Result<SnapshotResponse, BoxError>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    /// State sync is not offered yet: no snapshots, and offered ones are rejected.
    fn call(&mut self, req: SnapshotRequest) -> Self::Future {
        future::ready(Ok(match req {
            SnapshotRequest::ListSnapshots => SnapshotResponse::ListSnapshots(Default::default()),
            SnapshotRequest::OfferSnapshot(_) => {
                SnapshotResponse::OfferSnapshot(response::OfferSnapshot::Reject)
            }
            SnapshotRequest::LoadSnapshotChunk(_) => {
                SnapshotResponse::LoadSnapshotChunk(Default::default())
            }
            SnapshotRequest::ApplySnapshotChunk(_) => {
                SnapshotResponse::ApplySnapshotChunk(response::ApplySnapshotChunk {
                    result: response::ApplySnapshotChunkResult::Abort,
                    refetch_chunks: vec![],
                    reject_senders: vec![],
                })
            }
        }))
    }
}
