//! Proximity clustering: small clusters close to each other act as one virtual
//! supercomputer for jobs that need more nodes than any one of them has.
//!
//! Heuristic (deterministic, integers only):
//! 1. Two clusters are *linked* when they are in the same region and their measured
//!    round-trip latency is at most `max_latency_ms`. A latency counts only if measured:
//!    if both sides measured, the larger value is used (the pessimistic direction); if
//!    one side measured, that value; if neither, the clusters are not linked.
//! 2. Clusters are visited in (region, datacenter, cluster id) order, so clusters that
//!    share a datacenter are considered together first (locality before latency).
//! 3. First fit, complete linkage: a cluster joins the first existing group whose every
//!    member it is linked to; otherwise it starts a new group.
//!
//! Guarantees (property-tested): every cluster lands in exactly one group; every pair in
//! a group is linked (the group's diameter is within the threshold); no two groups could
//! be merged (between any two groups some pair is not linked); and the result does not
//! depend on the order the clusters are given in.

use std::collections::BTreeMap;

/// One cluster as the heuristic sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    pub id: u64,
    pub region: String,
    pub datacenter: String,
    /// Latency (ms) this cluster measured to other clusters, by cluster id.
    pub peers: BTreeMap<u64, u32>,
}

/// The latency used between `a` and `b`, if measured by either.
pub fn latency(a: &Site, b: &Site) -> Option<u32> {
    match (a.peers.get(&b.id), b.peers.get(&a.id)) {
        (Some(x), Some(y)) => Some((*x).max(*y)),
        (Some(x), None) | (None, Some(x)) => Some(*x),
        (None, None) => None,
    }
}

/// Whether `a` and `b` may share a group.
pub fn linked(a: &Site, b: &Site, max_latency_ms: u32) -> bool {
    a.region == b.region && latency(a, b).is_some_and(|l| l <= max_latency_ms)
}

/// Groups of cluster ids (each group sorted by id; groups in order of their first
/// visited member).
pub fn groups(sites: &[Site], max_latency_ms: u32) -> Vec<Vec<u64>> {
    let mut order: Vec<&Site> = sites.iter().collect();
    order.sort_by(|a, b| (&a.region, &a.datacenter, a.id).cmp(&(&b.region, &b.datacenter, b.id)));
    let mut out: Vec<Vec<&Site>> = Vec::new();
    for s in order {
        match out
            .iter_mut()
            .find(|g| g.iter().all(|m| linked(s, m, max_latency_ms)))
        {
            Some(g) => g.push(s),
            None => out.push(vec![s]),
        }
    }
    out.into_iter()
        .map(|g| {
            let mut ids: Vec<u64> = g.iter().map(|s| s.id).collect();
            ids.sort_unstable();
            ids
        })
        .collect()
}

/// The group that holds `id` (just `[id]` if `id` is not among `sites`).
pub fn group_of(sites: &[Site], max_latency_ms: u32, id: u64) -> Vec<u64> {
    groups(sites, max_latency_ms)
        .into_iter()
        .find(|g| g.contains(&id))
        .unwrap_or_else(|| vec![id])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn site(id: u64, region: &str, dc: &str, peers: &[(u64, u32)]) -> Site {
        Site {
            id,
            region: region.into(),
            datacenter: dc.into(),
            peers: peers.iter().copied().collect(),
        }
    }

    #[test]
    fn close_clusters_in_one_region_form_one_group_and_far_ones_stay_apart() {
        let sites = vec![
            site(1, "eu", "fra1", &[(2, 5), (3, 20)]),
            site(2, "eu", "fra1", &[(1, 4), (3, 30)]),
            site(3, "eu", "ams1", &[(1, 20), (2, 30)]),
            site(4, "eu", "lis1", &[(1, 120)]),
            site(5, "us", "nyc1", &[(1, 1)]),
        ];
        let g = groups(&sites, 50);
        assert!(g.contains(&vec![1, 2, 3]), "{g:?}");
        assert!(g.contains(&vec![4]));
        assert!(g.contains(&vec![5]), "another region never joins");
        assert_eq!(group_of(&sites, 50, 2), vec![1, 2, 3]);
    }

    #[test]
    fn unmeasured_pairs_are_not_linked() {
        let sites = vec![site(1, "eu", "a", &[]), site(2, "eu", "a", &[])];
        assert_eq!(groups(&sites, 50), vec![vec![1], vec![2]]);
    }

    /// A synthetic topology: `n` clusters in up to 3 regions and 3 datacenters; latency
    /// between i and j drawn per pair (possibly unmeasured), per direction.
    fn topology() -> impl Strategy<Value = Vec<Site>> {
        (1usize..14).prop_flat_map(|n| {
            (
                proptest::collection::vec((0u8..3, 0u8..3), n),
                proptest::collection::vec(proptest::option::of(0u32..120), n * n),
            )
                .prop_map(move |(loc, lat)| {
                    (0..n)
                        .map(|i| {
                            let peers = (0..n)
                                .filter(|j| *j != i)
                                .filter_map(|j| lat[i * n + j].map(|l| (j as u64 + 1, l)))
                                .collect();
                            Site {
                                id: i as u64 + 1,
                                region: format!("r{}", loc[i].0),
                                datacenter: format!("d{}", loc[i].1),
                                peers,
                            }
                        })
                        .collect()
                })
        })
    }

    proptest! {
        #[test]
        fn groups_partition_the_clusters_with_linked_members_and_cannot_merge(
            sites in topology(), max in 1u32..100,
        ) {
            let g = groups(&sites, max);
            let by_id: BTreeMap<u64, &Site> = sites.iter().map(|s| (s.id, s)).collect();
            let mut all: Vec<u64> = g.iter().flatten().copied().collect();
            all.sort_unstable();
            let mut want: Vec<u64> = sites.iter().map(|s| s.id).collect();
            want.sort_unstable();
            prop_assert_eq!(all, want, "every cluster exactly once");
            for grp in &g {
                for a in grp {
                    for b in grp {
                        if a != b {
                            prop_assert!(linked(by_id[a], by_id[b], max));
                        }
                    }
                }
            }
            for (i, x) in g.iter().enumerate() {
                for y in g.iter().skip(i + 1) {
                    let mergeable = x.iter().all(|a| y.iter().all(|b| linked(by_id[a], by_id[b], max)));
                    prop_assert!(!mergeable, "groups {:?} and {:?} could merge", x, y);
                }
            }
        }

        #[test]
        fn grouping_does_not_depend_on_input_order(sites in topology(), max in 1u32..100) {
            let mut rev = sites.clone();
            rev.reverse();
            let mut a = groups(&sites, max);
            let mut b = groups(&rev, max);
            a.sort();
            b.sort();
            prop_assert_eq!(a, b);
        }
    }
}
