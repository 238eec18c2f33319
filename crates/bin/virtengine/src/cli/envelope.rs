//! `virtengine envelope ...`: offline sealing and opening of multi-recipient envelopes
//! (docs/envelope.md). No node needed; keys are files.
//!
//! Key files hold one line: the 32-byte secret as 64 hex characters (an X25519 recipient
//! key, or with `keygen --ed25519` an Ed25519 signing seed), written with mode 0600.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use ve_crypto::envelope::{open, seal, RecipientPublicKey, RecipientSecretKey, SenderSigningKey};
use zeroize::Zeroizing;

use crate::cli::output::{print_json, OutputFormat};

#[derive(Debug, Args)]
pub struct EnvelopeArgs {
    /// Output format of what is printed (files are always binary envelopes / raw payloads).
    #[arg(long, short, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    #[command(subcommand)]
    pub cmd: EnvelopeCmd,
}

#[derive(Debug, Subcommand)]
pub enum EnvelopeCmd {
    /// Create a recipient key (X25519) and print its public key and fingerprint.
    #[command(
        after_help = "Example:\n  virtengine envelope keygen --out alice.key\n  \
        virtengine tx encryption register-key alice alice.key --yes   # publish it on chain"
    )]
    Keygen {
        /// Where to write the secret key (created with mode 0600; never overwritten).
        #[arg(long)]
        out: PathBuf,
        /// Create an Ed25519 sender signing key instead (for `seal --sign-with`).
        #[arg(long)]
        ed25519: bool,
    },
    /// Seal FILE to one or more recipients' X25519 public keys.
    #[command(
        after_help = "Example:\n  virtengine envelope seal --to 7b4e...3f13 --to 0faa...0f20 scope.json --out scope.env"
    )]
    Seal {
        /// Recipient public key (64 hex characters) or a recipient key file; repeat for more.
        #[arg(long = "to", required = true)]
        to: Vec<String>,
        /// The plaintext file.
        file: PathBuf,
        /// Where to write the envelope.
        #[arg(long)]
        out: PathBuf,
        /// Sign with this Ed25519 key file (made with `keygen --ed25519`).
        #[arg(long)]
        sign_with: Option<PathBuf>,
    },
    /// Open ENVELOPE with a recipient key file.
    #[command(
        after_help = "Example:\n  virtengine envelope open --key alice.key scope.env --out scope.json"
    )]
    Open {
        /// Recipient secret key file.
        #[arg(long)]
        key: PathBuf,
        /// The envelope file.
        envelope: PathBuf,
        /// Where to write the plaintext.
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(args: EnvelopeArgs) -> Result<()> {
    let out = args.output;
    match args.cmd {
        EnvelopeCmd::Keygen { out: path, ed25519 } => keygen(&path, ed25519, out),
        EnvelopeCmd::Seal {
            to,
            file,
            out: path,
            sign_with,
        } => {
            let recipients = to
                .iter()
                .map(|t| recipient(t))
                .collect::<Result<Vec<_>>>()?;
            let signer = sign_with.as_deref().map(read_signing_key).transpose()?;
            let payload = Zeroizing::new(
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?,
            );
            let env =
                seal(&payload, &recipients, signer.as_ref()).context("sealing the envelope")?;
            std::fs::write(&path, &env).with_context(|| format!("writing {}", path.display()))?;
            let fps: Vec<String> = recipients.iter().map(|r| r.fingerprint()).collect();
            let v = json!({
                "envelope": path.display().to_string(),
                "bytes": env.len(),
                "envelope_hash": hex::encode(ve_crypto::sha256(&env)),
                "recipients": fps,
                "signed_by": signer.map(|s| hex::encode(s.verifying_key().to_bytes())),
            });
            emit(out, &v, || {
                println!(
                    "sealed {} bytes to {} recipient(s) -> {} ({} bytes)",
                    payload.len(),
                    fps.len(),
                    path.display(),
                    env.len()
                );
            })
        }
        EnvelopeCmd::Open {
            key,
            envelope,
            out: path,
        } => {
            let secret = read_recipient_key(&key)?;
            let env = std::fs::read(&envelope)
                .with_context(|| format!("reading {}", envelope.display()))?;
            let opened = open(&env, &secret).with_context(|| {
                format!(
                    "opening {} with key {}",
                    envelope.display(),
                    secret.public_key().fingerprint()
                )
            })?;
            write_private(&path, &opened.payload, true)?;
            let sender = opened.sender.map(|k| hex::encode(k.to_bytes()));
            let v = json!({
                "payload": path.display().to_string(),
                "bytes": opened.payload.len(),
                "signed_by": sender,
            });
            emit(out, &v, || {
                println!(
                    "opened {} bytes -> {}",
                    opened.payload.len(),
                    path.display()
                );
                if let Some(s) = &sender {
                    println!("signed by Ed25519 key {s} (signature verified)");
                }
            })
        }
    }
}

fn emit(out: OutputFormat, v: &serde_json::Value, text: impl FnOnce()) -> Result<()> {
    match out {
        OutputFormat::Json => print_json(v),
        OutputFormat::Text => {
            text();
            Ok(())
        }
    }
}

fn keygen(path: &Path, ed25519: bool, out: OutputFormat) -> Result<()> {
    let mut seed = Zeroizing::new([0u8; 32]);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, seed.as_mut());
    let line = Zeroizing::new(format!("{}\n", hex::encode(*seed)));
    write_private(path, line.as_bytes(), false)?;
    let v = if ed25519 {
        let pk = hex::encode(
            SenderSigningKey::from_bytes(&seed)
                .verifying_key()
                .to_bytes(),
        );
        json!({"type": "ed25519", "key_file": path.display().to_string(), "public_key": pk})
    } else {
        let pk = RecipientSecretKey::from_bytes(*seed).public_key();
        json!({
            "type": "x25519",
            "key_file": path.display().to_string(),
            "public_key": pk.to_hex(),
            "fingerprint": pk.fingerprint(),
        })
    };
    emit(out, &v, || {
        println!(
            "public key:  {}",
            v["public_key"].as_str().unwrap_or_default()
        );
        if let Some(fp) = v["fingerprint"].as_str() {
            println!("fingerprint: {fp}");
        }
        println!("secret key written to {} (mode 0600)", path.display());
    })
}

