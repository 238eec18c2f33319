//! `virtengine tx offering create|update|deactivate|order` and `virtengine query offering
//! list|get`: the provider catalogue. Ordering an offering creates your deployment (the
//! deposit goes to escrow and a market order opens); offerings may require a VEID tier and
//! an MFA session (`--mfa-session`).
//!
//! offering.yaml:
//! ```yaml
//! category: gpu            # compute | storage | gpu | hpc | tee
//! name: A100 node
//! description: one A100, 8 cores
//! price_per_block: 100uve  # per unit
//! resources: { cpu_millicores: 8000, memory_bytes: 34359738368, storage_bytes: 107374182400, gpu_count: 1, gpu_model: a100 }
//! min_tier: 2              # 0 unverified .. 3 premium
//! require_mfa: false
//! attributes: { region: eu-west }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use serde_json::{json, Value};
use sha2::Digest;
use ve_client::QueryClient;
use ve_proto::virtengine::offering::v1::*;
use ve_types::{Address, Coin};

use crate::cli::deployment::{proto_coin, signer};
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::provider::{attributes, attrs_json, first_response};
use crate::cli::query::query_error;
use crate::cli::tx::{broadcast, broadcast_for_result, TxCommon};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferingFile {
    pub category: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub price_per_block: String,
    pub resources: ResourcesFile,
    #[serde(default)]
    pub min_tier: u32,
    #[serde(default)]
    pub require_mfa: bool,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourcesFile {
    pub cpu_millicores: u64,
    pub memory_bytes: u64,
    #[serde(default)]
    pub storage_bytes: u64,
    #[serde(default)]
    pub gpu_count: u32,
    #[serde(default)]
    pub gpu_model: String,
}

fn category(s: &str) -> Result<Category> {
    Ok(match s {
        "compute" => Category::Compute,
        "storage" => Category::Storage,
        "gpu" => Category::Gpu,
        "hpc" => Category::Hpc,
        "tee" => Category::Tee,
        other => bail!("category {other:?} must be compute, storage, gpu, hpc or tee"),
    })
}

fn category_name(c: i32) -> &'static str {
    match Category::try_from(c) {
        Ok(Category::Compute) => "compute",
        Ok(Category::Storage) => "storage",
        Ok(Category::Gpu) => "gpu",
        Ok(Category::Hpc) => "hpc",
        Ok(Category::Tee) => "tee",
        _ => "unspecified",
    }
}

impl OfferingFile {
    fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_yaml::from_str(&text).with_context(|| {
            format!(
                "parsing {} (see `tx offering create --help`)",
                path.display()
            )
        })
    }
    fn price(&self) -> Result<Coin> {
        self.price_per_block
            .parse()
            .with_context(|| format!("price_per_block {:?}", self.price_per_block))
    }
    fn template(&self) -> ResourceTemplate {
        ResourceTemplate {
            cpu_millicores: self.resources.cpu_millicores,
            memory_bytes: self.resources.memory_bytes,
            storage_bytes: self.resources.storage_bytes,
            gpu_count: self.resources.gpu_count,
            gpu_model: self.resources.gpu_model.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum OfferingTx {
    /// Publish an offering (you must be a registered provider with VEID tier Standard).
    #[command(
        after_help = "Example:\n  virtengine tx offering create offering.yaml --from provider --yes"
    )]
    Create {
        file: PathBuf,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Replace an active offering's fields (the category stays).
    Update {
        seq: u64,
        file: PathBuf,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Stop taking orders for an offering.
    Deactivate {
        seq: u64,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Order `--units` of an offering: creates your deployment with `--deposit` in escrow.
    #[command(
        after_help = "Example:\n  virtengine tx offering order ve1...provider 1 --units 2 --deposit 5000000uve --manifest manifest.yaml --from tenant --yes"
    )]
    Order {
        provider: String,
        seq: u64,
        #[arg(long, default_value_t = 1)]
        units: u32,
        #[arg(long)]
        deposit: String,
        /// Manifest file: its SHA-256 goes on chain (or give --manifest-hash).
        #[arg(long, conflicts_with = "manifest_hash")]
        manifest: Option<PathBuf>,
        /// Hex SHA-256 of the manifest.
        #[arg(long)]
        manifest_hash: Option<String>,
        /// Deployment sequence (default: the block height).
        #[arg(long, default_value_t = 0)]
        dseq: u64,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
}

#[derive(Debug, Subcommand)]
pub enum OfferingQuery {
    /// Offerings, optionally of one provider / category, active only.
    #[command(
        after_help = "Example:\n  virtengine query offering list --category gpu --active-only"
    )]
    List {
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        active_only: bool,
    },
    /// One offering.
    Get { provider: String, seq: u64 },
}

