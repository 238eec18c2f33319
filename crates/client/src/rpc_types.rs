//! Typed views of CometBFT v0.38 JSON-RPC responses.
//!
//! CometBFT's JSON is not uniform: int64 fields are strings, uint32 fields are
//! numbers, byte fields are base64 except hashes (upper-case hex), empty lists are
//! `null`, and event payloads omit zero-valued fields. The helpers below absorb all of
//! that so that callers see plain integers, byte vectors and lists.

use std::collections::BTreeMap;

use base64::Engine;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

pub(crate) mod de_util {
    use super::*;

    /// Integers that may arrive as JSON strings ("42") or numbers (42).
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IntOrString {
        Int(i64),
        UInt(u64),
        Str(String),
    }

    fn parse_int<'de, D: Deserializer<'de>, T>(d: D) -> Result<T, D::Error>
    where
        T: TryFrom<i64> + TryFrom<u64> + std::str::FromStr,
    {
        let v = Option::<IntOrString>::deserialize(d)?;
        let bad = || de::Error::custom("integer out of range");
        match v {
            None => T::try_from(0u64).map_err(|_| bad()),
            Some(IntOrString::Int(i)) => T::try_from(i).map_err(|_| bad()),
            Some(IntOrString::UInt(u)) => T::try_from(u).map_err(|_| bad()),
            Some(IntOrString::Str(s)) if s.is_empty() => T::try_from(0u64).map_err(|_| bad()),
            Some(IntOrString::Str(s)) => s
                .parse::<T>()
                .map_err(|_| de::Error::custom(format!("invalid integer {s:?}"))),
        }
    }

    pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        parse_int(d)
    }

    pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        parse_int(d)
    }

    pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        parse_int(d)
    }

    /// Base64 bytes; `null` and "" are empty.
    pub fn base64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = Option::<String>::deserialize(d)?.unwrap_or_default();
        base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map_err(|e| de::Error::custom(format!("invalid base64: {e}")))
    }

    /// Hex bytes (hashes, app hash, addresses); `null` and "" are empty.
    pub fn hex<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = Option::<String>::deserialize(d)?.unwrap_or_default();
        ::hex::decode(&s).map_err(|e| de::Error::custom(format!("invalid hex {s:?}: {e}")))
    }

    pub fn base64_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let list = Option::<Vec<String>>::deserialize(d)?.unwrap_or_default();
        list.iter()
            .map(|s| {
                base64::engine::general_purpose::STANDARD
                    .decode(s.as_bytes())
                    .map_err(|e| de::Error::custom(format!("invalid base64: {e}")))
            })
            .collect()
    }

    /// `null` becomes the type's default (CometBFT writes empty lists as null).
    pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: Default + Deserialize<'de>,
    {
        Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
    }
}

/// JSON-RPC 2.0 envelope.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope<T> {
    pub result: Option<T>,
    pub error: Option<RpcErrorBody>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RpcErrorBody {
    pub code: i64,
    #[serde(default)]
    pub message: String,
    #[serde(default, deserialize_with = "de_util::null_default")]
    pub data: String,
}

/// `/status`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Status {
    pub node_info: NodeInfo,
    pub sync_info: SyncInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NodeInfo {
    pub id: String,
    pub listen_addr: String,
    /// The chain id.
    pub network: String,
    pub version: String,
    pub moniker: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SyncInfo {
    #[serde(deserialize_with = "de_util::hex")]
    pub latest_block_hash: Vec<u8>,
    #[serde(deserialize_with = "de_util::hex")]
    pub latest_app_hash: Vec<u8>,
    #[serde(deserialize_with = "de_util::u64")]
    pub latest_block_height: u64,
    pub latest_block_time: String,
    #[serde(deserialize_with = "de_util::u64")]
    pub earliest_block_height: u64,
    pub catching_up: bool,
}

impl Status {
    pub fn chain_id(&self) -> &str {
        &self.node_info.network
    }

    pub fn latest_height(&self) -> u64 {
        self.sync_info.latest_block_height
    }
}

/// `/abci_query` (`result.response`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AbciQuery {
    #[serde(default, deserialize_with = "de_util::u32")]
    pub code: u32,
    #[serde(default)]
    pub log: String,
    #[serde(default)]
    pub info: String,
    #[serde(default, deserialize_with = "de_util::i64")]
    pub index: i64,
    #[serde(default, deserialize_with = "de_util::base64")]
    pub key: Vec<u8>,
    #[serde(default, deserialize_with = "de_util::base64")]
    pub value: Vec<u8>,
    #[serde(rename = "proofOps", default)]
    pub proof_ops: Option<ProofOps>,
    #[serde(default, deserialize_with = "de_util::u64")]
    pub height: u64,
    #[serde(default)]
    pub codespace: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AbciQueryResult {
    pub response: AbciQuery,
}

/// Merkle proof operators, kept as raw bytes for a verifier to interpret.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ProofOps {
    #[serde(default, deserialize_with = "de_util::null_default")]
    pub ops: Vec<ProofOp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProofOp {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "de_util::base64")]
    pub key: Vec<u8>,
    #[serde(default, deserialize_with = "de_util::base64")]
    pub data: Vec<u8>,
}

/// `/broadcast_tx_sync`: the CheckTx outcome, not inclusion.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BroadcastResult {
    #[serde(default, deserialize_with = "de_util::u32")]
    pub code: u32,
    #[serde(default, deserialize_with = "de_util::base64")]
    pub data: Vec<u8>,
    #[serde(default)]
    pub log: String,
    #[serde(default)]
    pub codespace: String,
    /// Upper-case hex.
    pub hash: String,
}

