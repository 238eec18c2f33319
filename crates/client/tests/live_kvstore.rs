//! Smoke test against a real CometBFT node running the built-in kvstore app:
//!
//! ```sh
//! cometbft init --home /tmp/c && cometbft start --proxy_app=kvstore --home /tmp/c &
//! VE_TEST_RPC=http://127.0.0.1:26657 cargo test -p ve-client --test live_kvstore -- --ignored
//! ```
//!
//! Ignored by default: unit tests must not need a node.

use std::time::Duration;

use ve_client::rpc::RpcClient;
use ve_client::ws;

fn rpc_url() -> String {
    std::env::var("VE_TEST_RPC").unwrap_or_else(|_| "http://127.0.0.1:26657".into())
}

#[tokio::test]
#[ignore = "needs a running cometbft --proxy_app=kvstore"]
async fn broadcast_wait_query_and_subscribe() {
    let rpc = RpcClient::new(rpc_url()).unwrap();
    let status = rpc.status().await.unwrap();
    assert!(status.latest_height() > 0);

    let mut sub = ws::subscribe(&ws::ws_url(&rpc_url()), ws::QUERY_TX)
        .await
        .unwrap();

    // A unique key so reruns do not hit "tx already exists in cache".
    let key = format!("ve{}", status.latest_height());
    let tx = format!("{key}=value");
    let sent = rpc.broadcast_tx_sync(tx.as_bytes()).await.unwrap();
    assert_eq!(sent.code, 0, "{sent:?}");
    assert_eq!(sent.hash, ve_client::tx::tx_hash(tx.as_bytes()));

    let included = rpc
        .wait_for_tx(&sent.hash, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(included.tx, tx.as_bytes());

    let ev = tokio::time::timeout(Duration::from_secs(20), sub.next_event())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let tx_ev = ev.tx().unwrap();
    assert_eq!(tx_ev.hash.as_deref(), Some(sent.hash.as_str()));
    assert_eq!(tx_ev.height, included.height);
    sub.close().await.unwrap();

    let q = rpc
        .abci_query("", key.as_bytes(), None, false)
        .await
        .unwrap();
    assert_eq!(q.value, b"value");

    let block = rpc.block(Some(included.height)).await.unwrap();
    assert!(block.txs.contains(&tx.into_bytes()));
    let results = rpc.block_results(Some(included.height)).await.unwrap();
    assert!(!results.txs_results.is_empty());
    let header = rpc.commit(Some(included.height)).await.unwrap();
    assert_eq!(header, block.header);
    assert_eq!(
        rpc.app_hash_at(included.height).await.unwrap(),
        block.header.app_hash
    );

    let missing = rpc.tx(&"AB".repeat(32)).await.unwrap();
    assert!(missing.is_none());

    let mut blocks = ws::subscribe(&ws::ws_url(&rpc_url()), ws::QUERY_NEW_BLOCK)
        .await
        .unwrap();
    let ev = blocks.next_event().await.unwrap().unwrap();
    assert!(ev.new_block_header().unwrap().height > included.height);
}
