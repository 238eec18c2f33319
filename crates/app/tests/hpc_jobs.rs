//! HPC jobs through the app: the max price locked in escrow, status reports by the
//! provider, the chain-enforced time limit, cancellation from both sides, settlement
//! split and disputes. Money is checked to the uve (fees counted separately).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod hpc_common;
use hpc_common::*;
use ve_hpc::proto as hp;

/// 1 node × 2 cores for `s` seconds: 10/s node + 2/s cores.
fn cost(s: u128) -> u128 {
    s * (NODE_HOUR / 3_600) + 2 * s * (CORE_HOUR / 3_600)
}

#[test]
fn job_locks_max_price_in_escrow_and_records_a_scheduling_decision() {
    let mut h = hpc();
    let (t0, e0) = (h.bal(TENANT), h.c.balance(&escrow()));
    let id = h.submit();
    assert_eq!(h.bal(TENANT), t0 - MAX_PRICE - FEE);
    assert_eq!(h.c.balance(&escrow()), e0 + MAX_PRICE);
    assert_eq!(
        h.c.balance(&hpc_module()),
        0,
        "the hpc account only forwards"
    );
    let j = h.job(id);
    let job = j.job.unwrap();
    assert_eq!(job.state, hp::JobState::Pending as i32);
    assert_eq!(job.cluster_id, h.cluster);
    let d = j.decision.unwrap();
    assert_eq!(d.selected_cluster_ids, vec![h.cluster]);
    assert!(!d.is_fallback && !d.virtual_supercomputer);
    assert!(d.candidates[0].eligible);
    assert!(j.accounting.is_none());
}

#[test]
fn completed_job_bills_reported_usage_refunds_the_rest_and_settles_after_the_delay() {
    let mut h = hpc();
    let id = h.submit();
    h.start(id);
    let job = h.job(id).job.unwrap();
    assert_eq!(job.state, hp::JobState::Running as i32);
    assert_eq!(job.slurm_job_id, "4242");
    let t0 = h.bal(TENANT);
    complete(&mut h, id, 300);
    let billed = cost(300);
    assert_eq!(h.billed(id), billed);
    assert_eq!(
        h.bal(TENANT),
        t0 + MAX_PRICE - billed,
        "unused escrow back at once"
    );
    assert_eq!(h.c.balance(&escrow()), billed, "the bill stays locked");
    let a = h.accounting(id);
    assert_eq!(a.status, hp::SettlementStatus::Pending as i32);

    let (p0, n0, pool0) = (h.bal(PROVIDER), h.bal(CONTRIBUTOR), h.c.balance(&pool()));
    h.after(SETTLEMENT_DELAY);
    let a = h.accounting(id);
    assert_eq!(a.status, hp::SettlementStatus::Settled as i32);
    // 5% platform, 15% node pool by cores (8 : 24), the provider the rest.
    let platform = billed * 500 / 10_000;
    let pool_share = billed * 1_500 / 10_000;
    let contributor = pool_share * 8 / 32;
    let provider_node = pool_share * 24 / 32;
    let provider = billed - platform - contributor - provider_node;
    assert_eq!(h.c.balance(&pool()) - pool0, platform);
    assert_eq!(h.bal(CONTRIBUTOR) - n0, contributor);
    assert_eq!(h.bal(PROVIDER) - p0, provider + provider_node);
    let paid: u128 = a
        .payouts
        .iter()
        .map(|p| p.amount.parse::<u128>().unwrap())
        .sum();
    assert_eq!(paid, billed, "settlement split sums to the billed amount");
    assert_eq!(h.c.balance(&escrow()), 0);
    assert_eq!(h.c.balance(&hpc_module()), 0);
}

#[test]
fn job_exceeding_its_time_limit_ends_as_timeout_and_is_billed_for_the_time_limit() {
    let mut h = hpc();
    let id = h.submit();
    h.start(id);
    let t0 = h.bal(TENANT);
    h.after(MAX_RUNTIME as i64 - 30);
    assert_eq!(h.job(id).job.unwrap().state, hp::JobState::Running as i32);
    h.after(30);
    let j = h.job(id).job.unwrap();
    assert_eq!(j.state, hp::JobState::Timeout as i32);
    let billed = cost(u128::from(MAX_RUNTIME));
    assert_eq!(h.billed(id), billed);
    assert_eq!(h.bal(TENANT), t0 + MAX_PRICE - billed);
    // Too late for the provider to report completion.
    h.report(id, hp::JobState::Completed).refused("hpc", 9);
}

