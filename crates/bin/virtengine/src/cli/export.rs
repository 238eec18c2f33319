//! `virtengine export`: the state of a stopped node at a committed height as a new
//! genesis.json. A chain restarted from it (every validator starting from the same file,
//! with a fresh CometBFT data dir) continues at `height + 1` with the same app hash.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;

use crate::genesis_file::GenesisFile;
use crate::home::{self, NodeHome};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    virtengine export --home ~/.virtengine --output exported-genesis.json\n  \
    virtengine export --height 1200 > genesis-1200.json\n\n\
    Stop the node first: the state database is opened exclusively. The exported file keeps \
    the chain id, validators and consensus params of the node's genesis.json, and sets \
    initial_height to HEIGHT + 1 and app_hash to the state's hash, which the new chain \
    checks when it imports the state.")]
pub struct ExportArgs {
    /// Node home directory [default: ~/.virtengine].
    #[arg(long, env = "VIRTENGINE_HOME")]
    pub home: Option<PathBuf>,
    /// Committed height to export (0 = the latest). Older heights must still be retained
    /// (app.toml `storage.retain_versions`).
    #[arg(long, default_value_t = 0)]
    pub height: u64,
    /// Where to write the genesis (default: standard output).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

pub fn run(args: ExportArgs) -> Result<()> {
    let home = NodeHome::new(home::resolve(
        args.home.as_deref(),
        home::DEFAULT_NODE_HOME,
    )?);
    home.ensure_initialised()?;
    let app = ve_app::App::open(&home.app_data(), ve_app::AppConfig::default()).map_err(|e| {
        anyhow::anyhow!(
            "opening application state at {}: {e} (is the node still running? stop it first)",
            home.app_data().display()
        )
    })?;
    let exported = app
        .export_genesis(args.height)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let state = exported
        .state
        .as_ref()
        .context("export produced no state")?;
    let (height, app_hash) = (state.height, state.app_hash.clone());
    let keys: usize = state.modules.values().map(Vec::len).sum();

    let mut genesis = GenesisFile::load(&home.genesis())?;
    genesis.set_app_state(&exported)?;
    let obj = genesis
        .doc
        .as_object_mut()
        .context("genesis must be a JSON object")?;
    obj.insert(
        "initial_height".into(),
        json!(height.saturating_add(1).to_string()),
    );
    obj.insert("app_hash".into(), json!(app_hash));
    match &args.output {
        Some(path) => {
            genesis.save(path)?;
            eprintln!(
                "exported {keys} keys at height {height} (app hash {app_hash}) to {}; \
                 the new chain starts at height {}",
                path.display(),
                height.saturating_add(1)
            );
        }
        None => println!(
            "{}",
            serde_json::to_string_pretty(&genesis.doc).context("serialising genesis")?
        ),
    }
    Ok(())
}
