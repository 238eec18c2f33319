//! One handler per message: stateless checks, then stateful checks (permissions first,
//! then the MFA gate), then effects.

use crate::proto::*;
use crate::rules::{may_manage, parse_state, state_name, transition_allowed};
use crate::{events, keeper, state, RolesError, RolesParams};
use prost::Message;
use std::sync::Arc;
use ve_module::gate::{MfaGate, Role, SensitiveAction};
use ve_module::{Context, Event, MsgHandler};
use ve_types::{Address, AppError};

pub const MAX_REASON: usize = 512;

pub(crate) fn parse_addr(s: &str) -> Result<Address, AppError> {
    s.parse().map_err(|e| {
        RolesError::InvalidAddress(s.chars().take(100).collect(), format!("{e}")).into()
    })
}

pub(crate) fn parse_role(s: &str) -> Result<Role, AppError> {
    Role::from_name(s).ok_or_else(|| RolesError::UnknownRole(s.chars().take(64).collect()).into())
}

fn message_event(sender: &Address) -> Event {
    Event::new("message")
        .attr("sender", sender)
        .attr("module", "roles")
}

fn now(ctx: &Context<'_>) -> i64 {
    ctx.block().time_unix
}

/// Permission to assign or revoke `role`, as the rules say.
fn check_may_manage(
    ctx: &mut Context<'_>,
    sender: &Address,
    role: Role,
    action: &'static str,
) -> Result<(), AppError> {
    let is_genesis = state::is_genesis_account(ctx, sender)?;
    let is_admin = state::has_role(ctx, sender, Role::Administrator)?;
    if !may_manage(is_genesis, is_admin, role) {
        return Err(RolesError::NotAllowed {
            sender: sender.to_string(),
            action,
            role: role.name(),
        }
        .into());
    }
    Ok(())
}

fn assign(
    ctx: &mut Context<'_>,
    params: &RolesParams,
    sender: &Address,
    target: &Address,
    role: Role,
) -> Result<(), AppError> {
    if state::has_role(ctx, target, role)? {
        return Err(RolesError::AlreadyHasRole(target.to_string(), role.name()).into());
    }
    let held = state::roles_of(ctx, target)?.len();
    if held >= usize::try_from(params.max_roles_per_account).unwrap_or(usize::MAX) {
        return Err(
            RolesError::TooManyRoles(target.to_string(), params.max_roles_per_account).into(),
        );
    }
    let a = RoleAssignment {
        address: target.to_string(),
        role: role as i32,
        assigned_by: sender.to_string(),
        assigned_at: now(ctx),
        assigned_height: ctx.block().height,
    };
    state::set_assignment(ctx, target, role, &a)?;
    ctx.emit(events::role_assigned(target, role, sender));
    Ok(())
}

/// `/virtengine.roles.v1.MsgAssignRole` (sensitive: ROLE_CHANGE).
pub struct AssignRoleHandler {
    pub mfa: Arc<dyn MfaGate>,
}

impl MsgHandler for AssignRoleHandler {
    type Msg = MsgAssignRole;
    fn type_url(&self) -> &'static str {
        "/virtengine.roles.v1.MsgAssignRole"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.roles.v1.MsgAssignRoleResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.sender)?;
        parse_addr(&msg.address)?;
        parse_role(&msg.role)?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let sender = parse_addr(&msg.sender)?;
        let target = parse_addr(&msg.address)?;
        let role = parse_role(&msg.role)?;
        keeper::require_operational(ctx, &sender)?;
        check_may_manage(ctx, &sender, role, "assign")?;
        if role == Role::GenesisAccount {
            // The genesis account set is fixed at genesis.
            return Err(RolesError::NotAllowed {
                sender: sender.to_string(),
                action: "assign",
                role: role.name(),
            }
            .into());
        }
        let params = state::params(ctx)?;
        self.mfa
            .require_mfa(ctx, &sender, SensitiveAction::RoleChange, 0)?;
        assign(ctx, &params, &sender, &target, role)?;
        ctx.emit(message_event(&sender));
        Ok(MsgAssignRoleResponse {}.encode_to_vec())
    }
}

/// `/virtengine.roles.v1.MsgRevokeRole` (sensitive: ROLE_CHANGE).
pub struct RevokeRoleHandler {
    pub mfa: Arc<dyn MfaGate>,
}

impl MsgHandler for RevokeRoleHandler {
    type Msg = MsgRevokeRole;
    fn type_url(&self) -> &'static str {
        "/virtengine.roles.v1.MsgRevokeRole"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.roles.v1.MsgRevokeRoleResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.sender)?;
        parse_addr(&msg.address)?;
        parse_role(&msg.role)?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let sender = parse_addr(&msg.sender)?;
        let target = parse_addr(&msg.address)?;
        let role = parse_role(&msg.role)?;
        keeper::require_operational(ctx, &sender)?;
        let params = state::params(ctx)?;
        if sender == target && !params.allow_self_revoke {
            return Err(RolesError::SelfRevoke.into());
        }
        check_may_manage(ctx, &sender, role, "revoke")?;
        if role == Role::GenesisAccount && state::is_genesis_account(ctx, &target)? {
            return Err(RolesError::GenesisRoleFixed(target.to_string()).into());
        }
        if !state::has_role(ctx, &target, role)? {
            return Err(RolesError::RoleNotHeld(target.to_string(), role.name()).into());
        }
        self.mfa
            .require_mfa(ctx, &sender, SensitiveAction::RoleChange, 0)?;
        state::delete_assignment(ctx, &target, role)?;
        ctx.emit(events::role_revoked(&target, role, &sender));
        ctx.emit(message_event(&sender));
        Ok(MsgRevokeRoleResponse {}.encode_to_vec())
    }
}

