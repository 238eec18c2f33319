//! `virtengine deploy FILE.yaml`: the whole tenant flow in one command — create the
//! deployment, wait for bids, accept the best one per order (a lease), send the manifest
//! to each winning provider's API and wait until the workload runs and has its endpoints.
//!
//! Bid rule: the lowest price per block wins and a tie goes to the lexicographically
//! smallest provider address, so the choice depends only on the bids (never on the order
//! the node lists them in). Only open bids in the deposit's denom count.
//!
//! The transactions reuse `tx deployment create` and `tx market lease create`
//! (`crate::cli::deployment`, `crate::cli::tx`); the provider calls are
//! `ve_provider_daemon::api::ProviderClient`, signed with the `--from` key.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use serde_json::json;
use tokio::time::Instant;
use ve_client::QueryClient;
use ve_proto::virtengine::market::v1::{
    Bid, BidId, BidState, Filters, MsgCreateLease, Order, QueryBidsRequest, QueryBidsResponse,
    QueryOrdersRequest, QueryOrdersResponse,
};
use ve_provider_daemon::api::client::ClientError;
use ve_provider_daemon::api::types::codes;
use ve_provider_daemon::api::{LeasePhase, LeaseStatus, ProviderClient};
use ve_sdl::Manifest;
use ve_types::{Address, Coin};

use crate::cli::deployment::{create_msg, default_dseq, read_sdl, signer};
use crate::cli::escrow::address_or_key;
use crate::cli::hpc_run::parse_duration_secs;
use crate::cli::lease::{
    endpoint_json, endpoint_line, order_key, phase_name, provider_client, tenant_key, EVERY_PAGE,
};
use crate::cli::market::{coin_text, id_text, list};
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::query::{connect, query_error};
use crate::cli::tx::{broadcast_for_result, TxCommon};

/// How often the chain is asked for bids and the provider for the lease's status.
const POLL: Duration = Duration::from_secs(1);
/// How often "still waiting" is said.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// First and largest pause between manifest attempts the provider was not ready for.
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(4);

#[derive(Debug, Args)]
#[command(
    mut_arg("gas", |a| a.default_value("auto")),
    after_help = "Example:\n  \
    virtengine deploy examples/deployment.yaml --deposit 5000000uve --from alice --yes\n\n\
    Steps:\n  \
    1. create the deployment from FILE (a transaction; waits for its block);\n  \
    2. wait for bids on each of its orders, asking the chain every second, up to --bid-timeout;\n     \
       once every order has one, keep collecting for --bid-window so competing bids count;\n  \
    3. accept one bid per order in one transaction (a lease per order, i.e. per SDL placement);\n  \
    4. send the manifest to each winning provider's API (its host_uri on chain), retrying while\n     \
       the provider has not seen the lease yet;\n  \
    5. wait until the workload runs and has its endpoints, up to --ready-timeout (counted from\n     \
       the lease; a group without a global port needs no endpoint).\n\n\
    Bid rule: the lowest price per block wins; a tie goes to the lexicographically smallest\n\
    provider address. Only open bids in the deposit's denom count; with --provider, only that\n\
    provider's.\n\n\
    No bid within --bid-timeout: exit 1; the deployment stays open with its deposit in escrow:\n\
    close it with `virtengine tx deployment close --dseq N --from KEY --yes`. A failed workload:\n\
    exit 1; read its output with `virtengine lease logs N --service NAME --from KEY`.\n\n\
    Progress goes to stderr, the result to stdout. --output json prints\n  \
    {\"dseq\": \"N\", \"leases\": [{\"owner\", \"dseq\", \"gseq\", \"oseq\", \"provider\", \"price\",\n  \
    \"endpoints\": [{\"service\", \"port\", \"protocol\", \"host\", \"host_port\", \"address\"}]}]}\n\
    (dseq as a string, like every u64 in this CLI's JSON). --gas defaults to auto here."
)]
pub struct DeployArgs {
    /// SDL file (YAML), e.g. examples/deployment.yaml.
    file: PathBuf,
    /// Deposit into the deployment's escrow, at least the chain's minimum (500000uve by
    /// default); its denom is the denom bids must be in.
    #[arg(long, default_value = "500000uve")]
    deposit: String,
    /// Deployment sequence; default: the latest block height.
    #[arg(long)]
    dseq: Option<u64>,
    /// How long to wait for bids (seconds, or with a unit: 90s, 2m).
    #[arg(long, default_value = "60s", value_parser = parse_duration_secs)]
    bid_timeout: u64,
    /// Once every order has a bid, keep collecting bids this long (0: take the first).
    #[arg(long, default_value = "3s", value_parser = parse_window)]
    bid_window: u64,
    /// Accept only this provider's bids (address or key name).
    #[arg(long)]
    provider: Option<String>,
    /// How long, from the lease, until the workload must run with its endpoints.
    #[arg(long, default_value = "120s", value_parser = parse_duration_secs)]
    ready_timeout: u64,
    /// The tenant's key (name or address): signs, pays and owns the deployment.
    #[arg(long)]
    from: String,
    #[command(flatten)]
    common: TxCommon,
}

