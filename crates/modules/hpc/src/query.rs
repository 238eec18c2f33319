//! `virtengine.hpc.v1.Query`, one function per method. Listings use key pagination
//! (`next_key`); filtered listings walk the filter's index, and a job state filter is
//! applied while walking, so a page may hold fewer entries: follow `next_key`.

use crate::job_msgs::site;
use crate::keeper::parse_addr;
use crate::proto::*;
use crate::{proximity, state, state_key as k, HpcError};
use prost::Message;
use ve_module::{paginate, QueryContext};
use ve_types::AppError;

pub const CLUSTERS: &str = "/virtengine.hpc.v1.Query/Clusters";
pub const CLUSTER: &str = "/virtengine.hpc.v1.Query/Cluster";
pub const OFFERINGS: &str = "/virtengine.hpc.v1.Query/Offerings";
pub const JOBS: &str = "/virtengine.hpc.v1.Query/Jobs";
pub const JOB: &str = "/virtengine.hpc.v1.Query/Job";
pub const DISPUTE: &str = "/virtengine.hpc.v1.Query/Dispute";
pub const PARAMS: &str = "/virtengine.hpc.v1.Query/Params";

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, AppError> {
    M::decode(data).map_err(|e| HpcError::InvalidRequest(e.to_string()).into())
}

pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        CLUSTERS => clusters(ctx, data),
        CLUSTER => cluster(ctx, data),
        OFFERINGS => offerings(ctx, data),
        JOBS => jobs(ctx, data),
        JOB => job(ctx, data),
        DISPUTE => dispute(ctx, data),
        PARAMS => params(ctx),
        _ => return None,
    })
}

/// The id at the end of an index or record key (the last 8 bytes).
fn trailing_id(key: &[u8]) -> Result<u64, AppError> {
    key.len()
        .checked_sub(8)
        .and_then(|at| key.get(at..))
        .and_then(k::u64_at)
        .ok_or_else(|| HpcError::Corrupt("index key".into()).into())
}

pub fn clusters(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryClustersRequest = decode(data)?;
    let prefix = if req.provider.is_empty() {
        k::CLUSTER_PREFIX.to_vec()
    } else {
        k::addr_prefix(k::PROVIDER_CLUSTER_PREFIX, &parse_addr(&req.provider)?)
    };
    let (entries, page) = paginate(ctx, &prefix, req.pagination.as_ref())?;
    let mut store = ctx.store();
    let mut out = Vec::with_capacity(entries.len());
    for (key, _) in entries {
        if let Some(c) = state::cluster(&mut store, trailing_id(&key)?)? {
            out.push(c);
        }
    }
    Ok(QueryClustersResponse {
        clusters: out,
        pagination: Some(page),
    }
    .encode_to_vec())
}

pub fn cluster(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryClusterRequest = decode(data)?;
    let mut store = ctx.store();
    let c = state::cluster(&mut store, req.cluster_id)?
        .ok_or(HpcError::ClusterNotFound(req.cluster_id))?;
    let p = state::params(&mut store)?;
    let limit = usize::try_from(p.max_nodes_per_cluster).unwrap_or(256);
    let nodes = state::nodes(&mut store, c.cluster_id, limit)?;
    let peers = state::provider_clusters(&mut store, &parse_addr(&c.provider)?)?;
    let sites: Vec<proximity::Site> = peers
        .iter()
        .filter(|x| x.state == ClusterState::Active as i32)
        .map(site)
        .collect();
    let group = proximity::group_of(&sites, p.max_latency_ms, c.cluster_id);
    Ok(QueryClusterResponse {
        cluster: Some(c),
        nodes,
        proximity_group: group,
    }
    .encode_to_vec())
}

pub fn offerings(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryOfferingsRequest = decode(data)?;
    let prefix = if req.cluster_id == 0 {
        k::OFFERING_PREFIX.to_vec()
    } else {
        k::id(k::CLUSTER_OFFERING_PREFIX, req.cluster_id)
    };
    let (entries, page) = paginate(ctx, &prefix, req.pagination.as_ref())?;
    let mut store = ctx.store();
    let mut out = Vec::with_capacity(entries.len());
    for (key, _) in entries {
        if let Some(o) = state::offering(&mut store, trailing_id(&key)?)? {
            out.push(o);
        }
    }
    Ok(QueryOfferingsResponse {
        offerings: out,
        pagination: Some(page),
    }
    .encode_to_vec())
}

pub fn jobs(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryJobsRequest = decode(data)?;
    let prefix = match (req.customer.is_empty(), req.provider.is_empty()) {
        (false, _) => k::addr_prefix(k::CUSTOMER_JOB_PREFIX, &parse_addr(&req.customer)?),
        (true, false) => k::addr_prefix(k::PROVIDER_JOB_PREFIX, &parse_addr(&req.provider)?),
        (true, true) => k::JOB_PREFIX.to_vec(),
    };
    let (entries, page) = paginate(ctx, &prefix, req.pagination.as_ref())?;
    let mut store = ctx.store();
    let mut out = Vec::with_capacity(entries.len());
    for (key, _) in entries {
        let Some(j) = state::job(&mut store, trailing_id(&key)?)? else {
            continue;
        };
        let provider_ok = req.provider.is_empty() || j.provider == req.provider;
        let state_ok = req.state == JobState::Unspecified as i32 || j.state == req.state;
        if provider_ok && state_ok {
            out.push(j);
        }
    }
    Ok(QueryJobsResponse {
        jobs: out,
        pagination: Some(page),
    }
    .encode_to_vec())
}

pub fn job(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryJobRequest = decode(data)?;
    let mut store = ctx.store();
    let j = state::job(&mut store, req.job_id)?.ok_or(HpcError::JobNotFound(req.job_id))?;
    let decision = state::decision(&mut store, j.decision_id)?;
    let accounting = state::accounting(&mut store, j.job_id)?;
    Ok(QueryJobResponse {
        job: Some(j),
        decision,
        accounting,
    }
    .encode_to_vec())
}

pub fn dispute(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryDisputeRequest = decode(data)?;
    let d = state::dispute(&mut ctx.store(), req.dispute_id)?
        .ok_or(HpcError::DisputeNotFound(req.dispute_id))?;
    Ok(QueryDisputeResponse { dispute: Some(d) }.encode_to_vec())
}

pub fn params(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    let p = state::params(&mut ctx.store())?;
    Ok(QueryParamsResponse {
        params: Some(p.to_proto()),
    }
    .encode_to_vec())
}
