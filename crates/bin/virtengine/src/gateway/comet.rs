//! A small CometBFT v0.38 JSON-RPC client for the gateway and the load generator.
//!
//! It speaks only the handful of methods they need (`status`, `broadcast_tx_sync`, `tx`,
//! `block`, `block_results`, `abci_query`, `net_info`), over one pooled HTTP client so a
//! load run reuses connections. Responses are typed (serde) with CometBFT's own JSON
//! conventions: integers as strings, bytes as base64, hashes as upper-case hex.

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use std::time::Duration;

/// A CometBFT RPC endpoint (e.g. `http://127.0.0.1:26657`).
#[derive(Clone, Debug)]
pub struct CometRpc {
    url: String,
    http: reqwest::Client,
}

#[derive(Serialize)]
struct RpcRequest<'a, P: Serialize> {
    jsonrpc: &'static str,
    id: u64,
    method: &'a str,
    params: P,
}

#[derive(Deserialize)]
struct RpcResponse<R> {
    result: Option<R>,
    error: Option<RpcError>,
}

/// A JSON-RPC error object as CometBFT returns it (e.g. `tx (…) not found`).
#[derive(Clone, Debug, Deserialize)]
pub struct RpcError {
    pub code: i64,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub data: String,
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CometBFT RPC error {}: {} {}",
            self.code, self.message, self.data
        )
    }
}

impl std::error::Error for RpcError {}

/// CometBFT encodes 64-bit integers as JSON strings; accept numbers too.
pub fn de_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        S(String),
        N(u64),
    }
    match N::deserialize(d)? {
        N::S(s) => s.parse().map_err(serde::de::Error::custom),
        N::N(n) => Ok(n),
    }
}

/// Like [`de_u64`] for signed values (gas in `tx_result`).
pub fn de_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        S(String),
        N(i64),
    }
    match N::deserialize(d)? {
        N::S(s) => s.parse().map_err(serde::de::Error::custom),
        N::N(n) => Ok(n),
    }
}

/// Base64 bytes; `null` reads as empty.
pub fn de_b64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    match s {
        None => Ok(Vec::new()),
        Some(s) => B64.decode(s).map_err(serde::de::Error::custom),
    }
}

fn de_b64_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
    let v: Option<Vec<String>> = Option::deserialize(d)?;
    v.unwrap_or_default()
        .into_iter()
        .map(|s| B64.decode(s).map_err(serde::de::Error::custom))
        .collect()
}

fn de_null_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `broadcast_tx_sync` result: the CheckTx outcome.
#[derive(Clone, Debug, Deserialize)]
pub struct BroadcastResult {
    pub code: u32,
    #[serde(default, deserialize_with = "de_b64")]
    pub data: Vec<u8>,
    #[serde(default)]
    pub log: String,
    #[serde(default)]
    pub codespace: String,
    pub hash: String,
}

/// An ABCI event attribute; CometBFT v0.38 sends keys and values as plain strings.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct EventAttribute {
    #[serde(default)]
    pub key: String,
    #[serde(default, deserialize_with = "de_null_default")]
    pub value: String,
    #[serde(default)]
    pub index: bool,
}

/// An ABCI event.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "de_null_default")]
    pub attributes: Vec<EventAttribute>,
}

/// `ExecTxResult` as returned by `/tx` and `/block_results`.
#[derive(Clone, Debug, Deserialize)]
pub struct ExecTxResult {
    #[serde(default)]
    pub code: u32,
    #[serde(default, deserialize_with = "de_b64")]
    pub data: Vec<u8>,
    #[serde(default)]
    pub log: String,
    #[serde(default)]
    pub info: String,
    #[serde(default, deserialize_with = "de_i64")]
    pub gas_wanted: i64,
    #[serde(default, deserialize_with = "de_i64")]
    pub gas_used: i64,
    #[serde(default, deserialize_with = "de_null_default")]
    pub events: Vec<Event>,
    #[serde(default)]
    pub codespace: String,
}

/// `/tx` result: a committed transaction and its execution result.
#[derive(Clone, Debug, Deserialize)]
pub struct TxResult {
    pub hash: String,
    #[serde(deserialize_with = "de_u64")]
    pub height: u64,
    pub tx_result: ExecTxResult,
    #[serde(deserialize_with = "de_b64")]
    pub tx: Vec<u8>,
}

/// The parts of a block header the gateway and the load generator read.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Header {
    pub chain_id: String,
    #[serde(deserialize_with = "de_u64")]
    pub height: u64,
    /// RFC 3339 block time, kept as CometBFT formats it (Cosmos `TxResponse.timestamp`).
    pub time: String,
}

/// Block transactions.
#[derive(Clone, Debug, Deserialize)]
pub struct BlockData {
    #[serde(default, deserialize_with = "de_b64_list")]
    pub txs: Vec<Vec<u8>>,
}

/// A block as `/block` returns it (header and txs only).
#[derive(Clone, Debug, Deserialize)]
pub struct Block {
    pub header: Header,
    pub data: BlockData,
}

/// `/block` result. The raw JSON is kept so the REST gateway can proxy it unchanged.
#[derive(Clone, Debug, Deserialize)]
pub struct BlockResult {
    pub block: Block,
}

/// `/block_results` result (execution results of each tx, in block order).
#[derive(Clone, Debug, Deserialize)]
pub struct BlockResults {
    #[serde(default, deserialize_with = "de_null_default")]
    pub txs_results: Vec<ExecTxResult>,
}

