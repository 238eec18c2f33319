//! The scheduling decision, as a pure function of the candidates (docs/hpc.md
//! "Scheduling"). Scores are fixed point ×10^6, integers only:
//!
//! - latency score = (max_latency − min(latency, max_latency)) · 10^6 / max_latency
//! - capacity score = available_nodes · 10^6 / total_nodes
//! - combined = (latency_weight · latency + capacity_weight · capacity) / 10^4
//!
//! Candidates are sorted by combined score (descending), ties by cluster id (ascending).
//! A candidate is eligible when it is usable (active, right GPU type…) and has enough
//! available nodes. With proximity clustering on, the first eligible candidate within
//! max_latency_ms wins; otherwise the first eligible one is a *fallback* (recorded with
//! its reason). With no eligible single cluster, the primary cluster's proximity group
//! is tried as one virtual supercomputer: its usable members, in the given order, are
//! taken until their available nodes cover the job.

use crate::params::BPS;
use crate::proto::CandidateScore;

pub const SCALE: u64 = 1_000_000;

/// One cluster considered for a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub cluster_id: u64,
    pub region: String,
    pub avg_latency_ms: u32,
    pub available_nodes: u32,
    pub total_nodes: u32,
    /// Why it cannot host the job regardless of capacity (inactive, GPU type…).
    pub unusable: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weights {
    pub latency_bps: u32,
    pub capacity_bps: u32,
    pub max_latency_ms: u32,
    pub proximity: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub selected: Vec<u64>,
    pub candidates: Vec<CandidateScore>,
    pub reason: String,
    pub is_fallback: bool,
    pub fallback_reason: String,
    pub virtual_supercomputer: bool,
}

pub fn latency_score(latency_ms: u32, max_latency_ms: u32) -> u64 {
    if max_latency_ms == 0 {
        return if latency_ms == 0 { SCALE } else { 0 };
    }
    let over = u64::from(max_latency_ms.saturating_sub(latency_ms.min(max_latency_ms)));
    over.saturating_mul(SCALE) / u64::from(max_latency_ms)
}

pub fn capacity_score(available: u32, total: u32) -> u64 {
    if total == 0 {
        return 0;
    }
    u64::from(available.min(total)).saturating_mul(SCALE) / u64::from(total)
}

fn score(c: &Candidate, w: &Weights, nodes: u32) -> CandidateScore {
    let lat = latency_score(c.avg_latency_ms, w.max_latency_ms);
    let cap = capacity_score(c.available_nodes, c.total_nodes);
    // Each product is at most 10^4 · 10^6: no overflow in u64.
    let combined = (u64::from(w.latency_bps).saturating_mul(lat)
        + u64::from(w.capacity_bps).saturating_mul(cap))
        / u64::from(BPS);
    let reason = match &c.unusable {
        Some(r) => r.clone(),
        None if c.available_nodes < nodes => {
            format!("{} nodes available, {nodes} requested", c.available_nodes)
        }
        None => String::new(),
    };
    CandidateScore {
        cluster_id: c.cluster_id,
        region: c.region.clone(),
        avg_latency_ms: c.avg_latency_ms,
        available_nodes: c.available_nodes,
        latency_score: lat,
        capacity_score: cap,
        combined_score: combined,
        eligible: reason.is_empty(),
        ineligibility_reason: reason,
    }
}

fn ranked(cands: &[Candidate], w: &Weights, nodes: u32) -> Vec<CandidateScore> {
    let mut scored: Vec<CandidateScore> = cands.iter().map(|c| score(c, w, nodes)).collect();
    scored.sort_by(|a, b| {
        b.combined_score
            .cmp(&a.combined_score)
            .then(a.cluster_id.cmp(&b.cluster_id))
    });
    scored
}

/// Picks one cluster for a job of `nodes` nodes. `Err` says why none fits.
pub fn decide(cands: &[Candidate], w: &Weights, nodes: u32) -> Result<Outcome, String> {
    let scored = ranked(cands, w, nodes);
    let mut out = Outcome {
        candidates: scored.clone(),
        ..Outcome::default()
    };
    let near = scored
        .iter()
        .find(|s| s.eligible && (!w.proximity || s.avg_latency_ms <= w.max_latency_ms));
    if let Some(s) = near {
        out.selected = vec![s.cluster_id];
        out.reason = format!(
            "highest combined score {} among eligible clusters",
            s.combined_score
        );
        return Ok(out);
    }
    if let Some(s) = scored.iter().find(|s| s.eligible) {
        out.selected = vec![s.cluster_id];
        out.reason = format!("best eligible cluster, score {}", s.combined_score);
        out.is_fallback = true;
        out.fallback_reason = format!(
            "no eligible cluster within {} ms; cluster {} has {} ms",
            w.max_latency_ms, s.cluster_id, s.avg_latency_ms
        );
        return Ok(out);
    }
    Err(match scored.first() {
        Some(s) => format!("cluster {}: {}", s.cluster_id, s.ineligibility_reason),
        None => "no candidate cluster".into(),
    })
}

