//! The operations behind both front ends (gRPC and REST), so they cannot disagree.
//!
//! Queries run in-process against the application (`App::query`, the same code ABCI `Query`
//! runs), which is cheaper than a round trip through CometBFT and answers at any retained
//! height. Transactions go through CometBFT (`broadcast_tx_sync`) so they enter the mempool and
//! gossip like any other; committed txs are read back with CometBFT's `/tx` index.

use super::comet::{CometRpc, Event as CometEvent, ExecTxResult};
use super::error::GatewayError;
use super::metrics as gw_metrics;
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxResponse;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{BroadcastMode, SimulateRequest, Tx, TxBody, TxRaw};
use cosmos_sdk_proto::tendermint::abci::{Event, EventAttribute};
use cosmos_sdk_proto::Any;
use prost::Message;
use std::time::Instant;
use ve_app::App;

/// ABCI query path of the tx simulation service.
pub const SIMULATE_PATH: &str = "/cosmos.tx.v1beta1.Service/Simulate";

/// Type URL under which a `Tx` is embedded in `TxResponse.tx`.
pub const TX_TYPE_URL: &str = "/cosmos.tx.v1beta1.Tx";

/// A successful query: the response bytes and the height they were read at.
#[derive(Debug, Clone)]
pub struct QueryOk {
    pub value: Vec<u8>,
    pub height: u64,
}

/// Shared state of the gateway: the application and the CometBFT RPC endpoint.
#[derive(Clone)]
pub struct Gateway {
    app: App,
    rpc: CometRpc,
}

impl Gateway {
    pub fn new(app: App, rpc_url: String) -> anyhow::Result<Self> {
        Ok(Self {
            app,
            rpc: CometRpc::new(rpc_url)?,
        })
    }

    /// The CometBFT RPC client.
    pub fn rpc(&self) -> &CometRpc {
        &self.rpc
    }

    /// Runs an ABCI query in-process at `height` (0 = latest) on the blocking pool, since a
    /// store read may touch disk. Records the query counter and latency histogram by path.
    pub async fn query(
        &self,
        path: &str,
        data: Vec<u8>,
        height: u64,
    ) -> Result<QueryOk, GatewayError> {
        let started = Instant::now();
        let app = self.app.clone();
        let owned_path = path.to_string();
        let res = tokio::task::spawn_blocking(move || app.query(&owned_path, &data, height, false))
            .await
            .map_err(|e| GatewayError::internal(format!("query task failed: {e}")))?;
        gw_metrics::record_query(path, res.code, started.elapsed());
        if res.code != 0 {
            return Err(GatewayError::from_abci(&res.codespace, res.code, &res.log));
        }
        Ok(QueryOk {
            value: res.value,
            height: res.height,
        })
    }

    /// `Service/Simulate`: accepts either `tx_bytes` or the deprecated decoded `tx` (which is
    /// re-encoded as `TxRaw`; signatures are not checked in simulation, so re-encoding is safe).
    #[allow(deprecated)] // `SimulateRequest.tx` is deprecated in the SDK but still accepted.
    pub async fn simulate(&self, mut req: SimulateRequest) -> Result<QueryOk, GatewayError> {
        if req.tx_bytes.is_empty() {
            let tx = req
                .tx
                .take()
                .ok_or_else(|| GatewayError::invalid("empty txBytes is not allowed"))?;
            req.tx_bytes = TxRaw {
                body_bytes: tx.body.map(|b| b.encode_to_vec()).unwrap_or_default(),
                auth_info_bytes: tx.auth_info.map(|a| a.encode_to_vec()).unwrap_or_default(),
                signatures: tx.signatures,
            }
            .encode_to_vec();
        }
        let data = SimulateRequest {
            tx: None,
            tx_bytes: req.tx_bytes,
        }
        .encode_to_vec();
        self.query(SIMULATE_PATH, data, 0).await
    }

