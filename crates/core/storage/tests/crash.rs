//! Crash safety: a child process commits in a loop and is killed with SIGKILL at an
//! arbitrary point (usually mid-commit, since commits are large); on reopen the store must be
//! exactly at some committed version `v`, with the root and values a clean replay gives at `v`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use ve_storage::{Changes, StateRead, Storage, StorageConfig};

const DIR_ENV: &str = "VE_STORAGE_CRASH_CHILD_DIR";
const CONFIG: StorageConfig = StorageConfig {
    retain_versions: Some(4),
};

/// Deterministic block `v`: ~150 writes of ~1 KiB (so a commit takes a while), some deletes.
fn block(v: u64) -> Changes {
    let mut c = Changes::new();
    let mut x = v.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for _ in 0..150 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let key = format!("acct/{:03}", x % 400).into_bytes();
        if x.is_multiple_of(5) {
            c.insert(key, None);
        } else {
            c.insert(key, Some(vec![(x % 251) as u8; 1000 + (x % 64) as usize]));
        }
    }
    c
}

fn model_at(v: u64) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut m = BTreeMap::new();
    for h in 1..=v {
        for (k, val) in block(h) {
            match val {
                Some(val) => m.insert(k, val),
                None => m.remove(&k),
            };
        }
    }
    m
}

fn replay_root(v: u64) -> [u8; 32] {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::open(dir.path(), StorageConfig::default()).unwrap();
    let mut root = [0; 32];
    for h in 1..=v {
        root = s.commit(&block(h), h).unwrap();
    }
    root
}

/// Child-process body; a no-op in a normal test run (the env var is unset).
#[test]
fn crash_child_commit_loop() {
    let Some(dir) = std::env::var_os(DIR_ENV) else {
        return;
    };
    let s = Storage::open(Path::new(&dir), CONFIG).unwrap();
    let mut v = s.latest_version().unwrap_or(0) + 1;
    loop {
        s.commit(&block(v), v).unwrap();
        println!("committed {v}");
        v += 1;
    }
}

#[test]
fn kill_9_mid_commit_recovers_to_a_committed_version() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut last_reported = 0u64;
    for round in 0..4u64 {
        let mut child = Command::new(&exe)
            .args([
                "crash_child_commit_loop",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DIR_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = 0;
        while seen < 8 + round * 3 {
            let line = lines.next().expect("child exited early").unwrap();
            // libtest may print its own "test ... " prefix on the first line.
            if let Some((_, v)) = line.split_once("committed ") {
                last_reported = v.trim().parse().unwrap();
                seen += 1;
            }
        }
        // Vary the kill point within the next commit.
        std::thread::sleep(std::time::Duration::from_millis(round * 3));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        drop(lines);

        let s = Storage::open(dir.path(), CONFIG).unwrap();
        let v = s.latest_version().expect("some version committed");
        eprintln!("round {round}: last reported {last_reported}, recovered at {v}");
        assert!(
            v >= last_reported,
            "lost committed version: reported {last_reported}, found {v}"
        );
        assert!(
            v <= last_reported + 1,
            "version from nowhere: {v} > {last_reported} + 1"
        );
        assert_eq!(
            s.latest_root_hash(),
            replay_root(v),
            "root at {v} after kill in round {round}"
        );
        assert_eq!(s.root_hash(v).unwrap(), s.latest_root_hash());
        let expected: Vec<_> = model_at(v).into_iter().collect();
        assert_eq!(
            s.latest_snapshot().range(b"", None, usize::MAX).unwrap(),
            expected
        );
        // The retained past version is intact too.
        let past = s.snapshot(v - 1).unwrap();
        let expected_past: Vec<_> = model_at(v - 1).into_iter().collect();
        assert_eq!(past.range(b"", None, usize::MAX).unwrap(), expected_past);
        assert_eq!(past.root_hash(), replay_root(v - 1));
    }
}
