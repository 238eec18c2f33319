//! Every key the hpc module writes. Ids are u64 big-endian (8 bytes), addresses 20 bytes,
//! queue times unix seconds as u64 big-endian (negative times clamp to 0).

use ve_types::Address;

pub const PARAMS: &[u8] = b"hpc/params";
/// `hpc/seq/<name>` → next id (u64 BE); ids start at 1.
pub const SEQ_PREFIX: &[u8] = b"hpc/seq/";
/// `hpc/cluster/<id>` → `Cluster`.
pub const CLUSTER_PREFIX: &[u8] = b"hpc/cluster/";
/// `hpc/pcluster/<provider 20><id>` → empty: a provider's clusters.
pub const PROVIDER_CLUSTER_PREFIX: &[u8] = b"hpc/pcluster/";
/// `hpc/node/<cluster id><node id>` → `NodeMetadata`.
pub const NODE_PREFIX: &[u8] = b"hpc/node/";
/// `hpc/offering/<id>` → `Offering`; `hpc/coffering/<cluster><id>` → empty.
pub const OFFERING_PREFIX: &[u8] = b"hpc/offering/";
pub const CLUSTER_OFFERING_PREFIX: &[u8] = b"hpc/coffering/";
/// `hpc/job/<id>` → `Job`; `hpc/cjob/<customer><id>`, `hpc/pjob/<provider><id>` → empty.
pub const JOB_PREFIX: &[u8] = b"hpc/job/";
pub const CUSTOMER_JOB_PREFIX: &[u8] = b"hpc/cjob/";
pub const PROVIDER_JOB_PREFIX: &[u8] = b"hpc/pjob/";
/// `hpc/decision/<id>` → `SchedulingDecision`.
pub const DECISION_PREFIX: &[u8] = b"hpc/decision/";
/// `hpc/acct/<job id>` → `JobAccounting`.
pub const ACCOUNTING_PREFIX: &[u8] = b"hpc/acct/";
/// `hpc/dispute/<id>` → `Dispute`.
pub const DISPUTE_PREFIX: &[u8] = b"hpc/dispute/";
/// End-block queues, `<prefix><time 8><id…>` → empty. An entry is a hint: the handler
/// re-checks the record, so a stale entry is simply dropped.
pub const CLUSTER_HB_QUEUE: &[u8] = b"hpc/q/chb/";
pub const NODE_HB_QUEUE: &[u8] = b"hpc/q/nhb/";
pub const TIMEOUT_QUEUE: &[u8] = b"hpc/q/timeout/";
pub const SETTLE_QUEUE: &[u8] = b"hpc/q/settle/";

pub fn id(prefix: &[u8], id: u64) -> Vec<u8> {
    [prefix, &id.to_be_bytes()].concat()
}

pub fn addr_id(prefix: &[u8], a: &Address, id: u64) -> Vec<u8> {
    [prefix, a.as_bytes().as_slice(), &id.to_be_bytes()].concat()
}

pub fn addr_prefix(prefix: &[u8], a: &Address) -> Vec<u8> {
    [prefix, a.as_bytes().as_slice()].concat()
}

pub fn seq(name: &str) -> Vec<u8> {
    [SEQ_PREFIX, name.as_bytes()].concat()
}

pub fn node(cluster: u64, node_id: &str) -> Vec<u8> {
    [NODE_PREFIX, &cluster.to_be_bytes(), node_id.as_bytes()].concat()
}

pub fn nodes_of(cluster: u64) -> Vec<u8> {
    id(NODE_PREFIX, cluster)
}

pub fn time(t: i64) -> [u8; 8] {
    u64::try_from(t).unwrap_or(0).to_be_bytes()
}

/// `<queue><time><rest>`.
pub fn queued(queue: &[u8], at: i64, rest: &[u8]) -> Vec<u8> {
    [queue, &time(at), rest].concat()
}

/// The part of a queue key after the time.
pub fn queue_rest<'a>(queue: &[u8], key: &'a [u8]) -> Option<&'a [u8]> {
    key.get(queue.len().checked_add(8)?..)
}

pub fn u64_at(b: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(..8)?.try_into().ok()?))
}