/// Picks a proximity group as one virtual supercomputer for a job of `nodes` nodes:
/// `group` in preference order (the offering's cluster first); its usable members are
/// taken in that order until their available nodes cover the job. Ids not among `cands`
/// are ignored. Every candidate is scored for the record.
pub fn decide_group(
    cands: &[Candidate],
    w: &Weights,
    nodes: u32,
    group: &[u64],
) -> Result<Outcome, String> {
    let mut out = Outcome {
        candidates: ranked(cands, w, nodes),
        ..Outcome::default()
    };
    let mut have = 0u32;
    for id in group {
        let Some(c) = cands.iter().find(|c| c.cluster_id == *id) else {
            continue;
        };
        if c.unusable.is_some() || c.available_nodes == 0 {
            continue;
        }
        out.selected.push(c.cluster_id);
        have = have.saturating_add(c.available_nodes);
        if have >= nodes {
            out.virtual_supercomputer = out.selected.len() > 1;
            out.reason = format!(
                "no single cluster fits {nodes} nodes; proximity group {:?} provides {have}",
                out.selected
            );
            return Ok(out);
        }
    }
    Err(format!(
        "{nodes} nodes requested; the proximity group {group:?} has {have} usable nodes"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: u64, lat: u32, avail: u32, total: u32) -> Candidate {
        Candidate {
            cluster_id: id,
            region: "eu".into(),
            avg_latency_ms: lat,
            available_nodes: avail,
            total_nodes: total,
            unusable: None,
        }
    }

    const W: Weights = Weights {
        latency_bps: 6_000,
        capacity_bps: 4_000,
        max_latency_ms: 50,
        proximity: true,
    };

    #[test]
    fn weights_trade_latency_against_capacity() {
        // 1: 10 ms, half free → 0.6·0.8 + 0.4·0.5 = 0.68; 2: 40 ms, all free → 0.12 + 0.4 = 0.52.
        let o = decide(&[c(1, 10, 5, 10), c(2, 40, 10, 10)], &W, 2).unwrap();
        assert_eq!(o.selected, vec![1]);
        assert_eq!(o.candidates[0].combined_score, 680_000);
        assert_eq!(o.candidates[1].combined_score, 520_000);
        assert!(!o.is_fallback);
    }

    #[test]
    fn equal_scores_break_ties_by_cluster_id() {
        let o = decide(&[c(7, 10, 5, 10), c(3, 10, 5, 10)], &W, 1).unwrap();
        assert_eq!(o.selected, vec![3]);
    }

    #[test]
    fn a_far_cluster_is_chosen_only_as_a_recorded_fallback() {
        let o = decide(&[c(1, 80, 5, 10)], &W, 2).unwrap();
        assert_eq!(o.selected, vec![1]);
        assert!(o.is_fallback);
        assert!(o.fallback_reason.contains("50 ms"));
    }

    #[test]
    fn a_job_larger_than_any_cluster_runs_on_the_proximity_group() {
        let cands = [c(1, 5, 4, 4), c(2, 5, 3, 4), c(3, 5, 4, 4)];
        assert!(decide(&cands, &W, 7).is_err());
        let o = decide_group(&cands, &W, 7, &[2, 1, 3]).unwrap();
        assert!(o.virtual_supercomputer);
        assert_eq!(o.selected, vec![2, 1]);
        assert_eq!(o.candidates.len(), 3, "every candidate is scored");
        assert!(decide_group(&cands, &W, 12, &[2, 1, 3]).is_err());
    }

    #[test]
    fn a_group_is_used_even_when_a_larger_peer_alone_could_fit() {
        // The group is the offering's cluster plus its peers in preference order.
        let cands = [c(1, 5, 4, 4), c(2, 5, 8, 8)];
        let o = decide_group(&cands, &W, 6, &[1, 2]).unwrap();
        assert_eq!(o.selected, vec![1, 2]);
    }

    #[test]
    fn unusable_clusters_are_never_selected() {
        let mut x = c(1, 1, 10, 10);
        x.unusable = Some("cluster is offline".into());
        let o = decide(&[x, c(2, 30, 2, 10)], &W, 2).unwrap();
        assert_eq!(o.selected, vec![2]);
        assert_eq!(
            o.candidates
                .iter()
                .find(|s| s.cluster_id == 1)
                .unwrap()
                .ineligibility_reason,
            "cluster is offline"
        );
    }
}
