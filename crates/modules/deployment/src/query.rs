//! `virtengine.deployment.v1.Query`, one function per method.

use crate::proto::*;
use crate::types::{parse_addr, DeploymentId, GroupId};
use crate::{state, state_key, DeploymentError};
use prost::Message;
use ve_module::{prefix_end, QueryContext, DEFAULT_PAGE, MAX_PAGE};
use ve_proto::cosmos::base::query::v1beta1::PageResponse;
use ve_types::AppError;

pub const DEPLOYMENTS: &str = "/virtengine.deployment.v1.Query/Deployments";
pub const DEPLOYMENT: &str = "/virtengine.deployment.v1.Query/Deployment";
pub const GROUP: &str = "/virtengine.deployment.v1.Query/Group";
pub const PARAMS: &str = "/virtengine.deployment.v1.Query/Params";

/// Most entries one listing page examines when a state filter skips some.
pub const MAX_SCAN: usize = 5_000;

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, AppError> {
    M::decode(data).map_err(|e| DeploymentError::InvalidRequest(e.to_string()).into())
}

pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        DEPLOYMENTS => deployments(ctx, data),
        DEPLOYMENT => deployment(ctx, data),
        GROUP => group(ctx, data),
        PARAMS => params(ctx),
        _ => return None,
    })
}

/// The escrow account as settled at the queried height (through escrow's own query).
fn escrow_account(
    ctx: &QueryContext<'_>,
    id: &DeploymentId,
) -> Result<Option<ve_escrow::proto::Account>, AppError> {
    let req = ve_escrow::proto::QueryAccountRequest {
        id: Some(id.escrow_account().to_proto()),
    };
    match ve_escrow::query::account(ctx, &req.encode_to_vec()) {
        Ok(b) => Ok(ve_escrow::proto::QueryAccountResponse::decode(b.as_slice())
            .map_err(|e| DeploymentError::Corrupt(e.to_string()))?
            .account),
        Err(_) => Ok(None),
    }
}

fn info(ctx: &QueryContext<'_>, d: Deployment) -> Result<DeploymentInfo, AppError> {
    let id = DeploymentId::from_proto(d.id.as_ref())?;
    let groups = state::groups(&mut ctx.store(), &id)?;
    Ok(DeploymentInfo {
        escrow_account: escrow_account(ctx, &id)?,
        deployment: Some(d),
        groups,
    })
}

fn state_filter(s: &str) -> Result<Option<i32>, AppError> {
    Ok(match s {
        "" => None,
        "active" => Some(DeploymentState::Active as i32),
        "closed" => Some(DeploymentState::Closed as i32),
        other => {
            return Err(DeploymentError::InvalidRequest(format!(
                "unknown state {other:?}: use active or closed"
            ))
            .into())
        }
    })
}

pub fn deployments(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryDeploymentsRequest = decode(data)?;
    let want = state_filter(&req.state)?;
    let prefix = if req.owner.is_empty() {
        state_key::DEPLOYMENT_PREFIX.to_vec()
    } else {
        state_key::deployments_of(&parse_addr(&req.owner)?)
    };
    let page = req.pagination.as_ref();
    let limit = match page.map(|p| p.limit) {
        None | Some(0) => DEFAULT_PAGE,
        Some(l) => usize::try_from(l).unwrap_or(MAX_PAGE).min(MAX_PAGE),
    };
    let mut start = match page.map(|p| p.key.as_slice()) {
        Some(k) if !k.is_empty() => {
            if !k.starts_with(&prefix) {
                return Err(DeploymentError::InvalidRequest(
                    "pagination key does not belong to this listing".into(),
                )
                .into());
            }
            k.to_vec()
        }
        _ => prefix.clone(),
    };
    let end = prefix_end(&prefix);
    let mut out = Vec::new();
    let mut scanned = 0usize;
    let mut next_key = Vec::new();
    'outer: loop {
        let batch = ctx.range(&start, end.as_deref(), limit.saturating_add(1))?;
        let done = batch.len() <= limit;
        for (k, v) in batch {
            if out.len() >= limit || scanned >= MAX_SCAN {
                next_key = k;
                break 'outer;
            }
            scanned = scanned.saturating_add(1);
            let d = state::decode_deployment(&v)?;
            if want.is_none_or(|s| s == d.state) {
                out.push(info(ctx, d)?);
            }
            start = [k.as_slice(), &[0]].concat();
        }
        if done {
            break;
        }
    }
    Ok(QueryDeploymentsResponse {
        deployments: out,
        pagination: Some(PageResponse { next_key, total: 0 }),
    }
    .encode_to_vec())
}

pub fn deployment(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryDeploymentRequest = decode(data)?;
    let id = DeploymentId::from_proto(req.id.as_ref())?;
    let d = state::deployment(&mut ctx.store(), &id)?
        .ok_or_else(|| DeploymentError::DeploymentNotFound(id.to_string()))?;
    Ok(QueryDeploymentResponse {
        deployment: Some(info(ctx, d)?),
    }
    .encode_to_vec())
}

pub fn group(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryGroupRequest = decode(data)?;
    let id = GroupId::from_proto(req.id.as_ref())?;
    let g = state::group(&mut ctx.store(), &id)?
        .ok_or_else(|| DeploymentError::GroupNotFound(id.to_string()))?;
    Ok(QueryGroupResponse { group: Some(g) }.encode_to_vec())
}

pub fn params(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    let p = state::params(&mut ctx.store())?;
    Ok(QueryParamsResponse {
        params: Some(p.to_proto()),
    }
    .encode_to_vec())
}
