//! What the CLI needs from a node: ABCI queries, transaction building and signing
//! (SIGN_MODE_DIRECT), broadcast, and waiting for inclusion — over CometBFT RPC.
//!
//! Kept behind this one module so the CLI commands read as intent; it can be swapped for
//! the `ve_client` crate's equivalents as they land, without touching the commands.

#![allow(clippy::disallowed_methods)] // Instant::now: waiting for inclusion has a wall-clock deadline.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use prost::Message;
use serde::Serialize;
use serde_json::{json, Value};
use ve_crypto::PrivateKey;
use ve_proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountRequest, QueryAccountResponse};
use ve_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use ve_proto::cosmos::crypto::secp256k1::PubKey as Secp256k1PubKey;
use ve_proto::cosmos::tx::signing::v1beta1::SignMode;
use ve_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignDoc, SignerInfo, SimulateRequest, SimulateResponse,
    TxBody, TxRaw,
};
use ve_proto::Any;
use ve_types::{Address, Coins};

/// A CometBFT RPC endpoint.
#[derive(Debug, Clone)]
pub struct Node {
    url: String,
    http: reqwest::Client,
}

/// The answer to an ABCI query that succeeded at the transport level.
#[derive(Debug)]
pub struct AbciAnswer {
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub value: Vec<u8>,
}

/// A transaction's result as the chain recorded it (JSON output of `tx` and `query tx`).
#[derive(Debug, Clone, Serialize)]
pub struct TxResult {
    pub txhash: String,
    pub height: u64,
    pub code: u32,
    pub codespace: String,
    pub raw_log: String,
    pub gas_wanted: u64,
    pub gas_used: u64,
    pub events: Value,
}

fn de_num(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.parse().unwrap_or(0),
        Value::Number(n) => n.as_u64().unwrap_or(0),
        _ => 0,
    }
}

