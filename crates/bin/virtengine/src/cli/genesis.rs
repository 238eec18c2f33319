//! `virtengine genesis add-account|add-validator|validate`: edit and check the
//! genesis.json of a node home before the chain starts.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use ve_types::{Address, Coins};

use crate::cli::keys::{open_keyring, KeyringArgs};
use crate::cli::output::{print_json, OutputFormat};
use crate::genesis_file::GenesisFile;
use crate::home::{self, NodeHome};
use crate::node::cometbft::{self, TypedKey};

#[derive(Debug, Args)]
pub struct GenesisArgs {
    /// Node home directory [default: ~/.virtengine].
    #[arg(long, global = true, env = "VIRTENGINE_HOME")]
    pub home: Option<PathBuf>,
    /// Output format.
    #[arg(long, short, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    #[command(subcommand)]
    pub cmd: GenesisCmd,
}

#[derive(Debug, Subcommand)]
pub enum GenesisCmd {
    /// Fund an account in genesis (adds to its balance if it is already there).
    #[command(after_help = "Examples:\n  \
        virtengine genesis add-account ve1...xyz 1000000000uve\n  \
        virtengine genesis add-account alice 5000000uve,10foo --keyring-backend test")]
    AddAccount {
        /// A bech32 address (ve1...) or the name of a key in the keyring at --home.
        address_or_key: String,
        /// Comma-separated coins, e.g. `1000000uve,5foo`.
        coins: String,
        #[command(flatten)]
        keyring: KeyringArgs,
    },
    /// Add a validator to genesis (or change the power of one already there).
    #[command(after_help = "Examples:\n  \
        virtengine genesis add-validator                 # this node's key, power 10\n  \
        virtengine genesis add-validator --pubkey <base64 ed25519> --power 5 --name val2")]
    AddValidator {
        /// Base64 ed25519 public key [default: this home's cometbft/config/priv_validator_key.json].
        #[arg(long)]
        pubkey: Option<String>,
        /// Voting power.
        #[arg(long, default_value_t = 10)]
        power: u64,
        /// Validator name shown in genesis [default: empty].
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Check genesis.json: it parses, its validators are well-formed, and the
    /// application accepts its app_state. Prints OK or the exact problem.
    Validate {
        /// Validate this file instead of the home's genesis.json.
        file: Option<PathBuf>,
    },
}

pub fn run(args: GenesisArgs) -> Result<()> {
    let home = NodeHome::new(home::resolve(
        args.home.as_deref(),
        home::DEFAULT_NODE_HOME,
    )?);
    match args.cmd {
        GenesisCmd::AddAccount {
            address_or_key,
            coins,
            keyring,
        } => {
            let path = home.genesis();
            let mut g = load(&home, &path)?;
            let address = resolve_address(&address_or_key, &home.root, &keyring)?;
            let coins: Coins = coins.parse().map_err(|e| {
                anyhow::anyhow!("invalid coins {coins:?}: {e} (example: 1000000uve)")
            })?;
            let mut state = g.app_state()?;
            state
                .add_account(address, &coins)
                .map_err(|e| anyhow::anyhow!("cannot add account {address}: {e}"))?;
            g.set_app_state(&state)?;
            g.save(&path)?;
            match args.output {
                OutputFormat::Json => {
                    print_json(&json!({"address": address.to_string(), "coins": coins.to_string()}))
                }
                OutputFormat::Text => {
                    println!("added {address} with {coins} to {}", path.display());
                    Ok(())
                }
            }
        }
        GenesisCmd::AddValidator {
            pubkey,
            power,
            name,
        } => {
            let path = home.genesis();
            let mut g = load(&home, &path)?;
            let key = match pubkey {
                Some(value) => TypedKey {
                    kind: "tendermint/PubKeyEd25519".into(),
                    value,
                },
                None => cometbft::read_validator_key(&home)?.pub_key,
            };
            let address = g.upsert_validator(&key, power, &name)?;
            g.save(&path)?;
            match args.output {
                OutputFormat::Json => print_json(
                    &json!({"address": address, "pub_key": key, "power": power.to_string()}),
                ),
                OutputFormat::Text => {
                    println!("validator {address} (power {power}) in {}", path.display());
                    Ok(())
                }
            }
        }
        GenesisCmd::Validate { file } => {
            let path = file.unwrap_or_else(|| home.genesis());
            let g = GenesisFile::load(&path)?;
            let result = g.validate();
            match (args.output, &result) {
                (OutputFormat::Json, Ok(())) => {
                    print_json(&json!({"valid": true, "file": path, "chain_id": g.chain_id()}))?
                }
                (OutputFormat::Json, Err(e)) => {
                    print_json(&json!({"valid": false, "file": path, "error": format!("{e:#}")}))?
                }
                (OutputFormat::Text, Ok(())) => println!(
                    "OK: {} is a valid genesis for chain {}",
                    path.display(),
                    g.chain_id().unwrap_or("")
                ),
                (OutputFormat::Text, Err(_)) => {}
            }
            result.with_context(|| format!("{} is not a valid genesis", path.display()))
        }
    }
}

fn load(home: &NodeHome, path: &std::path::Path) -> Result<GenesisFile> {
    if !path.exists() {
        home.ensure_initialised()?;
    }
    GenesisFile::load(path)
}

/// A bech32 address as given, or the address of a key in the keyring.
pub fn resolve_address(
    s: &str,
    keyring_home: &std::path::Path,
    k: &KeyringArgs,
) -> Result<Address> {
    if let Ok(a) = s.parse::<Address>() {
        return Ok(a);
    }
    let kr = open_keyring(keyring_home, k)?;
    let info = kr.show(s).with_context(|| {
        format!(
            "{s:?} is neither a ve1... address nor a key in {}",
            kr.dir().display()
        )
    })?;
    Ok(info.address)
}
