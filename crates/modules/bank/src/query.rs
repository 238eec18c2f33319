//! `cosmos.bank.v1beta1.Query`, one function per method.

use crate::msg_server::parse_addr;
use crate::{state, state_key, BankError};
use prost::Message;
use ve_module::{paginate, QueryContext};
use ve_proto::cosmos::bank::v1beta1::*;
use ve_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use ve_types::{validate_denom, AppError};

pub const BALANCE: &str = "/cosmos.bank.v1beta1.Query/Balance";
pub const ALL_BALANCES: &str = "/cosmos.bank.v1beta1.Query/AllBalances";
pub const SPENDABLE_BALANCES: &str = "/cosmos.bank.v1beta1.Query/SpendableBalances";
pub const TOTAL_SUPPLY: &str = "/cosmos.bank.v1beta1.Query/TotalSupply";
pub const SUPPLY_OF: &str = "/cosmos.bank.v1beta1.Query/SupplyOf";
pub const DENOM_METADATA: &str = "/cosmos.bank.v1beta1.Query/DenomMetadata";
pub const PARAMS: &str = "/cosmos.bank.v1beta1.Query/Params";

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, AppError> {
    M::decode(data).map_err(|e| BankError::InvalidRequest(e.to_string()).into())
}

fn coin(denom: &str, amount: u128) -> ProtoCoin {
    ProtoCoin {
        denom: denom.to_string(),
        amount: amount.to_string(),
    }
}

fn checked_denom(denom: &str) -> Result<(), AppError> {
    validate_denom(denom).map_err(|e| BankError::InvalidCoins(e.to_string()).into())
}

/// Routes a query path owned by bank; `None` if the path is not bank's.
pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        BALANCE => balance(ctx, data),
        ALL_BALANCES => all_balances(ctx, data),
        SPENDABLE_BALANCES => spendable_balances(ctx, data),
        TOTAL_SUPPLY => total_supply(ctx, data),
        SUPPLY_OF => supply_of(ctx, data),
        DENOM_METADATA => denom_metadata(ctx, data),
        PARAMS => params(ctx),
        _ => return None,
    })
}

pub fn balance(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryBalanceRequest = decode(data)?;
    let addr = parse_addr(&req.address)?;
    checked_denom(&req.denom)?;
    let amount = state::balance(&mut ctx.store(), &addr, &req.denom)?;
    Ok(QueryBalanceResponse {
        balance: Some(coin(&req.denom, amount)),
    }
    .encode_to_vec())
}

fn balances_page(
    ctx: &QueryContext<'_>,
    address: &str,
    page: Option<&ve_proto::cosmos::base::query::v1beta1::PageRequest>,
) -> Result<
    (
        Vec<ProtoCoin>,
        ve_proto::cosmos::base::query::v1beta1::PageResponse,
    ),
    AppError,
> {
    let addr = parse_addr(address)?;
    let prefix = state_key::balances_of(&addr);
    let (entries, pagination) = paginate(ctx, &prefix, page)?;
    let mut coins = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let denom = std::str::from_utf8(&k[prefix.len()..])
            .map_err(|_| BankError::Corrupt("denom".into()))?;
        let amount = u128::from_be_bytes(
            v.as_slice()
                .try_into()
                .map_err(|_| BankError::Corrupt("amount".into()))?,
        );
        coins.push(coin(denom, amount));
    }
    Ok((coins, pagination))
}

pub fn all_balances(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryAllBalancesRequest = decode(data)?;
    let (balances, pagination) = balances_page(ctx, &req.address, req.pagination.as_ref())?;
    Ok(QueryAllBalancesResponse {
        balances,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

/// Everything is spendable: there are no vesting or locked balances on this chain yet.
pub fn spendable_balances(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QuerySpendableBalancesRequest = decode(data)?;
    let (balances, pagination) = balances_page(ctx, &req.address, req.pagination.as_ref())?;
    Ok(QuerySpendableBalancesResponse {
        balances,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

pub fn total_supply(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryTotalSupplyRequest = decode(data)?;
    let (entries, pagination) = paginate(ctx, state_key::SUPPLY_PREFIX, req.pagination.as_ref())?;
    let mut supply = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let denom = std::str::from_utf8(&k[state_key::SUPPLY_PREFIX.len()..])
            .map_err(|_| BankError::Corrupt("denom".into()))?;
        let amount = u128::from_be_bytes(
            v.as_slice()
                .try_into()
                .map_err(|_| BankError::Corrupt("amount".into()))?,
        );
        supply.push(coin(denom, amount));
    }
    Ok(QueryTotalSupplyResponse {
        supply,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

pub fn supply_of(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QuerySupplyOfRequest = decode(data)?;
    checked_denom(&req.denom)?;
    let amount = state::supply(&mut ctx.store(), &req.denom)?;
    Ok(QuerySupplyOfResponse {
        amount: Some(coin(&req.denom, amount)),
    }
    .encode_to_vec())
}

pub fn denom_metadata(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryDenomMetadataRequest = decode(data)?;
    let metadata = state::metadata(&mut ctx.store(), &req.denom)?
        .ok_or_else(|| BankError::DenomMetadataNotFound(req.denom.clone()))?;
    Ok(QueryDenomMetadataResponse {
        metadata: Some(metadata),
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
