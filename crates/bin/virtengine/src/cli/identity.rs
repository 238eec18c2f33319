//! `virtengine tx identity ...` and `virtengine query identity ...`: VEID from the
//! command line. `upload` is a capture client (ve_client::capture): it checks the photos,
//! seals them to the chain's identity recipient set, signs them as an approved capture
//! client and as the account, and sends MsgUploadScope; `request-verification` queues the
//! pending scopes for the scoring consensus. docs/veid.md explains every rule and code.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use ve_client::capture::{
    self, check_image, fetch_context, CaptureContext, CaptureError, CaptureMeta, CheckedImage,
    ClientKey, PreparedUpload, ScopeCapture,
};
use ve_client::{QueryClient, RpcClient, RpcError, TxBuilder};
use ve_crypto::envelope::SenderSigningKey;
use ve_crypto::PrivateKey;
use ve_proto::virtengine::identity::v1 as id;
use ve_types::Address;

use crate::cli::keys::{open_keyring, unlock_passphrase};
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::prompt;
use crate::cli::query::{account, connect, query_error, rpc_error, TxOutput};
use crate::cli::tx::{fee_for, parse_decimal, TxCommon};
use crate::home;
use crate::localnet::{CAPTURE_CLIENT_ID, CAPTURE_CLIENT_KEY_FILE};

/// `--gas` default of every tx command; uploads simulate instead (envelopes are large).
const TX_DEFAULT_GAS: &str = "200000";
/// Gas of the fee used while simulating.
const SIMULATION_GAS: u64 = 200_000;
const PROGRESS_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Debug, Subcommand)]
pub enum IdentityTx {
    /// Upload an ID-document photo and/or a selfie as encrypted identity scopes.
    #[command(after_help = "Examples:\n  \
        virtengine tx identity upload --document id.jpg --selfie me.jpg --from alice --yes\n  \
        virtengine tx identity upload --document id.jpg --selfie me.jpg --from alice --request-verification -y -o json\n  \
        virtengine tx identity upload --selfie me.png --client-key app.key --client-id my-app --from alice -y\n\n\
        What happens: each file is checked to be a real JPEG or PNG (at most 1 MiB; EXIF/GPS,\n\
        XMP, comments and text chunks are removed), sealed to the chain's identity recipient set\n\
        (read from the chain), given a fresh random salt, signed by the approved capture client\n\
        key and by your account key, and sent as one transaction with one MsgUploadScope per\n\
        file. The scopes are then PENDING; run `virtengine tx identity request-verification`\n\
        (or pass --request-verification) to queue them for scoring.\n\n\
        Capture client key: --client-key FILE (JSON written by `virtengine localnet`, or 64 hex\n\
        characters with --client-id); by default <home>/capture-client.key, which\n\
        `virtengine localnet start` writes for its approved test client.\n\n\
        A selfie is biometric data: verification uses it only with your consent; pass\n\
        --consent (or run `virtengine tx identity grant-consent SCOPE_ID` later).\n\n\
        Gas: simulated (x --gas-adjustment) unless you pass --gas N (also for the other\n\
        identity transactions).")]
    Upload(Box<UploadCmd>),
    /// Consent to verification using one of your biometric scopes (e.g. a selfie).
    #[command(
        after_help = "Example:\n  virtengine tx identity grant-consent selfie-3f9c0a1b2c3d4e5f --from alice --yes\n\n\
        Consent lives in your identity wallet; if you have none, this creates it first (its\n\
        Ed25519 binding key is written to <home>/identity-wallet-<address>.key)."
    )]
    GrantConsent {
        scope_id: String,
        /// The account: a key name in the keyring, or its address.
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Queue your pending scopes for verification (one request covering all of them).
    #[command(after_help = "Examples:\n  \
        virtengine tx identity request-verification --from alice --yes\n  \
        virtengine tx identity request-verification --scope-id id_document-3f9c0a1b2c3d4e5f --from alice -y\n\n\
        Each scope moves PENDING -> IN_PROGRESS and the request waits in the queue\n\
        (`virtengine query identity pending alice`) for the scoring consensus.\n\
        Fails with identity code 22 when there is nothing pending: upload first.")]
    RequestVerification {
        /// Only these scopes (repeat); default: every PENDING scope of the account.
        #[arg(long = "scope-id", value_name = "ID")]
        scope_ids: Vec<String>,
        /// The account: a key name in the keyring, or its address.
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
}

/// The flags of `tx identity upload` (boxed in [`IdentityTx`] to keep the enum small).
#[derive(Debug, Args)]
pub struct UploadCmd {
    /// Photo of the identity document (JPEG or PNG): scope type id_document.
    #[arg(long, value_name = "FILE", required_unless_present = "selfie")]
    document: Option<PathBuf>,
    /// Selfie (JPEG or PNG): scope type selfie.
    #[arg(long, value_name = "FILE")]
    selfie: Option<PathBuf>,
    /// Approved capture client key file [default: <home>/capture-client.key].
    #[arg(long, value_name = "FILE")]
    client_key: Option<PathBuf>,
    /// Client id the key is registered under in the config registry (needed when the
    /// key file holds only a key; overrides the id in a JSON key file).
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// Type of a bare hex client key: ed25519 or secp256k1.
    #[arg(long, value_parser = ["ed25519", "secp256k1"])]
    client_key_type: Option<String>,
    /// Client version the upload claims (must be within the client's approved range).
    #[arg(long, default_value = capture::DEFAULT_CLIENT_VERSION)]
    client_version: String,
    /// Device fingerprint [default: derived from /etc/machine-id or the host name].
    #[arg(long)]
    device_fingerprint: Option<String>,
    /// Coarse location hint, e.g. a country code (optional, at most 128 bytes).
    #[arg(long, default_value = "")]
    geo_hint: String,
    /// Also request verification of the new scopes, in the same transaction.
    #[arg(long)]
    request_verification: bool,
    /// Consent to verification using the selfie (biometric data; without consent the
    /// chain leaves it out of verification). Creates your identity wallet first if
    /// you have none; its Ed25519 binding key goes to <home>/identity-wallet-<address>.key.
    #[arg(long)]
    consent: bool,
    /// Testing only: use this salt (hex) instead of a fresh random one, to see the
    /// chain refuse a replayed salt (identity code 7).
    #[arg(long, hide = true, value_name = "HEX")]
    salt: Option<String>,
    /// The uploading account: a key name in the keyring, or its address.
    #[arg(long)]
    from: String,
    #[command(flatten)]
    common: TxCommon,
}

#[derive(Debug, Subcommand)]
pub enum IdentityQuery {
    /// An account's identity record (created by its first upload).
    #[command(after_help = "Example:\n  virtengine query identity record alice")]
    Record {
        /// Address (ve1...) or key name.
        address: String,
    },
    /// Every scope of an account (revoked included), with status.
    #[command(after_help = "Example:\n  virtengine query identity scopes alice --output json")]
    Scopes {
        /// Address (ve1...) or key name.
        address: String,
    },
    /// One scope; --envelope-out writes its encrypted payload (an envelope) to a file.
    #[command(after_help = "Example:\n  \
        virtengine query identity scope alice id_document-3f9c0a1b2c3d4e5f --envelope-out doc.env\n  \
        virtengine envelope open --key <an identity recipient's X25519 key file> doc.env --out doc.jpg\n\n\
        On a localnet the recipients are the validators' enclaves: their keys are sealed\n\
        (node<i>/enclave), only the enclave service opens the scopes.")]
    Scope {
        /// Address (ve1...) or key name.
        address: String,
        scope_id: String,
        /// Write the envelope bytes here.
        #[arg(long, value_name = "FILE")]
        envelope_out: Option<PathBuf>,
    },
    /// Score, effective status and tier of an account.
    #[command(after_help = "Example:\n  virtengine query identity score alice")]
    Score {
        /// Address (ve1...) or key name.
        address: String,
    },
    /// Queued verification requests, oldest first (only ADDRESS's when given).
    #[command(
        after_help = "Examples:\n  virtengine query identity pending\n  virtengine query identity pending alice --output json"
    )]
    Pending {
        /// Address (ve1...) or key name.
        address: Option<String>,
    },
    /// One verification request by id.
    Request { request_id: String },
    /// The identity module's parameters (limits, recipient set).
    Params,
}

