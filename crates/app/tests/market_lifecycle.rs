//! The marketplace through mock consensus: deployment → order → bids → lease → payment
//! per block → withdraw → close with refunds, and every way a lease ends. Every test
//! checks that no uve is created or lost (users + escrow + community pool + fees).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod market_common;
use common::*;
use market_common::*;
use ve_deployment::proto as dp;
use ve_market::proto as mp;

const RATE_A: u128 = 800;
const RATE_B: u128 = 900;

#[test]
fn tenant_leases_provider_is_paid_per_block_minus_take_and_close_refunds_the_rest() {
    let mut m = market(2, |_| {});
    let supply = m.total();
    let t = m.tenant.address;
    let (pa, pb) = (m.providers[0].address, m.providers[1].address);
    let t0 = m.bal(&t);

    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![group_spec("web", PRICE_CAP, "eu-west")],
        DEPOSIT,
    );
    ok(&mut m.node, tx);
    assert_eq!(m.bal(&t), t0 - DEPOSIT - MFEE);
    assert_eq!(m.bal(&escrow_addr()), DEPOSIT);
    let info = deployment(&m.node, &t, 1);
    assert_eq!(
        info.deployment.as_ref().unwrap().state,
        dp::DeploymentState::Active as i32
    );
    assert_eq!(info.groups[0].state, dp::GroupState::Open as i32);
    assert_eq!(info.escrow_account.unwrap().balance, DEPOSIT.to_string());
    assert_eq!(
        order(&m.node, &t, 1, 1, 1).state,
        mp::OrderState::Open as i32
    );

    // Two providers bid; each deposit moves into its own escrow account.
    let (a0, b0) = (m.bal(&pa), m.bal(&pb));
    let tx = create_bid(&mut m.providers[0], &t, 1, 1, RATE_A);
    ok(&mut m.node, tx);
    let tx = create_bid(&mut m.providers[1], &t, 1, 1, RATE_B);
    ok(&mut m.node, tx);
    assert_eq!(m.bal(&pa), a0 - BID_DEPOSIT - MFEE);
    assert_eq!(m.bal(&escrow_addr()), DEPOSIT + 2 * BID_DEPOSIT);

    // The tenant accepts A: B loses and gets its deposit back.
    let tx = create_lease(&mut m.tenant, bid_id(&t, 1, 1, 1, &pa));
    let out = m.node.execute_block(&[tx]).unwrap();
    assert_eq!(out.results().next().unwrap().0, 0);
    let lease_height = m.node.height();
    assert_eq!(m.bal(&pb), b0 - MFEE, "losing bid refunded");
    assert_eq!(
        bid(&m.node, bid_id(&t, 1, 1, 1, &pb)).state,
        mp::BidState::Lost as i32
    );
    assert_eq!(
        bid(&m.node, bid_id(&t, 1, 1, 1, &pa)).state,
        mp::BidState::Active as i32
    );
    assert_eq!(
        order(&m.node, &t, 1, 1, 1).state,
        mp::OrderState::Active as i32
    );
    let l = lease(&m.node, bid_id(&t, 1, 1, 1, &pa));
    assert_eq!(
        l.lease.as_ref().unwrap().state,
        mp::LeaseState::Active as i32
    );
    assert_eq!(m.total(), supply);

    // Ten blocks later the provider withdraws: 10 × 800 = 8000, 2% (160) to the pool.
    m.node.advance_to(lease_height + 9).unwrap();
    let a1 = m.bal(&pa);
    let tx = withdraw_lease(&mut m.providers[0], bid_id(&t, 1, 1, 1, &pa));
    ok(&mut m.node, tx);
    assert_eq!(m.node.height(), lease_height + 10);
    assert_eq!(m.bal(&pa), a1 + 10 * RATE_A - 160 - MFEE);
    assert_eq!(m.bal(&pool()), 160);
    let view = lease(&m.node, bid_id(&t, 1, 1, 1, &pa));
    assert_eq!(
        view.escrow_payment.unwrap().withdrawn,
        (10 * RATE_A).to_string()
    );

    // Five more blocks, then the tenant closes the deployment: the provider gets the last
    // 5 blocks (minus 2%) and its bid deposit; the tenant gets the rest of the deposit.
    m.node.advance_to(lease_height + 14).unwrap();
    let (t1, a2) = (m.bal(&t), m.bal(&pa));
    let tx = close_deployment(&mut m.tenant, 1);
    ok(&mut m.node, tx);
    let paid = 15 * RATE_A;
    let fee_total = 160 + (5 * RATE_A) * 2 / 100;
    assert_eq!(
        m.bal(&pa),
        a2 + 5 * RATE_A - (5 * RATE_A) * 2 / 100 + BID_DEPOSIT
    );
    assert_eq!(m.bal(&t), t1 + DEPOSIT - paid - MFEE);
    assert_eq!(m.bal(&pool()), fee_total);
    assert_eq!(m.bal(&escrow_addr()), 0);
    let info = deployment(&m.node, &t, 1);
    assert_eq!(
        info.deployment.unwrap().state,
        dp::DeploymentState::Closed as i32
    );
    assert_eq!(info.groups[0].state, dp::GroupState::Closed as i32);
    let l = lease(&m.node, bid_id(&t, 1, 1, 1, &pa)).lease.unwrap();
    assert_eq!(l.state, mp::LeaseState::Closed as i32);
    assert_eq!(l.reason, mp::LeaseClosedReason::Owner as i32);
    assert_eq!(
        order(&m.node, &t, 1, 1, 1).state,
        mp::OrderState::Closed as i32
    );
    assert_eq!(m.total(), supply, "uve created or lost");
}

