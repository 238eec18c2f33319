//! Lease usage records: the provider's back end measures a lease's workload and the
//! provider reports the cumulative figures (`MsgRecordLeaseUsage`) at intervals and once
//! more, `final`, after teardown. The chain keeps every record as verified evidence; the
//! lease is still charged per block at its price (escrow).
//!
//! A record is accepted only if it is plausible for what was leased, deterministically:
//! - counters (`cpu_milli_seconds`, `memory_byte_seconds`, `gpu_seconds`, `wall_seconds`)
//!   never go backwards; `storage_bytes` is a level and may;
//! - `wall_seconds` ≤ block time − the lease's creation block time + [`WALL_SLACK_SECONDS`];
//! - `cpu_milli_seconds` ≤ leased millicores × (`wall_seconds` + 1) (1000 millicores busy
//!   for a second are 1000 CPU milliseconds), `memory_byte_seconds` ≤ leased memory bytes ×
//!   (`wall_seconds` + 1), `gpu_seconds` ≤ leased GPUs × (`wall_seconds` + 1). The extra
//!   second is the back end's rounding: wall time is reported in whole seconds (floored),
//!   so a workload 0.9 s old that used CPU reports `wall_seconds` 0.
//!
//! "Leased" is the bid's resource offer when it has one (what the provider allocated),
//! else the order's group spec, every unit times its `count`. Products are u128 and
//! saturate: a bound beyond u128 bounds no u64 value.

use crate::proto::{Bid, Lease, LeaseUsage, Order};
use crate::types::BidId;
use crate::MarketError;
use ve_deployment::proto::Resources;

/// Seconds a reported wall time may run ahead of the chain's block time: the back end's
/// clock, its measurement delay and block time drift.
pub const WALL_SLACK_SECONDS: u64 = 120;

/// Records kept per lease, the most recent ones (older ones are deleted as new ones come,
/// so a long lease cannot grow state without bound; the summary keeps the totals). A
/// `LeaseUsage` query returns them all.
pub const RECORDS_KEPT: u64 = 100;

/// A lease's resources, summed over its units (each times its count).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allocation {
    pub millicores: u128,
    pub memory_bytes: u128,
    pub gpus: u128,
}

impl Allocation {
    fn add(mut self, r: Option<&Resources>, count: u32) -> Self {
        let Some(r) = r else { return self };
        let n = u128::from(count);
        let add = |sum: u128, per_unit: u128| sum.saturating_add(per_unit.saturating_mul(n));
        self.millicores = add(self.millicores, u128::from(r.cpu_millicores));
        self.memory_bytes = add(self.memory_bytes, u128::from(r.memory_bytes));
        self.gpus = add(self.gpus, u128::from(r.gpu_count));
        self
    }

    /// What the lease of `bid` on `order` holds: the bid's offer, else the group spec.
    pub fn of_lease(bid: &Bid, order: &Order) -> Self {
        if bid.resources_offer.is_empty() {
            let units = order.spec.as_ref().map(|s| s.resources.as_slice());
            units
                .unwrap_or_default()
                .iter()
                .fold(Self::default(), |a, u| a.add(u.resources.as_ref(), u.count))
        } else {
            bid.resources_offer
                .iter()
                .fold(Self::default(), |a, u| a.add(u.resources.as_ref(), u.count))
        }
    }
}

/// The longest wall time a record may claim at block time `now` (unix seconds).
pub fn max_wall_seconds(lease: &Lease, now: i64) -> u64 {
    let elapsed = now.saturating_sub(lease.created_at_time).max(0);
    u64::try_from(elapsed)
        .unwrap_or(0)
        .saturating_add(WALL_SLACK_SECONDS)
}

