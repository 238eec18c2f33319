//! `virtengine enclave init|show|run`: the identity-scoring enclave service beside a
//! validator (docs/enclave.md), and `virtengine tx|query enclave …`: its registration in
//! the chain's enclave registry.
//!
//! SIMULATED PLATFORM: there is no TEE on this machine. `init` writes a random
//! platform sealing key file next to the sealed enclave keys; the measurement is a hash of
//! this binary and the model set; `show --simulated-platform-key FILE` signs a report in
//! the SIMULATED format (docs/enclave.md) with an Ed25519 key file that stands in for the
//! hardware vendor. The chain accepts such an enclave only while its `allow_simulated`
//! parameter is on and the key is its `simulated_platform_key` (localnets).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use ve_client::QueryClient;
use ve_proto::virtengine::enclave::v1 as pb;
use ve_types::Address;

use crate::cli::deployment::signer;
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::query::query_error;
use crate::cli::tx::{broadcast, TxCommon};

#[derive(Debug, Args)]
pub struct EnclaveArgs {
    /// Enclave home: sealed keys and the (simulated) platform sealing key.
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
    /// Create the enclave keys (sealed under a SIMULATED platform key) and print the identity.
    Init,
    /// Print the enclave identity: public keys, measurement, model-set hash; with
    /// --simulated-platform-key also a SIMULATED attestation report binding the keys.
    #[command(
        after_help = "Example (the file `virtengine tx enclave register --file` reads):\n  \
        virtengine enclave show --home node0/enclave \\\n    \
        --simulated-platform-key ~/.virtengine-localnet/SIMULATED-platform-attestation.key \\\n    \
        --output json > enclave-identity.json\n\n\
        The key file holds 64 hex characters (an Ed25519 seed). It plays the hardware vendor:\n\
        whoever holds it can attest anything, so the chain accepts its reports only while\n\
        enclave params allow_simulated is true and simulated_platform_key is its public key."
    )]
    Show {
        /// SIMULATED platform attestation key (hex Ed25519 seed) to sign a report with.
        #[arg(long)]
        simulated_platform_key: Option<PathBuf>,
    },
    /// Serve scoring requests from the node on a unix socket until stopped; with
    /// --otp-listen also check TOTP / email one-time codes for the mfa module.
    #[command(
        after_help = "Point the node at it with app.toml:\n  [enclave]\n  socket = \"<path>\"\n\n\
        One-time codes (docs/mfa.md): \n  \
        virtengine enclave run --home node0/enclave --otp-listen 127.0.0.1:26690 \\\n    \
        --operator ve1... --node http://127.0.0.1:26657 --smtp smtp://127.0.0.1:25\n\
        API: GET /v1/info; POST /v1/totp/verify {challenge_id, code};\n\
        POST /v1/email/send {challenge_id}; POST /v1/email/verify {challenge_id, code}."
    )]
    Run {
        /// Unix socket to listen on [default: <home>/enclave.sock].
        #[arg(long)]
        socket: Option<PathBuf>,
        /// FAULT INJECTION, for tests of the scoring consensus only: sign
        /// `(score + N) mod 101` instead of the computed score (1..=100). Refused unless
        /// the enclave runs on the simulated platform.
        #[arg(long, value_name = "N")]
        fault_score_offset: Option<u32>,
        #[command(flatten)]
        otp: crate::cli::enclave_otp::OtpArgs,
    },
}

pub use identity_file::IdentityFile;

mod identity_file {
    // serde(flatten) deserializes through serde's buffered Content type, which can hold
    // floats; this file has none (hex strings only).
    #![allow(clippy::disallowed_types)]
    use serde::{Deserialize, Serialize};

    /// What `enclave show --output json` prints and `tx enclave register|reattest|rotate
    /// --file` reads: the identity plus, when signed, its attestation report.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct IdentityFile {
        #[serde(flatten)]
        pub identity: ve_enclave::EnclaveIdentity,
        /// Hex attestation report (absent until signed).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub attestation_report: String,
        /// Hex DER certificates of the report's chain (empty for the simulated platform).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub attestation_chain: Vec<String>,
    }
}