// ---------------------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------------------

pub async fn run_tx(cmd: IdentityTx) -> Result<()> {
    match cmd {
        IdentityTx::Upload(u) => {
            let UploadCmd {
                document,
                selfie,
                client_key,
                client_id,
                client_key_type,
                client_version,
                device_fingerprint,
                geo_hint,
                request_verification,
                consent,
                salt,
                from,
                mut common,
            } = *u;
            let salt = salt
                .map(|s| hex::decode(s.trim()).context("--salt must be hex"))
                .transpose()?;
            let files: Vec<(id::ScopeType, PathBuf)> = [
                (id::ScopeType::IdDocument, document),
                (id::ScopeType::Selfie, selfie),
            ]
            .into_iter()
            .filter_map(|(t, f)| f.map(|f| (t, f)))
            .collect();
            if files.is_empty() {
                bail!("nothing to upload: pass --document FILE and/or --selfie FILE");
            }
            default_gas_auto(&mut common);
            upload(UploadArgs {
                files,
                client_key,
                client_id,
                client_key_type,
                client_version,
                device_fingerprint,
                geo_hint,
                request_verification,
                consent,
                salt,
                from,
                common,
            })
            .await
        }
        IdentityTx::GrantConsent {
            scope_id,
            from,
            mut common,
        } => {
            default_gas_auto(&mut common);
            let home = home::resolve(common.home.as_deref(), home::DEFAULT_LOCALNET_HOME)?;
            let kr = open_keyring(&home, &common.keyring)?;
            let (name, address) = key_of(&kr, &from)?;
            let node = connect(&common.node.node)?;
            let acct = account(&node, &address).await?.with_context(|| {
                format!(
                    "account {address} does not exist on chain yet: it must receive funds first"
                )
            })?;
            confirm(
                &common,
                &format!("grant consent to verify scope {scope_id} of {name} ({address})"),
            )?;
            let pass = unlock_passphrase(&kr)?;
            let key = kr.signer(&name, &pass)?;
            let mut msgs = wallet_msgs(&node, &home, &common.chain.chain_id, &address).await?;
            msgs.push(capture::consent::grant_consent_any(&address, &scope_id));
            let r = send(
                &common,
                &node,
                &key,
                acct.account_number,
                acct.sequence,
                msgs,
            )
            .await?;
            if common.output == OutputFormat::Text {
                print_tx(&r);
            } else {
                print_json(&r)?;
            }
            fail_on_code(&r)
        }
        IdentityTx::RequestVerification {
            scope_ids,
            from,
            mut common,
        } => {
            default_gas_auto(&mut common);
            let home = home::resolve(common.home.as_deref(), home::DEFAULT_LOCALNET_HOME)?;
            let kr = open_keyring(&home, &common.keyring)?;
            let (name, address) = key_of(&kr, &from)?;
            let node = connect(&common.node.node)?;
            let acct = account(&node, &address).await?.with_context(|| {
                format!(
                    "account {address} does not exist on chain yet: it must receive funds first"
                )
            })?;
            let what = if scope_ids.is_empty() {
                "every pending scope".to_string()
            } else {
                scope_ids.join(", ")
            };
            confirm(
                &common,
                &format!("request verification of {what} of {name} ({address})"),
            )?;
            let pass = unlock_passphrase(&kr)?;
            let key = kr.signer(&name, &pass)?;
            let msg = capture::request_verification_any(&address, &scope_ids);
            let r = send(
                &common,
                &node,
                &key,
                acct.account_number,
                acct.sequence,
                vec![msg],
            )
            .await?;
            let request = event_attr(
                &r.events,
                "virtengine.identity.v1.EventVerificationRequested",
                "request_id",
            );
            let text = common.output == OutputFormat::Text;
            let v = json!({
                "txhash": r.txhash, "height": r.height, "code": r.code, "codespace": r.codespace,
                "raw_log": r.raw_log, "gas_wanted": r.gas_wanted, "gas_used": r.gas_used,
                "request_id": request,
                "events": r.events,
            });
            if text {
                print_tx(&r);
                if let Some(id) = &request {
                    println!(
                        "request:  {id} (queued; `virtengine query identity pending {address}`)"
                    );
                }
            } else {
                print_json(&v)?;
            }
            fail_on_code(&r)
        }
    }
}

