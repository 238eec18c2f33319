//! Behaviour tests for `Storage` and `Snapshot`: versions, reopen, retention, proofs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use ve_storage::{
    ics23_spec, verify_membership, verify_non_membership, Changes, Snapshot, StateRead, Storage,
    StorageConfig, StorageError, EMPTY_ROOT_HASH,
};

fn changes(puts: &[(&[u8], &[u8])], deletes: &[&[u8]]) -> Changes {
    let mut c = Changes::new();
    for (k, v) in puts {
        c.insert(k.to_vec(), Some(v.to_vec()));
    }
    for k in deletes {
        c.insert(k.to_vec(), None);
    }
    c
}

fn temp(config: StorageConfig) -> (Storage, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Storage::open(dir.path(), config).unwrap(), dir)
}

#[test]
fn storage_and_snapshot_are_send_sync_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<Storage>();
    check::<Snapshot>();
}

#[test]
fn empty_store_has_no_version_and_the_empty_root() {
    let (s, _d) = temp(StorageConfig::default());
    assert_eq!(s.latest_version(), None);
    assert_eq!(s.latest_root_hash(), EMPTY_ROOT_HASH);
    assert_eq!(&EMPTY_ROOT_HASH, b"SPARSE_MERKLE_PLACEHOLDER_HASH__");
    let snap = s.latest_snapshot();
    assert_eq!(snap.version(), 0);
    assert_eq!(snap.get(b"a").unwrap(), None);
    assert!(snap.range(b"", None, 10).unwrap().is_empty());
    assert!(matches!(
        s.snapshot(1),
        Err(StorageError::VersionUnavailable { .. })
    ));
}

#[test]
fn first_commit_may_start_at_initial_height_then_must_be_sequential() {
    let (s, _d) = temp(StorageConfig::default());
    assert!(matches!(
        s.commit(&Changes::new(), 0),
        Err(StorageError::NonSequentialVersion {
            got: 0,
            latest: None
        })
    ));
    s.commit(&changes(&[(b"k", b"v")], &[]), 5).unwrap();
    assert_eq!(s.latest_version(), Some(5));
    assert!(matches!(
        s.commit(&Changes::new(), 7),
        Err(StorageError::NonSequentialVersion {
            got: 7,
            latest: Some(5)
        })
    ));
    assert!(matches!(
        s.commit(&Changes::new(), 5),
        Err(StorageError::NonSequentialVersion { .. })
    ));
    s.commit(&Changes::new(), 6).unwrap();
    assert_eq!(s.latest_snapshot().get(b"k").unwrap(), Some(b"v".to_vec()));
}

#[test]
fn empty_first_commit_has_the_empty_root() {
    let (s, _d) = temp(StorageConfig::default());
    let root = s.commit(&Changes::new(), 1).unwrap();
    assert_eq!(root, EMPTY_ROOT_HASH);
    assert_eq!(s.latest_version(), Some(1));
}

#[test]
fn empty_changes_create_a_new_version_with_the_same_root() {
    let (s, _d) = temp(StorageConfig::default());
    let r1 = s.commit(&changes(&[(b"a", b"1")], &[]), 1).unwrap();
    let r2 = s.commit(&Changes::new(), 2).unwrap();
    assert_eq!(r1, r2);
    assert_eq!(s.latest_version(), Some(2));
    assert_eq!(s.root_hash(2).unwrap(), r1);
    assert_eq!(
        s.snapshot(2).unwrap().get(b"a").unwrap(),
        Some(b"1".to_vec())
    );
    // Proofs work at a version whose root was copied from the previous one.
    let (v, _) = s.snapshot(2).unwrap().get_with_proof(b"a").unwrap();
    assert_eq!(v, Some(b"1".to_vec()));
}

