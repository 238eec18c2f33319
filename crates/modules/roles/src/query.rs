//! `virtengine.roles.v1.Query`, one function per method.

use crate::msg_server::{parse_addr, parse_role};
use crate::proto::*;
use crate::{state, state_key, RolesError};
use prost::Message;
use ve_module::{paginate, QueryContext};
use ve_types::{Address, AppError};

pub const ACCOUNT_ROLES: &str = "/virtengine.roles.v1.Query/AccountRoles";
pub const ROLE_MEMBERS: &str = "/virtengine.roles.v1.Query/RoleMembers";
pub const ACCOUNT_STATE: &str = "/virtengine.roles.v1.Query/AccountState";
pub const GENESIS_ACCOUNTS: &str = "/virtengine.roles.v1.Query/GenesisAccounts";
pub const HAS_ROLE: &str = "/virtengine.roles.v1.Query/HasRole";
pub const PARAMS: &str = "/virtengine.roles.v1.Query/Params";

/// Most genesis accounts listed (the set is fixed at genesis and small).
const MAX_GENESIS_ACCOUNTS: usize = 1000;

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, AppError> {
    M::decode(data).map_err(|e| RolesError::InvalidRequest(e.to_string()).into())
}

fn corrupt(e: impl std::fmt::Display) -> AppError {
    RolesError::Corrupt(e.to_string()).into()
}

/// Routes a query path owned by roles; `None` if the path is not ours.
pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        ACCOUNT_ROLES => account_roles(ctx, data),
        ROLE_MEMBERS => role_members(ctx, data),
        ACCOUNT_STATE => account_state(ctx, data),
        GENESIS_ACCOUNTS => genesis_accounts(ctx),
        HAS_ROLE => has_role(ctx, data),
        PARAMS => params(ctx),
        _ => return None,
    })
}

pub fn account_roles(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryAccountRolesRequest = decode(data)?;
    let a = parse_addr(&req.address)?;
    let assignments = state::roles_of(&mut ctx.store(), &a)?;
    Ok(QueryAccountRolesResponse { assignments }.encode_to_vec())
}

pub fn role_members(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryRoleMembersRequest = decode(data)?;
    let role = parse_role(&req.role)?;
    let prefix = state_key::members(role);
    let (entries, pagination) = paginate(ctx, &prefix, req.pagination.as_ref())?;
    let mut store = ctx.store();
    let mut assignments = Vec::with_capacity(entries.len());
    for (k, _) in entries {
        let addr = k
            .get(prefix.len()..)
            .and_then(|b| <[u8; 20]>::try_from(b).ok())
            .map(Address)
            .ok_or_else(|| corrupt("member index key"))?;
        if let Some(a) = state::assignment(&mut store, &addr, role)? {
            assignments.push(a);
        }
    }
    Ok(QueryRoleMembersResponse {
        assignments,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

pub fn account_state(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryAccountStateRequest = decode(data)?;
    let a = parse_addr(&req.address)?;
    let mut store = ctx.store();
    let record = state::account_state_record(&mut store, &a)?;
    let st = state::account_state(&mut store, &a)?;
    Ok(QueryAccountStateResponse {
        state: st as i32,
        found: record.is_some(),
        record,
    }
    .encode_to_vec())
}

pub fn genesis_accounts(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    let entries = ctx
        .store
        .prefix(state_key::GENESIS_PREFIX, MAX_GENESIS_ACCOUNTS)
        .map_err(|e| AppError::new("store", 1, format!("storage failure: {e}")))?;
    let mut addresses = Vec::with_capacity(entries.len());
    for (k, _) in entries {
        let addr = k
            .get(state_key::GENESIS_PREFIX.len()..)
            .and_then(|b| <[u8; 20]>::try_from(b).ok())
            .map(Address)
            .ok_or_else(|| corrupt("genesis account key"))?;
        addresses.push(addr.to_string());
    }
    Ok(QueryGenesisAccountsResponse { addresses }.encode_to_vec())
}

pub fn has_role(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryHasRoleRequest = decode(data)?;
    let a = parse_addr(&req.address)?;
    let role = parse_role(&req.role)?;
    let assignment = state::assignment(&mut ctx.store(), &a, role)?;
    Ok(QueryHasRoleResponse {
        has_role: assignment.is_some(),
        assignment,
    }
    .encode_to_vec())
}

pub fn params(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    Ok(QueryParamsResponse {
        params: Some(state::params(&mut ctx.store())?.to_proto()),
    }
    .encode_to_vec())
}
