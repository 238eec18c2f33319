//! Running a localnet: one `virtengine start` child process per node, a wait for the
//! first block, then either return (--detach) or supervise until Ctrl-C/SIGTERM.

#![allow(clippy::disallowed_methods)] // Instant::now: start-up deadlines are wall-clock by nature.

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::process::Child;
use tokio::signal::unix::{signal, SignalKind};

use super::{build, load_manifest, pids_path, read_pids, Manifest, StartArgs};
use crate::cli::status::{node_status, status_client};
use crate::logging::LogFormat;
use crate::node::supervise;

pub async fn start(home: &Path, args: StartArgs) -> Result<()> {
    let alive: Vec<(String, u32)> = read_pids(home)?
        .into_iter()
        .filter(|(_, pid)| supervise::alive(*pid))
        .collect();
    if let Some((name, pid)) = alive.iter().find(|(name, _)| is_node(name)) {
        bail!(
            "a localnet is already running in {} ({name} has pid {pid}): stop it with `virtengine localnet stop --home {}`",
            home.display(),
            home.display()
        );
    }
    // Only helper services (enclaves) outlived their nodes (they crashed or
    // were killed): stop them; they are started again below with the nodes.
    for (name, pid) in &alive {
        if !supervise::terminate_pid(*pid, supervise::STOP_TIMEOUT).await {
            println!("{name} (pid {pid}) left over from the last run did not stop in time and was killed");
        }
    }
    let manifest = if args.keep && super::manifest_path(home).exists() {
        println!("reusing the localnet in {} (--keep)", home.display());
        load_manifest(home)?
    } else {
        build::wipe(home)?;
        println!(
            "building localnet {} with {} validator(s) in {}",
            super::CHAIN_ID,
            args.build.validators,
            home.display()
        );
        build::build(home, &args.build, &[])?
    };
    check_ports_free(&manifest)?;
    for e in manifest.veid.iter().flat_map(|v| &v.enclaves) {
        if let Some(port) = e
            .otp_listen
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
        {
            if !port_frees_up(port).await {
                bail!(
                    "port {port} ({}'s one-time-code endpoint) is already in use: is another localnet running? \
                     Stop it (`virtengine localnet stop`) or use --port-offset",
                    e.process_name()
                );
            }
        }
    }

    let exe = std::env::current_exe().context("locating the virtengine executable")?;
    let mut children: Vec<(String, Child)> = Vec::new();
    // Each validator's enclave service first: its node asks it for scores from the first
    // vote extension on.
    let enclaves = manifest
        .veid
        .as_ref()
        .map(|v| v.enclaves.clone())
        .unwrap_or_default();
    for e in &enclaves {
        let child = super::enclave::spawn(&exe, e, args.mfa_smtp.as_deref())?;
        println!(
            "started {} (pid {}, SIMULATED platform), log {}",
            e.process_name(),
            child.id().unwrap_or(0),
            e.log().display()
        );
        children.push((e.process_name(), child));
    }
    write_pids(home, &children)?;
    if let Err(e) = wait_enclaves(&enclaves, &mut children).await {
        stop_all(&mut children).await;
        let _ = std::fs::remove_file(pids_path(home));
        return Err(e);
    }
    for n in &manifest.nodes {
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.arg("start")
            .arg("--home")
            .arg(&n.home)
            .arg("--log-format")
            .arg(match args.log_format {
                LogFormat::Text => "text",
                LogFormat::Json => "json",
            });
        let child = supervise::spawn_logged(cmd, &n.log())
            .with_context(|| format!("starting {}", n.name))?;
        println!(
            "started {} (pid {}), log {}",
            n.name,
            child.id().unwrap_or(0),
            n.log().display()
        );
        children.push((n.name.clone(), child));
    }
    write_pids(home, &children)?;

    if let Err(e) = wait_ready(
        &manifest,
        &mut children,
        Duration::from_secs(args.ready_timeout),
    )
    .await
    {
        stop_all(&mut children).await;
        let _ = std::fs::remove_file(pids_path(home));
        return Err(e);
    }
    if let Some(n0) = manifest.nodes.first().filter(|_| !enclaves.is_empty()) {
        let registered =
            super::enclave::register_all(&exe, home, &n0.rpc, &manifest.chain_id, &enclaves).await;
        if let Err(e) = registered {
            stop_all(&mut children).await;
            let _ = std::fs::remove_file(pids_path(home));
            return Err(e);
        }
    }
    if let Some(p) = &manifest.provider {
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.arg("provider")
            .arg("run")
            .arg("--config")
            .arg(&p.config);
        let child =
            supervise::spawn_logged(cmd, &p.log()).context("starting the provider daemon")?;
        children.push((
            super::provider::ProviderEntry::PROCESS_NAME.to_string(),
            child,
        ));
        write_pids(home, &children)?;
    }
    print_ready(home, &manifest);
    if let Some(p) = &manifest.provider {
        let mode = match &p.bid_only_reason {
            None => "runs workloads in the process runner".to_string(),
            Some(why) => format!("bids only: {why}"),
        };
        println!(
            "  provider daemon: {} ({mode}), tenant API {}, metrics {}, log {}",
            p.address,
            p.api_url,
            p.metrics_url,
            p.log().display()
        );
        println!("  deploy:          virtengine deploy examples/web-service.yaml --from alice --deposit 5000000uve --yes");
        println!();
    }
    for e in &enclaves {
        println!(
            "  MFA codes ({}): {} (email {}), log {}",
            e.process_name(),
            e.otp_url,
            if args.mfa_smtp.is_some() {
                "on"
            } else {
                "off: --mfa-smtp"
            },
            e.log().display()
        );
    }
    if !enclaves.is_empty() {
        println!();
    }

    if args.detach {
        println!(
            "running in the background; stop with: virtengine localnet stop --home {}",
            home.display()
        );
        return Ok(());
    }
    println!("press Ctrl-C to stop");
    let res = supervise_until_signal(&manifest, &mut children).await;
    stop_all(&mut children).await;
    let _ = std::fs::remove_file(pids_path(home));
    println!("localnet stopped");
    res
}

