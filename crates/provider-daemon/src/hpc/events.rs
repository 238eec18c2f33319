//! The hpc events the daemon acts on, from committed `/block_results`.

use ve_client::rpc_types::Event;
use ve_hpc::events as ev;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HpcEvent {
    /// A job for our provider, scheduled on `clusters`.
    JobSubmitted { job_id: u64, clusters: Vec<u64> },
    /// The tenant or the provider cancelled the job on chain.
    JobCancelled { job_id: u64 },
    /// The job ended on chain (our report, a cancellation or the chain's time limit).
    JobFinished { job_id: u64 },
}

impl HpcEvent {
    pub fn job_id(&self) -> u64 {
        match self {
            HpcEvent::JobSubmitted { job_id, .. }
            | HpcEvent::JobCancelled { job_id }
            | HpcEvent::JobFinished { job_id } => *job_id,
        }
    }
}

/// `hpc_job_submitted` only when `provider` is ours; cancellations and endings carry no
/// provider, so they are kept and matched against our records (unknown jobs are ignored).
pub fn parse(e: &Event, provider: &str) -> Option<HpcEvent> {
    let job_id = || e.attr("job_id")?.parse::<u64>().ok();
    Some(match e.kind.as_str() {
        ev::JOB_SUBMITTED if e.attr("provider") == Some(provider) => HpcEvent::JobSubmitted {
            job_id: job_id()?,
            clusters: e
                .attr("clusters")?
                .split(',')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?,
        },
        ev::JOB_CANCELLED => HpcEvent::JobCancelled { job_id: job_id()? },
        ev::JOB_FINISHED => HpcEvent::JobFinished { job_id: job_id()? },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::tests::event;

    #[test]
    fn other_providers_jobs_are_ignored_and_cluster_lists_parsed() {
        let ours = event(
            "hpc_job_submitted",
            &[("job_id", "7"), ("provider", "ve1me"), ("clusters", "1,3")],
        );
        let theirs = event(
            "hpc_job_submitted",
            &[("job_id", "8"), ("provider", "ve1other"), ("clusters", "2")],
        );
        assert_eq!(
            parse(&ours, "ve1me"),
            Some(HpcEvent::JobSubmitted {
                job_id: 7,
                clusters: vec![1, 3]
            })
        );
        assert_eq!(parse(&theirs, "ve1me"), None);
        let cancelled = event("hpc_job_cancelled", &[("job_id", "8"), ("by", "ve1t")]);
        assert_eq!(
            parse(&cancelled, "ve1me"),
            Some(HpcEvent::JobCancelled { job_id: 8 })
        );
        let junk = event("hpc_job_finished", &[("job_id", "x")]);
        assert_eq!(parse(&junk, "ve1me"), None);
    }
}
