//! Typed hpc events. The provider daemon watches `hpc_job_submitted` (run the job on the
//! listed clusters) and `hpc_job_cancelled` (scancel it); `hpc_job_finished` and
//! `hpc_job_settled` report the money.

use ve_module::Event;

pub const CLUSTER_REGISTERED: &str = "hpc_cluster_registered";
pub const CLUSTER_OFFLINE: &str = "hpc_cluster_offline";
pub const CLUSTER_ONLINE: &str = "hpc_cluster_online";
pub const NODE_STALE: &str = "hpc_node_stale";
pub const OFFERING_CREATED: &str = "hpc_offering_created";
pub const JOB_SUBMITTED: &str = "hpc_job_submitted";
pub const JOB_STATUS: &str = "hpc_job_status";
pub const JOB_CANCELLED: &str = "hpc_job_cancelled";
pub const JOB_FINISHED: &str = "hpc_job_finished";
pub const JOB_SETTLED: &str = "hpc_job_settled";
pub const DISPUTE_FLAGGED: &str = "hpc_dispute_flagged";
pub const DISPUTE_RESOLVED: &str = "hpc_dispute_resolved";

pub fn cluster(kind: &str, id: u64) -> Event {
    Event::new(kind).attr("cluster_id", id)
}

pub fn job(kind: &str, id: u64) -> Event {
    Event::new(kind).attr("job_id", id)
}

pub fn ids(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}
