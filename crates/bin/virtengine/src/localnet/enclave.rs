//! The localnet's identity-scoring enclaves (issue 5): one `virtengine enclave run` per
//! validator, registered in the enclave registry, whose X25519 keys are the identity
//! recipient set. Identity scores on a localnet come only from these services through
//! vote extensions (docs/scoring-consensus.md).
//!
//! ```text
//! <home>/SIMULATED-platform-attestation.key   the localnet-wide SIMULATED platform key
//!                                             (hex Ed25519 seed): it signs every enclave's
//!                                             report; its public key is enclave params
//!                                             simulated_platform_key (allow_simulated=true)
//! <node home>/enclave/                        the enclave home (`enclave init`): sealed keys
//!                                             under a SIMULATED platform sealing key file
//! <node home>/enclave/identity.SIMULATED.json `enclave show --simulated-platform-key`: keys,
//!                                             measurement and the signed SIMULATED report
//! <node home>/enclave/enclave.sock            the service's socket (app.toml [enclave] socket)
//! <node home>/enclave/enclave.log             its log
//! <node home>/enclave/otp/state.json          its one-time-code verifier's replay state
//! ```
//!
//! Each enclave also checks MFA one-time codes (`--otp-listen`, port 26690 + the node's
//! port offset): TOTP / email secrets are sealed to every enclave, so any of them can
//! answer (docs/mfa.md).
//!
//! At genesis: enclave params (operators `node<i>-operator`, consensus bindings, the
//! SIMULATED platform key), the build's measurement on the allow-list, each enclave's
//! X25519 key in the encryption registry (owned by its operator) and identity's
//! `recipient_fingerprints` = those keys. Registration needs a report verified at block
//! time, so it is a transaction: `localnet start` sends `tx enclave register` (or
//! `reattest` when a kept identity has expired) for every validator once blocks are made.

#![allow(clippy::disallowed_methods)] // Instant::now: start-up deadlines are wall-clock by nature.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use tokio::process::Child;
use ve_client::QueryClient;
use ve_proto::virtengine::enclave::v1 as pb;
use ve_types::Address;

use crate::cli::enclave::{create_simulated_platform_key, init_home, IdentityFile};
use crate::config::AppToml;
use crate::home::NodeHome;
use crate::node::supervise;

/// The localnet-wide SIMULATED platform attestation key, in the localnet home.
pub const PLATFORM_KEY_FILE: &str = "SIMULATED-platform-attestation.key";
/// Enclave home under each node home.
pub const DIR: &str = "enclave";
/// The identity with its SIMULATED report, in the enclave home.
pub const IDENTITY_FILE: &str = "identity.SIMULATED.json";
/// Blocks a localnet enclave attestation stays valid (days of localnet at 1 s blocks;
/// `localnet start --keep` re-attests an expired one).
pub const VALIDITY_BLOCKS: u64 = 1_000_000;
/// The one-time-code endpoint of node0's enclave; node i's is shifted by node i's port
/// offset.
pub const OTP_PORT: u16 = 26690;

/// The one-time-code port of the enclave beside a node with `ports` (the node's port
/// offset added to [`OTP_PORT`]).
pub fn otp_port(ports: &crate::config::Ports) -> Result<u16> {
    let offset = ports
        .rpc
        .saturating_sub(crate::config::Ports::default().rpc);
    OTP_PORT
        .checked_add(offset)
        .context("--port-offset pushes the enclave one-time-code port past 65535")
}

/// How long `localnet start` waits for the registrations to be committed.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(90);

/// One validator's enclave service (in localnet.json).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnclaveEntry {
    pub node: String,
    /// Key name of the operator account in the localnet keyring (`node<i>-operator`).
    pub operator: String,
    pub operator_address: String,
    pub home: PathBuf,
    pub socket: PathBuf,
    pub identity_file: PathBuf,
    pub x25519_public_key: String,
    /// The envelope fingerprint of the X25519 key (identity `recipient_fingerprints`).
    pub fingerprint: String,
    pub measurement: String,
    /// The one-time-code endpoint (`tx mfa verify --verifier`), e.g. http://127.0.0.1:26690.
    pub otp_url: String,
    pub otp_listen: String,
    /// CometBFT RPC of its node (where it reads challenges).
    pub node_rpc: String,
    pub chain_id: String,
}

