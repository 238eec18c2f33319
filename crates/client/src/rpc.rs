//! CometBFT JSON-RPC over HTTP.
//!
//! Every call is a JSON-RPC POST to the base URL (`http://127.0.0.1:26657`), so
//! parameters are typed JSON: `abci_query.data` is hex, `broadcast_tx_sync.tx` and
//! `tx.hash` are base64. (The `GET /tx?hash=0x..` URI form is the same endpoint.)

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::rpc_types::{
    AbciQuery, AbciQueryResult, Block, BlockJson, BlockResults, BroadcastResult, CommitJson,
    Envelope, Header, Status, TxJson, TxResult,
};

/// JSON-RPC "internal error": CometBFT uses it for "not found" as well as failures.
const INTERNAL_ERROR: i64 = -32603;
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const TX_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Why an RPC call failed.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    #[error("cannot reach CometBFT RPC at {url}: {reason}; is the node running?")]
    Transport { url: String, reason: String },
    #[error("CometBFT RPC {method} returned HTTP {status}: {body}")]
    HttpStatus {
        method: String,
        status: u16,
        body: String,
    },
    #[error("CometBFT RPC {method} failed ({code}): {message} {data}")]
    Rpc {
        method: String,
        code: i64,
        message: String,
        data: String,
    },
    #[error("cannot decode CometBFT RPC {method} response: {reason}")]
    Decode { method: String, reason: String },
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("tx {hash} not included after {waited:?}; it may still be in the mempool, check later with `virtengine query tx {hash}`")]
    TxTimeout { hash: String, waited: Duration },
    #[error("websocket error: {0}")]
    WebSocket(String),
}

/// A CometBFT RPC client. Cheap to clone (shares one connection pool).
#[derive(Debug, Clone)]
pub struct RpcClient {
    http: reqwest::Client,
    url: String,
    next_id: Arc<AtomicI64>,
}

impl RpcClient {
    /// `url` is the RPC base, like `http://127.0.0.1:26657`.
    pub fn new(url: impl Into<String>) -> Result<Self, RpcError> {
        Self::with_timeout(url, DEFAULT_REQUEST_TIMEOUT)
    }

