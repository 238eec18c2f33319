//! The deployment keeper: create/update/close deployments and groups, the escrow-hook
//! reactions for deployment accounts, and the traits other modules meet it through.

use crate::types::{self, DeploymentId, GroupId};
use crate::{events, proto, state, DeploymentError};
use prost::Message;
use std::sync::Arc;
use ve_escrow::{AccountState, EscrowKeeper, Funding};
use ve_identity::IdentityGate;
use ve_module::gate::{MfaGate, SensitiveAction};
use ve_module::Context;
use ve_types::{Address, AppError, Coin};

/// What the market module does when a group changes state. Implemented by `ve-market`
/// (market depends on deployment, never the reverse) and handed in by the app.
pub trait MarketKeeper: Send + Sync {
    /// The group just opened (created, or started again): create its next order.
    fn group_opened(&self, ctx: &mut Context<'_>, group: &proto::Group) -> Result<(), AppError>;
    /// The group closed or paused: close its current order, refund its open bids and end
    /// its lease. With [`StopCause::EscrowClosed`] the call comes from an escrow hook of
    /// the deployment's own account, so the market must not call escrow on that account
    /// (escrow is closing its payments itself).
    fn group_stopped(
        &self,
        ctx: &mut Context<'_>,
        group: &proto::Group,
        cause: StopCause,
    ) -> Result<(), AppError>;
    /// The deployment's escrow account ran dry (`paused`) or was topped up: pause or resume
    /// the group's lease. Called from escrow hooks: must not call escrow on that account.
    fn group_funds_changed(
        &self,
        ctx: &mut Context<'_>,
        group: &proto::Group,
        paused: bool,
    ) -> Result<(), AppError>;
}

/// Why a group stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopCause {
    /// The owner closed or paused the group or closed the deployment.
    Owner,
    /// The escrow account closed after its grace window (insufficient funds).
    EscrowClosed,
}

/// A deployment to create for a tenant (see [`DeploymentCreator`]).
#[derive(Clone, Debug, PartialEq)]
pub struct NewDeployment {
    pub owner: Address,
    pub dseq: u64,
    pub groups: Vec<proto::GroupSpec>,
    /// SHA-256 of the manifest's canonical encoding (docs/marketplace.md).
    pub hash: Vec<u8>,
    /// Moved into the escrow account `deployment/<owner>/<dseq>` (from the owner's balance
    /// unless [`Keeper::create_funded`] names a grant).
    pub deposit: Coin,
    /// If set, only this provider may bid on the groups' orders (an offering's provider).
    pub provider: Option<Address>,
}

/// The narrow entry point the `offering` module uses to create a deployment for a tenant
/// (e.g. when an order for an offering is placed). It runs every check `MsgCreateDeployment`
/// runs — validation, minimum deposit, the tenant's identity tier and the
/// `HighValueOrder` MFA gate on the deposit value (read from the current transaction) —
/// moves the deposit from `req.owner`'s balance into escrow, opens the groups and their
/// market orders, and emits the same events. It fails, leaving no state, if the
/// deployment `owner/dseq` exists. The caller must have authenticated `req.owner` as a
/// signer of the transaction.
pub trait DeploymentCreator: Send + Sync {
    fn create_deployment(
        &self,
        ctx: &mut Context<'_>,
        req: &NewDeployment,
    ) -> Result<DeploymentId, AppError>;
}

/// What the deployment keeper needs from other modules.
#[derive(Clone)]
pub struct Keepers {
    pub escrow: Arc<dyn EscrowKeeper + Send + Sync>,
    pub market: Arc<dyn MarketKeeper>,
    pub mfa: Arc<dyn MfaGate>,
    pub identity: Arc<dyn IdentityGate>,
}

#[derive(Clone)]
pub struct Keeper {
    pub keepers: Keepers,
}

fn not_found(id: &DeploymentId) -> AppError {
    DeploymentError::DeploymentNotFound(id.to_string()).into()
}

