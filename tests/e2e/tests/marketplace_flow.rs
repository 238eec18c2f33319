//! The marketplace "done when" of issue #8 on a real localnet, through the CLI as a user
//! drives it: the tenant (alice) creates a deployment from examples/deployment.yaml, the
//! provider bids, the tenant accepts, the escrow pays per block, the provider withdraws,
//! a third party (bob) tops the escrow up, the tenant closes and is refunded the
//! remainder — and every balance adds up to the unit, fees included.
//!
//! The provider is registered through genesis: `tx provider create` needs VEID tier
//! Standard (a VERIFIED score >= 70) and a FIDO2 + VEID MFA session. The localnet's
//! enclave does score uploads now, but the repository's e2e fixtures
//! (`tests/e2e/fixtures/{document,selfie}.jpg`) score 0, REJECTED (no face and no OCR
//! fields found on the document; `ve-scoring score` gives the same), so a provider
//! uploading them cannot reach Standard. So the test builds the localnet with
//! `localnet init`, adds the `provider` account to `app_state.provider.providers`
//! (region=eu-west, the example's placement) and starts it with `localnet start --keep`.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};
use ve_e2e::provider_net::ProviderNet as Net;
use ve_e2e::{fee_collector_address, str_of, wait_until, GENESIS_BALANCE};

/// The fee of every tx (`ProviderNet::tx_args` pays `provider_daemon::FEES`).
const FEE: u128 = 25_000;
const DEPOSIT: u128 = 5_000_000;
const TOP_UP: u128 = 1_000_000;
const PRICE: u128 = 800;

/// The marketplace CLI calls on the provider localnet.
trait MarketCli {
    fn tx(&self, args: &[&str], from: &str) -> (u64, Value);
    fn query(&self, args: &[&str]) -> Value;
    fn balance(&self, address: &str) -> u128;
}

impl MarketCli for Net {
    /// A transaction through the CLI; returns (height, result JSON). Must succeed.
    fn tx(&self, args: &[&str], from: &str) -> (u64, Value) {
        let mut all: Vec<&str> = vec!["tx"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--from", from]);
        let v = self.ok(&self.tx_args(all));
        assert_eq!(v["code"], 0, "{args:?}: {v}");
        (v["height"].as_u64().unwrap(), v)
    }

    fn query(&self, args: &[&str]) -> Value {
        let mut all: Vec<&str> = vec!["query"];
        all.extend_from_slice(args);
        self.ok(&self.client_args(all))
    }

    fn balance(&self, address: &str) -> u128 {
        let v = self.query(&["bank", "balances", address, "--denom", "uve"]);
        str_of(&v["balance"]["amount"]).parse().unwrap_or(0)
    }
}

fn module_address(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    bech32::encode::<bech32::Bech32>(bech32::Hrp::parse("ve").unwrap(), &digest[..20]).unwrap()
}

fn start(tag: &str) -> Net {
    Net::start(tag)
}

fn wait_blocks(net: &Net, n: u64) -> u64 {
    let from = net.rpc.height().unwrap();
    wait_until(
        "blocks to pass",
        Duration::from_secs(60),
        Duration::from_millis(100),
        || net.rpc.height().filter(|h| *h >= from + n),
        || format!("stuck at {from}"),
    )
}

#[test]
fn tenant_deploys_provider_bids_escrow_pays_per_block_and_every_balance_adds_up() {
    let net = start("market");
    let alice = net.address("alice");
    let bob = net.address("bob");
    let provider = net.address("provider");
    let escrow = module_address("escrow");
    let pool = module_address("community_pool");
    let fees = fee_collector_address();
    let everyone = [&alice, &bob, &provider, &escrow, &pool, &fees];
    let total = |net: &Net| -> u128 { everyone.iter().map(|a| net.balance(a)).sum() };
    let supply = total(&net);
    // `localnet start` itself sends transactions (the enclave registration), whose fees
    // are already in the collector.
    let fees_before = net.balance(&fees);
    assert_eq!(net.balance(&alice), GENESIS_BALANCE);

    // 1. The tenant creates a deployment from the example SDL.
    let sdl = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/deployment.yaml"
    );
    let deposit = format!("{DEPOSIT}uve");
    net.tx(
        &[
            "deployment",
            "create",
            sdl,
            "--deposit",
            &deposit,
            "--dseq",
            "1",
        ],
        "alice",
    );
    let d = net.query(&["deployment", "get", "--owner", "alice", "--dseq", "1"]);
    assert_eq!(d["state"], "active", "{d}");
    assert_eq!(str_of(&d["hash"]).len(), 64, "{d}");
    assert_eq!(d["escrow_account"]["balance"], DEPOSIT.to_string(), "{d}");
    let orders = net.query(&["market", "orders", "--owner", "alice", "--state", "open"]);
    assert_eq!(orders["orders"].as_array().unwrap().len(), 1, "{orders}");

