//! deployment through mock consensus: a deployment from the example SDL (manifest hash on
//! chain, deposit in escrow, one order per group), updates, group close/pause/start, the
//! identity-tier and MFA gates, and bad input refused with stable codes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod market_common;
use common::*;
use market_common::*;
use ve_deployment::proto as dp;
use ve_market::proto as mp;

const EXAMPLE: &str = include_str!("../../../examples/deployment.yaml");

fn group_msg(u: &mut User, url: &str, dseq: u64, gseq: u32) -> Vec<u8> {
    let id = Some(gid(&u.address, dseq, gseq));
    match url {
        "close" => sign(
            u,
            "/virtengine.deployment.v1.MsgCloseGroup",
            &dp::MsgCloseGroup { id },
        ),
        "pause" => sign(
            u,
            "/virtengine.deployment.v1.MsgPauseGroup",
            &dp::MsgPauseGroup { id },
        ),
        _ => sign(
            u,
            "/virtengine.deployment.v1.MsgStartGroup",
            &dp::MsgStartGroup { id },
        ),
    }
}

#[test]
fn a_deployment_from_the_example_sdl_carries_its_manifest_hash_and_opens_one_order_per_group() {
    let mut m = market(1, |_| {});
    let t = m.tenant.address;
    let sdl = ve_sdl::parse(EXAMPLE).unwrap();
    let msg = dp::MsgCreateDeployment {
        id: Some(did(&t, 7)),
        groups: sdl.groups.clone(),
        hash: sdl.hash().to_vec(),
        deposit: Some(coin(DEPOSIT)),
        ..Default::default()
    };
    let tx = sign(
        &mut m.tenant,
        "/virtengine.deployment.v1.MsgCreateDeployment",
        &msg,
    );
    let out = m.node.execute_block(&[tx]).unwrap();
    let (code, _, log) = out.results().next().unwrap();
    assert_eq!(code, 0, "{log}");
    let (events, _) = out.tx_events_and_data().next().unwrap();
    let created = events
        .iter()
        .find(|e| e.kind == "deployment_created")
        .unwrap();
    assert!(created
        .attributes
        .contains(&("hash".to_string(), hex::encode(sdl.hash()))));
    assert!(events.iter().any(|e| e.kind == "order_created"));

    let info = deployment(&m.node, &t, 7);
    let d = info.deployment.unwrap();
    assert_eq!(d.hash, sdl.hash().to_vec());
    assert_eq!(d.denom, "uve");
    assert_eq!(info.groups.len(), 1);
    assert_eq!(info.groups[0].spec.as_ref().unwrap().name, "dc1");
    let o = order(&m.node, &t, 7, 1, 1);
    assert_eq!(
        o.spec.unwrap().resources[0].price.as_ref().unwrap().amount,
        "1000"
    );
    // The example's provider placement (region=eu-west) matches the genesis provider.
    let tx = create_bid(&mut m.providers[0], &t, 7, 1, 1000);
    ok(&mut m.node, tx);

    // A new manifest: the hash changes; the same hash again is refused (code 15).
    let sdl2 = ve_sdl::parse(&EXAMPLE.replace("nginx:1.25", "nginx:1.27")).unwrap();
    let upd = |hash: Vec<u8>| dp::MsgUpdateDeployment {
        id: Some(did(&t, 7)),
        hash,
    };
    let tx = sign(
        &mut m.tenant,
        "/virtengine.deployment.v1.MsgUpdateDeployment",
        &upd(sdl2.hash().to_vec()),
    );
    ok(&mut m.node, tx);
    assert_eq!(
        deployment(&m.node, &t, 7).deployment.unwrap().hash,
        sdl2.hash().to_vec()
    );
    let tx = sign(
        &mut m.tenant,
        "/virtengine.deployment.v1.MsgUpdateDeployment",
        &upd(sdl2.hash().to_vec()),
    );
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (15, "deployment"));
}

#[test]
fn bad_deployments_are_refused_with_stable_codes_and_move_nothing() {
    let mut m = market(0, |_| {});
    let t = m.tenant.address;
    let before = m.bal(&t);
    let g = || vec![group_spec("web", PRICE_CAP, "eu-west")];
    let expect = |m: &mut Market, msg: dp::MsgCreateDeployment, code: u32| {
        let tx = sign(
            &mut m.tenant,
            "/virtengine.deployment.v1.MsgCreateDeployment",
            &msg,
        );
        let (c, space, log) = run(&mut m.node, tx);
        assert_eq!((c, space.as_str()), (code, "deployment"), "{log}");
        m.tenant.sequence = sequence(&m.node, &m.tenant.address);
    };
    // Below the minimum deposit, and a denom not accepted.
    expect(&mut m, create_deployment_msg(&t, 1, g(), 499_999), 9);
    let mut wrong = create_deployment_msg(&t, 1, g(), DEPOSIT);
    wrong.deposit = Some(ve_proto::cosmos::base::v1beta1::Coin {
        denom: "ufoo".into(),
        amount: DEPOSIT.to_string(),
    });
    expect(&mut m, wrong, 7); // the groups are priced in uve, the deposit is not
                              // A hash that is not 32 bytes.
    let mut bad_hash = create_deployment_msg(&t, 1, g(), DEPOSIT);
    bad_hash.hash = vec![1; 31];
    expect(&mut m, bad_hash, 8);
    // No groups; two groups with one name; a zero count; dseq 0.
    expect(&mut m, create_deployment_msg(&t, 1, vec![], DEPOSIT), 7);
    expect(
        &mut m,
        create_deployment_msg(&t, 1, [g(), g()].concat(), DEPOSIT),
        7,
    );
    let mut zero = g();
    zero[0].resources[0].count = 0;
    expect(&mut m, create_deployment_msg(&t, 1, zero, DEPOSIT), 7);
    expect(&mut m, create_deployment_msg(&t, 0, g(), DEPOSIT), 2);
    assert_eq!(m.bal(&escrow_addr()), 0);

    // The dseq is taken once.
    ok(
        &mut m.node,
        create_deployment(&mut m.tenant, 1, g(), DEPOSIT),
    );
    expect(&mut m, create_deployment_msg(&t, 1, g(), DEPOSIT), 3);
    // More than the balance (below the MFA threshold): bank's insufficient funds.
    let tx = create_deployment(&mut m.tenant, 2, g(), 999_999_999);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (5, "sdk"));
    let (code, space) = query_err(
        &m.node,
        "/virtengine.deployment.v1.Query/Deployment",
        &dp::QueryDeploymentRequest {
            id: Some(did(&t, 2)),
        },
    );
    assert_eq!((code, space.as_str()), (4, "deployment"));
    // Closing a deployment that does not exist.
    let tx = close_deployment(&mut m.tenant, 99);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (4, "deployment"));
    assert_eq!(m.bal(&escrow_addr()), DEPOSIT);
    assert!(m.bal(&t) < before);
}