/// Like [`parse_duration_secs`], but `0` is allowed.
fn parse_window(s: &str) -> Result<u64, String> {
    if s.trim_end_matches('s') == "0" {
        return Ok(0);
    }
    parse_duration_secs(s)
}

/// The winning bid among one order's `bids`: open, priced in `denom`, from `only` when
/// given; the lowest price wins and a tie goes to the smallest provider address.
pub(crate) fn choose_bid<'a>(
    bids: impl IntoIterator<Item = &'a Bid>,
    denom: &str,
    only: Option<&str>,
) -> Option<&'a Bid> {
    bids.into_iter()
        .filter(|b| b.state == BidState::Open as i32)
        .filter_map(|b| {
            let provider = b.id.as_ref()?.provider.as_str();
            let price = b.price.as_ref().filter(|p| p.denom == denom)?;
            let amount: u128 = price.amount.parse().ok()?;
            only.is_none_or(|p| p == provider)
                .then_some((amount, provider, b))
        })
        .min_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)))
        .map(|(_, _, b)| b)
}

fn same_order(b: &Bid, o: &Order) -> bool {
    match (&b.id, &o.id) {
        (Some(b), Some(o)) => {
            b.owner == o.owner && b.dseq == o.dseq && b.gseq == o.gseq && b.oseq == o.oseq
        }
        _ => false,
    }
}

fn order_text(o: &Order) -> String {
    o.id.as_ref()
        .map(|i| format!("{}/{}/{}/{}", i.owner, i.dseq, i.gseq, i.oseq))
        .unwrap_or_default()
}

/// A provider answer worth waiting out: it is down or restarting, has not seen the lease
/// yet, or cannot reach its chain node for the moment.
fn not_ready_yet(e: &ClientError) -> bool {
    match e {
        ClientError::Unreachable { .. } => true,
        ClientError::Refused(a) => {
            a.code == codes::LEASE_NOT_FOUND.0 || a.code == codes::CHAIN_UNAVAILABLE.0
        }
        ClientError::BadAnswer { .. } => false,
    }
}

/// [`not_ready_yet`]'s reason in a few words, for progress lines (the final error has it all).
fn why_not_ready(e: &ClientError) -> String {
    match e {
        ClientError::Refused(a) => a.kind.clone(),
        _ => "unreachable".into(),
    }
}

/// Whether the group's workload is reachable only once it has an endpoint: it exposes a
/// port globally.
fn needs_endpoint(m: &Manifest, gseq: u32) -> bool {
    usize::try_from(gseq)
        .ok()
        .and_then(|g| g.checked_sub(1))
        .and_then(|i| m.groups.get(i))
        .is_some_and(|g| g.services.iter().any(|s| s.expose.iter().any(|e| e.global)))
}

fn filters(owner: &Address, dseq: u64, state: &str) -> Filters {
    Filters {
        owner: owner.to_string(),
        dseq,
        state: state.into(),
        ..Default::default()
    }
}

