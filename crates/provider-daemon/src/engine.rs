//! The bid worker: after each ingestion round it walks the open order records and acts
//! on them — decide and bid on new orders, confirm or retry bids in flight, withdraw
//! bids nobody accepted in time. Every action first checks the chain; any RPC error
//! leaves the record as it is for the next round (never a release on a guess).

use ve_types::Coin;

use crate::chain::Chain;
use crate::config::PricingStrategy;
use crate::decision::{self, Input, Policy, ProviderFacts, Skip, TenantFacts};
use crate::error::DaemonError;
use crate::events::OrderKey;
use crate::inventory::Inventory;
use crate::metrics;
use crate::records::{OrderRecord, Stage};
use crate::store::Store;

/// Blocks to wait before re-sending a bid tx the chain does not show yet.
const RETRY_AFTER_BLOCKS: u64 = 5;

#[derive(Debug)]
pub struct BidSettings {
    pub policy: Policy,
    pub deposit: Coin,
    pub timeout_blocks: u64,
    pub max_attempts: u32,
}

pub struct BidEngine {
    pub chain: std::sync::Arc<Chain>,
    pub settings: BidSettings,
    pub pricing: PricingStrategy,
    pub inventory: Box<dyn Inventory>,
}

impl std::fmt::Debug for BidEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BidEngine")
            .field("provider", &self.chain.provider)
            .field("settings", &self.settings)
            .finish()
    }
}

impl BidEngine {
    /// One pass over the open records at checkpoint `height`.
    pub async fn round(&self, store: &Store, height: u64) -> Result<(), DaemonError> {
        let records = store.open_records()?;
        let mut provider: Option<ProviderFacts> = None;
        for (key, rec) in records {
            let r = match rec.stage {
                Stage::Pending => {
                    if provider.is_none() {
                        provider = Some(self.chain.provider_facts().await?);
                    }
                    let facts = provider
                        .as_ref()
                        .ok_or(DaemonError::Missing("provider facts"))?;
                    self.consider(store, &key, rec, facts, height).await
                }
                Stage::Bidding => self.reconcile(store, &key, rec, height).await,
                Stage::Bid => self.expire(store, &key, rec, height).await,
                _ => Ok(()),
            };
            if let Err(e) = r {
                metrics::counter_rpc_error();
                tracing::warn!(order = %key, error = %e, "order left as it is until the next round");
            }
        }
        Ok(())
    }

    async fn consider(
        &self,
        store: &Store,
        key: &OrderKey,
        mut rec: OrderRecord,
        provider: &ProviderFacts,
        height: u64,
    ) -> Result<(), DaemonError> {
        let Some(order) = self.chain.order(key).await?.filter(|o| o.open) else {
            return self.skip(store, key, rec, Skip::OrderNotOpen);
        };
        let policy = &self.settings.policy;
        let tenant = if policy.min_tenant_tier > 0 || policy.require_tenant_mfa {
            self.chain.tenant_facts(&key.owner).await?
        } else {
            TenantFacts::default()
        };
        let available = self
            .inventory
            .total()?
            .saturating_sub(&store.reserved_total()?);
        let input = Input {
            order: &order.facts,
            provider,
            tenant,
            available,
            policy,
        };
        let demand = match decision::screen(&input) {
            Ok(d) => d,
            Err(skip) => return self.skip(store, key, rec, skip),
        };
        let price = match &self.pricing {
            PricingStrategy::Rates(r) => r.price(&demand.total).ok_or(Skip::InvalidOrder),
            PricingStrategy::Script(s) => s.price(&key.to_string(), &policy.denom, &demand).await,
        };
        let offer = match price.and_then(|p| decision::offer(&demand, p)) {
            Ok(o) => o,
            Err(skip) => return self.skip(store, key, rec, skip),
        };
        // Reserve durably before the tx leaves: a crash after broadcasting finds the
        // record in `Bidding` and asks the chain instead of bidding again.
        rec.stage = Stage::Bidding;
        rec.reserved = Some(offer.reserve);
        rec.price = Some(offer.price);
        store.put(key, &rec)?;
        metrics::reservations("reserved", 1);
        self.send_bid(store, key, rec, height).await
    }