/// Whether 127.0.0.1:`port` can be bound within a few seconds. An enclave left over from
/// the last run was just stopped above: its main thread is gone (so it is not "alive")
/// while its runtime's other threads may still hold its listening socket for a moment.
async fn port_frees_up(port: u16) -> bool {
    for _ in 0..50 {
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Whether a localnet.pids name is a validator node (`node<i>`) rather than a helper
/// service beside the nodes (`node<i>-enclave`).
fn is_node(name: &str) -> bool {
    name.strip_prefix("node")
        .is_some_and(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
}

/// Waits until every enclave service listens (each loads the scoring models first).
async fn wait_enclaves(
    enclaves: &[super::enclave::EnclaveEntry],
    children: &mut [(String, Child)],
) -> Result<()> {
    for e in enclaves {
        let name = e.process_name();
        if let Some((_, c)) = children.iter_mut().find(|(n, _)| *n == name) {
            super::enclave::wait_listening(e, c, Duration::from_secs(60)).await?;
        }
    }
    Ok(())
}

fn write_pids(home: &Path, children: &[(String, Child)]) -> Result<()> {
    let text: String = children
        .iter()
        .map(|(n, c)| format!("{n} {}\n", c.id().unwrap_or(0)))
        .collect();
    let p = pids_path(home);
    std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))
}

/// Fails early, naming the port, instead of letting a node die on a bind error.
fn check_ports_free(m: &Manifest) -> Result<()> {
    for n in &m.nodes {
        let rpc_port = n.rpc.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
        let rest_port = n
            .rest
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok());
        let grpc_port = n
            .grpc
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok());
        let ports = [
            ("CometBFT RPC", rpc_port),
            ("P2P", Some(n.p2p_port)),
            ("ABCI", Some(n.abci_port)),
            ("REST", rest_port),
            ("gRPC", grpc_port),
        ];
        for (what, port) in ports {
            let Some(port) = port else { continue };
            if TcpListener::bind(("127.0.0.1", port)).is_err() {
                bail!(
                    "port {port} ({what} of {}) is already in use: is another localnet or node running? \
                     Stop it (`virtengine localnet stop`) or use --port-offset",
                    n.name
                );
            }
        }
    }
    Ok(())
}

