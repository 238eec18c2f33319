//! Typed access to market state. No other code reads or writes `market/` keys.

use crate::types::{BidId, OrderId};
use crate::{params::HARD_MAX_BIDS, proto, state_key, MarketError, MarketParams};
use prost::Message;
use ve_deployment::GroupId;
use ve_module::Store;
use ve_types::AppError;

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    MarketError::Corrupt(format!("{what}: {e}")).into()
}

pub fn params(store: &mut impl Store) -> Result<MarketParams, AppError> {
    match store.get(state_key::PARAMS)? {
        Some(b) => Ok(MarketParams::from_proto(
            &proto::Params::decode(b.as_slice()).map_err(|e| corrupt("params", e))?,
        )?),
        None => Ok(MarketParams::default()),
    }
}

pub fn set_params(store: &mut impl Store, p: &MarketParams) -> Result<(), AppError> {
    p.validate()?;
    store.put(state_key::PARAMS.to_vec(), p.to_proto().encode_to_vec())
}

pub fn decode_order(b: &[u8]) -> Result<proto::Order, AppError> {
    proto::Order::decode(b).map_err(|e| corrupt("order", e))
}
pub fn decode_bid(b: &[u8]) -> Result<proto::Bid, AppError> {
    proto::Bid::decode(b).map_err(|e| corrupt("bid", e))
}
pub fn decode_lease(b: &[u8]) -> Result<proto::Lease, AppError> {
    proto::Lease::decode(b).map_err(|e| corrupt("lease", e))
}

pub fn order(store: &mut impl Store, id: &OrderId) -> Result<Option<proto::Order>, AppError> {
    store
        .get(&state_key::order(id))?
        .map(|b| decode_order(&b))
        .transpose()
}

pub fn set_order(store: &mut impl Store, o: &proto::Order) -> Result<(), AppError> {
    let id = OrderId::from_proto(o.id.as_ref())?;
    store.put(state_key::order(&id), o.encode_to_vec())
}

/// The group's latest oseq (0: no order yet).
pub fn group_oseq(store: &mut impl Store, g: &GroupId) -> Result<u32, AppError> {
    match store.get(&state_key::group_order(g))? {
        None => Ok(0),
        Some(b) => {
            let arr: [u8; 4] = b
                .as_slice()
                .try_into()
                .map_err(|_| corrupt("group order", "length"))?;
            Ok(u32::from_be_bytes(arr))
        }
    }
}

pub fn set_group_oseq(store: &mut impl Store, g: &GroupId, oseq: u32) -> Result<(), AppError> {
    store.put(state_key::group_order(g), oseq.to_be_bytes().to_vec())
}

/// The group's latest order, if any.
pub fn current_order(
    store: &mut impl Store,
    g: &GroupId,
) -> Result<Option<proto::Order>, AppError> {
    let oseq = group_oseq(store, g)?;
    if oseq == 0 {
        return Ok(None);
    }
    order(store, &OrderId::new(g, oseq))
}

pub fn bid(store: &mut impl Store, id: &BidId) -> Result<Option<proto::Bid>, AppError> {
    store
        .get(&state_key::bid(id))?
        .map(|b| decode_bid(&b))
        .transpose()
}

pub fn set_bid(store: &mut impl Store, b: &proto::Bid) -> Result<(), AppError> {
    let id = BidId::from_proto(b.id.as_ref())?;
    store.put(state_key::bid(&id), b.encode_to_vec())?;
    store.put(state_key::provider_bid(&id), Vec::new())
}

/// An order's bids (bounded by the hard per-order maximum).
pub fn bids_of(store: &mut impl Store, id: &OrderId) -> Result<Vec<proto::Bid>, AppError> {
    let limit = usize::try_from(HARD_MAX_BIDS).unwrap_or(500);
    store
        .prefix(&state_key::bids_of(id), limit)?
        .iter()
        .map(|(_, v)| decode_bid(v))
        .collect()
}

pub fn lease(store: &mut impl Store, id: &BidId) -> Result<Option<proto::Lease>, AppError> {
    store
        .get(&state_key::lease(id))?
        .map(|b| decode_lease(&b))
        .transpose()
}

pub fn set_lease(store: &mut impl Store, l: &proto::Lease) -> Result<(), AppError> {
    let id = BidId::from_proto(l.id.as_ref())?;
    store.put(state_key::lease(&id), l.encode_to_vec())?;
    store.put(state_key::provider_lease(&id), Vec::new())
}

pub fn decode_usage_summary(b: &[u8]) -> Result<proto::LeaseUsageSummary, AppError> {
    proto::LeaseUsageSummary::decode(b).map_err(|e| corrupt("usage summary", e))
}
pub fn decode_usage_record(b: &[u8]) -> Result<proto::UsageRecord, AppError> {
    proto::UsageRecord::decode(b).map_err(|e| corrupt("usage record", e))
}

/// The lease's usage so far (`None`: nothing recorded).
pub fn usage_summary(
    store: &mut impl Store,
    id: &BidId,
) -> Result<Option<proto::LeaseUsageSummary>, AppError> {
    store
        .get(&state_key::usage(id))?
        .map(|b| decode_usage_summary(&b))
        .transpose()
}

/// Stores one accepted record and the summary it leads to.
pub fn add_usage_record(
    store: &mut impl Store,
    id: &BidId,
    summary: &proto::LeaseUsageSummary,
    record: &proto::UsageRecord,
) -> Result<(), AppError> {
    store.put(
        state_key::usage_record(id, record.seq),
        record.encode_to_vec(),
    )?;
    // Seqs are consecutive, so one delete per record keeps exactly the latest ones.
    if let Some(oldest) = record.seq.checked_sub(crate::usage::RECORDS_KEPT) {
        if oldest > 0 {
            store.delete(state_key::usage_record(id, oldest))?;
        }
    }
    store.put(state_key::usage(id), summary.encode_to_vec())
}

/// The lease's records from `first_seq` on, at most `limit`, in seq order.
pub fn usage_records(
    store: &mut impl Store,
    id: &BidId,
    first_seq: u64,
    limit: usize,
) -> Result<Vec<proto::UsageRecord>, AppError> {
    let prefix = state_key::usage_records_of(id);
    let end = ve_module::prefix_end(&prefix);
    store
        .range(
            &state_key::usage_record(id, first_seq),
            end.as_deref(),
            limit,
        )?
        .iter()
        .map(|(_, v)| decode_usage_record(v))
        .collect()
}
