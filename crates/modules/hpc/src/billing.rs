//! The money rules, as pure integer functions (docs/hpc.md "Billing").
//!
//! - Cost = ⌊(node_s·node_hour + core_s·core_hour + gpu_s·gpu_hour + mem_GB_s·mem_hour +
//!   storage_GB_s·storage_hour) / 3600⌋ + ⌊network_bytes·network_gb / 10^9⌋, then
//!   times the queue's multiplier ⌊·m/10000⌋. Every step rounds down (in the tenant's favour),
//!   and the hourly terms are summed in unit-seconds before the one division, so a job is
//!   not under-billed by per-term rounding.
//! - Bill = 0 for a job that never started; otherwise max(cost, minimum_charge), capped at
//!   the job's max_price (what the tenant locked in escrow).
//! - Split of a bill: platform ⌊b·p/10000⌋, node pool ⌊b·n/10000⌋ shared by contribution
//!   weight (each ⌊pool·w/Σw⌋), and the provider gets the rest, so the parts always sum to
//!   the bill exactly; rounding dust goes to the provider.
//!
//! All arithmetic is checked: an overflow is an error, never a wrap.

use crate::params::BPS;
use crate::proto::{JobResources, Pricing, UsageMetrics};
use crate::HpcError;

const SECONDS_PER_HOUR: u128 = 3_600;
const BYTES_PER_GB: u128 = 1_000_000_000;

fn overflow(what: &str) -> HpcError {
    HpcError::Overflow(what.to_string())
}

/// Offering prices as integers (per node-hour, core-hour, GPU-hour, GB-hour, network GB).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prices {
    pub denom: String,
    pub node_hour: u128,
    pub cpu_core_hour: u128,
    pub gpu_hour: u128,
    pub memory_gb_hour: u128,
    pub storage_gb_hour: u128,
    pub network_gb: u128,
    pub minimum_charge: u128,
}

fn amount(s: &str, what: &str) -> Result<u128, HpcError> {
    if s.is_empty() {
        return Ok(0);
    }
    ve_types::parse_amount(s).map_err(|e| HpcError::InvalidPrice(format!("{what}: {e}")))
}

impl Prices {
    pub fn from_proto(p: &Pricing) -> Result<Self, HpcError> {
        ve_types::validate_denom(&p.denom)
            .map_err(|e| HpcError::InvalidPrice(format!("denom: {e}")))?;
        Ok(Self {
            denom: p.denom.clone(),
            node_hour: amount(&p.node_hour, "node_hour")?,
            cpu_core_hour: amount(&p.cpu_core_hour, "cpu_core_hour")?,
            gpu_hour: amount(&p.gpu_hour, "gpu_hour")?,
            memory_gb_hour: amount(&p.memory_gb_hour, "memory_gb_hour")?,
            storage_gb_hour: amount(&p.storage_gb_hour, "storage_gb_hour")?,
            network_gb: amount(&p.network_gb, "network_gb")?,
            minimum_charge: amount(&p.minimum_charge, "minimum_charge")?,
        })
    }
}

/// ⌊a·b/d⌋ for b ≤ d < 2^64, without overflowing for any a: a = q·d + r, so
/// a·b/d = q·b + r·b/d with r·b < d² < 2^128.
pub fn mul_div_floor(a: u128, b: u128, d: u128) -> Result<u128, HpcError> {
    if d == 0 {
        return Err(overflow("a division by zero"));
    }
    let (q, r) = (a / d, a % d);
    let whole = q.checked_mul(b).ok_or_else(|| overflow("a share"))?;
    let part = r.checked_mul(b).ok_or_else(|| overflow("a share"))? / d;
    whole.checked_add(part).ok_or_else(|| overflow("a share"))
}

fn term(qty: u64, price: u128, acc: u128) -> Result<u128, HpcError> {
    u128::from(qty)
        .checked_mul(price)
        .and_then(|t| acc.checked_add(t))
        .ok_or_else(|| overflow("the job cost"))
}