/// Waits until every node answers RPC and node0 has committed block 1.
async fn wait_ready(
    m: &Manifest,
    children: &mut [(String, Child)],
    timeout: Duration,
) -> Result<()> {
    let clients = m
        .nodes
        .iter()
        .map(|n| status_client(&n.rpc))
        .collect::<Result<Vec<_>>>()?;
    let start = Instant::now();
    let mut last_msg = String::new();
    loop {
        check_children(m, children)?;
        let mut heights = Vec::new();
        for client in &clients {
            heights.push(
                node_status(client)
                    .await
                    .ok()
                    .map(|s| s.latest_block_height),
            );
        }
        let h0 = heights.first().copied().flatten();
        let msg = match h0 {
            None => "waiting for node RPC...".to_string(),
            Some(h) => format!("waiting for first block... height {h}"),
        };
        if msg != last_msg {
            println!("{msg}");
            last_msg = msg;
        }
        if heights.iter().all(Option::is_some) && h0.unwrap_or(0) >= 1 {
            return Ok(());
        }
        if start.elapsed() > timeout {
            let n0 = m.nodes.first().context("no nodes")?;
            bail!(
                "the localnet produced no block within {} s; last lines of {}:\n{}\n(CometBFT's log: {})",
                timeout.as_secs(),
                n0.log().display(),
                supervise::tail(&n0.log(), 30),
                n0.home.join("logs").join("cometbft.log").display()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Errors (with the node's last log lines) if a node process has exited.
fn check_children(m: &Manifest, children: &mut [(String, Child)]) -> Result<()> {
    for (name, child) in children.iter_mut() {
        if let Some(status) = child.try_wait().context("checking node process")? {
            let enclave_log = m
                .veid
                .iter()
                .flat_map(|v| &v.enclaves)
                .find(|e| e.process_name() == *name)
                .map(|e| e.log());
            let provider_log = m
                .provider
                .as_ref()
                .filter(|_| name == super::provider::ProviderEntry::PROCESS_NAME)
                .map(|p| p.log());
            let log = m
                .nodes
                .iter()
                .find(|n| n.name == *name)
                .map(|n| n.log())
                .or(enclave_log)
                .or(provider_log)
                .unwrap_or_default();
            bail!(
                "{name} exited ({status}); last lines of {}:\n{}",
                log.display(),
                supervise::tail(&log, 30)
            );
        }
    }
    Ok(())
}

fn print_ready(home: &Path, m: &Manifest) {
    println!();
    println!(
        "localnet {} is ready ({} validator(s))",
        m.chain_id,
        m.nodes.len()
    );
    for n in &m.nodes {
        println!("  {}:", n.name);
        println!("    CometBFT RPC  {}", n.rpc);
        println!("    REST          {}", n.rest);
        println!("    gRPC          {}", n.grpc);
        println!("    metrics       {}", n.metrics);
        println!(
            "    P2P           127.0.0.1:{}  (node id {})",
            n.p2p_port, n.node_id
        );
        println!("    home          {}", n.home.display());
        println!(
            "    logs          {}  and  {}",
            n.log().display(),
            n.home.join("logs").join("cometbft.log").display()
        );
    }
    println!(
        "  accounts:       {} (keys: virtengine keys list --home {})",
        home.join("accounts.json").display(),
        home.display()
    );
    println!(
        "  funded:         {} with {} each",
        super::ACCOUNTS.join(", "),
        super::ACCOUNT_BALANCE
    );
    if let Some(v) = &m.veid {
        println!(
            "  VEID:           capture client {} (key {})",
            v.capture_client_id,
            v.capture_client_key.display(),
        );
        for e in &v.enclaves {
            println!(
                "  enclave:        {} (SIMULATED platform, registered by {}), socket {}, log {}",
                e.process_name(),
                e.operator,
                e.socket.display(),
                e.log().display()
            );
        }
        if !v.enclaves.is_empty() {
            println!(
                "                  identity recipients = their X25519 keys; reports signed by the SIMULATED platform key {}",
                v.simulated_platform_key.display()
            );
        }
    }
    println!();
}

/// Runs until SIGINT/SIGTERM (Ok) or a node dies (Err), printing progress.
async fn supervise_until_signal(m: &Manifest, children: &mut [(String, Child)]) -> Result<()> {
    let mut sigterm = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let mut sigint = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    let rpc = m.nodes.first().map(|n| n.rpc.clone()).unwrap_or_default();
    let node0 = status_client(&rpc)?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_report = Instant::now();
    loop {
        tokio::select! {
            _ = sigterm.recv() => { println!("SIGTERM: stopping nodes"); return Ok(()); }
            _ = sigint.recv() => { println!("Ctrl-C: stopping nodes"); return Ok(()); }
            _ = tick.tick() => {
                check_children(m, children)?;
                if last_report.elapsed() >= Duration::from_secs(30) {
                    last_report = Instant::now();
                    match node_status(&node0).await {
                        Ok(s) => println!("height {} app hash {}", s.latest_block_height, s.latest_app_hash),
                        Err(e) => println!("node0 RPC not answering: {e:#}"),
                    }
                }
            }
        }
    }
}

/// Stops nodes in reverse order of start, each with SIGTERM then SIGKILL.
async fn stop_all(children: &mut [(String, Child)]) {
    let stops = children.iter_mut().rev().map(|(name, child)| async move {
        match supervise::terminate(child, supervise::STOP_TIMEOUT + Duration::from_secs(5)).await {
            Ok(s) => println!("  {name} stopped ({s})"),
            Err(e) => println!("  {name}: {e:#}"),
        }
    });
    futures::future::join_all(stops).await;
}
