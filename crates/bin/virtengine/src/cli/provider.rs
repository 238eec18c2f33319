//! `virtengine tx provider ...` and `virtengine query provider ...`: register a provider
//! from a YAML file, update or delete it, verify its domain (DNS TXT challenge confirmed by
//! an attestor's signed lookup), and look providers up. docs/provider.md has the rules.
//!
//! provider.yaml:
//! ```yaml
//! host: https://provider.example.com:8443
//! attributes:
//!   region: eu-west
//!   capabilities/gpu: a100
//! info:
//!   email: ops@example.com
//!   website: https://example.com
//! public_key: ""   # optional hex: 32-byte Ed25519 or 33-byte compressed secp256k1
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use serde_json::{json, Value};
use ve_client::QueryClient;
use ve_proto::virtengine::base::v1::Attribute;
use ve_proto::virtengine::provider::v1::*;
use ve_types::Address;

use crate::cli::deployment::signer;
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::query::query_error;
use crate::cli::tx::{broadcast, broadcast_for_result, TxCommon};

/// The provider file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderFile {
    pub host: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub info: InfoFile,
    #[serde(default)]
    pub public_key: String,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfoFile {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub website: String,
}

impl ProviderFile {
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_yaml::from_str(&text).with_context(|| {
            format!(
                "parsing {} (see `tx provider create --help`)",
                path.display()
            )
        })
    }

    fn parts(&self) -> Result<(Vec<Attribute>, Option<Info>, Vec<u8>)> {
        let attrs = attributes(&self.attributes);
        let info = Some(Info {
            email: self.info.email.clone(),
            website: self.info.website.clone(),
        });
        let pk = hex::decode(self.public_key.trim()).context("public_key must be hex")?;
        Ok((attrs, info, pk))
    }
}

pub(crate) fn attributes(m: &BTreeMap<String, String>) -> Vec<Attribute> {
    m.iter()
        .map(|(k, v)| Attribute {
            key: k.clone(),
            value: v.clone(),
        })
        .collect()
}