/// What `usage` costs at `prices`, times the queue multiplier (basis points).
pub fn usage_cost(u: &UsageMetrics, p: &Prices, multiplier_bps: u32) -> Result<u128, HpcError> {
    let mut unit_seconds = 0u128;
    unit_seconds = term(u.node_seconds, p.node_hour, unit_seconds)?;
    unit_seconds = term(u.cpu_core_seconds, p.cpu_core_hour, unit_seconds)?;
    unit_seconds = term(u.gpu_seconds, p.gpu_hour, unit_seconds)?;
    unit_seconds = term(u.memory_gb_seconds, p.memory_gb_hour, unit_seconds)?;
    unit_seconds = term(u.storage_gb_seconds, p.storage_gb_hour, unit_seconds)?;
    let network = u128::from(u.network_bytes)
        .checked_mul(p.network_gb)
        .ok_or_else(|| overflow("the network cost"))?
        / BYTES_PER_GB;
    let base = (unit_seconds / SECONDS_PER_HOUR)
        .checked_add(network)
        .ok_or_else(|| overflow("the job cost"))?;
    let m = u128::from(multiplier_bps);
    let whole = (base / u128::from(BPS))
        .checked_mul(m)
        .ok_or_else(|| overflow("the queue multiplier"))?;
    let part = (base % u128::from(BPS))
        .checked_mul(m)
        .ok_or_else(|| overflow("the queue multiplier"))?
        / u128::from(BPS);
    whole
        .checked_add(part)
        .ok_or_else(|| overflow("the job cost"))
}

/// The bill: nothing for a job that never ran, else at least the minimum charge, never
/// more than the escrowed max price.
pub fn bill(cost: u128, minimum_charge: u128, max_price: u128, ran: bool) -> u128 {
    if !ran {
        return 0;
    }
    cost.max(minimum_charge).min(max_price)
}

/// Usage of the requested resources over `seconds` (what a timed-out job is billed for,
/// and the ceiling on what a provider may report).
pub fn usage_for(r: &JobResources, seconds: u64) -> Result<UsageMetrics, HpcError> {
    let nodes = u64::from(r.nodes);
    let per_node = |x: u64| {
        nodes
            .checked_mul(x)
            .and_then(|v| v.checked_mul(seconds))
            .ok_or_else(|| overflow("the job's resource-seconds"))
    };
    Ok(UsageMetrics {
        wall_clock_seconds: seconds,
        node_seconds: per_node(1)?,
        cpu_core_seconds: per_node(u64::from(r.cpu_cores_per_node))?,
        memory_gb_seconds: per_node(r.memory_gb_per_node)?,
        gpu_seconds: per_node(u64::from(r.gpus_per_node))?,
        storage_gb_seconds: r
            .storage_gb
            .checked_mul(seconds)
            .ok_or_else(|| overflow("the job's storage-seconds"))?,
        network_bytes: 0,
        nodes_used: r.nodes,
    })
}

/// Field-wise minimum of a report and the ceiling (network is not capped: the job did
/// not declare it).
pub fn cap_usage(u: &UsageMetrics, cap: &UsageMetrics) -> UsageMetrics {
    UsageMetrics {
        wall_clock_seconds: u.wall_clock_seconds.min(cap.wall_clock_seconds),
        node_seconds: u.node_seconds.min(cap.node_seconds),
        cpu_core_seconds: u.cpu_core_seconds.min(cap.cpu_core_seconds),
        memory_gb_seconds: u.memory_gb_seconds.min(cap.memory_gb_seconds),
        gpu_seconds: u.gpu_seconds.min(cap.gpu_seconds),
        storage_gb_seconds: u.storage_gb_seconds.min(cap.storage_gb_seconds),
        network_bytes: u.network_bytes,
        nodes_used: u.nodes_used.min(cap.nodes_used),
    }
}

/// The first metric of `new` below `old`, if any (cumulative usage may only grow).
pub fn decreased(old: &UsageMetrics, new: &UsageMetrics) -> Option<&'static str> {
    let pairs = [
        (
            "wall_clock_seconds",
            old.wall_clock_seconds,
            new.wall_clock_seconds,
        ),
        ("node_seconds", old.node_seconds, new.node_seconds),
        (
            "cpu_core_seconds",
            old.cpu_core_seconds,
            new.cpu_core_seconds,
        ),
        (
            "memory_gb_seconds",
            old.memory_gb_seconds,
            new.memory_gb_seconds,
        ),
        ("gpu_seconds", old.gpu_seconds, new.gpu_seconds),
        (
            "storage_gb_seconds",
            old.storage_gb_seconds,
            new.storage_gb_seconds,
        ),
        ("network_bytes", old.network_bytes, new.network_bytes),
    ];
    pairs
        .into_iter()
        .find(|(_, o, n)| n < o)
        .map(|(name, _, _)| name)
}

/// How a bill divides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub platform: u128,
    pub provider: u128,
    /// One amount per weight, in the order given.
    pub nodes: Vec<u128>,
}

