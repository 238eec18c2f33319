//! The market events of one committed height, read from `/block_results` (successful
//! txs and FinalizeBlock events such as an escrow running dry). Only events the daemon
//! acts on are kept; bid and lease events of other providers are dropped.

use std::fmt;

use serde::{Deserialize, Serialize};
use ve_client::rpc_types::{BlockResults, Event};
use ve_market::events as ev;

/// `owner/dseq/gseq/oseq`: an order, and the key of the daemon's record for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrderKey {
    pub owner: String,
    pub dseq: u64,
    pub gseq: u32,
    pub oseq: u32,
}

impl fmt::Display for OrderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.owner, self.dseq, self.gseq, self.oseq
        )
    }
}

impl OrderKey {
    /// Parses the `Display` form back (the store's key).
    pub fn parse(s: &str) -> Option<Self> {
        let mut it = s.split('/');
        let k = Self {
            owner: it.next()?.to_string(),
            dseq: it.next()?.parse().ok()?,
            gseq: it.next()?.parse().ok()?,
            oseq: it.next()?.parse().ok()?,
        };
        it.next().is_none().then_some(k)
    }

    fn from_event(e: &Event) -> Option<Self> {
        Some(Self {
            owner: e.attr("owner")?.to_string(),
            dseq: e.attr("dseq")?.parse().ok()?,
            gseq: e.attr("gseq")?.parse().ok()?,
            oseq: e.attr("oseq")?.parse().ok()?,
        })
    }
}

/// A market event the daemon reacts to. Bid/lease variants are ours only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainEvent {
    OrderCreated(OrderKey),
    OrderClosed(OrderKey),
    BidCreated(OrderKey),
    /// `reason`: `closed`, `lost`, `group_closed`.
    BidClosed(OrderKey, String),
    LeaseCreated(OrderKey),
    LeaseClosed(OrderKey),
    LeasePaused(OrderKey),
    LeaseResumed(OrderKey),
    /// HPC jobs (see [`crate::hpc`]).
    Hpc(crate::hpc::HpcEvent),
}

/// Our market events in `results`, in execution order (txs, then FinalizeBlock events).
pub fn market_events(results: &BlockResults, provider: &str) -> Vec<ChainEvent> {
    let txs = results
        .txs_results
        .iter()
        .filter(|t| t.code == 0)
        .flat_map(|t| t.events.iter());
    txs.chain(results.finalize_block_events.iter())
        .filter_map(|e| parse(e, provider))
        .collect()
}

fn parse(e: &Event, provider: &str) -> Option<ChainEvent> {
    let key = || OrderKey::from_event(e);
    let ours = || e.attr("provider") == Some(provider);
    Some(match e.kind.as_str() {
        ev::ORDER_CREATED => ChainEvent::OrderCreated(key()?),
        ev::ORDER_CLOSED => ChainEvent::OrderClosed(key()?),
        ev::BID_CREATED if ours() => ChainEvent::BidCreated(key()?),
        ev::BID_CLOSED if ours() => {
            ChainEvent::BidClosed(key()?, e.attr("reason").unwrap_or("").to_string())
        }
        ev::LEASE_CREATED if ours() => ChainEvent::LeaseCreated(key()?),
        ev::LEASE_CLOSED if ours() => ChainEvent::LeaseClosed(key()?),
        ev::LEASE_PAUSED if ours() => ChainEvent::LeasePaused(key()?),
        ev::LEASE_RESUMED if ours() => ChainEvent::LeaseResumed(key()?),
        _ => return crate::hpc::events::parse(e, provider).map(ChainEvent::Hpc),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ve_client::rpc_types::{EventAttribute, ExecTxResult};

    pub(crate) fn event(kind: &str, attrs: &[(&str, &str)]) -> Event {
        Event {
            kind: kind.into(),
            attributes: attrs
                .iter()
                .map(|(k, v)| EventAttribute {
                    key: (*k).into(),
                    value: (*v).into(),
                    index: true,
                })
                .collect(),
        }
    }

    pub(crate) fn order_attrs(dseq: &str) -> Vec<(&'static str, String)> {
        vec![
            ("owner", "ve1tenant".to_string()),
            ("dseq", dseq.to_string()),
            ("gseq", "1".to_string()),
            ("oseq", "1".to_string()),
        ]
    }

    fn results(txs: Vec<(u32, Vec<Event>)>, fin: Vec<Event>) -> BlockResults {
        BlockResults {
            height: 5,
            txs_results: txs
                .into_iter()
                .map(|(code, events)| ExecTxResult {
                    code,
                    events,
                    ..Default::default()
                })
                .collect(),
            finalize_block_events: fin,
            app_hash: vec![],
        }
    }

    fn attrs<'a>(
        v: &'a [(&'static str, String)],
        extra: &'a [(&'a str, &'a str)],
    ) -> Vec<(&'a str, &'a str)> {
        v.iter()
            .map(|(k, s)| (*k, s.as_str()))
            .chain(extra.iter().copied())
            .collect()
    }

    #[test]
    fn failed_txs_and_other_providers_bids_are_ignored() {
        let a = order_attrs("7");
        let ours = attrs(&a, &[("provider", "ve1me"), ("price", "5uve")]);
        let theirs = attrs(&a, &[("provider", "ve1other"), ("reason", "lost")]);
        let r = results(
            vec![
                (0, vec![event("order_created", &attrs(&a, &[]))]),
                (
                    5,
                    vec![event("order_created", &attrs(&order_attrs("8"), &[]))],
                ),
                (
                    0,
                    vec![event("bid_created", &ours), event("bid_closed", &theirs)],
                ),
            ],
            vec![event("lease_paused", &attrs(&a, &[("provider", "ve1me")]))],
        );
        let key = OrderKey::parse("ve1tenant/7/1/1").unwrap();
        assert_eq!(
            market_events(&r, "ve1me"),
            vec![
                ChainEvent::OrderCreated(key.clone()),
                ChainEvent::BidCreated(key.clone()),
                ChainEvent::LeasePaused(key),
            ]
        );
    }

    #[test]
    fn order_key_round_trips_and_rejects_junk() {
        let k = OrderKey::parse("ve1x/1/2/3").unwrap();
        assert_eq!(k.to_string(), "ve1x/1/2/3");
        assert!(OrderKey::parse("ve1x/1/2").is_none());
        assert!(OrderKey::parse("ve1x/1/2/3/4").is_none());
    }
}
