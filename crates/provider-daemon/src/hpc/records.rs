//! The daemon's record of one chain job: where it is in SLURM and whether the chain
//! already ended it. Stages: `New` (seen on chain) → `Submitting` (sbatch about to run;
//! after a crash here the job is looked up by its unique name, never submitted blindly
//! again) → `Submitted(slurm id)` (the mapping is durable before QUEUED is reported) →
//! `Closed(reason)`.

use serde::{Deserialize, Serialize};

use super::events::HpcEvent;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobStage {
    New,
    Submitting,
    Submitted { slurm_job_id: u64 },
    Closed(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    pub stage: JobStage,
    /// The chain's cluster selection.
    pub clusters: Vec<u64>,
    pub seen_height: u64,
    /// A cancellation or ending was seen on chain: nothing more is reported; the SLURM
    /// job is cancelled if it still runs.
    pub ended_on_chain: bool,
    /// Rounds spent waiting for slurmdbd to finish an ended job's record.
    pub final_waits: u32,
    /// Terminal reports the chain refused (after a few, the final usage is left out).
    #[serde(default)]
    pub report_refusals: u32,
}

impl JobRecord {
    pub fn new(clusters: Vec<u64>, height: u64) -> Self {
        Self {
            stage: JobStage::New,
            clusters,
            seen_height: height,
            ended_on_chain: false,
            final_waits: 0,
            report_refusals: 0,
        }
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.stage, JobStage::Closed(_))
    }

    pub fn slurm_job_id(&self) -> Option<u64> {
        match self.stage {
            JobStage::Submitted { slurm_job_id } => Some(slurm_job_id),
            _ => None,
        }
    }

    pub fn close(&mut self, reason: impl Into<String>) {
        self.stage = JobStage::Closed(reason.into());
    }
}

/// The record after `event` at `height`; `None` stays `None` unless the event creates the
/// record (`hpc_job_submitted`). Idempotent.
pub fn apply(rec: Option<JobRecord>, event: &HpcEvent, height: u64) -> Option<JobRecord> {
    match (rec, event) {
        (None, HpcEvent::JobSubmitted { clusters, .. }) => {
            Some(JobRecord::new(clusters.clone(), height))
        }
        (None, _) => None,
        (Some(r), HpcEvent::JobSubmitted { .. }) => Some(r),
        (Some(mut r), HpcEvent::JobCancelled { .. } | HpcEvent::JobFinished { .. }) => {
            r.ended_on_chain = true;
            Some(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submission_creates_once_and_endings_only_mark_known_jobs() {
        let sub = HpcEvent::JobSubmitted {
            job_id: 1,
            clusters: vec![2],
        };
        let r = apply(None, &sub, 5).unwrap();
        assert_eq!(r.stage, JobStage::New);
        let mut submitted = r.clone();
        submitted.stage = JobStage::Submitted { slurm_job_id: 9 };
        assert_eq!(
            apply(Some(submitted.clone()), &sub, 6),
            Some(submitted.clone())
        );
        let ended = apply(Some(submitted), &HpcEvent::JobCancelled { job_id: 1 }, 7).unwrap();
        assert!(ended.ended_on_chain);
        assert_eq!(ended.slurm_job_id(), Some(9));
        assert_eq!(apply(None, &HpcEvent::JobFinished { job_id: 3 }, 7), None);
    }
}