#[test]
fn deleting_an_absent_key_changes_nothing() {
    let (s, _d) = temp(StorageConfig::default());
    let r1 = s.commit(&changes(&[(b"a", b"1")], &[]), 1).unwrap();
    let r2 = s.commit(&changes(&[], &[b"zz"]), 2).unwrap();
    assert_eq!(r1, r2);
    let (s2, _d2) = temp(StorageConfig::default());
    assert_eq!(
        s2.commit(&changes(&[], &[b"zz"]), 1).unwrap(),
        EMPTY_ROOT_HASH
    );
}

#[test]
fn latest_snapshot_keeps_its_answers_after_later_commits() {
    let (s, _d) = temp(StorageConfig::default());
    s.commit(&changes(&[(b"a", b"1"), (b"b", b"2")], &[]), 1)
        .unwrap();
    let old = s.latest_snapshot();
    s.commit(&changes(&[(b"a", b"9"), (b"c", b"3")], &[b"b"]), 2)
        .unwrap();
    assert_eq!(old.version(), 1);
    assert_eq!(old.get(b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(old.get(b"c").unwrap(), None);
    assert_eq!(
        old.range(b"", None, 10).unwrap(),
        vec![
            (b"a".to_vec(), b"1".to_vec()),
            (b"b".to_vec(), b"2".to_vec())
        ]
    );
    // A fresh snapshot of version 1 (past-version path) agrees.
    let past = s.snapshot(1).unwrap();
    assert_eq!(
        past.range(b"", None, 10).unwrap(),
        old.range(b"", None, 10).unwrap()
    );
    assert_eq!(past.root_hash(), old.root_hash());
    let latest = s.latest_snapshot();
    assert_eq!(
        latest.range(b"", None, 10).unwrap(),
        vec![
            (b"a".to_vec(), b"9".to_vec()),
            (b"c".to_vec(), b"3".to_vec())
        ]
    );
}

#[test]
fn range_respects_bounds_limits_and_prefix_at_past_versions() {
    let (s, _d) = temp(StorageConfig::default());
    s.commit(
        &changes(
            &[(b"p1", b"a"), (b"p2", b"b"), (b"p3", b"c"), (b"q", b"d")],
            &[],
        ),
        1,
    )
    .unwrap();
    s.commit(&changes(&[(b"p2", b"B")], &[b"p1"]), 2).unwrap();
    s.commit(&changes(&[(b"p0", b"z")], &[]), 3).unwrap();
    for snap in [s.snapshot(2).unwrap(), s.snapshot(3).unwrap()] {
        let expected_all: Vec<_> = if snap.version() == 2 {
            vec![
                (b"p2".to_vec(), b"B".to_vec()),
                (b"p3".to_vec(), b"c".to_vec()),
            ]
        } else {
            vec![
                (b"p0".to_vec(), b"z".to_vec()),
                (b"p2".to_vec(), b"B".to_vec()),
                (b"p3".to_vec(), b"c".to_vec()),
            ]
        };
        assert_eq!(snap.prefix(b"p", 100).unwrap(), expected_all);
        assert_eq!(snap.prefix(b"p", 1).unwrap(), expected_all[..1].to_vec());
        assert_eq!(
            snap.range(b"p2", Some(b"p3"), 10).unwrap(),
            vec![(b"p2".to_vec(), b"B".to_vec())]
        );
        assert!(snap.range(b"p3", Some(b"p2"), 10).unwrap().is_empty());
        assert!(snap.range(b"a", None, 0).unwrap().is_empty());
    }
}

#[test]
fn reopen_after_clean_close_gives_same_version_root_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = BTreeMap::new();
    let root = {
        let s = Storage::open(dir.path(), StorageConfig::default()).unwrap();
        let mut root = [0; 32];
        for v in 1..=20u64 {
            let mut c = Changes::new();
            for i in 0..5u64 {
                let k = format!("k{}", (v * 7 + i) % 13).into_bytes();
                if (v + i) % 4 == 0 {
                    c.insert(k.clone(), None);
                    model.remove(&k);
                } else {
                    let val = format!("v{v}-{i}").into_bytes();
                    c.insert(k.clone(), Some(val.clone()));
                    model.insert(k, val);
                }
            }
            root = s.commit(&c, v).unwrap();
        }
        root
    };
    let s = Storage::open(dir.path(), StorageConfig::default()).unwrap();
    assert_eq!(s.latest_version(), Some(20));
    assert_eq!(s.latest_root_hash(), root);
    assert_eq!(s.root_hash(20).unwrap(), root);
    let all = s.latest_snapshot().range(b"", None, usize::MAX).unwrap();
    assert_eq!(all, model.into_iter().collect::<Vec<_>>());
    // History survives the reopen too.
    assert!(s.snapshot(1).is_ok());
}

#[test]
fn retention_keeps_only_the_latest_n_versions() {
    let (s, _d) = temp(StorageConfig {
        retain_versions: Some(2),
    });
    for v in 1..=10u64 {
        let c = changes(
            &[
                (b"counter", v.to_string().as_bytes()),
                (format!("k{v}").as_bytes(), b"x"),
            ],
            &[],
        );
        s.commit(&c, v).unwrap();
        if v >= 3 {
            assert!(matches!(
                s.snapshot(v - 2),
                Err(StorageError::VersionUnavailable { requested, oldest: Some(o), latest: Some(l) })
                    if requested == v - 2 && o == v - 1 && l == v
            ));
            assert!(matches!(
                s.root_hash(v - 2),
                Err(StorageError::VersionUnavailable { .. })
            ));
        }
        if v >= 2 {
            let prev = s.snapshot(v - 1).unwrap();
            assert_eq!(
                prev.get(b"counter").unwrap(),
                Some((v - 1).to_string().into_bytes())
            );
            assert_eq!(prev.get(format!("k{v}").as_bytes()).unwrap(), None);
            assert_eq!(prev.prefix(b"k", 100).unwrap().len() as u64, v - 1);
            let (val, proof) = prev.get_with_proof(b"counter").unwrap();
            assert!(verify_membership(
                &proof,
                &prev.root_hash(),
                b"counter",
                &val.unwrap()
            ));
        }
    }
    assert_eq!(s.oldest_version().unwrap(), Some(9));
}

#[test]
fn retention_bounds_history_growth() {
    // The same key overwritten many times: pruning must drop old entries and nodes,
    // so the file stays small (compared with keep-all).
    fn run(retain: Option<u64>) -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(
            dir.path(),
            StorageConfig {
                retain_versions: retain,
            },
        )
        .unwrap();
        for v in 1..=300u64 {
            let mut c = Changes::new();
            for i in 0..20u64 {
                c.insert(
                    format!("key{i}").into_bytes(),
                    Some(vec![(v % 251) as u8; 200]),
                );
            }
            s.commit(&c, v).unwrap();
        }
        drop(s);
        std::fs::metadata(dir.path().join(ve_storage::DB_FILE_NAME))
            .unwrap()
            .len()
    }
    let pruned = run(Some(2));
    let full = run(None);
    assert!(pruned * 3 < full, "pruned {pruned} vs full {full}");
}

