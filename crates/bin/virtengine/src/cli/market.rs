//! `virtengine tx market ...` (bids and leases) and `virtengine query market ...`
//! (orders, bids, leases with filters and pagination). docs/marketplace.md walks through
//! the whole flow.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use ve_client::QueryClient;
use ve_proto::virtengine::market::v1::*;
use ve_types::{Address, Coin};

use crate::cli::deployment::{proto_coin, signer, spec_json, PageArgs};
use crate::cli::market_usage::RecordUsageTx;
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::query::query_error;
use crate::cli::tx::{broadcast, TxCommon};

/// Which order (and with --provider, which bid or lease).
#[derive(Debug, Clone, Args)]
pub struct OrderArgs {
    /// Deployment owner: address or key name (default: the signer, for tenant commands).
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long)]
    pub dseq: u64,
    #[arg(long, default_value_t = 1)]
    pub gseq: u32,
    #[arg(long, default_value_t = 1)]
    pub oseq: u32,
}

/// One bid or lease: its order and provider (addresses or key names).
#[derive(Debug, Clone, Args)]
pub struct BidKeyArgs {
    #[arg(long)]
    pub owner: String,
    #[arg(long)]
    pub dseq: u64,
    #[arg(long, default_value_t = 1)]
    pub gseq: u32,
    #[arg(long, default_value_t = 1)]
    pub oseq: u32,
    #[arg(long)]
    pub provider: String,
}

impl BidKeyArgs {
    pub fn id(&self, address: impl Fn(&str) -> Result<Address>) -> Result<BidId> {
        Ok(BidId {
            owner: address(&self.owner)?.to_string(),
            dseq: self.dseq,
            gseq: self.gseq,
            oseq: self.oseq,
            provider: address(&self.provider)?.to_string(),
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum MarketTx {
    /// Bids (providers).
    Bid {
        #[command(subcommand)]
        cmd: BidTx,
    },
    /// Leases: the tenant accepts a bid; tenant or provider closes; the provider withdraws.
    Lease {
        #[command(subcommand)]
        cmd: LeaseTx,
    },
}

#[derive(Debug, Subcommand)]
pub enum BidTx {
    /// Bid on an open order; the deposit is escrowed until the bid closes or loses.
    #[command(
        after_help = "Example:\n  virtengine tx market bid create --owner ve1...tenant --dseq 42 --price 800uve --from provider --gas 1000000 --yes"
    )]
    Create {
        #[command(flatten)]
        order: OrderArgs,
        /// Price per block for the whole group, at most the group's cap.
        #[arg(long)]
        price: String,
        #[arg(long, default_value = "500000uve")]
        deposit: String,
        /// Provider: a key name or its address.
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Withdraw an open bid (deposit refunded) or walk away from its lease.
    Close {
        #[command(flatten)]
        order: OrderArgs,
        /// Lease close reason (providers: 10000 unstable, 10001 decommission, 10002 unspecified).
        #[arg(long, default_value_t = 0)]
        reason: i32,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
}

#[derive(Debug, Subcommand)]
pub enum LeaseTx {
    /// Accept a provider's bid (tenant): payments start at the bid price per block.
    #[command(
        after_help = "Example:\n  virtengine tx market lease create --dseq 42 --provider ve1...prov --from alice --gas 1000000 --yes"
    )]
    Create {
        #[command(flatten)]
        order: OrderArgs,
        /// The provider whose bid to accept.
        #[arg(long)]
        provider: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Close a lease (tenant or provider); the provider is paid up to this block.
    Close {
        #[command(flatten)]
        order: OrderArgs,
        #[arg(long)]
        provider: String,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Withdraw the lease's accrued payment (provider), minus the take rate.
    Withdraw {
        #[command(flatten)]
        order: OrderArgs,
        /// Provider (default: the signer).
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Record the lease's cumulative usage (provider; the provider daemon does this itself).
    #[command(
        after_help = "Example:\n  virtengine tx market lease record-usage --owner ve1...tenant --dseq 42 --seq 1 --cpu-milli-seconds 120000 --memory-byte-seconds 6442450944 --wall-seconds 60 --from provider --gas 1000000 --yes"
    )]
    RecordUsage(RecordUsageTx),
}

/// List filters.
#[derive(Debug, Clone, Args)]
pub struct FilterArgs {
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long)]
    pub dseq: Option<u64>,
    #[arg(long)]
    pub provider: Option<String>,
    /// State name: orders open|active|closed; bids open|active|lost|closed; leases
    /// active|insufficient_funds|closed.
    #[arg(long)]
    pub state: Option<String>,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Subcommand)]
