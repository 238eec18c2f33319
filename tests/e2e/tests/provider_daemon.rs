//! The provider daemon (issue #9 items 1-2) on a real localnet: `virtengine provider run`
//! runs as its own process, sees a deployment's order in a committed block and bids on it
//! with a signed `MsgCreateBid`; killed with SIGKILL and restarted, it resumes from its
//! checkpoint, catches up on the block it missed (a second deployment created while it
//! was down) and bids exactly once more — never again on the first order.
//!
//! "Exactly once" is checked on chain: the provider account's sequence counts every tx
//! the daemon signed (a duplicate bid would be included and fail, still using a
//! sequence number), so it must grow by exactly one per order.
//!
//! The provider is registered through genesis as in marketplace_flow.rs (registering
//! with a tx needs VEID tier Standard and an MFA session).

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use ve_e2e::provider_daemon::{free_port, metric, spawn, spawn_ready, write_config};
use ve_e2e::provider_net::ProviderNet as Net;
use ve_e2e::{str_of, wait_until, CHAIN_ID};

/// Rates: 0.5 core × 100 + 0.5 GiB × 100 + 1 GiB storage × 10 per block (the example
/// SDL's cap is 1000 uve per block).
const EXPECTED_PRICE: &str = "110uve";

/// The CLI calls this test makes on the provider localnet.
trait DaemonCli {
    fn common<'a>(&'a self, args: Vec<&'a str>) -> Vec<&'a str>;
    fn deploy(&self, dseq: &str);
    fn provider_bids(&self) -> Vec<Value>;
    fn sequence(&self, who: &str) -> u64;
}

impl DaemonCli for Net {
    fn common<'a>(&'a self, args: Vec<&'a str>) -> Vec<&'a str> {
        self.client_args(args)
    }

    fn deploy(&self, dseq: &str) {
        let sdl = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/deployment.yaml"
        );
        let mut args = vec![
            "tx",
            "deployment",
            "create",
            sdl,
            "--deposit",
            "5000000uve",
            "--dseq",
            dseq,
            "--from",
            "alice",
            "--gas",
            "1000000",
            "--fees",
            "25000uve",
            "--yes",
            "--chain-id",
            CHAIN_ID,
        ];
        args = self.common(args);
        let v = self.ok(&args);
        assert_eq!(v["code"], 0, "deployment {dseq}: {v}");
    }

    fn provider_bids(&self) -> Vec<Value> {
        let v = self.ok(&self.common(vec!["query", "market", "bids", "--provider", "provider"]));
        v["bids"].as_array().cloned().unwrap_or_default()
    }

    fn sequence(&self, who: &str) -> u64 {
        let v = self.ok(&self.common(vec!["query", "auth", "account", who]));
        str_of(&v["account"]["sequence"]).parse().unwrap()
    }
}

fn bid_on(net: &Net, dseq: u64, log: &Path) -> Value {
    wait_until(
        "the daemon's bid on chain",
        Duration::from_secs(90),
        Duration::from_millis(500),
        || {
            net.provider_bids()
                .into_iter()
                .find(|b| str_of(&b["id"]["dseq"]) == dseq.to_string())
        },
        || {
            format!(
                "no bid for dseq {dseq}; daemon log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        },
    )
}

#[test]
fn daemon_bids_on_a_new_order_and_after_sigkill_resumes_without_bidding_twice() {
    let net = Net::start("pdaemon");
    let provider = net.address("provider");
    let log = net.dir.path().join("provider-daemon.log");
    let metrics_port = free_port();
    let config = write_config(&net, metrics_port, "");
    let seq0 = net.sequence(&provider);

    // 1. The daemon runs; the tenant deploys; the daemon's bid appears on chain.
    let mut daemon = spawn_ready(&net, &config, &log, metrics_port);
    net.deploy("1");
    let bid = bid_on(&net, 1, &log);
    assert_eq!(bid["state"], "open", "{bid}");
    assert_eq!(
        bid["price"], EXPECTED_PRICE,
        "priced by the configured rates: {bid}"
    );
    assert_eq!(net.sequence(&provider), seq0 + 1, "one signed tx per order");
    wait_until(
        "the bid counted in the daemon's metrics",
        Duration::from_secs(30),
        Duration::from_millis(200),
        || metric(metrics_port, "provider_bids_placed_total").filter(|n| *n == 1),
        || std::fs::read_to_string(&log).unwrap_or_default(),
    );
    assert_eq!(metric(metrics_port, "provider_orders_seen_total"), Some(1));

    // 2. SIGKILL: no shutdown path runs. A deployment arrives while the daemon is down.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.0.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    daemon.0.wait().unwrap();
    net.deploy("2");

    // 3. Restarted, it resumes at its checkpoint, catches up on the missed block, bids
    //    on order 2 — and signs nothing for order 1 again.
    let _daemon = spawn(&net, &config, &log);
    bid_on(&net, 2, &log);
    let h = net.rpc.height().unwrap();
    wait_until(
        "more blocks after the second bid",
        Duration::from_secs(60),
        Duration::from_millis(200),
        || net.rpc.height().filter(|x| *x >= h + 6),
        || "chain stalled".into(),
    );
    assert_eq!(
        net.sequence(&provider),
        seq0 + 2,
        "exactly one bid tx per order across the restart; log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert_eq!(net.provider_bids().len(), 2);
    assert_eq!(metric(metrics_port, "provider_bids_placed_total"), Some(1));
    let text = std::fs::read_to_string(&log).unwrap();
    let starts: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("resuming from checkpoint"))
        .collect();
    assert_eq!(starts.len(), 2, "two starts:\n{text}");
    assert!(
        starts[0].contains("checkpoint=None") && starts[1].contains("checkpoint=Some("),
        "the restart resumes from the stored checkpoint:\n{text}"
    );
}