#[test]
fn the_twenty_first_bid_is_refused_and_bids_above_the_cap_or_off_placement_too() {
    let mut m = market(21, |_| {});
    let t = m.tenant.address;
    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![group_spec("web", PRICE_CAP, "eu-west")],
        DEPOSIT,
    );
    ok(&mut m.node, tx);

    // Above the cap: market code 9, nothing escrowed.
    let tx = create_bid(&mut m.providers[0], &t, 1, 1, PRICE_CAP + 1);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (9, "market"));
    // Not a provider: code 13.
    let tx = create_bid(&mut m.stranger, &t, 1, 1, 10);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (13, "market"));
    // No such order: code 3.
    let tx = create_bid(&mut m.providers[0], &t, 9, 1, 10);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (3, "market"));

    let txs: Vec<Vec<u8>> = (0..20)
        .map(|i| create_bid(&mut m.providers[i], &t, 1, 1, 100 + i as u128))
        .collect();
    let out = m.node.execute_block(&txs).unwrap();
    assert!(out.results().all(|(c, _, _)| c == 0));
    assert_eq!(m.bal(&escrow_addr()), DEPOSIT + 20 * BID_DEPOSIT);
    let tx = create_bid(&mut m.providers[20], &t, 1, 1, 50);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (8, "market"));
    // The same provider cannot bid twice.
    let tx = create_bid(&mut m.providers[0], &t, 1, 1, 99);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (6, "market"));
    assert_eq!(
        bids(
            &m.node,
            mp::Filters {
                owner: t.to_string(),
                ..Default::default()
            }
        )
        .len(),
        20
    );
}

#[test]
fn providers_outside_the_placement_cannot_bid() {
    let mut m = market(1, |_| {});
    let t = m.tenant.address;
    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![group_spec("web", PRICE_CAP, "us-east")],
        DEPOSIT,
    );
    ok(&mut m.node, tx);
    let tx = create_bid(&mut m.providers[0], &t, 1, 1, 10);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (14, "market"));
}

