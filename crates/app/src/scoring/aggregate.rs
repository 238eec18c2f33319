//! Turning verified vote extensions into consensus scores: a pure, order-independent
//! function of (votes, total power, tolerance), so the proposer and every verifier derive
//! the same result.
//!
//! Per request: the reporting validators must hold more than 2/3 of the total power. The
//! consensus score is the power-weighted median (lowest score at which the cumulative
//! power reaches half of the reporting power, ties broken by address). A result agrees if
//! its score is within `tolerance` of the median and it ran the same model on the same
//! inputs as the median result; the request finalizes only if the agreeing validators
//! hold more than 2/3 of the total power. Everyone else is recorded as deviating.

use super::proto::{AggregatedScore, EnclaveScore};
use std::collections::BTreeMap;

/// One validator's verified extension.
#[derive(Clone, Debug, PartialEq)]
pub struct Vote {
    pub validator: [u8; 20],
    pub power: u64,
    pub scores: Vec<EnclaveScore>,
}

/// `part > 2/3 * total`, without overflow.
pub fn over_two_thirds(part: u64, total: u64) -> bool {
    u128::from(part) * 3 > u128::from(total) * 2
}

struct Entry<'a> {
    validator: [u8; 20],
    power: u64,
    score: &'a EnclaveScore,
}