pub async fn run_tx(cmd: OfferingTx) -> Result<()> {
    match cmd {
        OfferingTx::Create { file, from, common } => {
            let f = OfferingFile::read(&file)?;
            let (kr, name, address) = signer(&common, &from)?;
            let m = MsgCreateOffering {
                provider: address.to_string(),
                category: category(&f.category)? as i32,
                name: f.name.clone(),
                description: f.description.clone(),
                price_per_block: Some(proto_coin(&f.price()?)),
                resources: Some(f.template()),
                min_tier: f.min_tier,
                require_mfa: f.require_mfa,
                attributes: attributes(&f.attributes),
            };
            let msg = ve_proto::to_any("/virtengine.offering.v1.MsgCreateOffering", &m);
            let r = broadcast_for_result(
                &common,
                &kr,
                &name,
                vec![msg],
                &format!("publish offering {:?}", f.name),
                true,
            )
            .await?;
            if let Some(resp) = first_response::<MsgCreateOfferingResponse>(&r) {
                println!("offering: {address}/{}", resp.seq);
            }
            Ok(())
        }
        OfferingTx::Update {
            seq,
            file,
            from,
            common,
        } => {
            let f = OfferingFile::read(&file)?;
            let (kr, name, address) = signer(&common, &from)?;
            let m = MsgUpdateOffering {
                provider: address.to_string(),
                seq,
                name: f.name.clone(),
                description: f.description.clone(),
                price_per_block: Some(proto_coin(&f.price()?)),
                resources: Some(f.template()),
                min_tier: f.min_tier,
                require_mfa: f.require_mfa,
                attributes: attributes(&f.attributes),
            };
            let msg = ve_proto::to_any("/virtengine.offering.v1.MsgUpdateOffering", &m);
            broadcast(
                &common,
                &kr,
                &name,
                vec![msg],
                &format!("update offering {address}/{seq}"),
            )
            .await
        }
        OfferingTx::Deactivate { seq, from, common } => {
            let (kr, name, address) = signer(&common, &from)?;
            let m = MsgDeactivateOffering {
                provider: address.to_string(),
                seq,
            };
            let msg = ve_proto::to_any("/virtengine.offering.v1.MsgDeactivateOffering", &m);
            broadcast(
                &common,
                &kr,
                &name,
                vec![msg],
                &format!("deactivate offering {address}/{seq}"),
            )
            .await
        }
        OfferingTx::Order {
            provider,
            seq,
            units,
            deposit,
            manifest,
            manifest_hash,
            dseq,
            from,
            common,
        } => {
            let provider: Address = provider.parse()?;
            let deposit: Coin = deposit
                .parse()
                .with_context(|| format!("--deposit {deposit:?}"))?;
            let hash = match (manifest, manifest_hash) {
                (Some(path), _) => {
                    let bytes = std::fs::read(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    sha2::Sha256::digest(&bytes).to_vec()
                }
                (None, Some(h)) => hex::decode(h.trim()).context("--manifest-hash must be hex")?,
                (None, None) => bail!("give --manifest FILE or --manifest-hash HEX"),
            };
            let (kr, name, address) = signer(&common, &from)?;
            let m = MsgOrderOffering {
                tenant: address.to_string(),
                provider: provider.to_string(),
                seq,
                units,
                deposit: Some(proto_coin(&deposit)),
                manifest_hash: hash,
                dseq,
            };
            let msg = ve_proto::to_any("/virtengine.offering.v1.MsgOrderOffering", &m);
            let r = broadcast_for_result(
                &common,
                &kr,
                &name,
                vec![msg],
                &format!("order {units} unit(s) of {provider}/{seq} with {deposit} deposit"),
                true,
            )
            .await?;
            if let Some(resp) = first_response::<MsgOrderOfferingResponse>(&r) {
                println!("deployment: {}/{}", resp.owner, resp.dseq);
            }
            Ok(())
        }
    }
}

fn offering_json(o: &Offering) -> Value {
    let price = o.price_per_block.clone().unwrap_or_default();
    let r = o.resources.clone().unwrap_or_default();
    json!({
        "id": format!("{}/{}", o.provider, o.seq),
        "provider": o.provider, "seq": o.seq.to_string(),
        "state": if o.state == OfferingState::Active as i32 { "active" } else { "inactive" },
        "category": category_name(o.category), "name": o.name, "description": o.description,
        "price_per_block": format!("{}{}", price.amount, price.denom),
        "resources": {"cpu_millicores": r.cpu_millicores.to_string(), "memory_bytes": r.memory_bytes.to_string(),
            "storage_bytes": r.storage_bytes.to_string(), "gpu_count": r.gpu_count, "gpu_model": r.gpu_model},
        "min_tier": o.min_tier, "require_mfa": o.require_mfa,
        "attributes": attrs_json(&o.attributes), "order_count": o.order_count.to_string(),
    })
}

fn print_offering(o: &Offering) {
    let price = o.price_per_block.clone().unwrap_or_default();
    println!(
        "{}/{} [{}] {} — {}{} per unit per block, tier >= {}{}{}",
        o.provider,
        o.seq,
        category_name(o.category),
        o.name,
        price.amount,
        price.denom,
        o.min_tier,
        if o.require_mfa { ", MFA" } else { "" },
        if o.state == OfferingState::Active as i32 {
            ""
        } else {
            " (inactive)"
        }
    );
}

pub async fn run_query(
    q: &QueryClient<'_>,
    url: &str,
    out: OutputFormat,
    address: impl Fn(&str) -> Result<Address>,
    cmd: &OfferingQuery,
) -> Result<()> {
    match cmd {
        OfferingQuery::Get { provider, seq } => {
            let r: QueryOfferingResponse = q
                .query(
                    "/virtengine.offering.v1.Query/Offering",
                    &QueryOfferingRequest {
                        provider: address(provider)?.to_string(),
                        seq: *seq,
                    },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            let o = r.offering.context("node answered without an offering")?;
            match out {
                OutputFormat::Json => print_json(&offering_json(&o)),
                OutputFormat::Text => {
                    print_offering(&o);
                    Ok(())
                }
            }
        }
        OfferingQuery::List {
            provider,
            category: cat,
            active_only,
        } => {
            let provider = provider
                .as_deref()
                .map(&address)
                .transpose()?
                .map(|a| a.to_string())
                .unwrap_or_default();
            let cat = cat
                .as_deref()
                .map(category)
                .transpose()?
                .map_or(0, |c| c as i32);
            let path = "/virtengine.offering.v1.Query/Offerings";
            let all = q
                .paged(path, |pagination| {
                    let req = QueryOfferingsRequest {
                        provider: provider.clone(),
                        category: cat,
                        active_only: *active_only,
                        pagination,
                    };
                    async move {
                        let r: QueryOfferingsResponse = q.query(path, &req).await?;
                        Ok((r.offerings, r.pagination))
                    }
                })
                .await
                .map_err(|e| query_error(url, e))?;
            match out {
                OutputFormat::Json => print_json(
                    &json!({ "offerings": all.iter().map(offering_json).collect::<Vec<_>>() }),
                ),
                OutputFormat::Text => {
                    if all.is_empty() {
                        println!("no offerings");
                    }
                    all.iter().for_each(print_offering);
                    Ok(())
                }
            }
        }
    }
}
