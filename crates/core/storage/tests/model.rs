//! Model-based property test: random puts/deletes/nested overlays/commits against a
//! `BTreeMap` reference model, checking reads at the latest and at past versions, and that
//! the root hash sequence is a pure function of the operations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use std::collections::BTreeMap;
use ve_storage::{
    verify_membership, verify_non_membership, Delta, Snapshot, StateRead, StateWrite, Storage,
    StorageConfig, StorageError,
};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;
type Write = (Vec<u8>, Option<Vec<u8>>);

#[derive(Debug, Clone)]
enum Op {
    Write(Write),
    /// A nested overlay (a transaction) with its writes; `keep` = applied, else dropped.
    Child {
        writes: Vec<Write>,
        keep: bool,
    },
    Commit,
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(vec![0u8, 1, 2, 0xff]), 1..4)
}

fn write() -> impl Strategy<Value = Write> {
    (
        key(),
        prop::option::weighted(0.7, prop::collection::vec(any::<u8>(), 0..6)),
    )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => write().prop_map(Op::Write),
        2 => (prop::collection::vec(write(), 0..5), any::<bool>())
            .prop_map(|(writes, keep)| Op::Child { writes, keep }),
        2 => Just(Op::Commit),
    ]
}

fn apply(model: &mut Model, (k, v): &Write) {
    match v {
        Some(v) => model.insert(k.clone(), v.clone()),
        None => model.remove(k),
    };
}

fn model_range(
    model: &Model,
    start: &[u8],
    end: Option<&[u8]>,
    limit: usize,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    model
        .iter()
        .filter(|(k, _)| k.as_slice() >= start && end.is_none_or(|e| k.as_slice() < e))
        .take(limit)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Every read shape the app uses, compared with the model.
fn check_reads(state: &impl StateRead, model: &Model, probe_keys: &[Vec<u8>]) {
    assert_eq!(
        state.range(b"", None, usize::MAX).unwrap(),
        model_range(model, b"", None, usize::MAX)
    );
    for limit in [0, 1, 2, 5] {
        assert_eq!(
            state.range(b"", None, limit).unwrap(),
            model_range(model, b"", None, limit)
        );
    }
    for p in [&[0u8][..], &[1], &[0xff], &[0, 1], &[0xff, 0xff]] {
        let end = ve_storage_prefix_end(p);
        assert_eq!(
            state.prefix(p, 100).unwrap(),
            model_range(model, p, end.as_deref(), 100),
            "prefix {p:?}"
        );
        assert_eq!(
            state.prefix(p, 1).unwrap(),
            model_range(model, p, end.as_deref(), 1)
        );
    }
    for k in probe_keys {
        assert_eq!(state.get(k).unwrap(), model.get(k).cloned(), "get {k:?}");
    }
    for w in probe_keys.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        assert_eq!(
            state.range(a, Some(b), 3).unwrap(),
            model_range(model, a, Some(b), 3)
        );
    }
}

/// ICS-23 proofs for every probe key verify against the snapshot's root. This also shows
/// pruning kept every JMT node the retained versions need.
fn check_proofs(snap: &Snapshot, model: &Model, probe_keys: &[Vec<u8>]) {
    // An empty tree has no ICS-23 proofs (no neighbours to show), and ICS-23 cannot prove
    // empty values, which also appear as neighbours in non-existence proofs.
    if model.is_empty() || model.values().any(Vec::is_empty) {
        return;
    }
    for k in probe_keys {
        let (value, proof) = snap.get_with_proof(k).unwrap();
        assert_eq!(value, model.get(k).cloned());
        match value {
            Some(v) => assert!(verify_membership(&proof, &snap.root_hash(), k, &v)),
            None => assert!(verify_non_membership(&proof, &snap.root_hash(), k)),
        }
    }
}