#[test]
fn an_empty_escrow_pauses_the_lease_a_sponsor_top_up_resumes_it() {
    // 10 000 uve at 1 000 per block: dry after 10 blocks. Grace 20 blocks.
    let mut m = market(1, |g| {
        g.deployment.params.min_deposits = vec![ve_types::Coin::new("uve", 10_000)];
        g.escrow.params.grace_period_blocks = 20;
    });
    let supply = m.total();
    let t = m.tenant.address;
    let p = m.providers[0].address;
    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![group_spec("web", 1_000, "eu-west")],
        10_000,
    );
    ok(&mut m.node, tx);
    let tx = create_bid(&mut m.providers[0], &t, 1, 1, 1_000);
    ok(&mut m.node, tx);
    let tx = create_lease(&mut m.tenant, bid_id(&t, 1, 1, 1, &p));
    ok(&mut m.node, tx);

    let mut paused_events = 0;
    for _ in 0..12 {
        let out = m.node.execute_block(&[]).unwrap();
        paused_events += out
            .events
            .iter()
            .filter(|e| e.kind == "lease_paused")
            .count();
    }
    assert_eq!(paused_events, 1, "the provider daemon is told once");
    let l = lease(&m.node, bid_id(&t, 1, 1, 1, &p)).lease.unwrap();
    assert_eq!(l.state, mp::LeaseState::InsufficientFunds as i32);
    let info = deployment(&m.node, &t, 1);
    assert_eq!(
        info.groups[0].state,
        dp::GroupState::InsufficientFunds as i32
    );
    assert_eq!(
        info.deployment.unwrap().state,
        dp::DeploymentState::Active as i32
    );
    // Paused leases still list, filtered by state.
    let listed = leases(
        &m.node,
        mp::Filters {
            provider: p.to_string(),
            state: "insufficient_funds".into(),
            ..Default::default()
        },
    );
    assert_eq!(listed.len(), 1);

    // A third party (sponsor) tops up: the debt is paid, the lease runs again.
    let tx = escrow_deposit(&mut m.sponsor, &t, 1, 50_000);
    let out = m.node.execute_block(&[tx]).unwrap();
    assert_eq!(out.results().next().unwrap().0, 0);
    let l = lease(&m.node, bid_id(&t, 1, 1, 1, &p)).lease.unwrap();
    assert_eq!(l.state, mp::LeaseState::Active as i32);
    assert_eq!(
        deployment(&m.node, &t, 1).groups[0].state,
        dp::GroupState::Open as i32
    );

    // Close: the sponsor's unspent deposit goes back to the sponsor, not the tenant.
    m.node.advance_to(m.node.height() + 4).unwrap();
    let s0 = m.bal(&m.sponsor.address);
    let tx = close_deployment(&mut m.tenant, 1);
    ok(&mut m.node, tx);
    let s1 = m.bal(&m.sponsor.address);
    assert!(
        s1 > s0 && s1 < s0 + 50_000,
        "sponsor refunded its unspent part"
    );
    assert_eq!(m.bal(&escrow_addr()), 0);
    assert_eq!(m.total(), supply);
}

#[test]
fn a_lease_left_unfunded_past_the_grace_window_closes_for_insufficient_funds() {
    let mut m = market(1, |g| {
        g.deployment.params.min_deposits = vec![ve_types::Coin::new("uve", 10_000)];
        g.escrow.params.grace_period_blocks = 5;
    });
    let supply = m.total();
    let t = m.tenant.address;
    let p = m.providers[0].address;
    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![group_spec("web", 1_000, "eu-west")],
        10_000,
    );
    ok(&mut m.node, tx);
    let tx = create_bid(&mut m.providers[0], &t, 1, 1, 1_000);
    ok(&mut m.node, tx);
    let p0 = m.bal(&p);
    let tx = create_lease(&mut m.tenant, bid_id(&t, 1, 1, 1, &p));
    ok(&mut m.node, tx);
    m.node.advance_to(m.node.height() + 20).unwrap();

    let l = lease(&m.node, bid_id(&t, 1, 1, 1, &p)).lease.unwrap();
    assert_eq!(l.state, mp::LeaseState::Closed as i32);
    assert_eq!(l.reason, mp::LeaseClosedReason::InsufficientFunds as i32);
    let info = deployment(&m.node, &t, 1);
    assert_eq!(
        info.deployment.unwrap().state,
        dp::DeploymentState::Closed as i32
    );
    assert_eq!(info.groups[0].state, dp::GroupState::Closed as i32);
    assert_eq!(
        bid(&m.node, bid_id(&t, 1, 1, 1, &p)).state,
        mp::BidState::Closed as i32
    );
    // The provider got everything the deposit covered (minus 2%) and its bid deposit.
    assert_eq!(m.bal(&p), p0 + 10_000 - 200 + BID_DEPOSIT);
    assert_eq!(m.bal(&escrow_addr()), 0);
    assert_eq!(m.total(), supply);
}

