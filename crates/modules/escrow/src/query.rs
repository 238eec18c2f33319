//! `virtengine.escrow.v1.Query`, one function per method. Accounts and payments are shown
//! settled to the queried height (what a transaction touching them would see), without
//! writing anything.

use crate::msg_server::parse_addr;
use crate::proto::*;
use crate::types::{validate_payment_id, Account, AccountId, Payment};
use crate::{settle, state, state_key, EscrowError};
use prost::Message;
use ve_module::{paginate, QueryContext, ReadOnly};
use ve_types::AppError;

pub const ACCOUNT: &str = "/virtengine.escrow.v1.Query/Account";
pub const ACCOUNTS: &str = "/virtengine.escrow.v1.Query/Accounts";
pub const PAYMENT: &str = "/virtengine.escrow.v1.Query/Payment";
pub const PAYMENTS: &str = "/virtengine.escrow.v1.Query/Payments";
pub const PARAMS: &str = "/virtengine.escrow.v1.Query/Params";
pub const GRANT: &str = "/virtengine.escrow.v1.Query/Grant";
pub const GRANTS: &str = "/virtengine.escrow.v1.Query/Grants";

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, AppError> {
    M::decode(data).map_err(|e| EscrowError::InvalidRequest(e.to_string()).into())
}

/// Routes a query path owned by escrow; `None` if the path is not escrow's.
pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        ACCOUNT => account(ctx, data),
        ACCOUNTS => accounts(ctx, data),
        PAYMENT => payment(ctx, data),
        PAYMENTS => payments(ctx, data),
        PARAMS => params(ctx),
        GRANT => grant(ctx, data),
        GRANTS => grants(ctx, data),
        _ => return None,
    })
}

/// The account and its active payments as settled at the queried height.
fn settled_view(
    store: &mut ReadOnly<'_>,
    height: u64,
    mut account: Account,
) -> Result<(Account, Vec<Payment>), AppError> {
    let grace = state::params(store)?.grace_period_blocks;
    let mut payments =
        state::active_payments(store, &account.id, crate::params::HARD_MAX_PAYMENTS)?;
    settle::settle(&mut account, &mut payments, height, grace)?;
    account.wake_at = settle::wake_height(&account, &payments)?;
    Ok((account, payments))
}

pub fn account(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryAccountRequest = decode(data)?;
    let id = AccountId::from_proto(req.id.as_ref())?;
    let mut store = ctx.store();
    let a = state::account(&mut store, &id)?
        .ok_or_else(|| EscrowError::AccountNotFound(id.to_string()))?;
    let (a, payments) = settled_view(&mut store, ctx.height, a)?;
    Ok(QueryAccountResponse {
        account: Some(a.to_proto()?),
        payments: payments.iter().map(Payment::to_proto).collect(),
    }
    .encode_to_vec())
}

