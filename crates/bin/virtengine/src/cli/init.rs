//! `virtengine init`: a new node home with CometBFT's config and keys, our app.toml,
//! and a genesis.json for a new chain.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Serialize;

use crate::cli::output::{print_json, OutputFormat};
use crate::config::{AppToml, Ports};
use crate::genesis_file::{ConsensusSettings, GenesisFile};
use crate::home::{self, NodeHome};
use crate::node::cometbft::{self, ConfigEdits};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    virtengine init my-node --chain-id virtengine-1\n  \
    virtengine init val2 --chain-id test-1 --home /tmp/val2 --port-offset 100\n\n\
    Then add funded accounts with `virtengine genesis add-account`, check with\n\
    `virtengine genesis validate`, and run the node with `virtengine start`.")]
pub struct InitArgs {
    /// Human-readable node name (CometBFT moniker and genesis validator name).
    pub moniker: String,
    /// Chain identifier written into genesis.json; transactions are signed for it.
    #[arg(long)]
    pub chain_id: String,
    /// Node home directory [default: ~/.virtengine].
    #[arg(long, env = "VIRTENGINE_HOME")]
    pub home: Option<PathBuf>,
    /// Added to every default port (RPC 26657, P2P 26656, ABCI 26658, REST 1317,
    /// gRPC 9090, metrics 26660, CometBFT metrics 26661).
    #[arg(long, default_value_t = 0)]
    pub port_offset: u16,
    /// CometBFT `timeout_commit`: the pause after each block.
    #[arg(long, default_value = "1s")]
    pub timeout_commit: String,
    /// Consensus parameter block.max_bytes.
    #[arg(long, default_value_t = 4_194_304)]
    pub block_max_bytes: u64,
    /// CometBFT mempool capacity in transactions.
    #[arg(long, default_value_t = 10_000)]
    pub mempool_size: u64,
    /// Do not put this node's validator key into genesis (add validators later with
    /// `virtengine genesis add-validator`).
    #[arg(long)]
    pub no_validator: bool,
    /// Rewrite app.toml, config.toml and genesis.json of an existing home (keys are kept).
    #[arg(long)]
    pub overwrite: bool,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// What `init` produced; also the JSON output.
#[derive(Debug, Clone, Serialize)]
pub struct InitSummary {
    pub moniker: String,
    pub chain_id: String,
    pub home: PathBuf,
    pub node_id: String,
    pub validator_address: String,
    pub ports: Ports,
    pub genesis: PathBuf,
}

/// Parameters of one node home; `localnet` builds several of these.
#[derive(Debug, Clone)]
pub struct InitParams {
    pub moniker: String,
    pub chain_id: String,
    pub home: NodeHome,
    pub ports: Ports,
    pub timeout_commit: String,
    pub consensus: ConsensusSettings,
    pub mempool_size: u64,
    pub self_validator: bool,
    pub overwrite: bool,
    pub local_cluster: bool,
}

pub fn run(args: InitArgs) -> Result<()> {
    let root = home::resolve(args.home.as_deref(), home::DEFAULT_NODE_HOME)?;
    let params = InitParams {
        moniker: args.moniker,
        chain_id: args.chain_id,
        home: NodeHome::new(root),
        ports: Ports::with_offset(args.port_offset)?,
        timeout_commit: args.timeout_commit,
        consensus: ConsensusSettings {
            block_max_bytes: args.block_max_bytes,
            ..ConsensusSettings::default()
        },
        mempool_size: args.mempool_size,
        self_validator: !args.no_validator,
        overwrite: args.overwrite,
        local_cluster: false,
    };
    let s = init_node(&params)?;
    match args.output {
        OutputFormat::Json => print_json(&s),
        OutputFormat::Text => {
            println!("initialised node {:?} for chain {}", s.moniker, s.chain_id);
            println!("  home:       {}", s.home.display());
            println!("  node id:    {}", s.node_id);
            println!("  validator:  {}", s.validator_address);
            println!("  genesis:    {}", s.genesis.display());
            println!(
                "  ports:      rpc {} p2p {} abci {} rest {} grpc {} metrics {}",
                s.ports.rpc, s.ports.p2p, s.ports.abci, s.ports.rest, s.ports.grpc, s.ports.metrics
            );
            println!("next: virtengine genesis add-account <address|key> <coins> --home {h}\n      virtengine start --home {h}", h = s.home.display());
            Ok(())
        }
    }
}

pub fn init_node(p: &InitParams) -> Result<InitSummary> {
    validate_chain_id(&p.chain_id)?;
    let home = &p.home;
    if home.app_toml().exists() && !p.overwrite {
        bail!(
            "{} is already initialised: use --overwrite to rewrite its config and genesis (keys are kept), or pick another --home",
            home.root.display()
        );
    }
    let cometbft_bin = home::find_cometbft()?;
    for dir in [home.config_dir(), home.app_data(), home.logs_dir()] {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    cometbft::init(&cometbft_bin, home)?;

    AppToml::for_ports(&p.ports).save(&home.app_toml())?;
    cometbft::edit_config(
        home,
        &ConfigEdits {
            moniker: p.moniker.clone(),
            ports: p.ports,
            proxy_app: format!("tcp://127.0.0.1:{}", p.ports.abci),
            timeout_commit: p.timeout_commit.clone(),
            mempool_size: p.mempool_size,
            persistent_peers: String::new(),
            local_cluster: p.local_cluster,
        },
    )?;

    let mut genesis = GenesisFile::load(&home.genesis())?;
    genesis.prepare(&p.chain_id, &p.consensus)?;
    let key = cometbft::read_validator_key(home)?;
    if p.self_validator {
        genesis.upsert_validator(&key.pub_key, 10, &p.moniker)?;
    }
    genesis.save(&home.genesis())?;

    Ok(InitSummary {
        moniker: p.moniker.clone(),
        chain_id: p.chain_id.clone(),
        home: home.root.clone(),
        node_id: cometbft::node_id(home)?,
        validator_address: key.address,
        ports: p.ports,
        genesis: home.genesis(),
    })
}

fn validate_chain_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 50
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        bail!(
            "invalid --chain-id {id:?}: use 1-50 characters from letters, digits, '-', '_' and '.'"
        );
    }
    Ok(())
}
