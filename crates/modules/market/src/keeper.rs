//! The market keeper: orders follow their groups, bids and leases move money through
//! escrow. Own state is always written before escrow is called, because escrow may run
//! hooks (pause, close) that read it.

use crate::types::{BidId, OrderId};
use crate::{events, proto, state, MarketError, ProviderDirectory};
use std::sync::Arc;
use ve_deployment::keeper::StopCause;
use ve_deployment::proto as dproto;
use ve_deployment::{DeploymentId, GroupId};
use ve_escrow::EscrowKeeper;
use ve_module::gate::MfaGate;
use ve_module::Context;
use ve_types::AppError;

/// What the market keeper needs from other modules.
#[derive(Clone)]
pub struct Keepers {
    pub escrow: Arc<dyn EscrowKeeper + Send + Sync>,
    pub providers: Arc<dyn ProviderDirectory>,
    pub mfa: Arc<dyn MfaGate>,
}

#[derive(Clone)]
pub struct Keeper {
    pub keepers: Keepers,
}

const REASON_OWNER: i32 = proto::LeaseClosedReason::Owner as i32;
const REASON_FUNDS: i32 = proto::LeaseClosedReason::InsufficientFunds as i32;

fn group_id(g: &dproto::Group) -> Result<GroupId, AppError> {
    Ok(GroupId::from_proto(g.id.as_ref())?)
}

pub(crate) fn bid_id(b: &proto::Bid) -> Result<BidId, AppError> {
    Ok(BidId::from_proto(b.id.as_ref())?)
}

impl Keeper {
    pub fn new(keepers: Keepers) -> Self {
        Self { keepers }
    }

    /// Creates the group's next order (open).
    pub fn create_order(&self, ctx: &mut Context<'_>, g: &dproto::Group) -> Result<(), AppError> {
        let gid = group_id(g)?;
        if let Some(cur) = state::current_order(ctx, &gid)? {
            if cur.state != proto::OrderState::Closed as i32 {
                // One open or active order per group.
                return Ok(());
            }
        }
        let oseq = state::group_oseq(ctx, &gid)?
            .checked_add(1)
            .ok_or_else(|| MarketError::Corrupt("oseq overflow".into()))?;
        let id = OrderId::new(&gid, oseq);
        state::set_order(
            ctx,
            &proto::Order {
                id: Some(id.to_proto()),
                state: proto::OrderState::Open as i32,
                spec: g.spec.clone(),
                created_at: ctx.block().height,
                closed_at: 0,
                bid_count: 0,
                provider: g.provider.clone(),
            },
        )?;
        state::set_group_oseq(ctx, &gid, oseq)?;
        ctx.emit(events::order(events::ORDER_CREATED, &id));
        Ok(())
    }

    fn close_order(&self, ctx: &mut Context<'_>, o: &mut proto::Order) -> Result<(), AppError> {
        if o.state == proto::OrderState::Closed as i32 {
            return Ok(());
        }
        o.state = proto::OrderState::Closed as i32;
        o.closed_at = ctx.block().height;
        state::set_order(ctx, o)?;
        ctx.emit(events::order(
            events::ORDER_CLOSED,
            &OrderId::from_proto(o.id.as_ref())?,
        ));
        Ok(())
    }

    /// Marks a bid closed or lost and refunds its deposit (its escrow account closes).
    pub(crate) fn end_bid(
        &self,
        ctx: &mut Context<'_>,
        b: &mut proto::Bid,
        to: proto::BidState,
        reason: &str,
    ) -> Result<(), AppError> {
        let id = bid_id(b)?;
        b.state = to as i32;
        b.closed_at = ctx.block().height;
        state::set_bid(ctx, b)?;
        ctx.emit(events::bid_closed(&id, reason));
        self.keepers.escrow.account_close(ctx, &id.escrow_account())
    }

    /// Marks a lease closed (the caller settles its payment, or escrow already does).
    pub(crate) fn mark_lease_closed(
        &self,
        ctx: &mut Context<'_>,
        l: &mut proto::Lease,
        reason: i32,
    ) -> Result<BidId, AppError> {
        let id = BidId::from_proto(l.id.as_ref())?;
        l.state = proto::LeaseState::Closed as i32;
        l.closed_on = ctx.block().height;
        l.reason = reason;
        l.paused_at = 0;
        state::set_lease(ctx, l)?;
        ctx.emit(events::lease_closed(&id, reason));
        Ok(id)
    }

    /// Ends an active lease: lease, bid and order closed, then (unless escrow is the one
    /// closing) the payment paid out and closed, then the bid deposit refunded.
    pub(crate) fn end_lease(
        &self,
        ctx: &mut Context<'_>,
        id: &BidId,
        reason: i32,
        settle_payment: bool,
    ) -> Result<(), AppError> {
        let Some(mut l) = state::lease(ctx, id)? else {
            return Ok(());
        };
        if l.state == proto::LeaseState::Closed as i32 {
            return Ok(());
        }
        self.mark_lease_closed(ctx, &mut l, reason)?;
        let mut bid = state::bid(ctx, id)?
            .ok_or_else(|| MarketError::Corrupt(format!("lease {id} without bid")))?;
        let bid_open = bid.state == proto::BidState::Active as i32;
        if bid_open {
            bid.state = proto::BidState::Closed as i32;
            bid.closed_at = ctx.block().height;
            state::set_bid(ctx, &bid)?;
            ctx.emit(events::bid_closed(id, "closed"));
        }
        if let Some(mut o) = state::order(ctx, &id.order)? {
            self.close_order(ctx, &mut o)?;
        }
        if settle_payment {
            let account = id.order.deployment().escrow_account();
            let open = ve_escrow::state::payment(ctx, &account, &id.payment_id())?.is_some();
            if open {
                self.keepers
                    .escrow
                    .payment_close(ctx, &account, &id.payment_id())?;
            }
        }
        if bid_open {
            self.keepers
                .escrow
                .account_close(ctx, &id.escrow_account())?;
        }
        Ok(())
    }