impl Node {
    pub fn new(url: &str) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .context("building HTTP client")?;
        Ok(Self {
            url: url.trim_end_matches('/').to_string(),
            http,
        })
    }

    /// One JSON-RPC call; the `result` object.
    async fn call(&self, method: &str, params: Value) -> Result<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let resp: Value = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .with_context(|| {
                format!(
                    "no answer from CometBFT RPC at {} (is the node running? start one with `virtengine localnet start`, or pass --node)",
                    self.url
                )
            })?
            .json()
            .await
            .with_context(|| format!("unexpected response to {method} from {}", self.url))?;
        if let Some(err) = resp.get("error").filter(|e| !e.is_null()) {
            let msg = err.get("message").and_then(Value::as_str).unwrap_or("");
            let data = err.get("data").and_then(Value::as_str).unwrap_or("");
            bail!("{method} failed at {}: {msg} {data}", self.url);
        }
        resp.get("result")
            .cloned()
            .with_context(|| format!("{method}: response from {} has no result", self.url))
    }

    pub async fn abci_query(&self, path: &str, data: &[u8]) -> Result<AbciAnswer> {
        let r = self
            .call(
                "abci_query",
                json!({"path": path, "data": hex::encode(data), "height": "0", "prove": false}),
            )
            .await?;
        let resp = r.get("response").context("abci_query: no response field")?;
        let value = match resp.get("value").and_then(Value::as_str) {
            Some(v) if !v.is_empty() => B64.decode(v).context("abci_query: value is not base64")?,
            _ => Vec::new(),
        };
        Ok(AbciAnswer {
            code: u32::try_from(de_num(resp.get("code").unwrap_or(&Value::Null)))
                .unwrap_or(u32::MAX),
            codespace: resp
                .get("codespace")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            log: resp
                .get("log")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            value,
        })
    }

    /// A gRPC-style query (`/cosmos.bank.v1beta1.Query/Balance`) with protobuf in and out.
    pub async fn grpc_query<Req: Message, Resp: Message + Default>(
        &self,
        path: &str,
        req: &Req,
    ) -> Result<Resp> {
        let a = self.abci_query(path, &req.encode_to_vec()).await?;
        if a.code != 0 {
            bail!(
                "query {path} failed: codespace {} code {}: {}",
                a.codespace,
                a.code,
                a.log
            );
        }
        Resp::decode(a.value.as_slice()).with_context(|| format!("decoding the answer of {path}"))
    }

    /// The account's number and sequence; `None` if the chain has never seen it.
    pub async fn account(&self, address: &Address) -> Result<Option<BaseAccount>> {
        let req = QueryAccountRequest {
            address: address.to_string(),
        };
        let a = self
            .abci_query("/cosmos.auth.v1beta1.Query/Account", &req.encode_to_vec())
            .await?;
        if a.code != 0 {
            if a.log.contains("not found") || a.code == 22 || a.code == 5 {
                return Ok(None);
            }
            bail!(
                "account query failed: codespace {} code {}: {}",
                a.codespace,
                a.code,
                a.log
            );
        }
        let resp = QueryAccountResponse::decode(a.value.as_slice()).context("decoding account")?;
        let Some(any) = resp.account else {
            return Ok(None);
        };
        if any.type_url != "/cosmos.auth.v1beta1.BaseAccount" {
            bail!(
                "account {address} has type {}, which this CLI cannot sign for",
                any.type_url
            );
        }
        Ok(Some(
            BaseAccount::decode(any.value.as_slice()).context("decoding BaseAccount")?,
        ))
    }

    /// `broadcast_tx_sync`: the CheckTx result and the hash.
    pub async fn broadcast_sync(&self, tx: &[u8]) -> Result<(u32, String, String, String)> {
        let r = self
            .call("broadcast_tx_sync", json!({"tx": B64.encode(tx)}))
            .await?;
        Ok((
            u32::try_from(de_num(r.get("code").unwrap_or(&Value::Null))).unwrap_or(u32::MAX),
            r.get("codespace")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            r.get("log")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            r.get("hash")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ))
    }

    /// The committed transaction with this hash, `None` if not (yet) in a block.
    pub async fn tx(&self, hash: &str) -> Result<Option<TxResult>> {
        let h = hash.trim_start_matches("0x");
        let bytes = hex::decode(h).with_context(|| format!("tx hash {hash:?} is not hex"))?;
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tx", "params": {"hash": B64.encode(bytes), "prove": false}});
        let resp: Value = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("no answer from CometBFT RPC at {}", self.url))?
            .json()
            .await
            .context("unexpected response to tx")?;
        if let Some(err) = resp.get("error").filter(|e| !e.is_null()) {
            let data = err.get("data").and_then(Value::as_str).unwrap_or("");
            if data.contains("not found") {
                return Ok(None);
            }
            bail!("tx query failed: {err}");
        }
        let r = resp.get("result").context("tx: no result")?;
        let res = r.get("tx_result").cloned().unwrap_or(Value::Null);
        Ok(Some(TxResult {
            txhash: r
                .get("hash")
                .and_then(Value::as_str)
                .unwrap_or(h)
                .to_uppercase(),
            height: de_num(r.get("height").unwrap_or(&Value::Null)),
            code: u32::try_from(de_num(res.get("code").unwrap_or(&Value::Null)))
                .unwrap_or(u32::MAX),
            codespace: res
                .get("codespace")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            raw_log: res
                .get("log")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            gas_wanted: de_num(res.get("gas_wanted").unwrap_or(&Value::Null)),
            gas_used: de_num(res.get("gas_used").unwrap_or(&Value::Null)),
            events: res
                .get("events")
                .cloned()
                .unwrap_or(Value::Array(Vec::new())),
        }))
    }

    /// Polls until the transaction is in a block, calling `progress` with the seconds waited.
    pub async fn wait_for_tx(
        &self,
        hash: &str,
        timeout: Duration,
        mut progress: impl FnMut(u64),
    ) -> Result<TxResult> {
        let start = Instant::now();
        let mut reported = 0;
        loop {
            if let Some(r) = self.tx(hash).await? {
                return Ok(r);
            }
            let waited = start.elapsed().as_secs();
            if waited >= timeout.as_secs() {
                bail!("tx {hash} was accepted into the mempool but not included within {} s; check later with `virtengine query tx {hash}`", timeout.as_secs());
            }
            if waited > reported {
                reported = waited;
                progress(waited);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Gas the transaction would use now.
    pub async fn simulate(&self, tx: &[u8]) -> Result<u64> {
        let req = SimulateRequest {
            tx_bytes: tx.to_vec(),
            ..Default::default()
        };
        let resp: SimulateResponse = self
            .grpc_query("/cosmos.tx.v1beta1.Service/Simulate", &req)
            .await
            .context("simulating the transaction (for --gas auto)")?;
        Ok(resp.gas_info.map(|g| g.gas_used).unwrap_or(0))
    }
}

/// Coins in protobuf form.
pub fn proto_coins(c: &Coins) -> Vec<ProtoCoin> {
    c.iter()
        .map(|c| ProtoCoin {
            denom: c.denom.clone(),
            amount: c.amount.to_string(),
        })
        .collect()
}

/// Everything that goes into a signed transaction besides the messages.
#[derive(Debug, Clone)]
pub struct SignParams {
    pub chain_id: String,
    pub account_number: u64,
    pub sequence: u64,
    pub fee: Coins,
    pub gas_limit: u64,
    pub memo: String,
}

/// Builds and signs a TxRaw (SIGN_MODE_DIRECT); returns its bytes.
pub fn sign_tx(key: &PrivateKey, msgs: Vec<Any>, p: &SignParams) -> Vec<u8> {
    let body = TxBody {
        messages: msgs,
        memo: p.memo.clone(),
        ..Default::default()
    };
    let pubkey = Secp256k1PubKey {
        key: key.public_key().to_bytes().to_vec(),
    };
    let auth = AuthInfo {
        signer_infos: vec![SignerInfo {
            public_key: Some(ve_proto::to_any("/cosmos.crypto.secp256k1.PubKey", &pubkey)),
            mode_info: Some(ModeInfo {
                sum: Some(mode_info::Sum::Single(mode_info::Single {
                    mode: SignMode::Direct as i32,
                })),
            }),
            sequence: p.sequence,
        }],
        fee: Some(Fee {
            amount: proto_coins(&p.fee),
            gas_limit: p.gas_limit,
            payer: String::new(),
            granter: String::new(),
        }),
        ..Default::default()
    };
    let body_bytes = body.encode_to_vec();
    let auth_info_bytes = auth.encode_to_vec();
    let doc = SignDoc {
        body_bytes: body_bytes.clone(),
        auth_info_bytes: auth_info_bytes.clone(),
        chain_id: p.chain_id.clone(),
        account_number: p.account_number,
    };
    let sig = key.sign(&doc.encode_to_vec());
    TxRaw {
        body_bytes,
        auth_info_bytes,
        signatures: vec![sig.to_vec()],
    }
    .encode_to_vec()
}

/// Upper-case hex SHA-256 of the tx bytes: CometBFT's tx hash.
pub fn tx_hash(tx: &[u8]) -> String {
    hex::encode_upper(ve_crypto::sha256(tx))
}