/// Identity txs simulate their gas unless --gas N was given (uploads carry envelopes,
/// requests touch every scope): the tx default of 200000 is replaced by `auto`.
fn default_gas_auto(c: &mut TxCommon) {
    if c.gas == TX_DEFAULT_GAS {
        c.gas = "auto".into();
    }
}

struct UploadArgs {
    files: Vec<(id::ScopeType, PathBuf)>,
    client_key: Option<PathBuf>,
    client_id: Option<String>,
    client_key_type: Option<String>,
    client_version: String,
    device_fingerprint: Option<String>,
    geo_hint: String,
    request_verification: bool,
    consent: bool,
    salt: Option<Vec<u8>>,
    from: String,
    common: TxCommon,
}

async fn upload(a: UploadArgs) -> Result<()> {
    let c = &a.common;
    let text = c.output == OutputFormat::Text;
    let progress = |s: String| {
        if text {
            eprintln!("{s}");
        }
    };
    let home = home::resolve(c.home.as_deref(), home::DEFAULT_LOCALNET_HOME)?;

    // 1. The photos, before anything touches the network.
    let mut images: Vec<(id::ScopeType, PathBuf, CheckedImage)> = Vec::new();
    for (t, path) in &a.files {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read {}: check the path", path.display()))?;
        let img = check_image(&path.display().to_string(), &bytes)?;
        progress(format!(
            "[1/4] {}: {} {}x{}, {} bytes{}",
            path.display(),
            img.info.kind.media_type(),
            img.info.width,
            img.info.height,
            bytes.len(),
            if img.stripped > 0 {
                format!(" ({} bytes of metadata removed)", img.stripped)
            } else {
                String::new()
            }
        ));
        images.push((*t, path.clone(), img));
    }

    // 2. Who signs: the capture client and the account.
    let client = load_client_key(&home, &a)?;
    progress(format!(
        "[2/4] capture client {} ({} key {})",
        client.client_id,
        client.key_type(),
        client.public_key_hex()
    ));
    let kr = open_keyring(&home, &c.keyring)?;
    let (name, address) = key_of(&kr, &a.from)?;
    let node = connect(&c.node.node)?;
    let url = node.url().to_string();
    let acct = account(&node, &address).await?.with_context(|| {
        format!("account {address} does not exist on chain {} yet: send it some tokens first (e.g. `virtengine tx bank send alice {address} 1000000uve -y`)", c.chain.chain_id)
    })?;

    // 3. What the chain wants: recipient set and limits.
    let ctx = fetch_context(&QueryClient::new(&node), &c.chain.chain_id)
        .await
        .map_err(|e| capture_error(&url, e))?;
    progress(format!(
        "[3/4] identity recipient set on {}: {} key(s) {}",
        ctx.chain_id,
        ctx.recipients.keys.len(),
        ctx.recipients.fingerprints().join(", ")
    ));
    let want = u32::try_from(images.len()).unwrap_or(u32::MAX);
    if want > ctx.limits.max_uploads_per_account_per_block {
        bail!(
            "the chain accepts at most {} uploads per account per block: upload fewer files at once",
            ctx.limits.max_uploads_per_account_per_block
        );
    }
    let summary = images
        .iter()
        .map(|(t, p, _)| format!("{} ({})", p.display(), capture::upload::scope_type_name(*t)))
        .collect::<Vec<_>>()
        .join(" and ");
    confirm(
        c,
        &format!("upload {summary} as identity scopes of {name} ({address})"),
    )?;
    let pass = unlock_passphrase(&kr)?;
    let key = kr.signer(&name, &pass)?;

    // 4. Seal, sign, send.
    let meta = CaptureMeta {
        geo_hint: a.geo_hint.clone(),
        ..CaptureMeta::now(
            a.device_fingerprint
                .clone()
                .unwrap_or_else(default_device_fingerprint),
            a.client_version.clone(),
        )
    };
    let prepared = prepare_all(&ctx, &key, &client, &meta, &images, a.salt.as_deref())?;
    for (p, (_, path, _)) in prepared.iter().zip(&images) {
        progress(format!(
            "[4/4] {} -> scope {}: sealed to {} recipient(s), {} bytes, payload hash {}",
            path.display(),
            p.msg.scope_id,
            ctx.recipients.keys.len(),
            p.msg.encrypted_payload.len(),
            hex::encode(&p.msg.payload_hash)
        ));
    }
    let mut msgs: Vec<ve_proto::Any> = prepared.iter().map(PreparedUpload::to_any).collect();
    let scope_ids: Vec<String> = prepared.iter().map(|p| p.msg.scope_id.clone()).collect();
    let biometric: Vec<&str> = prepared
        .iter()
        .zip(&images)
        .filter(|(_, (t, _, _))| capture::consent::needs_consent(*t))
        .map(|(p, _)| p.msg.scope_id.as_str())
        .collect();
    if a.consent && !biometric.is_empty() {
        msgs.extend(wallet_msgs(&node, &home, &c.chain.chain_id, &address).await?);
        for id in &biometric {
            msgs.push(capture::consent::grant_consent_any(&address, id));
        }
    } else if !biometric.is_empty() {
        progress(format!(
            "note: {} is biometric: verification leaves it out until you consent \
             (`virtengine tx identity grant-consent {} --from {name}`)",
            biometric.join(", "),
            biometric.join(" ")
        ));
    }
    if a.request_verification {
        msgs.push(capture::request_verification_any(&address, &scope_ids));
    }
    let r = send(c, &node, &key, acct.account_number, acct.sequence, msgs).await?;
    let scopes: Vec<Value> = prepared
        .iter()
        .zip(&images)
        .map(|(p, (t, path, img))| {
            json!({
                "scope_id": p.msg.scope_id,
                "scope_type": capture::upload::scope_type_name(*t),
                "file": path.display().to_string(),
                "media_type": img.info.kind.media_type(),
                "width": img.info.width,
                "height": img.info.height,
                "envelope_bytes": p.msg.encrypted_payload.len(),
                "payload_hash": hex::encode(&p.msg.payload_hash),
                "salt": hex::encode(&p.msg.salt),
            })
        })
        .collect();
    let request = event_attr(
        &r.events,
        "virtengine.identity.v1.EventVerificationRequested",
        "request_id",
    );
    if text {
        print_tx(&r);
        if r.code == 0 {
            for s in &scopes {
                println!(
                    "scope:    {} ({}) PENDING",
                    s["scope_id"].as_str().unwrap_or_default(),
                    s["scope_type"].as_str().unwrap_or_default()
                );
            }
            match &request {
                Some(id) => println!("request:  {id} (queued for verification)"),
                None => {
                    println!("next:     virtengine tx identity request-verification --from {name}")
                }
            }
        }
    } else {
        print_json(&json!({
            "txhash": r.txhash, "height": r.height, "code": r.code, "codespace": r.codespace,
            "raw_log": r.raw_log, "gas_wanted": r.gas_wanted, "gas_used": r.gas_used,
            "account": address.to_string(),
            "client_id": client.client_id,
            "scopes": scopes,
            "request_id": request,
            "events": r.events,
        }))?;
    }
    fail_on_code(&r)
}