/// Splits `billed`: platform and node-pool shares by basis points, the pool by weight,
/// the provider the rest. With no (or zero) weights the pool goes to the provider.
pub fn split(
    billed: u128,
    platform_bps: u32,
    node_bps: u32,
    weights: &[u64],
) -> Result<Split, HpcError> {
    let d = u128::from(BPS);
    let platform = mul_div_floor(billed, u128::from(platform_bps.min(BPS)), d)?;
    let total_w: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    let mut nodes = Vec::with_capacity(weights.len());
    if total_w > 0 && total_w <= u128::from(u64::MAX) {
        let pool = mul_div_floor(billed, u128::from(node_bps.min(BPS)), d)?;
        for w in weights {
            nodes.push(mul_div_floor(pool, u128::from(*w), total_w)?);
        }
    } else {
        nodes.resize(weights.len(), 0);
    }
    let paid = nodes
        .iter()
        .try_fold(platform, |a, n| a.checked_add(*n))
        .ok_or_else(|| overflow("the split"))?;
    let provider = billed
        .checked_sub(paid)
        .ok_or_else(|| overflow("the provider share"))?;
    Ok(Split {
        platform,
        provider,
        nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn prices() -> Prices {
        Prices {
            denom: "uve".into(),
            node_hour: 50_000,
            cpu_core_hour: 10_000,
            gpu_hour: 500_000,
            memory_gb_hour: 1_000,
            storage_gb_hour: 50,
            network_gb: 100,
            minimum_charge: 1_000,
        }
    }

    #[test]
    fn one_node_hour_with_four_cores_and_eight_gb_costs_the_documented_sum() {
        let r = JobResources {
            nodes: 1,
            cpu_cores_per_node: 4,
            memory_gb_per_node: 8,
            ..Default::default()
        };
        let u = usage_for(&r, 3_600).unwrap();
        // 50 000 + 4·10 000 + 8·1 000
        assert_eq!(usage_cost(&u, &prices(), 10_000).unwrap(), 98_000);
        assert_eq!(usage_cost(&u, &prices(), 15_000).unwrap(), 147_000);
    }

    #[test]
    fn hourly_terms_are_summed_before_rounding() {
        // 1 core-second at 10 000/h is 2.77…; 1 800 such seconds are exactly 5 000.
        let u = UsageMetrics {
            cpu_core_seconds: 1_800,
            ..Default::default()
        };
        assert_eq!(usage_cost(&u, &prices(), 10_000).unwrap(), 5_000);
        let u = UsageMetrics {
            cpu_core_seconds: 1,
            ..Default::default()
        };
        assert_eq!(usage_cost(&u, &prices(), 10_000).unwrap(), 2);
    }

    #[test]
    fn bill_applies_minimum_and_cap_and_nothing_for_a_job_that_never_ran() {
        assert_eq!(bill(10, 1_000, 5_000, true), 1_000);
        assert_eq!(bill(9_000, 1_000, 5_000, true), 5_000);
        assert_eq!(bill(9_000, 1_000, 5_000, false), 0);
    }

    #[test]
    fn overflowing_usage_is_an_error_not_a_wrap() {
        let u = UsageMetrics {
            cpu_core_seconds: u64::MAX,
            ..Default::default()
        };
        let p = Prices {
            cpu_core_hour: u128::MAX / 2,
            ..prices()
        };
        assert!(usage_cost(&u, &p, 10_000).is_err());
    }

    proptest! {
        #[test]
        fn split_parts_sum_to_the_bill(
            billed in 0u128..=u128::from(u64::MAX) * 1_000,
            pbps in 0u32..=5_000,
            nbps in 0u32..=5_000,
            weights in proptest::collection::vec(0u64..1_000, 0..20),
        ) {
            let s = split(billed, pbps, nbps, &weights).unwrap();
            let sum = s.platform + s.provider + s.nodes.iter().sum::<u128>();
            prop_assert_eq!(sum, billed);
            prop_assert_eq!(s.platform, billed * u128::from(pbps) / 10_000);
            prop_assert_eq!(s.nodes.len(), weights.len());
        }

        #[test]
        fn mul_div_floor_matches_exact_arithmetic(a in any::<u64>(), b in 0u128..=10_000, d in 10_000u128..20_000) {
            prop_assert_eq!(mul_div_floor(u128::from(a), b, d).unwrap(), u128::from(a) * b / d);
        }
    }
}
