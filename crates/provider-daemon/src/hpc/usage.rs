//! SLURM accounting → the chain's usage metrics, states and exit codes.
//!
//! Usage is what the allocation held over its wall-clock time (what the offering's
//! per-node/core/GPU/GB-hour prices apply to): node-seconds = nodes × elapsed, core-seconds
//! = allocated CPUs × elapsed, memory GB-seconds = allocated memory × elapsed (floor),
//! GPU-seconds = allocated GPUs × elapsed. Storage and network are not metered (0). The
//! chain caps every field at the job's request for its time limit.

use ve_proto::virtengine::hpc::v1 as hpc;
use ve_slurm::{JobState, JobStatus, JobUsage};

const GIB: u128 = 1 << 30;

pub fn metrics(u: &JobUsage) -> hpc::UsageMetrics {
    let t = u.elapsed_seconds;
    let a = &u.allocated;
    let mem = u128::from(a.memory_bytes) * u128::from(t) / GIB;
    hpc::UsageMetrics {
        wall_clock_seconds: t,
        node_seconds: a.nodes.saturating_mul(t),
        cpu_core_seconds: u.allocated_core_seconds(),
        memory_gb_seconds: u64::try_from(mem).unwrap_or(u64::MAX),
        gpu_seconds: u.allocated_gpu_seconds(),
        storage_gb_seconds: 0,
        network_bytes: 0,
        nodes_used: u32::try_from(a.nodes).unwrap_or(u32::MAX),
    }
}

/// The chain state a terminal SLURM state is reported as.
pub fn terminal_state(s: JobState) -> Option<hpc::JobState> {
    Some(match s {
        JobState::Completed => hpc::JobState::Completed,
        JobState::Failed => hpc::JobState::Failed,
        JobState::Timeout => hpc::JobState::Timeout,
        JobState::Cancelled => hpc::JobState::Cancelled,
        JobState::Queued | JobState::Running => return None,
    })
}

/// The script's exit code; a job ended by a signal (timeout, scancel) reports 128 +
/// signal, as a shell would.
pub fn exit_code(s: &JobStatus) -> i32 {
    match (s.exit_code, s.signal) {
        (Some(c), _) if c != 0 => c,
        (_, Some(sig)) => 128_i32.saturating_add(sig),
        (c, None) => c.unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ve_slurm::Tres;

    #[test]
    fn allocation_times_wall_clock_is_the_usage() {
        let u = JobUsage {
            job_id: 1,
            state: JobState::Completed,
            elapsed_seconds: 10,
            cpu_time_ms: 3_000,
            max_rss_bytes: None,
            allocated: Tres {
                cpus: 2,
                memory_bytes: 1536 << 20,
                nodes: 1,
                gpus: 0,
                billing: 2,
            },
            time_limit_minutes: Some(1),
            is_final: true,
            start: None,
            end: None,
        };
        let m = metrics(&u);
        assert_eq!(
            (m.wall_clock_seconds, m.node_seconds, m.cpu_core_seconds),
            (10, 10, 20)
        );
        assert_eq!(m.memory_gb_seconds, 15);
        assert_eq!(m.nodes_used, 1);
    }

    #[test]
    fn signals_become_shell_style_exit_codes() {
        let st = |code, signal| JobStatus {
            job_id: 1,
            state: JobState::Timeout,
            slurm_state: "TIMEOUT".into(),
            exit_code: code,
            signal,
            reason: None,
            nodes: None,
        };
        assert_eq!(exit_code(&st(Some(0), Some(15))), 143);
        assert_eq!(exit_code(&st(Some(3), None)), 3);
        assert_eq!(exit_code(&st(Some(0), None)), 0);
        assert_eq!(terminal_state(JobState::Running), None);
    }
}
