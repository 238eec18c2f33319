//! The CLI as a user runs it against a real localnet: send, then read the transaction
//! and the balances back, to the unit, fee included.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::time::Duration;

use serde_json::Value;
use ve_e2e::{fee_collector_address, str_of, Localnet, CHAIN_ID, GENESIS_BALANCE};

fn json_ok(net: &Localnet, args: &[&str]) -> Value {
    let r = net.cli(args, Duration::from_secs(90));
    assert!(r.success, "{}", r.describe());
    r.json()
        .unwrap_or_else(|| panic!("stdout is not JSON\n{}", r.describe()))
}

/// The attributes of every event of `ty` in a tx result's `events`.
fn events_of(events: &Value, ty: &str) -> Vec<Vec<(String, String)>> {
    events
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == ty)
        .map(|e| {
            e["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| (str_of(&a["key"]), str_of(&a["value"])))
                .collect()
        })
        .collect()
}

#[test]
fn cli_send_then_query_roundtrip_on_localnet() {
    let net = Localnet::start("roundtrip", &["--timeout-commit", "500ms"]);
    net.wait_height(2, Duration::from_secs(60));
    let node = net.rpc.url.clone();
    let home = net.home_str.clone();
    let alice = net.address("alice");
    let bob = net.address("bob");
    let collector = fee_collector_address();

    let status = json_ok(&net, &["status", "--node", &node, "--output", "json"]);
    assert_eq!(status["network"], CHAIN_ID, "{status}");
    assert!(
        status["latest_block_height"].as_u64().unwrap_or(0) >= 2,
        "{status}"
    );

    // Genesis balances, through the CLI.
    assert_eq!(net.cli_balance(&alice), GENESIS_BALANCE);
    assert_eq!(net.cli_balance(&bob), GENESIS_BALANCE);
    // `localnet start` itself sends transactions (the enclave registrations), whose fees
    // are already in the collector.
    let fees_before = net.cli_balance(&collector);

    // Send by key name to an address, as the README shows.
    let amount: u128 = 12_345;
    let fee: u128 = 5_000;
    let amount_s = format!("{amount}uve");
    let fee_s = format!("{fee}uve");
    let sent = json_ok(
        &net,
        &[
            "tx",
            "bank",
            "send",
            "alice",
            &bob,
            &amount_s,
            "--fees",
            &fee_s,
            "--yes",
            "--output",
            "json",
            "--keyring-backend",
            "test",
            "--home",
            &home,
            "--node",
            &node,
            "--chain-id",
            CHAIN_ID,
        ],
    );
    assert_eq!(sent["code"], 0, "{sent}");
    let hash = str_of(&sent["txhash"]);
    assert_eq!(hash.len(), 64, "tx hash {hash:?}");
    assert_eq!(hash, hash.to_uppercase(), "tx hash is upper-case hex");
    let height = sent["height"].as_u64().unwrap_or(0);
    assert!(height >= 1, "{sent}");
    let gas_used = sent["gas_used"].as_u64().unwrap_or(0);
    let gas_wanted = sent["gas_wanted"].as_u64().unwrap_or(0);
    assert!(
        gas_used > 0 && gas_used <= gas_wanted,
        "gas used {gas_used} / wanted {gas_wanted}"
    );

    // `query tx` reads the same result back.
    let q = json_ok(
        &net,
        &["query", "tx", &hash, "--node", &node, "--output", "json"],
    );
    assert_eq!(q["txhash"], hash.as_str(), "{q}");
    assert_eq!(q["code"], 0, "{q}");
    assert_eq!(q["height"].as_u64(), Some(height), "{q}");
    assert_eq!(q["gas_used"].as_u64(), Some(gas_used), "{q}");
    assert_eq!(q["gas_wanted"].as_u64(), Some(gas_wanted), "{q}");
    // ...lower-case and 0x-prefixed hashes too.
    let q2 = json_ok(
        &net,
        &[
            "query",
            "tx",
            &format!("0x{}", hash.to_lowercase()),
            "--node",
            &node,
            "--output",
            "json",
        ],
    );
    assert_eq!(q2["height"].as_u64(), Some(height), "{q2}");

    // The events say who paid whom: the send and the fee.
    let transfers = events_of(&q["events"], "transfer");
    let has = |from: &str, to: &str, amt: &str| {
        transfers.iter().any(|attrs| {
            let get = |k: &str| {
                attrs
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.as_str())
            };
            get("sender") == Some(from)
                && get("recipient") == Some(to)
                && get("amount") == Some(amt)
        })
    };
    assert!(
        has(&alice, &bob, &amount_s),
        "no alice->bob transfer of {amount_s} in {q}"
    );
    assert!(
        has(&alice, &collector, &fee_s),
        "no fee transfer of {fee_s} to {collector} in {q}"
    );

    // CometBFT agrees on the height and the block holds the tx.
    let (h, code, _) = net
        .rpc
        .tx(&hash)
        .expect("/tx")
        .expect("/tx finds the transaction");
    assert_eq!((h, code), (height, 0));

    // Balances to the unit, fee included.
    assert_eq!(net.cli_balance(&alice), GENESIS_BALANCE - amount - fee);
    assert_eq!(net.cli_balance(&bob), GENESIS_BALANCE + amount);
    assert_eq!(net.cli_balance(&collector), fees_before + fee);
    // By key name and with --denom, too.
    let b = json_ok(
        &net,
        &[
            "query",
            "bank",
            "balances",
            "bob",
            "--denom",
            "uve",
            "--output",
            "json",
            "--node",
            &node,
            "--home",
            &home,
            "--keyring-backend",
            "test",
        ],
    );
    assert_eq!(b["balance"]["denom"], "uve", "{b}");
    assert_eq!(
        str_of(&b["balance"]["amount"]),
        (GENESIS_BALANCE + amount).to_string(),
        "{b}"
    );
    // Supply is unchanged by a send.
    let total = json_ok(
        &net,
        &[
            "query", "bank", "total", "--node", &node, "--output", "json",
        ],
    );
    let supply: Vec<(String, String)> = total["supply"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (str_of(&c["denom"]), str_of(&c["amount"])))
        .collect();
    assert_eq!(
        supply,
        vec![("uve".to_string(), (GENESIS_BALANCE * 5).to_string())],
        "{total}"
    );
    // The sender's sequence moved on by one.
    let acc = json_ok(
        &net,
        &[
            "query", "auth", "account", &alice, "--node", &node, "--output", "json",
        ],
    );
    assert_eq!(acc["account"]["sequence"], "1", "{acc}");
    assert_eq!(acc["account"]["address"], alice.as_str(), "{acc}");

    net.stop();
}
