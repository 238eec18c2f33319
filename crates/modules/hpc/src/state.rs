//! Typed access to hpc state. No other code reads or writes `hpc/` keys.

use crate::proto::*;
use crate::{state_key as k, HpcError, HpcParams};
use prost::Message;
use ve_module::Store;
use ve_types::{Address, AppError};

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    HpcError::Corrupt(format!("{what}: {e}")).into()
}

fn get<M: Message + Default>(
    store: &mut impl Store,
    key: &[u8],
    what: &str,
) -> Result<Option<M>, AppError> {
    store
        .get(key)?
        .map(|b| M::decode(b.as_slice()).map_err(|e| corrupt(what, e)))
        .transpose()
}

pub fn decode<M: Message + Default>(b: &[u8], what: &str) -> Result<M, AppError> {
    M::decode(b).map_err(|e| corrupt(what, e))
}

pub fn params(store: &mut impl Store) -> Result<HpcParams, AppError> {
    Ok(get::<Params>(store, k::PARAMS, "params")?
        .map(|p| HpcParams::from_proto(&p))
        .unwrap_or_default())
}

pub fn set_params(store: &mut impl Store, p: &HpcParams) -> Result<(), AppError> {
    p.validate()?;
    store.put(k::PARAMS.to_vec(), p.to_proto().encode_to_vec())
}

/// Takes the next id of sequence `name` (1, 2, …).
pub fn next_id(store: &mut impl Store, name: &str) -> Result<u64, AppError> {
    let key = k::seq(name);
    let cur = match store.get(&key)? {
        Some(b) => k::u64_at(&b).ok_or_else(|| corrupt("sequence", name))?,
        None => 1,
    };
    let next = cur
        .checked_add(1)
        .ok_or_else(|| HpcError::Overflow(format!("sequence {name}")))?;
    store.put(key, next.to_be_bytes().to_vec())?;
    Ok(cur)
}

pub fn cluster(store: &mut impl Store, id: u64) -> Result<Option<Cluster>, AppError> {
    get(store, &k::id(k::CLUSTER_PREFIX, id), "cluster")
}

pub fn set_cluster(
    store: &mut impl Store,
    c: &Cluster,
    provider: &Address,
) -> Result<(), AppError> {
    store.put(k::id(k::CLUSTER_PREFIX, c.cluster_id), c.encode_to_vec())?;
    store.put(
        k::addr_id(k::PROVIDER_CLUSTER_PREFIX, provider, c.cluster_id),
        Vec::new(),
    )
}

/// Most clusters one provider may register (bounds scheduling and grouping work).
pub const MAX_PROVIDER_CLUSTERS: usize = 64;

/// A provider's clusters, by id.
pub fn provider_clusters(
    store: &mut impl Store,
    provider: &Address,
) -> Result<Vec<Cluster>, AppError> {
    let prefix = k::addr_prefix(k::PROVIDER_CLUSTER_PREFIX, provider);
    let keys = store.prefix(&prefix, MAX_PROVIDER_CLUSTERS)?;
    let mut out = Vec::with_capacity(keys.len());
    for (key, _) in keys {
        let id = key
            .get(prefix.len()..)
            .and_then(k::u64_at)
            .ok_or_else(|| corrupt("provider cluster index", "key"))?;
        if let Some(c) = cluster(store, id)? {
            out.push(c);
        }
    }
    Ok(out)
}

pub fn node(
    store: &mut impl Store,
    cluster: u64,
    node_id: &str,
) -> Result<Option<NodeMetadata>, AppError> {
    get(store, &k::node(cluster, node_id), "node")
}

pub fn set_node(store: &mut impl Store, n: &NodeMetadata) -> Result<(), AppError> {
    store.put(k::node(n.cluster_id, &n.node_id), n.encode_to_vec())
}

/// A cluster's nodes (at most `limit`).
pub fn nodes(
    store: &mut impl Store,
    cluster: u64,
    limit: usize,
) -> Result<Vec<NodeMetadata>, AppError> {
    store
        .prefix(&k::nodes_of(cluster), limit)?
        .iter()
        .map(|(_, v)| decode(v, "node"))
        .collect()
}

pub fn offering(store: &mut impl Store, id: u64) -> Result<Option<Offering>, AppError> {
    get(store, &k::id(k::OFFERING_PREFIX, id), "offering")
}

pub fn set_offering(store: &mut impl Store, o: &Offering) -> Result<(), AppError> {
    store.put(k::id(k::OFFERING_PREFIX, o.offering_id), o.encode_to_vec())?;
    store.put(
        [
            k::CLUSTER_OFFERING_PREFIX,
            &o.cluster_id.to_be_bytes(),
            &o.offering_id.to_be_bytes(),
        ]
        .concat(),
        Vec::new(),
    )
}

pub fn job(store: &mut impl Store, id: u64) -> Result<Option<Job>, AppError> {
    get(store, &k::id(k::JOB_PREFIX, id), "job")
}

pub fn set_job(
    store: &mut impl Store,
    j: &Job,
    customer: &Address,
    provider: &Address,
) -> Result<(), AppError> {
    store.put(k::id(k::JOB_PREFIX, j.job_id), j.encode_to_vec())?;
    store.put(
        k::addr_id(k::CUSTOMER_JOB_PREFIX, customer, j.job_id),
        Vec::new(),
    )?;
    store.put(
        k::addr_id(k::PROVIDER_JOB_PREFIX, provider, j.job_id),
        Vec::new(),
    )
}

pub fn decision(store: &mut impl Store, id: u64) -> Result<Option<SchedulingDecision>, AppError> {
    get(store, &k::id(k::DECISION_PREFIX, id), "decision")
}

pub fn set_decision(store: &mut impl Store, d: &SchedulingDecision) -> Result<(), AppError> {
    store.put(k::id(k::DECISION_PREFIX, d.decision_id), d.encode_to_vec())
}

pub fn accounting(store: &mut impl Store, job: u64) -> Result<Option<JobAccounting>, AppError> {
    get(store, &k::id(k::ACCOUNTING_PREFIX, job), "accounting")
}

pub fn set_accounting(store: &mut impl Store, a: &JobAccounting) -> Result<(), AppError> {
    store.put(k::id(k::ACCOUNTING_PREFIX, a.job_id), a.encode_to_vec())
}

pub fn dispute(store: &mut impl Store, id: u64) -> Result<Option<Dispute>, AppError> {
    get(store, &k::id(k::DISPUTE_PREFIX, id), "dispute")
}

pub fn set_dispute(store: &mut impl Store, d: &Dispute) -> Result<(), AppError> {
    store.put(k::id(k::DISPUTE_PREFIX, d.dispute_id), d.encode_to_vec())
}

/// Queue entries due at or before `now`, at most `limit`.
pub fn due(
    store: &mut impl Store,
    queue: &[u8],
    now: i64,
    limit: usize,
) -> Result<Vec<Vec<u8>>, AppError> {
    let end = [queue, &k::time(now.saturating_add(1))].concat();
    Ok(store
        .range(queue, Some(&end), limit)?
        .into_iter()
        .map(|(key, _)| key)
        .collect())
}
