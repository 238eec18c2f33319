//! `Client::send` end to end against an in-process fake CometBFT RPC: the fake node
//! checks what a real one would (SIGN_MODE_DIRECT signature over the SignDoc, account
//! number, sequence, gas limit), so the whole sign/simulate/broadcast/wait path is
//! exercised without a chain.

// Test-only fake node: a broken expectation inside it should abort the test loudly.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use axum::{extract::State, routing::post, Json, Router};
use base64::Engine;
use cosmos_sdk_proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountResponse};
use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::GasInfo;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    AuthInfo, SimulateRequest, SimulateResponse, TxBody, TxRaw,
};
use prost::Message;
use serde_json::{json, Value};
use ve_client::tx::{sign_doc_bytes, to_any, tx_hash};
use ve_client::{Client, ClientError, Gas};
use ve_crypto::{PrivateKey, PublicKey};
use ve_types::{Address, Coin};

const CHAIN_ID: &str = "ve-mock-1";
const ACCOUNT_NUMBER: u64 = 7;
const SEQUENCE: u64 = 3;
const SIMULATED_GAS: u64 = 100_000;

#[derive(Default)]
struct Node {
    /// Set once the sender has an account.
    account: Option<(Address, PublicKey)>,
    included: Vec<(String, u64)>,
    simulations: u32,
}

type Shared = Arc<Mutex<Node>>;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(s: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s.as_str().unwrap())
        .unwrap()
}

fn query_ok(value: Vec<u8>) -> Value {
    json!({"response": {"code": 0, "log": "", "info": "", "index": "0", "key": null,
        "value": b64(&value), "proofOps": null, "height": "10", "codespace": ""}})
}

/// Checks a TxRaw like an ante handler would; returns (gas_limit, error log).
fn check_tx(node: &Node, tx: &[u8]) -> Result<u64, String> {
    let (_, pk) = node.account.ok_or("account not found")?;
    let raw = TxRaw::decode(tx).map_err(|e| e.to_string())?;
    let auth = AuthInfo::decode(raw.auth_info_bytes.as_slice()).map_err(|e| e.to_string())?;
    let body = TxBody::decode(raw.body_bytes.as_slice()).map_err(|e| e.to_string())?;
    let send = MsgSend::decode(body.messages[0].value.as_slice()).map_err(|e| e.to_string())?;
    if send.from_address != pk.address().to_string() {
        return Err("wrong signer".into());
    }
    if auth.signer_infos[0].sequence != SEQUENCE {
        return Err("account sequence mismatch".into());
    }
    let doc = sign_doc_bytes(
        &raw.body_bytes,
        &raw.auth_info_bytes,
        CHAIN_ID,
        ACCOUNT_NUMBER,
    );
    pk.verify(&doc, &raw.signatures[0])
        .map_err(|e| format!("signature verification failed: {e}"))?;
    Ok(auth.fee.unwrap().gas_limit)
}

async fn rpc(State(node): State<Shared>, Json(req): Json<Value>) -> Json<Value> {
    let mut n = node.lock().unwrap();
    let p = &req["params"];
    let result = match req["method"].as_str().unwrap() {
        "abci_query" => {
            let data = hex::decode(p["data"].as_str().unwrap()).unwrap();
            match p["path"].as_str().unwrap() {
                "/cosmos.auth.v1beta1.Query/Account" => match n.account {
                    Some((addr, pk)) => {
                        let acct = BaseAccount {
                            address: addr.to_string(),
                            pub_key: Some(ve_client::tx::pubkey_any(&pk)),
                            account_number: ACCOUNT_NUMBER,
                            sequence: SEQUENCE,
                        };
                        query_ok(
                            QueryAccountResponse {
                                account: Some(to_any(&acct)),
                            }
                            .encode_to_vec(),
                        )
                    }
                    None => {
                        json!({"response": {"code": 38, "log": "account not found: key not found",
                        "codespace": "sdk", "height": "10"}})
                    }
                },
                "/cosmos.tx.v1beta1.Service/Simulate" => {
                    let sim = SimulateRequest::decode(data.as_slice()).unwrap();
                    let gas_limit = check_tx(&n, &sim.tx_bytes).unwrap();
                    assert_eq!(gas_limit, 0, "simulation uses gas limit 0");
                    n.simulations += 1;
                    let resp = SimulateResponse {
                        gas_info: Some(GasInfo {
                            gas_wanted: 0,
                            gas_used: SIMULATED_GAS,
                        }),
                        result: None,
                    };
                    query_ok(resp.encode_to_vec())
                }
                other => panic!("unexpected query {other}"),
            }
        }
        "broadcast_tx_sync" => {
            let tx = unb64(&p["tx"]);
            let hash = tx_hash(&tx);
            match check_tx(&n, &tx) {
                Ok(gas_limit) => {
                    n.included.push((hash.clone(), gas_limit));
                    json!({"code": 0, "data": "", "log": "", "codespace": "", "hash": hash})
                }
                Err(log) => {
                    json!({"code": 4, "data": "", "log": log, "codespace": "sdk", "hash": hash})
                }
            }
        }
        "tx" => {
            let hash = hex::encode_upper(unb64(&p["hash"]));
            match n.included.iter().find(|(h, _)| *h == hash) {
                Some((_, gas_limit)) => json!({"hash": hash, "height": "11", "index": 0,
                    "tx_result": {"code": 0, "data": null, "log": "", "info": "",
                        "gas_wanted": gas_limit.to_string(), "gas_used": "91234",
                        "events": [{"type": "transfer", "attributes": [
                            {"key": "amount", "value": "5uve", "index": true}]}],
                        "codespace": ""},
                    "tx": ""}),
                None => {
                    return Json(json!({"jsonrpc": "2.0", "id": req["id"], "error": {
                        "code": -32603, "message": "Internal error",
                        "data": format!("tx ({hash}) not found")}}))
                }
            }
        }
        other => panic!("unexpected method {other}"),
    };
    Json(json!({"jsonrpc": "2.0", "id": req["id"], "result": result}))
}