    /// As [`new`](Self::new), with a per-request timeout: health checks want a short
    /// one so that a hung node does not hang the caller.
    pub fn with_timeout(url: impl Into<String>, timeout: Duration) -> Result<Self, RpcError> {
        let url = url.into().trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| RpcError::Transport {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            http,
            url,
            next_id: Arc::new(AtomicI64::new(1)),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls `method` and decodes `result` as `T`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<T, RpcError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let transport = |e: reqwest::Error| RpcError::Transport {
            url: self.url.clone(),
            reason: e.to_string(),
        };
        let resp = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(transport)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(transport)?;
        // CometBFT answers JSON-RPC errors with HTTP 500 *and* a JSON body; prefer the body.
        match parse_response(method, &bytes) {
            Err(RpcError::Decode { .. }) if !status.is_success() => Err(RpcError::HttpStatus {
                method: method.to_string(),
                status: status.as_u16(),
                body: String::from_utf8_lossy(&bytes).chars().take(500).collect(),
            }),
            other => other,
        }
    }

    pub async fn status(&self) -> Result<Status, RpcError> {
        self.call("status", json!({})).await
    }

    /// Raw ABCI query. `height: None` asks for the latest state.
    pub async fn abci_query(
        &self,
        path: &str,
        data: &[u8],
        height: Option<u64>,
        prove: bool,
    ) -> Result<AbciQuery, RpcError> {
        let params = json!({
            "path": path,
            "data": hex::encode(data),
            "height": height.unwrap_or(0).to_string(),
            "prove": prove,
        });
        let r: AbciQueryResult = self.call("abci_query", params).await?;
        Ok(r.response)
    }

    /// Submits a tx and returns its CheckTx result (not whether it got into a block).
    pub async fn broadcast_tx_sync(&self, tx: &[u8]) -> Result<BroadcastResult, RpcError> {
        let params = json!({ "tx": base64::engine::general_purpose::STANDARD.encode(tx) });
        self.call("broadcast_tx_sync", params).await
    }

    /// The indexed result of tx `hash` (hex, with or without `0x`), or `None` if the
    /// node has not seen it in a block.
    pub async fn tx(&self, hash: &str) -> Result<Option<TxResult>, RpcError> {
        let bytes = decode_hash(hash)?;
        let params = json!({
            "hash": base64::engine::general_purpose::STANDARD.encode(bytes),
            "prove": false,
        });
        match self.call::<TxJson>("tx", params).await {
            Ok(t) => Ok(Some(t.into())),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Polls `tx` until the hash is in a block or `timeout` elapses.
    pub async fn wait_for_tx(&self, hash: &str, timeout: Duration) -> Result<TxResult, RpcError> {
        let poll = async {
            loop {
                if let Some(r) = self.tx(hash).await? {
                    return Ok(r);
                }
                tokio::time::sleep(TX_POLL_INTERVAL).await;
            }
        };
        match tokio::time::timeout(timeout, poll).await {
            Ok(result) => result,
            Err(_) => Err(RpcError::TxTimeout {
                hash: hash.to_string(),
                waited: timeout,
            }),
        }
    }

    /// The block at `height`, or the latest with `None`.
    pub async fn block(&self, height: Option<u64>) -> Result<Block, RpcError> {
        let b: BlockJson = self.call("block", height_params(height)).await?;
        Ok(b.into())
    }

    pub async fn block_results(&self, height: Option<u64>) -> Result<BlockResults, RpcError> {
        self.call("block_results", height_params(height)).await
    }

    /// The committed (signed) header at `height`.
    pub async fn commit(&self, height: Option<u64>) -> Result<Header, RpcError> {
        let c: CommitJson = self.call("commit", height_params(height)).await?;
        Ok(c.signed_header.header)
    }

    /// The `app_hash` in the header of block `height`, i.e. the state root after
    /// block `height - 1`: what light clients and state-sync compare against.
    pub async fn app_hash_at(&self, height: u64) -> Result<Vec<u8>, RpcError> {
        Ok(self.block(Some(height)).await?.header.app_hash)
    }
}

fn height_params(height: Option<u64>) -> Value {
    match height {
        Some(h) => json!({ "height": h.to_string() }),
        None => json!({}),
    }
}

fn decode_hash(hash: &str) -> Result<Vec<u8>, RpcError> {
    let h = hash
        .strip_prefix("0x")
        .or_else(|| hash.strip_prefix("0X"))
        .unwrap_or(hash);
    let bytes =
        hex::decode(h).map_err(|e| RpcError::InvalidArgument(format!("tx hash {hash:?}: {e}")))?;
    if bytes.len() != 32 {
        return Err(RpcError::InvalidArgument(format!(
            "tx hash {hash:?} must be 32 bytes (64 hex characters)"
        )));
    }
    Ok(bytes)
}

/// CometBFT reports a missing tx as an internal error whose data says "not found".
pub(crate) fn is_not_found(e: &RpcError) -> bool {
    matches!(e, RpcError::Rpc { code, data, .. } if *code == INTERNAL_ERROR && data.contains("not found"))
}

/// Decodes a JSON-RPC response body; split out so it can be tested without a node.
pub(crate) fn parse_response<T: DeserializeOwned>(
    method: &str,
    body: &[u8],
) -> Result<T, RpcError> {
    let decode = |reason: String| RpcError::Decode {
        method: method.to_string(),
        reason,
    };
    let env: Envelope<Value> = serde_json::from_slice(body).map_err(|e| decode(e.to_string()))?;
    if let Some(err) = env.error {
        return Err(RpcError::Rpc {
            method: method.to_string(),
            code: err.code,
            message: err.message,
            data: err.data,
        });
    }
    let result = env
        .result
        .ok_or_else(|| decode("response has neither result nor error".into()))?;
    serde_json::from_value(result).map_err(|e| decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc_types::BlockJson;

    fn parse<T: DeserializeOwned>(file: &str) -> Result<T, RpcError> {
        let path = format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
        let body = std::fs::read(&path).unwrap();
        parse_response(file, &body)
    }

    #[test]
    fn status() {
        let s: Status = parse("status.json").unwrap();
        assert_eq!(s.chain_id(), "test-chain-Hb1jec");
        assert_eq!(s.latest_height(), 14);
        assert_eq!(s.sync_info.latest_app_hash, vec![0u8; 8]);
        assert_eq!(s.sync_info.latest_block_hash.len(), 32);
        assert!(!s.sync_info.catching_up);
        assert_eq!(s.node_info.version, "0.38.19");
    }

    #[test]
    fn abci_query_found_missing_error_and_proof() {
        let q: AbciQueryResult = parse("abci_query.json").unwrap();
        let q = q.response;
        assert_eq!((q.code, q.height, q.index), (0, 19, 0));
        assert_eq!(q.key, b"name");
        assert_eq!(q.value, b"satoshi");
        assert_eq!(q.proof_ops, None);

        let q: AbciQueryResult = parse("abci_query_missing.json").unwrap();
        assert!(q.response.value.is_empty());
        assert_eq!(q.response.index, -1);

        let q: AbciQueryResult = parse("abci_query_error.json").unwrap();
        let q = q.response;
        assert_eq!((q.code, q.codespace.as_str(), q.height), (38, "sdk", 42));
        assert!(q.log.contains("not found"));

        let q: AbciQueryResult = parse("abci_query_proof.json").unwrap();
        let ops = q.response.proof_ops.unwrap().ops;
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0].kind, "ics23:jmt");
        assert_eq!(ops[1].key, b"bank");
        assert_eq!(ops[0].data, [10, 2, 8, 1]);
    }

    #[test]
    fn broadcast() {
        let ok: BroadcastResult = parse("broadcast_ok.json").unwrap();
        assert_eq!(ok.code, 0);
        assert_eq!(
            ok.hash,
            "57D835FBBA0DBF922D8A2EDA56922C9B24E7760927F245A7684A736C4769DB8A"
        );
        let bad: BroadcastResult = parse("broadcast_err.json").unwrap();
        assert_eq!(bad.code, 2);
    }

    #[test]
    fn tx_found_and_not_found() {
        let t: TxResult = parse::<TxJson>("tx.json").unwrap().into();
        assert_eq!((t.height, t.index, t.code), (15, 0, 0));
        assert_eq!(t.tx, b"name=satoshi");
        assert_eq!(t.events.len(), 2);
        assert_eq!(t.events[1].attr("key"), Some("satoshi"));
        assert!(!t.events[0].attributes[3].index);
        assert!(t.is_ok());

        let err = parse::<TxJson>("tx_notfound.json").unwrap_err();
        assert!(is_not_found(&err), "{err}");
    }

    #[test]
    fn events_serialize_back_to_cometbft_json() {
        let body =
            std::fs::read(format!("{}/testdata/tx.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let raw: Value = serde_json::from_slice(&body).unwrap();
        let t: TxResult = parse::<TxJson>("tx.json").unwrap().into();
        assert_eq!(
            serde_json::to_value(&t.events).unwrap(),
            raw["result"]["tx_result"]["events"]
        );
    }

    #[test]
    fn block_and_commit_headers() {
        let b: Block = parse::<BlockJson>("block.json").unwrap().into();
        assert_eq!(b.header.height, 15);
        assert_eq!(b.header.chain_id, "test-chain-Hb1jec");
        assert_eq!(b.header.app_hash, vec![0u8; 8]);
        assert_eq!(b.header.proposer_address.len(), 20);
        assert_eq!(b.txs, vec![b"name=satoshi".to_vec()]);
        assert_eq!(b.block_id.hash.len(), 32);

        let c: CommitJson = parse("commit.json").unwrap();
        assert_eq!(c.signed_header.header, b.header);
    }

    #[test]
    fn block_results_with_and_without_txs() {
        let r: BlockResults = parse("block_results.json").unwrap();
        assert_eq!(r.height, 15);
        assert_eq!(r.txs_results.len(), 1);
        assert_eq!(r.txs_results[0].events.len(), 2);
        assert_eq!(r.app_hash, [2, 0, 0, 0, 0, 0, 0, 0]);

        let r: BlockResults = parse("block_results_empty.json").unwrap();
        assert!(r.txs_results.is_empty());
        assert!(r.finalize_block_events.is_empty());
    }

    #[test]
    fn rpc_errors_are_typed() {
        let err = parse::<BlockJson>("block_future.json").unwrap_err();
        match err {
            RpcError::Rpc { code, data, .. } => {
                assert_eq!(code, -32603);
                assert!(data.contains("must be less than or equal"));
            }
            other => panic!("{other}"),
        }
        assert!(matches!(
            parse_response::<Status>("status", b"<html>"),
            Err(RpcError::Decode { .. })
        ));
    }

    #[test]
    fn hash_argument_is_checked() {
        assert_eq!(
            decode_hash(&format!("0x{}", "ab".repeat(32)))
                .unwrap()
                .len(),
            32
        );
        assert!(decode_hash("abcd").is_err());
        assert!(decode_hash("zz").is_err());
    }
}
