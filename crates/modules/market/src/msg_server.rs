//! One handler per message: stateless checks, then stateful checks, then effects.

use crate::keeper::{bid_id, group_open, Keeper};
use crate::proto::*;
use crate::types::{bid_state_name, lease_state_name, BidId};
use crate::{events, state, usage, MarketError};
use prost::Message;
use ve_deployment::proto as dproto;
use ve_deployment::types::{coin, group_price, proto_coin};
use ve_module::gate::SensitiveAction;
use ve_module::{Context, Event, MsgHandler};
use ve_types::{Address, AppError, Coin};

fn message_event(sender: &Address) -> Event {
    Event::new("message")
        .attr("sender", sender)
        .attr("module", "market")
}

fn positive(c: Option<&ve_proto::cosmos::base::v1beta1::Coin>, what: &str) -> Result<Coin, String> {
    let c = coin(c, what)?;
    if c.amount == 0 {
        return Err(format!("{what} must be positive"));
    }
    Ok(c)
}

fn wrong_bid(b: &Bid, id: &BidId, action: &str, need: &str) -> AppError {
    MarketError::InvalidBidState {
        id: id.to_string(),
        state: bid_state_name(b.state).to_string(),
        action: action.to_string(),
        need: need.to_string(),
    }
    .into()
}

/// The offer covers the spec unit by unit: same counts, at least the resources.
fn check_offer(spec: &dproto::GroupSpec, offer: &[ResourceOffer]) -> Result<(), MarketError> {
    if offer.is_empty() {
        return Ok(());
    }
    let bad = |m: String| MarketError::ResourcesMismatch(m);
    if offer.len() != spec.resources.len() {
        return Err(bad(format!(
            "{} units offered for {} requested",
            offer.len(),
            spec.resources.len()
        )));
    }
    for (i, (o, u)) in offer.iter().zip(&spec.resources).enumerate() {
        let (Some(have), Some(want)) = (&o.resources, &u.resources) else {
            return Err(bad(format!("unit {i} has no resources")));
        };
        if o.count != u.count {
            return Err(bad(format!("unit {i}: count {} for {}", o.count, u.count)));
        }
        let short = have.cpu_millicores < want.cpu_millicores
            || have.memory_bytes < want.memory_bytes
            || have.storage_bytes < want.storage_bytes
            || have.gpu_count < want.gpu_count
            || have.endpoints.len() < want.endpoints.len()
            || (!want.gpu_model.is_empty() && have.gpu_model != want.gpu_model);
        if short {
            return Err(bad(format!("unit {i} offers less than requested")));
        }
    }
    Ok(())
}

pub struct CreateBidHandler {
    pub keeper: Keeper,
}

impl MsgHandler for CreateBidHandler {
    type Msg = MsgCreateBid;
    fn type_url(&self) -> &'static str {
        "/virtengine.market.v1.MsgCreateBid"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.market.v1.MsgCreateBidResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![BidId::from_proto(msg.id.as_ref())?.provider])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        BidId::from_proto(msg.id.as_ref())?;
        positive(msg.price.as_ref(), "price").map_err(MarketError::InvalidPrice)?;
        positive(msg.deposit.as_ref(), "deposit").map_err(MarketError::InvalidDeposit)?;
        if msg.resources_offer.len() > 1_000 {
            return Err(MarketError::ResourcesMismatch("too many units offered".into()).into());
        }
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let id = BidId::from_proto(msg.id.as_ref())?;
        let price = positive(msg.price.as_ref(), "price").map_err(MarketError::InvalidPrice)?;
        let deposit =
            positive(msg.deposit.as_ref(), "deposit").map_err(MarketError::InvalidDeposit)?;
        let params = state::params(ctx)?;
        let min = &params.bid_min_deposit;
        if deposit.denom != min.denom || deposit.amount < min.amount {
            return Err(MarketError::InvalidDeposit(format!(
                "{deposit} is below the minimum bid deposit of {min}"
            ))
            .into());
        }
        let mut order = state::order(ctx, &id.order)?
            .ok_or_else(|| MarketError::OrderNotFound(id.order.to_string()))?;
        if order.state != OrderState::Open as i32 {
            return Err(MarketError::OrderNotOpen(id.order.to_string()).into());
        }
        if !group_open(ctx, &id.order.group())? {
            return Err(MarketError::GroupNotOpen(id.order.group().to_string()).into());
        }
        reserved_check(&order, &id)?;
        if state::bid(ctx, &id)?.is_some() {
            return Err(MarketError::BidExists(id.to_string()).into());
        }
        if order.bid_count >= params.order_max_bids {
            return Err(MarketError::TooManyBids {
                order: id.order.to_string(),
                max: params.order_max_bids,
            }
            .into());
        }
        let spec = order.spec.clone().unwrap_or_default();
        let dep = ve_deployment::state::deployment(ctx, &id.order.deployment())?
            .ok_or_else(|| MarketError::OrderNotFound(id.order.to_string()))?;
        if price.denom != dep.denom {
            return Err(MarketError::InvalidPrice(format!(
                "the deployment pays in {}, not {}",
                dep.denom, price.denom
            ))
            .into());
        }
        let cap = group_price(&spec, &dep.denom, u32::MAX)?;
        if price.amount > cap {
            return Err(MarketError::PriceAboveCap {
                price: price.to_string(),
                cap: Coin::new(&dep.denom, cap).to_string(),
            }
            .into());
        }
        check_offer(&spec, &msg.resources_offer)?;
        let attrs = self
            .keeper
            .keepers
            .providers
            .provider_attributes(ctx, &id.provider)?
            .ok_or_else(|| MarketError::ProviderNotFound(id.provider.to_string()))?;
        let req = spec.requirements.clone().unwrap_or_default();
        let ok = self
            .keeper
            .keepers
            .providers
            .satisfies(ctx, &id.provider, &attrs, &req)?;
        if !ok {
            return Err(MarketError::RequirementsNotMet(id.provider.to_string()).into());
        }
        order.bid_count = order.bid_count.saturating_add(1);
        state::set_order(ctx, &order)?;
        state::set_bid(
            ctx,
            &Bid {
                id: Some(id.to_proto()),
                state: BidState::Open as i32,
                price: Some(proto_coin(&price)),
                deposit: Some(proto_coin(&deposit)),
                created_at: ctx.block().height,
                closed_at: 0,
                resources_offer: msg.resources_offer.clone(),
            },
        )?;
        self.keeper.keepers.escrow.account_create(
            ctx,
            &id.escrow_account(),
            &id.provider,
            &id.provider,
            &deposit,
        )?;
        ctx.emit(events::bid_created(&id, &price.to_string()));
        ctx.emit(message_event(&id.provider));
        Ok(MsgCreateBidResponse {}.encode_to_vec())
    }
}

