//! Typed market events. A provider daemon watches `order_created` (bid on it),
//! `lease_created` (deploy), `lease_paused` (stop the workload, keep its data: the tenant's
//! escrow ran dry and the grace window runs), `lease_resumed` (start it again) and
//! `lease_closed` (tear down). `bid_closed` with reason `lost` tells a provider it lost.

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
