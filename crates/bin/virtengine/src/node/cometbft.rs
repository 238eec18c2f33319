//! Everything we do to CometBFT's home: `cometbft init`, edits to its `config.toml`
//! (comments preserved), and reading its key files.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use base64::Engine;
use serde::Deserialize;
use toml_edit::{value, Array, DocumentMut};

use crate::config::Ports;
use crate::home::NodeHome;

/// Runs `cometbft init --home <home>/cometbft`, creating config, node key and
/// validator key. Existing key files are kept (CometBFT never overwrites them).
pub fn init(cometbft: &Path, home: &NodeHome) -> Result<()> {
    let out = Command::new(cometbft)
        .arg("init")
        .arg("--home")
        .arg(home.cometbft_home())
        .output()
        .with_context(|| format!("running {} init", cometbft.display()))?;
    if !out.status.success() {
        bail!(
            "`{} init --home {}` failed ({}):\n{}{}",
            cometbft.display(),
            home.cometbft_home().display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Node-level CometBFT settings we manage.
#[derive(Debug, Clone)]
pub struct ConfigEdits {
    pub moniker: String,
    pub ports: Ports,
    /// `proxy_app`: where our ABCI server listens.
    pub proxy_app: String,
    pub timeout_commit: String,
    pub mempool_size: u64,
    /// `id@host:port,...`
    pub persistent_peers: String,
    /// Localnet only: several nodes on one IP, private addresses allowed, CORS open.
    pub local_cluster: bool,
}

/// Applies `edits` to `<home>/cometbft/config/config.toml`.
pub fn edit_config(home: &NodeHome, edits: &ConfigEdits) -> Result<()> {
    let path = home.cometbft_config();
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("parsing {}", path.display()))?;
    let p = &edits.ports;
    doc["proxy_app"] = value(edits.proxy_app.as_str());
    doc["moniker"] = value(edits.moniker.as_str());
    doc["rpc"]["laddr"] = value(format!("tcp://127.0.0.1:{}", p.rpc));
    doc["rpc"]["pprof_laddr"] = value("");
    let p2p_host = if edits.local_cluster {
        "127.0.0.1"
    } else {
        "0.0.0.0"
    };
    doc["p2p"]["laddr"] = value(format!("tcp://{p2p_host}:{}", p.p2p));
    doc["p2p"]["persistent_peers"] = value(edits.persistent_peers.as_str());
    doc["consensus"]["timeout_commit"] = value(edits.timeout_commit.as_str());
    doc["consensus"]["create_empty_blocks"] = value(true);
    doc["mempool"]["size"] = value(i64::try_from(edits.mempool_size).unwrap_or(i64::MAX));
    doc["mempool"]["cache_size"] =
        value(i64::try_from(edits.mempool_size.saturating_mul(2)).unwrap_or(i64::MAX));
    doc["mempool"]["max_txs_bytes"] = value(1_073_741_824_i64);
    doc["tx_index"]["indexer"] = value("kv");
    doc["instrumentation"]["prometheus"] = value(true);
    doc["instrumentation"]["prometheus_listen_addr"] =
        value(format!("127.0.0.1:{}", p.cometbft_metrics));
    if edits.local_cluster {
        doc["p2p"]["addr_book_strict"] = value(false);
        doc["p2p"]["allow_duplicate_ip"] = value(true);
        let mut any = Array::new();
        any.push("*");
        doc["rpc"]["cors_allowed_origins"] = value(any);
    }
    std::fs::write(&path, doc.to_string()).with_context(|| format!("writing {}", path.display()))
}

/// The public part of `priv_validator_key.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct ValidatorKey {
    /// Upper-case hex, as CometBFT writes it.
    pub address: String,
    pub pub_key: TypedKey,
}

/// CometBFT's amino-JSON key: `{"type": "tendermint/PubKeyEd25519", "value": base64}`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
pub struct TypedKey {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

pub fn read_validator_key(home: &NodeHome) -> Result<ValidatorKey> {
    let path = home.priv_validator_key();
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading the validator key {} (run `virtengine init` first)",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The node ID peers dial (`<id>@host:port`): hex of the first 20 bytes of
/// SHA-256 over the node's ed25519 public key.
pub fn node_id(home: &NodeHome) -> Result<String> {
    #[derive(Deserialize)]
    struct NodeKey {
        priv_key: TypedKey,
    }
    let path = home.node_key();
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let key: NodeKey =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(key.priv_key.value.as_bytes())
        .with_context(|| format!("decoding the key in {}", path.display()))?;
    // ed25519 private keys are stored as seed (32) || public key (32).
    if raw.len() != 64 {
        bail!("{}: expected a 64-byte ed25519 key", path.display());
    }
    let digest = ve_crypto::sha256(&raw[32..]);
    Ok(hex::encode(&digest[..20]))
}

/// Validator address from an ed25519 public key: upper-case hex of SHA-256[..20].
pub fn validator_address(pub_key_b64: &str) -> Result<String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(pub_key_b64.as_bytes())
        .context("validator public key is not base64")?;
    if raw.len() != 32 {
        bail!(
            "validator public key has {} bytes; an ed25519 key has 32",
            raw.len()
        );
    }
    let digest = ve_crypto::sha256(&raw);
    Ok(hex::encode_upper(&digest[..20]))
}
