//! The verifier's persistent state: one JSON file (`<home>/state.json`) rewritten
//! atomically (temporary file, fsync, rename, fsync of the directory) after every change,
//! so a crash never leaves a half-written file and an accepted TOTP step is on disk
//! before its attestation leaves the service.
//!
//! * `totp_last_step["<account>/<factor_id>"]` — the last time step whose code was
//!   accepted; a code of that step or an earlier one is refused (RFC 6238 §5.2: a code is
//!   accepted at most once).
//! * `email["<challenge_id>"]` — a pending email code: salted SHA-256 of the code, expiry,
//!   attempts, time sent. Expired entries are dropped on every write.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::VerifierError;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct State {
    #[serde(default)]
    pub totp_last_step: BTreeMap<String, u64>,
    #[serde(default)]
    pub email: BTreeMap<String, PendingEmail>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingEmail {
    pub account: String,
    pub factor_id: String,
    /// Hex SHA-256(salt ‖ code).
    pub code_hash: String,
    /// Hex 16-byte salt.
    pub salt: String,
    /// Unix seconds.
    pub sent_at: u64,
    pub expires_at: u64,
    pub attempts: u32,
}

#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    state: Mutex<State>,
}

impl Store {
    /// Opens `<home>/state.json` (an absent file is an empty state).
    pub fn open(home: &Path) -> Result<Self, VerifierError> {
        let path = home.join("state.json");
        let state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                VerifierError::Config(format!(
                    "{} is corrupt ({e}); it holds replay protection, so it is not reset automatically",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => return Err(VerifierError::Io { path, source: e }),
        };
        Ok(Self {
            path,
            state: Mutex::new(state),
        })
    }

    /// Runs `f` on the state and persists the result before returning `f`'s value. If the
    /// write fails, the in-memory state is rolled back and the error returned.
    pub fn update<T>(
        &self,
        now: u64,
        f: impl FnOnce(&mut State) -> Result<T, VerifierError>,
    ) -> Result<T, VerifierError> {
        let mut guard = self
            .state
            .lock()
            .map_err(|_| VerifierError::Internal("state lock poisoned".into()))?;
        let mut next = guard.clone();
        let out = f(&mut next)?;
        next.email.retain(|_, p| p.expires_at > now);
        if next != *guard {
            let bytes = serde_json::to_vec_pretty(&next)
                .map_err(|e| VerifierError::Internal(e.to_string()))?;
            write_atomic(&self.path, &bytes, 0o600)?;
            *guard = next;
        }
        Ok(out)
    }

    pub fn snapshot(&self) -> Result<State, VerifierError> {
        self.state
            .lock()
            .map(|g| g.clone())
            .map_err(|_| VerifierError::Internal("state lock poisoned".into()))
    }
}

/// Writes `data` to `path` with `mode` through a temporary file (fsync, rename, fsync of
/// the directory).
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<(), VerifierError> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |e| VerifierError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)
            .map_err(io)?;
        f.write_all(data).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_survives_reopen_and_failed_updates_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        s.update(0, |st| {
            st.totp_last_step.insert("a/f".into(), 42);
            Ok(())
        })
        .unwrap();
        let err: Result<(), _> = s.update(0, |st| {
            st.totp_last_step.insert("a/f".into(), 43);
            Err(VerifierError::Internal("boom".into()))
        });
        assert!(err.is_err());
        let again = Store::open(dir.path()).unwrap();
        assert_eq!(again.snapshot().unwrap().totp_last_step["a/f"], 42);
    }

    #[test]
    fn expired_email_codes_are_dropped_on_write() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let pending = |exp| PendingEmail {
            account: "a".into(),
            factor_id: "f".into(),
            code_hash: String::new(),
            salt: String::new(),
            sent_at: 0,
            expires_at: exp,
            attempts: 0,
        };
        s.update(100, |st| {
            st.email.insert("old".into(), pending(150));
            st.email.insert("new".into(), pending(500));
            Ok(())
        })
        .unwrap();
        s.update(200, |st| {
            st.totp_last_step.insert("x".into(), 1);
            Ok(())
        })
        .unwrap();
        let st = Store::open(dir.path()).unwrap().snapshot().unwrap();
        assert!(!st.email.contains_key("old"));
        assert!(st.email.contains_key("new"));
    }
}