pub enum MarketQuery {
    #[command(
        after_help = "Example:\n  virtengine query market orders --state open --output json"
    )]
    Orders {
        #[command(flatten)]
        f: FilterArgs,
    },
    #[command(after_help = "Example:\n  virtengine query market bids --owner alice --dseq 42")]
    Bids {
        #[command(flatten)]
        f: FilterArgs,
    },
    #[command(
        after_help = "Example:\n  virtengine query market leases --provider ve1...prov --state active"
    )]
    Leases {
        #[command(flatten)]
        f: FilterArgs,
    },
    /// One order.
    #[command(after_help = "Example:\n  virtengine query market order --owner alice --dseq 42")]
    Order {
        #[arg(long)]
        owner: String,
        #[arg(long)]
        dseq: u64,
        #[arg(long, default_value_t = 1)]
        gseq: u32,
        #[arg(long, default_value_t = 1)]
        oseq: u32,
    },
    /// One bid with its deposit's escrow account.
    Bid(BidKeyArgs),
    /// One lease with its escrow payment, settled to the latest height.
    Lease(BidKeyArgs),
    /// The usage the lease's provider recorded: totals and the latest 100 records.
    #[command(
        after_help = "Example:\n  virtengine query market lease-usage --owner alice --dseq 42 --provider ve1...prov --output json"
    )]
    LeaseUsage(BidKeyArgs),
}

pub(crate) fn resolve(c: &TxCommon, s: &str) -> Result<Address> {
    if let Ok(a) = s.parse::<Address>() {
        return Ok(a);
    }
    Ok(signer(c, s)?.2)
}

pub(crate) fn bid_id(
    c: &TxCommon,
    o: &OrderArgs,
    default_owner: &Address,
    provider: &Address,
) -> Result<BidId> {
    let owner = match &o.owner {
        Some(s) => resolve(c, s)?,
        None => *default_owner,
    };
    Ok(BidId {
        owner: owner.to_string(),
        dseq: o.dseq,
        gseq: o.gseq,
        oseq: o.oseq,
        provider: provider.to_string(),
    })
}

pub(crate) fn id_text(id: &BidId) -> String {
    format!(
        "{}/{}/{}/{}/{}",
        id.owner, id.dseq, id.gseq, id.oseq, id.provider
    )
}