pub fn accounts(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryAccountsRequest = decode(data)?;
    let owner = parse_addr(&req.owner)?;
    let prefix = state_key::accounts_of(&owner);
    let (entries, pagination) = paginate(ctx, &prefix, req.pagination.as_ref())?;
    let mut store = ctx.store();
    let mut accounts = Vec::with_capacity(entries.len());
    for (k, _) in entries {
        let id = k
            .get(prefix.len()..)
            .and_then(state_key::parse_id)
            .ok_or_else(|| EscrowError::Corrupt("owner index key".into()))?;
        let a = state::account(&mut store, &id)?
            .ok_or_else(|| EscrowError::Corrupt(format!("owner index points at missing {id}")))?;
        let (a, _) = settled_view(&mut store, ctx.height, a)?;
        accounts.push(a.to_proto()?);
    }
    Ok(QueryAccountsResponse {
        accounts,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

pub fn payment(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryPaymentRequest = decode(data)?;
    let id = AccountId::from_proto(req.account_id.as_ref())?;
    validate_payment_id(&req.payment_id)?;
    let mut store = ctx.store();
    let not_found = || EscrowError::PaymentNotFound {
        account: id.to_string(),
        payment: req.payment_id.clone(),
    };
    let p = if let Some(p) = state::closed_payment(&mut store, &id, &req.payment_id)? {
        p
    } else {
        let a = state::account(&mut store, &id)?.ok_or_else(not_found)?;
        let (_, payments) = settled_view(&mut store, ctx.height, a)?;
        payments
            .into_iter()
            .find(|p| p.id == req.payment_id)
            .ok_or_else(not_found)?
    };
    Ok(QueryPaymentResponse {
        payment: Some(p.to_proto()),
    }
    .encode_to_vec())
}

/// Open and paused payments, settled; then closed ones.
pub fn payments(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryPaymentsRequest = decode(data)?;
    let id = AccountId::from_proto(req.account_id.as_ref())?;
    let mut store = ctx.store();
    let a = state::account(&mut store, &id)?
        .ok_or_else(|| EscrowError::AccountNotFound(id.to_string()))?;
    let (_, active) = settled_view(&mut store, ctx.height, a)?;
    // Active payments are bounded and come first, unpaginated; closed ones page by key.
    let closed_prefix = state_key::closed_payments_of(&id);
    let (entries, pagination) = paginate(ctx, &closed_prefix, req.pagination.as_ref())?;
    let first_page = req.pagination.as_ref().is_none_or(|p| p.key.is_empty());
    let mut payments: Vec<crate::proto::Payment> = if first_page {
        active.iter().map(Payment::to_proto).collect()
    } else {
        Vec::new()
    };
    for (_, v) in entries {
        payments.push(state::payment_from_bytes(&v)?.to_proto());
    }
    Ok(QueryPaymentsResponse {
        payments,
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

pub fn grant(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryGrantRequest = decode(data)?;
    let granter = parse_addr(&req.granter)?;
    let grantee = parse_addr(&req.grantee)?;
    let g = state::grant(&mut ctx.store(), &granter, &grantee)?.ok_or_else(|| {
        EscrowError::GrantNotFound {
            granter: granter.to_string(),
            grantee: grantee.to_string(),
        }
    })?;
    Ok(QueryGrantResponse {
        grant: Some(g.to_proto()),
    }
    .encode_to_vec())
}

/// Grants given by a granter (walking its grants) or received by a grantee (walking the
/// grantee index).
pub fn grants(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryGrantsRequest = decode(data)?;
    let by_granter = match (req.granter.is_empty(), req.grantee.is_empty()) {
        (false, true) => true,
        (true, false) => false,
        _ => {
            return Err(EscrowError::InvalidRequest(
                "give exactly one of granter and grantee".into(),
            )
            .into())
        }
    };
    let mut store = ctx.store();
    let mut grants = Vec::new();
    let pagination = if by_granter {
        let prefix = state_key::grants_by(&parse_addr(&req.granter)?);
        let (entries, page) = paginate(ctx, &prefix, req.pagination.as_ref())?;
        for (_, v) in entries {
            grants.push(state::grant_from_bytes(&v)?.to_proto());
        }
        page
    } else {
        let grantee = parse_addr(&req.grantee)?;
        let prefix = state_key::grants_to(&grantee);
        let (entries, page) = paginate(ctx, &prefix, req.pagination.as_ref())?;
        for (k, _) in entries {
            let granter = k
                .get(prefix.len()..)
                .and_then(|b| <[u8; 20]>::try_from(b).ok())
                .map(ve_types::Address)
                .ok_or_else(|| EscrowError::Corrupt("grantee index key".into()))?;
            let g = state::grant(&mut store, &granter, &grantee)?
                .ok_or_else(|| EscrowError::Corrupt("grantee index points at no grant".into()))?;
            grants.push(g.to_proto());
        }
        page
    };
    Ok(QueryGrantsResponse {
        grants,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}
