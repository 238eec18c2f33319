//! Typed market events. A provider daemon watches `order_created` (bid on it),
//! `lease_created` (deploy), `lease_paused` (stop the workload, keep its data: the tenant's
//! escrow ran dry and the grace window runs), `lease_resumed` (start it again) and
//! `lease_closed` (tear down). `bid_closed` with reason `lost` tells a provider it lost.
//! `lease_usage_recorded` carries each accepted usage record's delta; `lease_withdrawn`
//! ties each payout to the usage evidence recorded up to it.

use crate::proto::{LeaseUsage, LeaseUsageSummary};
use crate::types::{BidId, OrderId};
use ve_module::Event;

pub const ORDER_CREATED: &str = "order_created";
pub const ORDER_CLOSED: &str = "order_closed";
pub const BID_CREATED: &str = "bid_created";
pub const BID_CLOSED: &str = "bid_closed";
pub const LEASE_CREATED: &str = "lease_created";
pub const LEASE_CLOSED: &str = "lease_closed";
pub const LEASE_PAUSED: &str = "lease_paused";
pub const LEASE_RESUMED: &str = "lease_resumed";
pub const LEASE_USAGE_RECORDED: &str = "lease_usage_recorded";
pub const LEASE_WITHDRAWN: &str = "lease_withdrawn";

fn order_attrs(e: Event, id: &OrderId) -> Event {
    e.attr("owner", id.owner)
        .attr("dseq", id.dseq)
        .attr("gseq", id.gseq)
        .attr("oseq", id.oseq)
}

pub fn order(kind: &str, id: &OrderId) -> Event {
    order_attrs(Event::new(kind), id)
}

pub fn bid(kind: &str, id: &BidId) -> Event {
    order_attrs(Event::new(kind), &id.order).attr("provider", id.provider)
}

pub fn bid_created(id: &BidId, price: &str) -> Event {
    bid(BID_CREATED, id).attr("price", price)
}

/// `reason`: `closed`, `lost`, `group_closed`.
pub fn bid_closed(id: &BidId, reason: &str) -> Event {
    bid(BID_CLOSED, id).attr("reason", reason)
}

pub fn lease_created(id: &BidId, price: &str) -> Event {
    bid(LEASE_CREATED, id).attr("price", price)
}

pub fn lease_closed(id: &BidId, reason: i32) -> Event {
    bid(LEASE_CLOSED, id).attr("reason", reason)
}

pub fn lease_paused(id: &BidId, grace_until: u64) -> Event {
    bid(LEASE_PAUSED, id).attr("grace_until", grace_until)
}

/// `delta`: this record's usage minus the previous record's (`storage_bytes`: the level).
pub fn lease_usage_recorded(id: &BidId, seq: u64, last: bool, delta: &LeaseUsage) -> Event {
    bid(LEASE_USAGE_RECORDED, id)
        .attr("seq", seq)
        .attr("final", last)
        .attr("cpu_milli_seconds", delta.cpu_milli_seconds)
        .attr("memory_byte_seconds", delta.memory_byte_seconds)
        .attr("storage_bytes", delta.storage_bytes)
        .attr("gpu_seconds", delta.gpu_seconds)
        .attr("wall_seconds", delta.wall_seconds)
}

/// A payout with the usage recorded up to it (`usage_last_seq` 0: none yet).
pub fn lease_withdrawn(
    id: &BidId,
    payout: &str,
    fee: &str,
    usage: Option<&LeaseUsageSummary>,
) -> Event {
    let last_seq = usage.map_or(0, |u| u.last_seq);
    let total = usage.and_then(|u| u.cumulative).unwrap_or_default();
    bid(LEASE_WITHDRAWN, id)
        .attr("payout", payout)
        .attr("fee", fee)
        .attr("usage_last_seq", last_seq)
        .attr("usage_cpu_milli_seconds", total.cpu_milli_seconds)
        .attr("usage_memory_byte_seconds", total.memory_byte_seconds)
}
