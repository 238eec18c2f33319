//! CI-sized fault run: 8 seeded perturbations (kill -9, SIGSTOP/SIGCONT, partition, wiped
//! data + block sync) on a 4-validator localnet, one network namespace per validator,
//! under a CLI load; fails on any divergence, lost tx, stall or node crash. Bounded to
//! ~3 minutes. The full run is `cargo run --release -p ve-e2e --bin faults -- --seed 1
//! --perturbations 100` (docs/reliability.md).
//!
//! Network namespaces need root and iproute2; without them the run falls back to
//! loopback (same perturbations minus the partition) and says so. `VE_FAULTS_SEED` and
//! `VE_FAULTS_PERTURBATIONS` override the seed (default 2) and the count (default 8).

#![allow(clippy::disallowed_methods, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use ve_e2e::faults::{self, plan, Config, Kind, Network};

const CI_SEED: u64 = 2;
const CI_PERTURBATIONS: usize = 8;

fn env_or<T: std::str::FromStr>(k: &str, d: T) -> T {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

#[test]
fn the_ci_seed_exercises_every_kind_of_perturbation() {
    let p = plan(CI_SEED, CI_PERTURBATIONS, Network::Netns);
    assert_eq!(
        p,
        plan(CI_SEED, CI_PERTURBATIONS, Network::Netns),
        "plans are seeded"
    );
    let kinds: BTreeSet<Kind> = p.iter().map(|(k, _, _)| *k).collect();
    assert_eq!(
        kinds,
        [Kind::Kill9, Kind::Pause, Kind::Partition, Kind::Wipe].into(),
        "seed {CI_SEED}: {p:?}"
    );
}

#[test]
fn four_validators_survive_seeded_faults_without_divergence_or_lost_txs() {
    let seed = env_or("VE_FAULTS_SEED", CI_SEED);
    let n = env_or("VE_FAULTS_PERTURBATIONS", CI_PERTURBATIONS);
    let network = match ve_e2e::netns::probe(&format!("ve-f{seed}")) {
        Ok(()) => Network::Netns,
        Err(e) => {
            eprintln!(
                "[faults] NOTICE: network namespaces unavailable ({e}); running on loopback without partitions"
            );
            Network::Loopback
        }
    };
    let mut cfg = Config::new(seed, n, network);
    // Bounded for CI: no new perturbation after 150 s (8 take ~80 s here).
    cfg.max_duration = Some(Duration::from_secs(150));
    let report = faults::run(&cfg);
    report.print();
    assert!(report.ok(), "the fault run failed (see the report above)");
    assert!(
        report.survived >= 4,
        "only {} perturbations ran within the time budget",
        report.survived
    );
}