    /// Stops a group's current order: open bids closed and refunded, the lease ended.
    pub fn stop_group(
        &self,
        ctx: &mut Context<'_>,
        gid: &GroupId,
        cause: StopCause,
    ) -> Result<(), AppError> {
        let Some(mut o) = state::current_order(ctx, gid)? else {
            return Ok(());
        };
        if o.state == proto::OrderState::Closed as i32 {
            return Ok(());
        }
        let oid = OrderId::from_proto(o.id.as_ref())?;
        let (reason, settle) = match cause {
            StopCause::Owner => (REASON_OWNER, true),
            StopCause::EscrowClosed => (REASON_FUNDS, false),
        };
        for mut b in state::bids_of(ctx, &oid)? {
            if b.state == proto::BidState::Open as i32 {
                self.end_bid(ctx, &mut b, proto::BidState::Closed, "group_closed")?;
            } else if b.state == proto::BidState::Active as i32 {
                self.end_lease(ctx, &bid_id(&b)?, reason, settle)?;
            }
        }
        // end_lease may have closed it already: read it again.
        if let Some(cur) = state::order(ctx, &oid)? {
            o = cur;
        }
        self.close_order(ctx, &mut o)
    }

    /// Pauses or resumes the group's active lease.
    pub fn lease_funds(
        &self,
        ctx: &mut Context<'_>,
        gid: &GroupId,
        paused: bool,
    ) -> Result<(), AppError> {
        let Some(o) = state::current_order(ctx, gid)? else {
            return Ok(());
        };
        if o.state != proto::OrderState::Active as i32 {
            return Ok(());
        }
        let oid = OrderId::from_proto(o.id.as_ref())?;
        // Called from escrow's overdraft hook, before escrow writes the account back: the
        // grace window starts now.
        let grace = ctx
            .block()
            .height
            .saturating_add(ve_escrow::state::params(ctx)?.grace_period_blocks);
        for b in state::bids_of(ctx, &oid)? {
            if b.state != proto::BidState::Active as i32 {
                continue;
            }
            let id = bid_id(&b)?;
            let Some(mut l) = state::lease(ctx, &id)? else {
                continue;
            };
            let height = ctx.block().height;
            if paused && l.state == proto::LeaseState::Active as i32 {
                l.state = proto::LeaseState::InsufficientFunds as i32;
                l.paused_at = height;
                state::set_lease(ctx, &l)?;
                ctx.emit(events::lease_paused(&id, grace));
            } else if !paused && l.state == proto::LeaseState::InsufficientFunds as i32 {
                l.state = proto::LeaseState::Active as i32;
                l.paused_at = 0;
                state::set_lease(ctx, &l)?;
                ctx.emit(events::bid(events::LEASE_RESUMED, &id));
            }
        }
        Ok(())
    }

    /// Escrow closed a lease's payment (its account closed after the grace window): the
    /// lease ends for insufficient funds. Escrow pays the payment out itself.
    pub fn on_payment_closed(
        &self,
        ctx: &mut Context<'_>,
        dep: &DeploymentId,
        payment_id: &str,
    ) -> Result<(), AppError> {
        let Some(id) = BidId::from_payment(dep, payment_id) else {
            return Ok(());
        };
        self.end_lease(ctx, &id, REASON_FUNDS, false)
    }
}

impl ve_deployment::MarketKeeper for Keeper {
    fn group_opened(&self, ctx: &mut Context<'_>, group: &dproto::Group) -> Result<(), AppError> {
        self.create_order(ctx, group)
    }
    fn group_stopped(
        &self,
        ctx: &mut Context<'_>,
        group: &dproto::Group,
        cause: StopCause,
    ) -> Result<(), AppError> {
        self.stop_group(ctx, &group_id(group)?, cause)
    }
    fn group_funds_changed(
        &self,
        ctx: &mut Context<'_>,
        group: &dproto::Group,
        paused: bool,
    ) -> Result<(), AppError> {
        self.lease_funds(ctx, &group_id(group)?, paused)
    }
}

/// Whether the group is open, read fresh.
pub(crate) fn group_open(ctx: &mut Context<'_>, gid: &GroupId) -> Result<bool, AppError> {
    Ok(ve_deployment::state::group(ctx, gid)?
        .is_some_and(|g| g.state == dproto::GroupState::Open as i32))
}

/// Most leases of one provider [`active_lease_count`] examines.
pub const MAX_LEASE_SCAN: usize = 10_000;

/// A provider's leases that are active or paused for funds (the provider module refuses
/// to delete a provider while this is positive). Counts at most [`MAX_LEASE_SCAN`] leases.
pub fn active_lease_count(
    ctx: &mut Context<'_>,
    provider: &ve_types::Address,
) -> Result<u64, AppError> {
    let prefix = [
        crate::state_key::PROVIDER_LEASE_PREFIX,
        provider.as_bytes().as_slice(),
    ]
    .concat();
    let mut n = 0u64;
    for (k, _) in ctx.prefix(&prefix, MAX_LEASE_SCAN)? {
        let Some(order) = k
            .get(prefix.len()..)
            .and_then(crate::state_key::parse_order)
        else {
            continue;
        };
        let id = BidId {
            order,
            provider: *provider,
        };
        if let Some(l) = state::lease(ctx, &id)? {
            if l.state != proto::LeaseState::Closed as i32 {
                n = n.saturating_add(1);
            }
        }
    }
    Ok(n)
}
