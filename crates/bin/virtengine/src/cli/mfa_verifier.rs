//! `virtengine mfa-verifier init|show|run`: the off-chain MFA factor verifier service
//! (TOTP and email one-time codes → signed factor attestations for the mfa module).
//!
//! This is the **standalone stand-in for the enclave service of issue #5**: its Ed25519
//! attestation key and X25519 envelope key are plain files under `--home` (mode 0600),
//! not keys sealed inside a TEE. Everything else — what the chain registers, what
//! clients seal, what the chain checks — is what the enclave service will do.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use ve_mfa_verifier::email::{Mailer, SmtpConfig};
use ve_mfa_verifier::keys::{public_info_path, PublicKeyInfo};
use ve_mfa_verifier::service::system_clock;
use ve_mfa_verifier::store::Store;
use ve_mfa_verifier::{RpcChain, Verifier, VerifierKeys};

use crate::logging::{self, LogFormat};

/// Key id used when neither --key-id nor an existing verifier_key.json names one.
pub const DEFAULT_KEY_ID: &str = "verifier-0";

#[derive(Debug, Args)]
pub struct MfaVerifierArgs {
    #[command(subcommand)]
    pub cmd: MfaVerifierCmd,
}

#[derive(Debug, Subcommand)]
pub enum MfaVerifierCmd {
    /// Create the verifier's keys in --home (if absent) and print what the chain registers.
    #[command(after_help = "Example:\n  \
        virtengine mfa-verifier init --home ~/.virtengine-verifier --key-id verifier-0\n\n\
        Register the printed key on chain (genesis `mfa.verifier_keys`, or MsgAddVerifierKey by\n\
        governance / a genesis account / an administrator).")]
    Init {
        #[command(flatten)]
        home: HomeArgs,
    },
    /// Print the public keys of the verifier in --home.
    Show {
        #[command(flatten)]
        home: HomeArgs,
    },
    /// Serve the HTTP API until Ctrl-C / SIGTERM.
    #[command(after_help = "Example:\n  \
        virtengine mfa-verifier run --home ~/.virtengine-verifier --listen 127.0.0.1:26690 \\\n    \
        --node http://127.0.0.1:26657 --chain-id virtengine-localnet-1 --smtp smtp://127.0.0.1:25\n\n\
        API: GET /v1/info; POST /v1/totp/verify {challenge_id, code};\n\
        POST /v1/email/send {challenge_id}; POST /v1/email/verify {challenge_id, code}.\n\
        Challenges and sealed secrets are read from the chain at --node, never from the request.")]
    Run(RunArgs),
}

#[derive(Debug, Clone, Args)]
pub struct HomeArgs {
    /// Directory holding the key files and the state (replay protection, pending codes).
    #[arg(long)]
    pub home: PathBuf,
    /// Key id registered on chain [default: the one in <home>/verifier_key.json, else verifier-0].
    #[arg(long)]
    pub key_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub home: HomeArgs,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:26690")]
    pub listen: String,
    /// CometBFT RPC of a node of the chain (challenges and enrolments are read there).
    #[arg(
        long,
        env = "VIRTENGINE_NODE",
        default_value = "http://127.0.0.1:26657"
    )]
    pub node: String,
    /// Chain id bound into every attestation.
    #[arg(
        long,
        env = "VIRTENGINE_CHAIN_ID",
        default_value = "virtengine-localnet-1"
    )]
    pub chain_id: String,
    /// SMTP relay for email codes, `smtp://host:port` (plain SMTP to a trusted relay).
    /// Without it, email factors are refused with 503.
    #[arg(long)]
    pub smtp: Option<String>,
    /// Sender address of email codes.
    #[arg(long, default_value = "VirtEngine Verifier <verifier@localhost>")]
    pub smtp_from: String,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// The key id to use: --key-id, else the one recorded in <home>/verifier_key.json, else
/// [`DEFAULT_KEY_ID`].
fn key_id(h: &HomeArgs) -> String {
    if let Some(id) = &h.key_id {
        return id.clone();
    }
    std::fs::read_to_string(public_info_path(&h.home))
        .ok()
        .and_then(|t| serde_json::from_str::<PublicKeyInfo>(&t).ok())
        .map(|i| i.key_id)
        .unwrap_or_else(|| DEFAULT_KEY_ID.to_string())
}

/// Creates (or loads) the keys of a verifier home; used by `init` and by the localnet.
pub fn init_home(home: &Path, key_id: &str) -> Result<PublicKeyInfo> {
    let keys = VerifierKeys::load_or_create(home, key_id)
        .with_context(|| format!("verifier keys in {}", home.display()))?;
    Ok(keys.public_info())
}

pub async fn run(args: MfaVerifierArgs) -> Result<()> {
    match args.cmd {
        MfaVerifierCmd::Init { home } | MfaVerifierCmd::Show { home } => {
            let info = init_home(&home.home, &key_id(&home))?;
            println!("{}", serde_json::to_string_pretty(&info)?);
            Ok(())
        }
        MfaVerifierCmd::Run(r) => serve(r).await,
    }
}

async fn serve(r: RunArgs) -> Result<()> {
    logging::init(r.log_format, "info");
    let keys = VerifierKeys::load_or_create(&r.home.home, &key_id(&r.home))
        .with_context(|| format!("verifier keys in {}", r.home.home.display()))?;
    let info = keys.public_info();
    let store = Store::open(&r.home.home)?;
    let mailer = match &r.smtp {
        Some(url) => Some(Mailer::new(&SmtpConfig::from_url(url, &r.smtp_from)?)?),
        None => None,
    };
    let email = mailer.is_some();
    let chain = RpcChain::new(&r.node)?;
    let verifier = std::sync::Arc::new(Verifier::new(
        keys,
        r.chain_id.clone(),
        chain,
        store,
        mailer,
        system_clock(),
    ));
    let listener = tokio::net::TcpListener::bind(&r.listen)
        .await
        .with_context(|| format!("listening on {} (--listen)", r.listen))?;
    tracing::info!(
        listen = %r.listen,
        key_id = %info.key_id,
        public_key = %info.public_key,
        encryption_fingerprint = %info.encryption_fingerprint,
        node = %r.node,
        chain_id = %r.chain_id,
        email,
        "mfa verifier serving (standalone key files: stand-in for the enclave service)"
    );
    let shutdown = async {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("mfa verifier stopping");
    };
    ve_mfa_verifier::http::serve(
        listener,
        ve_mfa_verifier::http::router(verifier, email),
        shutdown,
    )
    .await?;
    Ok(())
}