pub async fn run_tx(cmd: MarketTx) -> Result<()> {
    match cmd {
        MarketTx::Bid {
            cmd:
                BidTx::Create {
                    order,
                    price,
                    deposit,
                    from,
                    common,
                },
        } => {
            let price: Coin = price.parse().with_context(|| format!("price {price:?}"))?;
            let deposit: Coin = deposit
                .parse()
                .with_context(|| format!("deposit {deposit:?}"))?;
            let (kr, name, provider) = signer(&common, &from)?;
            let order_owner = order
                .owner
                .clone()
                .context("--owner (the tenant) is required")?;
            let owner = resolve(&common, &order_owner)?;
            let id = bid_id(&common, &order, &owner, &provider)?;
            let summary = format!("bid {price}/block on {} (deposit {deposit})", id_text(&id));
            let msg = ve_proto::to_any(
                "/virtengine.market.v1.MsgCreateBid",
                &MsgCreateBid {
                    id: Some(id),
                    price: Some(proto_coin(&price)),
                    deposit: Some(proto_coin(&deposit)),
                    resources_offer: vec![],
                },
            );
            broadcast(&common, &kr, &name, vec![msg], &summary).await
        }
        MarketTx::Bid {
            cmd:
                BidTx::Close {
                    order,
                    reason,
                    from,
                    common,
                },
        } => {
            let (kr, name, provider) = signer(&common, &from)?;
            let order_owner = order
                .owner
                .clone()
                .context("--owner (the tenant) is required")?;
            let owner = resolve(&common, &order_owner)?;
            let id = bid_id(&common, &order, &owner, &provider)?;
            let summary = format!("close bid {}", id_text(&id));
            let msg = ve_proto::to_any(
                "/virtengine.market.v1.MsgCloseBid",
                &MsgCloseBid {
                    id: Some(id),
                    reason,
                },
            );
            broadcast(&common, &kr, &name, vec![msg], &summary).await
        }
        MarketTx::Lease {
            cmd:
                LeaseTx::Create {
                    order,
                    provider,
                    from,
                    common,
                },
        } => {
            let (kr, name, tenant) = signer(&common, &from)?;
            let provider = resolve(&common, &provider)?;
            let id = bid_id(&common, &order, &tenant, &provider)?;
            let summary = format!("accept bid {} (start the lease)", id_text(&id));
            let msg = ve_proto::to_any(
                "/virtengine.market.v1.MsgCreateLease",
                &MsgCreateLease { bid_id: Some(id) },
            );
            broadcast(&common, &kr, &name, vec![msg], &summary).await
        }
        MarketTx::Lease {
            cmd:
                LeaseTx::Close {
                    order,
                    provider,
                    from,
                    common,
                },
        } => {
            let (kr, name, who) = signer(&common, &from)?;
            let provider = resolve(&common, &provider)?;
            let id = bid_id(&common, &order, &who, &provider)?;
            let summary = format!("close lease {}", id_text(&id));
            let msg = ve_proto::to_any(
                "/virtengine.market.v1.MsgCloseLease",
                &MsgCloseLease {
                    id: Some(id),
                    signer: who.to_string(),
                },
            );
            broadcast(&common, &kr, &name, vec![msg], &summary).await
        }
        MarketTx::Lease {
            cmd:
                LeaseTx::Withdraw {
                    order,
                    provider,
                    from,
                    common,
                },
        } => {
            let (kr, name, who) = signer(&common, &from)?;
            let provider = match provider {
                Some(p) => resolve(&common, &p)?,
                None => who,
            };
            let order_owner = order
                .owner
                .clone()
                .context("--owner (the tenant) is required")?;
            let owner = resolve(&common, &order_owner)?;
            let id = bid_id(&common, &order, &owner, &provider)?;
            let summary = format!("withdraw the accrued payment of lease {}", id_text(&id));
            let msg = ve_proto::to_any(
                "/virtengine.market.v1.MsgWithdrawLease",
                &MsgWithdrawLease { id: Some(id) },
            );
            broadcast(&common, &kr, &name, vec![msg], &summary).await
        }
        MarketTx::Lease {
            cmd: LeaseTx::RecordUsage(t),
        } => crate::cli::market_usage::record_usage(t).await,
    }
}

fn ostate(s: i32) -> &'static str {
    match OrderState::try_from(s) {
        Ok(OrderState::Open) => "open",
        Ok(OrderState::Active) => "active",
        Ok(OrderState::Closed) => "closed",
        _ => "invalid",
    }
}
fn bstate(s: i32) -> &'static str {
    match BidState::try_from(s) {
        Ok(BidState::Open) => "open",
        Ok(BidState::Active) => "active",
        Ok(BidState::Lost) => "lost",
        Ok(BidState::Closed) => "closed",
        _ => "invalid",
    }
}
pub(crate) fn lstate(s: i32) -> &'static str {
    match LeaseState::try_from(s) {
        Ok(LeaseState::Active) => "active",
        Ok(LeaseState::InsufficientFunds) => "insufficient_funds",
        Ok(LeaseState::Closed) => "closed",
        _ => "invalid",
    }
}

pub(crate) fn coin_text(c: &Option<ve_proto::cosmos::base::v1beta1::Coin>) -> String {
    c.as_ref()
        .map(|c| format!("{}{}", c.amount, c.denom))
        .unwrap_or_default()
}

fn oid_json(id: &Option<OrderId>) -> Value {
    let id = id.clone().unwrap_or_default();
    json!({"owner": id.owner, "dseq": id.dseq.to_string(), "gseq": id.gseq, "oseq": id.oseq})
}

