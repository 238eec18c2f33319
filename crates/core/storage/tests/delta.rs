//! `Delta` overlay behaviour: isolation of dropped children and range merging.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use ve_storage::{Delta, KvPairs, StateRead, StateWrite, StorageError};

/// A plain in-memory base state.
struct Map(BTreeMap<Vec<u8>, Vec<u8>>);

impl StateRead for Map {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.0.get(key).cloned())
    }
    fn range(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, StorageError> {
        Ok(self
            .0
            .iter()
            .filter(|(k, _)| k.as_slice() >= start && end.is_none_or(|e| k.as_slice() < e))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

fn kv(k: &str, v: &str) -> (Vec<u8>, Vec<u8>) {
    (k.as_bytes().to_vec(), v.as_bytes().to_vec())
}

fn base() -> Map {
    Map(["a", "b", "c", "d", "e"]
        .iter()
        .map(|k| kv(k, &format!("base-{k}")))
        .collect())
}

#[test]
fn dropped_child_overlay_leaves_parent_unchanged() {
    let mut block = Delta::new(base());
    block.put(b"a".to_vec(), b"block".to_vec());
    let before = block.range(b"", None, 100).unwrap();
    let before_changes = block.changes().clone();
    {
        let mut tx = Delta::new(&block);
        tx.put(b"a".to_vec(), b"tx".to_vec());
        tx.delete(b"b".to_vec());
        tx.put(b"z".to_vec(), b"new".to_vec());
        assert_eq!(tx.get(b"a").unwrap(), Some(b"tx".to_vec()));
        assert_eq!(tx.get(b"b").unwrap(), None);
        // The transaction fails: its overlay is dropped here.
    }
    assert_eq!(block.range(b"", None, 100).unwrap(), before);
    assert_eq!(block.changes(), &before_changes);
    assert_eq!(block.get(b"z").unwrap(), None);
}

#[test]
fn applied_child_overlay_lands_in_parent() {
    let mut block = Delta::new(base());
    let changes = {
        let mut tx = Delta::new(&block);
        tx.delete(b"b".to_vec());
        tx.put(b"f".to_vec(), b"new".to_vec());
        tx.into_changes()
    };
    block.apply(changes);
    assert_eq!(block.get(b"b").unwrap(), None);
    assert_eq!(block.get(b"f").unwrap(), Some(b"new".to_vec()));
}

#[test]
fn range_merges_deletes_and_puts_with_limits() {
    let mut d = Delta::new(base());
    d.delete(b"a".to_vec());
    d.delete(b"b".to_vec());
    d.put(b"bb".to_vec(), b"put".to_vec());
    d.put(b"c".to_vec(), b"over".to_vec());
    d.delete(b"zz".to_vec()); // deleting an absent key
    let all = vec![
        kv("bb", "put"),
        kv("c", "over"),
        kv("d", "base-d"),
        kv("e", "base-e"),
    ];
    assert_eq!(d.range(b"", None, 100).unwrap(), all);
    for limit in 0..=5 {
        assert_eq!(
            d.range(b"", None, limit).unwrap(),
            all[..limit.min(all.len())].to_vec(),
            "limit {limit}"
        );
    }
    assert_eq!(
        d.range(b"b", Some(b"d"), 10).unwrap(),
        vec![kv("bb", "put"), kv("c", "over")]
    );
    assert_eq!(d.prefix(b"b", 10).unwrap(), vec![kv("bb", "put")]);
    // Nested: a child deleting what the parent put, and re-adding what the parent deleted.
    let mut tx = Delta::new(&d);
    tx.delete(b"bb".to_vec());
    tx.put(b"a".to_vec(), b"back".to_vec());
    assert_eq!(
        tx.range(b"", None, 3).unwrap(),
        vec![kv("a", "back"), kv("c", "over"), kv("d", "base-d")]
    );
    assert_eq!(tx.range(b"", None, 1).unwrap(), vec![kv("a", "back")]);
}