pub struct CloseBidHandler {
    pub keeper: Keeper,
}

impl MsgHandler for CloseBidHandler {
    type Msg = MsgCloseBid;
    fn type_url(&self) -> &'static str {
        "/virtengine.market.v1.MsgCloseBid"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.market.v1.MsgCloseBidResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![BidId::from_proto(msg.id.as_ref())?.provider])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        BidId::from_proto(msg.id.as_ref())?;
        if msg.reason != 0 && !(10_000..20_000).contains(&msg.reason) {
            return Err(MarketError::InvalidReason(msg.reason).into());
        }
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let id = BidId::from_proto(msg.id.as_ref())?;
        let mut bid =
            state::bid(ctx, &id)?.ok_or_else(|| MarketError::BidNotFound(id.to_string()))?;
        if bid.state == BidState::Open as i32 {
            self.keeper
                .end_bid(ctx, &mut bid, BidState::Closed, "closed")?;
        } else if bid.state == BidState::Active as i32 {
            let reason = if msg.reason == 0 {
                LeaseClosedReason::Unspecified as i32
            } else {
                msg.reason
            };
            // Akash: a provider walking away from a lease pauses the group, so the
            // tenant decides whether to start it again (new order) or close it.
            let gid = id.order.group();
            if let Some(mut g) = ve_deployment::state::group(ctx, &gid)? {
                if g.state == dproto::GroupState::Open as i32 {
                    g.state = dproto::GroupState::Paused as i32;
                    ve_deployment::state::set_group(ctx, &g)?;
                    ctx.emit(ve_deployment::events::group(
                        ve_deployment::events::GROUP_PAUSED,
                        &gid,
                    ));
                }
            }
            self.keeper.end_lease(ctx, &id, reason, true)?;
        } else {
            return Err(wrong_bid(&bid, &id, "closing", "open or active"));
        }
        ctx.emit(message_event(&id.provider));
        Ok(MsgCloseBidResponse {}.encode_to_vec())
    }
}

/// An order placed from an offering names its provider: nobody else may bid on it or
/// lease it (checked at lease time too, so no stored bid from another provider can win).
fn reserved_check(order: &Order, id: &BidId) -> Result<(), AppError> {
    if !order.provider.is_empty() && order.provider != id.provider.to_string() {
        return Err(MarketError::ReservedForProvider {
            order: id.order.to_string(),
            provider: order.provider.clone(),
        }
        .into());
    }
    Ok(())
}

pub struct CreateLeaseHandler {
    pub keeper: Keeper,
}

