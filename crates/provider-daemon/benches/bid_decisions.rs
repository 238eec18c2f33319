//! Bid decisions per second: the pure decision (`ve_provider_daemon::decision::decide`:
//! denom, tenant tier/MFA, placement with auditor signatures, capacity, rates, cap) over
//! 1 024 varied orders against a provider with 16 attributes and 3 auditors' signatures.
//!
//! Two variants measured in the same run, so the printed ratio is a measurement:
//! - `full`: the decision the daemon makes;
//! - `no_placement`: the same decision without the placement matcher (baseline), which
//!   shows what attribute/auditor matching costs.
//!
//! Also printed: full decisions/s against the target of 10 000/s.
//! Run: `cargo bench -p ve-provider-daemon --bench bid_decisions`.

// A benchmark aborts loudly on a setup failure and measures wall-clock time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};
use ve_proto::virtengine::base::v1::{Attribute, PlacementRequirements, SignedBy};
use ve_provider_daemon::decision::{
    self, Input, OrderFacts, Policy, ProviderFacts, TenantFacts, Unit,
};
use ve_provider_daemon::pricing::Rates;
use ve_provider_daemon::resources::Resources;
use ve_types::Address;

const ORDERS: usize = 1024;
const TARGET_PER_SEC: f64 = 10_000.0;
const GIB: u64 = 1 << 30;

fn attr(k: &str, v: &str) -> Attribute {
    Attribute {
        key: k.into(),
        value: v.into(),
    }
}

struct Fixture {
    orders: Vec<OrderFacts>,
    provider: ProviderFacts,
    policy: Policy,
    rates: Rates,
    available: Resources,
}

fn fixture() -> Fixture {
    let auditors: Vec<Address> = (1..=3u8).map(|i| Address([i; 20])).collect();
    let mut attributes: Vec<Attribute> = (0..13)
        .map(|i| attr(&format!("capabilities/feature{i:02}"), "true"))
        .collect();
    attributes.extend([
        attr("region", "eu-west"),
        attr("tier", "community"),
        attr("host", "virtengine"),
    ]);
    attributes.sort_by(|a, b| a.key.cmp(&b.key));
    let audited = auditors.iter().map(|a| (*a, attributes.clone())).collect();
    let regions = ["eu-west", "eu-west", "eu-west", "us-east"];
    let orders = (0..ORDERS)
        .map(|i| OrderFacts {
            requirements: PlacementRequirements {
                signed_by: Some(SignedBy {
                    all_of: if i % 2 == 0 {
                        vec![auditors[0].to_string()]
                    } else {
                        vec![]
                    },
                    any_of: vec![auditors[1].to_string(), auditors[2].to_string()],
                }),
                attributes: vec![
                    attr("region", regions[i % regions.len()]),
                    attr("tier", "community"),
                    attr(&format!("capabilities/feature{:02}", i % 13), "true"),
                ],
            },
            units: (0..(1 + i % 3))
                .map(|u| Unit {
                    resources: Resources {
                        cpu_millicores: 250 * (1 + (i + u) as u64 % 8),
                        memory_bytes: GIB * (1 + (i as u64 % 4)),
                        storage_bytes: GIB * 10,
                        gpus: 0,
                    },
                    count: 1 + (i % 5) as u32,
                    price_denom: "uve".into(),
                    price_amount: 200 + (i as u128 % 7) * 100,
                })
                .collect(),
        })
        .collect();
    Fixture {
        orders,
        provider: ProviderFacts {
            attributes,
            audited,
        },
        policy: Policy {
            denom: "uve".into(),
            min_tenant_tier: 1,
            require_tenant_mfa: false,
        },
        rates: Rates::from_decimal("100", "50", "1", "1000", "1").unwrap(),
        available: Resources {
            cpu_millicores: 64_000,
            memory_bytes: 256 * GIB,
            storage_bytes: 4096 * GIB,
            gpus: 0,
        },
    }
}

/// One decision over order `i`; `placement: false` is the baseline.
fn decide(f: &Fixture, i: usize, placement: bool) -> bool {
    let input = Input {
        order: &f.orders[i % ORDERS],
        provider: &f.provider,
        tenant: TenantFacts {
            veid_tier: 2,
            mfa_enrolled: true,
        },
        available: f.available,
        policy: &f.policy,
    };
    let r = if placement {
        decision::decide(&input, &f.rates)
    } else {
        decision::screen_with(&input, false).and_then(|d| {
            let p = f.rates.price(&d.total).unwrap();
            decision::offer(&d, p)
        })
    };
    r.is_ok()
}

/// Per variant: (decisions, time) across all criterion samples.
static TOTALS: Mutex<[(u64, Duration); 2]> = Mutex::new([(0, Duration::ZERO); 2]);

fn bid_decisions(c: &mut Criterion) {
    let f = fixture();
    // Both outcomes occur: the benchmark measures real screening, not one fast path.
    let bids = (0..ORDERS).filter(|&i| decide(&f, i, true)).count();
    assert!(
        bids > 0 && bids < ORDERS,
        "{bids} of {ORDERS} orders bid on"
    );
    let mut group = c.benchmark_group("bid_decision");
    group.throughput(Throughput::Elements(ORDERS as u64));
    for (slot, (name, placement)) in [("full", true), ("no_placement", false)]
        .into_iter()
        .enumerate()
    {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    for i in 0..ORDERS {
                        black_box(decide(black_box(&f), i, placement));
                    }
                }
                let took = start.elapsed();
                let mut t = TOTALS.lock().unwrap();
                t[slot].0 += iters * ORDERS as u64;
                t[slot].1 += took;
                took
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bid_decisions);

fn rate((n, d): (u64, Duration)) -> f64 {
    if d.is_zero() {
        0.0
    } else {
        n as f64 / d.as_secs_f64()
    }
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let t = *TOTALS.lock().unwrap();
    let (full, base) = (rate(t[0]), rate(t[1]));
    if full == 0.0 {
        return; // e.g. `--list` or a filter that skipped the runs
    }
    println!();
    println!("bid decisions ({ORDERS} varied orders, 16 provider attributes, 3 auditors):");
    println!("  full (with placement matcher): {full:>12.0} decisions/s");
    println!("  baseline (no placement)      : {base:>12.0} decisions/s");
    println!("  full / baseline              : {:>12.3}", full / base);
    println!(
        "  full / target (10 000/s)     : {:>12.1}x {}",
        full / TARGET_PER_SEC,
        if full >= TARGET_PER_SEC {
            "(meets the target)"
        } else {
            "(BELOW the target)"
        }
    );
}
