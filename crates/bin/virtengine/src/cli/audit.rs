//! `virtengine tx audit attr-sign|attr-delete` and `virtengine query audit ...`: auditors
//! vouch for provider attributes; tenants name auditors in `signedBy` placement rules.

use anyhow::{bail, Result};
use clap::Subcommand;
use serde_json::{json, Value};
use ve_client::QueryClient;
use ve_proto::virtengine::audit::v1::*;
use ve_proto::virtengine::base::v1::Attribute;
use ve_types::Address;

use crate::cli::deployment::signer;
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::provider::attrs_json;
use crate::cli::query::query_error;
use crate::cli::tx::{broadcast, TxCommon};

#[derive(Debug, Subcommand)]
pub enum AuditTx {
    /// Sign attributes of a provider as auditor (given keys replace your earlier values).
    #[command(
        after_help = "Example:\n  virtengine tx audit attr-sign ve1...provider region=eu-west tier=community --from auditor --yes"
    )]
    AttrSign {
        /// Provider address.
        provider: String,
        /// key=value pairs.
        #[arg(required = true)]
        attributes: Vec<String>,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Withdraw signed attributes: the given keys, or all of them.
    #[command(
        after_help = "Example:\n  virtengine tx audit attr-delete ve1...provider tier --from auditor --yes"
    )]
    AttrDelete {
        provider: String,
        keys: Vec<String>,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditQuery {
    /// Attributes every auditor signed for a provider.
    #[command(after_help = "Example:\n  virtengine query audit provider ve1...")]
    Provider { address: String },
    /// Attributes an auditor signed, for every provider (or one with --provider).
    Auditor {
        address: String,
        #[arg(long)]
        provider: Option<String>,
    },
    /// Every signed record.
    All,
}

fn parse_pairs(pairs: &[String]) -> Result<Vec<Attribute>> {
    pairs
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok(Attribute {
                key: k.to_string(),
                value: v.to_string(),
            }),
            _ => bail!("attribute {p:?} must be key=value"),
        })
        .collect()
}

pub async fn run_tx(cmd: AuditTx) -> Result<()> {
    match cmd {
        AuditTx::AttrSign {
            provider,
            attributes,
            from,
            common,
        } => {
            let owner: Address = provider.parse()?;
            let attributes = parse_pairs(&attributes)?;
            let (kr, name, address) = signer(&common, &from)?;
            let m = MsgSignProviderAttributes {
                owner: owner.to_string(),
                auditor: address.to_string(),
                attributes,
            };
            let msg = ve_proto::to_any("/virtengine.audit.v1.MsgSignProviderAttributes", &m);
            broadcast(
                &common,
                &kr,
                &name,
                vec![msg],
                &format!("sign attributes of {owner} as {address}"),
            )
            .await
        }
        AuditTx::AttrDelete {
            provider,
            keys,
            from,
            common,
        } => {
            let owner: Address = provider.parse()?;
            let (kr, name, address) = signer(&common, &from)?;
            let what = if keys.is_empty() {
                "all".to_string()
            } else {
                keys.join(",")
            };
            let m = MsgDeleteProviderAttributes {
                owner: owner.to_string(),
                auditor: address.to_string(),
                keys,
            };
            let msg = ve_proto::to_any("/virtengine.audit.v1.MsgDeleteProviderAttributes", &m);
            broadcast(
                &common,
                &kr,
                &name,
                vec![msg],
                &format!("delete {what} signed attributes of {owner}"),
            )
            .await
        }
    }
}

fn record_json(r: &AuditedAttributes) -> Value {
    json!({"owner": r.owner, "auditor": r.auditor, "attributes": attrs_json(&r.attributes), "updated_height": r.updated_height.to_string()})
}

fn print_records(out: OutputFormat, recs: &[AuditedAttributes]) -> Result<()> {
    match out {
        OutputFormat::Json => {
            print_json(&json!({ "providers": recs.iter().map(record_json).collect::<Vec<_>>() }))
        }
        OutputFormat::Text => {
            if recs.is_empty() {
                println!("no signed attributes");
            }
            for r in recs {
                println!("provider {} signed by {}:", r.owner, r.auditor);
                for a in &r.attributes {
                    println!("  {} = {}", a.key, a.value);
                }
            }
            Ok(())
        }
    }
}

pub async fn run_query(
    q: &QueryClient<'_>,
    url: &str,
    out: OutputFormat,
    address: impl Fn(&str) -> Result<Address>,
    cmd: &AuditQuery,
) -> Result<()> {
    let recs = match cmd {
        AuditQuery::Provider { address: a } => {
            let owner = address(a)?.to_string();
            let path = "/virtengine.audit.v1.Query/ProviderAttributes";
            q.paged(path, |pagination| {
                let req = QueryProviderAttributesRequest {
                    owner: owner.clone(),
                    pagination,
                };
                async move {
                    let r: QueryProvidersResponse = q.query(path, &req).await?;
                    Ok((r.providers, r.pagination))
                }
            })
            .await
            .map_err(|e| query_error(url, e))?
        }
        AuditQuery::Auditor {
            address: a,
            provider: Some(p),
        } => {
            let req = QueryProviderAuditorRequest {
                auditor: address(a)?.to_string(),
                owner: address(p)?.to_string(),
            };
            let r: QueryProvidersResponse = q
                .query("/virtengine.audit.v1.Query/ProviderAuditorAttributes", &req)
                .await
                .map_err(|e| query_error(url, e))?;
            r.providers
        }
        AuditQuery::Auditor {
            address: a,
            provider: None,
        } => {
            let auditor = address(a)?.to_string();
            let path = "/virtengine.audit.v1.Query/AuditorAttributes";
            q.paged(path, |pagination| {
                let req = QueryAuditorAttributesRequest {
                    auditor: auditor.clone(),
                    pagination,
                };
                async move {
                    let r: QueryProvidersResponse = q.query(path, &req).await?;
                    Ok((r.providers, r.pagination))
                }
            })
            .await
            .map_err(|e| query_error(url, e))?
        }
        AuditQuery::All => {
            let path = "/virtengine.audit.v1.Query/AllProvidersAttributes";
            q.paged(path, |pagination| {
                let req = QueryAllProvidersAttributesRequest { pagination };
                async move {
                    let r: QueryProvidersResponse = q.query(path, &req).await?;
                    Ok((r.providers, r.pagination))
                }
            })
            .await
            .map_err(|e| query_error(url, e))?
        }
    };
    print_records(out, &recs)
}