/// Checks `new` against the previous cumulative usage and the lease's bounds; returns the
/// record's delta (its `storage_bytes`: the new level).
pub fn check(
    lease: &BidId,
    prev: &LeaseUsage,
    new: &LeaseUsage,
    alloc: &Allocation,
    max_wall: u64,
) -> Result<LeaseUsage, MarketError> {
    let delta = |counter: &str, before: u64, now: u64| {
        now.checked_sub(before)
            .ok_or_else(|| MarketError::UsageDecreased {
                lease: lease.to_string(),
                counter: counter.to_string(),
                previous: before,
                value: now,
            })
    };
    let out = LeaseUsage {
        cpu_milli_seconds: delta(
            "cpu_milli_seconds",
            prev.cpu_milli_seconds,
            new.cpu_milli_seconds,
        )?,
        memory_byte_seconds: delta(
            "memory_byte_seconds",
            prev.memory_byte_seconds,
            new.memory_byte_seconds,
        )?,
        storage_bytes: new.storage_bytes,
        gpu_seconds: delta("gpu_seconds", prev.gpu_seconds, new.gpu_seconds)?,
        wall_seconds: delta("wall_seconds", prev.wall_seconds, new.wall_seconds)?,
    };
    let bound = |counter: &str, value: u64, max: u128, why: &str| {
        if u128::from(value) > max {
            return Err(MarketError::UsageImplausible {
                lease: lease.to_string(),
                counter: counter.to_string(),
                value,
                max: max.to_string(),
                why: why.to_string(),
            });
        }
        Ok(())
    };
    bound(
        "wall_seconds",
        new.wall_seconds,
        u128::from(max_wall),
        &format!("the block time since the lease was created plus {WALL_SLACK_SECONDS} s"),
    )?;
    // Whole seconds, floored by the back end: the workload may be up to 1 s older.
    let wall = u128::from(new.wall_seconds).saturating_add(1);
    bound(
        "cpu_milli_seconds",
        new.cpu_milli_seconds,
        alloc.millicores.saturating_mul(wall),
        "leased millicores × (wall_seconds + 1)",
    )?;
    bound(
        "memory_byte_seconds",
        new.memory_byte_seconds,
        alloc.memory_bytes.saturating_mul(wall),
        "leased memory bytes × (wall_seconds + 1)",
    )?;
    bound(
        "gpu_seconds",
        new.gpu_seconds,
        alloc.gpus.saturating_mul(wall),
        "leased GPUs × (wall_seconds + 1)",
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::proto::ResourceOffer;
    use ve_deployment::proto::{GroupSpec, ResourceUnit};

    fn res(millicores: u64, memory: u64, gpus: u32) -> Option<Resources> {
        Some(Resources {
            cpu_millicores: millicores,
            memory_bytes: memory,
            gpu_count: gpus,
            ..Default::default()
        })
    }

    fn lease_id() -> BidId {
        BidId::from_proto(Some(&crate::proto::BidId {
            owner: ve_types::Address::from_slice(&[1; 20]).unwrap().to_string(),
            dseq: 1,
            gseq: 1,
            oseq: 1,
            provider: ve_types::Address::from_slice(&[2; 20]).unwrap().to_string(),
        }))
        .unwrap()
    }

    #[test]
    fn allocation_counts_every_unit_times_its_count_and_prefers_the_bid_offer() {
        let order = Order {
            spec: Some(GroupSpec {
                resources: vec![
                    ResourceUnit {
                        resources: res(500, 100, 0),
                        count: 2,
                        price: None,
                    },
                    ResourceUnit {
                        resources: res(250, 10, 1),
                        count: 3,
                        price: None,
                    },
                ],
                ..Default::default()
            }),
            ..Default::default()
        };
        let spec_only = Allocation::of_lease(&Bid::default(), &order);
        assert_eq!(
            spec_only,
            Allocation {
                millicores: 1_750,
                memory_bytes: 230,
                gpus: 3
            }
        );
        let bid = Bid {
            resources_offer: vec![ResourceOffer {
                resources: res(4_000, 1 << 30, 2),
                count: 2,
            }],
            ..Default::default()
        };
        assert_eq!(
            Allocation::of_lease(&bid, &order),
            Allocation {
                millicores: 8_000,
                memory_bytes: 2 << 30,
                gpus: 4
            }
        );
    }

    #[test]
    fn wall_bound_is_elapsed_block_time_plus_slack_and_never_negative() {
        let lease = Lease {
            created_at_time: 1_000,
            ..Default::default()
        };
        assert_eq!(max_wall_seconds(&lease, 1_600), 720);
        assert_eq!(max_wall_seconds(&lease, 900), WALL_SLACK_SECONDS);
    }

    #[test]
    fn storage_is_a_level_and_may_shrink_but_counters_may_not() {
        let alloc = Allocation {
            millicores: 1_000,
            memory_bytes: 1_000,
            gpus: 0,
        };
        let prev = LeaseUsage {
            cpu_milli_seconds: 10,
            storage_bytes: 500,
            wall_seconds: 10,
            ..Default::default()
        };
        let new = LeaseUsage {
            cpu_milli_seconds: 30,
            storage_bytes: 100,
            wall_seconds: 20,
            ..Default::default()
        };
        let d = check(&lease_id(), &prev, &new, &alloc, 1_000).unwrap();
        assert_eq!(
            (d.cpu_milli_seconds, d.storage_bytes, d.wall_seconds),
            (20, 100, 10)
        );
        let back = LeaseUsage {
            wall_seconds: 9,
            ..new
        };
        let err = check(&lease_id(), &prev, &back, &alloc, 1_000).unwrap_err();
        assert!(
            matches!(err, MarketError::UsageDecreased { ref counter, .. } if counter == "wall_seconds")
        );
    }

    #[test]
    fn huge_allocations_saturate_instead_of_overflowing() {
        let alloc = Allocation {
            millicores: u128::MAX,
            memory_bytes: u128::MAX,
            gpus: u128::MAX,
        };
        let max = LeaseUsage {
            cpu_milli_seconds: u64::MAX,
            memory_byte_seconds: u64::MAX,
            storage_bytes: u64::MAX,
            gpu_seconds: u64::MAX,
            wall_seconds: u64::MAX,
        };
        assert!(check(&lease_id(), &LeaseUsage::default(), &max, &alloc, u64::MAX).is_ok());
    }
}
