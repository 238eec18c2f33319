//! `virtengine tx cert generate|publish|revoke` and `virtengine query cert list`: the mTLS
//! certificate a tenant or provider publishes on chain. `generate` makes a P-256 key and a
//! self-signed certificate whose subject CN is your address, in `<home>/certs/<address>.*`
//! (the private key never leaves this machine); `publish` puts certificate and public key
//! on chain.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use serde_json::{json, Value};
use ve_client::QueryClient;
use ve_proto::virtengine::cert::v1::*;
use ve_types::Address;

use crate::cli::deployment::signer;
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::provider::first_response;
use crate::cli::query::query_error;
use crate::cli::tx::{broadcast, broadcast_for_result, TxCommon};
use crate::home;

#[derive(Debug, Subcommand)]
pub enum CertTx {
    /// Generate a key pair and a self-signed certificate for your address (offline).
    #[command(after_help = "Example:\n  virtengine tx cert generate --from alice --days 365")]
    Generate {
        #[arg(long)]
        from: String,
        /// Validity in days from now.
        #[arg(long, default_value_t = 365)]
        days: i64,
        /// Replace existing files.
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Publish the generated certificate and public key on chain.
    #[command(after_help = "Example:\n  virtengine tx cert publish --from alice --yes")]
    Publish {
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Revoke one of your certificates by serial.
    #[command(after_help = "Example:\n  virtengine tx cert revoke 1234567 --from alice --yes")]
    Revoke {
        serial: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
}

#[derive(Debug, Subcommand)]
pub enum CertQuery {
    /// Certificates, filtered by owner, serial (needs --owner) and state.
    #[command(after_help = "Example:\n  virtengine query cert list --owner alice --state valid")]
    List {
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        serial: Option<String>,
        /// valid | revoked
        #[arg(long)]
        state: Option<String>,
    },
}

fn cert_dir(common: &TxCommon) -> Result<PathBuf> {
    Ok(home::resolve(common.home.as_deref(), home::DEFAULT_LOCALNET_HOME)?.join("certs"))
}

fn paths(common: &TxCommon, address: &Address) -> Result<(PathBuf, PathBuf, PathBuf)> {
    let dir = cert_dir(common)?;
    Ok((
        dir.join(format!("{address}.crt")),
        dir.join(format!("{address}.pub")),
        dir.join(format!("{address}.key")),
    ))
}

#[allow(clippy::disallowed_methods)] // client side: the certificate's validity starts at the wall clock
fn unix_now() -> Result<i64> {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("clock before 1970")?;
    i64::try_from(d.as_secs()).context("clock out of range")
}

pub async fn run_tx(cmd: CertTx) -> Result<()> {
    match cmd {
        CertTx::Generate {
            from,
            days,
            overwrite,
            common,
        } => {
            if !(1..=1825).contains(&days) {
                bail!("--days must be 1..=1825 (the chain accepts at most about 5 years)");
            }
            let (_, _, address) = signer(&common, &from)?;
            let (crt, pubk, key) = paths(&common, &address)?;
            if crt.exists() && !overwrite {
                bail!(
                    "{} exists: pass --overwrite to replace it (revoke the old one on chain first)",
                    crt.display()
                );
            }
            let now = unix_now()?;
            let mut serial = [0u8; 16];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut serial);
            serial[0] &= 0x7f;
            serial[0] |= 0x01;
            let g = ve_cert::generate::generate(
                &address.to_string(),
                now - 3600,
                now + days * 86_400,
                &serial,
            )
            .map_err(|e| anyhow::anyhow!("generating the certificate: {e}"))?;
            let dir = cert_dir(&common)?;
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            std::fs::write(&crt, &g.cert_pem)?;
            std::fs::write(&pubk, &g.pubkey_pem)?;
            write_private(&key, g.private_key_pem.as_bytes())?;
            println!("certificate: {}", crt.display());
            println!("public key:  {}", pubk.display());
            println!(
                "private key: {} (keep it; it never goes on chain)",
                key.display()
            );
            println!("next: virtengine tx cert publish --from {from}");
            Ok(())
        }
        CertTx::Publish { from, common } => {
            let (kr, name, address) = signer(&common, &from)?;
            let (crt, pubk, _) = paths(&common, &address)?;
            let cert = std::fs::read(&crt).with_context(|| {
                format!("reading {} (run `tx cert generate` first)", crt.display())
            })?;
            let pubkey =
                std::fs::read(&pubk).with_context(|| format!("reading {}", pubk.display()))?;
            let m = MsgCreateCertificate {
                owner: address.to_string(),
                cert,
                pubkey,
            };
            let msg = ve_proto::to_any("/virtengine.cert.v1.MsgCreateCertificate", &m);
            let r = broadcast_for_result(
                &common,
                &kr,
                &name,
                vec![msg],
                &format!("publish the certificate of {address}"),
                true,
            )
            .await?;
            if let Some(resp) = first_response::<MsgCreateCertificateResponse>(&r) {
                println!("serial: {}", resp.serial);
            }
            Ok(())
        }
        CertTx::Revoke {
            serial,
            from,
            common,
        } => {
            let (kr, name, address) = signer(&common, &from)?;
            let m = MsgRevokeCertificate {
                owner: address.to_string(),
                serial: serial.clone(),
            };
            let msg = ve_proto::to_any("/virtengine.cert.v1.MsgRevokeCertificate", &m);
            broadcast(
                &common,
                &kr,
                &name,
                vec![msg],
                &format!("revoke certificate {serial} of {address}"),
            )
            .await
        }
    }
}

#[cfg(unix)]
pub(crate) fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn state(s: i32) -> &'static str {
    match CertificateState::try_from(s) {
        Ok(CertificateState::Valid) => "valid",
        Ok(CertificateState::Revoked) => "revoked",
        _ => "unspecified",
    }
}

fn cert_json(c: &Certificate) -> Value {
    json!({
        "owner": c.owner, "serial": c.serial, "state": state(c.state),
        "not_before": c.not_before, "not_after": c.not_after,
        "cert": String::from_utf8_lossy(&c.cert), "pubkey": String::from_utf8_lossy(&c.pubkey),
    })
}

pub async fn run_query(
    q: &QueryClient<'_>,
    url: &str,
    out: OutputFormat,
    address: impl Fn(&str) -> Result<Address>,
    cmd: &CertQuery,
) -> Result<()> {
    let CertQuery::List {
        owner,
        serial,
        state: st,
    } = cmd;
    let filter = CertificateFilter {
        owner: owner
            .as_deref()
            .map(&address)
            .transpose()?
            .map(|a| a.to_string())
            .unwrap_or_default(),
        serial: serial.clone().unwrap_or_default(),
        state: st.clone().unwrap_or_default(),
    };
    let path = "/virtengine.cert.v1.Query/Certificates";
    let certs = q
        .paged(path, |pagination| {
            let req = QueryCertificatesRequest {
                filter: Some(filter.clone()),
                pagination,
            };
            async move {
                let r: QueryCertificatesResponse = q.query(path, &req).await?;
                Ok((r.certificates, r.pagination))
            }
        })
        .await
        .map_err(|e| query_error(url, e))?;
    match out {
        OutputFormat::Json => {
            print_json(&json!({ "certificates": certs.iter().map(cert_json).collect::<Vec<_>>() }))
        }
        OutputFormat::Text => {
            if certs.is_empty() {
                println!("no certificates");
            }
            for c in &certs {
                println!(
                    "{} serial {}: {} (valid {} .. {})",
                    c.owner,
                    c.serial,
                    state(c.state),
                    c.not_before,
                    c.not_after
                );
            }
            Ok(())
        }
    }
}
