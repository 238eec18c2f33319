//! The localnet's MFA verifier service (`virtengine mfa-verifier run`), started beside the
//! validators: the standalone stand-in for the enclave service of issue #5 that checks
//! TOTP and email codes and signs factor attestations.
//!
//! ```text
//! <home>/mfa-verifier/                 its --home: key files, state.json, verifier.log
//! <home>/mfa-verifier/localnet.json    where it listens and which node it reads
//! ```
//!
//! Its key is registered in the mfa module's genesis (`mfa.verifier_keys`) for TOTP and
//! EMAIL. Email codes are sent only when `localnet start --mfa-smtp smtp://host:port` is
//! given; without it the verifier answers email requests with 503.

#![allow(clippy::disallowed_methods)] // Instant::now: a start-up deadline is wall-clock by nature.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use tokio::process::Child;

use crate::logging::LogFormat;
use crate::node::supervise;

/// Folder of the verifier under the localnet home.
pub const DIR: &str = "mfa-verifier";
/// Key id registered in genesis.
pub const KEY_ID: &str = "localnet-verifier";
/// Default port (plus --port-offset).
pub const PORT: u16 = 26690;
/// Name in localnet.pids.
pub const PROCESS_NAME: &str = "mfa-verifier";

/// `<home>/mfa-verifier/localnet.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifierEntry {
    /// Base URL of the HTTP API (`--verifier` of `tx mfa`).
    pub url: String,
    pub listen: String,
    /// CometBFT RPC of the node it reads challenges from.
    pub node: String,
    pub chain_id: String,
    pub home: PathBuf,
    pub key_id: String,
}

impl VerifierEntry {
    pub fn log(&self) -> PathBuf {
        self.home.join("verifier.log")
    }
    pub fn port(&self) -> Option<u16> {
        self.listen.rsplit(':').next().and_then(|p| p.parse().ok())
    }
}

fn entry_path(home: &Path) -> PathBuf {
    home.join(DIR).join("localnet.json")
}

/// Creates the verifier's keys and registers them in `state` (the mfa genesis section);
/// makes `admin` a roles genesis account, so it may change MFA rules and register
/// verifier keys on the localnet.
pub fn setup(
    home: &Path,
    state: &mut ve_app::AppGenesis,
    port_offset: u16,
    node_rpc: &str,
    chain_id: &str,
    admin: Option<ve_types::Address>,
) -> Result<VerifierEntry> {
    if let Some(a) = admin {
        if !state.roles.genesis_accounts.contains(&a) {
            state.roles.genesis_accounts.push(a);
        }
    }
    let port = PORT
        .checked_add(port_offset)
        .context("--port-offset pushes the MFA verifier port past 65535")?;
    let dir = home.join(DIR);
    let info = crate::cli::mfa_verifier::init_home(&dir, KEY_ID)?;
    state.mfa.verifier_keys.push(ve_mfa::GenesisVerifierKey {
        key_id: info.key_id.clone(),
        public_key: info.public_key.clone(),
        encryption_fingerprint: info.encryption_fingerprint.clone(),
        factor_types: vec!["FACTOR_TYPE_TOTP".into(), "FACTOR_TYPE_EMAIL".into()],
    });
    let listen = format!("127.0.0.1:{port}");
    let entry = VerifierEntry {
        url: format!("http://{listen}"),
        listen,
        node: node_rpc.to_string(),
        chain_id: chain_id.to_string(),
        home: dir,
        key_id: info.key_id,
    };
    let text = serde_json::to_string_pretty(&entry).context("serialising")?;
    let p = entry_path(home);
    std::fs::write(&p, text + "\n").with_context(|| format!("writing {}", p.display()))?;
    Ok(entry)
}

/// The verifier of the localnet in `home`, if it was built with one.
pub fn load(home: &Path) -> Result<Option<VerifierEntry>> {
    let p = entry_path(home);
    match std::fs::read_to_string(&p) {
        Ok(t) => Ok(Some(
            serde_json::from_str(&t).with_context(|| format!("parsing {}", p.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
    }
}

/// Starts `virtengine mfa-verifier run` for `entry`, logging to its verifier.log.
pub fn spawn(
    exe: &Path,
    entry: &VerifierEntry,
    smtp: Option<&str>,
    log_format: LogFormat,
) -> Result<Child> {
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("mfa-verifier")
        .arg("run")
        .arg("--home")
        .arg(&entry.home)
        .arg("--key-id")
        .arg(&entry.key_id)
        .arg("--listen")
        .arg(&entry.listen)
        .arg("--node")
        .arg(&entry.node)
        .arg("--chain-id")
        .arg(&entry.chain_id)
        .arg("--log-format")
        .arg(match log_format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        });
    if let Some(url) = smtp {
        cmd.arg("--smtp").arg(url);
    }
    supervise::spawn_logged(cmd, &entry.log()).context("starting the MFA verifier")
}

/// Waits until the verifier accepts connections.
pub async fn wait_listening(
    entry: &VerifierEntry,
    child: &mut Child,
    timeout: Duration,
) -> Result<()> {
    let start = Instant::now();
    loop {
        if tokio::net::TcpStream::connect(&entry.listen).await.is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait().context("checking the MFA verifier")? {
            bail!(
                "the MFA verifier exited ({status}); last lines of {}:\n{}",
                entry.log().display(),
                supervise::tail(&entry.log(), 30)
            );
        }
        if start.elapsed() > timeout {
            bail!(
                "the MFA verifier did not listen on {} within {} s; see {}",
                entry.listen,
                timeout.as_secs(),
                entry.log().display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