/// The active deployment `id`, or an error naming why not.
pub fn active_deployment(
    ctx: &mut Context<'_>,
    id: &DeploymentId,
) -> Result<proto::Deployment, AppError> {
    let d = state::deployment(ctx, id)?.ok_or_else(|| not_found(id))?;
    if d.state != proto::DeploymentState::Active as i32 {
        return Err(DeploymentError::DeploymentClosed(id.to_string()).into());
    }
    Ok(d)
}

fn group_or_err(ctx: &mut Context<'_>, id: &GroupId) -> Result<proto::Group, AppError> {
    state::group(ctx, id)?.ok_or_else(|| DeploymentError::GroupNotFound(id.to_string()).into())
}

fn wrong_state(g: &proto::Group, id: &GroupId, action: &str) -> AppError {
    DeploymentError::InvalidGroupState {
        group: id.to_string(),
        state: types::group_state_name(g.state).to_string(),
        action: action.to_string(),
    }
    .into()
}

fn set_group_state(
    ctx: &mut Context<'_>,
    g: &mut proto::Group,
    s: proto::GroupState,
) -> Result<GroupId, AppError> {
    g.state = s as i32;
    state::set_group(ctx, g)?;
    Ok(GroupId::from_proto(g.id.as_ref())?)
}

impl Keeper {
    pub fn new(keepers: Keepers) -> Self {
        Self { keepers }
    }

    /// Stateless and stateful checks of a new deployment, then its effects; the deposit
    /// comes from the owner's balance.
    pub fn create(
        &self,
        ctx: &mut Context<'_>,
        req: &NewDeployment,
    ) -> Result<DeploymentId, AppError> {
        self.create_funded(ctx, req, &Funding::Balance(req.owner))
    }

