//! `virtengine tx encryption ...` and `virtengine query encryption ...`: the on-chain
//! recipient key registry.

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::{json, Value};
use ve_client::QueryClient;
use ve_encryption::proto::*;
use ve_types::Address;

use crate::cli::envelope::recipient;
use crate::cli::keys::open_keyring;
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::query::query_error;
use crate::cli::tx::{broadcast, TxCommon};
use crate::home;

/// Subcommand names mirror the message names (register-key, revoke-key, rotate-key).
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Subcommand)]
pub enum EncryptionTx {
    /// Publish an X25519 recipient key for an account.
    #[command(
        after_help = "Example:\n  virtengine envelope keygen --out alice.key\n  \
        virtengine tx encryption register-key alice alice.key --label laptop --yes"
    )]
    RegisterKey {
        /// Owner: a key name in the keyring, or its address.
        from: String,
        /// Public key (64 hex characters) or a recipient key file.
        public_key: String,
        #[arg(long, default_value = "")]
        label: String,
        /// Algorithm id; default X25519-XSALSA20-POLY1305.
        #[arg(long, default_value = "")]
        algorithm: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Revoke a recipient key now.
    #[command(
        after_help = "Example:\n  virtengine tx encryption revoke-key alice d19bf3f082782c87b783fe7134698aeff6e66d9f --yes"
    )]
    RevokeKey {
        from: String,
        /// Fingerprint of the key (40 hex characters).
        fingerprint: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Register a new key; the old one stays usable for the chain's overlap period.
    #[command(
        after_help = "Example:\n  virtengine tx encryption rotate-key alice d19bf3f0...6d9f new.key --yes"
    )]
    RotateKey {
        from: String,
        /// Fingerprint of the key being replaced.
        old_fingerprint: String,
        /// New public key (64 hex characters) or a recipient key file.
        new_public_key: String,
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        common: TxCommon,
    },
}

#[derive(Debug, Subcommand)]
pub enum EncryptionQuery {
    /// Every recipient key of an account.
    #[command(after_help = "Example:\n  virtengine query encryption keys alice")]
    Keys {
        /// Address (ve1...) or key name.
        address: String,
    },
    /// One key by fingerprint, and whether it is usable now.
    #[command(
        after_help = "Example:\n  virtengine query encryption key d19bf3f082782c87b783fe7134698aeff6e66d9f"
    )]
    Key { fingerprint: String },
}

/// The keyring key named `from`, or holding address `from`.
fn key_name(c: &TxCommon, from: &str) -> Result<(ve_client::Keyring, String, Address)> {
    let home = home::resolve(c.home.as_deref(), home::DEFAULT_LOCALNET_HOME)?;
    let kr = open_keyring(&home, &c.keyring)?;
    let info = match from.parse::<Address>() {
        Ok(addr) => kr
            .list()?
            .into_iter()
            .find(|k| k.address == addr)
            .with_context(|| format!("no key for {addr} in {}", kr.dir().display()))?,
        Err(_) => kr.show(from).with_context(|| format!("sender {from:?}"))?,
    };
    Ok((kr, info.name, info.address))
}

pub async fn run_tx(cmd: EncryptionTx) -> Result<()> {
    let (common, from, msg, summary) = match cmd {
        EncryptionTx::RegisterKey {
            from,
            public_key,
            label,
            algorithm,
            common,
        } => {
            let pk = recipient(&public_key)?;
            let summary = format!("register recipient key {} for {from}", pk.fingerprint());
            let msg = move |sender: String| {
                ve_proto::to_any(
                    "/virtengine.encryption.v1.MsgRegisterRecipientKey",
                    &MsgRegisterRecipientKey {
                        sender,
                        public_key: pk.as_bytes().to_vec(),
                        algorithm_id: algorithm.clone(),
                        label: label.clone(),
                    },
                )
            };
            (
                common,
                from,
                Box::new(msg) as Box<dyn Fn(String) -> ve_proto::Any>,
                summary,
            )
        }
        EncryptionTx::RevokeKey {
            from,
            fingerprint,
            common,
        } => {
            let summary = format!("revoke recipient key {fingerprint} of {from}");
            let msg = move |sender: String| {
                ve_proto::to_any(
                    "/virtengine.encryption.v1.MsgRevokeRecipientKey",
                    &MsgRevokeRecipientKey {
                        sender,
                        fingerprint: fingerprint.clone(),
                    },
                )
            };
            (
                common,
                from,
                Box::new(msg) as Box<dyn Fn(String) -> ve_proto::Any>,
                summary,
            )
        }
        EncryptionTx::RotateKey {
            from,
            old_fingerprint,
            new_public_key,
            label,
            common,
        } => {
            let pk = recipient(&new_public_key)?;
            let summary = format!(
                "rotate recipient key {old_fingerprint} of {from} to {}",
                pk.fingerprint()
            );
            let msg = move |sender: String| {
                ve_proto::to_any(
                    "/virtengine.encryption.v1.MsgRotateRecipientKey",
                    &MsgRotateRecipientKey {
                        sender,
                        old_fingerprint: old_fingerprint.clone(),
                        new_public_key: pk.as_bytes().to_vec(),
                        new_algorithm_id: String::new(),
                        new_label: label.clone(),
                    },
                )
            };
            (
                common,
                from,
                Box::new(msg) as Box<dyn Fn(String) -> ve_proto::Any>,
                summary,
            )
        }
    };
    let (kr, name, address) = key_name(&common, &from)?;
    broadcast(
        &common,
        &kr,
        &name,
        vec![msg(address.to_string())],
        &summary,
    )
    .await
}

