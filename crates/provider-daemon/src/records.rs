//! The daemon's record of one order and how confirmed chain events move it. A record
//! holds the order's reservation (if any), our bid and our lease: one record per order,
//! so a reservation can never outlive the bid or lease it belongs to.
//!
//! Stages: `Pending` (seen, not decided) → `Skipped(reason)` | `Bidding` (capacity
//! reserved, bid tx sent or about to be) → `Bid` (our bid is on chain) → `Leased`
//! (⇄ `Paused`: the tenant's escrow ran dry; the workload is suspended, not destroyed)
//! → `Closed`. Only chain events and the bid worker's confirmed outcomes move a record.

use serde::{Deserialize, Serialize};

use crate::events::ChainEvent;
use crate::resources::Resources;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    Pending,
    Skipped(String),
    Bidding,
    Bid,
    Leased,
    Paused,
    Closed(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub stage: Stage,
    /// Height whose `order_created` event created this record.
    pub seen_height: u64,
    /// Capacity held for this order: set when bidding, cleared on loss/close/timeout.
    pub reserved: Option<Resources>,
    /// Our price per block, once decided.
    pub price: Option<u128>,
    /// Height at which our bid was confirmed on chain (bid timeout counts from it).
    pub bid_height: Option<u64>,
    /// Bid transactions sent for this order (a retry only after the chain shows none).
    pub attempts: u32,
    /// Checkpoint height when the last bid tx was sent: a retry waits a few blocks so
    /// a tx still in the mempool is not doubled.
    pub last_attempt: u64,
}

impl OrderRecord {
    pub fn pending(height: u64) -> Self {
        Self {
            stage: Stage::Pending,
            seen_height: height,
            reserved: None,
            price: None,
            bid_height: None,
            attempts: 0,
            last_attempt: 0,
        }
    }

    /// Ends the record, releasing its reservation.
    pub fn close(&mut self, reason: &str) {
        self.stage = Stage::Closed(reason.to_string());
        self.reserved = None;
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.stage, Stage::Closed(_) | Stage::Skipped(_))
    }
}

/// The record after `event` at `height`. `None` in, `None` out unless the event creates
/// the record (`order_created`); events for orders the daemon never saw are ignored.
/// Idempotent: applying an event twice gives the same record.
pub fn apply(rec: Option<OrderRecord>, event: &ChainEvent, height: u64) -> Option<OrderRecord> {
    let mut r = match (rec, event) {
        (None, ChainEvent::OrderCreated(_)) => return Some(OrderRecord::pending(height)),
        (Some(r), ChainEvent::OrderCreated(_)) => return Some(r),
        (None, _) => return None,
        (Some(r), _) => r,
    };
    match event {
        ChainEvent::OrderCreated(_) => {}
        // The order ended (lease closed, group closed, deployment closed): whatever we
        // held for it is free again, unless it became our lease.
        ChainEvent::OrderClosed(_) => {
            if !matches!(r.stage, Stage::Leased | Stage::Paused) && !r.is_closed() {
                r.close("order_closed");
            }
        }
        ChainEvent::BidCreated(_) => {
            if matches!(r.stage, Stage::Pending | Stage::Bidding) {
                r.stage = Stage::Bid;
                r.bid_height = Some(height);
            }
        }
        ChainEvent::BidClosed(_, reason) => {
            if matches!(r.stage, Stage::Bidding | Stage::Bid) {
                r.close(if reason.is_empty() {
                    "bid_closed"
                } else {
                    reason
                });
            }
        }
        ChainEvent::LeaseCreated(_) => {
            if !r.is_closed() {
                r.stage = Stage::Leased;
            }
        }
        ChainEvent::LeasePaused(_) => {
            if r.stage == Stage::Leased {
                r.stage = Stage::Paused;
            }
        }
        ChainEvent::LeaseResumed(_) => {
            if r.stage == Stage::Paused {
                r.stage = Stage::Leased;
            }
        }
        ChainEvent::LeaseClosed(_) => r.close("lease_closed"),
        ChainEvent::Hpc(_) => {}
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::OrderKey;

    fn key() -> OrderKey {
        OrderKey::parse("ve1t/1/1/1").unwrap()
    }

    fn reserved_bid() -> OrderRecord {
        OrderRecord {
            stage: Stage::Bid,
            reserved: Some(Resources {
                cpu_millicores: 500,
                ..Default::default()
            }),
            ..OrderRecord::pending(1)
        }
    }

    #[test]
    fn losing_a_bid_releases_its_reservation() {
        let r = apply(
            Some(reserved_bid()),
            &ChainEvent::BidClosed(key(), "lost".into()),
            9,
        )
        .unwrap();
        assert_eq!(r.stage, Stage::Closed("lost".into()));
        assert_eq!(r.reserved, None);
    }

    #[test]
    fn paused_lease_keeps_its_reservation_and_order_close_does_not_free_a_lease() {
        let mut r = apply(Some(reserved_bid()), &ChainEvent::LeaseCreated(key()), 3).unwrap();
        r = apply(Some(r), &ChainEvent::OrderClosed(key()), 3).unwrap();
        r = apply(Some(r), &ChainEvent::LeasePaused(key()), 4).unwrap();
        assert_eq!(r.stage, Stage::Paused);
        assert!(r.reserved.is_some());
        r = apply(Some(r), &ChainEvent::LeaseResumed(key()), 5).unwrap();
        assert_eq!(r.stage, Stage::Leased);
        r = apply(Some(r), &ChainEvent::LeaseClosed(key()), 6).unwrap();
        assert!(r.reserved.is_none() && r.is_closed());
    }

    #[test]
    fn events_are_idempotent_and_unknown_orders_ignored() {
        assert_eq!(apply(None, &ChainEvent::OrderClosed(key()), 1), None);
        let once = apply(None, &ChainEvent::OrderCreated(key()), 4);
        let twice = apply(once.clone(), &ChainEvent::OrderCreated(key()), 8);
        assert_eq!(once, twice);
        let b1 = apply(Some(reserved_bid()), &ChainEvent::BidCreated(key()), 2);
        assert_eq!(b1, apply(b1.clone(), &ChainEvent::BidCreated(key()), 2));
    }
}
