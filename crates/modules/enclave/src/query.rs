//! `virtengine.enclave.v1.Query`, one function per method.

use crate::proto::*;
use crate::{keeper, state, state_key, EnclaveError};
use prost::Message;
use ve_module::{paginate, QueryContext};
use ve_types::AppError;

pub const ENCLAVE_IDENTITY: &str = "/virtengine.enclave.v1.Query/EnclaveIdentity";
pub const ENCLAVE_IDENTITIES: &str = "/virtengine.enclave.v1.Query/EnclaveIdentities";
pub const MEASUREMENT_ALLOWLIST: &str = "/virtengine.enclave.v1.Query/MeasurementAllowlist";
pub const ACTIVE_ENCLAVE_KEYS: &str = "/virtengine.enclave.v1.Query/ActiveEnclaveKeys";
pub const PARAMS: &str = "/virtengine.enclave.v1.Query/Params";

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, AppError> {
    M::decode(data).map_err(|e| EnclaveError::InvalidRequest(e.to_string()).into())
}

/// Routes a query path owned by enclave; `None` if the path is not ours.
pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        ENCLAVE_IDENTITY => enclave_identity(ctx, data),
        ENCLAVE_IDENTITIES => enclave_identities(ctx, data),
        MEASUREMENT_ALLOWLIST => measurement_allowlist(ctx, data),
        ACTIVE_ENCLAVE_KEYS => active_enclave_keys(ctx),
        PARAMS => params(ctx),
        _ => return None,
    })
}

pub fn enclave_identity(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryEnclaveIdentityRequest = decode(data)?;
    let v = crate::msg_server::parse_addr(&req.validator)?;
    let mut store = ctx.store();
    let id = state::identity(&mut store, &v)?
        .ok_or_else(|| EnclaveError::NotRegistered(v.to_string()))?;
    let params = state::params(&mut store)?;
    let active = keeper::is_active(&mut store, &params, &id, ctx.height)?;
    Ok(QueryEnclaveIdentityResponse {
        identity: Some(id),
        active,
    }
    .encode_to_vec())
}

pub fn enclave_identities(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryEnclaveIdentitiesRequest = decode(data)?;
    let (entries, pagination) = paginate(ctx, state_key::IDENTITY_PREFIX, req.pagination.as_ref())?;
    let identities = entries
        .into_iter()
        .map(|(_, v)| {
            EnclaveIdentity::decode(v.as_slice()).map_err(|e| EnclaveError::Corrupt(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(QueryEnclaveIdentitiesResponse {
        identities,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

pub fn measurement_allowlist(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryMeasurementAllowlistRequest = decode(data)?;
    let (entries, pagination) =
        paginate(ctx, state_key::MEASUREMENT_PREFIX, req.pagination.as_ref())?;
    let mut measurements = Vec::with_capacity(entries.len());
    for (_, v) in entries {
        let m = MeasurementRecord::decode(v.as_slice())
            .map_err(|e| EnclaveError::Corrupt(e.to_string()))?;
        if req.include_revoked || !m.revoked {
            measurements.push(m);
        }
    }
    Ok(QueryMeasurementAllowlistResponse {
        measurements,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

/// The active key set at the query height.
pub fn active_enclave_keys(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    let keys = keeper::active_enclave_keys(&mut ctx.store(), ctx.height)?;
    Ok(QueryActiveEnclaveKeysResponse { keys }.encode_to_vec())
}

pub fn params(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    Ok(QueryParamsResponse {
        params: Some(state::params(&mut ctx.store())?.to_proto()),
    }
    .encode_to_vec())
}
