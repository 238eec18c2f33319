//! Issue #9 end to end: `virtengine deploy` of a small web service on a real localnet,
//! served by a real provider daemon running it in the sandboxed process runner.
//!
//! 1. deploy → the daemon bids, the CLI accepts the bid, sends the manifest (signed,
//!    hash-checked), waits for the endpoint; the endpoint serves the image's page;
//!    the provider API refuses another account (not the owner) and a manifest whose hash
//!    is not the deployment's; the right manifest again changes nothing;
//! 2. the escrow deposit (1000 uve, made small in genesis) runs dry: the chain pauses the
//!    lease and the daemon suspends the workload — frozen, not destroyed; a top-up
//!    resumes the lease and the daemon resumes the same workload;
//! 3. usage records appear on chain;
//! 4. SIGKILL of the daemon: the workload keeps serving; the restarted daemon adopts it
//!    (no second copy, nothing provisioned again) and goes on recording usage;
//! 5. SIGKILL of the chain node the daemon talks to: nothing is torn down while the
//!    chain is unreachable; after the node restarts, usage recording resumes;
//! 6. `lease close` while the daemon is down → the restarted daemon catches up on the
//!    committed close, tears the workload down (endpoint gone, no process left, no
//!    orphan) and records the final usage; the escrow paid the provider per block.
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
use ve_e2e::provider_daemon::{free_port, metric, spawn_ready, write_config, Daemon};
use ve_e2e::provider_net::ProviderNet as Net;
use ve_e2e::{num, str_of, wait_until};

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

/// `query market <what>` (`lease`, `lease-usage`) of lease 1/1/1.
fn query_lease(net: &Net, what: &str, tenant: &str, provider: &str) -> Value {
    net.ok(&net.client_args(vec![
        "query",
        "market",
        what,
        "--owner",
        tenant,
        "--dseq",
        "1",
        "--provider",
        provider,
    ]))
}

fn usage(net: &Net, tenant: &str, provider: &str) -> Value {
    query_lease(net, "lease-usage", tenant, provider)
}

fn last_seq(v: &Value) -> u64 {
    num(&v["last_seq"])
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
    format!("daemon log:\n{}", ve_e2e::tail(log, 60))
}

/// Sandboxed workloads serving on `port`: httpd processes that are pid 1 of their own
/// pid namespace (`httpd -f -v -p <port> -h /www`; the children it forks per connection
/// are not counted).
fn httpd_count(port: u16) -> usize {
    let port = port.to_string();
    let namespace_init = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("NSpid:"))
                    .map(|l| l.split_whitespace().last() == Some("1"))
            })
            .unwrap_or(false)
    };
    ve_e2e::procs_mentioning("httpd")
        .iter()
        .filter(|p| p.argv.first().is_some_and(|a| a == "httpd") && p.argv.contains(&port))
        .filter(|p| namespace_init(p.pid))
        .count()
}

fn lease_events(metrics_port: u16, event: &str) -> u64 {
    metric(
        metrics_port,
        &format!("provider_lease_events_total{{event=\"{event}\"}}"),
    )
    .unwrap_or(0)
}

/// The provider API as an attacker or a careless tenant would use it.
fn check_api_refusals(net: &Net, tenant: &str, sdl: &str, api_port: u16) {
    use ve_provider_daemon::api::client::ClientError;
    let keyring = ve_client::Keyring::open(&net.home, ve_client::Backend::Test).unwrap();
    let key = |name: &str| keyring.signer(name, "").unwrap();
    let manifest = ve_sdl::parse(&std::fs::read_to_string(sdl).unwrap())
        .unwrap()
        .manifest;
    let lease = ve_provider_daemon::events::OrderKey {
        owner: tenant.to_string(),
        dseq: 1,
        gseq: 1,
        oseq: 1,
    };
    let url = format!("http://127.0.0.1:{api_port}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let code = |r: Result<ve_provider_daemon::api::LeaseStatus, ClientError>| match r {
        Err(ClientError::Refused(e)) => e.code,
        other => panic!("expected a refusal, got {other:?}"),
    };
    rt.block_on(async {
        let bob = ve_provider_daemon::api::ProviderClient::new(&url, key("bob")).unwrap();
        assert_eq!(
            code(bob.send_manifest(&lease, &manifest).await),
            2,
            "not the owner"
        );
        assert_eq!(code(bob.status(&lease).await), 2, "not the owner");
        let alice = ve_provider_daemon::api::ProviderClient::new(&url, key("alice")).unwrap();
        let mut other = manifest.clone();
        other.groups[0].services[0].env.push("INJECTED=1".into());
        assert_eq!(
            code(alice.send_manifest(&lease, &other).await),
            5,
            "hash mismatch"
        );
        let again = alice.send_manifest(&lease, &manifest).await.unwrap();
        assert_eq!(
            again.phase,
            ve_provider_daemon::api::LeasePhase::Running,
            "{again:?}"
        );
    });
}