/// Writes with mode 0600 from the start, so the secret is never readable by others.
fn write_private(path: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).mode(0o600);
    if overwrite {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    let mut f = opts.open(path).with_context(|| {
        if path.exists() && !overwrite {
            format!(
                "{} already exists: refusing to overwrite a key file",
                path.display()
            )
        } else {
            format!("creating {}", path.display())
        }
    })?;
    f.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))
}

fn read_secret(path: &Path) -> Result<Zeroizing<[u8; 32]>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("reading key file {}", path.display()))?,
    );
    let bytes = Zeroizing::new(
        hex::decode(text.trim())
            .with_context(|| format!("{}: a key file holds 64 hex characters", path.display()))?,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        bail!(
            "{}: key is {} bytes, expected 32",
            path.display(),
            bytes.len()
        );
    }
    out.copy_from_slice(&bytes);
    Ok(out)
}

pub fn read_recipient_key(path: &Path) -> Result<RecipientSecretKey> {
    Ok(RecipientSecretKey::from_bytes(*read_secret(path)?))
}

fn read_signing_key(path: &Path) -> Result<SenderSigningKey> {
    Ok(SenderSigningKey::from_bytes(&*read_secret(path)?))
}

/// A recipient given as 64 hex characters, or as a recipient key file.
pub fn recipient(s: &str) -> Result<RecipientPublicKey> {
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return RecipientPublicKey::from_hex(s)
            .with_context(|| format!("recipient public key {s}"));
    }
    let path = Path::new(s);
    if path.is_file() {
        return Ok(read_recipient_key(path)?.public_key());
    }
    bail!("{s:?} is neither a 64-hex-character X25519 public key nor a key file")
}