#[derive(Debug, Subcommand)]
pub enum ProviderTx {
    /// Register as a provider (needs VEID tier Standard and an MFA session for provider
    /// registration: pass it with --mfa-session).
    #[command(
        after_help = "Example:\n  virtengine tx provider create provider.yaml --from provider --mfa-session <id> --yes"
    )]
    Create {
        file: PathBuf,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Replace host, attributes, info and key (a new host drops domain verification).
    #[command(
        after_help = "Example:\n  virtengine tx provider update provider.yaml --from provider --yes"
    )]
    Update {
        file: PathBuf,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Delete the provider (refused while it has active leases).
    Delete {
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Domain verification of the host URI.
    #[command(subcommand)]
    VerifyDomain(VerifyDomain),
}

#[derive(Debug, Subcommand)]
pub enum VerifyDomain {
    /// Ask for a challenge token; publish the printed TXT record.
    #[command(
        after_help = "Example:\n  virtengine tx provider verify-domain request provider.example.com --from provider --yes"
    )]
    Request {
        domain: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Submit an attestor's signed DNS lookup: ask a running attestor service
    /// (--attestor-url; it resolves your TXT record now), or pass a signature obtained
    /// otherwise (`virtengine dns-attestor attest`, `sign`).
    #[command(
        after_help = "Examples:\n  virtengine tx provider verify-domain confirm --attestor-url http://attestor.example.com:8790 --from provider --yes\n  virtengine tx provider verify-domain confirm --attestor <hex pubkey> --observed-at 1700000000 --signature <hex> --from provider --yes"
    )]
    Confirm {
        /// Base URL of a `virtengine dns-attestor run` service.
        #[arg(long, conflicts_with_all = ["attestor", "observed_at", "signature"])]
        attestor_url: Option<String>,
        /// Hex Ed25519 public key of a registered attestor.
        #[arg(long, required_unless_present = "attestor_url")]
        attestor: Option<String>,
        /// Unix time of the lookup, as signed.
        #[arg(long, required_unless_present = "attestor_url")]
        observed_at: Option<i64>,
        /// Hex Ed25519 signature over the payload of docs/provider.md.
        #[arg(long, required_unless_present = "attestor_url")]
        signature: Option<String>,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Withdraw the verification (the host is no longer trusted).
    Revoke {
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Attestor side, offline: sign that the TXT record held the token (run after checking
    /// the record, e.g. `dig TXT _virtengine-verification.<domain>`). Prints the signature.
    #[command(
        after_help = "Example:\n  virtengine tx provider verify-domain sign --key-file attestor.key --chain-id virtengine-localnet-1 --owner ve1... --domain provider.example.com --token <hex> --observed-at 1700000000"
    )]
    Sign {
        /// File holding the attestor's 32-byte Ed25519 secret key as hex.
        #[arg(long)]
        key_file: PathBuf,
        #[arg(long)]
        chain_id: String,
        #[arg(long)]
        owner: String,
        #[arg(long)]
        domain: String,
        #[arg(long)]
        token: String,
        #[arg(long)]
        observed_at: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProviderQuery {
    /// One provider.
    #[command(after_help = "Example:\n  virtengine query provider get ve1...")]
    Get { address: String },
    /// Every provider (all pages).
    List,
    /// Domain verification status of a provider.
    Verification { address: String },
    /// Registered DNS attestors.
    Attestors,
}

fn any<M: prost::Message>(url: &str, m: &M) -> ve_proto::Any {
    ve_proto::to_any(url, m)
}

pub async fn run_tx(cmd: ProviderTx) -> Result<()> {
    match cmd {
        ProviderTx::Create { file, from, common } => {
            let f = ProviderFile::read(&file)?;
            let (attributes, info, public_key) = f.parts()?;
            let (kr, name, address) = signer(&common, &from)?;
            let m = MsgCreateProvider {
                owner: address.to_string(),
                host_uri: f.host.clone(),
                attributes,
                info,
                public_key,
            };
            let msg = any("/virtengine.provider.v1.MsgCreateProvider", &m);
            broadcast(
                &common,
                &kr,
                &name,
                vec![msg],
                &format!("register provider {address} at {}", f.host),
            )
            .await
        }
        ProviderTx::Update { file, from, common } => {
            let f = ProviderFile::read(&file)?;
            let (attributes, info, public_key) = f.parts()?;
            let (kr, name, address) = signer(&common, &from)?;
            let m = MsgUpdateProvider {
                owner: address.to_string(),
                host_uri: f.host.clone(),
                attributes,
                info,
                public_key,
            };
            let msg = any("/virtengine.provider.v1.MsgUpdateProvider", &m);
            broadcast(
                &common,
                &kr,
                &name,
                vec![msg],
                &format!("update provider {address}"),
            )
            .await
        }
        ProviderTx::Delete { from, common } => {
            let (kr, name, address) = signer(&common, &from)?;
            let m = MsgDeleteProvider {
                owner: address.to_string(),
            };
            let msg = any("/virtengine.provider.v1.MsgDeleteProvider", &m);
            broadcast(
                &common,
                &kr,
                &name,
                vec![msg],
                &format!("delete provider {address}"),
            )
            .await
        }
        ProviderTx::VerifyDomain(v) => run_verify(v).await,
    }
}

async fn run_verify(v: VerifyDomain) -> Result<()> {
    match v {
        VerifyDomain::Request {
            domain,
            from,
            common,
        } => {
            let (kr, name, address) = signer(&common, &from)?;
            let m = MsgRequestDomainVerification {
                owner: address.to_string(),
                domain: domain.clone(),
            };
            let msg = any("/virtengine.provider.v1.MsgRequestDomainVerification", &m);
            let r = broadcast_for_result(
                &common,
                &kr,
                &name,
                vec![msg],
                &format!("request verification of {domain}"),
                true,
            )
            .await?;
            if let Some(resp) = first_response::<MsgRequestDomainVerificationResponse>(&r) {
                println!("publish this DNS TXT record, then ask an attestor to confirm it:");
                println!("  name:    {}", resp.record_name);
                println!("  value:   {}", resp.record_value);
                println!("  token:   {}", resp.token);
                println!("  expires: {} (unix)", resp.expires_at);
            }
            Ok(())
        }
        VerifyDomain::Confirm {
            attestor_url,
            attestor,
            observed_at,
            signature,
            from,
            common,
        } => {
            let (kr, name, address) = signer(&common, &from)?;
            let (attestor, observed_at, signature) = match attestor_url {
                Some(url) => ask_attestor(&common, &address, &url).await?,
                None => (
                    attestor.context("--attestor is required without --attestor-url")?,
                    observed_at.context("--observed-at is required without --attestor-url")?,
                    signature.context("--signature is required without --attestor-url")?,
                ),
            };
            let m = MsgConfirmDomainVerification {
                owner: address.to_string(),
                attestor_public_key: hex::decode(&attestor).context("--attestor must be hex")?,
                observed_at,
                signature: hex::decode(&signature).context("--signature must be hex")?,
            };
            let msg = any("/virtengine.provider.v1.MsgConfirmDomainVerification", &m);
            broadcast(
                &common,
                &kr,
                &name,
                vec![msg],
                "confirm domain verification",
            )
            .await
        }
        VerifyDomain::Revoke { from, common } => {
            let (kr, name, address) = signer(&common, &from)?;
            let m = MsgRevokeDomainVerification {
                owner: address.to_string(),
            };
            let msg = any("/virtengine.provider.v1.MsgRevokeDomainVerification", &m);
            broadcast(&common, &kr, &name, vec![msg], "revoke domain verification").await
        }
        VerifyDomain::Sign {
            key_file,
            chain_id,
            owner,
            domain,
            token,
            observed_at,
        } => {
            use ed25519_dalek::Signer;
            let text = std::fs::read_to_string(&key_file)
                .with_context(|| format!("reading {}", key_file.display()))?;
            let bytes = hex::decode(text.trim()).context("key file must hold 32 bytes of hex")?;
            let Ok(seed) = <[u8; 32]>::try_from(bytes.as_slice()) else {
                bail!("key file must hold exactly 32 bytes of hex");
            };
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            let payload = ve_provider::domain::attestation_payload(
                &chain_id,
                &owner,
                &domain,
                &token,
                observed_at,
            );
            println!("attestor:  {}", hex::encode(key.verifying_key().to_bytes()));
            println!("signature: {}", hex::encode(key.sign(&payload).to_bytes()));
            Ok(())
        }
    }
}

/// Reads the provider's pending challenge from the chain and asks the attestor service at
/// `url` to confirm it; returns (attestor key, observed_at, signature).
async fn ask_attestor(c: &TxCommon, owner: &Address, url: &str) -> Result<(String, i64, String)> {
    let node = crate::cli::query::connect(&c.node.node)?;
    let r: QueryDomainVerificationResponse = QueryClient::new(&node)
        .query(
            "/virtengine.provider.v1.Query/DomainVerification",
            &QueryDomainVerificationRequest {
                owner: owner.to_string(),
            },
        )
        .await
        .map_err(|e| query_error(&c.node.node, e))?;
    let v = r
        .verification
        .context("no domain verification: run `tx provider verify-domain request` first")?;
    let challenge = ve_dns_attestor::Challenge {
        owner: owner.to_string(),
        domain: v.domain.clone(),
        token: v.token.clone(),
    };
    let endpoint = format!("{}/v1/attest", url.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .post(&endpoint)
        .json(&challenge)
        .send()
        .await
        .with_context(|| format!("asking the attestor at {endpoint}"))?;
    let status = resp.status();
    let body: Value = resp
        .json()
        .await
        .with_context(|| format!("reading the attestor's answer ({status})"))?;
    if !status.is_success() {
        bail!(
            "the attestor refused ({status}): {}",
            body["error"].as_str().unwrap_or("no reason given")
        );
    }
    let a: ve_dns_attestor::Attestation =
        serde_json::from_value(body).context("the attestor's answer is not an attestation")?;
    eprintln!(
        "attestor {} saw {} in {} at {}",
        a.attestor_public_key, v.record_value, v.record_name, a.observed_at
    );
    Ok((a.attestor_public_key, a.observed_at, a.signature))
}

pub(crate) fn first_response<M: prost::Message + Default>(
    r: &ve_client::rpc_types::TxResult,
) -> Option<M> {
    use prost::Message;
    let d = ve_proto::cosmos::base::abci::v1beta1::TxMsgData::decode(r.data.as_slice()).ok()?;
    M::decode(d.msg_responses.first()?.value.as_slice()).ok()
}

fn status(s: i32) -> &'static str {
    match VerificationStatus::try_from(s) {
        Ok(VerificationStatus::Pending) => "pending",
        Ok(VerificationStatus::Verified) => "verified",
        Ok(VerificationStatus::Expired) => "expired",
        Ok(VerificationStatus::Revoked) => "revoked",
        _ => "unspecified",
    }
}

pub(crate) fn attrs_json(a: &[Attribute]) -> Value {
    Value::Object(
        a.iter()
            .map(|x| (x.key.clone(), Value::String(x.value.clone())))
            .collect(),
    )
}

fn provider_json(p: &Provider) -> Value {
    let info = p.info.clone().unwrap_or_default();
    json!({
        "owner": p.owner,
        "host_uri": p.host_uri,
        "host_trusted": p.host_trusted,
        "attributes": attrs_json(&p.attributes),
        "email": info.email,
        "website": info.website,
        "public_key": hex::encode(&p.public_key),
        "created_height": p.created_height.to_string(),
    })
}

fn print_provider(p: &Provider) {
    println!("provider: {}", p.owner);
    println!(
        "  host:    {}{}",
        p.host_uri,
        if p.host_trusted {
            " (domain verified)"
        } else {
            ""
        }
    );
    for a in &p.attributes {
        println!("  {} = {}", a.key, a.value);
    }
    if let Some(i) = &p.info {
        if !i.email.is_empty() {
            println!("  email:   {}", i.email);
        }
        if !i.website.is_empty() {
            println!("  website: {}", i.website);
        }
    }
}

pub async fn run_query(
    q: &QueryClient<'_>,
    url: &str,
    out: OutputFormat,
    address: impl Fn(&str) -> Result<Address>,
    cmd: &ProviderQuery,
) -> Result<()> {
    match cmd {
        ProviderQuery::Get { address: a } => {
            let owner = address(a)?;
            let r: QueryProviderResponse = q
                .query(
                    "/virtengine.provider.v1.Query/Provider",
                    &QueryProviderRequest {
                        owner: owner.to_string(),
                    },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            let p = r.provider.context("node answered without a provider")?;
            match out {
                OutputFormat::Json => print_json(&provider_json(&p)),
                OutputFormat::Text => {
                    print_provider(&p);
                    Ok(())
                }
            }
        }
        ProviderQuery::List => {
            let path = "/virtengine.provider.v1.Query/Providers";
            let all = q
                .paged(path, |pagination| {
                    let req = QueryProvidersRequest { pagination };
                    async move {
                        let r: QueryProvidersResponse = q.query(path, &req).await?;
                        Ok((r.providers, r.pagination))
                    }
                })
                .await
                .map_err(|e| query_error(url, e))?;
            match out {
                OutputFormat::Json => print_json(
                    &json!({ "providers": all.iter().map(provider_json).collect::<Vec<_>>() }),
                ),
                OutputFormat::Text => {
                    if all.is_empty() {
                        println!("no providers");
                    }
                    all.iter().for_each(print_provider);
                    Ok(())
                }
            }
        }
        ProviderQuery::Verification { address: a } => {
            let owner = address(a)?;
            let r: QueryDomainVerificationResponse = q
                .query(
                    "/virtengine.provider.v1.Query/DomainVerification",
                    &QueryDomainVerificationRequest {
                        owner: owner.to_string(),
                    },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            let v = r
                .verification
                .context("node answered without a verification")?;
            let j = json!({
                "provider": v.provider, "domain": v.domain, "status": status(v.status),
                "token": v.token, "record_name": v.record_name, "record_value": v.record_value,
                "requested_at": v.requested_at, "expires_at": v.expires_at,
                "verified_at": v.verified_at, "attestor": v.attestor,
            });
            match out {
                OutputFormat::Json => print_json(&j),
                OutputFormat::Text => {
                    println!(
                        "domain {} of {}: {}",
                        v.domain,
                        v.provider,
                        status(v.status)
                    );
                    println!("  TXT {} = {}", v.record_name, v.record_value);
                    Ok(())
                }
            }
        }
        ProviderQuery::Attestors => {
            let r: QueryAttestorsResponse = q
                .query(
                    "/virtengine.provider.v1.Query/Attestors",
                    &QueryAttestorsRequest {},
                )
                .await
                .map_err(|e| query_error(url, e))?;
            let list: Vec<Value> = r
                .attestors
                .iter()
                .map(|a| json!({"public_key": hex::encode(&a.public_key), "description": a.description, "added_by": a.added_by}))
                .collect();
            match out {
                OutputFormat::Json => print_json(&json!({ "attestors": list })),
                OutputFormat::Text => {
                    for a in &r.attestors {
                        println!("{}  {}", hex::encode(&a.public_key), a.description);
                    }
                    Ok(())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use clap::{CommandFactory, Parser};

    fn parses(args: &[&str]) {
        let mut full = vec!["virtengine"];
        full.extend_from_slice(args);
        if let Err(e) = crate::Cli::try_parse_from(&full) {
            panic!("{args:?}: {e}");
        }
    }

    #[test]
    fn catalogue_commands_are_well_formed_and_parse() {
        crate::Cli::command().debug_assert();
        parses(&[
            "tx",
            "provider",
            "create",
            "p.yaml",
            "--from",
            "a",
            "--mfa-session",
            "s1",
        ]);
        parses(&[
            "tx",
            "provider",
            "verify-domain",
            "request",
            "p.example.com",
            "--from",
            "a",
        ]);
        parses(&[
            "tx",
            "provider",
            "verify-domain",
            "sign",
            "--key-file",
            "k",
            "--chain-id",
            "c",
            "--owner",
            "ve1x",
            "--domain",
            "p.example.com",
            "--token",
            "t",
            "--observed-at",
            "5",
        ]);
        parses(&[
            "tx",
            "audit",
            "attr-sign",
            "ve1x",
            "region=eu",
            "--from",
            "a",
        ]);
        parses(&["tx", "audit", "attr-delete", "ve1x", "--from", "a"]);
        parses(&["tx", "cert", "generate", "--from", "a", "--days", "30"]);
        parses(&["tx", "cert", "revoke", "12", "--from", "a"]);
        parses(&[
            "tx",
            "offering",
            "order",
            "ve1x",
            "1",
            "--units",
            "2",
            "--deposit",
            "5uve",
            "--manifest-hash",
            "00",
            "--from",
            "a",
        ]);
        parses(&["query", "provider", "list", "-o", "json"]);
        parses(&["query", "audit", "auditor", "ve1x", "--provider", "ve1y"]);
        parses(&["query", "cert", "list", "--owner", "a", "--state", "valid"]);
        parses(&[
            "query",
            "offering",
            "list",
            "--category",
            "gpu",
            "--active-only",
        ]);
    }

    #[test]
    fn provider_and_offering_files_parse() {
        let p: super::ProviderFile = serde_yaml::from_str(
            "host: https://p.example.com:8443\nattributes:\n  region: eu-west\ninfo:\n  email: ops@example.com\n",
        )
        .unwrap();
        let (attrs, info, pk) = p.parts().unwrap();
        assert_eq!(attrs[0].key, "region");
        assert_eq!(info.unwrap().email, "ops@example.com");
        assert!(pk.is_empty());
        let o: crate::cli::offering::OfferingFile = serde_yaml::from_str(
            "category: gpu\nname: A100\nprice_per_block: 100uve\nresources: { cpu_millicores: 8000, memory_bytes: 1024, gpu_count: 1 }\nmin_tier: 2\n",
        )
        .unwrap();
        assert_eq!(o.resources.gpu_count, 1);
        assert!(serde_yaml::from_str::<super::ProviderFile>("host: x\nunknown: 1\n").is_err());
    }
}
