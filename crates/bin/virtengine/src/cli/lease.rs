//! `virtengine lease status|logs|close DSEQ`: a tenant's view of one of its leases — the
//! lease on chain and, from the provider's API (docs/provider-daemon.md), the workload's
//! phase, services, endpoints and logs — and closing it.
//!
//! The lease is on the `--from` key's order `DSEQ/--gseq/--oseq`. Without `--provider` it
//! is that order's live lease on chain (active, or paused for insufficient funds); there
//! is at most one. Requests to the provider go to its on-chain `host_uri` and are signed
//! with the `--from` key: a provider answers only the lease's owner.
//!
//! Also home to what `virtengine deploy` shares with these commands: finding the
//! provider's API, unlocking the tenant's key and printing a provider's lease status.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use ve_backend::{Endpoint, FailureReason, Protocol, ServiceState};
use ve_client::QueryClient;
use ve_crypto::PrivateKey;
use ve_proto::virtengine::market::v1::{
    BidId, Filters, Lease, LeaseState, QueryLeasesRequest, QueryLeasesResponse,
};
use ve_proto::virtengine::provider::v1::{QueryProviderRequest, QueryProviderResponse};
use ve_provider_daemon::api::{LeasePhase, ProviderClient};
use ve_provider_daemon::events::OrderKey;
use ve_types::Address;

use crate::cli::deployment::PageArgs;
use crate::cli::deployment::{signer, signer_in};
use crate::cli::keys::{unlock_passphrase, KeyringArgs};
use crate::cli::market::{coin_text, id_text, list, lstate, LeaseTx, MarketTx, OrderArgs};
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::query::{connect, query_error};
use crate::cli::tx::TxCommon;
use crate::cli::NodeArgs;

/// No --limit/--page-key: list queries follow every page.
pub(crate) const EVERY_PAGE: PageArgs = PageArgs {
    limit: None,
    page_key: None,
};

#[derive(Debug, Args)]
pub struct LeaseArgs {
    #[command(subcommand)]
    pub cmd: LeaseCmd,
}

