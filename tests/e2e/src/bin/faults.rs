//! `faults`: the 4-validator fault runner (see `ve_e2e::faults`).
//!
//! ```text
//! cargo run --release -p ve-e2e --bin faults -- --seed 1 --perturbations 100
//! ```
//!
//! Options: `--seed S` (default 1), `--perturbations N` (default 100), `--max-minutes M`
//! (stop starting new perturbations after M minutes; the report says how many ran),
//! `--timeout-commit 500ms`, `--senders 4`, `--json FILE` (the figures as JSON), `--loopback` (no network namespaces, no
//! partitions), `--keep` (keep the localnet home), `--quiet`. Needs root for the network
//! namespaces. Exit status 0 only if every perturbation was survived with no divergence,
//! no lost tx and no other failure. SIGINT/SIGTERM/SIGHUP kill the nodes and delete the
//! namespaces before exiting.

#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::time::Duration;

use nix::sys::signal::{SigSet, Signal};
use ve_e2e::faults::{self, Config, Network};

fn usage(msg: &str) -> ! {
    eprintln!("faults: {msg}\nusage: faults [--seed S] [--perturbations N] [--max-minutes M] [--timeout-commit 500ms] [--senders K] [--json FILE] [--loopback] [--keep] [--quiet]");
    std::process::exit(2)
}

fn main() {
    // Signals go to a dedicated thread (blocked here, before any thread exists, so
    // every thread inherits the mask), which cleans up and exits.
    let mut sigs = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        sigs.add(s);
    }
    sigs.thread_block().expect("block signals");
    std::thread::spawn(move || {
        if let Ok(sig) = sigs.wait() {
            eprintln!("[faults] {sig}: cleaning up");
            faults::emergency_cleanup();
            std::process::exit(130);
        }
    });

    let mut seed = 1u64;
    let mut perturbations = 100usize;
    let mut network = Network::Netns;
    let mut max_minutes: Option<f64> = None;
    let mut timeout_commit = None;
    let mut senders = None;
    let mut keep = false;
    let mut quiet = false;
    let mut json_out: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| {
            args.next()
                .unwrap_or_else(|| usage(&format!("{name} needs a value")))
        };
        match a.as_str() {
            "--seed" => {
                seed = val("--seed")
                    .parse()
                    .unwrap_or_else(|_| usage("bad --seed"))
            }
            "--perturbations" => {
                perturbations = val("--perturbations")
                    .parse()
                    .unwrap_or_else(|_| usage("bad --perturbations"))
            }
            "--max-minutes" => {
                max_minutes = Some(
                    val("--max-minutes")
                        .parse()
                        .unwrap_or_else(|_| usage("bad --max-minutes")),
                )
            }
            "--timeout-commit" => timeout_commit = Some(val("--timeout-commit")),
            "--senders" => {
                senders = Some(
                    val("--senders")
                        .parse()
                        .unwrap_or_else(|_| usage("bad --senders")),
                )
            }
            "--loopback" => network = Network::Loopback,
            "--keep" => keep = true,
            "--quiet" => quiet = true,
            "--json" => json_out = Some(val("--json")),
            "-h" | "--help" => usage("help"),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if network == Network::Netns {
        if let Err(e) = ve_e2e::netns::probe(&format!("ve-f{seed}")) {
            eprintln!("faults: network namespaces are not available here: {e}\n  (run as root with iproute2, or pass --loopback)");
            std::process::exit(2);
        }
    }
    let mut cfg = Config::new(seed, perturbations, network);
    cfg.max_duration = max_minutes.map(|m| Duration::from_secs_f64(m * 60.0));
    if let Some(t) = timeout_commit {
        cfg.timeout_commit = t;
    }
    if let Some(s) = senders {
        cfg.senders = s;
    }
    cfg.keep_home = keep;
    cfg.verbose = !quiet;
    let report = faults::run(&cfg);
    report.print();
    if let Some(p) = json_out {
        if let Err(e) = std::fs::write(&p, report.to_json().to_string() + "\n") {
            eprintln!("faults: writing {p}: {e}");
        }
    }
    std::process::exit(if report.ok() { 0 } else { 1 });
}
