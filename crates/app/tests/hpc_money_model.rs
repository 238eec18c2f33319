//! Property test: random job histories (completion with reported usage, chain-enforced
//! timeout, cancellation by tenant or provider, failure before start) against a
//! reference model of the money written from the billing rules in docs/hpc.md. After
//! settlement every party's balance matches the model and no uve is created or lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod hpc_common;
use hpc_common::*;
use proptest::prelude::{
    prop_assert_eq, prop_oneof, proptest, Just, ProptestConfig, Strategy, TestCaseError,
};
use ve_hpc::proto as hp;

#[derive(Clone, Debug)]
enum End {
    /// Runs `run` seconds, then reports COMPLETED with `used` seconds of usage.
    Complete {
        run: i64,
        used: u64,
    },
    Timeout,
    TenantCancel {
        run: i64,
    },
    ProviderCancel {
        run: i64,
    },
    FailBeforeStart,
}

fn end() -> impl Strategy<Value = End> {
    prop_oneof![
        (0i64..500, 0u64..700).prop_map(|(run, used)| End::Complete { run, used }),
        Just(End::Timeout),
        (0i64..500).prop_map(|run| End::TenantCancel { run }),
        (0i64..500).prop_map(|run| End::ProviderCancel { run }),
        Just(End::FailBeforeStart),
    ]
}

/// The reference bill for `secs` seconds on `nodes` × `cores` (memory is free here).
fn model_cost(nodes: u128, cores: u128, secs: u128) -> u128 {
    (nodes * secs * NODE_HOUR + nodes * cores * secs * CORE_HOUR) / 3_600
}

fn model_bill(nodes: u128, cores: u128, secs: u128, ran: bool) -> u128 {
    if !ran {
        return 0;
    }
    model_cost(nodes, cores, secs).clamp(MIN_CHARGE, MAX_PRICE)
}

#[derive(Default, Debug)]
struct Expected {
    tenant_paid: u128,
    platform: u128,
    contributor: u128,
    provider: u128,
}

impl Expected {
    fn add_bill(&mut self, b: u128) {
        self.tenant_paid += b;
        let platform = b * 500 / 10_000;
        let pool = b * 1_500 / 10_000;
        let contributor = pool * CONTRIBUTOR_CORES as u128 / 32;
        // The provider gets its own node's pool share and all rounding dust: the rest.
        self.platform += platform;
        self.contributor += contributor;
        self.provider += b - platform - contributor;
    }
}

fn run(jobs: Vec<(u32, u32, End)>) -> Result<(), TestCaseError> {
    // Heartbeat timeouts far away: every node contributes to every job.
    let mut h = hpc_with(1, |g| {
        g.hpc.params.node_heartbeat_timeout_seconds = 100_000_000;
        g.hpc.params.cluster_heartbeat_timeout_seconds = 100_000_000;
    });
    let (t0, p0, n0, pool0) = (
        h.bal(TENANT),
        h.bal(PROVIDER),
        h.bal(CONTRIBUTOR),
        h.c.balance(&pool()),
    );
    let (mut tenant_txs, mut provider_txs) = (0u128, 0u128);
    let mut want = Expected::default();
    for (nodes, cores, e) in jobs {
        let m = h.submit_msg(nodes, cores);
        let r = h.c.send(TENANT, vec![any(&m)], &[]);
        r.ok();
        tenant_txs += 1;
        let id = r.response::<hp::MsgSubmitJobResponse>(0).job_id;
        let (n, c) = (u128::from(nodes), u128::from(cores));
        if matches!(e, End::FailBeforeStart) {
            h.report(id, hp::JobState::Failed).ok();
            provider_txs += 1;
            continue;
        }
        h.start(id);
        provider_txs += 2;
        let started = h.job(id).job.unwrap().started_at;
        let bill = match e {
            End::Complete { run, used } => {
                h.c.node.advance_time(run);
                let mut done = h.status_msg(id, hp::JobState::Completed);
                let u = u64::from(nodes);
                done.usage = Some(hp::UsageMetrics {
                    wall_clock_seconds: used,
                    node_seconds: u * used,
                    cpu_core_seconds: u * u64::from(cores) * used,
                    nodes_used: nodes,
                    ..Default::default()
                });
                h.c.send(PROVIDER, vec![any(&done)], &[]).ok();
                provider_txs += 1;
                // Reported usage beyond the time limit is capped at it.
                model_bill(n, c, u128::from(used.min(MAX_RUNTIME)), true)
            }
            End::Timeout => {
                h.after(MAX_RUNTIME as i64);
                model_bill(n, c, u128::from(MAX_RUNTIME), true)
            }
            End::TenantCancel { run } | End::ProviderCancel { run } => {
                h.c.node.advance_time(run);
                let by = if matches!(e, End::TenantCancel { .. }) {
                    TENANT
                } else {
                    PROVIDER
                };
                let m = hp::MsgCancelJob {
                    requester: h.c.users[by].s(),
                    job_id: id,
                    reason: String::new(),
                };
                h.c.send(by, vec![any(&m)], &[]).ok();
                if by == TENANT {
                    tenant_txs += 1;
                } else {
                    provider_txs += 1;
                }
                let ended = h.job(id).job.unwrap().completed_at;
                let secs = u128::try_from(ended - started)
                    .unwrap()
                    .min(u128::from(MAX_RUNTIME));
                model_bill(n, c, secs, by == TENANT)
            }
            End::FailBeforeStart => unreachable!(),
        };
        prop_assert_eq!(h.billed(id), bill, "job {}", id);
        want.add_bill(bill);
    }
    h.after(SETTLEMENT_DELAY + 1);
    prop_assert_eq!(t0 - h.bal(TENANT), want.tenant_paid + tenant_txs * FEE);
    prop_assert_eq!(h.bal(PROVIDER) + provider_txs * FEE - p0, want.provider);
    prop_assert_eq!(h.bal(CONTRIBUTOR) - n0, want.contributor);
    prop_assert_eq!(h.c.balance(&pool()) - pool0, want.platform);
    prop_assert_eq!(h.c.balance(&escrow()), 0);
    prop_assert_eq!(h.c.balance(&hpc_module()), 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn balances_follow_the_reference_model_and_no_uve_is_created_or_lost(
        jobs in proptest::collection::vec((1u32..=2, 1u32..=4, end()), 1..5),
    ) {
        run(jobs)?;
    }
}