impl EnclaveEntry {
    pub fn process_name(&self) -> String {
        format!("{}-enclave", self.node)
    }
    pub fn log(&self) -> PathBuf {
        self.home.join("enclave.log")
    }
}

/// A validator being built: its name, home and consensus address.
pub struct Validator<'a> {
    pub name: &'a str,
    pub home: &'a NodeHome,
    pub consensus_address: String,
    pub rpc: String,
    pub otp_port: u16,
}

/// What the caller funds and lists: the operator accounts created here.
pub struct Setup {
    pub entries: Vec<EnclaveEntry>,
    pub platform_key: PathBuf,
}

/// Creates the SIMULATED platform key, one enclave home per validator (with its signed
/// identity file), an operator key per validator in `keyring` (unfunded: `localnet
/// start` pays its fees from the `operator` test account, so the five test accounts keep
/// holding the whole supply), and writes the enclave, encryption and identity genesis sections of `state`. `admin`
/// (the localnet's `operator` account) may also register an enclave, so registrations
/// can be tried by hand; it runs no validator.
pub fn setup(
    home: &Path,
    validators: &[Validator<'_>],
    keyring: &ve_client::Keyring,
    state: &mut ve_app::AppGenesis,
    admin: Address,
) -> Result<Setup> {
    let platform_key = home.join(PLATFORM_KEY_FILE);
    let platform_public = create_simulated_platform_key(&platform_key)
        .context("creating the localnet's SIMULATED platform key")?;
    let signing = crate::cli::enclave::load_simulated_platform_key(&platform_key)?;
    let models = crate::cli::enclave::default_models();
    let params = &mut state.enclave.params;
    params.allow_simulated = true;
    params.simulated_platform_key = platform_public;
    params.identity_validity_blocks = VALIDITY_BLOCKS;
    let mut entries = Vec::new();
    for v in validators {
        let dir = v.home.root.join(DIR);
        let id = init_home(&dir, &models)
            .with_context(|| format!("creating the enclave of {}", v.name))?;
        let file = IdentityFile::simulated(&id, &signing);
        let identity_file = dir.join(IDENTITY_FILE);
        let text = serde_json::to_string_pretty(&file).context("serialising")?;
        std::fs::write(&identity_file, text + "\n")
            .with_context(|| format!("writing {}", identity_file.display()))?;

        let operator = format!("{}-operator", v.name);
        let (info, _) = keyring
            .add(&operator, None, "")
            .with_context(|| format!("creating test key {operator}"))?;
        let x25519 = ve_crypto::envelope::RecipientPublicKey::from_slice(&id.x25519_public_key)
            .map_err(|e| anyhow::anyhow!("enclave X25519 key of {}: {e}", v.name))?;
        state.encryption.keys.push(ve_encryption::GenesisKey {
            address: info.address,
            public_key: x25519.to_hex(),
            algorithm_id: String::new(),
            label: format!("enclave key of {} (SIMULATED platform)", v.name),
        });
        let p = &mut state.enclave.params;
        p.validator_operators.push(info.address);
        p.consensus_bindings
            .push(ve_enclave_registry::ValidatorBinding {
                operator: info.address,
                consensus_address: v.consensus_address.clone(),
            });
        let measurement = hex::encode(id.measurement);
        if !state
            .enclave
            .measurements
            .iter()
            .any(|m| m.measurement == measurement)
        {
            state
                .enclave
                .measurements
                .push(ve_enclave_registry::GenesisMeasurement {
                    platform: "simulated".into(),
                    measurement: measurement.clone(),
                    description: "this virtengine build and its model set (SIMULATED platform)"
                        .into(),
                });
        }
        // The identity model registry activates this build's model set.
        let model = hex::encode(id.model_hash);
        if !state.identity.params.active_model_hashes.contains(&model) {
            state.identity.params.active_model_hashes.push(model);
        }
        let socket = dir.join("enclave.sock");
        let app_toml = v.home.app_toml();
        let mut cfg = AppToml::load(&app_toml)?;
        cfg.enclave.socket = socket.display().to_string();
        cfg.save(&app_toml)?;
        entries.push(EnclaveEntry {
            node: v.name.to_string(),
            operator,
            operator_address: info.address.to_string(),
            home: dir,
            socket,
            identity_file,
            x25519_public_key: x25519.to_hex(),
            fingerprint: x25519.fingerprint(),
            measurement,
            otp_url: format!("http://127.0.0.1:{}", v.otp_port),
            otp_listen: format!("127.0.0.1:{}", v.otp_port),
            node_rpc: v.rpc.clone(),
            chain_id: super::CHAIN_ID.to_string(),
        });
    }
    if !state.enclave.params.validator_operators.contains(&admin) {
        state.enclave.params.validator_operators.push(admin);
    }
    state.identity.params.recipient_fingerprints =
        entries.iter().map(|e| e.fingerprint.clone()).collect();
    Ok(Setup {
        entries,
        platform_key,
    })
}

/// Starts `virtengine enclave run` for `entry` (scoring socket and one-time-code
/// endpoint, email codes through `smtp` when given), logging to its enclave.log.
pub fn spawn(exe: &Path, entry: &EnclaveEntry, smtp: Option<&str>) -> Result<Child> {
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("enclave")
        .arg("run")
        .arg("--home")
        .arg(&entry.home)
        .arg("--socket")
        .arg(&entry.socket)
        .arg("--otp-listen")
        .arg(&entry.otp_listen)
        .arg("--operator")
        .arg(&entry.operator_address)
        .arg("--node")
        .arg(&entry.node_rpc)
        .arg("--chain-id")
        .arg(&entry.chain_id);
    if let Some(url) = smtp {
        cmd.arg("--smtp").arg(url);
    }
    // The service must remove a stale socket itself; a fresh start must not see the
    // socket of a previous run as "listening".
    let _ = std::fs::remove_file(&entry.socket);
    supervise::spawn_logged(cmd, &entry.log())
        .with_context(|| format!("starting the enclave service of {}", entry.node))
}

/// Waits until the service accepts connections on its socket (it loads the models first).
pub async fn wait_listening(
    entry: &EnclaveEntry,
    child: &mut Child,
    timeout: Duration,
) -> Result<()> {
    let start = Instant::now();
    loop {
        if tokio::net::UnixStream::connect(&entry.socket).await.is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait().context("checking the enclave service")? {
            bail!(
                "the enclave service of {} exited ({status}); last lines of {}:\n{}",
                entry.node,
                entry.log().display(),
                supervise::tail(&entry.log(), 30)
            );
        }
        if start.elapsed() > timeout {
            bail!(
                "the enclave service of {} did not listen on {} within {} s; see {}",
                entry.node,
                entry.socket.display(),
                timeout.as_secs(),
                entry.log().display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What a validator's enclave needs on chain now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needed {
    Register,
    Reattest,
    Nothing,
}

/// The registry's "has no enclave identity" (enclave code 7, `EnclaveError::NotRegistered`).
fn is_not_registered(e: &ve_client::QueryError) -> bool {
    matches!(e, ve_client::QueryError::Abci { codespace, code, .. } if codespace == "enclave" && *code == 7)
}

async fn needed(q: &QueryClient<'_>, e: &EnclaveEntry) -> Result<Needed> {
    let r: pb::QueryEnclaveIdentityResponse = match q
        .query(
            "/virtengine.enclave.v1.Query/EnclaveIdentity",
            &pb::QueryEnclaveIdentityRequest {
                validator: e.operator_address.clone(),
            },
        )
        .await
    {
        Ok(r) => r,
        Err(err) if err.is_not_found() || is_not_registered(&err) => return Ok(Needed::Register),
        Err(err) => {
            return Err(anyhow::anyhow!(
                "querying the enclave identity of {}: {err}",
                e.node
            ))
        }
    };
    Ok(match (r.identity, r.active) {
        (None, _) => Needed::Register,
        (Some(_), false) => Needed::Reattest,
        (Some(_), true) => Needed::Nothing,
    })
}

/// Fees of the operator's enclave txs: sent from the `operator` test account the first
/// time (the operator account does not exist before).
const OPERATOR_FUNDS: &str = "10000000uve";

async fn fund_operator(
    exe: &Path,
    home: &Path,
    rpc: &str,
    chain_id: &str,
    node: &ve_client::RpcClient,
    e: &EnclaveEntry,
) -> Result<()> {
    let address: Address = e
        .operator_address
        .parse()
        .map_err(|err| anyhow::anyhow!("operator address of {}: {err}", e.node))?;
    if crate::cli::query::account(node, &address).await?.is_some() {
        return Ok(());
    }
    let out = tokio::process::Command::new(exe)
        .args([
            "tx",
            "bank",
            "send",
            "operator",
            &e.operator_address,
            OPERATOR_FUNDS,
        ])
        .arg("--home")
        .arg(home)
        .args([
            "--keyring-backend",
            "test",
            "--node",
            rpc,
            "--chain-id",
            chain_id,
            "--yes",
            "--output",
            "json",
        ])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(REGISTER_TIMEOUT, out)
        .await
        .with_context(|| format!("funding {} timed out", e.operator))?
        .with_context(|| format!("funding {}", e.operator))?;
    if !out.status.success() {
        bail!(
            "funding {} from the operator test account failed:\n{}{}",
            e.operator,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Registers (or re-attests) every validator's enclave with `tx enclave`, as its operator,
/// through node `rpc`; returns once all are active.
pub async fn register_all(
    exe: &Path,
    home: &Path,
    rpc: &str,
    chain_id: &str,
    entries: &[EnclaveEntry],
) -> Result<()> {
    let node = crate::cli::query::connect(rpc)?;
    let q = QueryClient::new(&node);
    let mut txs = Vec::new();
    for e in entries {
        let action = match needed(&q, e).await? {
            Needed::Nothing => continue,
            Needed::Register => "register",
            Needed::Reattest => "reattest",
        };
        fund_operator(exe, home, rpc, chain_id, &node, e).await?;
        let mut cmd = tokio::process::Command::new(exe);
        cmd.args(["tx", "enclave", action, "--file"])
            .arg(&e.identity_file)
            .args(["--from", &e.operator, "--home"])
            .arg(home)
            .args([
                "--keyring-backend",
                "test",
                "--node",
                rpc,
                "--chain-id",
                chain_id,
                "--gas",
                "auto",
                "--yes",
                "--output",
                "json",
            ])
            .kill_on_drop(true);
        txs.push(async move {
            let out = tokio::time::timeout(REGISTER_TIMEOUT, cmd.output())
                .await
                .with_context(|| format!("`tx enclave {action}` of {} timed out", e.node))?
                .with_context(|| format!("running `tx enclave {action}` for {}", e.node))?;
            if !out.status.success() {
                bail!(
                    "`virtengine tx enclave {action}` for {} failed:\n{}{}",
                    e.node,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            println!("{}: enclave {action}ed (SIMULATED report)", e.node);
            Ok(())
        });
    }
    futures::future::try_join_all(txs).await?;
    for e in entries {
        if needed(&q, e).await? != Needed::Nothing {
            bail!(
                "the enclave of {} is still not active after registration: see `virtengine query enclave identity {}`",
                e.node,
                e.operator_address
            );
        }
    }
    Ok(())
}
