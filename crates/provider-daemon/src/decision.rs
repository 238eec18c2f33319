//! The bid decision: a pure function of the order, the provider's (audited) attributes,
//! the tenant's identity facts, the free capacity and the policy. No I/O and no clock,
//! so it is cheap (the benchmark in `benches/bid_decisions.rs`) and property-tested.
//!
//! Order of checks (the first failing one is the skip reason): denom, tenant VEID tier,
//! tenant MFA, placement (attributes and `signed_by` auditors, the chain's own rule from
//! `ve_audit::matching`), capacity, then price against the group's cap.

use serde::{Deserialize, Serialize};
use ve_proto::virtengine::base::v1::{Attribute, PlacementRequirements};
use ve_types::Address;

use crate::pricing::Rates;
use crate::resources::Resources;

/// One resource unit of the order's group: `count` × `resources`, at most `price` each
/// per block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub resources: Resources,
    pub count: u32,
    pub price_denom: String,
    pub price_amount: u128,
}

/// What the chain says about an open order (its group spec).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderFacts {
    pub requirements: PlacementRequirements,
    pub units: Vec<Unit>,
}

/// The provider as the chain sees it: its attributes and the attributes auditors signed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProviderFacts {
    pub attributes: Vec<Attribute>,
    pub audited: Vec<(Address, Vec<Attribute>)>,
}

/// The tenant's identity as the chain sees it. Only fetched when the policy needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TenantFacts {
    /// VEID tier: 0 unverified, 1 basic, 2 standard, 3 premium.
    pub veid_tier: u8,
    /// At least one active MFA factor enrolled.
    pub mfa_enrolled: bool,
}

/// The provider's rules for whom it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The denom the provider is paid in; orders priced in another denom are skipped.
    pub denom: String,
    pub min_tenant_tier: u8,
    pub require_tenant_mfa: bool,
}

/// Why an order gets no bid. `label()` is the Prometheus `reason` label: stable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Skip {
    #[error("the order is priced in another denom")]
    Denom,
    #[error("the tenant's VEID tier is below the provider's minimum")]
    TenantTier,
    #[error("the tenant has no MFA factor enrolled")]
    TenantMfa,
    #[error("the provider does not satisfy the placement requirements")]
    Placement,
    #[error("not enough free capacity")]
    Capacity,
    #[error("our price is above the group's cap")]
    PriceAboveCap,
    #[error("the order's group has no resources or its quantities overflow")]
    InvalidOrder,
    #[error("the pricing script failed: {0}")]
    PricingScript(String),
    #[error("the pricing script exceeded its time limit")]
    PricingTimeout,
    #[error("the order is no longer open")]
    OrderNotOpen,
    #[error("the chain refused the bid: {0}")]
    Rejected(String),
}

impl Skip {
    pub fn label(&self) -> &'static str {
        match self {
            Skip::Denom => "denom",
            Skip::TenantTier => "tenant_tier",
            Skip::TenantMfa => "tenant_mfa",
            Skip::Placement => "placement",
            Skip::Capacity => "capacity",
            Skip::PriceAboveCap => "price_above_cap",
            Skip::InvalidOrder => "invalid_order",
            Skip::PricingScript(_) => "pricing_script",
            Skip::PricingTimeout => "pricing_timeout",
            Skip::OrderNotOpen => "order_not_open",
            Skip::Rejected(_) => "rejected",
        }
    }
}

/// What a screened order needs: the resources to reserve and the most it may cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demand {
    pub total: Resources,
    /// Σ price × count per block, in the policy's denom.
    pub cap: u128,
}

/// A bid to place: price per block (policy denom) and the resources it reserves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub price: u128,
    pub reserve: Resources,
}

/// Everything [`screen`] looks at.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub order: &'a OrderFacts,
    pub provider: &'a ProviderFacts,
    pub tenant: TenantFacts,
    pub available: Resources,
    pub policy: &'a Policy,
}

/// Screens an order without pricing it: the checks every pricing strategy shares.
pub fn screen(input: &Input<'_>) -> Result<Demand, Skip> {
    screen_with(input, true)
}

