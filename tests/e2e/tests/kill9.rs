//! Crash safety of a real node: a load of CLI bank sends runs against a 1-validator
//! localnet while the node (`virtengine start` and its CometBFT child) is `kill -9`ed twice
//! and restarted with `localnet start --keep`. After each restart:
//!
//! * every transaction the CLI reported committed with code 0 is still found by `/tx`, at
//!   the height the CLI reported, with code 0, and is in that block's data;
//! * every height seen before the kill has the same block hash, the same app hashes
//!   (header of h+1 and `/block_results` of h) and the same tx results as before;
//! * the balances the app answers at the tip equal genesis plus every `transfer` event
//!   since, and the five accounts plus the fee collector hold exactly the genesis total;
//! * every tx in every block succeeded (the load only sends valid txs), including blocks
//!   CometBFT replays into the app after the crash;
//! * the chain keeps making blocks.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::time::{Duration, Instant};

use ve_e2e::load::{Committed, Load, LoadConfig, Target};
use ve_e2e::{check_balances, wait_until, History, Localnet, Rpc, ACCOUNTS, GENESIS_BALANCE};

/// One sender per test account, each sending to the next account in a ring.
fn start_load(net: &Localnet) -> Load {
    Load::start(LoadConfig {
        bin: net.bin.clone(),
        home: net.home_str.clone(),
        senders: ACCOUNTS
            .iter()
            .enumerate()
            .map(|(i, from)| {
                (
                    from.to_string(),
                    net.address(ACCOUNTS[(i + 1) % ACCOUNTS.len()]),
                )
            })
            .collect(),
        targets: vec![Target {
            netns: None,
            node: net.rpc.url.clone(),
        }],
        pause: Duration::ZERO,
        healthy: None,
    })
}

/// Re-reads every settled height and checks everything this test promises. Returns the
/// height the checks were made at.
fn verify(net: &Localnet, history: &mut History, committed: &[Committed], when: &str) -> u64 {
    let rpc: &Rpc = &net.rpc;
    let tip = rpc.settled_height().unwrap_or_else(|| {
        panic!(
            "{when}: /status failed: {:?}\n{}",
            rpc.status(),
            net.logs(40)
        )
    });
    // A tx the CLI saw committed proves its block executed, even at the latest height.
    let tip = committed.iter().map(|c| c.height).fold(tip, u64::max);
    history
        .observe(rpc, 1, tip)
        .unwrap_or_else(|e| panic!("{when}: reading the chain failed: {e}\n{}", net.logs(40)));
    let mut problems: Vec<String> = history.mismatches.clone();
    problems.extend(history.check_chained_app_hashes());
    for c in committed {
        match rpc.tx(&c.hash) {
            Ok(Some((h, code, _))) => {
                if h != c.height || code != 0 {
                    problems.push(format!(
                        "tx {} (from {}) was reported committed at height {} with code 0; /tx now says height {h} code {code}",
                        c.hash, c.from, c.height
                    ));
                }
            }
            Ok(None) => problems.push(format!(
                "tx {} (from {}) was reported committed at height {} but /tx no longer finds it",
                c.hash, c.from, c.height
            )),
            Err(e) => problems.push(format!("/tx {}: {e}", c.hash)),
        }
        let in_block = history
            .heights
            .get(&c.height)
            .map(|r| r.tx_hashes.contains(&c.hash))
            .unwrap_or(false);
        if !in_block {
            problems.push(format!(
                "tx {} is not in the data of block {}",
                c.hash, c.height
            ));
        }
    }
    // Every sender has one tx in flight at a time, with the right sequence, ample funds
    // and gas: every tx that made it into a block must have succeeded, including blocks
    // replayed into the app after a crash.
    for (h, r) in &history.heights {
        for (hash, (code, log)) in r.tx_hashes.iter().zip(&r.tx_codes) {
            if *code != 0 {
                problems.push(format!("tx {hash} in block {h} has code {code}: {log}"));
            }
        }
    }
    problems.extend(check_balances(rpc, &net.accounts, history, tip));
    assert!(
        problems.is_empty(),
        "{when}: {} problem(s):\n{}\n{}",
        problems.len(),
        problems.join("\n"),
        net.logs(60)
    );
    tip
}