fn prepare_all(
    ctx: &CaptureContext,
    key: &PrivateKey,
    client: &ClientKey,
    meta: &CaptureMeta,
    images: &[(id::ScopeType, PathBuf, CheckedImage)],
    salt: Option<&[u8]>,
) -> Result<Vec<PreparedUpload>> {
    let mut rng = rand_core::OsRng; // allowed: clients draw salts and envelope keys from the OS
    images
        .iter()
        .map(|(t, path, img)| {
            let scope = ScopeCapture::new(*t, img.clone(), &mut rng);
            capture::prepare_upload_with_salt(ctx, key, client, meta, &scope, salt, &mut rng)
                .with_context(|| format!("preparing {}", path.display()))
        })
        .collect()
}

/// `[MsgCreateIdentityWallet]` when `address` has no identity wallet yet (binding key
/// from `<home>/identity-wallet-<address>.key`, created with mode 0600 if missing), else
/// nothing.
async fn wallet_msgs(
    node: &RpcClient,
    home: &Path,
    chain_id: &str,
    address: &Address,
) -> Result<Vec<ve_proto::Any>> {
    let r: id::QueryWalletResponse = QueryClient::new(node)
        .query(
            capture::consent::PATH_WALLET,
            &id::QueryWalletRequest {
                account: address.to_string(),
            },
        )
        .await
        .map_err(|e| query_error(node.url(), e))?;
    if r.found {
        return Ok(Vec::new());
    }
    let path = home.join(format!("identity-wallet-{address}.key"));
    let key = if path.exists() {
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?,
        );
        let bytes = zeroize::Zeroizing::new(
            hex::decode(text.trim())
                .ok()
                .filter(|b| b.len() == 32)
                .with_context(|| {
                    format!(
                        "{}: an identity wallet key file holds 64 hex characters",
                        path.display()
                    )
                })?,
        );
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&bytes);
        SenderSigningKey::from_bytes(&seed)
    } else {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, seed.as_mut()); // allowed: client key generation
        write_new_secret(&path, &format!("{}\n", hex::encode(*seed)))?;
        eprintln!(
            "created identity wallet binding key {} (Ed25519; keep it: it controls your identity wallet)",
            path.display()
        );
        SenderSigningKey::from_bytes(&seed)
    };
    Ok(vec![capture::consent::create_wallet_any(
        chain_id, address, &key,
    )])
}

