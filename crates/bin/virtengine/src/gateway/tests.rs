//! Gateway behaviour against a real application (mock consensus, temp store) and, for the
//! transaction routes, a stand-in CometBFT RPC that answers with v0.38-shaped JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::grpc::HEIGHT_HEADER;
use super::service::Gateway;
use super::{grpc, metrics, rest};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use cosmos_sdk_proto::cosmos::auth::v1beta1 as auth;
use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank;
use cosmos_sdk_proto::cosmos::tx::v1beta1 as txs;
use serde_json::{json, Value};
use std::net::SocketAddr;
use tower::ServiceExt;
use ve_app::testing::{TestNode, TEST_CHAIN_ID};
use ve_app::AppGenesis;
use ve_client::tx::{msg_send, TxBuilder};
use ve_crypto::PrivateKey;
use ve_types::{Address, Coin, Coins};

const START: u128 = 1_000_000_000;

struct Chain {
    node: TestNode,
    alice: (PrivateKey, Address),
    bob: Address,
}

/// Module accounts take the first account numbers; genesis users follow.
const FIRST_USER_NUMBER: u64 = 7;

/// Alice and Bob funded at genesis; block 1 holds a send of 1000uve from Alice to Bob.
fn chain() -> Chain {
    let alice_key = PrivateKey::from_bytes(&[1; 32]).unwrap();
    let alice = alice_key.public_key().address();
    let bob = PrivateKey::from_bytes(&[2; 32])
        .unwrap()
        .public_key()
        .address();
    let mut genesis = AppGenesis::default();
    for a in [alice, bob] {
        genesis
            .add_account(a, &Coins::from_list([Coin::new("uve", START)]).unwrap())
            .unwrap();
    }
    let mut node = TestNode::new(&genesis).unwrap();
    let tx = signed_send(&alice_key, &alice, &bob, 1000, 0);
    let out = node.execute_block(&[tx]).unwrap();
    for (code, _, log) in out.results() {
        assert_eq!(code, 0, "{log}");
    }
    Chain {
        node,
        alice: (alice_key, alice),
        bob,
    }
}

fn signed_send(key: &PrivateKey, from: &Address, to: &Address, amount: u128, seq: u64) -> Vec<u8> {
    TxBuilder::new()
        .msg(msg_send(from, to, &[Coin::new("uve", amount)]))
        .fee(vec![Coin::new("uve", 5_000)])
        .gas_limit(200_000)
        .sign_direct(key, TEST_CHAIN_ID, FIRST_USER_NUMBER, seq)
        .bytes
}

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, Value) {
    get_with(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn get_with(router: &axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let v = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!(
            "{uri}: not JSON: {}",
            String::from_utf8_lossy(&bytes),
            uri = status
        )
    });
    (status, v)
}

async fn post(router: &axum::Router, uri: &str, body: Value) -> (StatusCode, Value) {
    let req = Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    get_with(router, req).await
}