#[test]
fn a_provider_closing_its_active_bid_ends_the_lease_and_pauses_the_group() {
    let mut m = market(1, |_| {});
    let supply = m.total();
    let t = m.tenant.address;
    let p = m.providers[0].address;
    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![group_spec("web", PRICE_CAP, "eu-west")],
        DEPOSIT,
    );
    ok(&mut m.node, tx);
    let tx = create_bid(&mut m.providers[0], &t, 1, 1, 500);
    ok(&mut m.node, tx);
    let tx = create_lease(&mut m.tenant, bid_id(&t, 1, 1, 1, &p));
    ok(&mut m.node, tx);
    m.node.advance_to(m.node.height() + 3).unwrap();
    let p0 = m.bal(&p);
    let tx = close_bid(
        &mut m.providers[0],
        bid_id(&t, 1, 1, 1, &p),
        mp::LeaseClosedReason::Decommission as i32,
    );
    ok(&mut m.node, tx);
    // 4 blocks × 500 = 2000 minus 2% (40), plus the bid deposit, minus the fee.
    assert_eq!(m.bal(&p), p0 + 2_000 - 40 + BID_DEPOSIT - MFEE);
    let l = lease(&m.node, bid_id(&t, 1, 1, 1, &p)).lease.unwrap();
    assert_eq!(l.reason, mp::LeaseClosedReason::Decommission as i32);
    assert_eq!(
        deployment(&m.node, &t, 1).groups[0].state,
        dp::GroupState::Paused as i32
    );
    // Only the tenant's deployment deposit is left in escrow.
    assert_eq!(m.bal(&escrow_addr()), DEPOSIT - 2_000);
    // A provider reason outside 10000-19999 is refused statelessly.
    let tx = close_bid(&mut m.providers[0], bid_id(&t, 1, 1, 1, &p), 1);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (23, "market"));
    assert_eq!(m.total(), supply);
}

#[test]
fn a_provider_may_close_the_lease_and_the_group_gets_a_new_order() {
    let mut m = market(2, |_| {});
    let supply = m.total();
    let t = m.tenant.address;
    let p = m.providers[0].address;
    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![group_spec("web", PRICE_CAP, "eu-west")],
        DEPOSIT,
    );
    ok(&mut m.node, tx);
    let tx = create_bid(&mut m.providers[0], &t, 1, 1, 500);
    ok(&mut m.node, tx);
    let tx = create_lease(&mut m.tenant, bid_id(&t, 1, 1, 1, &p));
    ok(&mut m.node, tx);
    // A stranger may not close it (signer must be tenant or provider).
    let id = bid_id(&t, 1, 1, 1, &p);
    let tx = close_lease(&mut m.stranger, id.clone());
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (17, "market"));
    let tx = close_lease(&mut m.providers[0], id.clone());
    ok(&mut m.node, tx);
    assert_eq!(
        lease(&m.node, id.clone()).lease.unwrap().state,
        mp::LeaseState::Closed as i32
    );
    // Closed leases have nothing left to withdraw.
    let tx = withdraw_lease(&mut m.providers[0], id);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (16, "market"));
    // The group is still open: order 2 takes bids.
    assert_eq!(
        order(&m.node, &t, 1, 1, 2).state,
        mp::OrderState::Open as i32
    );
    let tx = create_bid(&mut m.providers[1], &t, 1, 2, 600);
    ok(&mut m.node, tx);
    let tx = create_lease(&mut m.tenant, bid_id(&t, 1, 1, 2, &m.providers[1].address));
    ok(&mut m.node, tx);
    // The tenant closes the lease: a third order opens.
    let tx = close_lease(&mut m.tenant, bid_id(&t, 1, 1, 2, &m.providers[1].address));
    ok(&mut m.node, tx);
    assert_eq!(
        order(&m.node, &t, 1, 1, 3).state,
        mp::OrderState::Open as i32
    );
    let tx = close_deployment(&mut m.tenant, 1);
    ok(&mut m.node, tx);
    assert_eq!(m.bal(&escrow_addr()), 0);
    assert_eq!(m.total(), supply);
}

