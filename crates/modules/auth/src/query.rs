//! `cosmos.auth.v1beta1.Query`, one function per method. Requests and responses are the
//! Cosmos protobufs, so the ABCI query path is the gRPC method name.

use crate::{state, state_key, AuthError, MODULE_ACCOUNTS};
use prost::Message;
use ve_module::{paginate, QueryContext};
use ve_proto::cosmos::auth::v1beta1::*;
use ve_proto::Any;
use ve_types::{Address, AppError};

pub const ACCOUNT: &str = "/cosmos.auth.v1beta1.Query/Account";
pub const ACCOUNTS: &str = "/cosmos.auth.v1beta1.Query/Accounts";
pub const PARAMS: &str = "/cosmos.auth.v1beta1.Query/Params";
pub const MODULE_ACCOUNTS_PATH: &str = "/cosmos.auth.v1beta1.Query/ModuleAccounts";

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, AppError> {
    M::decode(data).map_err(|e| AuthError::InvalidRequest(e.to_string()).into())
}

fn parse_addr(s: &str) -> Result<Address, AppError> {
    s.parse()
        .map_err(|e| AuthError::InvalidAddress(s.to_string(), format!("{e}")).into())
}

/// Routes a query path owned by auth; `None` if the path is not auth's.
pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        ACCOUNT => account(ctx, data),
        ACCOUNTS => accounts(ctx, data),
        PARAMS => params(ctx),
        MODULE_ACCOUNTS_PATH => module_accounts(ctx),
        _ => return None,
    })
}

pub fn account(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryAccountRequest = decode(data)?;
    let addr = parse_addr(&req.address)?;
    let acc = state::get_account(&mut ctx.store(), &addr)?
        .ok_or_else(|| AuthError::AccountNotFound(req.address.clone()))?;
    Ok(QueryAccountResponse {
        account: Some(acc.to_any()),
    }
    .encode_to_vec())
}

pub fn accounts(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryAccountsRequest = decode(data)?;
    let (entries, pagination) = paginate(ctx, state_key::ACCOUNT_PREFIX, req.pagination.as_ref())?;
    let accounts = entries
        .into_iter()
        .map(|(_, v)| {
            Any::decode(v.as_slice()).map_err(|e| AuthError::Corrupt(e.to_string()).into())
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(QueryAccountsResponse {
        accounts,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

pub fn params(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    let p = state::params(&mut ctx.store())?;
    Ok(QueryParamsResponse {
        params: Some(p.to_proto()),
    }
    .encode_to_vec())
}

pub fn module_accounts(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    let mut accounts = Vec::new();
    for name in MODULE_ACCOUNTS {
        if let Some(acc) =
            state::get_account(&mut ctx.store(), &state::module_account_address(name))?
        {
            accounts.push(acc.to_any());
        }
    }
    Ok(QueryModuleAccountsResponse { accounts }.encode_to_vec())
}