/// The deployment's open orders, by gseq then oseq.
async fn open_orders(
    q: &QueryClient<'_>,
    url: &str,
    owner: &Address,
    dseq: u64,
) -> Result<Vec<Order>> {
    let (mut orders, _) = list!(
        q,
        url,
        "/virtengine.market.v1.Query/Orders",
        QueryOrdersRequest,
        QueryOrdersResponse,
        orders,
        filters(owner, dseq, "open"),
        EVERY_PAGE
    );
    orders.sort_by_key(|o| o.id.as_ref().map(|i| (i.gseq, i.oseq)));
    Ok(orders)
}

/// Which bids count and how long to wait for them (seconds).
#[derive(Clone, Copy)]
struct BidWait<'a> {
    denom: &'a str,
    only: Option<&'a str>,
    timeout: u64,
    window: u64,
}

/// Polls the deployment's open bids until every order has an acceptable one (and then
/// for `window` more seconds), at most `timeout` seconds; the winner of each order.
async fn wait_for_bids(
    q: &QueryClient<'_>,
    url: &str,
    owner: &Address,
    dseq: u64,
    orders: &[Order],
    w: &BidWait<'_>,
) -> Result<Vec<Bid>> {
    let BidWait {
        denom,
        only,
        timeout,
        window,
    } = *w;
    let start = Instant::now();
    let mut all_since: Option<Instant> = None;
    let mut said = None::<Instant>;
    loop {
        let (bids, _) = list!(
            q,
            url,
            "/virtengine.market.v1.Query/Bids",
            QueryBidsRequest,
            QueryBidsResponse,
            bids,
            filters(owner, dseq, "open"),
            EVERY_PAGE
        );
        let winners: Vec<Option<&Bid>> = orders
            .iter()
            .map(|o| choose_bid(bids.iter().filter(|b| same_order(b, o)), denom, only))
            .collect();
        let missing = winners.iter().position(Option::is_none);
        let now = Instant::now();
        let waited = now.duration_since(start);
        match missing {
            None => {
                let since = *all_since.get_or_insert(now);
                if now.duration_since(since) >= Duration::from_secs(window)
                    || waited >= Duration::from_secs(timeout)
                {
                    return Ok(winners.into_iter().flatten().cloned().collect());
                }
            }
            Some(i) => {
                all_since = None;
                if waited >= Duration::from_secs(timeout) {
                    let from = only.map(|p| format!(" from {p}")).unwrap_or_default();
                    bail!(
                        "no bid{from} in {denom} on order {} within {timeout} s",
                        order_text(&orders[i])
                    );
                }
                if said.is_none_or(|t| now.duration_since(t) >= PROGRESS_EVERY) {
                    said = Some(now);
                    eprintln!(
                        "waiting for bids on order {}/{} ({} s)…",
                        i + 1,
                        orders.len(),
                        waited.as_secs()
                    );
                }
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Sends the manifest, waiting out a provider that is not ready yet, until `deadline`.
async fn send_manifest(
    client: &ProviderClient,
    id: &BidId,
    manifest: &Manifest,
    deadline: Instant,
) -> Result<LeaseStatus> {
    let key = order_key(id);
    let mut pause = RETRY_FIRST;
    loop {
        match client.send_manifest(&key, manifest).await {
            Ok(s) => return Ok(s),
            Err(e) if not_ready_yet(&e) && Instant::now() + pause < deadline => {
                eprintln!(
                    "provider not ready for lease {} ({}); retrying in {} ms",
                    id_text(id),
                    why_not_ready(&e),
                    pause.as_millis()
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(RETRY_MAX);
            }
            Err(e) => {
                return Err(anyhow!(e))
                    .with_context(|| format!("sending the manifest for lease {}", id_text(id)))
            }
        }
    }
}

/// Polls the provider until the lease runs (with an endpoint when `needs_endpoint`),
/// failing at once on a failed or closed workload and at `deadline` otherwise.
async fn wait_running(
    client: &ProviderClient,
    id: &BidId,
    mut last: LeaseStatus,
    needs_endpoint: bool,
    deadline: Instant,
) -> Result<LeaseStatus> {
    let key = order_key(id);
    let lease = id_text(id);
    let mut said = None;
    loop {
        if said != Some(last.phase) {
            said = Some(last.phase);
            eprintln!("lease {lease}: {}", phase_name(last.phase));
        }
        let why = last.message.clone().unwrap_or_default();
        match last.phase {
            LeasePhase::Running if !needs_endpoint || !last.endpoints.is_empty() => {
                return Ok(last)
            }
            LeasePhase::Failed => bail!(
                "the workload of lease {lease} failed at the provider: {why}; read its output with \
                 `virtengine lease logs {} --gseq {} --service NAME --from KEY`",
                id.dseq,
                id.gseq
            ),
            LeasePhase::Closed => bail!("lease {lease} was closed at the provider: {why}"),
            _ => {}
        }
        if Instant::now() >= deadline {
            bail!(
                "lease {lease} is still {} at the provider{}",
                phase_name(last.phase),
                if last.phase == LeasePhase::Running {
                    " without an endpoint"
                } else {
                    ""
                }
            );
        }
        tokio::time::sleep(POLL).await;
        last = match client.status(&key).await {
            Ok(s) => s,
            Err(e) if not_ready_yet(&e) => {
                eprintln!(
                    "asking the provider about lease {lease}: {}",
                    why_not_ready(&e)
                );
                last
            }
            Err(e) => {
                return Err(anyhow!(e))
                    .with_context(|| format!("asking the provider about lease {lease}"))
            }
        };
    }
}

/// A lease the deploy made, once its workload is ready.
struct Placed {
    bid: Bid,
    id: BidId,
    host: String,
    status: LeaseStatus,
}

/// Appends what to do next to an error after the deployment exists.
fn with_next<T>(r: Result<T>, next: impl FnOnce() -> String) -> Result<T> {
    r.map_err(|e| anyhow!("{e:#}\n  next: {}", next()))
}

pub async fn run(a: DeployArgs) -> Result<()> {
    let sdl = read_sdl(&a.file)?;
    let deposit: Coin = a
        .deposit
        .parse()
        .with_context(|| format!("--deposit {:?} (e.g. 5000000uve)", a.deposit))?;
    let only = a
        .provider
        .as_deref()
        .map(|p| address_or_key(&a.common, p))
        .transpose()?
        .map(|p| p.to_string());
    let (kr, name, owner) = signer(&a.common, &a.from)?;
    // Unlocked first: a wrong passphrase should fail before anything is on chain.
    let key = tenant_key(&kr, &name)?;
    let dseq = match a.dseq {
        Some(d) => d,
        None => default_dseq(&a.common).await?,
    };
    let node = connect(&a.common.node.node)?;
    let url = node.url().to_string();
    let q = QueryClient::new(&node);
    let json_out = a.common.output == OutputFormat::Json;

    let summary = format!(
        "create deployment {owner}/{dseq} from {} ({} group(s)) with deposit {deposit}",
        a.file.display(),
        sdl.groups.len()
    );
    let created = broadcast_for_result(
        &a.common,
        &kr,
        &name,
        vec![create_msg(&sdl, &owner, dseq, &deposit, None)],
        &summary,
        false,
    )
    .await
    .context("creating the deployment")?;
    eprintln!(
        "deployment {owner}/{dseq} created at height {} (tx {})",
        created.height, created.hash
    );
    let still_open = || {
        format!(
            "the deployment {owner}/{dseq} is still open with its deposit in escrow: close it \
             with `virtengine tx deployment close --dseq {dseq} --from {} --yes`",
            a.from
        )
    };

    let orders = with_next(open_orders(&q, &url, &owner, dseq).await, still_open)?;
    if orders.is_empty() {
        return with_next(
            Err(anyhow!("deployment {owner}/{dseq} has no open order")),
            still_open,
        );
    }
    let winners = with_next(
        wait_for_bids(
            &q,
            &url,
            &owner,
            dseq,
            &orders,
            &BidWait {
                denom: &deposit.denom,
                only: only.as_deref(),
                timeout: a.bid_timeout,
                window: a.bid_window,
            },
        )
        .await,
        still_open,
    )?;
    for b in &winners {
        eprintln!(
            "best bid on order {}: {}/block from {}",
            b.id.as_ref()
                .map(|i| order_key(i).to_string())
                .unwrap_or_default(),
            coin_text(&b.price),
            b.id.as_ref().map(|i| i.provider.as_str()).unwrap_or("")
        );
    }

    let msgs = winners
        .iter()
        .map(|b| {
            ve_proto::to_any(
                "/virtengine.market.v1.MsgCreateLease",
                &MsgCreateLease {
                    bid_id: b.id.clone(),
                },
            )
        })
        .collect();
    let summary = format!(
        "accept {} bid(s) on deployment {owner}/{dseq}: {}",
        winners.len(),
        winners
            .iter()
            .map(|b| format!(
                "{} at {}/block",
                b.id.as_ref().map(|i| i.provider.as_str()).unwrap_or(""),
                coin_text(&b.price)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    with_next(
        broadcast_for_result(&a.common, &kr, &name, msgs, &summary, false)
            .await
            .context("creating the lease(s)"),
        still_open,
    )?;
    let deadline = Instant::now() + Duration::from_secs(a.ready_timeout);
    eprintln!("lease(s) created; sending the manifest");

    let mut placed = Vec::with_capacity(winners.len());
    for bid in winners {
        let id = bid
            .id
            .clone()
            .context("the node answered a bid without an id")?;
        let lease_next = || {
            format!(
                "the lease {} is still open: see `virtengine lease status {dseq} --gseq {} --from {f}`, \
                 close it with `virtengine lease close {dseq} --gseq {} --from {f} --yes`, or the whole \
                 deployment with `virtengine tx deployment close --dseq {dseq} --from {f} --yes`",
                id_text(&id),
                id.gseq,
                id.gseq,
                f = a.from
            )
        };
        let ready = async {
            let (host, client) = provider_client(&q, &url, &id.provider, key.clone()).await?;
            let first = send_manifest(&client, &id, &sdl.manifest, deadline).await?;
            let status = wait_running(
                &client,
                &id,
                first,
                needs_endpoint(&sdl.manifest, id.gseq),
                deadline,
            )
            .await
            .with_context(|| format!("after {} s (--ready-timeout)", a.ready_timeout))?;
            Ok::<_, anyhow::Error>((host, status))
        };
        let (host, status) = with_next(ready.await, lease_next)?;
        placed.push(Placed {
            bid,
            id,
            host,
            status,
        });
    }
    print_result(&owner, dseq, &placed, json_out)
}

fn print_result(owner: &Address, dseq: u64, placed: &[Placed], json_out: bool) -> Result<()> {
    if json_out {
        return print_json(&json!({
            "dseq": dseq.to_string(),
            "leases": placed.iter().map(|p| json!({
                "owner": p.id.owner,
                "dseq": p.id.dseq.to_string(),
                "gseq": p.id.gseq,
                "oseq": p.id.oseq,
                "provider": p.id.provider,
                "price": coin_text(&p.bid.price),
                "endpoints": p.status.endpoints.iter().map(endpoint_json).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }));
    }
    println!(
        "deployment {owner}/{dseq} is running ({} lease(s))",
        placed.len()
    );
    for p in placed {
        println!("lease {}", id_text(&p.id));
        println!("  provider: {} at {}", p.id.provider, p.host);
        println!("  price:    {} per block", coin_text(&p.bid.price));
        for e in &p.status.endpoints {
            println!("  {}", endpoint_line(e));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use ve_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
    use ve_provider_daemon::api::ApiError;

    fn bid(provider: &str, amount: &str, denom: &str, state: BidState) -> Bid {
        Bid {
            id: Some(BidId {
                owner: "ve1tenant".into(),
                dseq: 5,
                gseq: 1,
                oseq: 1,
                provider: provider.into(),
            }),
            state: state as i32,
            price: Some(ProtoCoin {
                denom: denom.into(),
                amount: amount.into(),
            }),
            ..Default::default()
        }
    }

    fn winner(bids: &[Bid], only: Option<&str>) -> Option<String> {
        choose_bid(bids, "uve", only).and_then(|b| b.id.clone().map(|i| i.provider))
    }

    #[test]
    fn lowest_price_wins_and_ties_go_to_the_smallest_provider_address() {
        let bids = [
            bid("ve1ccc", "900", "uve", BidState::Open),
            bid("ve1bbb", "800", "uve", BidState::Open),
            bid("ve1aaa", "1000", "uve", BidState::Open),
            bid("ve1abb", "800", "uve", BidState::Open),
        ];
        assert_eq!(winner(&bids, None).as_deref(), Some("ve1abb"));
        // The listing order does not matter.
        let mut reversed = bids.clone();
        reversed.reverse();
        assert_eq!(winner(&reversed, None).as_deref(), Some("ve1abb"));
        // Prices compare as numbers, not text ("1000" < "800" as text).
        let bids = [
            bid("ve1aaa", "1000", "uve", BidState::Open),
            bid("ve1zzz", "800", "uve", BidState::Open),
        ];
        assert_eq!(winner(&bids, None).as_deref(), Some("ve1zzz"));
    }

    #[test]
    fn bids_in_other_denoms_closed_bids_and_other_providers_are_ignored() {
        let bids = [
            bid("ve1aaa", "1", "uatom", BidState::Open),
            bid("ve1bbb", "2", "uve", BidState::Closed),
            bid("ve1ccc", "3", "uve", BidState::Lost),
            bid("ve1ddd", "junk", "uve", BidState::Open),
            bid("ve1eee", "500", "uve", BidState::Open),
            bid("ve1fff", "400", "uve", BidState::Open),
        ];
        assert_eq!(winner(&bids, None).as_deref(), Some("ve1fff"));
        // --provider: only that provider's bid, even if dearer.
        assert_eq!(winner(&bids, Some("ve1eee")).as_deref(), Some("ve1eee"));
        // A provider whose only bid is in another denom or closed: no winner.
        assert_eq!(winner(&bids, Some("ve1aaa")), None);
        assert_eq!(winner(&bids, Some("ve1bbb")), None);
        assert_eq!(winner(&[], None), None);
    }

    #[test]
    fn provider_not_knowing_the_lease_yet_is_retried_other_refusals_are_not() {
        let refused = |c| ClientError::Refused(ApiError::new(c, "x"));
        assert!(not_ready_yet(&refused(codes::LEASE_NOT_FOUND)));
        assert!(not_ready_yet(&refused(codes::CHAIN_UNAVAILABLE)));
        assert!(!not_ready_yet(&refused(codes::HASH_MISMATCH)));
        assert!(!not_ready_yet(&refused(codes::NOT_OWNER)));
        assert!(!not_ready_yet(&ClientError::BadAnswer {
            url: "http://p".into(),
            status: 500,
            body: "oops".into(),
        }));
    }

    #[test]
    fn only_groups_with_a_global_port_wait_for_an_endpoint() {
        let sdl = ve_sdl::parse(include_str!("../../../../../examples/deployment.yaml")).unwrap();
        assert!(needs_endpoint(&sdl.manifest, 1));
        let mut m = sdl.manifest.clone();
        m.groups[0].services[0]
            .expose
            .iter_mut()
            .for_each(|e| e.global = false);
        assert!(!needs_endpoint(&m, 1));
        assert!(!needs_endpoint(&m, 0));
        assert!(!needs_endpoint(&m, 2));
    }

    /// A stand-in provider API on a real socket: refuses the manifest with
    /// `lease_not_found` `refusals` times, then answers the `phases` in turn to status.
    async fn provider(refusals: usize, phases: Vec<LeasePhase>) -> ProviderClient {
        use axum::http::{Method, StatusCode};
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let puts = Arc::new(AtomicUsize::new(0));
        let gets = Arc::new(AtomicUsize::new(0));
        let status = move |phase: LeasePhase| LeaseStatus {
            lease: "ve1tenant/5/1/1/ve1prov".into(),
            phase,
            services: vec![],
            endpoints: if phase == LeasePhase::Running {
                vec![ve_backend::Endpoint {
                    service: "web".into(),
                    port: 8080,
                    protocol: ve_backend::Protocol::Tcp,
                    host: "127.0.0.1".into(),
                    host_port: 30001,
                }]
            } else {
                vec![]
            },
            message: (phase == LeasePhase::Failed).then(|| "exit code 3".into()),
        };
        let app = axum::Router::new().fallback(move |method: Method| {
            let (puts, gets, phases) = (puts.clone(), gets.clone(), phases.clone());
            async move {
                let body = if method == Method::PUT {
                    if puts.fetch_add(1, Ordering::SeqCst) < refusals {
                        let e = ApiError::new(codes::LEASE_NOT_FOUND, "not seen yet");
                        return (
                            StatusCode::NOT_FOUND,
                            axum::Json(serde_json::to_value(e).unwrap()),
                        );
                    }
                    status(LeasePhase::Provisioning)
                } else {
                    let i = gets.fetch_add(1, Ordering::SeqCst).min(phases.len() - 1);
                    status(phases[i])
                };
                (
                    StatusCode::OK,
                    axum::Json(serde_json::to_value(body).unwrap()),
                )
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        ProviderClient::new(&base, ve_crypto::PrivateKey::generate()).unwrap()
    }

    fn lease_id() -> BidId {
        bid("ve1prov", "1", "uve", BidState::Active).id.unwrap()
    }

    fn manifest() -> Manifest {
        ve_sdl::parse(include_str!("../../../../../examples/deployment.yaml"))
            .unwrap()
            .manifest
    }

    #[tokio::test]
    async fn manifest_is_resent_until_the_provider_knows_the_lease_then_waits_for_the_endpoint() {
        let client = provider(2, vec![LeasePhase::Provisioning, LeasePhase::Running]).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        let first = send_manifest(&client, &lease_id(), &manifest(), deadline)
            .await
            .unwrap();
        assert_eq!(first.phase, LeasePhase::Provisioning);
        let ready = wait_running(&client, &lease_id(), first, true, deadline)
            .await
            .unwrap();
        assert_eq!(ready.phase, LeasePhase::Running);
        assert_eq!(ready.endpoints[0].address(), "127.0.0.1:30001");
    }

    #[tokio::test]
    async fn a_provider_that_never_knows_the_lease_fails_at_the_deadline_with_its_answer() {
        let client = provider(usize::MAX, vec![LeasePhase::Running]).await;
        let deadline = Instant::now() + Duration::from_secs(2);
        let e = send_manifest(&client, &lease_id(), &manifest(), deadline)
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("lease_not_found"), "{e:#}");
    }

    #[tokio::test]
    async fn a_failed_workload_ends_the_wait_with_the_providers_message_and_the_logs_hint() {
        let client = provider(0, vec![LeasePhase::Provisioning, LeasePhase::Failed]).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        let first = send_manifest(&client, &lease_id(), &manifest(), deadline)
            .await
            .unwrap();
        let e = wait_running(&client, &lease_id(), first, true, deadline)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("exit code 3") && e.contains("virtengine lease logs 5"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_workload_still_starting_at_the_deadline_is_an_error_naming_its_phase() {
        let client = provider(0, vec![LeasePhase::Provisioning]).await;
        let deadline = Instant::now() + Duration::from_millis(1500);
        let first = send_manifest(&client, &lease_id(), &manifest(), deadline)
            .await
            .unwrap();
        let e = wait_running(&client, &lease_id(), first, true, deadline)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("still provisioning"), "{e}");
    }

    #[test]
    fn deploy_waits_60s_for_bids_and_120s_for_the_workload_with_auto_gas_by_default() {
        let parse = |extra: &[&str]| {
            let args = [
                &["virtengine", "deploy", "x.yaml", "--from", "alice"][..],
                extra,
            ]
            .concat();
            match crate::Cli::try_parse_from(args).map(|c| c.cmd) {
                Ok(crate::Cmd::Deploy(d)) => d,
                other => panic!("not a deploy: {other:?}"),
            }
        };
        let d = parse(&[]);
        assert_eq!((d.bid_timeout, d.bid_window, d.ready_timeout), (60, 3, 120));
        assert_eq!(d.common.gas, "auto");
        assert_eq!(d.provider, None);
        let d = parse(&[
            "--bid-timeout",
            "2m",
            "--bid-window",
            "0",
            "--gas",
            "900000",
        ]);
        assert_eq!(
            (d.bid_timeout, d.bid_window, d.common.gas.as_str()),
            (120, 0, "900000")
        );
        assert!(crate::Cli::try_parse_from(["virtengine", "deploy", "x.yaml"]).is_err());
    }
}
