//! Prometheus counters of the HPC loop (stable names, beside [`crate::metrics`]).

pub const JOBS_SUBMITTED: &str = "provider_hpc_jobs_submitted_total";
/// Label `state`: `queued`, `running`, `usage`, `completed`, `failed`, `timeout`,
/// `cancelled`, `refused` (a job this cluster cannot run, reported FAILED).
pub const REPORTS: &str = "provider_hpc_reports_total";
/// SLURM jobs cancelled because the chain ended them (tenant cancel, chain timeout).
pub const SCANCELS: &str = "provider_hpc_scancels_total";
pub const HEARTBEATS: &str = "provider_hpc_heartbeats_total";
/// Label `kind`: `slurm`, `chain`, `rejected` (a report the chain refused).
pub const ERRORS: &str = "provider_hpc_errors_total";

pub fn describe() {
    metrics::describe_counter!(JOBS_SUBMITTED, "chain jobs submitted to SLURM with sbatch");
    metrics::describe_counter!(REPORTS, "job status and usage reports confirmed on chain");
    metrics::describe_counter!(
        SCANCELS,
        "SLURM jobs cancelled because the chain ended them"
    );
    metrics::describe_counter!(HEARTBEATS, "cluster heartbeats confirmed on chain");
    metrics::describe_counter!(ERRORS, "HPC loop errors (retried next round)");
}

pub fn submitted() {
    metrics::counter!(JOBS_SUBMITTED).increment(1);
}

pub fn report(state: &'static str) {
    metrics::counter!(REPORTS, "state" => state).increment(1);
}

pub fn scancel() {
    metrics::counter!(SCANCELS).increment(1);
}

pub fn heartbeat() {
    metrics::counter!(HEARTBEATS).increment(1);
}

pub fn error(kind: &'static str) {
    metrics::counter!(ERRORS, "kind" => kind).increment(1);
}