/// `/status` sync info.
#[derive(Clone, Debug, Deserialize)]
pub struct SyncInfo {
    #[serde(deserialize_with = "de_u64")]
    pub latest_block_height: u64,
}

/// `/status` result.
#[derive(Clone, Debug, Deserialize)]
pub struct Status {
    pub node_info: serde_json::Value,
    pub sync_info: SyncInfo,
}

/// `abci_query` response body.
#[derive(Clone, Debug, Deserialize)]
pub struct AbciQueryResponse {
    #[serde(default)]
    pub code: u32,
    #[serde(default)]
    pub log: String,
    #[serde(default)]
    pub codespace: String,
    #[serde(default, deserialize_with = "de_b64")]
    pub value: Vec<u8>,
}

#[derive(Deserialize)]
struct AbciQueryResult {
    response: AbciQueryResponse,
}

impl CometRpc {
    /// A client for `url`; requests time out after 30 s so a hung node never hangs a caller.
    pub fn new(url: impl Into<String>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            .build()
            .context("building HTTP client")?;
        let url = url.into().trim_end_matches('/').to_string();
        Ok(Self { url, http })
    }

    /// The endpoint URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls a JSON-RPC method, returning CometBFT's `error` object as an [`RpcError`].
    pub async fn call<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        params: P,
    ) -> anyhow::Result<R> {
        let req = RpcRequest {
            jsonrpc: "2.0",
            id: 1,
            method,
            params,
        };
        let resp = self
            .http
            .post(&self.url)
            .json(&req)
            .send()
            .await
            .with_context(|| format!("CometBFT RPC {method} at {}", self.url))?;
        let body = resp
            .bytes()
            .await
            .with_context(|| format!("reading {method} response"))?;
        let parsed: RpcResponse<R> =
            serde_json::from_slice(&body).with_context(|| format!("decoding {method} response"))?;
        if let Some(e) = parsed.error {
            return Err(e.into());
        }
        parsed
            .result
            .ok_or_else(|| anyhow!("CometBFT RPC {method}: response has no result"))
    }

    /// `status`.
    pub async fn status(&self) -> anyhow::Result<Status> {
        self.call("status", serde_json::json!({})).await
    }

    /// `status` as raw JSON (for the REST node_info proxy).
    pub async fn status_raw(&self) -> anyhow::Result<serde_json::Value> {
        self.call("status", serde_json::json!({})).await
    }

    /// `broadcast_tx_sync`: runs CheckTx and returns its result.
    pub async fn broadcast_tx_sync(&self, tx: &[u8]) -> anyhow::Result<BroadcastResult> {
        self.call(
            "broadcast_tx_sync",
            serde_json::json!({ "tx": B64.encode(tx) }),
        )
        .await
    }

    /// `broadcast_tx_async`: queues the tx without waiting for CheckTx.
    pub async fn broadcast_tx_async(&self, tx: &[u8]) -> anyhow::Result<BroadcastResult> {
        self.call(
            "broadcast_tx_async",
            serde_json::json!({ "tx": B64.encode(tx) }),
        )
        .await
    }

    /// `tx`: a committed tx by its SHA-256 hash; `Ok(None)` if the node does not know it.
    pub async fn tx(&self, hash: &[u8]) -> anyhow::Result<Option<TxResult>> {
        let params = serde_json::json!({ "hash": B64.encode(hash), "prove": false });
        match self.call::<_, TxResult>("tx", params).await {
            Ok(r) => Ok(Some(r)),
            Err(e) => match e.downcast_ref::<RpcError>() {
                Some(re) if re.data.contains("not found") || re.message.contains("not found") => {
                    Ok(None)
                }
                _ => Err(e),
            },
        }
    }

    /// `block` at `height` (`None` = latest).
    pub async fn block(&self, height: Option<u64>) -> anyhow::Result<BlockResult> {
        self.call("block", height_params(height)).await
    }

    /// `block` as raw JSON (for the REST blocks proxy).
    pub async fn block_raw(&self, height: Option<u64>) -> anyhow::Result<serde_json::Value> {
        self.call("block", height_params(height)).await
    }

    /// `block_results` at `height`.
    pub async fn block_results(&self, height: u64) -> anyhow::Result<BlockResults> {
        self.call("block_results", height_params(Some(height)))
            .await
    }

    /// `abci_query`; a non-zero `code` is returned in the response, not as an error.
    pub async fn abci_query(
        &self,
        path: &str,
        data: &[u8],
        height: u64,
    ) -> anyhow::Result<AbciQueryResponse> {
        let params = serde_json::json!({
            "path": path,
            "data": hex::encode(data),
            "height": height.to_string(),
            "prove": false,
        });
        let r: AbciQueryResult = self.call("abci_query", params).await?;
        Ok(r.response)
    }

    /// `abci_query` that fails on a non-zero code, with the node's log as the message.
    pub async fn abci_query_ok(&self, path: &str, data: &[u8]) -> anyhow::Result<Vec<u8>> {
        let r = self.abci_query(path, data, 0).await?;
        if r.code != 0 {
            bail!(
                "query {path} failed: code {} ({}): {}",
                r.code,
                r.codespace,
                r.log
            );
        }
        Ok(r.value)
    }
}

fn height_params(height: Option<u64>) -> serde_json::Value {
    match height {
        Some(h) => serde_json::json!({ "height": h.to_string() }),
        None => serde_json::json!({}),
    }
}