#[test]
fn ics23_existence_proof_verifies_against_root() {
    let (s, _d) = temp(StorageConfig::default());
    let mut c = Changes::new();
    for i in 0..50u32 {
        c.insert(
            format!("key/{i}").into_bytes(),
            Some(format!("value {i}").into_bytes()),
        );
    }
    let root = s.commit(&c, 1).unwrap();
    let snap = s.latest_snapshot();
    for i in [0u32, 7, 49] {
        let key = format!("key/{i}").into_bytes();
        let (value, proof) = snap.get_with_proof(&key).unwrap();
        let value = value.unwrap();
        assert_eq!(value, format!("value {i}").into_bytes());
        assert!(ics23::verify_membership::<ics23::HostFunctionsManager>(
            &proof,
            &ics23_spec(),
            &root.to_vec(),
            &key,
            &value
        ));
        assert!(!verify_membership(&proof, &root, &key, b"forged"));
        assert!(!verify_membership(&proof, &[7; 32], &key, &value));
    }
}

#[test]
fn ics23_non_existence_proof_verifies_against_root() {
    let (s, _d) = temp(StorageConfig::default());
    let mut c = Changes::new();
    for i in 0..50u32 {
        c.insert(format!("key/{i}").into_bytes(), Some(vec![i as u8]));
    }
    s.commit(&c, 1).unwrap();
    s.commit(&changes(&[], &[b"key/3"]), 2).unwrap();
    let snap = s.latest_snapshot();
    for key in [&b"absent"[..], b"key/3", b"", b"\xff\xff"] {
        let (value, proof) = snap.get_with_proof(key).unwrap();
        assert_eq!(value, None);
        assert!(ics23::verify_non_membership::<ics23::HostFunctionsManager>(
            &proof,
            &ics23_spec(),
            &snap.root_hash().to_vec(),
            key
        ));
        assert!(verify_non_membership(&proof, &snap.root_hash(), key));
    }
    // Past version: key/3 existed at version 1.
    let past = s.snapshot(1).unwrap();
    let (value, proof) = past.get_with_proof(b"key/3").unwrap();
    assert_eq!(value, Some(vec![3]));
    assert!(verify_membership(&proof, &past.root_hash(), b"key/3", &[3]));
}