/// Same rule as the crate's prefix end: smallest key above every key with this prefix.
fn ve_storage_prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Runs `ops` on a fresh store, checking reads along the way; returns the root of each commit.
fn run(ops: &[Op], first_version: u64, retain: Option<u64>, check: bool) -> Vec<[u8; 32]> {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(
        dir.path(),
        StorageConfig {
            retain_versions: retain,
        },
    )
    .unwrap();
    let probe_keys: Vec<Vec<u8>> = {
        let mut ks: Vec<Vec<u8>> = ops
            .iter()
            .flat_map(|op| match op {
                Op::Write((k, _)) => vec![k.clone()],
                Op::Child { writes, .. } => writes.iter().map(|(k, _)| k.clone()).collect(),
                Op::Commit => vec![],
            })
            .take(12)
            .collect();
        ks.sort();
        ks.dedup();
        ks
    };
    let mut committed = Model::new();
    let mut history: BTreeMap<u64, Model> = BTreeMap::new();
    let mut held: Vec<(Snapshot, Model)> = Vec::new();
    let mut roots = Vec::new();
    let mut next_version = first_version;
    let mut block = Delta::new(storage.latest_snapshot());
    let mut pending = committed.clone();

    for op in ops {
        match op {
            Op::Write(w) => {
                match &w.1 {
                    Some(v) => block.put(w.0.clone(), v.clone()),
                    None => block.delete(w.0.clone()),
                }
                apply(&mut pending, w);
                if check {
                    assert_eq!(block.get(&w.0).unwrap(), pending.get(&w.0).cloned());
                }
            }
            Op::Child { writes, keep } => {
                let mut child = Delta::new(&block);
                let mut child_model = pending.clone();
                for w in writes {
                    match &w.1 {
                        Some(v) => child.put(w.0.clone(), v.clone()),
                        None => child.delete(w.0.clone()),
                    }
                    apply(&mut child_model, w);
                }
                if check {
                    check_reads(&child, &child_model, &probe_keys);
                }
                let changes = child.into_changes();
                if *keep {
                    block.apply(changes);
                    pending = child_model;
                }
                if check {
                    check_reads(&block, &pending, &probe_keys);
                }
            }
            Op::Commit => {
                let changes = std::mem::replace(&mut block, Delta::new(storage.latest_snapshot()))
                    .into_changes();
                let v = next_version;
                let root = storage.commit(&changes, v).unwrap();
                next_version += 1;
                roots.push(root);
                committed = pending.clone();
                history.insert(v, committed.clone());
                block = Delta::new(storage.latest_snapshot());
                if !check {
                    continue;
                }
                assert_eq!(storage.latest_version(), Some(v));
                assert_eq!(storage.root_hash(v).unwrap(), root);
                let latest = storage.latest_snapshot();
                assert_eq!(latest.version(), v);
                check_reads(&latest, &committed, &probe_keys);
                check_proofs(&latest, &committed, &probe_keys);
                // Past versions, through fresh snapshots (versioned-table path).
                for back in 1..=3u64 {
                    let Some(pv) = v.checked_sub(back).filter(|pv| *pv >= first_version) else {
                        break;
                    };
                    let retained = retain.is_none_or(|n| back < n.max(1));
                    match storage.snapshot(pv) {
                        Ok(snap) => {
                            assert!(retained, "version {pv} should be pruned at {v}");
                            check_reads(&snap, &history[&pv], &probe_keys);
                            check_proofs(&snap, &history[&pv], &probe_keys);
                        }
                        Err(StorageError::VersionUnavailable { .. }) => assert!(!retained),
                        Err(e) => panic!("{e}"),
                    }
                }
                // Snapshots taken earlier keep their answers, whatever was committed since.
                for (snap, model) in &held {
                    check_reads(snap, model, &probe_keys);
                }
                if held.len() < 3 {
                    held.push((latest, committed.clone()));
                }
            }
        }
    }
    roots
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_model_at_latest_and_past_versions(
        ops in prop::collection::vec(op(), 1..60),
        first_version in 1u64..4,
        retain in prop::option::of(1u64..4),
    ) {
        let roots = run(&ops, first_version, retain, true);
        // Determinism: a second fresh store (other retention) yields the same roots.
        let again = run(&ops, first_version, None, false);
        prop_assert_eq!(roots, again);
    }
}