    // 2. The provider bids 800 uve per block.
    let price = format!("{PRICE}uve");
    net.tx(
        &[
            "market", "bid", "create", "--owner", "alice", "--dseq", "1", "--price", &price,
        ],
        "provider",
    );
    let bids = net.query(&["market", "bids", "--provider", "provider"]);
    assert_eq!(bids["bids"][0]["state"], "open", "{bids}");

    // 3. The tenant accepts: the lease starts paying at this height.
    let (lease_h, _) = net.tx(
        &[
            "market",
            "lease",
            "create",
            "--dseq",
            "1",
            "--provider",
            "provider",
        ],
        "alice",
    );
    let leases = net.query(&["market", "leases", "--owner", "alice", "--state", "active"]);
    assert_eq!(leases["leases"].as_array().unwrap().len(), 1, "{leases}");

    // 4. Blocks pass; the provider withdraws what accrued, minus 2%.
    wait_blocks(&net, 4);
    let p_before = net.balance(&provider);
    let (w_h, _) = net.tx(
        &[
            "market", "lease", "withdraw", "--owner", "alice", "--dseq", "1",
        ],
        "provider",
    );
    let gross1 = PRICE * u128::from(w_h - lease_h);
    assert!(gross1 >= 4 * PRICE);
    let take1 = gross1 * 200 / 10_000;
    assert_eq!(net.balance(&provider), p_before + gross1 - take1 - FEE);
    assert_eq!(net.balance(&pool), take1);

    // 5. A third party tops the tenant's escrow up.
    let account = format!("deployment/{alice}/1");
    let top_up = format!("{TOP_UP}uve");
    net.tx(&["escrow", "deposit", &account, &top_up], "bob");
    let d = net.query(&["deployment", "get", "--owner", "alice", "--dseq", "1"]);
    assert_eq!(
        d["escrow_account"]["deposits"].as_array().unwrap().len(),
        2,
        "{d}"
    );

    // 6. The tenant closes: the provider is paid to this block and gets its bid deposit
    //    back; the tenant and bob get back what is left of their own deposits.
    wait_blocks(&net, 2);
    let (close_h, _) = net.tx(&["deployment", "close", "--dseq", "1"], "alice");
    let gross2 = PRICE * u128::from(close_h - w_h);
    let take2 = gross2 * 200 / 10_000;
    let paid = gross1 + gross2;
    let d = net.query(&["deployment", "get", "--owner", "alice", "--dseq", "1"]);
    assert_eq!(d["state"], "closed", "{d}");
    let l = net.query(&[
        "market",
        "lease",
        "--owner",
        "alice",
        "--dseq",
        "1",
        "--provider",
        "provider",
    ]);
    assert_eq!(l["lease"]["state"], "closed", "{l}");

    // Every balance to the unit: alice paid 3 fees and the lease; bob 1 fee (his top-up,
    // spent after alice's deposit, came back whole); the provider 2 fees, earned the
    // lease minus the take; the pool holds the take; escrow is empty.
    assert_eq!(net.balance(&alice), GENESIS_BALANCE - 3 * FEE - paid);
    assert_eq!(net.balance(&bob), GENESIS_BALANCE - FEE);
    assert_eq!(
        net.balance(&provider),
        GENESIS_BALANCE - 2 * FEE + paid - take1 - take2
    );
    assert_eq!(net.balance(&pool), take1 + take2);
    assert_eq!(net.balance(&escrow), 0);
    assert_eq!(net.balance(&fees), fees_before + 6 * FEE);
    assert_eq!(total(&net), supply, "uve created or lost");
}