#[derive(Debug, Subcommand)]
pub enum LeaseCmd {
    /// The lease's state on chain and, from its provider, the workload's phase, services
    /// and endpoints.
    #[command(after_help = "Examples:\n  \
        virtengine lease status 42 --from alice\n  \
        virtengine lease status 42 --gseq 2 --provider ve1...prov --from alice --output json\n\n\
        Without --provider the order's live lease (active or insufficient_funds) is used; with\n\
        it, that provider's lease in any state. The request to the provider is signed with the\n\
        --from key. Exit status 1 if the provider could not be asked (the chain part is still\n\
        printed, with `provider_error` in JSON).")]
    Status {
        #[command(flatten)]
        lease: LeaseSelect,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// The last lines a service of the lease wrote (stdout and stderr), from its provider.
    #[command(after_help = "Example:\n  \
        virtengine lease logs 42 --service web --tail 50 --from alice")]
    Logs {
        #[command(flatten)]
        lease: LeaseSelect,
        /// The service (its name in the SDL file).
        #[arg(long)]
        service: String,
        /// How many of the last lines.
        #[arg(long, default_value_t = 100)]
        tail: usize,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Close the lease (MsgCloseLease): the provider is paid up to this block and tears the
    /// workload down; the deployment stays open (close it with `tx deployment close`).
    #[command(after_help = "Example:\n  \
        virtengine lease close 42 --from alice --yes\n\n\
        Without --provider the order's live lease on chain is closed.")]
    Close {
        #[command(flatten)]
        lease: LeaseSelect,
        /// The tenant's key (name or address): owner of the deployment.
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
}

/// Which lease: the tenant's order `DSEQ/gseq/oseq` and, optionally, the provider.
#[derive(Debug, Clone, Args)]
pub struct LeaseSelect {
    /// Deployment sequence (printed by `virtengine deploy`).
    pub dseq: u64,
    /// Group of the deployment.
    #[arg(long, default_value_t = 1)]
    pub gseq: u32,
    /// Order of the group.
    #[arg(long, default_value_t = 1)]
    pub oseq: u32,
    /// Provider (address or key name); default: the provider of the order's live lease.
    #[arg(long)]
    pub provider: Option<String>,
}

/// Flags of the commands that sign no transaction, only requests to the provider.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The tenant's key (name or address): owner of the deployment, signs the requests.
    #[arg(long)]
    pub from: String,
    #[command(flatten)]
    pub node: NodeArgs,
    /// Keyring home directory [default: ~/.virtengine-localnet].
    #[arg(long, env = "VIRTENGINE_HOME")]
    pub home: Option<PathBuf>,
    #[command(flatten)]
    pub keyring: KeyringArgs,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

pub async fn run(args: LeaseArgs) -> Result<()> {
    match args.cmd {
        LeaseCmd::Status { lease, read } => status(&lease, &read).await,
        LeaseCmd::Logs {
            lease,
            service,
            tail,
            read,
        } => logs(&lease, &service, tail, &read).await,
        LeaseCmd::Close {
            lease,
            from,
            common,
        } => close(lease, from, common).await,
    }
}

/// The order part of a lease id, as the provider API names it.
pub(crate) fn order_key(id: &BidId) -> OrderKey {
    OrderKey {
        owner: id.owner.clone(),
        dseq: id.dseq,
        gseq: id.gseq,
        oseq: id.oseq,
    }
}

/// Active, or paused for insufficient funds (it resumes when the escrow is topped up).
fn is_live(l: &Lease) -> bool {
    matches!(
        LeaseState::try_from(l.state),
        Ok(LeaseState::Active | LeaseState::InsufficientFunds)
    )
}

/// The lease a command means among the deployment's leases: with `provider`, that
/// provider's lease on the order in any state; without, the order's one live lease.
pub(crate) fn pick_lease<'a>(
    leases: &'a [Lease],
    owner: &str,
    dseq: u64,
    gseq: u32,
    oseq: u32,
    provider: Option<&str>,
) -> Result<&'a Lease> {
    let order = format!("{owner}/{dseq}/{gseq}/{oseq}");
    let on_order: Vec<&Lease> = leases
        .iter()
        .filter(|l| {
            l.id.as_ref().is_some_and(|id| {
                id.owner == owner && id.dseq == dseq && id.gseq == gseq && id.oseq == oseq
            })
        })
        .collect();
    if let Some(p) = provider {
        return on_order
            .into_iter()
            .find(|l| l.id.as_ref().is_some_and(|id| id.provider == p))
            .with_context(|| {
                format!(
                    "order {order} has no lease with provider {p}: list the deployment's leases \
                     with `virtengine query market leases --owner {owner} --dseq {dseq}`"
                )
            });
    }
    let mut live = on_order.iter().copied().filter(|l| is_live(l));
    match (live.next(), live.next()) {
        (Some(l), None) => Ok(l),
        (Some(_), Some(_)) => bail!("order {order} has more than one live lease: pass --provider"),
        (None, _) if on_order.is_empty() => bail!(
            "order {order} has no lease: create one with `virtengine deploy`, or pick another \
             group/order with --gseq/--oseq"
        ),
        (None, _) => bail!(
            "order {order} has no active lease ({} closed one(s)): pass --provider to see a \
             closed lease",
            on_order.len()
        ),
    }
}

/// Every lease of the deployment `owner/dseq`, in any state.
async fn deployment_leases(
    q: &QueryClient<'_>,
    url: &str,
    owner: &Address,
    dseq: u64,
) -> Result<Vec<Lease>> {
    let filters = Filters {
        owner: owner.to_string(),
        dseq,
        ..Default::default()
    };
    let (leases, _) = list!(
        q,
        url,
        "/virtengine.market.v1.Query/Leases",
        QueryLeasesRequest,
        QueryLeasesResponse,
        leases,
        filters,
        EVERY_PAGE
    );
    Ok(leases)
}

/// The chain lease `sel` means for the tenant `owner`.
async fn find_lease(
    q: &QueryClient<'_>,
    url: &str,
    owner: &Address,
    sel: &LeaseSelect,
    provider: Option<&Address>,
) -> Result<Lease> {
    let leases = deployment_leases(q, url, owner, sel.dseq).await?;
    let provider = provider.map(Address::to_string);
    pick_lease(
        &leases,
        &owner.to_string(),
        sel.dseq,
        sel.gseq,
        sel.oseq,
        provider.as_deref(),
    )
    .cloned()
}

/// The private key of keyring key `name`, for signing provider requests.
pub(crate) fn tenant_key(kr: &ve_client::Keyring, name: &str) -> Result<PrivateKey> {
    let pass = unlock_passphrase(kr)?;
    kr.signer(name, &pass)
        .with_context(|| format!("unlocking key {name:?} to sign requests to the provider"))
}

/// A client of `provider`'s API (its on-chain `host_uri`) that signs with `key`.
pub(crate) async fn provider_client(
    q: &QueryClient<'_>,
    url: &str,
    provider: &str,
    key: PrivateKey,
) -> Result<(String, ProviderClient)> {
    let r: QueryProviderResponse = q
        .query(
            "/virtengine.provider.v1.Query/Provider",
            &QueryProviderRequest {
                owner: provider.to_string(),
            },
        )
        .await
        .map_err(|e| query_error(url, e))
        .with_context(|| format!("looking up provider {provider} on chain"))?;
    let host = r
        .provider
        .map(|p| p.host_uri)
        .filter(|h| !h.is_empty())
        .with_context(|| format!("provider {provider} has no host_uri on chain"))?;
    let client = ProviderClient::new(&host, key)
        .with_context(|| format!("building a client for provider {provider} at {host}"))?;
    Ok((host, client))
}

fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    }
}