fn bid_id_json(id: &Option<BidId>) -> Value {
    let id = id.clone().unwrap_or_default();
    json!({"owner": id.owner, "dseq": id.dseq.to_string(), "gseq": id.gseq, "oseq": id.oseq, "provider": id.provider})
}

fn order_json(o: &Order) -> Value {
    json!({
        "id": oid_json(&o.id),
        "state": ostate(o.state),
        "spec": o.spec.as_ref().map(spec_json),
        "created_at": o.created_at.to_string(),
        "bids": o.bid_count,
    })
}

fn bid_json(b: &Bid) -> Value {
    json!({
        "id": bid_id_json(&b.id),
        "state": bstate(b.state),
        "price": coin_text(&b.price),
        "deposit": coin_text(&b.deposit),
        "created_at": b.created_at.to_string(),
    })
}

fn lease_json(l: &Lease) -> Value {
    json!({
        "id": bid_id_json(&l.id),
        "state": lstate(l.state),
        "price": coin_text(&l.price),
        "created_at": l.created_at.to_string(),
        "closed_on": l.closed_on.to_string(),
        "reason": l.reason,
    })
}

fn filters(f: &FilterArgs, address: &impl Fn(&str) -> Result<Address>) -> Result<Filters> {
    Ok(Filters {
        owner: f
            .owner
            .as_deref()
            .map(address)
            .transpose()?
            .map(|a| a.to_string())
            .unwrap_or_default(),
        dseq: f.dseq.unwrap_or(0),
        provider: f
            .provider
            .as_deref()
            .map(address)
            .transpose()?
            .map(|a| a.to_string())
            .unwrap_or_default(),
        state: f.state.clone().unwrap_or_default(),
    })
}

/// One page (with --limit/--page-key) or every page.
macro_rules! list {
    ($q:expr, $url:expr, $path:expr, $req:ident, $resp:ident, $field:ident, $filters:expr, $page:expr) => {{
        let path = $path;
        match $page.one_page()? {
            Some(p) => {
                let r: $resp = $q
                    .query(
                        path,
                        &$req {
                            filters: Some($filters.clone()),
                            pagination: Some(p),
                        },
                    )
                    .await
                    .map_err(|e| query_error($url, e))?;
                (
                    r.$field,
                    r.pagination.map(|p| p.next_key).unwrap_or_default(),
                )
            }
            None => {
                let all = $q
                    .paged(path, |pagination| {
                        let req = $req {
                            filters: Some($filters.clone()),
                            pagination,
                        };
                        async move {
                            let r: $resp = $q.query(path, &req).await?;
                            Ok((r.$field, r.pagination))
                        }
                    })
                    .await
                    .map_err(|e| query_error($url, e))?;
                (all, Vec::new())
            }
        }
    }};
}
pub(crate) use list;

