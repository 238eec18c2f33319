//! `virtengine.audit.v1.Query`, one function per method.

use crate::msg_server::parse_addr;
use crate::proto::*;
use crate::{state, state_key, AuditError};
use prost::Message;
use ve_module::{paginate, QueryContext};
use ve_types::{Address, AppError};

pub const ALL: &str = "/virtengine.audit.v1.Query/AllProvidersAttributes";
pub const PROVIDER: &str = "/virtengine.audit.v1.Query/ProviderAttributes";
pub const PROVIDER_AUDITOR: &str = "/virtengine.audit.v1.Query/ProviderAuditorAttributes";
pub const AUDITOR: &str = "/virtengine.audit.v1.Query/AuditorAttributes";

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, AppError> {
    M::decode(data).map_err(|e| AuditError::InvalidRequest(e.to_string()).into())
}

/// Routes a query path owned by audit; `None` if the path is not audit's.
pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        ALL => all(ctx, data),
        PROVIDER => provider(ctx, data),
        PROVIDER_AUDITOR => provider_auditor(ctx, data),
        AUDITOR => auditor(ctx, data),
        _ => return None,
    })
}

fn listing(
    ctx: &QueryContext<'_>,
    prefix: &[u8],
    page: Option<&ve_proto::cosmos::base::query::v1beta1::PageRequest>,
) -> Result<Vec<u8>, AppError> {
    let (entries, pagination) = paginate(ctx, prefix, page)?;
    let providers = entries
        .iter()
        .map(|(_, v)| state::from_bytes(v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(QueryProvidersResponse {
        providers,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

pub fn all(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryAllProvidersAttributesRequest = decode(data)?;
    listing(ctx, state_key::BY_PROVIDER_PREFIX, req.pagination.as_ref())
}

pub fn provider(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryProviderAttributesRequest = decode(data)?;
    let owner = parse_addr(&req.owner)?;
    listing(
        ctx,
        &state_key::of_provider(&owner),
        req.pagination.as_ref(),
    )
}

pub fn provider_auditor(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryProviderAuditorRequest = decode(data)?;
    let owner = parse_addr(&req.owner)?;
    let auditor = parse_addr(&req.auditor)?;
    let r = state::record(&mut ctx.store(), &owner, &auditor)?.ok_or_else(|| {
        AuditError::RecordNotFound {
            owner: owner.to_string(),
            auditor: auditor.to_string(),
        }
    })?;
    Ok(QueryProvidersResponse {
        providers: vec![r],
        pagination: None,
    }
    .encode_to_vec())
}

pub fn auditor(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryAuditorAttributesRequest = decode(data)?;
    let auditor = parse_addr(&req.auditor)?;
    let prefix = state_key::of_auditor(&auditor);
    let (entries, pagination) = paginate(ctx, &prefix, req.pagination.as_ref())?;
    let mut store = ctx.store();
    let mut providers = Vec::with_capacity(entries.len());
    for (k, _) in entries {
        let owner = k
            .get(prefix.len()..)
            .and_then(|b| Address::from_slice(b).ok())
            .ok_or_else(|| AuditError::Corrupt("auditor index key".into()))?;
        let r = state::record(&mut store, &owner, &auditor)?.ok_or_else(|| {
            AuditError::Corrupt(format!("auditor index points at missing {owner}"))
        })?;
        providers.push(r);
    }
    Ok(QueryProvidersResponse {
        providers,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}