#[tokio::test]
async fn rest_auth_routes_render_accounts_in_cosmos_json() {
    let c = chain();
    let r = rest::router(Gateway::new(c.node.app().clone(), "http://127.0.0.1:9".into()).unwrap());
    let alice = c.alice.1.to_string();

    let (s, v) = get(&r, &format!("/cosmos/auth/v1beta1/accounts/{alice}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["account"]["@type"], "/cosmos.auth.v1beta1.BaseAccount");
    assert_eq!(v["account"]["address"], alice);
    assert_eq!(
        v["account"]["account_number"],
        FIRST_USER_NUMBER.to_string()
    );
    assert_eq!(v["account"]["sequence"], "1");
    assert_eq!(
        v["account"]["pub_key"]["@type"],
        "/cosmos.crypto.secp256k1.PubKey"
    );
    assert!(v["account"]["pub_key"]["key"].is_string());

    let (s, v) = get(
        &r,
        "/cosmos/auth/v1beta1/accounts?pagination.limit=2&pagination.count_total=true",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["accounts"].as_array().unwrap().len(), 2);
    assert!(v["pagination"]["next_key"].is_string(), "{v}");

    let (s, v) = get(&r, "/cosmos/auth/v1beta1/params").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["params"]["max_memo_characters"].is_string(), "{v}");

    let (s, v) = get(&r, "/cosmos/auth/v1beta1/module_accounts").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let names: Vec<&str> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert!(names.contains(&"fee_collector"), "{v}");
    assert_eq!(
        v["accounts"][0]["@type"],
        "/cosmos.auth.v1beta1.ModuleAccount"
    );
}

#[tokio::test]
async fn rest_errors_use_cosmos_codes_and_http_statuses() {
    let c = chain();
    let r = rest::router(Gateway::new(c.node.app().clone(), "http://127.0.0.1:9".into()).unwrap());
    let stranger = PrivateKey::from_bytes(&[9; 32])
        .unwrap()
        .public_key()
        .address();

    let (s, v) = get(&r, &format!("/cosmos/auth/v1beta1/accounts/{stranger}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["code"], 5);
    assert!(v["message"].as_str().unwrap().contains("not found"));
    assert_eq!(v["details"], json!([]));

    let (s, v) = get(&r, "/cosmos/bank/v1beta1/balances/notanaddress").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], 3);

    let (s, v) = get(&r, "/cosmos/bank/v1beta1/balances/x?pagination.limit=abc").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    let (s, v) = get(&r, "/no/such/route").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
}

#[tokio::test]
async fn rest_bank_routes_answer_at_latest_and_past_heights() {
    let mut c = chain();
    let (bob, alice) = (c.bob.to_string(), c.alice.1.to_string());
    // Height 2: another send, so heights 1 and 2 differ.
    let tx = signed_send(&c.alice.0, &c.alice.1, &c.bob, 500, 1);
    c.node.execute_block(&[tx]).unwrap();
    let r = rest::router(Gateway::new(c.node.app().clone(), "http://127.0.0.1:9".into()).unwrap());

    let (s, v) = get(&r, &format!("/cosmos/bank/v1beta1/balances/{bob}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["balances"],
        json!([{"denom": "uve", "amount": (START + 1500).to_string()}])
    );
    assert_eq!(v["pagination"]["next_key"], Value::Null);

    let (s, v) = get(
        &r,
        &format!("/cosmos/bank/v1beta1/balances/{bob}/by_denom?denom=uve"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["balance"]["amount"], (START + 1500).to_string());

    let req = Request::get(format!(
        "/cosmos/bank/v1beta1/balances/{bob}/by_denom?denom=uve"
    ))
    .header(HEIGHT_HEADER, "1")
    .body(Body::empty())
    .unwrap();
    let (s, v) = get_with(&r, req).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["balance"]["amount"],
        (START + 1000).to_string(),
        "balance at height 1"
    );

    let (s, v) = get(
        &r,
        &format!("/cosmos/bank/v1beta1/spendable_balances/{alice}"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["balances"][0]["amount"],
        (START - 1500 - 10_000).to_string()
    );

    let (s, v) = get(&r, "/cosmos/bank/v1beta1/supply").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["supply"][0]["denom"], "uve");

    let (s, v) = get(&r, "/cosmos/bank/v1beta1/supply/by_denom?denom=uve").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["amount"]["amount"], (2 * START).to_string());

    let (s, v) = get(&r, "/cosmos/bank/v1beta1/denoms_metadata/uve").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["metadata"]["base"], "uve");
    assert_eq!(v["metadata"]["denom_units"][1]["exponent"], 6, "{v}");

    let (s, v) = get(&r, "/cosmos/bank/v1beta1/params").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["params"]["default_send_enabled"].is_boolean(), "{v}");
}