/// `/virtengine.roles.v1.MsgSetAccountState` (sensitive: ACCOUNT_RECOVERY).
pub struct SetAccountStateHandler {
    pub mfa: Arc<dyn MfaGate>,
}

impl MsgHandler for SetAccountStateHandler {
    type Msg = MsgSetAccountState;
    fn type_url(&self) -> &'static str {
        "/virtengine.roles.v1.MsgSetAccountState"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.roles.v1.MsgSetAccountStateResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.sender)?;
        parse_addr(&msg.address)?;
        if parse_state(&msg.state).is_none() {
            return Err(RolesError::UnknownState(msg.state.chars().take(32).collect()).into());
        }
        if msg.reason.len() > MAX_REASON {
            return Err(RolesError::InvalidField {
                field: "reason",
                reason: format!("at most {MAX_REASON} bytes"),
            }
            .into());
        }
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let sender = parse_addr(&msg.sender)?;
        let target = parse_addr(&msg.address)?;
        let to =
            parse_state(&msg.state).ok_or_else(|| RolesError::UnknownState(msg.state.clone()))?;
        keeper::require_operational(ctx, &sender)?;
        let sender_genesis = state::is_genesis_account(ctx, &sender)?;
        if !sender_genesis && !state::has_role(ctx, &sender, Role::Administrator)? {
            return Err(RolesError::NotStateAuthority(sender.to_string()).into());
        }
        if sender == target {
            return Err(RolesError::SelfStateChange.into());
        }
        if !sender_genesis && state::is_genesis_account(ctx, &target)? {
            return Err(RolesError::GenesisAccountProtected(target.to_string()).into());
        }
        let existing = state::account_state_record(ctx, &target)?;
        let from = existing
            .as_ref()
            .map(|r| AccountState::try_from(r.state).unwrap_or(AccountState::Active));
        if let Some(from) = from {
            if !transition_allowed(from, to) {
                return Err(RolesError::InvalidTransition(state_name(from), state_name(to)).into());
            }
        }
        self.mfa
            .require_mfa(ctx, &sender, SensitiveAction::AccountRecovery, 0)?;
        let previous = from.unwrap_or(AccountState::Active);
        let record = AccountStateRecord {
            address: target.to_string(),
            state: to as i32,
            reason: msg.reason.clone(),
            modified_by: sender.to_string(),
            modified_at: now(ctx),
            previous_state: previous as i32,
        };
        state::set_account_state(ctx, &target, &record)?;
        ctx.emit(events::account_state_changed(
            &target,
            state_name(previous),
            state_name(to),
            &sender,
            &msg.reason,
        ));
        ctx.emit(message_event(&sender));
        Ok(MsgSetAccountStateResponse {
            previous_state: previous as i32,
            new_state: to as i32,
        }
        .encode_to_vec())
    }
}

/// `/virtengine.roles.v1.MsgNominateAdmin`: a genesis account makes `address` an
/// administrator (sensitive: ROLE_CHANGE).
pub struct NominateAdminHandler {
    pub mfa: Arc<dyn MfaGate>,
}

impl MsgHandler for NominateAdminHandler {
    type Msg = MsgNominateAdmin;
    fn type_url(&self) -> &'static str {
        "/virtengine.roles.v1.MsgNominateAdmin"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.roles.v1.MsgNominateAdminResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.sender)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.sender)?;
        parse_addr(&msg.address)?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        let sender = parse_addr(&msg.sender)?;
        let target = parse_addr(&msg.address)?;
        keeper::require_operational(ctx, &sender)?;
        if !state::is_genesis_account(ctx, &sender)? {
            return Err(RolesError::NotGenesisAccount(sender.to_string()).into());
        }
        let params = state::params(ctx)?;
        self.mfa
            .require_mfa(ctx, &sender, SensitiveAction::RoleChange, 0)?;
        assign(ctx, &params, &sender, &target, Role::Administrator)?;
        ctx.emit(events::admin_nominated(&target, &sender));
        ctx.emit(message_event(&sender));
        Ok(MsgNominateAdminResponse {}.encode_to_vec())
    }
}

/// `/virtengine.roles.v1.MsgUpdateParams`: by the gov module account or a genesis account.
pub struct UpdateParamsHandler {
    pub gov: Address,
}

impl MsgHandler for UpdateParamsHandler {
    type Msg = MsgUpdateParams;
    fn type_url(&self) -> &'static str {
        "/virtengine.roles.v1.MsgUpdateParams"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.roles.v1.MsgUpdateParamsResponse"
    }
    fn signers(&self, msg: &Self::Msg) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.authority)?])
    }
    fn check_stateless(&self, msg: &Self::Msg) -> Result<(), AppError> {
        parse_addr(&msg.authority)?;
        let p = msg
            .params
            .as_ref()
            .ok_or_else(|| RolesError::InvalidParams("params missing".into()))?;
        RolesParams::from_proto(p).validate()?;
        Ok(())
    }
    fn execute(&self, ctx: &mut Context<'_>, msg: &Self::Msg) -> Result<Vec<u8>, AppError> {
        self.check_stateless(msg)?;
        let authority = parse_addr(&msg.authority)?;
        if authority != self.gov && !state::is_genesis_account(ctx, &authority)? {
            return Err(RolesError::Unauthorized(authority.to_string()).into());
        }
        let p = RolesParams::from_proto(
            msg.params
                .as_ref()
                .ok_or_else(|| RolesError::InvalidParams("params missing".into()))?,
        );
        state::set_params(ctx, &p)?;
        ctx.emit(events::params_updated(&authority));
        ctx.emit(message_event(&authority));
        Ok(MsgUpdateParamsResponse {}.encode_to_vec())
    }
}
