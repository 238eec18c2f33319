//! `virtengine dns-attestor ...`: the off-chain attestor of provider domain verification
//! (docs/provider.md, crate `ve-dns-attestor`). It resolves
//! `_virtengine-verification.<domain>` at the nameserver it is given and signs only if the
//! chain's challenge token is published there.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use ve_dns_attestor::{load_key, service, Attestor, Challenge, Resolver};

use crate::cli::output::{print_json, OutputFormat};

#[derive(Debug, Args)]
pub struct DnsAttestorArgs {
    #[command(subcommand)]
    cmd: DnsAttestorCmd,
}

/// What every attestor command needs: its key, its chain, its nameserver.
#[derive(Debug, Args)]
struct AttestorConfig {
    /// File holding the attestor's 32-byte Ed25519 secret key as hex (see `keygen`).
    #[arg(long)]
    key_file: PathBuf,
    /// Chain the attestations are for.
    #[arg(
        long,
        env = "VIRTENGINE_CHAIN_ID",
        default_value = "virtengine-localnet-1"
    )]
    chain_id: String,
    /// Nameserver to ask (ip:port): a resolver the attestor operator trusts, or the zone's
    /// authoritative server.
    #[arg(long, default_value = "127.0.0.1:53")]
    nameserver: SocketAddr,
}

impl AttestorConfig {
    fn attestor(&self) -> Result<Attestor> {
        let key = load_key(&self.key_file)?;
        let resolver = Resolver::new(self.nameserver)?;
        Ok(Attestor::new(key, &self.chain_id, resolver))
    }
}

#[derive(Debug, Subcommand)]
enum DnsAttestorCmd {
    /// Create an attestor key file (mode 0600) and print the public key to register on
    /// chain (`tx provider attestor add`, by an administrator or governance).
    #[command(after_help = "Example:\n  virtengine dns-attestor keygen --key-file attestor.key")]
    Keygen {
        #[arg(long)]
        key_file: PathBuf,
    },
    /// Look up one provider's challenge now and print the signed attestation (or why not).
    #[command(
        after_help = "Example:\n  virtengine dns-attestor attest --key-file attestor.key --nameserver 192.0.2.53:53 \\\n    --owner ve1...prov --domain provider.example.com --token <hex> --output json"
    )]
    Attest {
        #[command(flatten)]
        config: AttestorConfig,
        /// Provider address.
        #[arg(long)]
        owner: String,
        #[arg(long)]
        domain: String,
        /// The token of `query provider verification <owner>`.
        #[arg(long)]
        token: String,
        #[arg(long, value_enum, default_value = "text")]
        output: OutputFormat,
    },
    /// Serve attestations over HTTP: POST /v1/attest {owner, domain, token}; GET /v1/info.
    /// Providers use it with `tx provider verify-domain confirm --attestor-url`.
    #[command(
        after_help = "Example:\n  virtengine dns-attestor run --key-file attestor.key --nameserver 192.0.2.53:53 --listen 127.0.0.1:8790"
    )]
    Run {
        #[command(flatten)]
        config: AttestorConfig,
        #[arg(long, default_value = "127.0.0.1:8790")]
        listen: SocketAddr,
    },
}

pub async fn run(args: DnsAttestorArgs) -> Result<()> {
    match args.cmd {
        DnsAttestorCmd::Keygen { key_file } => keygen(&key_file),
        DnsAttestorCmd::Attest {
            config,
            owner,
            domain,
            token,
            output,
        } => {
            let a = config.attestor()?;
            let c = Challenge {
                owner,
                domain,
                token,
            };
            let att = a
                .attest(&c, service::unix_now())
                .await
                .context("not attested")?;
            match output {
                OutputFormat::Json => print_json(&att),
                OutputFormat::Text => {
                    println!("attestor:    {}", att.attestor_public_key);
                    println!("observed_at: {}", att.observed_at);
                    println!("signature:   {}", att.signature);
                    println!(
                        "submit: virtengine tx provider verify-domain confirm --attestor {} --observed-at {} --signature {} --from <provider>",
                        att.attestor_public_key, att.observed_at, att.signature
                    );
                    Ok(())
                }
            }
        }
        DnsAttestorCmd::Run { config, listen } => {
            let a = Arc::new(config.attestor()?);
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("binding {listen}: is another attestor running?"))?;
            eprintln!(
                "dns-attestor {} for chain {} asking {} listening on http://{listen}",
                a.public_key_hex(),
                a.chain_id(),
                config.nameserver
            );
            service::serve(listener, a)
                .await
                .context("attestor service stopped")
        }
    }
}

fn keygen(path: &Path) -> Result<()> {
    if path.exists() {
        anyhow::bail!(
            "{} exists: refusing to overwrite an attestor key",
            path.display()
        );
    }
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, seed.as_mut()); // allowed: client key generation
    crate::cli::cert::write_private(path, hex::encode(seed.as_ref()).as_bytes())?;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    println!("{}", hex::encode(key.verifying_key().to_bytes()));
    Ok(())
}