impl IdentityFile {
    /// The identity with a SIMULATED report signed by `platform_key`: measurement and
    /// [`ve_attestation::key_binding`] of the two public keys.
    pub fn simulated(id: &ve_enclave::EnclaveIdentity, platform_key: &SigningKey) -> Self {
        let binding = ve_attestation::key_binding(&id.x25519_public_key, &id.signing_public_key);
        let report = ve_attestation::simulated::sign(platform_key, &id.measurement, &binding);
        Self {
            identity: id.clone(),
            attestation_report: hex::encode(report),
            attestation_chain: Vec::new(),
        }
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the enclave identity file {}", path.display()))?;
        let f: Self = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not an enclave identity file: create one with `virtengine enclave show --simulated-platform-key KEY --output json`",
                path.display()
            )
        })?;
        if f.attestation_report.is_empty() {
            bail!(
                "{} has no attestation_report: sign one (`virtengine enclave show --simulated-platform-key KEY --output json`)",
                path.display()
            );
        }
        Ok(f)
    }

    fn platform(&self) -> Result<i32> {
        ve_enclave_registry::genesis::platform_from_name(&self.identity.platform).with_context(
            || {
                format!(
                    "unknown platform {:?}: use sgx, sev-snp, nitro or simulated",
                    self.identity.platform
                )
            },
        )
    }

    fn report(&self) -> Result<(Vec<u8>, Vec<Vec<u8>>)> {
        let report =
            hex::decode(&self.attestation_report).context("attestation_report is not hex")?;
        let chain = self
            .attestation_chain
            .iter()
            .map(|c| hex::decode(c).context("attestation_chain entries must be hex DER"))
            .collect::<Result<_>>()?;
        Ok((report, chain))
    }
}

/// Creates a SIMULATED platform attestation key file (hex Ed25519 seed, mode 0600);
/// returns the hex public key (enclave params `simulated_platform_key`).
pub fn create_simulated_platform_key(path: &Path) -> Result<String> {
    use rand_core::RngCore as _;
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    rand_core::OsRng.fill_bytes(seed.as_mut()); // allowed: key generation runs outside consensus
    let key = SigningKey::from_bytes(&seed);
    write_secret(path, &format!("{}\n", hex::encode(*seed)))?;
    Ok(hex::encode(key.verifying_key().to_bytes()))
}