#[test]
fn tenant_cancelling_a_running_job_pays_the_elapsed_time_and_gets_the_rest_back() {
    let mut h = hpc();
    let id = h.submit();
    h.start(id);
    let started = h.job(id).job.unwrap().started_at;
    let t0 = h.bal(TENANT);
    h.c.node.advance_time(95);
    let m = hp::MsgCancelJob {
        requester: h.c.users[TENANT].s(),
        job_id: id,
        reason: "no longer needed".into(),
    };
    let r = h.c.send(TENANT, vec![any(&m)], &[]);
    r.ok();
    assert!(r.has_event("hpc_job_cancelled"));
    let j = h.job(id).job.unwrap();
    assert_eq!(j.state, hp::JobState::Cancelled as i32);
    let elapsed = (j.completed_at - started) as u128;
    let billed = cost(elapsed).max(MIN_CHARGE);
    assert_eq!(h.billed(id), billed);
    assert_eq!(h.bal(TENANT), t0 - FEE + MAX_PRICE - billed);
}

#[test]
fn provider_cancelling_refunds_the_whole_escrow_at_once() {
    let mut h = hpc();
    let id = h.submit();
    h.start(id);
    let t0 = h.bal(TENANT);
    h.c.node.advance_time(200);
    let m = hp::MsgCancelJob {
        requester: h.c.users[PROVIDER].s(),
        job_id: id,
        reason: "node failure".into(),
    };
    h.c.send(PROVIDER, vec![any(&m)], &[]).ok();
    assert_eq!(h.bal(TENANT), t0 + MAX_PRICE);
    let a = h.accounting(id);
    assert_eq!(
        (a.billed.as_str(), a.status),
        ("0", hp::SettlementStatus::Settled as i32)
    );
    assert_eq!(h.c.balance(&escrow()), 0);
}

#[test]
fn cancelling_a_job_that_never_started_refunds_everything_and_only_parties_may_cancel() {
    let mut h = hpc();
    let id = h.submit();
    let m = hp::MsgCancelJob {
        requester: h.c.users[STRANGER].s(),
        job_id: id,
        reason: String::new(),
    };
    h.c.try_send(STRANGER, vec![any(&m)], &[])
        .refused("hpc", 10);
    let t0 = h.bal(TENANT);
    let m = hp::MsgCancelJob {
        requester: h.c.users[TENANT].s(),
        ..m
    };
    h.c.send(TENANT, vec![any(&m)], &[]).ok();
    assert_eq!(h.bal(TENANT), t0 - FEE + MAX_PRICE);
    h.c.try_send(TENANT, vec![any(&m)], &[]).refused("hpc", 9);
}

#[test]
fn status_reports_follow_the_state_machine_and_come_only_from_the_provider() {
    let mut h = hpc();
    let id = h.submit();
    h.report(id, hp::JobState::Running).refused("hpc", 9);
    h.report(id, hp::JobState::Completed).refused("hpc", 9);
    let mut m = h.status_msg(id, hp::JobState::Queued);
    m.provider = h.c.users[TENANT].s();
    h.c.try_send(TENANT, vec![any(&m)], &[]).refused("hpc", 10);
    let mut m = h.status_msg(id, hp::JobState::Queued);
    m.slurm_job_id = String::new();
    h.c.try_send(PROVIDER, vec![any(&m)], &[]).refused("hpc", 2);
    h.start(id);
    // Interim usage only grows.
    let usage = |s: u64| hp::MsgReportJobUsage {
        provider: h.c.users[PROVIDER].s(),
        job_id: id,
        usage: Some(hp::UsageMetrics {
            node_seconds: s,
            ..Default::default()
        }),
    };
    let (u1, u2) = (usage(100), usage(50));
    h.c.send(PROVIDER, vec![any(&u1)], &[]).ok();
    h.c.try_send(PROVIDER, vec![any(&u2)], &[])
        .refused("hpc", 19);
    let mut failed = h.status_msg(id, hp::JobState::Failed);
    failed.exit_code = 137;
    h.c.send(PROVIDER, vec![any(&failed)], &[]).ok();
    let j = h.job(id).job.unwrap();
    assert_eq!((j.state, j.exit_code), (hp::JobState::Failed as i32, 137));
    // Billed for the last interim usage (100 node-seconds = 1000), the minimum charge.
    assert_eq!(h.billed(id), 1_000.max(MIN_CHARGE));
}

