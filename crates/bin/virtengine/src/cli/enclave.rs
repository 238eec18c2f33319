//! `virtengine enclave init|show|run`: the identity-scoring enclave service beside a
//! validator (docs/enclave.md).
//!
//! SIMULATED PLATFORM: there is no TEE on this machine. `init` writes a random
//! platform sealing key file next to the sealed enclave keys; the measurement is a hash of
//! this binary and the model set. The chain accepts such an enclave only while its
//! `allow_simulated` parameter is on (localnets).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::cli::output::OutputFormat;

#[derive(Debug, Args)]
pub struct EnclaveArgs {
    /// Enclave home: sealed keys and the (simulated) platform key.
    #[arg(long, global = true, env = "VIRTENGINE_ENCLAVE_HOME")]
    pub home: Option<PathBuf>,
    /// Directory of the scoring models [default: the models built with this binary].
    #[arg(long, global = true, env = "VIRTENGINE_MODELS")]
    pub models: Option<PathBuf>,
    #[arg(long, short, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    #[command(subcommand)]
    pub cmd: EnclaveCmd,
}

#[derive(Debug, Subcommand)]
pub enum EnclaveCmd {
    /// Create the enclave keys (sealed under a simulated platform key) and print the identity.
    Init,
    /// Print the enclave identity: public keys, measurement, model-set hash.
    Show,
    /// Serve scoring requests from the node on a unix socket until stopped.
    #[command(
        after_help = "Point the node at it with app.toml:\n  [enclave]\n  socket = \"<path>\""
    )]
    Run {
        /// Unix socket to listen on [default: <home>/enclave.sock].
        #[arg(long)]
        socket: Option<PathBuf>,
    },
}

fn home(args: &EnclaveArgs) -> Result<PathBuf> {
    args.home
        .clone()
        .context("pass --home (the enclave home, e.g. <node home>/enclave)")
}

/// The models shipped in the source tree this binary was built from.
pub fn default_models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scoring/models")
}

fn models(args: &EnclaveArgs) -> Result<PathBuf> {
    let m = args.models.clone().unwrap_or_else(default_models);
    if !m.join("feature_spec.json").exists() {
        anyhow::bail!(
            "no scoring models in {}: pass --models DIR (crates/scoring/models of the source tree)",
            m.display()
        );
    }
    Ok(m)
}

fn open(args: &EnclaveArgs) -> Result<Arc<ve_enclave::Enclave>> {
    let home = home(args)?;
    ve_enclave::Enclave::open(&home, &models(args)?)
        .with_context(|| format!("opening the enclave in {}", home.display()))
}

fn print_identity(id: &ve_enclave::EnclaveIdentity, output: OutputFormat) -> Result<()> {
    match output {
        OutputFormat::Json => println!("{}", serde_json::to_string(id)?),
        OutputFormat::Text => {
            println!(
                "platform:            {} (no hardware attestation)",
                id.platform
            );
            println!("x25519 public key:   {}", hex::encode(id.x25519_public_key));
            println!(
                "signing public key:  {}",
                hex::encode(id.signing_public_key)
            );
            println!("measurement:         {}", hex::encode(id.measurement));
            println!("model set:           {}", hex::encode(id.model_hash));
        }
    }
    Ok(())
}

pub async fn run(args: EnclaveArgs) -> Result<()> {
    match &args.cmd {
        EnclaveCmd::Init => {
            let home = home(&args)?;
            ve_enclave::sealing::Home(home.clone())
                .init()
                .with_context(|| format!("initialising {}", home.display()))?;
            print_identity(open(&args)?.identity(), args.output)
        }
        EnclaveCmd::Show => print_identity(open(&args)?.identity(), args.output),
        EnclaveCmd::Run { socket } => {
            let enclave = open(&args)?;
            let socket = socket
                .clone()
                .unwrap_or_else(|| home(&args).unwrap_or_default().join("enclave.sock"));
            eprintln!(
                "enclave service (SIMULATED platform) listening on {}; measurement {}",
                socket.display(),
                hex::encode(enclave.identity().measurement)
            );
            tokio::task::spawn_blocking(move || ve_enclave::api::serve(enclave, &socket))
                .await
                .context("enclave service thread")?
                .context("serving the enclave socket")
        }
    }
}