    /// `Service/BroadcastTx`: SYNC (CheckTx result) or ASYNC. BLOCK mode was removed in
    /// Cosmos SDK v0.50; like the SDK we reject it and ask the client to poll GetTx.
    pub async fn broadcast(&self, tx_bytes: &[u8], mode: i32) -> Result<TxResponse, GatewayError> {
        if tx_bytes.is_empty() {
            return Err(GatewayError::invalid("invalid empty tx"));
        }
        let res = match BroadcastMode::try_from(mode) {
            Ok(BroadcastMode::Sync) => self.rpc.broadcast_tx_sync(tx_bytes).await,
            Ok(BroadcastMode::Async) => self.rpc.broadcast_tx_async(tx_bytes).await,
            _ => {
                return Err(GatewayError::invalid(
                    "unsupported broadcast mode; supported types: sync, async",
                ))
            }
        }
        .map_err(|e| GatewayError::new(tonic::Code::Unavailable, format!("{e:#}")))?;
        Ok(TxResponse {
            height: 0,
            txhash: res.hash,
            codespace: res.codespace,
            code: res.code,
            data: hex::encode_upper(&res.data),
            raw_log: res.log,
            logs: Vec::new(),
            info: String::new(),
            gas_wanted: 0,
            gas_used: 0,
            tx: None,
            timestamp: String::new(),
            events: Vec::new(),
        })
    }

    /// `Service/GetTx`: the committed tx by hex hash, from CometBFT's tx index, with the
    /// block time as `timestamp` like the SDK.
    pub async fn get_tx(&self, hash_hex: &str) -> Result<(Tx, TxResponse), GatewayError> {
        let hash = hex::decode(hash_hex.trim_start_matches("0x"))
            .ok()
            .filter(|h| h.len() == 32)
            .ok_or_else(|| {
                GatewayError::invalid(format!("invalid tx hash {hash_hex:?}: want 64 hex digits"))
            })?;
        let found = self
            .rpc
            .tx(&hash)
            .await
            .map_err(|e| GatewayError::new(tonic::Code::Unavailable, format!("{e:#}")))?
            .ok_or_else(|| {
                GatewayError::not_found(format!("tx not found: {}", hex::encode_upper(&hash)))
            })?;
        let timestamp = match self.rpc.block(Some(found.height)).await {
            Ok(b) => b.block.header.time,
            Err(_) => String::new(),
        };
        let tx = decode_tx(&found.tx)?;
        let resp = tx_response(
            found.height,
            &found.hash,
            &found.tx_result,
            &found.tx,
            timestamp,
        );
        Ok((tx, resp))
    }
}

/// Decodes raw tx bytes (`TxRaw` on the wire) into a `Tx` with its body and auth info decoded.
pub fn decode_tx(raw: &[u8]) -> Result<Tx, GatewayError> {
    let r =
        TxRaw::decode(raw).map_err(|e| GatewayError::invalid(format!("tx parse error: {e}")))?;
    let body = TxBody::decode(r.body_bytes.as_slice())
        .map_err(|e| GatewayError::invalid(format!("tx body parse error: {e}")))?;
    let auth_info =
        cosmos_sdk_proto::cosmos::tx::v1beta1::AuthInfo::decode(r.auth_info_bytes.as_slice())
            .map_err(|e| GatewayError::invalid(format!("tx auth info parse error: {e}")))?;
    Ok(Tx {
        body: Some(body),
        auth_info: Some(auth_info),
        signatures: r.signatures,
    })
}

/// Builds the SDK's `TxResponse` from CometBFT's execution result. `tx` embeds the raw bytes
/// unchanged: `Tx` and `TxRaw` share field numbers, so `TxRaw` bytes are a valid `Tx` encoding
/// and re-encoding (which could differ from what was signed) is avoided.
pub fn tx_response(
    height: u64,
    hash: &str,
    r: &ExecTxResult,
    raw: &[u8],
    timestamp: String,
) -> TxResponse {
    TxResponse {
        height: i64::try_from(height).unwrap_or(i64::MAX),
        txhash: hash.to_uppercase(),
        codespace: r.codespace.clone(),
        code: r.code,
        data: hex::encode_upper(&r.data),
        raw_log: r.log.clone(),
        logs: Vec::new(),
        info: r.info.clone(),
        gas_wanted: r.gas_wanted,
        gas_used: r.gas_used,
        tx: Some(Any {
            type_url: TX_TYPE_URL.to_string(),
            value: raw.to_vec(),
        }),
        timestamp,
        events: r.events.iter().map(to_abci_event).collect(),
    }
}

fn to_abci_event(e: &CometEvent) -> Event {
    Event {
        r#type: e.kind.clone(),
        attributes: e
            .attributes
            .iter()
            .map(|a| EventAttribute {
                key: a.key.clone(),
                value: a.value.clone(),
                index: a.index,
            })
            .collect(),
    }
}