fn print_list(
    out: OutputFormat,
    key: &str,
    items: Vec<Value>,
    next: &[u8],
    text: Vec<String>,
) -> Result<()> {
    match out {
        OutputFormat::Json => print_json(&json!({ key: items, "next_key": hex::encode(next) })),
        OutputFormat::Text => {
            if text.is_empty() {
                println!("no {key}");
            }
            text.iter().for_each(|l| println!("{l}"));
            if !next.is_empty() {
                println!("next page: --page-key {}", hex::encode(next));
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
    cmd: &MarketQuery,
) -> Result<()> {
    match cmd {
        MarketQuery::Orders { f } => {
            let fl = filters(f, &address)?;
            let (items, next) = list!(
                q,
                url,
                "/virtengine.market.v1.Query/Orders",
                QueryOrdersRequest,
                QueryOrdersResponse,
                orders,
                fl,
                f.page
            );
            let text = items
                .iter()
                .map(|o| {
                    let id = o.id.clone().unwrap_or_default();
                    format!(
                        "order {}/{}/{}/{}: {} ({} bids)",
                        id.owner,
                        id.dseq,
                        id.gseq,
                        id.oseq,
                        ostate(o.state),
                        o.bid_count
                    )
                })
                .collect();
            print_list(
                out,
                "orders",
                items.iter().map(order_json).collect(),
                &next,
                text,
            )
        }
        MarketQuery::Bids { f } => {
            let fl = filters(f, &address)?;
            let (items, next) = list!(
                q,
                url,
                "/virtengine.market.v1.Query/Bids",
                QueryBidsRequest,
                QueryBidsResponse,
                bids,
                fl,
                f.page
            );
            let text = items
                .iter()
                .map(|b| {
                    format!(
                        "bid {}: {} at {}/block",
                        b.id.as_ref().map(id_text).unwrap_or_default(),
                        bstate(b.state),
                        coin_text(&b.price)
                    )
                })
                .collect();
            print_list(
                out,
                "bids",
                items.iter().map(bid_json).collect(),
                &next,
                text,
            )
        }
        MarketQuery::Leases { f } => {
            let fl = filters(f, &address)?;
            let (items, next) = list!(
                q,
                url,
                "/virtengine.market.v1.Query/Leases",
                QueryLeasesRequest,
                QueryLeasesResponse,
                leases,
                fl,
                f.page
            );
            let text = items
                .iter()
                .map(|l| {
                    format!(
                        "lease {}: {} at {}/block",
                        l.id.as_ref().map(id_text).unwrap_or_default(),
                        lstate(l.state),
                        coin_text(&l.price)
                    )
                })
                .collect();
            print_list(
                out,
                "leases",
                items.iter().map(lease_json).collect(),
                &next,
                text,
            )
        }
        MarketQuery::Order {
            owner,
            dseq,
            gseq,
            oseq,
        } => {
            let id = OrderId {
                owner: address(owner)?.to_string(),
                dseq: *dseq,
                gseq: *gseq,
                oseq: *oseq,
            };
            let r: QueryOrderResponse = q
                .query(
                    "/virtengine.market.v1.Query/Order",
                    &QueryOrderRequest { id: Some(id) },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            let o = r.order.context("node answered without an order")?;
            match out {
                OutputFormat::Json => print_json(&order_json(&o)),
                OutputFormat::Text => {
                    let id = o.id.clone().unwrap_or_default();
                    println!(
                        "order {}/{}/{}/{}: {} ({} bids)",
                        id.owner,
                        id.dseq,
                        id.gseq,
                        id.oseq,
                        ostate(o.state),
                        o.bid_count
                    );
                    Ok(())
                }
            }
        }
        MarketQuery::Bid(a) => {
            let id = a.id(&address)?;
            let r: QueryBidResponse = q
                .query(
                    "/virtengine.market.v1.Query/Bid",
                    &QueryBidRequest { id: Some(id) },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            let b = r.bid.context("node answered without a bid")?;
            match out {
                OutputFormat::Json => print_json(&json!({
                    "bid": bid_json(&b),
                    "escrow_account": r.escrow_account.as_ref().map(|a| json!({
                        "state": a.state, "balance": a.balance,
                    })),
                })),
                OutputFormat::Text => {
                    println!(
                        "bid {}: {} at {}/block, deposit {}",
                        b.id.as_ref().map(id_text).unwrap_or_default(),
                        bstate(b.state),
                        coin_text(&b.price),
                        coin_text(&b.deposit)
                    );
                    Ok(())
                }
            }
        }
        MarketQuery::LeaseUsage(a) => {
            crate::cli::market_usage::query_usage(q, url, out, address, a).await
        }
        MarketQuery::Lease(a) => {
            let id = a.id(&address)?;
            let r: QueryLeaseResponse = q
                .query(
                    "/virtengine.market.v1.Query/Lease",
                    &QueryLeaseRequest { id: Some(id) },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            let l = r.lease.context("node answered without a lease")?;
            let p = r.escrow_payment;
            match out {
                OutputFormat::Json => print_json(&json!({
                    "lease": lease_json(&l),
                    "payment": p.as_ref().map(|p| json!({
                        "state": p.state, "rate": p.rate, "balance": p.balance,
                        "unsettled": p.unsettled, "withdrawn": p.withdrawn,
                    })),
                })),
                OutputFormat::Text => {
                    println!(
                        "lease {}: {} at {}/block",
                        l.id.as_ref().map(id_text).unwrap_or_default(),
                        lstate(l.state),
                        coin_text(&l.price)
                    );
                    if let Some(p) = p {
                        println!("  accrued {}, withdrawn {}", p.balance, p.withdrawn);
                    }
                    Ok(())
                }
            }
        }
    }
}
