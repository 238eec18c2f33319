//! Issue #9 end to end: `virtengine deploy` of a small web service on a real localnet,
//! served by a real provider daemon running it in the sandboxed process runner.
//!
//! 1. deploy → the daemon bids, the CLI accepts the bid, sends the manifest (signed,
//!    hash-checked), waits for the endpoint; the endpoint serves the image's page;
//! 2. usage records appear on chain; the escrow pays the provider per block;
//! 3. SIGKILL of the daemon: the workload keeps serving; the restarted daemon adopts it
//!    (no second copy, nothing provisioned again) and goes on recording usage;
//! 4. SIGKILL of the chain node the daemon talks to: nothing is torn down while the
//!    chain is unreachable; after the node restarts, usage recording resumes;
//! 5. `lease close` → the daemon tears the workload down (endpoint gone, no process
//!    left) and records the final usage.
//!
//! Needs root (cgroups, namespaces) and the `busybox` image from scripts/build-images.sh,
//! like the process runner's own tests.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use ve_backend::process::{ProcessRunner, RunnerConfig};
use ve_backend::Backend;
use ve_e2e::provider_daemon::{free_port, metric, spawn, write_config, Daemon, FEES};
use ve_e2e::provider_net::ProviderNet as Net;
use ve_e2e::{num, str_of, wait_until, CHAIN_ID};

const CGROUP: &str = "ve-e2e-deploy";
const PAGE: &str = "Served by a VirtEngine lease";

/// The process runner the daemon uses, for checks and for cleaning up after a failure.
fn runner_config(net: &Net) -> RunnerConfig {
    let mut rc = RunnerConfig::new(net.dir.path().join("provider-state/process-runner"));
    rc.cgroup_parent = CGROUP.into();
    rc
}

/// On drop (also when the test fails): kill the daemon, then tear down every workload
/// it left, so no sandboxed process outlives the test.
struct Cleanup<'a> {
    net: &'a Net,
    daemon: Option<Daemon>,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        self.daemon = None;
        if let Ok(r) = ProcessRunner::open(runner_config(self.net)) {
            for w in r.list().unwrap_or_default() {
                let _ = r.teardown(&w.lease);
            }
        }
    }
}

fn common<'a>(net: &'a Net, mut args: Vec<&'a str>) -> Vec<&'a str> {
    args.extend_from_slice(&[
        "--output",
        "json",
        "--keyring-backend",
        "test",
        "--home",
        &net.home,
        "--node",
        &net.rpc.url,
    ]);
    args
}

/// HTTP GET of `/` at `addr`; the body, or why not.
fn http_get(addr: &str) -> Result<String, String> {
    let mut s = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut body = String::new();
    s.read_to_string(&mut body).map_err(|e| e.to_string())?;
    Ok(body)
}

fn usage(net: &Net, tenant: &str, provider: &str) -> Value {
    net.ok(&common(
        net,
        vec!["query", "market", "lease-usage", tenant, "1", "1", "1", provider],
    ))
}

fn last_seq(v: &Value) -> u64 {
    num(&v["summary"]["last_seq"])
}

/// Waits for a usage record with a sequence number above `after`.
fn usage_after(net: &Net, tenant: &str, provider: &str, after: u64, log: &Path) -> Value {
    wait_until(
        &format!("a usage record after #{after} on chain"),
        Duration::from_secs(90),
        Duration::from_millis(500),
        || Some(usage(net, tenant, provider)).filter(|v| last_seq(v) > after),
        || daemon_log(log),
    )
}

fn daemon_log(log: &Path) -> String {
    format!(
        "daemon log:\n{}",
        ve_e2e::tail(log, 60)
    )
}

/// Sandboxed httpd processes serving on `port`.
fn httpd_count(port: u16) -> usize {
    ve_e2e::procs_mentioning(&format!("-p {port}"))
        .iter()
        .filter(|p| p.cmdline().contains("httpd"))
        .count()
}

fn lease_events(metrics_port: u16, event: &str) -> u64 {
    metric(
        metrics_port,
        &format!("provider_lease_events_total{{event=\"{event}\"}}"),
    )
    .unwrap_or(0)
}

