//! Event subscriptions over CometBFT's `/websocket` endpoint.
//!
//! Daemons use this to react to new blocks and txs without polling. The stream ends
//! when the node closes the connection; reconnecting (and catching up on missed
//! heights with `block_results`) is the caller's job, since only it knows what it
//! has already processed.

use futures::{SinkExt, Stream, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::rpc::RpcError;
use crate::rpc_types::{de_util, EventIndex, ExecTxResult, Header};

/// Query for every new block.
pub const QUERY_NEW_BLOCK: &str = "tm.event='NewBlock'";
/// Query for every tx; narrow it with [`tx_query`].
pub const QUERY_TX: &str = "tm.event='Tx'";

/// `tm.event='Tx' AND <condition>`, e.g. `tx_query("message.sender='ve1...'")`.
pub fn tx_query(condition: &str) -> String {
    format!("{QUERY_TX} AND {condition}")
}

/// `http://host:26657` -> `ws://host:26657/websocket` (and https -> wss).
pub fn ws_url(rpc_url: &str) -> String {
    let base = rpc_url.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if base.starts_with("ws://") || base.starts_with("wss://") {
        base.to_string()
    } else {
        format!("ws://{base}")
    };
    if base.ends_with("/websocket") {
        base
    } else {
        format!("{base}/websocket")
    }
}

/// One event delivered for a subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionEvent {
    pub query: String,
    /// `data.type`, e.g. `tendermint/event/NewBlock` or `tendermint/event/Tx`.
    pub kind: String,
    /// `data.value`, left as JSON because its shape depends on `kind`.
    pub value: Value,
    /// Indexed attributes, e.g. `tx.hash`, `tx.height`, `message.action`.
    pub events: EventIndex,
}

/// A tx from a `Tx` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxEvent {
    pub hash: Option<String>,
    pub height: u64,
    pub tx: Vec<u8>,
    pub result: ExecTxResult,
}

#[derive(Deserialize)]
struct TxEventJson {
    #[serde(rename = "TxResult")]
    tx_result: TxEventInner,
}

#[derive(Deserialize)]
struct TxEventInner {
    #[serde(deserialize_with = "de_util::u64")]
    height: u64,
    #[serde(default, deserialize_with = "de_util::base64")]
    tx: Vec<u8>,
    #[serde(default)]
    result: ExecTxResult,
}

#[derive(Deserialize)]
struct NewBlockJson {
    block: NewBlockInner,
}

#[derive(Deserialize)]
struct NewBlockInner {
    header: Header,
}

impl SubscriptionEvent {
    /// The first value of an indexed attribute such as `tx.hash`.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.events
            .get(key)
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    /// The header of a `NewBlock` event.
    pub fn new_block_header(&self) -> Option<Header> {
        if !self.kind.ends_with("/NewBlock") {
            return None;
        }
        serde_json::from_value::<NewBlockJson>(self.value.clone())
            .ok()
            .map(|b| b.block.header)
    }

    /// The tx and its result of a `Tx` event.
    pub fn tx(&self) -> Option<TxEvent> {
        if !self.kind.ends_with("/Tx") {
            return None;
        }
        let t = serde_json::from_value::<TxEventJson>(self.value.clone()).ok()?;
        Some(TxEvent {
            hash: self.attr("tx.hash").map(str::to_string),
            height: t.tx_result.height,
            tx: t.tx_result.tx,
            result: t.tx_result.result,
        })
    }
}

#[derive(Deserialize)]
struct WsEnvelope {
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct WsResult {
    query: String,
    data: WsData,
    #[serde(default, deserialize_with = "de_util::null_default")]
    events: EventIndex,
}

#[derive(Deserialize)]
struct WsData {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    value: Value,
}

/// Parses one websocket text message. `Ok(None)` is the empty `result: {}` that
/// acknowledges a subscribe.
pub fn parse_ws_message(text: &str) -> Result<Option<SubscriptionEvent>, RpcError> {
    let decode = |reason: String| RpcError::Decode {
        method: "subscribe".into(),
        reason,
    };
    let env: WsEnvelope = serde_json::from_str(text).map_err(|e| decode(e.to_string()))?;
    if let Some(err) = env.error {
        return Err(RpcError::WebSocket(format!("subscription error: {err}")));
    }
    let Some(result) = env.result else {
        return Err(decode("message has neither result nor error".into()));
    };
    if result.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(None);
    }
    let r: WsResult = serde_json::from_value(result).map_err(|e| decode(e.to_string()))?;
    Ok(Some(SubscriptionEvent {
        query: r.query,
        kind: r.data.kind,
        value: r.data.value,
        events: r.events,
    }))
}

/// An open subscription.
pub struct Subscription {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Subscription")
    }
}