#[derive(Debug)]
struct KillReport {
    height_at_kill: u64,
    recorded_before_kill: u64,
    committed_before_kill: usize,
    killed: Vec<String>,
    restart: Duration,
    height_after: u64,
    /// What CometBFT's handshake said on restart (app height vs stored blocks, replays).
    handshake: Vec<String>,
}

/// CometBFT's handshake lines written after `offset`: app height and hash, which heights
/// it replayed into the app and how.
fn handshake_lines(log: &std::path::Path, offset: u64) -> Vec<String> {
    let bytes = std::fs::read(log).unwrap_or_default();
    let start = usize::try_from(offset).unwrap_or(0).min(bytes.len());
    String::from_utf8_lossy(&bytes[start..])
        .lines()
        .filter(|l| {
            l.contains("ABCI Handshake App Info")
                || l.contains("ABCI Replay Blocks")
                || l.contains("Replay")
                || l.contains("Completed ABCI Handshake")
        })
        .map(|l| {
            // Drop the timestamp prefix `I[...] `.
            let l = l.split_once("] ").map(|(_, r)| r).unwrap_or(l);
            l.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

#[test]
fn committed_txs_and_app_hashes_survive_kill_9_during_load() {
    let t0 = Instant::now();
    let net = Localnet::start("kill9", &["--timeout-commit", "500ms"]);
    let rpc = net.rpc.clone();
    net.wait_height(2, Duration::from_secs(60));
    eprintln!(
        "[e2e] localnet up after {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let mut history = History::default();
    let load = start_load(&net);
    let mut kills: Vec<KillReport> = Vec::new();

    for round in 0..2 {
        // Let the load run: a few blocks and a few more committed transactions.
        let committed0 = load.committed_count();
        let h0 = rpc.height().unwrap_or(0);
        wait_until(
            &format!("round {round}: 4 more blocks and 8 more committed txs under load"),
            Duration::from_secs(120),
            Duration::from_millis(250),
            || {
                let h = rpc.height()?;
                history
                    .observe(&rpc, history.top() + 1, h.saturating_sub(1))
                    .ok()?;
                (h >= h0 + 4 && load.committed_count() >= committed0 + 8).then_some(())
            },
            || {
                format!(
                    "height {:?}, committed {} (was {committed0}), load: {:?}\n{}",
                    rpc.height(),
                    load.committed_count(),
                    load.state.lock().map(|s| format!(
                        "{} attempts, {} rejected with a code (last: {:?}), {} failed without a result (e.g. {:?})",
                        s.attempts,
                        s.rejected.len(),
                        &s.rejected[s.rejected.len().saturating_sub(5)..],
                        s.errors,
                        s.error_samples
                    )),
                    net.logs(40)
                )
            },
        );
        // Record up to the tip, then kill while the load is still running.
        let (tip, _) = rpc.status().expect("status before the kill");
        history
            .observe(&rpc, history.top() + 1, tip.saturating_sub(1))
            .expect("recording heights before the kill");
        let recorded = history.top();
        let h_kill = if round == 0 {
            // Kill 1: at once, wherever the node is.
            tip
        } else {
            // Kill 2: the moment CometBFT has stored the next block (its height shows in
            // /status before the block is executed and the app commits it), so the
            // restart most likely has to replay that block into the app.
            wait_until(
                "the next block before kill 2",
                Duration::from_secs(30),
                Duration::from_millis(2),
                || rpc.height().filter(|h| *h > tip),
                || net.logs(30),
            )
        };
        let committed_before = load.committed_count();
        let killed = net.kill9(round == 1);
        assert!(
            rpc.status().is_err(),
            "the RPC still answers after kill -9 of {:?}",
            killed
        );
        let t_kill = Instant::now();
        eprintln!(
            "[e2e] kill {}: SIGKILLed {:?} at height {h_kill} ({} heights recorded, {} txs committed so far)",
            round + 1,
            killed.iter().map(|p| (p.pid, p.argv.first().cloned().unwrap_or_default())).collect::<Vec<_>>(),
            recorded,
            committed_before
        );
        // The load keeps trying against the dead node for a moment.
        std::thread::sleep(Duration::from_millis(1500));
        let comet_log = net.node_home().join("logs").join("cometbft.log");
        let log_offset = std::fs::metadata(&comet_log).map(|m| m.len()).unwrap_or(0);
        net.restart();
        let h_after = net.wait_height(h_kill + 3, Duration::from_secs(120));
        let restart = t_kill.elapsed();
        let tip = verify(
            &net,
            &mut history,
            &load.committed(),
            &format!("after restart {}", round + 1),
        );
        eprintln!(
            "[e2e] restart {}: chain back, height {h_after} within {:.1} s of the kill; verified heights 1..={tip}",
            round + 1,
            restart.as_secs_f64()
        );
        let handshake = handshake_lines(&comet_log, log_offset);
        for l in &handshake {
            eprintln!("[e2e]   cometbft: {l}");
        }
        kills.push(KillReport {
            height_at_kill: h_kill,
            recorded_before_kill: recorded,
            committed_before_kill: committed_before,
            killed: killed
                .iter()
                .map(|p| format!("{} {}", p.pid, p.argv.first().cloned().unwrap_or_default()))
                .collect(),
            restart,
            height_after: h_after,
            handshake,
        });
    }

    // A little more load after the second restart, then stop it and check at rest.
    let committed0 = load.committed_count();
    wait_until(
        "8 more committed txs after the second restart",
        Duration::from_secs(120),
        Duration::from_millis(250),
        || (load.committed_count() >= committed0 + 8).then_some(()),
        || net.logs(40),
    );
    let totals = load.finish();
    assert!(
        totals.anomalies.is_empty(),
        "the CLI contradicted itself:\n{}",
        totals.anomalies.join("\n")
    );
    let h = rpc.height().expect("height after the load");
    net.wait_height(h + 2, Duration::from_secs(30));
    let tip = verify(
        &net,
        &mut history,
        &totals.committed,
        "at rest after the load",
    );

    // The CLI's view at rest agrees with the ledger (and the sum with genesis).
    let ledger = ve_e2e::Ledger::replay(&net.accounts, &history, tip);
    let mut cli_total = 0u128;
    for (addr, expected) in &ledger.0 {
        let got = net.cli_balance(addr);
        assert_eq!(
            got, *expected,
            "`query bank balances {addr}` at rest != genesis + transfer events"
        );
        cli_total += got;
    }
    assert_eq!(cli_total, GENESIS_BALANCE * ACCOUNTS.len() as u128);

    // The chain keeps making blocks.
    let h_final = net.wait_height(tip + 5, Duration::from_secs(60));
    history
        .observe(&rpc, 1, h_final.saturating_sub(1))
        .expect("final read of the chain");
    assert!(
        history.mismatches.is_empty(),
        "{}",
        history.mismatches.join("\n")
    );
    net.stop();

    let txs_in_blocks: usize = history.heights.values().map(|r| r.tx_hashes.len()).sum();
    eprintln!("\n===== kill -9 end-to-end summary =====");
    eprintln!(
        "heights verified: 1..={} (block hash, header app hash, FinalizeBlock app hash, tx results at every height)",
        history.top()
    );
    eprintln!(
        "txs: {} reported committed (code 0) by the CLI and all found again; {} txs in blocks; {} CLI attempts, {} rejected with a code, {} failed without a result (node down)",
        totals.committed.len(),
        txs_in_blocks,
        totals.attempts,
        totals.rejected.len(),
        totals.errors
    );
    for r in totals.rejected.iter().take(10) {
        eprintln!("  rejected: {r}");
    }
    for s in &totals.error_samples {
        eprintln!("  error sample: {s}");
    }
    for (i, k) in kills.iter().enumerate() {
        eprintln!(
            "kill {}: height {} ({} heights recorded, {} txs committed before), killed [{}], back at height {} {:.1} s after the kill",
            i + 1,
            k.height_at_kill,
            k.recorded_before_kill,
            k.committed_before_kill,
            k.killed.join(", "),
            k.height_after,
            k.restart.as_secs_f64()
        );
        for l in &k.handshake {
            eprintln!("    cometbft: {l}");
        }
    }
    eprintln!(
        "kills survived: {}; total time {:.1} s",
        kills.len(),
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(kills.len(), 2);
}