#[test]
fn pausing_a_group_ends_its_lease_and_starting_it_opens_the_next_order() {
    let mut m = market(2, |_| {});
    let supply = m.total();
    let t = m.tenant.address;
    let (pa, pb) = (m.providers[0].address, m.providers[1].address);
    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![
            group_spec("web", PRICE_CAP, "eu-west"),
            group_spec("db", PRICE_CAP, "eu-west"),
        ],
        DEPOSIT,
    );
    ok(&mut m.node, tx);
    assert_eq!(deployment(&m.node, &t, 1).groups.len(), 2);
    let tx = create_bid(&mut m.providers[0], &t, 1, 1, 400);
    ok(&mut m.node, tx);
    let tx = create_bid(&mut m.providers[1], &t, 1, 1, 450);
    ok(&mut m.node, tx);
    let tx = create_lease(&mut m.tenant, bid_id(&t, 1, 1, 1, &pa));
    ok(&mut m.node, tx);

    // Start is only for paused groups.
    let tx = group_msg(&mut m.tenant, "start", 1, 1);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (10, "deployment"));
    let b0 = m.bal(&pa);
    let tx = group_msg(&mut m.tenant, "pause", 1, 1);
    ok(&mut m.node, tx);
    let l = lease(&m.node, bid_id(&t, 1, 1, 1, &pa)).lease.unwrap();
    assert_eq!(l.state, mp::LeaseState::Closed as i32);
    assert_eq!(l.reason, mp::LeaseClosedReason::Owner as i32);
    assert!(
        m.bal(&pa) > b0 + BID_DEPOSIT,
        "paid to the pause and refunded"
    );
    assert_eq!(
        order(&m.node, &t, 1, 1, 1).state,
        mp::OrderState::Closed as i32
    );
    assert_eq!(
        deployment(&m.node, &t, 1).groups[0].state,
        dp::GroupState::Paused as i32
    );

    let tx = group_msg(&mut m.tenant, "start", 1, 1);
    ok(&mut m.node, tx);
    assert_eq!(
        order(&m.node, &t, 1, 1, 2).state,
        mp::OrderState::Open as i32
    );
    // The provider that lost order 1 may bid on order 2.
    let tx = create_bid(&mut m.providers[1], &t, 1, 2, 450);
    ok(&mut m.node, tx);
    // Closing group 1 refunds that open bid; group 2 stays open.
    let b1 = m.bal(&pb);
    let tx = group_msg(&mut m.tenant, "close", 1, 1);
    ok(&mut m.node, tx);
    assert_eq!(m.bal(&pb), b1 + BID_DEPOSIT);
    let info = deployment(&m.node, &t, 1);
    assert_eq!(info.groups[0].state, dp::GroupState::Closed as i32);
    assert_eq!(info.groups[1].state, dp::GroupState::Open as i32);
    let tx = group_msg(&mut m.tenant, "close", 1, 1);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (10, "deployment"));
    let tx = close_deployment(&mut m.tenant, 1);
    ok(&mut m.node, tx);
    assert_eq!(m.bal(&escrow_addr()), 0);
    assert_eq!(m.total(), supply);
}

#[test]
fn a_tenant_below_the_required_identity_tier_cannot_deploy() {
    let mut m = market(0, |g| g.deployment.params.min_tenant_tier = 1);
    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![group_spec("web", PRICE_CAP, "eu-west")],
        DEPOSIT,
    );
    let (code, space, log) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (28, "identity"), "{log}");
    assert_eq!(m.bal(&escrow_addr()), 0);
}

#[test]
fn a_deposit_of_a_thousand_ve_needs_an_mfa_session() {
    // 1 000 VE = 10^9 uve: the high-value-order threshold of the MFA module's defaults.
    let mut m = market(0, |g| {
        let extra = ve_types::Coins::from_list([ve_types::Coin::new("uve", START)]).unwrap();
        g.bank.add_balance(User::new(1, 0).address, &extra).unwrap();
    });
    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![group_spec("web", PRICE_CAP, "eu-west")],
        1_000_000_000,
    );
    let (code, space, log) = run(&mut m.node, tx);
    assert_eq!(space, "mfa", "{code} {log}");
    assert_eq!(m.bal(&escrow_addr()), 0);
    // Just below the threshold no session is needed.
    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![group_spec("web", PRICE_CAP, "eu-west")],
        999_999_999,
    );
    ok(&mut m.node, tx);
}