fn status(s: i32) -> &'static str {
    match KeyStatus::try_from(s) {
        Ok(KeyStatus::Active) => "active",
        Ok(KeyStatus::Revoked) => "revoked",
        Ok(KeyStatus::Expired) => "expired",
        _ => "unspecified",
    }
}

fn record_json(r: &RecipientKeyRecord) -> Value {
    json!({
        "address": r.address,
        "public_key": hex::encode(&r.public_key),
        "fingerprint": r.fingerprint,
        "algorithm_id": r.algorithm_id,
        "key_version": r.key_version.to_string(),
        "label": r.label,
        "status": status(r.status),
        "registered_at": r.registered_at.to_string(),
        "revoked_at": r.revoked_at.to_string(),
        "expires_at": r.expires_at.to_string(),
        "rotated_to": r.rotated_to,
    })
}

fn print_record(r: &RecipientKeyRecord) {
    println!("fingerprint: {}", r.fingerprint);
    println!("  public key:  {}", hex::encode(&r.public_key));
    println!("  owner:       {}", r.address);
    println!("  version:     {}  label: {:?}", r.key_version, r.label);
    println!("  status:      {}", status(r.status));
    println!("  registered:  height {}", r.registered_at);
    if r.expires_at != 0 {
        println!("  expires at:  height {}", r.expires_at);
    }
    if r.revoked_at != 0 {
        println!("  revoked at:  height {}", r.revoked_at);
    }
    if !r.rotated_to.is_empty() {
        println!("  rotated to:  {}", r.rotated_to);
    }
}

pub async fn run_query(
    q: &QueryClient<'_>,
    url: &str,
    out: OutputFormat,
    address: impl Fn(&str) -> Result<Address>,
    cmd: &EncryptionQuery,
) -> Result<()> {
    match cmd {
        EncryptionQuery::Keys { address: a } => {
            let a = address(a)?;
            let path = "/virtengine.encryption.v1.Query/KeysByAccount";
            let keys = q
                .paged(path, |pagination| {
                    let req = QueryKeysByAccountRequest {
                        address: a.to_string(),
                        pagination,
                    };
                    async move {
                        let r: QueryKeysByAccountResponse = q.query(path, &req).await?;
                        Ok((r.keys, r.pagination))
                    }
                })
                .await
                .map_err(|e| query_error(url, e))?;
            match out {
                OutputFormat::Json => print_json(&json!({
                    "keys": keys.iter().map(record_json).collect::<Vec<_>>()
                })),
                OutputFormat::Text => {
                    if keys.is_empty() {
                        println!("no recipient keys for {a}");
                    }
                    keys.iter().for_each(print_record);
                    Ok(())
                }
            }
        }
        EncryptionQuery::Key { fingerprint } => {
            let r: QueryKeyByFingerprintResponse = q
                .query(
                    "/virtengine.encryption.v1.Query/KeyByFingerprint",
                    &QueryKeyByFingerprintRequest {
                        fingerprint: fingerprint.clone(),
                    },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            let key = r.key.context("node answered without a key record")?;
            match out {
                OutputFormat::Json => {
                    print_json(&json!({"key": record_json(&key), "usable": r.usable}))
                }
                OutputFormat::Text => {
                    print_record(&key);
                    println!("  usable now:  {}", r.usable);
                    Ok(())
                }
            }
        }
    }
}