/// One endpoint in the shape of every JSON output:
/// `{service, port, protocol, host, host_port, address}`.
pub(crate) fn endpoint_json(e: &Endpoint) -> Value {
    json!({
        "service": e.service,
        "port": e.port,
        "protocol": protocol_name(e.protocol),
        "host": e.host,
        "host_port": e.host_port,
        "address": e.address(),
    })
}

/// `service port/protocol → host:host_port`.
pub(crate) fn endpoint_line(e: &Endpoint) -> String {
    format!(
        "{} {}/{} → {}",
        e.service,
        e.port,
        protocol_name(e.protocol),
        e.address()
    )
}

/// `awaiting_manifest`, `running`, ...: the API's own names.
pub(crate) fn phase_name(p: LeasePhase) -> &'static str {
    match p {
        LeasePhase::AwaitingManifest => "awaiting_manifest",
        LeasePhase::Provisioning => "provisioning",
        LeasePhase::Running => "running",
        LeasePhase::Suspended => "suspended",
        LeasePhase::Failed => "failed",
        LeasePhase::Closed => "closed",
    }
}

/// A service's state in a few words (`running`, `failed: exit code 1`).
fn service_state(s: &ServiceState) -> String {
    match s {
        ServiceState::Pending => "pending".into(),
        ServiceState::Running => "running".into(),
        ServiceState::Suspended => "suspended".into(),
        ServiceState::Completed => "completed".into(),
        ServiceState::Failed(r) => format!(
            "failed: {}",
            match r {
                FailureReason::OutOfMemory => "out of memory".into(),
                FailureReason::ExitCode(c) => format!("exit code {c}"),
                FailureReason::Signal(n) => format!("killed by signal {n}"),
                FailureReason::Lost => "lost by the back end".into(),
                FailureReason::StartFailed(m) => format!("could not start: {m}"),
                FailureReason::Cancelled(m) => format!("cancelled: {m}"),
            }
        ),
    }
}

/// The tenant's keyring key and the chain lease a read command means.
struct Resolved {
    kr: ve_client::Keyring,
    key_name: String,
    lease: Lease,
    id: BidId,
}

async fn resolve(
    q: &QueryClient<'_>,
    url: &str,
    sel: &LeaseSelect,
    read: &ReadArgs,
) -> Result<Resolved> {
    let (kr, key_name, owner) = signer_in(read.home.as_deref(), &read.keyring, &read.from)?;
    let provider = match &sel.provider {
        Some(p) => {
            let home =
                crate::home::resolve(read.home.as_deref(), crate::home::DEFAULT_LOCALNET_HOME)?;
            Some(crate::cli::genesis::resolve_address(
                p,
                &home,
                &read.keyring,
            )?)
        }
        None => None,
    };
    let lease = find_lease(q, url, &owner, sel, provider.as_ref()).await?;
    let id = lease
        .id
        .clone()
        .context("the node answered a lease without an id")?;
    Ok(Resolved {
        kr,
        key_name,
        lease,
        id,
    })
}