    async fn send_bid(
        &self,
        store: &Store,
        key: &OrderKey,
        mut rec: OrderRecord,
        height: u64,
    ) -> Result<(), DaemonError> {
        let price = Coin::new(self.settings.policy.denom.clone(), rec.price.unwrap_or(0));
        rec.attempts = rec.attempts.saturating_add(1);
        rec.last_attempt = height;
        store.put(key, &rec)?;
        tracing::info!(order = %key, %price, attempt = rec.attempts, "bidding");
        let resp = self
            .chain
            .create_bid(key, &price, &self.settings.deposit)
            .await?;
        if resp.is_ok() {
            rec.stage = Stage::Bid;
            rec.bid_height = Some(resp.height);
            store.put(key, &rec)?;
            metrics::counter_bid_placed();
            tracing::info!(order = %key, height = resp.height, tx = %resp.hash, "bid placed");
            Ok(())
        } else {
            // Included and refused: the chain's answer is final for this order.
            let why = format!("code {} {}: {}", resp.code, resp.codespace, resp.log);
            self.skip(store, key, rec, Skip::Rejected(why))
        }
    }

    /// A bid tx whose outcome we did not see (crash, RPC error): ask the chain.
    async fn reconcile(
        &self,
        store: &Store,
        key: &OrderKey,
        mut rec: OrderRecord,
        height: u64,
    ) -> Result<(), DaemonError> {
        if let Some(bid) = self.chain.our_bid(key).await? {
            rec.stage = Stage::Bid;
            rec.bid_height = Some(bid.created_at);
            store.put(key, &rec)?;
            tracing::info!(order = %key, "bid found on chain after restart or RPC error; not bidding again");
            return Ok(());
        }
        if height < rec.last_attempt.saturating_add(RETRY_AFTER_BLOCKS) {
            return Ok(());
        }
        if !self.chain.order(key).await?.is_some_and(|o| o.open) {
            return self.skip(store, key, rec, Skip::OrderNotOpen);
        }
        if rec.attempts >= self.settings.max_attempts {
            let why = format!("no bid on chain after {} attempts", rec.attempts);
            return self.skip(store, key, rec, Skip::Rejected(why));
        }
        self.send_bid(store, key, rec, height).await
    }

    /// Withdraws an open bid nobody accepted within `timeout_blocks`.
    async fn expire(
        &self,
        store: &Store,
        key: &OrderKey,
        mut rec: OrderRecord,
        height: u64,
    ) -> Result<(), DaemonError> {
        let since = rec.bid_height.unwrap_or(rec.seen_height);
        if height.saturating_sub(since) < self.settings.timeout_blocks {
            return Ok(());
        }
        // MsgCloseBid on an *active* bid would end its lease: close only a bid the chain
        // shows open right now. (A lease created in the block between this query and the
        // close tx is the remaining window; the chain offers no close-if-open message.)
        match self.chain.our_bid(key).await? {
            Some(b) if b.state == ve_proto::virtengine::market::v1::BidState::Open as i32 => {}
            Some(_) => return Ok(()), // lease or loss: its event moves the record
            None => {
                rec.close("bid_missing");
                store.put(key, &rec)?;
                metrics::reservations("released", 1);
                return Ok(());
            }
        }
        let resp = self.chain.close_bid(key).await?;
        if !resp.is_ok() {
            // Most likely accepted meanwhile: the lease event will move the record.
            tracing::warn!(order = %key, code = resp.code, log = %resp.log, "withdrawing the timed-out bid failed");
            return Ok(());
        }
        rec.close("timeout");
        store.put(key, &rec)?;
        metrics::counter_bid_withdrawn();
        metrics::reservations("released", 1);
        tracing::info!(order = %key, "bid withdrawn after the timeout; reservation released");
        Ok(())
    }

    fn skip(
        &self,
        store: &Store,
        key: &OrderKey,
        mut rec: OrderRecord,
        skip: Skip,
    ) -> Result<(), DaemonError> {
        let released = rec.reserved.is_some();
        rec.stage = Stage::Skipped(skip.label().to_string());
        rec.reserved = None;
        store.put(key, &rec)?;
        metrics::skipped(skip.label());
        if released {
            metrics::reservations("released", 1);
        }
        tracing::info!(order = %key, reason = skip.label(), detail = %skip, "no bid");
        Ok(())
    }
}
