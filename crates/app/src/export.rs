//! Genesis export and import of the whole state.
//!
//! `virtengine export` writes every key of the state at a committed height H into the
//! genesis `app_state.state`; a fresh node started from that genesis (with
//! `initial_height = H + 1`) holds exactly the same key-value set, so its app hash after
//! block H + 1 is the one the old chain computed — the property a chain halt recovery or
//! a hard fork relies on. The export is the store's own layout (keys in hex, values in
//! base64), grouped by module, so it covers every module without per-module code and
//! cannot drift from what the modules actually wrote.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ve_module::Store;
use ve_storage::{Changes, Snapshot, StateRead, Storage};
use ve_types::AppError;

/// Keys read per page while exporting.
const PAGE: usize = 4096;

/// The whole state at one height.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateExport {
    /// The height the state was taken at; the new chain starts at `height + 1`.
    pub height: u64,
    /// Hex app hash of the state at `height`. Import refuses a state that does not hash to
    /// it; leave it empty when the state was edited on purpose (a hard fork).
    #[serde(default)]
    pub app_hash: String,
    /// Module name (the key's first `/`-separated segment) → `[hex key, base64 value]`
    /// pairs in key order.
    pub modules: BTreeMap<String, Vec<(String, String)>>,
}

fn export_err(msg: impl Into<String>) -> AppError {
    AppError::new("genesis", 2, msg)
}

fn module_of(key: &[u8]) -> String {
    let end = key.iter().position(|b| *b == b'/').unwrap_or(key.len());
    String::from_utf8_lossy(&key[..end]).into_owned()
}

impl StateExport {
    /// Reads every key of `snapshot`.
    pub fn from_snapshot(snapshot: &Snapshot) -> Result<Self, AppError> {
        use base64::Engine as _;
        let mut modules: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut start: Vec<u8> = Vec::new();
        loop {
            let page = snapshot
                .range(&start, None, PAGE)
                .map_err(|e| export_err(format!("cannot read state: {e}")))?;
            let full = page.len() == PAGE;
            for (k, v) in &page {
                modules.entry(module_of(k)).or_default().push((
                    hex::encode(k),
                    base64::engine::general_purpose::STANDARD.encode(v),
                ));
            }
            match page.last() {
                Some((k, _)) if full => {
                    start = k.clone();
                    start.push(0);
                }
                _ => break,
            }
        }
        Ok(Self {
            height: snapshot.version(),
            app_hash: hex::encode_upper(snapshot.root_hash()),
            modules,
        })
    }

    /// The export's key-value pairs, decoded and checked.
    pub fn changes(&self) -> Result<Changes, AppError> {
        use base64::Engine as _;
        let mut changes = Changes::new();
        for (module, entries) in &self.modules {
            for (k, v) in entries {
                let key = hex::decode(k)
                    .map_err(|e| export_err(format!("state.{module}: bad hex key {k:?}: {e}")))?;
                if module_of(&key) != *module {
                    return Err(export_err(format!(
                        "state.{module}: key {k} belongs to module {:?}",
                        module_of(&key)
                    )));
                }
                let value = base64::engine::general_purpose::STANDARD
                    .decode(v)
                    .map_err(|e| export_err(format!("state.{module}: bad base64 value: {e}")))?;
                if changes.insert(key, Some(value)).is_some() {
                    return Err(export_err(format!("state.{module}: key {k} appears twice")));
                }
            }
        }
        Ok(changes)
    }

    /// The app hash of the imported state (`changes`: the export plus what InitChain
    /// writes beside it), which InitChain reports to CometBFT: it must equal genesis.json's
    /// `app_hash`, and it is checked against the export's recorded `app_hash` unless that
    /// was cleared (an edited state, on purpose). Staged on the never-committed storage and
    /// dropped, which aborts the write.
    pub fn initial_app_hash(
        &self,
        storage: &Storage,
        changes: &Changes,
    ) -> Result<Vec<u8>, AppError> {
        if storage.latest_version().is_some() {
            return Err(export_err(
                "an exported genesis can only be imported into an empty node",
            ));
        }
        let prepared = storage
            .prepare(changes, self.height.max(1))
            .map_err(|e| export_err(format!("cannot stage the exported state: {e}")))?;
        let root = prepared.root_hash();
        drop(prepared);
        let hex_root = hex::encode_upper(root);
        if !self.app_hash.is_empty() && !hex_root.eq_ignore_ascii_case(&self.app_hash) {
            return Err(export_err(format!(
                "exported state hashes to {hex_root}, not to the recorded app_hash {}: the file is \
                 corrupt or was edited, or the chain id or validator set changed (clear app_hash \
                 to import an edited state on purpose)",
                self.app_hash
            )));
        }
        Ok(root.to_vec())
    }

    /// Writes the exported pairs.
    pub fn write(changes: &Changes, store: &mut impl Store) -> Result<(), AppError> {
        for (k, v) in changes {
            if let Some(v) = v {
                store.put(k.clone(), v.clone())?;
            }
        }
        Ok(())
    }
}
