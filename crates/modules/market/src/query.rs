//! `virtengine.market.v1.Query`, one function per method. List queries take filters
//! (owner, dseq, provider, state) and key pagination; a state filter is applied while
//! walking, so a page may hold fewer than `limit` entries: follow `next_key`.

use crate::proto::*;
use crate::types::{
    bid_state_name, lease_state_name, order_state_name, parse_addr, BidId, OrderId,
};
use crate::{state, state_key, usage, MarketError};
use prost::Message;
use ve_module::{prefix_end, QueryContext, DEFAULT_PAGE, MAX_PAGE};
use ve_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use ve_types::AppError;

pub const ORDERS: &str = "/virtengine.market.v1.Query/Orders";
pub const ORDER: &str = "/virtengine.market.v1.Query/Order";
pub const BIDS: &str = "/virtengine.market.v1.Query/Bids";
pub const BID: &str = "/virtengine.market.v1.Query/Bid";
pub const LEASES: &str = "/virtengine.market.v1.Query/Leases";
pub const LEASE: &str = "/virtengine.market.v1.Query/Lease";
pub const PARAMS: &str = "/virtengine.market.v1.Query/Params";
pub const LEASE_USAGE: &str = "/virtengine.market.v1.Query/LeaseUsage";

/// Most entries one page examines.
pub const MAX_SCAN: usize = 5_000;

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, AppError> {
    M::decode(data).map_err(|e| MarketError::InvalidRequest(e.to_string()).into())
}

pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        ORDERS => orders(ctx, data),
        ORDER => order(ctx, data),
        BIDS => bids(ctx, data),
        BID => bid(ctx, data),
        LEASES => leases(ctx, data),
        LEASE => lease(ctx, data),
        PARAMS => params(ctx),
        LEASE_USAGE => lease_usage(ctx, data),
        _ => return None,
    })
}

/// Walks `prefix` from the page key, keeping what `keep` returns, until `limit` kept
/// or `MAX_SCAN` examined; `next_key` is where the next page starts.
fn scan<T>(
    ctx: &QueryContext<'_>,
    prefix: &[u8],
    page: Option<&PageRequest>,
    mut keep: impl FnMut(&[u8], &[u8]) -> Result<Option<T>, AppError>,
) -> Result<(Vec<T>, PageResponse), AppError> {
    let limit = match page.map(|p| p.limit) {
        None | Some(0) => DEFAULT_PAGE,
        Some(l) => usize::try_from(l).unwrap_or(MAX_PAGE).min(MAX_PAGE),
    };
    let mut start = match page.map(|p| p.key.as_slice()) {
        Some(k) if !k.is_empty() => {
            if !k.starts_with(prefix) {
                return Err(MarketError::InvalidRequest(
                    "pagination key does not belong to this listing: pass the next_key of the previous page".into(),
                )
                .into());
            }
            k.to_vec()
        }
        _ => prefix.to_vec(),
    };
    let end = prefix_end(prefix);
    let mut out = Vec::new();
    let mut scanned = 0usize;
    let mut next_key = Vec::new();
    'outer: loop {
        let batch = ctx.range(&start, end.as_deref(), limit.saturating_add(1))?;
        let done = batch.len() <= limit;
        for (k, v) in batch {
            if out.len() >= limit || scanned >= MAX_SCAN {
                next_key = k;
                break 'outer;
            }
            scanned = scanned.saturating_add(1);
            if let Some(t) = keep(&k, &v)? {
                out.push(t);
            }
            start = [k.as_slice(), &[0]].concat();
        }
        if done {
            break;
        }
    }
    Ok((out, PageResponse { next_key, total: 0 }))
}

struct Filter {
    owner: Option<ve_types::Address>,
    dseq: u64,
    provider: Option<ve_types::Address>,
    state: String,
}

fn filter(f: Option<&Filters>) -> Result<Filter, AppError> {
    let f = f.cloned().unwrap_or_default();
    let addr = |s: &str| -> Result<Option<ve_types::Address>, AppError> {
        if s.is_empty() {
            Ok(None)
        } else {
            Ok(Some(parse_addr(s)?))
        }
    };
    let out = Filter {
        owner: addr(&f.owner)?,
        dseq: f.dseq,
        provider: addr(&f.provider)?,
        state: f.state,
    };
    if out.dseq != 0 && out.owner.is_none() {
        return Err(MarketError::InvalidRequest("a dseq filter needs an owner".into()).into());
    }
    Ok(out)
}

fn check_state(want: &str, names: &[&str]) -> Result<(), AppError> {
    if want.is_empty() || names.contains(&want) {
        Ok(())
    } else {
        Err(MarketError::InvalidRequest(format!(
            "unknown state {want:?}: use one of {}",
            names.join(", ")
        ))
        .into())
    }
}

fn owner_prefix(base: &[u8], f: &Filter) -> Vec<u8> {
    match &f.owner {
        Some(o) => [base, state_key::owner_part(o, f.dseq).as_slice()].concat(),
        None => base.to_vec(),
    }
}