#[tokio::test]
async fn rest_simulate_reports_gas_without_changing_state() {
    let c = chain();
    let r = rest::router(Gateway::new(c.node.app().clone(), "http://127.0.0.1:9".into()).unwrap());
    let tx = signed_send(&c.alice.0, &c.alice.1, &c.bob, 7, 1);
    let (s, v) = post(
        &r,
        "/cosmos/tx/v1beta1/simulate",
        json!({ "tx_bytes": B64.encode(&tx) }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let used: u64 = v["gas_info"]["gas_used"].as_str().unwrap().parse().unwrap();
    assert!(used > 0, "{v}");
    let (_, v) = get(&r, &format!("/cosmos/auth/v1beta1/accounts/{}", c.alice.1)).await;
    assert_eq!(
        v["account"]["sequence"], "1",
        "simulation must not bump the sequence"
    );

    let (s, v) = post(&r, "/cosmos/tx/v1beta1/simulate", json!({ "tx_bytes": "" })).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

/// A stand-in CometBFT RPC: answers `broadcast_tx_sync`, `tx`, `block` and `status` in the
/// JSON shapes CometBFT v0.38 uses, for a single known tx.
async fn fake_comet(tx: Vec<u8>) -> SocketAddr {
    use sha2::{Digest, Sha256};
    let hash = hex::encode_upper(Sha256::digest(&tx));
    let handler = move |axum::Json(req): axum::Json<Value>| {
        let (tx, hash) = (tx.clone(), hash.clone());
        async move {
            let result = match req["method"].as_str().unwrap_or_default() {
                "broadcast_tx_sync" => {
                    json!({"code": 0, "data": "", "log": "", "codespace": "", "hash": hash})
                }
                "tx" => {
                    let asked = hex::encode_upper(
                        B64.decode(req["params"]["hash"].as_str().unwrap()).unwrap(),
                    );
                    if asked != hash {
                        return axum::Json(json!({"jsonrpc": "2.0", "id": 1, "error": {
                            "code": -32603, "message": "Internal error",
                            "data": format!("tx ({asked}) not found, err: %!w(<nil>)")}}));
                    }
                    json!({"hash": hash, "height": "3", "index": 0, "tx": B64.encode(&tx),
                        "tx_result": {"code": 0, "data": "EiYKJC9jb3Ntb3MuYmFuay52MWJldGExLk1zZ1NlbmRSZXNwb25zZQ==",
                            "log": "", "info": "", "gas_wanted": "200000", "gas_used": "61234",
                            "events": [{"type": "transfer", "attributes": [
                                {"key": "amount", "value": "7uve", "index": true}]}],
                            "codespace": ""}})
                }
                "block" => json!({"block_id": {"hash": "AB"}, "block": {
                    "header": {"chain_id": TEST_CHAIN_ID, "height": "3", "time": "2024-01-01T00:00:15Z"},
                    "data": {"txs": [B64.encode(&tx)]}}}),
                "status" => json!({"node_info": {"id": "abc", "listen_addr": "tcp://0.0.0.0:26656",
                    "network": TEST_CHAIN_ID, "version": "0.38.21", "channels": "40202122",
                    "moniker": "n0", "protocol_version": {"p2p": "8", "block": "11", "app": "0"},
                    "other": {"tx_index": "on", "rpc_address": "tcp://127.0.0.1:26657"}},
                    "sync_info": {"latest_block_height": "3", "latest_block_time": "2024-01-01T00:00:15Z",
                    "catching_up": false}}),
                other => panic!("unexpected RPC method {other}"),
            };
            axum::Json(json!({"jsonrpc": "2.0", "id": 1, "result": result}))
        }
    };
    let app = axum::Router::new().route("/", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn rest_broadcast_and_get_tx_go_through_cometbft() {
    let c = chain();
    let tx = signed_send(&c.alice.0, &c.alice.1, &c.bob, 7, 1);
    let comet = fake_comet(tx.clone()).await;
    let r = rest::router(Gateway::new(c.node.app().clone(), format!("http://{comet}")).unwrap());

    let body = json!({"tx_bytes": B64.encode(&tx), "mode": "BROADCAST_MODE_SYNC"});
    let (s, v) = post(&r, "/cosmos/tx/v1beta1/txs", body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["tx_response"]["code"], 0);
    let hash = v["tx_response"]["txhash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);

    let body = json!({"tx_bytes": B64.encode(&tx), "mode": "BROADCAST_MODE_BLOCK"});
    let (s, _) = post(&r, "/cosmos/tx/v1beta1/txs", body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let (s, v) = get(&r, &format!("/cosmos/tx/v1beta1/txs/{hash}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let msg = &v["tx"]["body"]["messages"][0];
    assert_eq!(msg["@type"], "/cosmos.bank.v1beta1.MsgSend");
    assert_eq!(msg["amount"][0]["amount"], "7");
    assert_eq!(
        v["tx"]["auth_info"]["signer_infos"][0]["mode_info"]["single"]["mode"],
        "SIGN_MODE_DIRECT"
    );
    let tr = &v["tx_response"];
    assert_eq!(tr["height"], "3");
    assert_eq!(tr["gas_used"], "61234");
    assert_eq!(tr["timestamp"], "2024-01-01T00:00:15Z");
    assert_eq!(tr["tx"]["@type"], "/cosmos.tx.v1beta1.Tx");
    assert_eq!(tr["events"][0]["attributes"][0]["value"], "7uve");

    let (s, v) = get(&r, &format!("/cosmos/tx/v1beta1/txs/{}", "00".repeat(32))).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, _) = get(&r, "/cosmos/tx/v1beta1/txs/nothex").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let (s, v) = get(&r, "/cosmos/base/tendermint/v1beta1/node_info").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["default_node_info"]["network"], TEST_CHAIN_ID);
    assert_eq!(v["default_node_info"]["channels"], "QCAhIg==");
    assert_eq!(v["application_version"]["app_name"], "virtengine");
}

async fn grpc_server(gw: Gateway) -> tonic::transport::Channel {
    let routes = grpc::router(gw).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_routes(routes)
            .serve_with_incoming(incoming),
    );
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn grpc_queries_run_in_process_with_height_metadata() {
    let c = chain();
    let ch =
        grpc_server(Gateway::new(c.node.app().clone(), "http://127.0.0.1:9".into()).unwrap()).await;
    let mut a = auth::query_client::QueryClient::new(ch.clone());
    let mut b = bank::query_client::QueryClient::new(ch.clone());

    let resp = a
        .account(auth::QueryAccountRequest {
            address: c.alice.1.to_string(),
        })
        .await
        .unwrap();
    assert_eq!(resp.metadata().get(HEIGHT_HEADER).unwrap(), "1");
    let any = resp.into_inner().account.unwrap();
    assert_eq!(any.type_url, "/cosmos.auth.v1beta1.BaseAccount");

    let mut req = tonic::Request::new(bank::QueryBalanceRequest {
        address: c.bob.to_string(),
        denom: "uve".into(),
    });
    req.metadata_mut()
        .insert(HEIGHT_HEADER, "1".parse().unwrap());
    let bal = b.balance(req).await.unwrap().into_inner().balance.unwrap();
    assert_eq!(bal.amount, (START + 1000).to_string());

    let stranger = PrivateKey::from_bytes(&[9; 32])
        .unwrap()
        .public_key()
        .address();
    let err = a
        .account(auth::QueryAccountRequest {
            address: stranger.to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);

    let prefix = a
        .bech32_prefix(auth::Bech32PrefixRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(prefix.bech32_prefix, "ve");

    let mut t = txs::service_client::ServiceClient::new(ch);
    let tx = signed_send(&c.alice.0, &c.alice.1, &c.bob, 7, 1);
    let sim = t
        .simulate(txs::SimulateRequest {
            tx_bytes: tx.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(sim.gas_info.unwrap().gas_used > 0);
    let decoded = t
        .tx_decode(txs::TxDecodeRequest { tx_bytes: tx })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        decoded.tx.unwrap().body.unwrap().messages[0].type_url,
        "/cosmos.bank.v1beta1.MsgSend"
    );
}

#[tokio::test]
async fn grpc_reflection_lists_and_describes_the_cosmos_services() {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;

    let c = chain();
    let ch =
        grpc_server(Gateway::new(c.node.app().clone(), "http://127.0.0.1:9".into()).unwrap()).await;
    let mut client = ServerReflectionClient::new(ch);
    let ask = |m: MessageRequest| ServerReflectionRequest {
        host: String::new(),
        message_request: Some(m),
    };

    // `grpcurl list`
    let mut stream = client
        .server_reflection_info(futures::stream::iter(vec![ask(
            MessageRequest::ListServices(String::new()),
        )]))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        stream.message().await.unwrap().unwrap().message_response
    else {
        panic!("expected a service list")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for s in super::descriptors::SERVICES {
        assert!(names.iter().any(|n| n == s), "{s} not listed in {names:?}");
    }

    // `grpcurl describe cosmos.bank.v1beta1.Query`
    let req = ask(MessageRequest::FileContainingSymbol(
        "cosmos.bank.v1beta1.Query".into(),
    ));
    let mut stream = client
        .server_reflection_info(futures::stream::iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::FileDescriptorResponse(fds)) =
        stream.message().await.unwrap().unwrap().message_response
    else {
        panic!("expected file descriptors")
    };
    use prost::Message;
    let files: Vec<prost_types::FileDescriptorProto> = fds
        .file_descriptor_proto
        .iter()
        .map(|b| prost_types::FileDescriptorProto::decode(b.as_slice()).unwrap())
        .collect();
    let bank_file = files
        .iter()
        .find(|f| f.package() == "cosmos.bank.v1beta1")
        .unwrap();
    let svc = bank_file
        .service
        .iter()
        .find(|s| s.name() == "Query")
        .unwrap();
    let balance = svc.method.iter().find(|m| m.name() == "Balance").unwrap();
    assert_eq!(
        balance.input_type(),
        ".cosmos.bank.v1beta1.QueryBalanceRequest"
    );
    // A client resolves imports by file name, as grpcurl does for `Coin` and `PageRequest`.
    assert!(bank_file
        .dependency
        .iter()
        .any(|d| d == "cosmos/base/v1beta1/coin.proto"));
    let req = ask(MessageRequest::FileByFilename(
        "cosmos/base/v1beta1/coin.proto".into(),
    ));
    let mut stream = client
        .server_reflection_info(futures::stream::iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::FileDescriptorResponse(fds)) =
        stream.message().await.unwrap().unwrap().message_response
    else {
        panic!("expected coin.proto")
    };
    let coin =
        prost_types::FileDescriptorProto::decode(fds.file_descriptor_proto[0].as_slice()).unwrap();
    assert!(coin.message_type.iter().any(|m| m.name() == "Coin"));

    // `grpcurl describe cosmos.tx.v1beta1.Tx` (a message, by symbol).
    let req = ask(MessageRequest::FileContainingSymbol(
        "cosmos.tx.v1beta1.Tx".into(),
    ));
    let mut stream = client
        .server_reflection_info(futures::stream::iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(
        stream.message().await.unwrap().unwrap().message_response,
        Some(MessageResponse::FileDescriptorResponse(_))
    ));
}

#[tokio::test]
async fn metrics_count_rest_requests_and_queries() {
    let handle = metrics::install().unwrap();
    let c = chain();
    let r = rest::router(Gateway::new(c.node.app().clone(), "http://127.0.0.1:9".into()).unwrap());
    let (s, _) = get(&r, "/cosmos/bank/v1beta1/supply").await;
    assert_eq!(s, StatusCode::OK);
    let text = handle.render();
    assert!(
        text.contains(r#"virtengine_rest_requests_total{route="/cosmos/bank/v1beta1/supply",method="GET",status="200"}"#),
        "{text}"
    );
    assert!(text.contains(r#"virtengine_gateway_queries_total{path="/cosmos.bank.v1beta1.Query/TotalSupply",code="0"}"#), "{text}");
    assert!(
        text.contains("virtengine_gateway_query_duration_seconds_bucket"),
        "{text}"
    );
}
