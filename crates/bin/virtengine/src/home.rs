//! Where things live on disk, and how a command finds its home directory.
//!
//! A node home (`virtengine init` / `virtengine start`):
//!
//! ```text
//! <home>/config/app.toml        our settings: ABCI, REST, gRPC, metrics, storage, logs
//! <home>/data/app/              the application's state (JMT over redb)
//! <home>/logs/cometbft.log      CometBFT's stdout and stderr
//! <home>/cometbft/              CometBFT's own home: config.toml, genesis.json,
//!                               node_key.json, priv_validator_key.json, data/
//! <home>/keyring-<backend>/     keys, when the home also serves as a keyring home
//! ```

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Default home of a node (`init`, `start`, `genesis`).
pub const DEFAULT_NODE_HOME: &str = ".virtengine";
/// Default home of a localnet, and of the client commands (`keys`, `tx`), so that
/// they find the localnet's test keyring without flags.
pub const DEFAULT_LOCALNET_HOME: &str = ".virtengine-localnet";

/// `$HOME`, which every default path hangs off.
pub fn user_home() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .context("$HOME is not set: pass --home explicitly")
}

/// `explicit`, or `~/<default_name>`.
pub fn resolve(explicit: Option<&Path>, default_name: &str) -> Result<PathBuf> {
    match explicit {
        Some(p) => Ok(p.to_path_buf()),
        None => Ok(user_home()?.join(default_name)),
    }
}

/// Paths inside a node home.
#[derive(Debug, Clone)]
pub struct NodeHome {
    pub root: PathBuf,
}

impl NodeHome {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    pub fn config_dir(&self) -> PathBuf {
        self.root.join("config")
    }
    pub fn app_toml(&self) -> PathBuf {
        self.config_dir().join("app.toml")
    }
    pub fn app_data(&self) -> PathBuf {
        self.root.join("data").join("app")
    }
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }
    pub fn cometbft_log(&self) -> PathBuf {
        self.logs_dir().join("cometbft.log")
    }
    pub fn cometbft_home(&self) -> PathBuf {
        self.root.join("cometbft")
    }
    pub fn cometbft_config(&self) -> PathBuf {
        self.cometbft_home().join("config").join("config.toml")
    }
    pub fn genesis(&self) -> PathBuf {
        self.cometbft_home().join("config").join("genesis.json")
    }
    pub fn priv_validator_key(&self) -> PathBuf {
        self.cometbft_home()
            .join("config")
            .join("priv_validator_key.json")
    }
    pub fn node_key(&self) -> PathBuf {
        self.cometbft_home().join("config").join("node_key.json")
    }

    /// Fails with the next step to take when `init` has not run here.
    pub fn ensure_initialised(&self) -> Result<()> {
        for p in [self.app_toml(), self.genesis(), self.cometbft_config()] {
            if !p.exists() {
                bail!(
                    "home {} is not initialised ({} is missing): run `virtengine init <moniker> --chain-id <id> --home {}`",
                    self.root.display(),
                    p.display(),
                    self.root.display()
                );
            }
        }
        Ok(())
    }
}

/// Locates the `cometbft` binary: `$COMETBFT_BIN`, then `PATH`, then `~/go/bin`.
pub fn find_cometbft() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("COMETBFT_BIN").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if is_executable(&p) {
            return Ok(p);
        }
        bail!(
            "$COMETBFT_BIN points at {}, which is not an executable file: fix it or unset it",
            p.display()
        );
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join("cometbft");
            if is_executable(&p) {
                return Ok(p);
            }
        }
    }
    if let Ok(h) = user_home() {
        let p = h.join("go").join("bin").join("cometbft");
        if is_executable(&p) {
            return Ok(p);
        }
    }
    bail!("cometbft not found ($COMETBFT_BIN, PATH, ~/go/bin): run scripts/setup.sh to install it")
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
