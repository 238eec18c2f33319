//! `virtengine keys ...`: the local keyring (BIP-39 mnemonics, HD path m/44'/118'/0'/0/0).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use base64::Engine;
use clap::{Args, Subcommand};
use serde::Serialize;
use ve_client::{Backend, KeyInfo, Keyring};

use crate::cli::output::{print_json, OutputFormat};
use crate::cli::prompt;
use crate::home;

/// Which keyring to use.
#[derive(Debug, Clone, Args)]
pub struct KeyringArgs {
    /// `file` (mnemonics encrypted with a passphrase) or `test` (plain text, for
    /// scripts and localnets). Default: `test` when the home is a localnet home (it has
    /// accounts.json), otherwise `file`.
    #[arg(long, global = true, env = "VIRTENGINE_KEYRING_BACKEND")]
    pub keyring_backend: Option<String>,
}

impl KeyringArgs {
    pub fn backend(&self, home: &Path) -> Result<Backend> {
        match &self.keyring_backend {
            Some(b) => b.parse().map_err(|e| anyhow::anyhow!("{e}")),
            None if home.join("accounts.json").exists() => Ok(Backend::Test),
            None => Ok(Backend::File),
        }
    }
}

/// Opens the keyring `<home>/keyring-<backend>`.
pub fn open_keyring(home: &Path, args: &KeyringArgs) -> Result<Keyring> {
    let backend = args.backend(home)?;
    Keyring::open(home, backend)
        .with_context(|| format!("opening the {backend} keyring in {}", home.display()))
}

/// The passphrase the backend needs to unlock a key (none for `test`).
pub fn unlock_passphrase(kr: &Keyring) -> Result<zeroize::Zeroizing<String>> {
    match kr.backend() {
        Backend::Test => Ok(zeroize::Zeroizing::new(String::new())),
        Backend::File => prompt::passphrase(),
    }
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    virtengine keys add alice --keyring-backend test\n  \
    echo \"word1 ... word24\" | virtengine keys add bob --recover --keyring-backend test\n  \
    virtengine keys list\n  \
    virtengine keys show alice -a\n\n\
    Keys live in <home>/keyring-<backend>/; --home defaults to ~/.virtengine-localnet\n\
    (or $VIRTENGINE_HOME), so a running localnet's test keys are found without flags.")]
pub struct KeysArgs {
    /// Keyring home directory [default: ~/.virtengine-localnet].
    #[arg(long, global = true, env = "VIRTENGINE_HOME")]
    pub home: Option<PathBuf>,
    #[command(flatten)]
    pub keyring: KeyringArgs,
    /// Output format.
    #[arg(long, short, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    #[command(subcommand)]
    pub cmd: KeysCmd,
}

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Create a key from a new 24-word mnemonic (shown once), or recover one.
    Add {
        name: String,
        /// Read an existing mnemonic (from the terminal, or a line of stdin) instead of
        /// generating one.
        #[arg(long)]
        recover: bool,
    },
    /// List all keys.
    List,
    /// Show one key.
    Show {
        name: String,
        /// Print only the address.
        #[arg(short = 'a', long)]
        address: bool,
    },
    /// Delete a key (asks for confirmation unless -y).
    Delete {
        name: String,
        /// Skip the confirmation.
        #[arg(short = 'y', long)]
        yes: bool,
    },
    /// Print a key's mnemonic (asks the passphrase with the file backend).
    Export { name: String },
    /// Store a key from a mnemonic read from stdin.
    Import { name: String },
}