/// Creates `path` with mode 0600 (never overwrites) and writes `text`.
fn write_new_secret(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let text = zeroize::Zeroizing::new(text.to_string());
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .with_context(|| format!("writing {}", path.display()))
}

/// --client-key (with --client-id/--client-key-type), else the localnet home's key.
fn load_client_key(home: &Path, a: &UploadArgs) -> Result<ClientKey> {
    let path = match &a.client_key {
        Some(p) => p.clone(),
        None => {
            let p = home.join(CAPTURE_CLIENT_KEY_FILE);
            if !p.exists() {
                bail!(
                    "no approved capture client key: pass --client-key FILE (and --client-id ID \
                     if the file holds only a key), or run inside a localnet home \
                     (`virtengine localnet start` writes {}; looked in {})",
                    CAPTURE_CLIENT_KEY_FILE,
                    p.display()
                );
            }
            p
        }
    };
    Ok(ClientKey::load(
        &path,
        a.client_id.as_deref(),
        a.client_key_type.as_deref(),
    )?)
}

/// `virtengine-cli:` + 16 hex characters of SHA-256(machine id or host name).
fn default_device_fingerprint() -> String {
    let source = std::fs::read_to_string("/etc/machine-id")
        .or_else(|_| std::fs::read_to_string("/proc/sys/kernel/hostname"))
        .unwrap_or_else(|_| CAPTURE_CLIENT_ID.to_string());
    let h = Sha256::digest(source.trim().as_bytes());
    format!("virtengine-cli:{}", hex::encode(&h[..8]))
}

fn capture_error(url: &str, e: CaptureError) -> anyhow::Error {
    match e {
        CaptureError::Query(q) => query_error(url, q),
        e => anyhow::anyhow!(e),
    }
}

/// The keyring key named `from`, or holding address `from`.
fn key_of(kr: &ve_client::Keyring, from: &str) -> Result<(String, Address)> {
    let info = match from.parse::<Address>() {
        Ok(addr) => kr
            .list()?
            .into_iter()
            .find(|k| k.address == addr)
            .with_context(|| {
                format!(
                    "no key for {addr} in {}: --from must be a key you hold",
                    kr.dir().display()
                )
            })?,
        Err(_) => kr.show(from).with_context(|| {
            format!(
                "no key {from:?} in {}: create it with `virtengine keys add {from}` or pass --home",
                kr.dir().display()
            )
        })?,
    };
    Ok((info.name, info.address))
}

fn confirm(c: &TxCommon, what: &str) -> Result<()> {
    if !c.yes
        && !prompt::confirm(&format!(
            "{what} on {}; sign and broadcast?",
            c.chain.chain_id
        ))?
    {
        bail!("cancelled");
    }
    Ok(())
}

/// Signs, broadcasts and waits for the block; a CheckTx refusal comes back as a result
/// with height 0 and the node's code.
async fn send(
    c: &TxCommon,
    node: &RpcClient,
    key: &PrivateKey,
    account_number: u64,
    sequence: u64,
    msgs: Vec<ve_proto::Any>,
) -> Result<TxOutput> {
    let url = node.url().to_string();
    // `--mfa-session` rides along as the MfaProof extension option, as on every other tx.
    let extensions = c.extension_options();
    let sign = |tx: &TxBuilder| {
        tx.sign_direct_with_extensions(
            key,
            &c.chain.chain_id,
            account_number,
            sequence,
            &extensions,
        )
    };
    let mut tx = TxBuilder {
        msgs,
        memo: c.memo.clone(),
        fee: fee_for(c, SIMULATION_GAS)?,
        gas_limit: SIMULATION_GAS,
        timeout_height: 0,
    };
    let text = c.output == OutputFormat::Text;
    tx.gas_limit = if c.gas == "auto" {
        let sim = TxBuilder {
            gas_limit: 0,
            ..tx.clone()
        };
        let used = QueryClient::new(node)
            .simulate(&sign(&sim).bytes)
            .await
            .map_err(|e| query_error(&url, e))
            .context("simulating the transaction (pass --gas N to skip)")?
            .gas_used;
        let (num, den) = parse_decimal(&c.gas_adjustment).context("--gas-adjustment")?;
        u64::try_from(u128::from(used).saturating_mul(num).div_ceil(den)).unwrap_or(u64::MAX)
    } else {
        c.gas
            .parse()
            .with_context(|| format!("--gas {:?}: use a number or `auto`", c.gas))?
    };
    tx.fee = fee_for(c, tx.gas_limit)?;
    let signed = sign(&tx);
    let check = node
        .broadcast_tx_sync(&signed.bytes)
        .await
        .map_err(|e| rpc_error(&url, e))?;
    let hash = if check.hash.is_empty() {
        signed.hash
    } else {
        check.hash
    };
    if check.code != 0 {
        return Ok(TxOutput {
            txhash: hash,
            height: 0,
            code: check.code,
            codespace: check.codespace,
            raw_log: check.log,
            gas_wanted: tx.gas_limit,
            gas_used: 0,
            events: Value::Array(Vec::new()),
        });
    }
    if text {
        eprintln!(
            "broadcast tx {hash} (gas {}); waiting for a block...",
            tx.gas_limit
        );
    }
    let timeout = Duration::from_secs(c.timeout);
    let wait = node.wait_for_tx(&hash, timeout);
    tokio::pin!(wait);
    let mut tick = tokio::time::interval(PROGRESS_INTERVAL);
    tick.tick().await;
    let mut waited = 0;
    let res = loop {
        tokio::select! {
            r = &mut wait => break r,
            _ = tick.tick() => {
                waited += PROGRESS_INTERVAL.as_secs();
                if text {
                    eprintln!("  still waiting ({waited} s)");
                }
            }
        }
    };
    let res = res.map_err(|e| match e {
        RpcError::TxTimeout { .. } => anyhow::anyhow!(
            "tx {hash} was accepted into the mempool but not included within {} s; \
             check later with `virtengine query tx {hash}`",
            timeout.as_secs()
        ),
        e => rpc_error(&url, e),
    })?;
    Ok(TxOutput::included(res))
}

