//! `virtengine.provider.v1.Query`, one function per method.

use crate::msg_server::parse_addr;
use crate::proto::*;
use crate::{state, state_key, ProviderError};
use prost::Message;
use ve_module::{paginate, QueryContext};
use ve_types::AppError;

pub const PROVIDER: &str = "/virtengine.provider.v1.Query/Provider";
pub const PROVIDERS: &str = "/virtengine.provider.v1.Query/Providers";
pub const DOMAIN_VERIFICATION: &str = "/virtengine.provider.v1.Query/DomainVerification";
pub const ATTESTORS: &str = "/virtengine.provider.v1.Query/Attestors";
pub const PARAMS: &str = "/virtengine.provider.v1.Query/Params";

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, AppError> {
    M::decode(data).map_err(|e| ProviderError::InvalidRequest(e.to_string()).into())
}

/// Routes a query path owned by provider; `None` if the path is not provider's.
pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        PROVIDER => provider(ctx, data),
        PROVIDERS => providers(ctx, data),
        DOMAIN_VERIFICATION => domain_verification(ctx, data),
        ATTESTORS => attestors(ctx),
        PARAMS => params(ctx),
        _ => return None,
    })
}

pub fn provider(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryProviderRequest = decode(data)?;
    let owner = parse_addr(&req.owner)?;
    let p = state::provider(&mut ctx.store(), &owner)?
        .ok_or_else(|| ProviderError::ProviderNotFound(owner.to_string()))?;
    Ok(QueryProviderResponse { provider: Some(p) }.encode_to_vec())
}

pub fn providers(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryProvidersRequest = decode(data)?;
    let (entries, pagination) = paginate(ctx, state_key::PROVIDER_PREFIX, req.pagination.as_ref())?;
    let providers = entries
        .iter()
        .map(|(_, v)| state::provider_from_bytes(v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(QueryProvidersResponse {
        providers,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

/// The verification record; a pending one past its expiry is shown EXPIRED.
pub fn domain_verification(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryDomainVerificationRequest = decode(data)?;
    let owner = parse_addr(&req.owner)?;
    let mut store = ctx.store();
    let mut v = state::verification(&mut store, &owner)?
        .ok_or_else(|| ProviderError::VerificationNotFound(owner.to_string()))?;
    let now = ve_identity::state::last_block_time(&mut store)?;
    if v.status == VerificationStatus::Pending as i32 && now > v.expires_at {
        v.status = VerificationStatus::Expired as i32;
    }
    Ok(QueryDomainVerificationResponse {
        verification: Some(v),
    }
    .encode_to_vec())
}

pub fn attestors(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    Ok(QueryAttestorsResponse {
        attestors: state::attestors(&mut ctx.store())?,
    }
    .encode_to_vec())
}

pub fn params(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    Ok(QueryParamsResponse {
        params: Some(state::params(&mut ctx.store())?.to_proto()),
    }
    .encode_to_vec())
}