/// [`screen`] with the placement matcher optionally off: the benchmark's baseline, so
/// the matcher's share of the decision cost is measured, not guessed.
pub fn screen_with(input: &Input<'_>, match_placement: bool) -> Result<Demand, Skip> {
    let Input {
        order,
        provider,
        tenant,
        available,
        policy,
    } = *input;
    if order.units.is_empty() {
        return Err(Skip::InvalidOrder);
    }
    if order.units.iter().any(|u| u.price_denom != policy.denom) {
        return Err(Skip::Denom);
    }
    if tenant.veid_tier < policy.min_tenant_tier {
        return Err(Skip::TenantTier);
    }
    if policy.require_tenant_mfa && !tenant.mfa_enrolled {
        return Err(Skip::TenantMfa);
    }
    if match_placement
        && !ve_audit::matching::satisfies(
            &order.requirements,
            &provider.attributes,
            &provider.audited,
        )
    {
        return Err(Skip::Placement);
    }
    let mut total = Resources::default();
    let mut cap: u128 = 0;
    for u in &order.units {
        if u.count == 0 {
            return Err(Skip::InvalidOrder);
        }
        total = u
            .resources
            .checked_mul(u64::from(u.count))
            .and_then(|r| total.checked_add(&r))
            .ok_or(Skip::InvalidOrder)?;
        cap = u
            .price_amount
            .checked_mul(u128::from(u.count))
            .and_then(|p| cap.checked_add(p))
            .ok_or(Skip::InvalidOrder)?;
    }
    if !total.fits_in(&available) {
        return Err(Skip::Capacity);
    }
    Ok(Demand { total, cap })
}

/// Turns a priced demand into an offer, or refuses a price above the cap.
pub fn offer(demand: &Demand, price: u128) -> Result<Offer, Skip> {
    if price > demand.cap {
        return Err(Skip::PriceAboveCap);
    }
    Ok(Offer {
        price,
        reserve: demand.total,
    })
}

