//! `virtengine.config.v1.Query`, one function per method.

use crate::msg_server::check_client_id;
use crate::proto::*;
use crate::{state, state_key, ConfigError};
use prost::Message;
use ve_module::{paginate, QueryContext};
use ve_types::AppError;

pub const CLIENT: &str = "/virtengine.config.v1.Query/Client";
pub const CLIENTS: &str = "/virtengine.config.v1.Query/Clients";
pub const CLIENT_AUDIT: &str = "/virtengine.config.v1.Query/ClientAudit";
pub const PARAMS: &str = "/virtengine.config.v1.Query/Params";

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, AppError> {
    M::decode(data).map_err(|e| ConfigError::InvalidRequest(e.to_string()).into())
}

/// Routes a query path owned by config; `None` if the path is not ours.
pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        CLIENT => client(ctx, data),
        CLIENTS => clients(ctx, data),
        CLIENT_AUDIT => client_audit(ctx, data),
        PARAMS => params(ctx),
        _ => return None,
    })
}

pub fn client(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryClientRequest = decode(data)?;
    check_client_id(&req.client_id)?;
    let c = state::client(&mut ctx.store(), &req.client_id)?
        .ok_or_else(|| ConfigError::ClientNotFound(req.client_id.clone()))?;
    Ok(QueryClientResponse { client: Some(c) }.encode_to_vec())
}

/// All clients by id, or those of one status (through the status index).
pub fn clients(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryClientsRequest = decode(data)?;
    let by_status = req.status != ClientStatus::Unspecified as i32;
    let prefix = if by_status {
        state_key::status_prefix(req.status)
    } else {
        state_key::CLIENT_PREFIX.to_vec()
    };
    let (entries, pagination) = paginate(ctx, &prefix, req.pagination.as_ref())?;
    let mut store = ctx.store();
    let mut clients = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let c = if by_status {
            let id = k
                .get(prefix.len()..)
                .and_then(|b| std::str::from_utf8(b).ok())
                .ok_or_else(|| ConfigError::Corrupt("status index key".into()))?;
            state::client(&mut store, id)?.ok_or_else(|| {
                ConfigError::Corrupt(format!("index points at missing client {id}"))
            })?
        } else {
            ApprovedClient::decode(v.as_slice()).map_err(|e| ConfigError::Corrupt(e.to_string()))?
        };
        clients.push(c);
    }
    Ok(QueryClientsResponse {
        clients,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

pub fn client_audit(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryClientAuditRequest = decode(data)?;
    check_client_id(&req.client_id)?;
    let prefix = state_key::audit_prefix(&req.client_id);
    let (entries, pagination) = paginate(ctx, &prefix, req.pagination.as_ref())?;
    let mut out = Vec::with_capacity(entries.len());
    for (_, v) in entries {
        out.push(
            AuditEntry::decode(v.as_slice()).map_err(|e| ConfigError::Corrupt(e.to_string()))?,
        );
    }
    Ok(QueryClientAuditResponse {
        entries: out,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

pub fn params(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    Ok(QueryParamsResponse {
        params: Some(state::params(&mut ctx.store())?.to_proto()),
    }
    .encode_to_vec())
}