pub fn load_simulated_platform_key(path: &Path) -> Result<SigningKey> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("reading the SIMULATED platform key {}", path.display()))?,
    );
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), seed.as_mut()).with_context(|| {
        format!(
            "{} must hold 64 hex characters (an Ed25519 seed)",
            path.display()
        )
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Creates `path` with mode 0600 and writes `text`.
pub(crate) fn write_secret(path: &Path, text: &str) -> Result<()> {
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
        bail!(
            "no scoring models in {}: pass --models DIR (crates/scoring/models of the source tree)",
            m.display()
        );
    }
    Ok(m)
}

fn open_at(home: &Path, models: &Path) -> Result<Arc<ve_enclave::Enclave>> {
    ve_enclave::Enclave::open(home, models)
        .with_context(|| format!("opening the enclave in {}", home.display()))
}

/// `enclave init` as a function: creates the sealed keys in `home` and returns the
/// identity (the localnet calls it for every validator).
pub fn init_home(home: &Path, models: &Path) -> Result<ve_enclave::EnclaveIdentity> {
    ve_enclave::sealing::Home(home.to_path_buf())
        .init()
        .with_context(|| format!("initialising {}", home.display()))?;
    Ok(open_at(home, models)?.identity().clone())
}

fn print_identity(f: &IdentityFile, output: OutputFormat) -> Result<()> {
    let id = &f.identity;
    match output {
        OutputFormat::Json => print_json(f),
        OutputFormat::Text => {
            println!(
                "platform:            {} (SIMULATED: no hardware attestation)",
                id.platform
            );
            println!("x25519 public key:   {}", hex::encode(id.x25519_public_key));
            println!(
                "signing public key:  {}",
                hex::encode(id.signing_public_key)
            );
            println!("measurement:         {}", hex::encode(id.measurement));
            println!("model set:           {}", hex::encode(id.model_hash));
            if !f.attestation_report.is_empty() {
                println!("SIMULATED report:    {}", f.attestation_report);
            }
            Ok(())
        }
    }
}

pub async fn run(args: EnclaveArgs) -> Result<()> {
    match &args.cmd {
        EnclaveCmd::Init => {
            let id = init_home(&home(&args)?, &models(&args)?)?;
            print_identity(
                &IdentityFile {
                    identity: id,
                    attestation_report: String::new(),
                    attestation_chain: Vec::new(),
                },
                args.output,
            )
        }
        EnclaveCmd::Show {
            simulated_platform_key,
        } => {
            let enclave = open_at(&home(&args)?, &models(&args)?)?;
            let id = enclave.identity();
            let f = match simulated_platform_key {
                Some(p) => IdentityFile::simulated(id, &load_simulated_platform_key(p)?),
                None => IdentityFile {
                    identity: id.clone(),
                    attestation_report: String::new(),
                    attestation_chain: Vec::new(),
                },
            };
            print_identity(&f, args.output)
        }
        EnclaveCmd::Run {
            socket,
            fault_score_offset,
            otp,
        } => {
            let enclave = open_at(&home(&args)?, &models(&args)?)?;
            let otp_server = match &otp.otp_listen {
                Some(listen) => Some(
                    crate::cli::enclave_otp::OtpServer::bind(otp, listen, &enclave, &home(&args)?)
                        .await?,
                ),
                None => None,
            };
            if let Some(n) = fault_score_offset {
                enclave
                    .sign_deviant_scores(*n)
                    .context("--fault-score-offset")?;
                eprintln!(
                    "WARNING: FAULT INJECTION ON: this enclave signs DEVIANT scores (score + {n} mod 101); for tests only"
                );
            }
            let socket = match socket {
                Some(s) => s.clone(),
                None => home(&args)?.join("enclave.sock"),
            };
            eprintln!(
                "enclave service (SIMULATED platform) listening on {}; measurement {}",
                socket.display(),
                hex::encode(enclave.identity().measurement)
            );
            let scoring = async {
                tokio::task::spawn_blocking(move || ve_enclave::api::serve(enclave, &socket))
                    .await
                    .context("enclave service thread")?
                    .context("serving the enclave socket")
            };
            match otp_server {
                Some(otp) => tokio::try_join!(scoring, otp.serve()).map(|_| ()),
                None => scoring.await,
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum EnclaveTx {
    /// Register your validator's enclave (keys, platform, attestation report) as its operator.
    #[command(after_help = "Example:\n  \
        virtengine enclave show --home node0/enclave --simulated-platform-key KEY --output json > id.json\n  \
        virtengine tx enclave register --file id.json --from node0-operator --yes")]
    Register {
        /// Identity file from `virtengine enclave show … --output json`.
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// A fresh report for the registered keys (extends the expiry; a new allow-listed
    /// measurement is accepted, e.g. after an enclave upgrade).
    Reattest {
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// New enclave keys (from a new identity file); the previous keys keep verifying
    /// for --overlap-blocks (0 = the chain's key_rotation_overlap_blocks).
    Rotate {
        #[arg(long)]
        file: PathBuf,
        #[arg(long, default_value_t = 0)]
        overlap_blocks: u64,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
}

pub async fn run_tx(cmd: EnclaveTx) -> Result<()> {
    let (file, from, common) = match &cmd {
        EnclaveTx::Register { file, from, common }
        | EnclaveTx::Reattest { file, from, common }
        | EnclaveTx::Rotate {
            file, from, common, ..
        } => (file, from, common),
    };
    let f = IdentityFile::load(file)?;
    let platform = f.platform()?;
    let (attestation_report, attestation_chain) = f.report()?;
    let (kr, name, validator) = signer(common, from)?;
    let x = f.identity.x25519_public_key.to_vec();
    let ed = f.identity.signing_public_key.to_vec();
    let (msg, what) = match &cmd {
        EnclaveTx::Register { .. } => (
            ve_proto::to_any(
                "/virtengine.enclave.v1.MsgRegisterEnclaveIdentity",
                &pb::MsgRegisterEnclaveIdentity {
                    validator: validator.to_string(),
                    platform,
                    x25519_public_key: x,
                    ed25519_public_key: ed,
                    attestation_report,
                    attestation_chain,
                },
            ),
            "register the enclave",
        ),
        EnclaveTx::Reattest { .. } => (
            ve_proto::to_any(
                "/virtengine.enclave.v1.MsgReattest",
                &pb::MsgReattest {
                    validator: validator.to_string(),
                    platform,
                    attestation_report,
                    attestation_chain,
                },
            ),
            "re-attest the enclave",
        ),
        EnclaveTx::Rotate { overlap_blocks, .. } => (
            ve_proto::to_any(
                "/virtengine.enclave.v1.MsgRotateEnclaveKeys",
                &pb::MsgRotateEnclaveKeys {
                    validator: validator.to_string(),
                    platform,
                    new_x25519_public_key: x,
                    new_ed25519_public_key: ed,
                    attestation_report,
                    attestation_chain,
                    overlap_blocks: *overlap_blocks,
                },
            ),
            "rotate the enclave keys",
        ),
    };
    let summary = format!(
        "{what} of {validator} (platform {}, measurement {})",
        f.identity.platform,
        hex::encode(f.identity.measurement)
    );
    broadcast(common, &kr, &name, vec![msg], &summary).await
}

#[derive(Debug, Subcommand)]
pub enum EnclaveQuery {
    /// Every registered enclave identity.
    #[command(after_help = "Example:\n  virtengine query enclave identities --output json")]
    Identities,
    /// One validator operator's enclave identity and whether it is active now.
    Identity {
        /// Operator address (ve1...) or key name.
        validator: String,
    },
    /// The active validator enclave keys: the identity recipient set.
    ActiveKeys,
    /// The measurement allow-list.
    Measurements {
        #[arg(long)]
        include_revoked: bool,
    },
    /// Registry parameters.
    Params,
}

fn platform_name(p: i32) -> String {
    ve_enclave_registry::keeper::platform_name(p).to_string()
}

fn identity_json(i: &pb::EnclaveIdentity) -> Value {
    json!({
        "validator": i.validator,
        "platform": platform_name(i.platform),
        "x25519_public_key": hex::encode(&i.x25519_public_key),
        "ed25519_public_key": hex::encode(&i.ed25519_public_key),
        "measurement": hex::encode(&i.measurement),
        "signer": hex::encode(&i.signer),
        "registered_height": i.registered_height.to_string(),
        "attested_height": i.attested_height.to_string(),
        "expiry_height": i.expiry_height.to_string(),
        "key_epoch": i.key_epoch,
        "key_fingerprint": i.key_fingerprint,
        "envelope_fingerprint": ve_crypto::envelope::fingerprint(&i.x25519_public_key),
        "previous_keys_valid_until": i.previous_keys_valid_until.to_string(),
    })
}

fn active_key_json(k: &pb::ActiveEnclaveKey) -> Value {
    json!({
        "validator": k.validator,
        "platform": platform_name(k.platform),
        "x25519_public_key": hex::encode(&k.x25519_public_key),
        "ed25519_public_key": hex::encode(&k.ed25519_public_key),
        "measurement": hex::encode(&k.measurement),
        "expiry_height": k.expiry_height.to_string(),
        "key_fingerprint": k.key_fingerprint,
        // The fingerprint envelopes name their recipients by (docs/envelope.md).
        "envelope_fingerprint": ve_crypto::envelope::fingerprint(&k.x25519_public_key),
        "previous_x25519_public_key": hex::encode(&k.previous_x25519_public_key),
        "previous_keys_valid_until": k.previous_keys_valid_until.to_string(),
    })
}

fn emit(out: OutputFormat, v: &Value) -> Result<()> {
    match out {
        OutputFormat::Json => print_json(v),
        OutputFormat::Text => {
            println!(
                "{}",
                serde_yaml::to_string(v).context("formatting the answer")?
            );
            Ok(())
        }
    }
}

pub async fn run_query(
    q: &QueryClient<'_>,
    url: &str,
    out: OutputFormat,
    address: impl Fn(&str) -> Result<Address>,
    cmd: &EnclaveQuery,
) -> Result<()> {
    let qe = |e| query_error(url, e);
    let v = match cmd {
        EnclaveQuery::Identities => {
            let path = "/virtengine.enclave.v1.Query/EnclaveIdentities";
            let ids = q
                .paged(path, |pagination| async move {
                    let r: pb::QueryEnclaveIdentitiesResponse = q
                        .query(path, &pb::QueryEnclaveIdentitiesRequest { pagination })
                        .await?;
                    Ok((r.identities, r.pagination))
                })
                .await
                .map_err(qe)?;
            json!({ "identities": ids.iter().map(identity_json).collect::<Vec<_>>() })
        }
        EnclaveQuery::Identity { validator } => {
            let v = address(validator)?.to_string();
            let r: pb::QueryEnclaveIdentityResponse = q
                .query(
                    "/virtengine.enclave.v1.Query/EnclaveIdentity",
                    &pb::QueryEnclaveIdentityRequest { validator: v },
                )
                .await
                .map_err(qe)?;
            json!({
                "identity": r.identity.as_ref().map(identity_json),
                "active": r.active,
            })
        }
        EnclaveQuery::ActiveKeys => {
            let r: pb::QueryActiveEnclaveKeysResponse = q
                .query(
                    "/virtengine.enclave.v1.Query/ActiveEnclaveKeys",
                    &pb::QueryActiveEnclaveKeysRequest {},
                )
                .await
                .map_err(qe)?;
            json!({ "keys": r.keys.iter().map(active_key_json).collect::<Vec<_>>() })
        }
        EnclaveQuery::Measurements { include_revoked } => {
            let path = "/virtengine.enclave.v1.Query/MeasurementAllowlist";
            let include_revoked = *include_revoked;
            let ms = q
                .paged(path, |pagination| async move {
                    let r: pb::QueryMeasurementAllowlistResponse = q
                        .query(
                            path,
                            &pb::QueryMeasurementAllowlistRequest {
                                include_revoked,
                                pagination,
                            },
                        )
                        .await?;
                    Ok((r.measurements, r.pagination))
                })
                .await
                .map_err(qe)?;
            json!({ "measurements": ms.iter().map(|m| json!({
                "platform": platform_name(m.platform),
                "measurement": hex::encode(&m.measurement),
                "description": m.description,
                "added_by": m.added_by,
                "added_height": m.added_height.to_string(),
                "revoked": m.revoked,
            })).collect::<Vec<_>>() })
        }
        EnclaveQuery::Params => {
            let r: pb::QueryParamsResponse = q
                .query(
                    "/virtengine.enclave.v1.Query/Params",
                    &pb::QueryParamsRequest {},
                )
                .await
                .map_err(qe)?;
            let p = r.params.unwrap_or_default();
            json!({ "params": {
                "validator_operators": p.validator_operators,
                "allow_simulated": p.allow_simulated,
                "simulated_platform_key": hex::encode(&p.simulated_platform_key),
                "identity_validity_blocks": p.identity_validity_blocks.to_string(),
                "key_rotation_overlap_blocks": p.key_rotation_overlap_blocks.to_string(),
                "max_attestation_bytes": p.max_attestation_bytes,
                "consensus_bindings": p.consensus_bindings.iter().map(|b| json!({
                    "operator": b.operator,
                    "consensus_address": hex::encode_upper(&b.consensus_address),
                })).collect::<Vec<_>>(),
            }})
        }
    };
    emit(out, &v)
}