/// An ABCI event (`type` plus string attributes). Serializes back to CometBFT's JSON
/// shape, so tools can print events as the node reported them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "de_util::null_default")]
    pub attributes: Vec<EventAttribute>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct EventAttribute {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub index: bool,
}

impl Event {
    /// The first value of attribute `key`.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    }
}

/// ExecTxResult: the outcome of one tx in FinalizeBlock. Every field defaults,
/// because event payloads leave out zero values.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ExecTxResult {
    #[serde(default, deserialize_with = "de_util::u32")]
    pub code: u32,
    #[serde(default, deserialize_with = "de_util::base64")]
    pub data: Vec<u8>,
    #[serde(default)]
    pub log: String,
    #[serde(default)]
    pub info: String,
    #[serde(default, deserialize_with = "de_util::i64")]
    pub gas_wanted: i64,
    #[serde(default, deserialize_with = "de_util::i64")]
    pub gas_used: i64,
    #[serde(default, deserialize_with = "de_util::null_default")]
    pub events: Vec<Event>,
    #[serde(default)]
    pub codespace: String,
}

/// `/tx`: a transaction that made it into a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxResult {
    pub hash: String,
    pub height: u64,
    pub index: u32,
    pub code: u32,
    pub log: String,
    pub codespace: String,
    pub gas_wanted: i64,
    pub gas_used: i64,
    pub events: Vec<Event>,
    pub data: Vec<u8>,
    pub tx: Vec<u8>,
}

impl TxResult {
    /// Whether the tx executed successfully (it is in a block either way).
    pub fn is_ok(&self) -> bool {
        self.code == 0
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct TxJson {
    pub hash: String,
    #[serde(deserialize_with = "de_util::u64")]
    pub height: u64,
    #[serde(default, deserialize_with = "de_util::u32")]
    pub index: u32,
    pub tx_result: ExecTxResult,
    #[serde(default, deserialize_with = "de_util::base64")]
    pub tx: Vec<u8>,
}

impl From<TxJson> for TxResult {
    fn from(t: TxJson) -> Self {
        Self {
            hash: t.hash,
            height: t.height,
            index: t.index,
            code: t.tx_result.code,
            log: t.tx_result.log,
            codespace: t.tx_result.codespace,
            gas_wanted: t.tx_result.gas_wanted,
            gas_used: t.tx_result.gas_used,
            events: t.tx_result.events,
            data: t.tx_result.data,
            tx: t.tx,
        }
    }
}

/// A block header. Hashes are decoded from hex.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Header {
    pub chain_id: String,
    #[serde(deserialize_with = "de_util::u64")]
    pub height: u64,
    pub time: String,
    pub last_block_id: BlockId,
    #[serde(deserialize_with = "de_util::hex")]
    pub last_commit_hash: Vec<u8>,
    #[serde(deserialize_with = "de_util::hex")]
    pub data_hash: Vec<u8>,
    #[serde(deserialize_with = "de_util::hex")]
    pub validators_hash: Vec<u8>,
    #[serde(deserialize_with = "de_util::hex")]
    pub next_validators_hash: Vec<u8>,
    #[serde(deserialize_with = "de_util::hex")]
    pub consensus_hash: Vec<u8>,
    /// The app hash *after* executing block `height - 1`: CometBFT records the result
    /// of a block in the header of the next one.
    #[serde(deserialize_with = "de_util::hex")]
    pub app_hash: Vec<u8>,
    #[serde(deserialize_with = "de_util::hex")]
    pub last_results_hash: Vec<u8>,
    #[serde(deserialize_with = "de_util::hex")]
    pub proposer_address: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct BlockId {
    #[serde(default, deserialize_with = "de_util::hex")]
    pub hash: Vec<u8>,
}

/// `/block`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub block_id: BlockId,
    pub header: Header,
    pub txs: Vec<Vec<u8>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct BlockJson {
    pub block_id: BlockId,
    pub block: BlockInner,
}

#[derive(Debug, Deserialize)]
pub(crate) struct BlockInner {
    pub header: Header,
    #[serde(default)]
    pub data: BlockData,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct BlockData {
    #[serde(default, deserialize_with = "de_util::base64_list")]
    pub txs: Vec<Vec<u8>>,
}

impl From<BlockJson> for Block {
    fn from(b: BlockJson) -> Self {
        Self {
            block_id: b.block_id,
            header: b.block.header,
            txs: b.block.data.txs,
        }
    }
}

/// `/block_results`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BlockResults {
    #[serde(deserialize_with = "de_util::u64")]
    pub height: u64,
    #[serde(default, deserialize_with = "de_util::null_default")]
    pub txs_results: Vec<ExecTxResult>,
    #[serde(default, deserialize_with = "de_util::null_default")]
    pub finalize_block_events: Vec<Event>,
    /// The app hash produced by executing this block (base64 here, unlike headers).
    #[serde(default, deserialize_with = "de_util::base64")]
    pub app_hash: Vec<u8>,
}

/// `/commit`.
#[derive(Debug, Deserialize)]
pub(crate) struct CommitJson {
    pub signed_header: SignedHeaderJson,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignedHeaderJson {
    pub header: Header,
}

/// Event attributes as CometBFT indexes them: `"<type>.<key>" -> values`.
pub type EventIndex = BTreeMap<String, Vec<String>>;