impl MsgHandler for CreateLeaseHandler {
    type Msg = MsgCreateLease;
    fn type_url(&self) -> &'static str {
        "/virtengine.market.v1.MsgCreateLease"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.market.v1.MsgCreateLeaseResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![BidId::from_proto(msg.bid_id.as_ref())?.order.owner])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        BidId::from_proto(msg.bid_id.as_ref())?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let id = BidId::from_proto(msg.bid_id.as_ref())?;
        let mut bid =
            state::bid(ctx, &id)?.ok_or_else(|| MarketError::BidNotFound(id.to_string()))?;
        if bid.state != BidState::Open as i32 {
            return Err(wrong_bid(&bid, &id, "leasing", "open"));
        }
        let mut order = state::order(ctx, &id.order)?
            .ok_or_else(|| MarketError::OrderNotFound(id.order.to_string()))?;
        if order.state != OrderState::Open as i32 {
            return Err(MarketError::OrderNotOpen(id.order.to_string()).into());
        }
        reserved_check(&order, &id)?;
        ve_deployment::keeper::active_deployment(ctx, &id.order.deployment())?;
        if !group_open(ctx, &id.order.group())? {
            return Err(MarketError::GroupNotOpen(id.order.group().to_string()).into());
        }
        let price = coin(bid.price.as_ref(), "bid price")
            .map_err(|e| MarketError::Corrupt(e.to_string()))?;
        let height = ctx.block().height;
        bid.state = BidState::Active as i32;
        state::set_bid(ctx, &bid)?;
        order.state = OrderState::Active as i32;
        state::set_order(ctx, &order)?;
        state::set_lease(
            ctx,
            &Lease {
                id: Some(id.to_proto()),
                state: LeaseState::Active as i32,
                price: bid.price.clone(),
                created_at: height,
                closed_on: 0,
                reason: 0,
                paused_at: 0,
                created_at_time: ctx.block().time_unix,
            },
        )?;
        self.keeper.keepers.escrow.payment_create(
            ctx,
            &id.order.deployment().escrow_account(),
            &id.payment_id(),
            &id.provider,
            &price,
        )?;
        ctx.emit(events::lease_created(&id, &price.to_string()));
        for mut other in state::bids_of(ctx, &id.order)? {
            if other.state == BidState::Open as i32 && bid_id(&other)? != id {
                self.keeper
                    .end_bid(ctx, &mut other, BidState::Lost, "lost")?;
            }
        }
        ctx.emit(message_event(&id.order.owner));
        Ok(MsgCreateLeaseResponse {}.encode_to_vec())
    }
}

pub struct CloseLeaseHandler {
    pub keeper: Keeper,
}

fn close_lease_signer(msg: &MsgCloseLease) -> Result<(BidId, Address), AppError> {
    let id = BidId::from_proto(msg.id.as_ref())?;
    let signer = if msg.signer.is_empty() {
        id.order.owner
    } else {
        crate::types::parse_addr(&msg.signer)?
    };
    if signer != id.order.owner && signer != id.provider {
        return Err(MarketError::Unauthorized {
            signer: signer.to_string(),
            allowed: "the lease's tenant or provider".into(),
        }
        .into());
    }
    Ok((id, signer))
}

impl MsgHandler for CloseLeaseHandler {
    type Msg = MsgCloseLease;
    fn type_url(&self) -> &'static str {
        "/virtengine.market.v1.MsgCloseLease"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.market.v1.MsgCloseLeaseResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![close_lease_signer(msg)?.1])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        close_lease_signer(msg).map(|_| ())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let (id, signer) = close_lease_signer(msg)?;
        let lease =
            state::lease(ctx, &id)?.ok_or_else(|| MarketError::LeaseNotFound(id.to_string()))?;
        if lease.state == LeaseState::Closed as i32 {
            return Err(MarketError::LeaseClosed(id.to_string()).into());
        }
        let reason = if signer == id.order.owner {
            LeaseClosedReason::Owner as i32
        } else {
            LeaseClosedReason::Unspecified as i32
        };
        self.keeper.end_lease(ctx, &id, reason, true)?;
        // The group still wants to run: a new order for it.
        let gid = id.order.group();
        if group_open(ctx, &gid)? {
            if let Some(g) = ve_deployment::state::group(ctx, &gid)? {
                self.keeper.create_order(ctx, &g)?;
            }
        }
        ctx.emit(message_event(&signer));
        Ok(MsgCloseLeaseResponse {}.encode_to_vec())
    }
}

pub struct WithdrawLeaseHandler {
    pub keeper: Keeper,
}