#[test]
fn tier_gated_offering_refuses_a_low_tier_tenant() {
    let mut h = hpc_with(3, |_| {});
    h.c.set_score(TENANT, 60);
    let m = h.submit_msg(1, 2);
    h.c.try_send(TENANT, vec![any(&m)], &[])
        .refused("identity", 28);
}

#[test]
fn dispute_outside_the_window_is_refused() {
    let mut h = hpc();
    let id = h.submit();
    h.start(id);
    h.report(id, hp::JobState::Completed).ok();
    let deadline = h.accounting(id).dispute_deadline;
    // Jump past the window (settlement waits for a block at its time, so still pending).
    h.c.node.advance_time(deadline - h.c.node.time());
    let m = hp::MsgFlagDispute {
        disputer: h.c.users[TENANT].s(),
        job_id: id,
        reason: "too expensive".into(),
        evidence: String::new(),
    };
    h.c.try_send(TENANT, vec![any(&m)], &[]).refused("hpc", 15);
    let s = h.c.users[STRANGER].s();
    let m = hp::MsgFlagDispute { disputer: s, ..m };
    h.c.try_send(STRANGER, vec![any(&m)], &[])
        .refused("hpc", 10);
}

/// Completes a running job with `s` seconds of 1-node, 2-core usage.
fn complete(h: &mut Hpc, id: u64, s: u64) {
    let mut done = h.status_msg(id, hp::JobState::Completed);
    done.usage = Some(hp::UsageMetrics {
        wall_clock_seconds: s,
        node_seconds: s,
        cpu_core_seconds: 2 * s,
        nodes_used: 1,
        ..Default::default()
    });
    h.c.send(PROVIDER, vec![any(&done)], &[]).ok();
}

#[test]
fn dispute_holds_settlement_until_a_moderator_resolves_it() {
    let mut h = hpc();
    let id = h.submit();
    h.start(id);
    complete(&mut h, id, 500);
    let billed = h.billed(id);
    assert_eq!(billed, cost(500));
    let m = hp::MsgFlagDispute {
        disputer: h.c.users[TENANT].s(),
        job_id: id,
        reason: "job produced no output".into(),
        evidence: "ipfs://evidence".into(),
    };
    let r = h.c.send(TENANT, vec![any(&m)], &[]);
    r.ok();
    let dispute_id = r.response::<hp::MsgFlagDisputeResponse>(0).dispute_id;
    h.c.try_send(TENANT, vec![any(&m)], &[]).refused("hpc", 15);
    h.after(SETTLEMENT_DELAY + 10);
    assert_eq!(
        h.accounting(id).status,
        hp::SettlementStatus::Disputed as i32,
        "held"
    );

    let resolve = |u: usize| hp::MsgResolveDispute {
        resolver: h.c.users[u].s(),
        dispute_id,
        uphold: true,
        adjusted_billed: "2000".into(),
        resolution: "half refunded".into(),
    };
    let (r_stranger, r_mod) = (resolve(STRANGER), resolve(MODERATOR));
    let r = h.c.try_send(STRANGER, vec![any(&r_stranger)], &[]);
    assert_ne!(r.code, 0, "only a moderator resolves");
    let t0 = h.bal(TENANT);
    h.c.send(MODERATOR, vec![any(&r_mod)], &[]).ok();
    let a = h.accounting(id);
    assert_eq!(a.status, hp::SettlementStatus::Settled as i32);
    assert_eq!(
        h.bal(TENANT),
        t0 + billed - 2_000,
        "the reduction goes back"
    );
    let paid: u128 = a
        .payouts
        .iter()
        .filter(|p| p.recipient_type != hp::RecipientType::CustomerRefund as i32)
        .map(|p| p.amount.parse::<u128>().unwrap())
        .sum();
    assert_eq!(paid, 2_000);
    assert_eq!(h.c.balance(&escrow()), 0);
}

#[test]
fn provider_reporting_a_timeout_early_bills_only_the_time_the_job_ran() {
    let mut h = hpc();
    let id = h.submit();
    h.start(id);
    let started = h.job(id).job.unwrap().started_at;
    h.c.node.advance_time(100);
    h.report(id, hp::JobState::Timeout).ok();
    let j = h.job(id).job.unwrap();
    assert_eq!(j.state, hp::JobState::Timeout as i32);
    let ran = (j.completed_at - started) as u128;
    assert!(ran < u128::from(MAX_RUNTIME));
    assert_eq!(h.billed(id), cost(ran));
}
