//! `virtengine tx mfa ...` and `virtengine query mfa ...`: enrol factors, answer
//! challenges, get an MFA session for a sensitive transaction (docs/mfa.md).
//!
//! ```text
//! virtengine tx mfa enroll webauthn --from alice -y      # software authenticator, <home>/webauthn/alice.json
//! virtengine tx mfa enroll veid --from alice -y
//! virtengine tx mfa challenge fido2 --tx-type large-transfer --from alice -y
//! virtengine tx mfa verify <challenge-id> --webauthn --from alice -y        # -> session id
//! virtengine tx mfa challenge veid --tx-type large-transfer --session <id> --from alice -y
//! virtengine tx mfa verify <challenge-id> --veid --from alice -y
//! virtengine tx bank send alice bob 20000000000uve --mfa-session <id> -y
//! ```
//!
//! TOTP and email secrets are sealed to every active validator enclave at enrolment;
//! codes are checked by a validator enclave's one-time-code endpoint (`--verifier URL`,
//! `virtengine enclave run --otp-listen`), which signs the attestation `tx mfa verify`
//! submits and the chain checks against the enclave registry.

use anyhow::{anyhow, bail, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use clap::{Args, Subcommand};
use prost::Message;
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use ve_client::webauthn::SoftAuthenticator;
use ve_client::QueryClient;
use ve_mfa_verifier::{SealedSecret, VerifierClient};
use ve_proto::cosmos::base::abci::v1beta1::TxMsgData;
use ve_proto::virtengine::mfa::v1::*;
use ve_types::Address;

use crate::cli::keys::open_keyring;
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::query::query_error;
use crate::cli::tx::{broadcast, broadcast_for_result, TxCommon};
use crate::home;

const MSG: &str = "/virtengine.mfa.v1.";

#[derive(Debug, Subcommand)]
pub enum MfaTx {
    /// Enrol a factor.
    Enroll {
        #[command(subcommand)]
        factor: EnrollCmd,
    },
    /// Create a challenge for one factor (prints its id and data).
    #[command(after_help = "Examples:\n  \
        virtengine tx mfa challenge fido2 --tx-type large-transfer --from alice -y\n  \
        virtengine tx mfa challenge veid --tx-type large-transfer --session <session-id> --from alice -y\n\n\
        --session adds the factor, once verified, to an existing session of yours (VEID + FIDO2).")]
    Challenge {
        /// totp, fido2 (webauthn), email, sms, veid, backup-code, trusted-device.
        factor: String,
        /// Sensitive action the session is for, e.g. large-transfer (see `query mfa configs`).
        #[arg(long)]
        tx_type: String,
        /// A factor id (default: the first active one of that type).
        #[arg(long, default_value = "")]
        factor_id: String,
        /// Add the verified factor to this session of yours.
        #[arg(long, default_value = "")]
        session: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Answer a challenge; prints the outcome and the session id (exit status 1 if not verified).
    #[command(after_help = "Examples:\n  \
        virtengine tx mfa verify <id> --webauthn --from alice -y\n  \
        virtengine tx mfa verify <id> --totp-code 123456 --verifier http://127.0.0.1:26690 --from alice -y\n  \
        virtengine tx mfa email-code <id> --verifier http://127.0.0.1:26690   # mails the code\n  \
        virtengine tx mfa verify <id> --email-code 654321 --verifier http://127.0.0.1:26690 --from alice -y\n  \
        virtengine tx mfa verify <id> --veid --from alice -y")]
    Verify {
        challenge_id: String,
        /// Answer a FIDO2 challenge with the software authenticator of --from.
        #[arg(long)]
        webauthn: bool,
        /// Credential file of the software authenticator [default: <home>/webauthn/<key>.json].
        #[arg(long)]
        credential: Option<std::path::PathBuf>,
        /// A TOTP code (checked by the enclave at --verifier).
        #[arg(long)]
        totp_code: Option<String>,
        /// An email code (checked by the enclave at --verifier).
        #[arg(long)]
        email_code: Option<String>,
        /// A backup code.
        #[arg(long)]
        backup_code: Option<String>,
        /// A VEID challenge (the chain reads the identity score).
        #[arg(long)]
        veid: bool,
        /// A trusted-device token (hex).
        #[arg(long)]
        trust_token: Option<String>,
        /// A validator enclave's one-time-code endpoint, for TOTP and email codes (the
        /// localnet prints them: `--otp-listen` of `enclave run`).
        #[arg(long, env = "VIRTENGINE_MFA_VERIFIER")]
        verifier: Option<String>,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Ask a validator enclave to email the code of an EMAIL challenge (no transaction);
    /// answer with `verify --email-code` at the same --verifier.
    EmailCode {
        challenge_id: String,
        #[arg(long, env = "VIRTENGINE_MFA_VERIFIER")]
        verifier: String,
    },
    /// Set (or disable) your MFA policy.
    #[command(after_help = "Example:\n  \
        virtengine tx mfa set-policy --factors veid+fido2,totp --session-duration 900 --from alice -y")]
    SetPolicy {
        /// Required factor combinations: `+` inside a combination (AND), `,` between them (OR).
        #[arg(long, default_value = "")]
        factors: String,
        /// Session lifetime in seconds (0 = the action's default).
        #[arg(long, default_value_t = 0)]
        session_duration: u64,
        /// Minimum VEID score for the VEID factor (0 = chain default).
        #[arg(long, default_value_t = 0)]
        veid_threshold: u32,
        /// Disable the policy instead of enabling it.
        #[arg(long)]
        disable: bool,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Revoke one of your factors.
    RevokeFactor {
        factor_id: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Revoke one of your sessions.
    RevokeSession {
        session_id: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Change the MFA rule of one sensitive action (gov, a genesis account or an
    /// administrator); flags not given keep the current value.
    #[command(after_help = "Example:\n  \
        virtengine tx mfa update-config --tx-type large-transfer --factors veid+fido2,fido2+totp --from operator -y")]
    UpdateConfig {
        #[arg(long)]
        tx_type: String,
        /// Factor combinations: `+` inside one (AND), `,` between them (OR).
        #[arg(long)]
        factors: Option<String>,
        #[arg(long)]
        enabled: Option<bool>,
        #[arg(long)]
        min_veid_score: Option<u32>,
        /// Seconds a session for the action lives.
        #[arg(long)]
        session_duration: Option<u64>,
        #[arg(long)]
        single_use: Option<bool>,
        /// MFA applies from this many uve ("0" = always).
        #[arg(long)]
        value_threshold_uve: Option<String>,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
}

#[derive(Debug, Subcommand)]
pub enum EnrollCmd {
    /// TOTP: a new seed sealed to every active validator enclave; prints the otpauth://
    /// URI for authenticator apps.
    #[command(after_help = "Example:\n  \
        virtengine tx mfa enroll totp --from alice -y\n\n\
        The seed is shown once (otpauth URI and base32); only the validator enclaves can open the copy on chain.")]
    Totp {
        #[command(flatten)]
        e: EnrollCommon,
    },
    /// Email OTP: the address sealed to every active validator enclave (and its SHA-256 on chain).
    Email {
        address: String,
        #[command(flatten)]
        e: EnrollCommon,
    },
    /// WebAuthn / FIDO2 with the software authenticator (credential in <home>/webauthn/<key>.json).
    #[command(alias = "fido2")]
    Webauthn {
        /// Credential file [default: <home>/webauthn/<key>.json]; created if absent.
        #[arg(long)]
        credential: Option<std::path::PathBuf>,
        /// Origin put in clientDataJSON [default: the chain's first allowed origin].
        #[arg(long)]
        origin: Option<String>,
        #[command(flatten)]
        e: EnrollCommon,
    },
    /// Backup codes: prints new single-use codes once; the chain stores salted hashes.
    BackupCodes {
        #[arg(long, default_value_t = 10)]
        count: usize,
        #[command(flatten)]
        e: EnrollCommon,
    },
    /// VEID: the factor is your identity score (checked when challenged).
    Veid {
        #[command(flatten)]
        e: EnrollCommon,
    },
}

#[derive(Debug, Args)]
pub struct EnrollCommon {
    /// Label shown in factor lists.
    #[arg(long, default_value = "")]
    pub label: String,
    #[arg(long)]
    pub from: String,
    #[command(flatten)]
    pub common: TxCommon,
}

#[derive(Debug, Subcommand)]
pub enum MfaQuery {
    /// Whether an account needs an MFA session for an action (and which factors).
    #[command(
        after_help = "Example:\n  virtengine query mfa required alice --tx-type large-transfer --value-uve 20000000000"
    )]
    Required {
        address: String,
        #[arg(long)]
        tx_type: String,
        #[arg(long, default_value = "")]
        value_uve: String,
    },
    /// An account's MFA policy.
    Policy { address: String },
    /// An account's enrolled factors.
    Factors { address: String },
    /// One challenge.
    Challenge { challenge_id: String },
    /// One session (and whether it is valid now).
    Session { session_id: String },
    /// An account's sessions.
    Sessions {
        address: String,
        #[arg(long)]
        include_expired: bool,
    },
    /// The sensitive-transaction table.
    Configs,
    /// Module parameters.
    Params,
}

// ------------------------------------------------------------------------------------
// parsing

fn factor_type(s: &str) -> Result<FactorType> {
    let norm = s.trim().to_ascii_uppercase().replace('-', "_");
    let norm = norm
        .strip_prefix("FACTOR_TYPE_")
        .unwrap_or(&norm)
        .to_string();
    let f = match norm.as_str() {
        "TOTP" => FactorType::Totp,
        "FIDO2" | "WEBAUTHN" => FactorType::Fido2,
        "SMS" => FactorType::Sms,
        "EMAIL" => FactorType::Email,
        "VEID" => FactorType::Veid,
        "TRUSTED_DEVICE" => FactorType::TrustedDevice,
        "HARDWARE_KEY" => FactorType::HardwareKey,
        "BACKUP_CODE" | "BACKUP_CODES" => FactorType::BackupCode,
        _ => bail!(
            "unknown factor {s:?}: use totp, fido2 (webauthn), email, sms, veid, backup-code or trusted-device"
        ),
    };
    Ok(f)
}

fn tx_type(s: &str) -> Result<SensitiveTxType> {
    if let Ok(n) = s.parse::<i32>() {
        return SensitiveTxType::try_from(n)
            .ok()
            .filter(|t| *t != SensitiveTxType::Unspecified)
            .with_context(|| format!("unknown transaction type {n}"));
    }
    let norm = s.trim().to_ascii_uppercase().replace('-', "_");
    let full = if norm.starts_with("SENSITIVE_TX_TYPE_") {
        norm
    } else {
        format!("SENSITIVE_TX_TYPE_{norm}")
    };
    SensitiveTxType::from_str_name(&full)
        .filter(|t| *t != SensitiveTxType::Unspecified)
        .with_context(|| {
            format!("unknown transaction type {s:?}: e.g. large-transfer, provider-registration, withdrawal (see `query mfa configs`)")
        })
}

fn factor_name(f: i32) -> String {
    FactorType::try_from(f)
        .map(|f| {
            f.as_str_name()
                .trim_start_matches("FACTOR_TYPE_")
                .to_ascii_lowercase()
        })
        .unwrap_or_else(|_| f.to_string())
}

fn tx_type_name(t: i32) -> String {
    SensitiveTxType::try_from(t)
        .map(|t| {
            t.as_str_name()
                .trim_start_matches("SENSITIVE_TX_TYPE_")
                .to_ascii_lowercase()
                .replace('_', "-")
        })
        .unwrap_or_else(|_| t.to_string())
}

fn combos(s: &str) -> Result<Vec<FactorCombination>> {
    s.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            Ok(FactorCombination {
                factors: c
                    .split('+')
                    .map(|f| factor_type(f).map(|f| f as i32))
                    .collect::<Result<_>>()?,
            })
        })
        .collect()
}

// ------------------------------------------------------------------------------------
// tx helpers

struct Signer {
    kr: ve_client::Keyring,
    name: String,
    address: Address,
    home: std::path::PathBuf,
}

fn signer(c: &TxCommon, from: &str) -> Result<Signer> {
    let home = home::resolve(c.home.as_deref(), home::DEFAULT_LOCALNET_HOME)?;
    let kr = open_keyring(&home, &c.keyring)?;
    let info = match from.parse::<Address>() {
        Ok(addr) => kr
            .list()?
            .into_iter()
            .find(|k| k.address == addr)
            .with_context(|| format!("no key for {addr} in {}", kr.dir().display()))?,
        Err(_) => kr.show(from).with_context(|| format!("signer {from:?}"))?,
    };
    Ok(Signer {
        kr,
        name: info.name,
        address: info.address,
        home,
    })
}

fn any<M: Message>(name: &str, m: &M) -> ve_proto::Any {
    ve_proto::to_any(&format!("{MSG}{name}"), m)
}

/// The first msg response of an included tx, decoded as `R`.
fn response<R: Message + Default>(res: &ve_client::rpc_types::TxResult) -> Result<R> {
    let data = TxMsgData::decode(res.data.as_slice()).context("decoding the tx result data")?;
    let first = data
        .msg_responses
        .first()
        .context("the tx result carries no message response")?;
    R::decode(first.value.as_slice()).with_context(|| format!("decoding {}", first.type_url))
}

fn tx_json(res: &ve_client::rpc_types::TxResult) -> Value {
    json!({"txhash": res.hash.to_uppercase(), "height": res.height.to_string(), "code": res.code})
}

/// Prints `v` as JSON, or its fields as `key: value` lines.
fn emit(out: OutputFormat, v: &Value) -> Result<()> {
    match out {
        OutputFormat::Json => print_json(v),
        OutputFormat::Text => {
            if let Some(map) = v.as_object() {
                for (k, val) in map {
                    match val {
                        Value::String(s) => println!("{k}: {s}"),
                        other => println!("{k}: {other}"),
                    }
                }
            }
            Ok(())
        }
    }
}

async fn params(c: &TxCommon) -> Result<Params> {
    let node = crate::cli::query::connect(&c.node.node)?;
    let r: QueryParamsResponse = QueryClient::new(&node)
        .query("/virtengine.mfa.v1.Query/Params", &QueryParamsRequest {})
        .await
        .map_err(|e| query_error(node.url(), e))?;
    r.params.context("node answered without mfa params")
}

async fn challenge_of(c: &TxCommon, id: &str) -> Result<Challenge> {
    let node = crate::cli::query::connect(&c.node.node)?;
    let r: QueryChallengeResponse = QueryClient::new(&node)
        .query(
            "/virtengine.mfa.v1.Query/Challenge",
            &QueryChallengeRequest {
                challenge_id: id.to_string(),
            },
        )
        .await
        .map_err(|e| query_error(node.url(), e))?;
    r.challenge
        .with_context(|| format!("challenge {id} not found"))
}

/// The active validator enclave keys TOTP / email secrets are sealed to.
struct EnclaveRecipients {
    keys: Vec<ve_crypto::envelope::RecipientPublicKey>,
    /// Their validator operators, for the output.
    validators: Vec<String>,
}

async fn enclave_recipients(c: &TxCommon) -> Result<EnclaveRecipients> {
    let node = crate::cli::query::connect(&c.node.node)?;
    let r: ve_proto::virtengine::enclave::v1::QueryActiveEnclaveKeysResponse =
        QueryClient::new(&node)
            .query(
                ve_client::capture::upload::PATH_ACTIVE_ENCLAVE_KEYS,
                &ve_proto::virtengine::enclave::v1::QueryActiveEnclaveKeysRequest {},
            )
            .await
            .map_err(|e| query_error(node.url(), e))?;
    if r.keys.is_empty() {
        bail!(
            "no validator enclave is active on this chain (query enclave active-keys): \
             TOTP and email factors need one to check codes"
        );
    }
    let keys = r
        .keys
        .iter()
        .map(|k| {
            ve_crypto::envelope::RecipientPublicKey::from_slice(&k.x25519_public_key)
                .map_err(|e| anyhow!("enclave key of {}: {e}", k.validator))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(EnclaveRecipients {
        keys,
        validators: r.keys.iter().map(|k| k.validator.clone()).collect(),
    })
}

fn credential_path(s: &Signer, explicit: Option<&std::path::Path>) -> std::path::PathBuf {
    explicit
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| SoftAuthenticator::default_path(&s.home, &s.name))
}

// ------------------------------------------------------------------------------------
// tx

pub async fn run_tx(cmd: MfaTx) -> Result<()> {
    match cmd {
        MfaTx::Enroll { factor } => enroll(factor).await,
        MfaTx::Challenge {
            factor,
            tx_type: t,
            factor_id,
            session,
            from,
            common,
        } => {
            let f = factor_type(&factor)?;
            let t = tx_type(&t)?;
            let s = signer(&common, &from)?;
            let msg = any(
                "MsgCreateChallenge",
                &MsgCreateChallenge {
                    sender: s.address.to_string(),
                    factor_type: f as i32,
                    factor_id,
                    transaction_type: t as i32,
                    session_id: session,
                    registration: false,
                    client_info: None,
                },
            );
            let summary = format!(
                "create a {} challenge for {} as {from}",
                factor_name(f as i32),
                tx_type_name(t as i32)
            );
            let res =
                broadcast_for_result(&common, &s.kr, &s.name, vec![msg], &summary, false).await?;
            let r: MsgCreateChallengeResponse = response(&res)?;
            let mut v = tx_json(&res);
            v["challenge_id"] = json!(r.challenge_id);
            v["challenge_data"] = json!(hex::encode(&r.challenge_data));
            v["expires_at"] = json!(r.expires_at.to_string());
            emit(common.output, &v)
        }
        MfaTx::Verify {
            challenge_id,
            webauthn,
            credential,
            totp_code,
            email_code,
            backup_code,
            veid,
            trust_token,
            verifier,
            from,
            common,
        } => {
            let chosen = [
                webauthn,
                totp_code.is_some(),
                email_code.is_some(),
                backup_code.is_some(),
                veid,
                trust_token.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count();
            if chosen != 1 {
                bail!("give exactly one answer: --webauthn, --totp-code, --email-code, --backup-code, --veid or --trust-token");
            }
            let s = signer(&common, &from)?;
            let mut msg = MsgVerifyChallenge {
                sender: s.address.to_string(),
                challenge_id: challenge_id.clone(),
                ..Default::default()
            };
            let mut verifier_reason = String::new();
            if webauthn {
                let ch = challenge_of(&common, &challenge_id).await?;
                let path = credential_path(&s, credential.as_deref());
                let mut auth = SoftAuthenticator::load(&path).with_context(|| {
                    format!("no software authenticator for {from}: enrol one with `tx mfa enroll webauthn --from {from}`")
                })?;
                let a = auth.assert(&ch.challenge_data)?;
                // The counter is spent whether or not the tx lands: never sign twice with one.
                auth.save(&path)?;
                msg.fido2 = Some(Fido2Assertion {
                    credential_id: a.credential_id,
                    client_data_json: a.client_data_json,
                    authenticator_data: a.authenticator_data,
                    signature: a.signature,
                });
            } else if let Some(code) = totp_code.as_deref().or(email_code.as_deref()) {
                let url = verifier
                    .as_deref()
                    .context("--verifier URL is needed to check a TOTP or email code")?;
                let client = VerifierClient::new(url)?;
                let verdict = if totp_code.is_some() {
                    client.verify_totp(&challenge_id, code).await?
                } else {
                    client.verify_email(&challenge_id, code).await?
                };
                verifier_reason = verdict.reason.clone();
                msg.attestation = Some(FactorAttestation {
                    verifier_key_id: verdict.attestation.verifier_key_id,
                    verified: verdict.attestation.verified,
                    signature: B64
                        .decode(&verdict.attestation.signature)
                        .context("the enclave returned a signature that is not base64")?,
                    otp_step: verdict.attestation.otp_step,
                });
            } else if let Some(code) = backup_code {
                msg.backup_code = code;
            } else if let Some(tok) = trust_token {
                msg.trust_token = hex::decode(tok.trim()).context("--trust-token must be hex")?;
            }
            let summary = format!("answer MFA challenge {challenge_id} as {from}");
            let res = broadcast_for_result(
                &common,
                &s.kr,
                &s.name,
                vec![any("MsgVerifyChallenge", &msg)],
                &summary,
                false,
            )
            .await?;
            let r: MsgVerifyChallengeResponse = response(&res)?;
            let outcome = VerifyOutcome::try_from(r.outcome)
                .map(|o| {
                    o.as_str_name()
                        .trim_start_matches("VERIFY_OUTCOME_")
                        .to_string()
                })
                .unwrap_or_else(|_| r.outcome.to_string());
            let mut v = tx_json(&res);
            v["outcome"] = json!(outcome);
            v["reason"] = json!(r.reason);
            if totp_code.is_some() || email_code.is_some() {
                // The verifier's own words (e.g. "code already used"), beside the chain's.
                v["verifier_reason"] = json!(verifier_reason);
            }
            v["attempts_left"] = json!(r.attempts_left);
            v["session_id"] = json!(r.session_id);
            v["session_expires_at"] = json!(r.session_expires_at.to_string());
            v["verified_factors"] = json!(r
                .verified_factors
                .iter()
                .map(|f| factor_name(*f))
                .collect::<Vec<_>>());
            v["satisfied"] = json!(r.satisfied);
            emit(common.output, &v)?;
            if r.outcome != VerifyOutcome::Verified as i32 {
                bail!(
                    "challenge {challenge_id} was not verified: {outcome} ({}{}); the attempt is counted",
                    v["reason"].as_str().unwrap_or(""),
                    v["verifier_reason"]
                        .as_str()
                        .map(|r| format!("; verifier: {r}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        MfaTx::EmailCode {
            challenge_id,
            verifier,
        } => {
            let sent = VerifierClient::new(&verifier)?
                .send_email(&challenge_id)
                .await?;
            println!(
                "a code for challenge {} was sent to {}; it expires at {} (unix time)",
                sent.challenge_id, sent.sent_to, sent.expires_at
            );
            Ok(())
        }
        MfaTx::SetPolicy {
            factors,
            session_duration,
            veid_threshold,
            disable,
            from,
            common,
        } => {
            let s = signer(&common, &from)?;
            let msg = any(
                "MsgSetMfaPolicy",
                &MsgSetMfaPolicy {
                    sender: s.address.to_string(),
                    policy: Some(MfaPolicy {
                        account: s.address.to_string(),
                        required_factors: combos(&factors)?,
                        session_duration,
                        veid_threshold,
                        enabled: !disable,
                        ..Default::default()
                    }),
                },
            );
            let summary = format!(
                "{} the MFA policy of {from}",
                if disable { "disable" } else { "set" }
            );
            broadcast(&common, &s.kr, &s.name, vec![msg], &summary).await
        }
        MfaTx::RevokeFactor {
            factor_id,
            from,
            common,
        } => {
            let s = signer(&common, &from)?;
            let msg = any(
                "MsgRevokeFactor",
                &MsgRevokeFactor {
                    sender: s.address.to_string(),
                    factor_id: factor_id.clone(),
                },
            );
            broadcast(
                &common,
                &s.kr,
                &s.name,
                vec![msg],
                &format!("revoke factor {factor_id} of {from}"),
            )
            .await
        }
        MfaTx::RevokeSession {
            session_id,
            from,
            common,
        } => {
            let s = signer(&common, &from)?;
            let msg = any(
                "MsgRevokeSession",
                &MsgRevokeSession {
                    sender: s.address.to_string(),
                    session_id: session_id.clone(),
                },
            );
            broadcast(
                &common,
                &s.kr,
                &s.name,
                vec![msg],
                &format!("revoke session {session_id} of {from}"),
            )
            .await
        }
        MfaTx::UpdateConfig {
            tx_type: t,
            factors,
            enabled,
            min_veid_score,
            session_duration,
            single_use,
            value_threshold_uve,
            from,
            common,
        } => {
            let t = tx_type(&t)?;
            let node = crate::cli::query::connect(&common.node.node)?;
            let current: QuerySensitiveTxConfigResponse = QueryClient::new(&node)
                .query(
                    "/virtengine.mfa.v1.Query/SensitiveTxConfig",
                    &QuerySensitiveTxConfigRequest {
                        transaction_type: t as i32,
                    },
                )
                .await
                .map_err(|e| query_error(node.url(), e))?;
            let mut c = current
                .config
                .filter(|_| current.found)
                .unwrap_or(SensitiveTxConfig {
                    transaction_type: t as i32,
                    enabled: true,
                    ..Default::default()
                });
            if let Some(f) = factors {
                c.required_factor_combinations = combos(&f)?;
            }
            if let Some(v) = enabled {
                c.enabled = v;
            }
            if let Some(v) = min_veid_score {
                c.min_veid_score = v;
            }
            if let Some(v) = session_duration {
                c.session_duration = v;
            }
            if let Some(v) = single_use {
                c.single_use = v;
            }
            if let Some(v) = value_threshold_uve {
                c.value_threshold_uve = v;
            }
            let s = signer(&common, &from)?;
            let msg = any(
                "MsgUpdateSensitiveTxConfig",
                &MsgUpdateSensitiveTxConfig {
                    authority: s.address.to_string(),
                    config: Some(c),
                },
            );
            broadcast(
                &common,
                &s.kr,
                &s.name,
                vec![msg],
                &format!("update the MFA rule of {}", tx_type_name(t as i32)),
            )
            .await
        }
    }
}

async fn enroll_msg(
    e: &EnrollCommon,
    s: &Signer,
    msg: MsgEnrollFactor,
    what: &str,
) -> Result<(ve_client::rpc_types::TxResult, MsgEnrollFactorResponse)> {
    let summary = format!("enrol {what} for {}", e.from);
    let res = broadcast_for_result(
        &e.common,
        &s.kr,
        &s.name,
        vec![any("MsgEnrollFactor", &msg)],
        &summary,
        false,
    )
    .await?;
    let r: MsgEnrollFactorResponse = response(&res)?;
    Ok((res, r))
}

async fn enroll(cmd: EnrollCmd) -> Result<()> {
    match cmd {
        EnrollCmd::Totp { e } => {
            let s = signer(&e.common, &e.from)?;
            let recipients = enclave_recipients(&e.common).await?;
            let secret = SealedSecret::new_totp();
            let sealed = secret.seal(&recipients.keys)?;
            let msg = MsgEnrollFactor {
                sender: s.address.to_string(),
                factor_type: FactorType::Totp as i32,
                label: e.label.clone(),
                sealed_secret: sealed,
                ..Default::default()
            };
            let (res, r) = enroll_msg(&e, &s, msg, "a TOTP factor").await?;
            let uri = secret.otpauth_uri(&s.address.to_string())?;
            let base32 = match &secret {
                SealedSecret::Totp { secret, .. } => secret.clone(),
                SealedSecret::Email { .. } => String::new(),
            };
            let mut out = tx_json(&res);
            out["factor_id"] = json!(r.factor_id);
            out["otpauth_uri"] = json!(uri);
            out["secret"] = json!(base32);
            out["sealed_to_enclaves"] = json!(recipients.validators);
            emit(e.common.output, &out)?;
            if e.common.output == OutputFormat::Text {
                eprintln!("add the otpauth URI (or the base32 secret) to your authenticator app now: it is not shown again");
            }
            Ok(())
        }
        EnrollCmd::Email { address, e } => {
            let s = signer(&e.common, &e.from)?;
            let recipients = enclave_recipients(&e.common).await?;
            let secret = SealedSecret::email(&address)?;
            let msg = MsgEnrollFactor {
                sender: s.address.to_string(),
                factor_type: FactorType::Email as i32,
                label: e.label.clone(),
                sealed_secret: secret.seal(&recipients.keys)?,
                contact_hash: ve_mfa_verifier::secret::contact_hash(&address)?.to_vec(),
                ..Default::default()
            };
            let (res, r) = enroll_msg(&e, &s, msg, "an email factor").await?;
            let mut out = tx_json(&res);
            out["factor_id"] = json!(r.factor_id);
            out["address"] = json!(ve_mfa_verifier::email::mask(secret.email_address()?));
            out["sealed_to_enclaves"] = json!(recipients.validators);
            emit(e.common.output, &out)
        }
        EnrollCmd::Webauthn {
            credential,
            origin,
            e,
        } => {
            let s = signer(&e.common, &e.from)?;
            let p = params(&e.common).await?;
            let path = credential_path(&s, credential.as_deref());
            let mut auth = if path.exists() {
                SoftAuthenticator::load(&path)?
            } else {
                let origin = match origin {
                    Some(o) => o,
                    None => p.fido2_allowed_origins.first().cloned().context(
                        "the chain allows no WebAuthn origin (params.fido2_allowed_origins)",
                    )?,
                };
                let a = SoftAuthenticator::generate(p.fido2_rp_id.clone(), origin);
                a.save(&path)?;
                a
            };
            // 1. A registration challenge.
            let create = any(
                "MsgCreateChallenge",
                &MsgCreateChallenge {
                    sender: s.address.to_string(),
                    factor_type: FactorType::Fido2 as i32,
                    registration: true,
                    ..Default::default()
                },
            );
            let res = broadcast_for_result(
                &e.common,
                &s.kr,
                &s.name,
                vec![create],
                &format!("create a WebAuthn registration challenge for {}", e.from),
                false,
            )
            .await?;
            let ch: MsgCreateChallengeResponse = response(&res)?;
            // 2. navigator.credentials.create() with the software authenticator.
            let reg = auth.register(&ch.challenge_data)?;
            auth.save(&path)?;
            let msg = MsgEnrollFactor {
                sender: s.address.to_string(),
                factor_type: FactorType::Fido2 as i32,
                label: e.label.clone(),
                fido2_registration: Some(Fido2Registration {
                    challenge_id: ch.challenge_id.clone(),
                    client_data_json: reg.client_data_json,
                    attestation_object: reg.attestation_object,
                }),
                ..Default::default()
            };
            let (res, r) = enroll_msg(&e, &s, msg, "a WebAuthn credential").await?;
            let mut out = tx_json(&res);
            out["factor_id"] = json!(r.factor_id);
            out["credential_id"] = json!(hex::encode(auth.credential_id()));
            out["credential_file"] = json!(path.display().to_string());
            out["rp_id"] = json!(auth.rp_id());
            out["origin"] = json!(auth.origin());
            emit(e.common.output, &out)
        }
        EnrollCmd::BackupCodes { count, e } => {
            if count == 0 || count > 100 {
                bail!("--count must be 1..=100 (the chain caps it at params.max_backup_codes)");
            }
            let s = signer(&e.common, &e.from)?;
            let codes: Vec<String> = (0..count).map(|_| backup_code()).collect();
            let msg = MsgEnrollFactor {
                sender: s.address.to_string(),
                factor_type: FactorType::BackupCode as i32,
                label: e.label.clone(),
                backup_code_hashes: codes
                    .iter()
                    .map(|c| ve_crypto::sha256(c.as_bytes()).to_vec())
                    .collect(),
                ..Default::default()
            };
            let (res, r) = enroll_msg(&e, &s, msg, "backup codes").await?;
            let mut out = tx_json(&res);
            out["factor_id"] = json!(r.factor_id);
            out["codes"] = json!(codes);
            emit(e.common.output, &out)?;
            if e.common.output == OutputFormat::Text {
                eprintln!(
                    "store these codes offline now: each works once and they are not shown again"
                );
            }
            Ok(())
        }
        EnrollCmd::Veid { e } => {
            let s = signer(&e.common, &e.from)?;
            let msg = MsgEnrollFactor {
                sender: s.address.to_string(),
                factor_type: FactorType::Veid as i32,
                label: e.label.clone(),
                ..Default::default()
            };
            let (res, r) = enroll_msg(&e, &s, msg, "the VEID factor").await?;
            let mut out = tx_json(&res);
            out["factor_id"] = json!(r.factor_id);
            emit(e.common.output, &out)
        }
    }
}

/// `xxxx-xxxx-xxxx-xxxx` from 64 random bits.
fn backup_code() -> String {
    let mut b = [0u8; 8];
    OsRng.fill_bytes(&mut b);
    let h = hex::encode(b);
    format!("{}-{}-{}-{}", &h[0..4], &h[4..8], &h[8..12], &h[12..16])
}

// ------------------------------------------------------------------------------------
// queries

fn ts(t: i64) -> String {
    t.to_string()
}

fn enrollment_json(e: &FactorEnrollment) -> Value {
    json!({
        "factor_id": e.factor_id,
        "factor_type": factor_name(e.factor_type),
        "label": e.label,
        "status": FactorStatus::try_from(e.status).map(|s| s.as_str_name().trim_start_matches("FACTOR_STATUS_").to_ascii_lowercase()).unwrap_or_default(),
        "enrolled_at": ts(e.enrolled_at),
        "last_used_at": ts(e.last_used_at),
        "use_count": e.use_count.to_string(),
        "credential_id": e.fido2.as_ref().map(|f| hex::encode(&f.credential_id)),
        "sign_count": e.fido2.as_ref().map(|f| f.sign_count),
        "backup_codes_left": e.backup_codes.as_ref().map(|b| b.code_hashes.len()),
        "sealed_secret_bytes": e.sealed_secret.len(),
    })
}

fn challenge_json(c: &Challenge) -> Value {
    json!({
        "challenge_id": c.challenge_id,
        "account": c.account,
        "factor_type": factor_name(c.factor_type),
        "factor_id": c.factor_id,
        "transaction_type": tx_type_name(c.transaction_type),
        "status": ChallengeStatus::try_from(c.status).map(|s| s.as_str_name().trim_start_matches("CHALLENGE_STATUS_").to_ascii_lowercase()).unwrap_or_default(),
        "challenge_data": hex::encode(&c.challenge_data),
        "created_at": ts(c.created_at),
        "expires_at": ts(c.expires_at),
        "attempt_count": c.attempt_count,
        "max_attempts": c.max_attempts,
        "session_id": c.session_id,
        "registration": c.registration,
        "relying_party_id": c.relying_party_id,
    })
}

fn session_json(s: &AuthorizationSession) -> Value {
    json!({
        "session_id": s.session_id,
        "account": s.account,
        "transaction_type": tx_type_name(s.transaction_type),
        "verified_factors": s.verified_factors.iter().map(|f| json!({
            "factor_type": factor_name(f.factor_type), "factor_id": f.factor_id, "verified_at": ts(f.verified_at),
        })).collect::<Vec<_>>(),
        "created_at": ts(s.created_at),
        "expires_at": ts(s.expires_at),
        "used_at": ts(s.used_at),
        "single_use": s.single_use,
    })
}

fn combos_json(c: &[FactorCombination]) -> Value {
    json!(c
        .iter()
        .map(|c| c
            .factors
            .iter()
            .map(|f| factor_name(*f))
            .collect::<Vec<_>>()
            .join("+"))
        .collect::<Vec<_>>())
}

fn config_json(c: &SensitiveTxConfig) -> Value {
    json!({
        "transaction_type": tx_type_name(c.transaction_type),
        "enabled": c.enabled,
        "min_veid_score": c.min_veid_score,
        "required_factor_combinations": combos_json(&c.required_factor_combinations),
        "session_duration": c.session_duration.to_string(),
        "single_use": c.single_use,
        "value_threshold_uve": c.value_threshold_uve,
        "policy_required": c.policy_required,
        "description": c.description,
    })
}

pub async fn run_query(
    q: &QueryClient<'_>,
    url: &str,
    out: OutputFormat,
    address: impl Fn(&str) -> Result<Address>,
    cmd: &MfaQuery,
) -> Result<()> {
    let path = |m: &str| format!("/virtengine.mfa.v1.Query/{m}");
    let v = match cmd {
        MfaQuery::Required {
            address: a,
            tx_type: t,
            value_uve,
        } => {
            let r: QueryMfaRequiredResponse = q
                .query(
                    &path("MfaRequired"),
                    &QueryMfaRequiredRequest {
                        address: address(a)?.to_string(),
                        transaction_type: tx_type(t)? as i32,
                        value_uve: value_uve.clone(),
                    },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            json!({
                "required": r.required,
                "factor_combinations": combos_json(&r.factor_combinations),
                "min_veid_score": r.min_veid_score,
                "value_threshold_uve": r.value_threshold_uve,
                "single_use": r.single_use,
                "session_duration": r.session_duration.to_string(),
            })
        }
        MfaQuery::Policy { address: a } => {
            let r: QueryMfaPolicyResponse = q
                .query(
                    &path("MfaPolicy"),
                    &QueryMfaPolicyRequest {
                        address: address(a)?.to_string(),
                    },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            match r.policy.filter(|_| r.found) {
                None => json!({"found": false}),
                Some(p) => json!({
                    "found": true,
                    "enabled": p.enabled,
                    "required_factors": combos_json(&p.required_factors),
                    "session_duration": p.session_duration.to_string(),
                    "veid_threshold": p.veid_threshold,
                    "updated_at": ts(p.updated_at),
                }),
            }
        }
        MfaQuery::Factors { address: a } => {
            let r: QueryFactorEnrollmentsResponse = q
                .query(
                    &path("FactorEnrollments"),
                    &QueryFactorEnrollmentsRequest {
                        address: address(a)?.to_string(),
                    },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            json!({"factors": r.enrollments.iter().map(enrollment_json).collect::<Vec<_>>()})
        }
        MfaQuery::Challenge { challenge_id } => {
            let r: QueryChallengeResponse = q
                .query(
                    &path("Challenge"),
                    &QueryChallengeRequest {
                        challenge_id: challenge_id.clone(),
                    },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            let c = r
                .challenge
                .with_context(|| format!("challenge {challenge_id} not found"))?;
            challenge_json(&c)
        }
        MfaQuery::Session { session_id } => {
            let r: QueryAuthorizationSessionResponse = q
                .query(
                    &path("AuthorizationSession"),
                    &QueryAuthorizationSessionRequest {
                        session_id: session_id.clone(),
                    },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            let mut v = r.session.as_ref().map(session_json).unwrap_or(json!({}));
            v["found"] = json!(r.found);
            v["is_valid"] = json!(r.is_valid);
            v
        }
        MfaQuery::Sessions {
            address: a,
            include_expired,
        } => {
            let a = address(a)?.to_string();
            let p = path("AuthorizationSessions");
            let sessions = q
                .paged(&p, |pagination| {
                    let req = QueryAuthorizationSessionsRequest {
                        address: a.clone(),
                        include_expired: *include_expired,
                        pagination,
                    };
                    let p = p.clone();
                    async move {
                        let r: QueryAuthorizationSessionsResponse = q.query(&p, &req).await?;
                        Ok((r.sessions, r.pagination))
                    }
                })
                .await
                .map_err(|e| query_error(url, e))?;
            json!({"sessions": sessions.iter().map(session_json).collect::<Vec<_>>()})
        }
        MfaQuery::Configs => {
            let r: QueryAllSensitiveTxConfigsResponse = q
                .query(
                    &path("AllSensitiveTxConfigs"),
                    &QueryAllSensitiveTxConfigsRequest {},
                )
                .await
                .map_err(|e| query_error(url, e))?;
            json!({"configs": r.configs.iter().map(config_json).collect::<Vec<_>>()})
        }
        MfaQuery::Params => {
            let r: QueryParamsResponse = q
                .query(&path("Params"), &QueryParamsRequest {})
                .await
                .map_err(|e| query_error(url, e))?;
            let p = r.params.unwrap_or_default();
            json!({
                "default_session_duration": p.default_session_duration.to_string(),
                "max_factors_per_account": p.max_factors_per_account,
                "max_challenge_attempts": p.max_challenge_attempts,
                "challenge_ttl": p.challenge_ttl.to_string(),
                "min_veid_score_for_mfa": p.min_veid_score_for_mfa,
                "require_at_least_one_factor": p.require_at_least_one_factor,
                "allowed_factor_types": p.allowed_factor_types.iter().map(|f| factor_name(*f)).collect::<Vec<_>>(),
                "fido2_rp_id": p.fido2_rp_id,
                "fido2_allowed_origins": p.fido2_allowed_origins,
                "fido2_require_user_verification": p.fido2_require_user_verification,
                "max_backup_codes": p.max_backup_codes,
            })
        }
    };
    match out {
        OutputFormat::Json => print_json(&v),
        OutputFormat::Text => {
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_and_tx_type_names_parse_in_every_spelling() {
        assert_eq!(factor_type("webauthn").unwrap(), FactorType::Fido2);
        assert_eq!(factor_type("FACTOR_TYPE_TOTP").unwrap(), FactorType::Totp);
        assert_eq!(factor_type("backup-code").unwrap(), FactorType::BackupCode);
        assert!(factor_type("retina").is_err());
        assert_eq!(
            tx_type("large-transfer").unwrap(),
            SensitiveTxType::LargeTransfer
        );
        assert_eq!(tx_type("1").unwrap(), SensitiveTxType::LargeTransfer);
        assert!(tx_type("0").is_err());
        assert_eq!(
            tx_type_name(SensitiveTxType::LargeTransfer as i32),
            "large-transfer"
        );
        let c = combos("veid+fido2, totp").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0].factors,
            vec![FactorType::Veid as i32, FactorType::Fido2 as i32]
        );
    }

    #[test]
    fn backup_codes_carry_64_bits() {
        let a = backup_code();
        assert_eq!(a.len(), 19);
        assert_eq!(a.replace('-', "").len(), 16);
        assert_ne!(a, backup_code());
    }
}
