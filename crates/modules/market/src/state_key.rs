//! Every key the market module writes. The layout of state is a public API.
//! Ids are fixed width: an order is `<owner 20><dseq 8><gseq 4><oseq 4>` (36 bytes,
//! big-endian numbers), a bid or lease that plus `<provider 20>`.

use crate::types::{BidId, OrderId};
use ve_deployment::GroupId;
use ve_types::Address;

pub const PARAMS: &[u8] = b"market/params";
/// `market/order/<order 36>` → `Order`.
pub const ORDER_PREFIX: &[u8] = b"market/order/";
/// `market/gorder/<owner 20><dseq 8><gseq 4>` → the group's latest oseq (4 bytes BE).
pub const GROUP_ORDER_PREFIX: &[u8] = b"market/gorder/";
/// `market/bid/<order 36><provider 20>` → `Bid`.
pub const BID_PREFIX: &[u8] = b"market/bid/";
/// `market/lease/<order 36><provider 20>` → `Lease`.
pub const LEASE_PREFIX: &[u8] = b"market/lease/";
/// `market/pbid/<provider 20><order 36>` → empty: a provider's bids.
pub const PROVIDER_BID_PREFIX: &[u8] = b"market/pbid/";
/// `market/plse/<provider 20><order 36>` → empty: a provider's leases.
pub const PROVIDER_LEASE_PREFIX: &[u8] = b"market/plse/";
/// `market/usage/<order 36><provider 20>` → `LeaseUsageSummary`.
pub const USAGE_PREFIX: &[u8] = b"market/usage/";
/// `market/usagerec/<order 36><provider 20><seq 8>` → `UsageRecord`: the latest
/// [`crate::usage::RECORDS_KEPT`] of each lease.
pub const USAGE_RECORD_PREFIX: &[u8] = b"market/usagerec/";

pub const ORDER_ID_LEN: usize = 36;

pub fn order_bytes(id: &OrderId) -> Vec<u8> {
    [
        id.owner.as_bytes().as_slice(),
        &id.dseq.to_be_bytes(),
        &id.gseq.to_be_bytes(),
        &id.oseq.to_be_bytes(),
    ]
    .concat()
}

pub fn parse_order(b: &[u8]) -> Option<OrderId> {
    if b.len() != ORDER_ID_LEN {
        return None;
    }
    Some(OrderId {
        owner: Address::from_slice(b.get(..20)?).ok()?,
        dseq: u64::from_be_bytes(b.get(20..28)?.try_into().ok()?),
        gseq: u32::from_be_bytes(b.get(28..32)?.try_into().ok()?),
        oseq: u32::from_be_bytes(b.get(32..36)?.try_into().ok()?),
    })
}

/// The owner (and dseq) part of the order prefix, for filtered listings.
pub fn owner_part(owner: &Address, dseq: u64) -> Vec<u8> {
    if dseq == 0 {
        owner.as_bytes().to_vec()
    } else {
        [owner.as_bytes().as_slice(), &dseq.to_be_bytes()].concat()
    }
}

pub fn order(id: &OrderId) -> Vec<u8> {
    [ORDER_PREFIX, order_bytes(id).as_slice()].concat()
}

pub fn group_order(g: &GroupId) -> Vec<u8> {
    [
        GROUP_ORDER_PREFIX,
        g.owner.as_bytes().as_slice(),
        &g.dseq.to_be_bytes(),
        &g.gseq.to_be_bytes(),
    ]
    .concat()
}

/// `market/bid/<order 36>`: an order's bids.
pub fn bids_of(id: &OrderId) -> Vec<u8> {
    [BID_PREFIX, order_bytes(id).as_slice()].concat()
}

pub fn bid(id: &BidId) -> Vec<u8> {
    [bids_of(&id.order).as_slice(), id.provider.as_bytes()].concat()
}

/// `<order 36><provider 20>`: a bid or lease.
fn bid_bytes(id: &BidId) -> Vec<u8> {
    [order_bytes(&id.order).as_slice(), id.provider.as_bytes()].concat()
}

pub fn lease(id: &BidId) -> Vec<u8> {
    [LEASE_PREFIX, bid_bytes(id).as_slice()].concat()
}

pub fn usage(id: &BidId) -> Vec<u8> {
    [USAGE_PREFIX, bid_bytes(id).as_slice()].concat()
}

/// `market/usagerec/<lease 56>`: a lease's records, in seq order.
pub fn usage_records_of(id: &BidId) -> Vec<u8> {
    [USAGE_RECORD_PREFIX, bid_bytes(id).as_slice()].concat()
}

pub fn usage_record(id: &BidId, seq: u64) -> Vec<u8> {
    [usage_records_of(id).as_slice(), &seq.to_be_bytes()].concat()
}

pub fn provider_bid(id: &BidId) -> Vec<u8> {
    [
        PROVIDER_BID_PREFIX,
        id.provider.as_bytes().as_slice(),
        &order_bytes(&id.order),
    ]
    .concat()
}

pub fn provider_lease(id: &BidId) -> Vec<u8> {
    [
        PROVIDER_LEASE_PREFIX,
        id.provider.as_bytes().as_slice(),
        &order_bytes(&id.order),
    ]
    .concat()
}