#[test]
fn deployed_web_service_is_served_billed_survives_daemon_and_node_kills_and_is_torn_down_on_close(
) {
    if !nix::unistd::geteuid().is_root() {
        panic!("deploy_lease runs sandboxed workloads (cgroups, namespaces) and must run as root");
    }
    let api_port = free_port();
    let net = Net::start_with("deploy", |_, g| {
        g["app_state"]["provider"]["providers"][0]["host_uri"] =
            Value::String(format!("http://127.0.0.1:{api_port}"));
    });
    let tenant = net.address("alice");
    let provider = net.address("provider");
    let log = net.dir.path().join("provider-daemon.log");
    let metrics_port = free_port();
    let config = write_config(
        &net,
        metrics_port,
        &format!(
            "backend = \"process\"\ncgroup_parent = \"{CGROUP}\"\n\n[leases]\napi_listen = \"127.0.0.1:{api_port}\"\nusage_interval_secs = 3\n"
        ),
    );
    let start = |net: &Net| {
        let d = spawn(net, &config, &log);
        wait_until(
            "the daemon's metrics endpoint",
            Duration::from_secs(30),
            Duration::from_millis(200),
            || metric(metrics_port, "provider_checkpoint_height"),
            || daemon_log(&log),
        );
        d
    };
    let mut guard = Cleanup {
        net: &net,
        daemon: Some(start(&net)),
    };

    // 1. Deploy and reach the service.
    let sdl = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/web-service.yaml");
    let out = net.ok(&common(
        &net,
        vec![
            "deploy", sdl, "--dseq", "1", "--from", "alice", "--deposit", "5000000uve",
            "--fees", FEES, "--gas", "1000000", "--chain-id", CHAIN_ID,
        ],
    ));
    let lease = &out["leases"][0];
    assert_eq!(str_of(&lease["provider"]), provider, "{out}");
    let endpoint = &lease["endpoints"][0];
    let addr = str_of(&endpoint["address"]);
    let host_port = u16::try_from(num(&endpoint["host_port"])).unwrap();
    assert_eq!(num(&endpoint["port"]), 8080, "{out}");
    let page = http_get(&addr).unwrap_or_else(|e| panic!("GET {addr}: {e}\n{}", daemon_log(&log)));
    assert!(page.contains(PAGE), "{page}");
    assert_eq!(httpd_count(host_port), 1);
    assert_eq!(lease_events(metrics_port, "provisioned"), 1);

    // 2. Usage on chain, and the escrow streaming to the provider.
    let u = usage_after(&net, &tenant, &provider, 0, &log);
    assert!(!u["summary"]["final"].as_bool().unwrap_or(false), "{u}");
    assert!(num(&u["summary"]["cumulative"]["wall_seconds"]) > 0, "{u}");
    assert!(num(&u["summary"]["cumulative"]["memory_byte_seconds"]) > 0, "{u}");

    // 3. SIGKILL the daemon: the workload keeps serving; the new daemon adopts it.
    guard.daemon = None;
    assert!(http_get(&addr).unwrap().contains(PAGE), "served while the daemon is down");
    let seq = last_seq(&usage(&net, &tenant, &provider));
    guard.daemon = Some(start(&net));
    usage_after(&net, &tenant, &provider, seq, &log);
    assert_eq!(httpd_count(host_port), 1, "exactly one copy after the restart");
    assert_eq!(
        lease_events(metrics_port, "provisioned"),
        0,
        "the restarted daemon provisioned nothing\n{}",
        daemon_log(&log)
    );
    assert!(http_get(&addr).unwrap().contains(PAGE));

    // 4. SIGKILL the chain node: the daemon cannot reach the chain; nothing is torn down.
    net.kill9_node();
    std::thread::sleep(Duration::from_secs(8));
    assert!(http_get(&addr).unwrap().contains(PAGE), "served while the node is down");
    assert_eq!(httpd_count(host_port), 1);
    assert_eq!(lease_events(metrics_port, "torn_down"), 0, "{}", daemon_log(&log));
    net.restart_node();
    let seq = last_seq(&usage(&net, &tenant, &provider));
    usage_after(&net, &tenant, &provider, seq, &log);
    assert!(http_get(&addr).unwrap().contains(PAGE));

    // 5. Close: torn down, final usage recorded, the provider paid through escrow.
    let closed = net.ok(&common(
        &net,
        vec![
            "lease", "close", "1", "--from", "alice", "--fees", FEES, "--gas", "1000000",
            "--chain-id", CHAIN_ID,
        ],
    ));
    assert_eq!(closed["code"], 0, "{closed}");
    let u = wait_until(
        "the final usage record",
        Duration::from_secs(60),
        Duration::from_millis(500),
        || {
            Some(usage(&net, &tenant, &provider))
                .filter(|v| v["summary"]["final"].as_bool() == Some(true))
        },
        || daemon_log(&log),
    );
    assert!(num(&u["summary"]["cumulative"]["wall_seconds"]) > 0, "{u}");
    assert_eq!(lease_events(metrics_port, "torn_down"), 1);
    assert!(http_get(&addr).is_err(), "the endpoint is gone after close");
    assert_eq!(httpd_count(host_port), 0, "no workload process left");
    let l = net.ok(&common(
        &net,
        vec!["query", "market", "lease", &tenant, "1", "1", "1", &provider],
    ));
    println!("closed lease: {l}");
    drop(guard);
}
