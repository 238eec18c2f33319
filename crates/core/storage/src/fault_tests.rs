//! Fault injection inside a commit: a failure after the JMT nodes and values are written
//! but before the version is recorded must abort the whole redb transaction.

use crate::commit::FailPoint;
use crate::{open_temp, Changes, StateRead, StorageConfig, StorageError};

fn put(k: &str, v: &str) -> Changes {
    let mut c = Changes::new();
    c.insert(k.as_bytes().to_vec(), Some(v.as_bytes().to_vec()));
    c
}

#[test]
fn failure_between_tree_write_and_version_write_leaves_the_old_version() {
    let (s, dir) = open_temp(StorageConfig {
        retain_versions: Some(3),
    })
    .unwrap();
    let r1 = s.commit(&put("a", "1"), 1).unwrap();
    s.set_fail_point(FailPoint::AfterTreeWrite);
    let err = s.commit(&put("a", "2"), 2).unwrap_err();
    assert!(matches!(err, StorageError::Db(_)));
    // Nothing of version 2 is visible, in this handle or after reopening.
    assert_eq!(s.latest_version(), Some(1));
    assert_eq!(s.latest_root_hash(), r1);
    assert!(matches!(
        s.snapshot(2),
        Err(StorageError::VersionUnavailable { .. })
    ));
    drop(s);
    let s = crate::Storage::open(
        dir.path(),
        StorageConfig {
            retain_versions: Some(3),
        },
    )
    .unwrap();
    assert_eq!(s.latest_version(), Some(1));
    assert_eq!(s.latest_snapshot().get(b"a").unwrap(), Some(b"1".to_vec()));
    // The same version can then be committed normally, with the root a fresh store computes.
    let r2 = s.commit(&put("a", "2"), 2).unwrap();
    let (fresh, _d) = open_temp(StorageConfig::default()).unwrap();
    fresh.commit(&put("a", "1"), 1).unwrap();
    assert_eq!(fresh.commit(&put("a", "2"), 2).unwrap(), r2);
    assert_eq!(
        s.snapshot(1).unwrap().get(b"a").unwrap(),
        Some(b"1".to_vec())
    );
}