pub fn orders(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryOrdersRequest = decode(data)?;
    let f = filter(req.filters.as_ref())?;
    check_state(&f.state, &["open", "active", "closed"])?;
    if f.provider.is_some() {
        return Err(MarketError::InvalidRequest(
            "orders have no provider: filter bids or leases by provider".into(),
        )
        .into());
    }
    let prefix = owner_prefix(state_key::ORDER_PREFIX, &f);
    let (orders, pagination) = scan(ctx, &prefix, req.pagination.as_ref(), |_, v| {
        let o = state::decode_order(v)?;
        Ok((f.state.is_empty() || order_state_name(o.state) == f.state).then_some(o))
    })?;
    Ok(QueryOrdersResponse {
        orders,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

/// Bids or leases: by the provider's index when a provider is given, else by owner.
fn bid_like<T>(
    ctx: &QueryContext<'_>,
    f: &Filter,
    page: Option<&PageRequest>,
    primary: &[u8],
    index: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, AppError>,
    state_of: impl Fn(&T) -> &'static str,
) -> Result<(Vec<T>, PageResponse), AppError> {
    let keep_state = |t: T| (f.state.is_empty() || state_of(&t) == f.state).then_some(t);
    match &f.provider {
        Some(p) => {
            let base = [index, p.as_bytes().as_slice()].concat();
            let prefix = owner_prefix(&base, f);
            let mut store = ctx.store();
            scan(ctx, &prefix, page, |k, _| {
                let order = k
                    .get(base.len()..)
                    .and_then(state_key::parse_order)
                    .ok_or_else(|| MarketError::Corrupt("provider index key".into()))?;
                let key = [
                    primary,
                    state_key::order_bytes(&order).as_slice(),
                    p.as_bytes(),
                ]
                .concat();
                let v = ve_module::Store::get(&mut store, &key)?
                    .ok_or_else(|| MarketError::Corrupt("provider index points nowhere".into()))?;
                Ok(keep_state(decode(&v)?))
            })
        }
        None => {
            let prefix = owner_prefix(primary, f);
            scan(ctx, &prefix, page, |_, v| Ok(keep_state(decode(v)?)))
        }
    }
}

pub fn bids(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryBidsRequest = decode(data)?;
    let f = filter(req.filters.as_ref())?;
    check_state(&f.state, &["open", "active", "lost", "closed"])?;
    let (bids, pagination) = bid_like(
        ctx,
        &f,
        req.pagination.as_ref(),
        state_key::BID_PREFIX,
        state_key::PROVIDER_BID_PREFIX,
        state::decode_bid,
        |b: &Bid| bid_state_name(b.state),
    )?;
    Ok(QueryBidsResponse {
        bids,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

pub fn leases(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryLeasesRequest = decode(data)?;
    let f = filter(req.filters.as_ref())?;
    check_state(&f.state, &["active", "insufficient_funds", "closed"])?;
    let (leases, pagination) = bid_like(
        ctx,
        &f,
        req.pagination.as_ref(),
        state_key::LEASE_PREFIX,
        state_key::PROVIDER_LEASE_PREFIX,
        state::decode_lease,
        |l: &Lease| lease_state_name(l.state),
    )?;
    Ok(QueryLeasesResponse {
        leases,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

pub fn order(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryOrderRequest = decode(data)?;
    let id = OrderId::from_proto(req.id.as_ref())?;
    let o = state::order(&mut ctx.store(), &id)?
        .ok_or_else(|| MarketError::OrderNotFound(id.to_string()))?;
    Ok(QueryOrderResponse { order: Some(o) }.encode_to_vec())
}

pub fn bid(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryBidRequest = decode(data)?;
    let id = BidId::from_proto(req.id.as_ref())?;
    let mut store = ctx.store();
    let b = state::bid(&mut store, &id)?.ok_or_else(|| MarketError::BidNotFound(id.to_string()))?;
    let account = ve_escrow::state::account(&mut store, &id.escrow_account())?
        .map(|a| a.to_proto())
        .transpose()?;
    Ok(QueryBidResponse {
        bid: Some(b),
        escrow_account: account,
    }
    .encode_to_vec())
}

pub fn lease(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryLeaseRequest = decode(data)?;
    let id = BidId::from_proto(req.id.as_ref())?;
    let l = state::lease(&mut ctx.store(), &id)?
        .ok_or_else(|| MarketError::LeaseNotFound(id.to_string()))?;
    // The payment as settled at the queried height, through escrow's own query.
    let preq = ve_escrow::proto::QueryPaymentRequest {
        account_id: Some(id.order.deployment().escrow_account().to_proto()),
        payment_id: id.payment_id(),
    };
    let payment = ve_escrow::query::payment(ctx, &preq.encode_to_vec())
        .ok()
        .and_then(|b| ve_escrow::proto::QueryPaymentResponse::decode(b.as_slice()).ok())
        .and_then(|r| r.payment);
    Ok(QueryLeaseResponse {
        lease: Some(l),
        escrow_payment: payment,
    }
    .encode_to_vec())
}

/// The lease's usage summary and its most recent records (at most
/// [`usage::RECORDS_KEPT`], newest last). A lease without records answers
/// `last_seq` 0, so a provider knows its next seq is 1.
pub fn lease_usage(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryLeaseUsageRequest = decode(data)?;
    let id = BidId::from_proto(req.id.as_ref())?;
    let mut store = ctx.store();
    if state::lease(&mut store, &id)?.is_none() {
        return Err(MarketError::LeaseNotFound(id.to_string()).into());
    }
    let summary = state::usage_summary(&mut store, &id)?.unwrap_or_else(|| LeaseUsageSummary {
        id: Some(id.to_proto()),
        cumulative: Some(LeaseUsage::default()),
        ..Default::default()
    });
    let records = if summary.last_seq == 0 {
        Vec::new()
    } else {
        let first = summary
            .last_seq
            .saturating_sub(usage::RECORDS_KEPT)
            .saturating_add(1);
        let limit = usize::try_from(usage::RECORDS_KEPT).unwrap_or(100);
        state::usage_records(&mut store, &id, first, limit)?
    };
    Ok(QueryLeaseUsageResponse {
        summary: Some(summary),
        records,
    }
    .encode_to_vec())
}

pub fn params(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    let p = state::params(&mut ctx.store())?;
    Ok(QueryParamsResponse {
        params: Some(p.to_proto()),
    }
    .encode_to_vec())
}