fn print_tx(r: &TxOutput) {
    println!("txhash:   {}", r.txhash);
    println!("code:     {}", r.code);
    if r.code != 0 {
        println!("codespace: {}", r.codespace);
    }
    println!("height:   {}", r.height);
    println!("gas used: {} / {}", r.gas_used, r.gas_wanted);
    if r.code != 0 {
        println!("raw log:  {}", r.raw_log);
    }
}

fn fail_on_code(r: &TxOutput) -> Result<()> {
    if r.code == 0 {
        return Ok(());
    }
    let stage = if r.height == 0 {
        "was rejected by the node (CheckTx)"
    } else {
        "failed in the block"
    };
    bail!(
        "transaction {} {stage}: codespace {} code {}: {}{}",
        r.txhash,
        r.codespace,
        r.code,
        r.raw_log,
        hint(&r.codespace, r.code)
    )
}

/// What to do about the identity and config codes a user can hit from this CLI.
fn hint(codespace: &str, code: u32) -> &'static str {
    match (codespace, code) {
        ("identity", 7) => {
            " (this salt was used before: every upload needs a fresh salt; do not reuse --salt)"
        }
        ("identity", 16 | 17) => " (revoke old scopes before uploading more)",
        ("identity", 18) => " (too many uploads in this block: retry in the next block)",
        ("identity", 22) => " (upload scopes first with `virtengine tx identity upload`)",
        ("config", 5) => " (the capture client id is not registered: check --client-id)",
        ("config", 12) => " (the capture client is suspended or revoked)",
        ("config", 13) => " (pass a --client-version within the client's approved range)",
        ("config", 15) => {
            " (the client key is not the one registered for this client id: check --client-key)"
        }
        _ => "",
    }
}

/// The value of `key` in the first event of `ty` (attribute values may be JSON strings).
fn event_attr(events: &Value, ty: &str, key: &str) -> Option<String> {
    events
        .as_array()?
        .iter()
        .find(|e| e["type"] == ty)
        .and_then(|e| {
            e["attributes"].as_array()?.iter().find_map(|a| {
                (a["key"] == key).then(|| {
                    let v = a["value"].as_str().unwrap_or_default();
                    v.trim_matches('"').to_string()
                })
            })
        })
}

// ---------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------

fn name_of<E: Copy>(
    prefix: &str,
    v: i32,
    f: impl Fn(i32) -> Option<E>,
    n: impl Fn(E) -> &'static str,
) -> String {
    match f(v) {
        Some(e) => n(e).trim_start_matches(prefix).to_string(),
        None => format!("UNKNOWN({v})"),
    }
}

fn status_name(v: i32) -> String {
    name_of(
        "VERIFICATION_STATUS_",
        v,
        |v| id::VerificationStatus::try_from(v).ok(),
        |e| e.as_str_name(),
    )
}

fn scope_type_name(v: i32) -> String {
    match id::ScopeType::try_from(v) {
        Ok(t) => capture::upload::scope_type_name(t),
        Err(_) => format!("unknown({v})"),
    }
}

fn scope_json(s: &id::IdentityScope) -> Value {
    let m = s.metadata.clone().unwrap_or_default();
    json!({
        "owner": s.owner,
        "scope_id": s.scope_id,
        "scope_type": scope_type_name(s.scope_type),
        "version": s.version,
        "status": status_name(s.status),
        "status_reason": s.status_reason,
        "envelope_bytes": s.encrypted_payload.len(),
        "uploaded_at": s.uploaded_at,
        "uploaded_height": s.uploaded_height.to_string(),
        "verified_at": s.verified_at,
        "expires_at": s.expires_at,
        "revoked": s.revoked,
        "revoked_reason": s.revoked_reason,
        "request_id": s.request_id,
        "metadata": {
            "salt": hex::encode(&m.salt),
            "salt_hash": hex::encode(&m.salt_hash),
            "device_fingerprint": m.device_fingerprint,
            "client_id": m.client_id,
            "client_version": m.client_version,
            "client_key_version": m.client_key_version,
            "payload_hash": hex::encode(&m.payload_hash),
            "capture_timestamp": m.capture_timestamp,
            "geo_hint": m.geo_hint,
        },
    })
}