#[test]
fn ics23_proofs_work_with_a_single_key() {
    let (s, _d) = temp(StorageConfig::default());
    s.commit(&changes(&[(b"only", b"one")], &[]), 1).unwrap();
    let snap = s.latest_snapshot();
    let (v, p) = snap.get_with_proof(b"only").unwrap();
    assert!(verify_membership(
        &p,
        &snap.root_hash(),
        b"only",
        &v.unwrap()
    ));
    let (v, p) = snap.get_with_proof(b"other").unwrap();
    assert!(v.is_none());
    assert!(verify_non_membership(&p, &snap.root_hash(), b"other"));
}

#[test]
fn empty_values_are_stored_but_have_no_verifiable_ics23_proof() {
    // ICS-23 verifiers reject existence proofs with an empty value; document it with a test.
    let (s, _d) = temp(StorageConfig::default());
    s.commit(&changes(&[(b"k", b"")], &[]), 1).unwrap();
    let snap = s.latest_snapshot();
    assert_eq!(snap.get(b"k").unwrap(), Some(Vec::new()));
    let (v, proof) = snap.get_with_proof(b"k").unwrap();
    assert_eq!(v, Some(Vec::new()));
    assert!(!verify_membership(&proof, &snap.root_hash(), b"k", b""));
}

#[test]
fn readers_on_other_threads_see_consistent_versions_during_commits() {
    // Invariant written by every block: "a" + "b" == 100. Readers must never see a mix.
    let (s, _d) = temp(StorageConfig {
        retain_versions: Some(3),
    });
    let block = |v: u64| {
        let a = v % 101;
        changes(
            &[
                (b"a", a.to_string().as_bytes()),
                (b"b", (100 - a).to_string().as_bytes()),
            ],
            &[],
        )
    };
    s.commit(&block(1), 1).unwrap();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || {
                let mut last = 0;
                for _ in 0..200 {
                    let snap = s.latest_snapshot();
                    assert!(snap.version() >= last, "latest went backwards");
                    last = snap.version();
                    let read = |k: &[u8]| -> u64 {
                        String::from_utf8(snap.get(k).unwrap().unwrap())
                            .unwrap()
                            .parse()
                            .unwrap()
                    };
                    assert_eq!(read(b"a") + read(b"b"), 100);
                }
            })
        })
        .collect();
    for v in 2..=60 {
        s.commit(&block(v), v).unwrap();
    }
    for r in readers {
        r.join().unwrap();
    }
}