/// The consensus results, in request id order.
pub fn aggregate(votes: &[Vote], total_power: u64, tolerance: u32) -> Vec<AggregatedScore> {
    let mut by_request: BTreeMap<&str, Vec<Entry<'_>>> = BTreeMap::new();
    for v in votes {
        for s in &v.scores {
            by_request.entry(&s.request_id).or_default().push(Entry {
                validator: v.validator,
                power: v.power,
                score: s,
            });
        }
    }
    let mut out = Vec::new();
    for (request_id, mut entries) in by_request {
        // One result per validator per request: a duplicate makes the validator's whole
        // contribution to this request void (extension::verify already refuses them).
        entries.sort_by_key(|e| (e.score.score, e.validator));
        let reporting: u64 = entries.iter().fold(0u64, |a, e| a.saturating_add(e.power));
        if !over_two_thirds(reporting, total_power) {
            continue;
        }
        // Power-weighted lower median: the first entry (in score order) at which the
        // cumulative power reaches half of the reporting power.
        let mut cumulative = 0u128;
        let Some(median) = entries.iter().find(|e| {
            cumulative += u128::from(e.power);
            cumulative * 2 >= u128::from(reporting)
        }) else {
            continue;
        };
        let agrees = |e: &Entry<'_>| {
            e.score.score.abs_diff(median.score.score) <= tolerance
                && e.score.model_version == median.score.model_version
                && e.score.input_hash == median.score.input_hash
        };
        let mut agreeing: Vec<[u8; 20]> = Vec::new();
        let mut deviating: Vec<[u8; 20]> = Vec::new();
        let mut agreeing_power = 0u64;
        for e in &entries {
            if agrees(e) {
                agreeing.push(e.validator);
                agreeing_power = agreeing_power.saturating_add(e.power);
            } else {
                deviating.push(e.validator);
            }
        }
        if !over_two_thirds(agreeing_power, total_power) {
            continue;
        }
        agreeing.sort();
        deviating.sort();
        out.push(AggregatedScore {
            request_id: request_id.to_string(),
            score: median.score.score,
            reason_codes: median.score.reason_codes.clone(),
            model_version: median.score.model_version.clone(),
            input_hash: median.score.input_hash.clone(),
            agreeing: agreeing.iter().map(|a| a.to_vec()).collect(),
            deviating: deviating.iter().map(|a| a.to_vec()).collect(),
            agreeing_power,
            total_power,
        });
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn score(request: &str, s: u32, model: &str) -> EnclaveScore {
        EnclaveScore {
            request_id: request.into(),
            score: s,
            model_version: model.into(),
            input_hash: vec![7; 32],
            ..EnclaveScore::default()
        }
    }

    fn vote(i: u8, power: u64, scores: Vec<EnclaveScore>) -> Vote {
        Vote {
            validator: [i; 20],
            power,
            scores,
        }
    }

    #[test]
    fn four_equal_validators_agreeing_within_tolerance_finalize_at_the_median() {
        let votes: Vec<Vote> = [80, 81, 79, 82]
            .iter()
            .enumerate()
            .map(|(i, s)| vote(i as u8, 10, vec![score("r", *s, "m")]))
            .collect();
        let r = aggregate(&votes, 40, 2);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].score, 80);
        assert_eq!(r[0].agreeing.len(), 4);
        assert!(r[0].deviating.is_empty());
    }

    #[test]
    fn a_deviant_enclave_is_flagged_and_the_rest_still_finalize() {
        let votes = vec![
            vote(1, 10, vec![score("r", 80, "m")]),
            vote(2, 10, vec![score("r", 80, "m")]),
            vote(3, 10, vec![score("r", 81, "m")]),
            vote(4, 10, vec![score("r", 5, "m")]),
        ];
        let r = aggregate(&votes, 40, 2);
        assert_eq!(r[0].score, 80);
        assert_eq!(r[0].deviating, vec![[4u8; 20].to_vec()]);
        assert_eq!(r[0].agreeing_power, 30);
    }

    #[test]
    fn one_of_four_validators_missing_still_finalizes_but_two_missing_do_not() {
        let three: Vec<Vote> = (0..3)
            .map(|i| vote(i, 10, vec![score("r", 70, "m")]))
            .collect();
        assert_eq!(aggregate(&three, 40, 2).len(), 1);
        assert!(aggregate(&three[..2], 40, 2).is_empty());
    }

    #[test]
    fn a_different_model_counts_as_deviation() {
        let votes = vec![
            vote(1, 10, vec![score("r", 80, "m")]),
            vote(2, 10, vec![score("r", 80, "m")]),
            vote(3, 10, vec![score("r", 80, "m")]),
            vote(4, 10, vec![score("r", 80, "other")]),
        ];
        let r = aggregate(&votes, 40, 2);
        assert_eq!(r[0].deviating, vec![[4u8; 20].to_vec()]);
    }

    #[test]
    fn a_split_without_a_two_thirds_agreement_leaves_the_request_pending() {
        let votes = vec![
            vote(1, 10, vec![score("r", 20, "m")]),
            vote(2, 10, vec![score("r", 20, "m")]),
            vote(3, 10, vec![score("r", 90, "m")]),
            vote(4, 10, vec![score("r", 90, "m")]),
        ];
        assert!(aggregate(&votes, 40, 2).is_empty());
    }

    /// Reference model: brute force over every candidate median.
    fn reference(points: &[(u8, u64, u32)], total: u64, tol: u32) -> Option<(u32, u64)> {
        let reporting: u64 = points.iter().map(|p| p.1).sum();
        if !over_two_thirds(reporting, total) {
            return None;
        }
        let mut sorted = points.to_vec();
        sorted.sort_by_key(|p| (p.2, [p.0; 20]));
        // weighted lower median: smallest score s with power(score <= s in order) >= half
        let mut acc = 0u64;
        let mut med = None;
        for p in &sorted {
            acc += p.1;
            if acc * 2 >= reporting {
                med = Some(p.2);
                break;
            }
        }
        let med = med?;
        let agree: u64 = points
            .iter()
            .filter(|p| p.2.abs_diff(med) <= tol)
            .map(|p| p.1)
            .sum();
        over_two_thirds(agree, total).then_some((med, agree))
    }

    proptest! {
        #[test]
        fn matches_the_reference_model_and_ignores_vote_order(
            points in proptest::collection::vec((1u64..100, 0u32..=100), 1..8),
            missing in 0u64..200,
            tol in 0u32..5,
            rot in 0usize..8,
        ) {
            let pts: Vec<(u8, u64, u32)> =
                points.iter().enumerate().map(|(i, (p, s))| (i as u8 + 1, *p, *s)).collect();
            let total: u64 = pts.iter().map(|p| p.1).sum::<u64>() + missing;
            let mut votes: Vec<Vote> =
                pts.iter().map(|(i, p, s)| vote(*i, *p, vec![score("r", *s, "m")])).collect();
            let got = aggregate(&votes, total, tol);
            let want = reference(&pts, total, tol);
            prop_assert_eq!(got.first().map(|r| (r.score, r.agreeing_power)), want);
            let len = votes.len();
            votes.rotate_left(rot % len);
            votes.reverse();
            prop_assert_eq!(aggregate(&votes, total, tol), got);
        }
    }
}