async fn status(sel: &LeaseSelect, read: &ReadArgs) -> Result<()> {
    let node = connect(&read.node.node)?;
    let url = node.url().to_string();
    let q = QueryClient::new(&node);
    let r = resolve(&q, &url, sel, read).await?;
    let key = tenant_key(&r.kr, &r.key_name)?;
    let asked = match provider_client(&q, &url, &r.id.provider, key).await {
        Ok((host, client)) => client
            .status(&order_key(&r.id))
            .await
            .with_context(|| format!("asking provider {} ({host})", r.id.provider)),
        Err(e) => Err(e),
    };
    let (ps, perr) = match asked {
        Ok(s) => (Some(s), None),
        Err(e) => (None, Some(e)),
    };
    let id = &r.id;
    match read.output {
        OutputFormat::Json => print_json(&json!({
            "owner": id.owner,
            "dseq": id.dseq.to_string(),
            "gseq": id.gseq,
            "oseq": id.oseq,
            "provider": id.provider,
            "state": lstate(r.lease.state),
            "price": coin_text(&r.lease.price),
            "phase": ps.as_ref().map(|s| phase_name(s.phase)),
            "message": ps.as_ref().and_then(|s| s.message.clone()),
            "services": ps.as_ref().map(|s| s.services.iter().map(|svc| json!({
                "name": svc.name,
                "state": service_state(&svc.state),
            })).collect::<Vec<_>>()).unwrap_or_default(),
            "endpoints": ps.as_ref().map(|s| s.endpoints.iter().map(endpoint_json).collect::<Vec<_>>()).unwrap_or_default(),
            "provider_error": perr.as_ref().map(|e| format!("{e:#}")),
        }))?,
        OutputFormat::Text => {
            println!(
                "lease {}: {} on chain at {} per block",
                id_text(id),
                lstate(r.lease.state),
                coin_text(&r.lease.price)
            );
            if let Some(s) = &ps {
                println!("  provider: {}", phase_name(s.phase));
                if let Some(m) = &s.message {
                    println!("  message:  {m}");
                }
                for svc in &s.services {
                    println!("  service {}: {}", svc.name, service_state(&svc.state));
                }
                for e in &s.endpoints {
                    println!("  {}", endpoint_line(e));
                }
            }
        }
    }
    match perr {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

async fn logs(sel: &LeaseSelect, service: &str, tail: usize, read: &ReadArgs) -> Result<()> {
    let node = connect(&read.node.node)?;
    let url = node.url().to_string();
    let q = QueryClient::new(&node);
    let r = resolve(&q, &url, sel, read).await?;
    let key = tenant_key(&r.kr, &r.key_name)?;
    let (host, client) = provider_client(&q, &url, &r.id.provider, key).await?;
    let logs = client
        .logs(&order_key(&r.id), service, tail)
        .await
        .with_context(|| {
            format!(
                "asking provider {} ({host}) for the logs of service {service:?} of lease {}",
                r.id.provider,
                id_text(&r.id)
            )
        })?;
    match read.output {
        OutputFormat::Json => print_json(&json!({
            "service": logs.service,
            "lines": logs.lines,
        })),
        OutputFormat::Text => {
            logs.lines.iter().for_each(|l| println!("{l}"));
            Ok(())
        }
    }
}

/// Finds the provider when it is not given, then sends `tx market lease close`.
async fn close(sel: LeaseSelect, from: String, common: TxCommon) -> Result<()> {
    let provider = match &sel.provider {
        Some(p) => p.clone(),
        None => {
            let (_, _, owner) = signer(&common, &from)?;
            let node = connect(&common.node.node)?;
            let url = node.url().to_string();
            let q = QueryClient::new(&node);
            find_lease(&q, &url, &owner, &sel, None)
                .await?
                .id
                .context("the node answered a lease without an id")?
                .provider
        }
    };
    crate::cli::market::run_tx(MarketTx::Lease {
        cmd: LeaseTx::Close {
            order: OrderArgs {
                owner: None,
                dseq: sel.dseq,
                gseq: sel.gseq,
                oseq: sel.oseq,
            },
            provider,
            from,
            common,
        },
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(gseq: u32, oseq: u32, provider: &str, state: LeaseState) -> Lease {
        Lease {
            id: Some(BidId {
                owner: "ve1owner".into(),
                dseq: 7,
                gseq,
                oseq,
                provider: provider.into(),
            }),
            state: state as i32,
            ..Default::default()
        }
    }

    fn provider_of(l: &Lease) -> &str {
        l.id.as_ref().map_or("", |id| id.provider.as_str())
    }

    #[test]
    fn lease_id_resolution_takes_the_orders_live_lease_or_the_given_provider() {
        let leases = vec![
            lease(1, 1, "ve1old", LeaseState::Closed),
            lease(1, 1, "ve1new", LeaseState::Active),
            lease(2, 1, "ve1paused", LeaseState::InsufficientFunds),
            lease(3, 1, "ve1gone", LeaseState::Closed),
        ];
        let pick = |g, o, p| pick_lease(&leases, "ve1owner", 7, g, o, p);
        assert_eq!(provider_of(pick(1, 1, None).unwrap()), "ve1new");
        // A lease paused for insufficient funds is still the order's lease.
        assert_eq!(provider_of(pick(2, 1, None).unwrap()), "ve1paused");
        // With --provider: that lease, closed or not.
        assert_eq!(provider_of(pick(1, 1, Some("ve1old")).unwrap()), "ve1old");
        // Only closed leases: an error that says so and points at --provider.
        let e = format!("{:#}", pick(3, 1, None).unwrap_err());
        assert!(
            e.contains("no active lease") && e.contains("--provider"),
            "{e}"
        );
        // No lease on the order at all, or not with that provider.
        assert!(format!("{:#}", pick(1, 2, None).unwrap_err()).contains("has no lease"));
        assert!(pick(1, 1, Some("ve1other")).is_err());
        // Another owner's or deployment's leases never match.
        assert!(pick_lease(&leases, "ve1else", 7, 1, 1, None).is_err());
        assert!(pick_lease(&leases, "ve1owner", 8, 1, 1, None).is_err());
    }
}