/// Connects to `ws_url` (see [`ws_url`]) and subscribes to `query`. Returns after the
/// node acknowledged the subscription, so a bad query fails here, not later.
pub async fn subscribe(ws_url: &str, query: &str) -> Result<Subscription, RpcError> {
    let ws_err =
        |e: tokio_tungstenite::tungstenite::Error| RpcError::WebSocket(format!("{ws_url}: {e}"));
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url)
        .await
        .map_err(ws_err)?;
    let req = json!({"jsonrpc": "2.0", "id": 1, "method": "subscribe", "params": {"query": query}});
    ws.send(Message::Text(req.to_string().into()))
        .await
        .map_err(ws_err)?;
    let mut sub = Subscription { ws };
    // The ack comes first; events cannot precede it on the same connection.
    match sub.next_raw().await {
        Some(Ok(None)) => Ok(sub),
        Some(Ok(Some(_))) => Err(RpcError::WebSocket(
            "expected a subscription acknowledgement, got an event".into(),
        )),
        Some(Err(e)) => Err(e),
        None => Err(RpcError::WebSocket(
            "connection closed before the subscription was acknowledged".into(),
        )),
    }
}

impl Subscription {
    /// The next event; `None` once the connection is closed.
    pub async fn next_event(&mut self) -> Option<Result<SubscriptionEvent, RpcError>> {
        loop {
            match self.next_raw().await? {
                Ok(Some(ev)) => return Some(Ok(ev)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// Adapts the subscription into a `Stream` for use with combinators.
    pub fn into_stream(self) -> impl Stream<Item = Result<SubscriptionEvent, RpcError>> {
        futures::stream::unfold(self, |mut sub| async move {
            sub.next_event().await.map(|ev| (ev, sub))
        })
    }

    /// Closes the connection politely.
    pub async fn close(mut self) -> Result<(), RpcError> {
        self.ws
            .close(None)
            .await
            .map_err(|e| RpcError::WebSocket(e.to_string()))
    }

    async fn next_raw(&mut self) -> Option<Result<Option<SubscriptionEvent>, RpcError>> {
        loop {
            // tungstenite answers pings itself while we read.
            let msg = match self.ws.next().await? {
                Ok(m) => m,
                Err(e) => return Some(Err(RpcError::WebSocket(e.to_string()))),
            };
            match msg {
                Message::Text(t) => return Some(parse_ws_message(t.as_str())),
                Message::Binary(b) => {
                    return Some(parse_ws_message(&String::from_utf8_lossy(&b)));
                }
                Message::Close(_) => return None,
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(file: &str) -> String {
        std::fs::read_to_string(format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn ack_is_not_an_event() {
        assert_eq!(
            parse_ws_message(&sample("ws_subscribe_ack.json")).unwrap(),
            None
        );
    }

    #[test]
    fn new_block_event() {
        let ev = parse_ws_message(&sample("ws_newblock.json"))
            .unwrap()
            .unwrap();
        assert_eq!(ev.query, QUERY_NEW_BLOCK);
        assert_eq!(ev.kind, "tendermint/event/NewBlock");
        assert_eq!(ev.attr("tm.event"), Some("NewBlock"));
        let h = ev.new_block_header().unwrap();
        assert_eq!(h.height, 49);
        assert_eq!(h.app_hash, [2, 0, 0, 0, 0, 0, 0, 0]);
        assert!(ev.tx().is_none());
    }

    #[test]
    fn tx_event_with_omitted_zero_fields() {
        let ev = parse_ws_message(&sample("ws_tx.json")).unwrap().unwrap();
        let tx = ev.tx().unwrap();
        assert_eq!(tx.height, 63);
        assert_eq!(tx.tx, b"zzz=qq");
        assert_eq!(tx.result.code, 0);
        assert_eq!(tx.result.gas_used, 0);
        assert_eq!(tx.result.events.len(), 2);
        assert_eq!(
            tx.hash.as_deref(),
            Some("3E82DDFF3CA885346F0E380D88653058C8AFCE2DA0D7135D900D24E02904DE30")
        );
        assert_eq!(ev.events["app.key"], ["zzz", "qq"]);
        assert!(ev.new_block_header().is_none());
    }

    #[test]
    fn subscription_error_is_reported() {
        let msg = r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"Internal error","data":"failed to parse query"}}"#;
        assert!(matches!(parse_ws_message(msg), Err(RpcError::WebSocket(_))));
    }

    #[test]
    fn ws_url_from_rpc_url() {
        assert_eq!(
            ws_url("http://127.0.0.1:26657"),
            "ws://127.0.0.1:26657/websocket"
        );
        assert_eq!(
            ws_url("https://rpc.example/"),
            "wss://rpc.example/websocket"
        );
        assert_eq!(ws_url("localhost:26657"), "ws://localhost:26657/websocket");
        assert_eq!(ws_url("ws://x/websocket"), "ws://x/websocket");
        assert_eq!(tx_query("a.b='c'"), "tm.event='Tx' AND a.b='c'");
    }
}