    /// [`Keeper::create`] with the deposit taken from `funding` — the owner's balance, or
    /// a granter's balance through its escrow deposit grant to the owner (the grant's
    /// expiry, scope and spend limit are checked by escrow; the refund at close goes to
    /// the granter).
    pub fn create_funded(
        &self,
        ctx: &mut Context<'_>,
        req: &NewDeployment,
        funding: &Funding,
    ) -> Result<DeploymentId, AppError> {
        if req.dseq == 0 {
            return Err(DeploymentError::InvalidId("dseq must be positive".into()).into());
        }
        let id = DeploymentId {
            owner: req.owner,
            dseq: req.dseq,
        };
        types::validate_hash(&req.hash)?;
        let params = state::params(ctx)?;
        let denom = req.deposit.denom.as_str();
        let min = params.min_deposit(denom).ok_or_else(|| {
            DeploymentError::InvalidDeposit(format!(
                "denom {denom} is not accepted: deposit one of {}",
                params
                    .min_deposits
                    .iter()
                    .map(|c| c.denom.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        if req.deposit.amount < min {
            return Err(DeploymentError::InvalidDeposit(format!(
                "{}{denom} is below the minimum deposit of {min}{denom}",
                req.deposit.amount
            ))
            .into());
        }
        types::validate_groups(
            &req.groups,
            denom,
            params.max_groups,
            params.max_units_per_group,
        )?;
        if params.min_tenant_tier > 0 {
            let tier = ve_identity::proto::IdentityTier::try_from(
                i32::try_from(params.min_tenant_tier).unwrap_or(3),
            )
            .map_err(|_| DeploymentError::InvalidParams("min_tenant_tier".into()))?;
            self.keepers.identity.require_tier(ctx, &req.owner, tier)?;
        }
        let value_uve = if denom == "uve" {
            req.deposit.amount
        } else {
            0
        };
        self.keepers.mfa.require_mfa(
            ctx,
            &req.owner,
            SensitiveAction::HighValueOrder,
            value_uve,
        )?;
        if state::deployment(ctx, &id)?.is_some() {
            return Err(DeploymentError::DeploymentExists(id.to_string()).into());
        }
        let height = ctx.block().height;
        self.keepers.escrow.account_create_funded(
            ctx,
            &id.escrow_account(),
            &req.owner,
            funding,
            &req.deposit,
        )?;
        let count = u32::try_from(req.groups.len())
            .map_err(|_| DeploymentError::InvalidGroups("too many groups".into()))?;
        state::set_deployment(
            ctx,
            &proto::Deployment {
                id: Some(id.to_proto()),
                state: proto::DeploymentState::Active as i32,
                hash: req.hash.clone(),
                created_at: height,
                denom: denom.to_string(),
                closed_at: 0,
                group_count: count,
            },
        )?;
        ctx.emit(events::created(&id, &req.hash, &req.deposit.to_string()));
        for (gseq, spec) in (1u32..).zip(&req.groups) {
            let g = proto::Group {
                id: Some(id.group(gseq).to_proto()),
                state: proto::GroupState::Open as i32,
                spec: Some(spec.clone()),
                created_at: height,
                provider: req.provider.map(|p| p.to_string()).unwrap_or_default(),
            };
            state::set_group(ctx, &g)?;
            self.keepers.market.group_opened(ctx, &g)?;
        }
        Ok(id)
    }

    pub fn update(
        &self,
        ctx: &mut Context<'_>,
        id: &DeploymentId,
        hash: &[u8],
    ) -> Result<(), AppError> {
        types::validate_hash(hash)?;
        let mut d = active_deployment(ctx, id)?;
        if d.hash == hash {
            return Err(DeploymentError::HashUnchanged.into());
        }
        d.hash = hash.to_vec();
        state::set_deployment(ctx, &d)?;
        ctx.emit(events::updated(id, hash));
        Ok(())
    }

    /// Closes the deployment: every group stops (leases paid out and closed, bids
    /// refunded), then the escrow account closes and refunds every depositor.
    pub fn close(&self, ctx: &mut Context<'_>, id: &DeploymentId) -> Result<(), AppError> {
        let mut d = active_deployment(ctx, id)?;
        d.state = proto::DeploymentState::Closed as i32;
        d.closed_at = ctx.block().height;
        state::set_deployment(ctx, &d)?;
        for mut g in state::groups(ctx, id)? {
            if g.state == proto::GroupState::Closed as i32 {
                continue;
            }
            let gid = set_group_state(ctx, &mut g, proto::GroupState::Closed)?;
            ctx.emit(events::group(events::GROUP_CLOSED, &gid));
            self.keepers
                .market
                .group_stopped(ctx, &g, StopCause::Owner)?;
        }
        let account = id.escrow_account();
        let a = self.keepers.escrow.account_settle(ctx, &account)?;
        if a.state != AccountState::Closed {
            self.keepers.escrow.account_close(ctx, &account)?;
        }
        ctx.emit(events::closed(id, "owner"));
        Ok(())
    }

    pub fn close_group(&self, ctx: &mut Context<'_>, id: &GroupId) -> Result<(), AppError> {
        active_deployment(ctx, &id.deployment())?;
        let mut g = group_or_err(ctx, id)?;
        if g.state == proto::GroupState::Closed as i32 {
            return Err(wrong_state(&g, id, "closing"));
        }
        set_group_state(ctx, &mut g, proto::GroupState::Closed)?;
        ctx.emit(events::group(events::GROUP_CLOSED, id));
        self.keepers.market.group_stopped(ctx, &g, StopCause::Owner)
    }

    pub fn pause_group(&self, ctx: &mut Context<'_>, id: &GroupId) -> Result<(), AppError> {
        active_deployment(ctx, &id.deployment())?;
        let mut g = group_or_err(ctx, id)?;
        let open = g.state == proto::GroupState::Open as i32
            || g.state == proto::GroupState::InsufficientFunds as i32;
        if !open {
            return Err(wrong_state(&g, id, "pausing"));
        }
        set_group_state(ctx, &mut g, proto::GroupState::Paused)?;
        ctx.emit(events::group(events::GROUP_PAUSED, id));
        self.keepers.market.group_stopped(ctx, &g, StopCause::Owner)
    }

    /// A paused group opens again with a new order. The escrow account must be able to
    /// pay (top it up first if it ran dry).
    pub fn start_group(&self, ctx: &mut Context<'_>, id: &GroupId) -> Result<(), AppError> {
        let dep = id.deployment();
        active_deployment(ctx, &dep)?;
        let mut g = group_or_err(ctx, id)?;
        if g.state != proto::GroupState::Paused as i32 {
            return Err(wrong_state(&g, id, "starting"));
        }
        let a = self
            .keepers
            .escrow
            .account_settle(ctx, &dep.escrow_account())?;
        if a.state != AccountState::Open {
            return Err(ve_escrow::EscrowError::AccountOverdrawn(a.id.to_string()).into());
        }
        // The settle may have run hooks that changed the group: read it again.
        let mut g2 = group_or_err(ctx, id)?;
        if g2.state != g.state {
            return Err(wrong_state(&g2, id, "starting"));
        }
        set_group_state(ctx, &mut g2, proto::GroupState::Open)?;
        g = g2;
        ctx.emit(events::group(events::GROUP_STARTED, id));
        self.keepers.market.group_opened(ctx, &g)
    }

    // --- escrow hook reactions for deployment accounts (no escrow calls on that account) ---

    /// The account ran dry: open groups wait for funds, their leases pause.
    pub fn on_account_overdrawn(
        &self,
        ctx: &mut Context<'_>,
        id: &DeploymentId,
    ) -> Result<(), AppError> {
        self.funds_changed(ctx, id, true)
    }

    /// A top-up covered the debt: waiting groups open again, their leases resume.
    pub fn on_account_resumed(
        &self,
        ctx: &mut Context<'_>,
        id: &DeploymentId,
    ) -> Result<(), AppError> {
        self.funds_changed(ctx, id, false)
    }

    fn funds_changed(
        &self,
        ctx: &mut Context<'_>,
        id: &DeploymentId,
        paused: bool,
    ) -> Result<(), AppError> {
        let Some(d) = state::deployment(ctx, id)? else {
            return Ok(());
        };
        if d.state != proto::DeploymentState::Active as i32 {
            return Ok(());
        }
        let (from, to, kind) = if paused {
            (
                proto::GroupState::Open,
                proto::GroupState::InsufficientFunds,
                events::GROUP_INSUFFICIENT_FUNDS,
            )
        } else {
            (
                proto::GroupState::InsufficientFunds,
                proto::GroupState::Open,
                events::GROUP_STARTED,
            )
        };
        for mut g in state::groups(ctx, id)? {
            if g.state != from as i32 {
                continue;
            }
            let gid = set_group_state(ctx, &mut g, to)?;
            ctx.emit(events::group(kind, &gid));
            self.keepers.market.group_funds_changed(ctx, &g, paused)?;
        }
        Ok(())
    }

    /// The account closed. If the deployment is still active, escrow closed it after its
    /// grace window: the deployment and its groups close for insufficient funds.
    pub fn on_account_closed(
        &self,
        ctx: &mut Context<'_>,
        id: &DeploymentId,
    ) -> Result<(), AppError> {
        let Some(mut d) = state::deployment(ctx, id)? else {
            return Ok(());
        };
        if d.state != proto::DeploymentState::Active as i32 {
            return Ok(());
        }
        d.state = proto::DeploymentState::Closed as i32;
        d.closed_at = ctx.block().height;
        state::set_deployment(ctx, &d)?;
        for mut g in state::groups(ctx, id)? {
            if g.state == proto::GroupState::Closed as i32 {
                continue;
            }
            let gid = set_group_state(ctx, &mut g, proto::GroupState::Closed)?;
            ctx.emit(events::group(events::GROUP_CLOSED, &gid));
            self.keepers
                .market
                .group_stopped(ctx, &g, StopCause::EscrowClosed)?;
        }
        ctx.emit(events::closed(id, "insufficient_funds"));
        Ok(())
    }
}

impl DeploymentCreator for Keeper {
    fn create_deployment(
        &self,
        ctx: &mut Context<'_>,
        req: &NewDeployment,
    ) -> Result<DeploymentId, AppError> {
        self.create(ctx, req)
    }
}

/// Encoded length of a deployment's groups (for callers bounding their input).
pub fn groups_len(groups: &[proto::GroupSpec]) -> usize {
    groups.iter().map(Message::encoded_len).sum()
}