/// A key as printed (JSON field names are stable).
#[derive(Debug, Serialize)]
pub struct KeyOut {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub address: String,
    pub pubkey: PubKeyOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mnemonic: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PubKeyOut {
    #[serde(rename = "@type")]
    pub type_url: &'static str,
    pub key: String,
}

impl KeyOut {
    fn new(k: &KeyInfo) -> Self {
        Self {
            name: k.name.clone(),
            kind: "local",
            address: k.address.to_string(),
            pubkey: PubKeyOut {
                type_url: "/cosmos.crypto.secp256k1.PubKey",
                key: base64::engine::general_purpose::STANDARD.encode(k.pubkey.to_bytes()),
            },
            mnemonic: None,
        }
    }
}

pub fn run(args: KeysArgs) -> Result<()> {
    let home = home::resolve(args.home.as_deref(), home::DEFAULT_LOCALNET_HOME)?;
    let kr = open_keyring(&home, &args.keyring)?;
    let out = args.output;
    match args.cmd {
        KeysCmd::Add { name, recover } => {
            if kr.show(&name).is_ok() {
                bail!("key {name} already exists in {}: pick another name or delete it first with `virtengine keys delete {name}`", kr.dir().display());
            }
            let mnemonic = if recover {
                Some(prompt::ask("Enter your bip39 mnemonic: ", false)?)
            } else {
                None
            };
            let pass = match kr.backend() {
                Backend::Test => zeroize::Zeroizing::new(String::new()),
                Backend::File => prompt::new_passphrase()?,
            };
            let (info, phrase) = kr
                .add(&name, mnemonic.as_deref().map(|s| s.trim()), &pass)
                .with_context(|| format!("adding key {name}"))?;
            let mut o = KeyOut::new(&info);
            if !recover {
                o.mnemonic = Some(phrase.to_string());
            }
            match out {
                OutputFormat::Json => print_json(&o),
                OutputFormat::Text => {
                    print_key_text(&o);
                    if let Some(m) = &o.mnemonic {
                        println!("\n**Important** write this mnemonic phrase in a safe place.\nIt is the only way to recover your account if you ever forget your password.\n\n{m}");
                    }
                    Ok(())
                }
            }
        }
        KeysCmd::List => {
            let keys: Vec<KeyOut> = kr
                .list()
                .context("listing keys")?
                .iter()
                .map(KeyOut::new)
                .collect();
            match out {
                OutputFormat::Json => print_json(&keys),
                OutputFormat::Text => {
                    if keys.is_empty() {
                        println!("no keys in {}", kr.dir().display());
                    }
                    for k in &keys {
                        println!("{:<16} {}", k.name, k.address);
                    }
                    Ok(())
                }
            }
        }
        KeysCmd::Show { name, address } => {
            let k = KeyOut::new(&kr.show(&name)?);
            if address {
                println!("{}", k.address);
                return Ok(());
            }
            match out {
                OutputFormat::Json => print_json(&k),
                OutputFormat::Text => {
                    print_key_text(&k);
                    Ok(())
                }
            }
        }
        KeysCmd::Delete { name, yes } => {
            kr.show(&name)?;
            if !yes && !prompt::confirm(&format!("Delete key {name}? This cannot be undone"))? {
                bail!("not deleted");
            }
            kr.delete(&name)?;
            match out {
                OutputFormat::Json => print_json(&serde_json::json!({"deleted": name})),
                OutputFormat::Text => {
                    println!("key {name} deleted");
                    Ok(())
                }
            }
        }
        KeysCmd::Export { name } => {
            kr.show(&name)?;
            let pass = unlock_passphrase(&kr)?;
            let phrase = kr.export(&name, &pass)?;
            match out {
                OutputFormat::Json => {
                    print_json(&serde_json::json!({"name": name, "mnemonic": phrase.as_str()}))
                }
                OutputFormat::Text => {
                    println!("{}", phrase.as_str());
                    Ok(())
                }
            }
        }
        KeysCmd::Import { name } => {
            let phrase = prompt::ask("Enter the bip39 mnemonic to import: ", false)?;
            let pass = match kr.backend() {
                Backend::Test => zeroize::Zeroizing::new(String::new()),
                Backend::File => prompt::new_passphrase()?,
            };
            let info = kr.import(&name, phrase.trim(), &pass)?;
            let k = KeyOut::new(&info);
            match out {
                OutputFormat::Json => print_json(&k),
                OutputFormat::Text => {
                    print_key_text(&k);
                    Ok(())
                }
            }
        }
    }
}

fn print_key_text(k: &KeyOut) {
    println!("- name: {}", k.name);
    println!("  type: {}", k.kind);
    println!("  address: {}", k.address);
    println!(
        "  pubkey: '{{\"@type\":\"{}\",\"key\":\"{}\"}}'",
        k.pubkey.type_url, k.pubkey.key
    );
}