#[test]
fn only_the_tenant_accepts_bids_and_a_lease_needs_an_open_bid() {
    let mut m = market(2, |_| {});
    let t = m.tenant.address;
    let (pa, pb) = (m.providers[0].address, m.providers[1].address);
    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![group_spec("web", PRICE_CAP, "eu-west")],
        DEPOSIT,
    );
    ok(&mut m.node, tx);
    let tx = create_bid(&mut m.providers[0], &t, 1, 1, 500);
    ok(&mut m.node, tx);
    let tx = create_bid(&mut m.providers[1], &t, 1, 1, 600);
    ok(&mut m.node, tx);
    // A lease signed by someone else than the owner fails signature checks (the signer
    // is derived from the bid id's owner).
    let tx = create_lease(&mut m.stranger, bid_id(&t, 1, 1, 1, &pa));
    let (code, _, _) = run(&mut m.node, tx);
    assert_ne!(code, 0);
    m.stranger.sequence = sequence(&m.node, &m.stranger.address);
    let tx = create_lease(&mut m.tenant, bid_id(&t, 1, 1, 1, &pa));
    ok(&mut m.node, tx);
    // B lost: it cannot be leased now.
    let tx = create_lease(&mut m.tenant, bid_id(&t, 1, 1, 1, &pb));
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (7, "market"));
}

#[test]
fn listings_filter_by_owner_provider_and_state_and_page_by_key() {
    let mut m = market(2, |_| {});
    let t = m.tenant.address;
    let (pa, pb) = (m.providers[0].address, m.providers[1].address);
    for dseq in 1..=3 {
        let tx = create_deployment(
            &mut m.tenant,
            dseq,
            vec![group_spec("web", PRICE_CAP, "eu-west")],
            DEPOSIT,
        );
        ok(&mut m.node, tx);
    }
    let tx = create_bid(&mut m.providers[0], &t, 1, 1, 500);
    ok(&mut m.node, tx);
    let tx = create_bid(&mut m.providers[1], &t, 2, 1, 500);
    ok(&mut m.node, tx);
    let tx = create_lease(&mut m.tenant, bid_id(&t, 1, 1, 1, &pa));
    ok(&mut m.node, tx);

    // Orders page by two.
    let f = mp::Filters {
        owner: t.to_string(),
        ..Default::default()
    };
    let page1 = orders(&m.node, f.clone(), 2, vec![]);
    assert_eq!(page1.orders.len(), 2);
    let next = page1.pagination.unwrap().next_key;
    assert!(!next.is_empty());
    let page2 = orders(&m.node, f.clone(), 2, next);
    assert_eq!(page2.orders.len(), 1);
    assert!(page2.pagination.unwrap().next_key.is_empty());
    let open = orders(
        &m.node,
        mp::Filters {
            state: "open".into(),
            ..f.clone()
        },
        10,
        vec![],
    );
    assert_eq!(open.orders.len(), 2);
    let active = orders(
        &m.node,
        mp::Filters {
            state: "active".into(),
            ..f.clone()
        },
        10,
        vec![],
    );
    assert_eq!(active.orders[0].id.as_ref().unwrap().dseq, 1);
    let by_dseq = orders(&m.node, mp::Filters { dseq: 2, ..f }, 10, vec![]);
    assert_eq!(by_dseq.orders.len(), 1);

    let by_b = bids(
        &m.node,
        mp::Filters {
            provider: pb.to_string(),
            ..Default::default()
        },
    );
    assert_eq!(by_b.len(), 1);
    assert_eq!(by_b[0].id.as_ref().unwrap().dseq, 2);
    let la = leases(
        &m.node,
        mp::Filters {
            provider: pa.to_string(),
            state: "active".into(),
            ..Default::default()
        },
    );
    assert_eq!(la.len(), 1);
    assert!(leases(
        &m.node,
        mp::Filters {
            provider: pb.to_string(),
            ..Default::default()
        }
    )
    .is_empty());

    let (code, space) = query_err(
        &m.node,
        "/virtengine.market.v1.Query/Leases",
        &mp::QueryLeasesRequest {
            filters: Some(mp::Filters {
                state: "bogus".into(),
                ..Default::default()
            }),
            pagination: None,
        },
    );
    assert_eq!((code, space.as_str()), (22, "market"));
    let list: dp::QueryDeploymentsResponse = query(
        &m.node,
        "/virtengine.deployment.v1.Query/Deployments",
        &dp::QueryDeploymentsRequest {
            owner: t.to_string(),
            state: "active".into(),
            pagination: None,
        },
    );
    assert_eq!(list.deployments.len(), 3);
}
