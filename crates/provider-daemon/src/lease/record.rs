//! The daemon's record of one lease's workload (table `leases`, key `owner/dseq/gseq/oseq`).
//!
//! The record is written *before* the daemon acts on the back end, so after a crash the
//! next round finds the intent and repeats the (idempotent) step. What the workload
//! should be doing comes from the order record's stage, which only committed chain
//! events move (`Leased` → run, `Paused` → suspend, `Closed` → tear down).

use serde::{Deserialize, Serialize};
use ve_backend::{Endpoint, Usage};

use crate::api::LeasePhase;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// The manifest's canonical JSON, checked against the deployment's hash.
    pub manifest: String,
    /// The manifest group this lease runs (the order's group name on chain).
    pub group: String,
    pub phase: LeasePhase,
    pub endpoints: Vec<Endpoint>,
    /// Why the workload failed, or what blocks it.
    pub message: Option<String>,
    /// Last usage record confirmed on chain (0: none yet).
    pub usage_seq: u64,
    /// Unix seconds of the last usage record sent.
    pub usage_sent_at: u64,
    /// Usage measured at teardown, until its final record is on chain.
    pub final_usage: Option<Usage>,
}

impl LeaseRecord {
    pub fn new(manifest: String, group: String) -> Self {
        Self {
            manifest,
            group,
            phase: LeasePhase::Provisioning,
            endpoints: Vec::new(),
            message: None,
            usage_seq: 0,
            usage_sent_at: 0,
            final_usage: None,
        }
    }

    /// Torn down and its final usage recorded: nothing left to do.
    pub fn is_done(&self) -> bool {
        self.phase == LeasePhase::Closed && self.final_usage.is_none()
    }
}