impl MsgHandler for WithdrawLeaseHandler {
    type Msg = MsgWithdrawLease;
    fn type_url(&self) -> &'static str {
        "/virtengine.market.v1.MsgWithdrawLease"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.market.v1.MsgWithdrawLeaseResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![BidId::from_proto(msg.id.as_ref())?.provider])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        BidId::from_proto(msg.id.as_ref())?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let id = BidId::from_proto(msg.id.as_ref())?;
        let lease =
            state::lease(ctx, &id)?.ok_or_else(|| MarketError::LeaseNotFound(id.to_string()))?;
        if lease.state == LeaseState::Closed as i32 {
            return Err(MarketError::LeaseClosed(format!(
                "{id} ({}): it was paid out when it closed",
                lease_state_name(lease.state)
            ))
            .into());
        }
        let denom = coin(lease.price.as_ref(), "lease price")
            .map_err(|e| MarketError::Corrupt(e.to_string()))?
            .denom;
        let paid = self.keeper.keepers.escrow.payment_withdraw(
            ctx,
            &id.order.deployment().escrow_account(),
            &id.payment_id(),
        )?;
        // Gate on the value actually withdrawn (the MFA module applies its threshold).
        let gross = paid.to_payee.saturating_add(paid.fee);
        let value_uve = if denom == "uve" { gross } else { 0 };
        self.keeper.keepers.mfa.require_mfa(
            ctx,
            &id.provider,
            SensitiveAction::Withdrawal,
            value_uve,
        )?;
        let payout = Coin::new(&denom, paid.to_payee);
        let fee = Coin::new(&denom, paid.fee);
        let usage = state::usage_summary(ctx, &id)?;
        ctx.emit(events::lease_withdrawn(
            &id,
            &payout.to_string(),
            &fee.to_string(),
            usage.as_ref(),
        ));
        ctx.emit(message_event(&id.provider));
        Ok(MsgWithdrawLeaseResponse {
            payout: Some(proto_coin(&payout)),
            fee: Some(proto_coin(&fee)),
        }
        .encode_to_vec())
    }
}

pub struct RecordLeaseUsageHandler {
    pub keeper: Keeper,
}

fn block_height(ctx: &Context<'_>) -> Result<i64, AppError> {
    i64::try_from(ctx.block().height)
        .map_err(|_| MarketError::Corrupt("block height beyond i64".into()).into())
}

impl MsgHandler for RecordLeaseUsageHandler {
    type Msg = MsgRecordLeaseUsage;
    fn type_url(&self) -> &'static str {
        "/virtengine.market.v1.MsgRecordLeaseUsage"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.market.v1.MsgRecordLeaseUsageResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![BidId::from_proto(msg.id.as_ref())?.provider])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        BidId::from_proto(msg.id.as_ref())?;
        if msg.seq == 0 {
            return Err(MarketError::InvalidRequest("usage records start at seq 1".into()).into());
        }
        if msg.cumulative.is_none() {
            return Err(MarketError::InvalidRequest("missing cumulative usage".into()).into());
        }
        Ok(())
    }
    /// Accepted on an active, paused or closed lease until its final record; a seq already
    /// recorded has its own error so a provider re-sending after a crash knows it is done.
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let id = BidId::from_proto(msg.id.as_ref())?;
        let new = msg.cumulative.unwrap_or_default();
        let lease =
            state::lease(ctx, &id)?.ok_or_else(|| MarketError::LeaseNotFound(id.to_string()))?;
        let prev = state::usage_summary(ctx, &id)?.unwrap_or_default();
        if msg.seq <= prev.last_seq {
            return Err(MarketError::UsageAlreadyRecorded {
                lease: id.to_string(),
                seq: msg.seq,
            }
            .into());
        }
        if prev.r#final {
            return Err(MarketError::UsageFinalized(id.to_string()).into());
        }
        let expected = prev.last_seq.saturating_add(1);
        if msg.seq != expected {
            return Err(MarketError::UsageOutOfSequence {
                lease: id.to_string(),
                expected,
                got: msg.seq,
            }
            .into());
        }
        let bid = state::bid(ctx, &id)?
            .ok_or_else(|| MarketError::Corrupt(format!("lease {id} without bid")))?;
        let order = state::order(ctx, &id.order)?
            .ok_or_else(|| MarketError::Corrupt(format!("lease {id} without order")))?;
        let delta = usage::check(
            &id,
            &prev.cumulative.unwrap_or_default(),
            &new,
            &usage::Allocation::of_lease(&bid, &order),
            usage::max_wall_seconds(&lease, ctx.block().time_unix),
        )?;
        let height = block_height(ctx)?;
        state::add_usage_record(
            ctx,
            &id,
            &LeaseUsageSummary {
                id: Some(id.to_proto()),
                last_seq: msg.seq,
                cumulative: Some(new),
                r#final: msg.r#final,
                last_height: height,
            },
            &UsageRecord {
                seq: msg.seq,
                height,
                cumulative: Some(new),
                delta: Some(delta),
                r#final: msg.r#final,
            },
        )?;
        ctx.emit(events::lease_usage_recorded(
            &id,
            msg.seq,
            msg.r#final,
            &delta,
        ));
        ctx.emit(message_event(&id.provider));
        Ok(MsgRecordLeaseUsageResponse {}.encode_to_vec())
    }
}