fn request_json(r: &id::VerificationRequest) -> Value {
    json!({
        "request_id": r.request_id,
        "account": r.account,
        "scope_ids": r.scope_ids,
        "status": name_of("REQUEST_STATUS_", r.status, |v| id::RequestStatus::try_from(v).ok(), |e| e.as_str_name()),
        "requested_at": r.requested_at,
        "requested_block": r.requested_block.to_string(),
        "retry_count": r.retry_count,
        "reason": r.reason,
        "finished_block": r.finished_block.to_string(),
    })
}

fn emit(out: OutputFormat, v: &Value, text: impl FnOnce()) -> Result<()> {
    match out {
        OutputFormat::Json => print_json(v),
        OutputFormat::Text => {
            text();
            Ok(())
        }
    }
}

pub async fn run_query(
    q: &QueryClient<'_>,
    url: &str,
    out: OutputFormat,
    address: impl Fn(&str) -> Result<Address>,
    cmd: &IdentityQuery,
) -> Result<()> {
    let qe = |e| query_error(url, e);
    match cmd {
        IdentityQuery::Record { address: a } => {
            let a = address(a)?;
            let r: id::QueryIdentityRecordResponse = q
                .query(
                    "/virtengine.identity.v1.Query/IdentityRecord",
                    &id::QueryIdentityRecordRequest {
                        account: a.to_string(),
                    },
                )
                .await
                .map_err(qe)?;
            let rec = r.record.clone().unwrap_or_default();
            let v = json!({
                "found": r.found,
                "record": r.found.then(|| json!({
                    "account": rec.account,
                    "live_scope_count": rec.live_scope_count,
                    "total_uploads": rec.total_uploads.to_string(),
                    "created_at": rec.created_at,
                    "updated_at": rec.updated_at,
                    "last_verified_at": rec.last_verified_at,
                    "flags": rec.flags,
                    "locked": rec.locked,
                    "locked_reason": rec.locked_reason,
                })),
            });
            emit(out, &v, || {
                if !r.found {
                    println!("{a} has no identity record yet (it is created by the first upload)");
                    return;
                }
                println!("account:     {}", rec.account);
                println!("live scopes: {}", rec.live_scope_count);
                println!("uploads:     {}", rec.total_uploads);
                println!("created at:  {}", rec.created_at);
                if rec.locked {
                    println!("LOCKED:      {}", rec.locked_reason);
                }
            })
        }
        IdentityQuery::Scopes { address: a } => {
            let a = address(a)?;
            let path = "/virtengine.identity.v1.Query/Scopes";
            let scopes = q
                .paged(path, |pagination| {
                    let req = id::QueryScopesRequest {
                        account: a.to_string(),
                        pagination,
                    };
                    async move {
                        let r: id::QueryScopesResponse = q.query(path, &req).await?;
                        Ok((r.scopes, r.pagination))
                    }
                })
                .await
                .map_err(qe)?;
            let v = json!({"scopes": scopes.iter().map(scope_json).collect::<Vec<_>>()});
            emit(out, &v, || {
                if scopes.is_empty() {
                    println!("{a} has no identity scopes");
                }
                for s in &scopes {
                    println!(
                        "{:<40} {:<12} {:<12}{} {} bytes, uploaded at height {}",
                        s.scope_id,
                        scope_type_name(s.scope_type),
                        status_name(s.status),
                        if s.revoked { " (revoked)" } else { "" },
                        s.encrypted_payload.len(),
                        s.uploaded_height
                    );
                }
            })
        }
        IdentityQuery::Scope {
            address: a,
            scope_id,
            envelope_out,
        } => {
            let a = address(a)?;
            let r: id::QueryScopeResponse = q
                .query(
                    "/virtengine.identity.v1.Query/Scope",
                    &id::QueryScopeRequest {
                        account: a.to_string(),
                        scope_id: scope_id.clone(),
                    },
                )
                .await
                .map_err(qe)?;
            let s = match (r.found, r.scope) {
                (true, Some(s)) => s,
                _ => bail!("{a} has no scope {scope_id:?}: list them with `virtengine query identity scopes {a}`"),
            };
            if let Some(p) = envelope_out {
                if s.encrypted_payload.is_empty() {
                    bail!("scope {scope_id} has no envelope (it was revoked)");
                }
                std::fs::write(p, &s.encrypted_payload)
                    .with_context(|| format!("writing {}", p.display()))?;
            }
            let v = json!({"scope": scope_json(&s)});
            emit(out, &v, || {
                println!(
                    "scope:    {} ({})",
                    s.scope_id,
                    scope_type_name(s.scope_type)
                );
                println!(
                    "status:   {}{}",
                    status_name(s.status),
                    if s.revoked { " (revoked)" } else { "" }
                );
                println!("envelope: {} bytes", s.encrypted_payload.len());
                if let Some(p) = envelope_out {
                    println!("          written to {}", p.display());
                }
                if !s.request_id.is_empty() {
                    println!("request:  {}", s.request_id);
                }
            })
        }
        IdentityQuery::Score { address: a } => {
            let a = address(a)?;
            let r: id::QueryScoreResponse = q
                .query(
                    "/virtengine.identity.v1.Query/Score",
                    &id::QueryScoreRequest {
                        account: a.to_string(),
                    },
                )
                .await
                .map_err(qe)?;
            let status = name_of(
                "ACCOUNT_STATUS_",
                r.effective_status,
                |v| id::AccountStatus::try_from(v).ok(),
                |e| e.as_str_name(),
            );
            let tier = name_of(
                "IDENTITY_TIER_",
                r.tier,
                |v| id::IdentityTier::try_from(v).ok(),
                |e| e.as_str_name(),
            );
            let s = r.score.clone().unwrap_or_default();
            let v = json!({
                "found": r.found,
                "score": r.found.then_some(s.score),
                "status": status,
                "tier": tier,
                "model_version": s.model_version,
                "computed_at": s.computed_at,
                "expires_at": s.expires_at,
                "block_height": s.block_height.to_string(),
            });
            emit(out, &v, || {
                if !r.found {
                    println!("{a} has not been scored yet (status {status}, tier {tier})");
                    return;
                }
                println!("score:  {}", s.score);
                println!("status: {status}");
                println!("tier:   {tier}");
                println!("model:  {}", s.model_version);
            })
        }
        IdentityQuery::Pending { address: a } => {
            let account = a.as_deref().map(&address).transpose()?;
            let path = "/virtengine.identity.v1.Query/PendingRequests";
            let reqs = q
                .paged(path, |pagination| {
                    let req = id::QueryPendingRequestsRequest {
                        account: account.map(|x| x.to_string()).unwrap_or_default(),
                        pagination,
                    };
                    async move {
                        let r: id::QueryPendingRequestsResponse = q.query(path, &req).await?;
                        Ok((r.requests, r.pagination))
                    }
                })
                .await
                .map_err(qe)?;
            let v = json!({"requests": reqs.iter().map(request_json).collect::<Vec<_>>()});
            emit(out, &v, || {
                if reqs.is_empty() {
                    println!("no pending verification requests");
                }
                for r in &reqs {
                    println!(
                        "{}  {}  block {}  scopes {}",
                        r.request_id,
                        r.account,
                        r.requested_block,
                        r.scope_ids.join(",")
                    );
                }
            })
        }
        IdentityQuery::Request { request_id } => {
            let r: id::QueryVerificationRequestResponse = q
                .query(
                    "/virtengine.identity.v1.Query/VerificationRequest",
                    &id::QueryVerificationRequestRequest {
                        request_id: request_id.clone(),
                    },
                )
                .await
                .map_err(qe)?;
            let req = r
                .request
                .with_context(|| format!("no verification request {request_id}"))?;
            let v = json!({"request": request_json(&req)});
            emit(out, &v, || {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&request_json(&req)).unwrap_or_default()
                )
            })
        }
        IdentityQuery::Params => {
            let r: id::QueryParamsResponse = q
                .query(
                    "/virtengine.identity.v1.Query/Params",
                    &id::QueryParamsRequest {},
                )
                .await
                .map_err(qe)?;
            let p = r.params.unwrap_or_default();
            let v = json!({"params": {
                "max_scopes_per_account": p.max_scopes_per_account,
                "max_scopes_per_type": p.max_scopes_per_type,
                "salt_min_bytes": p.salt_min_bytes,
                "salt_max_bytes": p.salt_max_bytes,
                "require_client_signature": p.require_client_signature,
                "require_user_signature": p.require_user_signature,
                "verification_expiry_days": p.verification_expiry_days,
                "max_uploads_per_account_per_block": p.max_uploads_per_account_per_block,
                "max_uploads_per_block": p.max_uploads_per_block,
                "max_requests_per_account_per_block": p.max_requests_per_account_per_block,
                "recipient_fingerprints": p.recipient_fingerprints,
                "borderline_lower": p.borderline_lower,
                "borderline_upper": p.borderline_upper,
                "max_expiries_per_block": p.max_expiries_per_block,
                "max_payload_bytes": p.max_payload_bytes.to_string(),
                "request_timeout_blocks": p.request_timeout_blocks.to_string(),
                "max_timeouts_per_block": p.max_timeouts_per_block,
                "fallback_timeout_blocks": p.fallback_timeout_blocks.to_string(),
                "appeal_window_blocks": p.appeal_window_blocks.to_string(),
                "min_appeal_reason_length": p.min_appeal_reason_length,
                "max_history_per_account": p.max_history_per_account,
                "active_model_hashes": p.active_model_hashes,
            }});
            emit(out, &v, || {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&v["params"]).unwrap_or_default()
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_fingerprint_is_stable_and_within_the_module_limit() {
        let a = default_device_fingerprint();
        assert_eq!(a, default_device_fingerprint());
        assert!(a.starts_with("virtengine-cli:") && a.len() <= 256, "{a}");
    }

    #[test]
    fn events_give_the_request_id() {
        let ev = json!([{"type": "virtengine.identity.v1.EventVerificationRequested",
            "attributes": [{"key": "request_id", "value": "\"abcd\""}]}]);
        assert_eq!(
            event_attr(
                &ev,
                "virtengine.identity.v1.EventVerificationRequested",
                "request_id"
            ),
            Some("abcd".into())
        );
        assert_eq!(event_attr(&ev, "other", "request_id"), None);
    }

    #[test]
    fn replayed_salt_error_says_what_to_do() {
        assert!(hint("identity", 7).contains("fresh salt"));
        assert!(hint("config", 15).contains("--client-key"));
        assert_eq!(hint("bank", 5), "");
    }
}