async fn start(node: Shared) -> String {
    let app = Router::new().route("/", post(rpc)).with_state(node);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn key() -> PrivateKey {
    PrivateKey::from_bytes(&[42u8; 32]).unwrap()
}

#[tokio::test]
async fn send_with_auto_gas_signs_simulates_broadcasts_and_waits() {
    let key = key();
    let pk = key.public_key();
    let node = Shared::default();
    node.lock().unwrap().account = Some((pk.address(), pk));
    let client = Client::new(&start(node.clone()).await, CHAIN_ID).unwrap();

    let to = Address([5u8; 20]);
    let coins: Vec<Coin> = vec!["5uve".parse().unwrap()];
    let fee: Vec<Coin> = vec!["2000uve".parse().unwrap()];
    let resp = client
        .send(&key, &to, &coins, &fee, Gas::Auto)
        .await
        .unwrap();

    assert!(resp.is_ok());
    assert_eq!(resp.height, 11);
    assert_eq!(resp.gas_wanted, 130_000, "simulated gas x 1.3");
    assert_eq!(resp.gas_used, 91_234);
    assert_eq!(resp.events[0].attr("amount"), Some("5uve"));
    let n = node.lock().unwrap();
    assert_eq!(n.simulations, 1);
    assert_eq!(n.included[0].0, resp.hash);
}

#[tokio::test]
async fn fixed_gas_skips_simulation() {
    let key = key();
    let pk = key.public_key();
    let node = Shared::default();
    node.lock().unwrap().account = Some((pk.address(), pk));
    let client = Client::new(&start(node.clone()).await, CHAIN_ID).unwrap();
    let resp = client
        .send(
            &key,
            &Address([5u8; 20]),
            &["1uve".parse().unwrap()],
            &[],
            Gas::Fixed(77_000),
        )
        .await
        .unwrap();
    assert_eq!(resp.gas_wanted, 77_000);
    assert_eq!(node.lock().unwrap().simulations, 0);
}

#[tokio::test]
async fn unfunded_account_is_a_clear_error() {
    let node = Shared::default();
    let client = Client::new(&start(node).await, CHAIN_ID).unwrap();
    let err = client
        .send(
            &key(),
            &Address([5u8; 20]),
            &["1uve".parse().unwrap()],
            &[],
            Gas::Auto,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::AccountNotFound(a) if a == key().public_key().address()));
}

#[tokio::test]
async fn wrong_chain_id_is_rejected_at_check_tx() {
    let key = key();
    let pk = key.public_key();
    let node = Shared::default();
    node.lock().unwrap().account = Some((pk.address(), pk));
    let client = Client::new(&start(node).await, "some-other-chain").unwrap();
    let err = client
        .send(
            &key,
            &Address([5u8; 20]),
            &["1uve".parse().unwrap()],
            &[],
            Gas::Fixed(1),
        )
        .await
        .unwrap_err();
    match err {
        ClientError::CheckTx { code, log, .. } => {
            assert_eq!(code, 4);
            assert!(log.contains("signature verification failed"), "{log}");
        }
        other => panic!("{other}"),
    }
}