/// The whole decision with per-resource rates: screen, price, cap.
pub fn decide(input: &Input<'_>, rates: &Rates) -> Result<Offer, Skip> {
    let demand = screen(input)?;
    let price = rates.price(&demand.total).ok_or(Skip::InvalidOrder)?;
    offer(&demand, price)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ve_proto::virtengine::base::v1::SignedBy;

    const GIB: u64 = 1 << 30;

    fn attr(k: &str, v: &str) -> Attribute {
        Attribute {
            key: k.into(),
            value: v.into(),
        }
    }

    fn unit(cpu: u64, mem_gib: u64, count: u32, price: u128) -> Unit {
        Unit {
            resources: Resources {
                cpu_millicores: cpu,
                memory_bytes: mem_gib * GIB,
                storage_bytes: GIB,
                gpus: 0,
            },
            count,
            price_denom: "uve".into(),
            price_amount: price,
        }
    }

    fn policy() -> Policy {
        Policy {
            denom: "uve".into(),
            min_tenant_tier: 0,
            require_tenant_mfa: false,
        }
    }

    fn big() -> Resources {
        Resources {
            cpu_millicores: 64_000,
            memory_bytes: 256 * GIB,
            storage_bytes: 4096 * GIB,
            gpus: 0,
        }
    }

    fn rates() -> Rates {
        Rates::from_decimal("100", "50", "1", "0", "1").unwrap()
    }

    fn order_in(region: &str) -> OrderFacts {
        OrderFacts {
            requirements: PlacementRequirements {
                signed_by: None,
                attributes: vec![attr("region", region)],
            },
            units: vec![unit(500, 1, 2, 1000)],
        }
    }

    fn provider_in(region: &str) -> ProviderFacts {
        ProviderFacts {
            attributes: vec![attr("region", region)],
            audited: vec![],
        }
    }

    #[test]
    fn matching_order_gets_a_bid_within_the_cap_reserving_the_group_total() {
        let (o, p, pol) = (order_in("eu-west"), provider_in("eu-west"), policy());
        let input = Input {
            order: &o,
            provider: &p,
            tenant: TenantFacts::default(),
            available: big(),
            policy: &pol,
        };
        let offer = decide(&input, &rates()).unwrap();
        assert_eq!(offer.reserve.cpu_millicores, 1000);
        assert_eq!(offer.reserve.memory_bytes, 2 * GIB);
        // 1 core × 100 + 2 GiB × 50 + 2 GiB storage × 1 = 202 per block; cap 2000
        assert_eq!(offer.price, 202);
    }

    #[test]
    fn order_for_another_region_is_skipped_for_placement() {
        let (o, p, pol) = (order_in("us-east"), provider_in("eu-west"), policy());
        let input = Input {
            order: &o,
            provider: &p,
            tenant: TenantFacts::default(),
            available: big(),
            policy: &pol,
        };
        assert_eq!(decide(&input, &rates()), Err(Skip::Placement));
    }

    #[test]
    fn signed_by_requires_the_auditor_signature() {
        let auditor = Address([7u8; 20]);
        let mut o = order_in("eu-west");
        o.requirements.signed_by = Some(SignedBy {
            all_of: vec![auditor.to_string()],
            any_of: vec![],
        });
        let mut p = provider_in("eu-west");
        let pol = policy();
        let run = |p: &ProviderFacts| {
            decide(
                &Input {
                    order: &o,
                    provider: p,
                    tenant: TenantFacts::default(),
                    available: big(),
                    policy: &pol,
                },
                &rates(),
            )
        };
        assert_eq!(run(&p), Err(Skip::Placement));
        p.audited.push((auditor, vec![attr("region", "eu-west")]));
        assert!(run(&p).is_ok());
    }

    #[test]
    fn tenant_below_the_tier_or_without_mfa_is_skipped() {
        let (o, p) = (order_in("eu-west"), provider_in("eu-west"));
        let pol = Policy {
            min_tenant_tier: 2,
            require_tenant_mfa: true,
            ..policy()
        };
        let with = |tenant| {
            decide(
                &Input {
                    order: &o,
                    provider: &p,
                    tenant,
                    available: big(),
                    policy: &pol,
                },
                &rates(),
            )
        };
        let low = TenantFacts {
            veid_tier: 1,
            mfa_enrolled: true,
        };
        let no_mfa = TenantFacts {
            veid_tier: 3,
            mfa_enrolled: false,
        };
        let ok = TenantFacts {
            veid_tier: 2,
            mfa_enrolled: true,
        };
        assert_eq!(with(low), Err(Skip::TenantTier));
        assert_eq!(with(no_mfa), Err(Skip::TenantMfa));
        assert!(with(ok).is_ok());
    }

    #[test]
    fn price_above_cap_and_other_denoms_are_skipped() {
        let (mut o, p, pol) = (order_in("eu-west"), provider_in("eu-west"), policy());
        o.units[0].price_amount = 10; // cap 20 < 202
        let input = Input {
            order: &o,
            provider: &p,
            tenant: TenantFacts::default(),
            available: big(),
            policy: &pol,
        };
        assert_eq!(decide(&input, &rates()), Err(Skip::PriceAboveCap));
        let mut other = o.clone();
        other.units[0].price_denom = "uatom".into();
        let input = Input {
            order: &other,
            ..input
        };
        assert_eq!(decide(&input, &rates()), Err(Skip::Denom));
    }

    proptest! {
        /// A bid never reserves more than is free and never asks more than the cap;
        /// a capacity skip happens exactly when the group total does not fit.
        #[test]
        fn offers_fit_capacity_and_cap(
            units in proptest::collection::vec((1u64..8_000, 1u64..64, 1u32..10, 0u128..100_000), 1..4),
            free_cpu in 0u64..100_000,
            free_mem_gib in 0u64..512,
        ) {
            let o = OrderFacts {
                requirements: PlacementRequirements::default(),
                units: units.iter().map(|&(c, m, n, pr)| unit(c, m, n, pr)).collect(),
            };
            let p = ProviderFacts::default();
            let pol = policy();
            let available = Resources {
                cpu_millicores: free_cpu,
                memory_bytes: free_mem_gib * GIB,
                storage_bytes: 4096 * GIB,
                gpus: 0,
            };
            let input = Input { order: &o, provider: &p, tenant: TenantFacts::default(), available, policy: &pol };
            let cap: u128 = units.iter().map(|&(_, _, n, pr)| pr * u128::from(n)).sum();
            let need_cpu: u64 = units.iter().map(|&(c, _, n, _)| c * u64::from(n)).sum();
            let need_mem: u64 = units.iter().map(|&(_, m, n, _)| m * GIB * u64::from(n)).sum();
            let fits = need_cpu <= free_cpu && need_mem <= free_mem_gib * GIB;
            match decide(&input, &rates()) {
                Ok(offer) => {
                    prop_assert!(fits);
                    prop_assert!(offer.price <= cap);
                    prop_assert!(offer.reserve.fits_in(&available));
                    prop_assert_eq!(offer.reserve.cpu_millicores, need_cpu);
                }
                Err(Skip::Capacity) => prop_assert!(!fits),
                Err(Skip::PriceAboveCap) => prop_assert!(fits),
                Err(other) => prop_assert!(false, "unexpected skip {other:?}"),
            }
        }
    }
}