#[test]
fn deployed_web_service_is_served_billed_survives_daemon_and_node_kills_and_is_torn_down_on_close()
{
    if !nix::unistd::geteuid().is_root() {
        panic!("deploy_lease runs sandboxed workloads (cgroups, namespaces) and must run as root");
    }
    let api_port = free_port();
    let net = Net::start_with("deploy", |_, g| {
        g["app_state"]["provider"]["providers"][0]["host_uri"] =
            Value::String(format!("http://127.0.0.1:{api_port}"));
        g["app_state"]["deployment"]["params"]["min_deposits"] =
            serde_json::json!([{"denom": "uve", "amount": "1000"}]);
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
    let start = |net: &Net| spawn_ready(net, &config, &log, metrics_port);
    let mut guard = Cleanup {
        net: &net,
        daemon: Some(start(&net)),
    };

    // 1. Deploy and reach the service.
    let sdl = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/web-service.yaml"
    );
    let out = net.ok(&net.tx_args(vec![
        "deploy",
        sdl,
        "--dseq",
        "1",
        "--from",
        "alice",
        "--deposit",
        "1000uve",
    ]));
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
    check_api_refusals(&net, &tenant, sdl, api_port);
    assert_eq!(httpd_count(host_port), 1);
    assert_eq!(lease_events(metrics_port, "provisioned"), 1);

    // 2. The escrow runs dry (about 32 uve per block): the lease pauses, the workload is
    //    frozen but kept; a top-up resumes both.
    wait_until(
        "the daemon to suspend the workload of the paused lease",
        Duration::from_secs(90),
        Duration::from_millis(500),
        || (lease_events(metrics_port, "suspended") == 1).then_some(()),
        || daemon_log(&log),
    );
    let l = query_lease(&net, "lease", &tenant, &provider);
    assert_eq!(l["lease"]["state"], "insufficient_funds", "{l}");
    assert_eq!(httpd_count(host_port), 1, "suspended, not destroyed");
    assert_eq!(lease_events(metrics_port, "torn_down"), 0);
    let account = format!("deployment/{tenant}/1");
    let topped = net.ok(&net.tx_args(vec![
        "tx",
        "escrow",
        "deposit",
        &account,
        "5000000uve",
        "--from",
        "alice",
    ]));
    assert_eq!(topped["code"], 0, "{topped}");
    wait_until(
        "the daemon to resume the workload",
        Duration::from_secs(60),
        Duration::from_millis(500),
        || (lease_events(metrics_port, "resumed") == 1).then_some(()),
        || daemon_log(&log),
    );
    assert!(
        http_get(&addr).unwrap().contains(PAGE),
        "served again after the top-up"
    );
    assert_eq!(
        httpd_count(host_port),
        1,
        "the same workload, not a new one"
    );
    assert_eq!(lease_events(metrics_port, "provisioned"), 1);

    // 3. Usage on chain.
    let u = usage_after(&net, &tenant, &provider, 0, &log);
    assert!(!u["final"].as_bool().unwrap_or(false), "{u}");
    assert!(num(&u["cumulative"]["wall_seconds"]) > 0, "{u}");
    assert!(num(&u["cumulative"]["memory_byte_seconds"]) > 0, "{u}");

    // 4. SIGKILL the daemon: the workload keeps serving; the new daemon adopts it.
    guard.daemon = None;
    assert!(
        http_get(&addr).unwrap().contains(PAGE),
        "served while the daemon is down"
    );
    let seq = last_seq(&usage(&net, &tenant, &provider));
    guard.daemon = Some(start(&net));
    usage_after(&net, &tenant, &provider, seq, &log);
    assert_eq!(
        httpd_count(host_port),
        1,
        "exactly one copy after the restart"
    );
    assert_eq!(
        lease_events(metrics_port, "provisioned"),
        0,
        "the restarted daemon provisioned nothing\n{}",
        daemon_log(&log)
    );
    assert!(http_get(&addr).unwrap().contains(PAGE));

    // 5. SIGKILL the chain node: the daemon cannot reach the chain; nothing is torn down.
    net.kill9_node();
    std::thread::sleep(Duration::from_secs(8));
    assert!(
        http_get(&addr).unwrap().contains(PAGE),
        "served while the node is down"
    );
    assert_eq!(httpd_count(host_port), 1);
    assert_eq!(
        lease_events(metrics_port, "torn_down"),
        0,
        "{}",
        daemon_log(&log)
    );
    net.restart_node();
    let seq = last_seq(&usage(&net, &tenant, &provider));
    usage_after(&net, &tenant, &provider, seq, &log);
    assert!(http_get(&addr).unwrap().contains(PAGE));

    // 6. Close while the daemon is down: nothing tears the workload down yet; the
    //    restarted daemon catches up on the committed close, tears down (no orphan) and
    //    records the final usage. The provider was paid through escrow.
    guard.daemon = None;
    let closed = net.ok(&net.tx_args(vec!["lease", "close", "1", "--from", "alice"]));
    assert_eq!(closed["code"], 0, "{closed}");
    assert_eq!(httpd_count(host_port), 1, "no daemon yet to tear it down");
    guard.daemon = Some(start(&net));
    let u = wait_until(
        "the final usage record",
        Duration::from_secs(60),
        Duration::from_millis(500),
        || Some(usage(&net, &tenant, &provider)).filter(|v| v["final"].as_bool() == Some(true)),
        || daemon_log(&log),
    );
    assert!(num(&u["cumulative"]["wall_seconds"]) > 0, "{u}");
    assert_eq!(lease_events(metrics_port, "torn_down"), 1);
    assert!(http_get(&addr).is_err(), "the endpoint is gone after close");
    assert_eq!(httpd_count(host_port), 0, "no workload process left");
    let l = query_lease(&net, "lease", &tenant, &provider);
    println!("closed lease: {l}");
    assert_eq!(l["lease"]["state"], "closed", "{l}");
    // Billed through escrow at the bid price per block: the first 1000 uve deposit was
    // drawn in full before the pause, and never more than price × blocks leased.
    let rate = num(&l["payment"]["rate"]);
    let withdrawn = num(&l["payment"]["withdrawn"]);
    let blocks = num(&l["lease"]["closed_on"]) - num(&l["lease"]["created_at"]);
    assert!(rate > 0 && withdrawn.is_multiple_of(rate), "{l}");
    assert!(withdrawn >= 1000 && withdrawn <= rate * blocks, "{l}");
    println!("{}", daemon_log(&log));
    drop(guard);
}
