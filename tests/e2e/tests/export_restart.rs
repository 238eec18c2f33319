//! Chain restart from an exported genesis, as an operator does it after a halt: stop the
//! localnet, `virtengine export` the state, replace genesis.json, wipe CometBFT's and the
//! app's data (keeping the validator's double-sign state), start again. The new chain
//! continues at the exported height + 1 from exactly the exported state: CometBFT puts
//! the exported app hash into the first new header, balances and sequences carry over,
//! and new transactions from the old accounts succeed.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::time::Duration;

use serde_json::Value;
use ve_e2e::{str_of, Localnet, CHAIN_ID};

fn send(net: &Localnet, from: &str, to: &str, amount: &str) -> Value {
    let r = net.cli(
        &[
            "tx",
            "bank",
            "send",
            from,
            to,
            amount,
            "--fees",
            "5000uve",
            "--yes",
            "--output",
            "json",
            "--keyring-backend",
            "test",
            "--home",
            &net.home_str,
            "--node",
            &net.rpc.url,
            "--chain-id",
            CHAIN_ID,
        ],
        Duration::from_secs(90),
    );
    assert!(r.success, "{}", r.describe());
    let v = r.json().unwrap();
    assert_eq!(v["code"], 0, "{v}");
    v
}

#[test]
fn a_chain_restarted_from_an_exported_genesis_continues_from_the_exported_state() {
    let net = Localnet::start("export", &["--timeout-commit", "500ms"]);
    net.wait_height(2, Duration::from_secs(60));
    let alice = net.address("alice");
    let bob = net.address("bob");
    send(&net, "alice", &bob, "1111uve");
    let last = send(&net, "bob", &alice, "222uve");
    net.wait_height(
        last["height"].as_u64().unwrap() + 1,
        Duration::from_secs(30),
    );
    let (alice_before, bob_before) = (net.cli_balance(&alice), net.cli_balance(&bob));
    net.stop();

    let node = net.node_home();
    let node_s = node.to_str().unwrap();
    let out = net.home.join("exported-genesis.json");
    let r = net.cli(
        &["export", "--home", node_s, "-o", out.to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert!(r.success, "export failed\n{}", r.describe());
    let g: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let initial: u64 = str_of(&g["initial_height"]).parse().unwrap();
    let app_hash = str_of(&g["app_hash"]);
    assert!(initial >= 3, "{}", g["initial_height"]);
    assert_eq!(app_hash.len(), 64, "{app_hash}");
    assert_eq!(g["chain_id"], CHAIN_ID);

    // Exporting a running node is refused with advice (the database is held); here it
    // is stopped, so a second export gives the identical file.
    let again = net.home.join("again.json");
    let r2 = net.cli(
        &["export", "--home", node_s, "-o", again.to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert!(r2.success, "{}", r2.describe());
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&again).unwrap(),
        "export is not deterministic"
    );

    // The operator's restart: new genesis, fresh data, the same validator key and its
    // double-sign state (the old chain's heights are below the new initial height).
    let comet = node.join("cometbft");
    std::fs::copy(&out, comet.join("config").join("genesis.json")).unwrap();
    let data = comet.join("data");
    let pvs = std::fs::read(data.join("priv_validator_state.json")).unwrap();
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("priv_validator_state.json"), pvs).unwrap();
    std::fs::remove_dir_all(node.join("data").join("app")).unwrap();
    net.restart();
    net.wait_height(initial + 1, Duration::from_secs(90));

    // The first header of the new chain carries the exported state's hash.
    let block = net.rpc.get(&format!("/block?height={initial}")).unwrap();
    assert_eq!(
        str_of(&block["block"]["header"]["app_hash"]),
        app_hash,
        "{block}"
    );
    assert_eq!(net.cli_balance(&alice), alice_before);
    assert_eq!(net.cli_balance(&bob), bob_before);
    // Sequences carried over: a new send from alice signs with her next sequence.
    send(&net, "alice", &bob, "3uve");
}
