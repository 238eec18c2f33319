//! A deployment's first deposit paid from a deposit grant (`MsgCreateDeployment.from_grant`):
//! the funder's balance pays, the grant is drawn down, the lease is paid from that
//! deposit, and at close the remainder returns to the funder and restores the grant. A
//! create naming a missing grant, a grant too small for the deposit, or the owner itself is
//! refused and creates nothing. No uve is created or lost.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod market_common;
use market_common::*;
use ve_deployment::proto as dp;
use ve_escrow::proto as ep;
use ve_types::Address;

const GRANT: u128 = 6_000_000;
const RATE: u128 = 800;

fn grant(m: &mut Market, limit: u128) {
    let msg = ep::MsgGrantDeposit {
        granter: m.sponsor.address.to_string(),
        grantee: m.tenant.address.to_string(),
        spend_limit: Some(coin(limit)),
        expiration: 0,
        scopes: vec![],
    };
    let tx = sign(
        &mut m.sponsor,
        "/virtengine.escrow.v1.MsgGrantDeposit",
        &msg,
    );
    ok(&mut m.node, tx);
}

fn grant_limit(m: &Market) -> u128 {
    let r: ep::QueryGrantResponse = query(
        &m.node,
        "/virtengine.escrow.v1.Query/Grant",
        &ep::QueryGrantRequest {
            granter: m.sponsor.address.to_string(),
            grantee: m.tenant.address.to_string(),
        },
    );
    r.grant
        .unwrap()
        .spend_limit
        .unwrap()
        .amount
        .parse()
        .unwrap()
}

/// `MsgCreateDeployment` for the tenant with its deposit drawn from `granter`'s grant.
fn create_from_grant(m: &mut Market, dseq: u64, granter: &Address, deposit: u128) -> Vec<u8> {
    let msg = dp::MsgCreateDeployment {
        from_grant: granter.to_string(),
        ..create_deployment_msg(
            &m.tenant.address,
            dseq,
            vec![group_spec("web", PRICE_CAP, "eu-west")],
            deposit,
        )
    };
    sign(
        &mut m.tenant,
        "/virtengine.deployment.v1.MsgCreateDeployment",
        &msg,
    )
}

fn deployment_exists(m: &Market, dseq: u64) -> bool {
    let (code, _) = query_err(
        &m.node,
        "/virtengine.deployment.v1.Query/Deployment",
        &dp::QueryDeploymentRequest {
            id: Some(did(&m.tenant.address, dseq)),
        },
    );
    code == 0
}

#[test]
fn first_deposit_from_a_grant_is_paid_by_the_funder_and_its_remainder_returns_to_the_funder() {
    let mut m = market(1, |_| {});
    let supply = m.total();
    let t = m.tenant.address;
    let p = m.providers[0].address;
    let sponsor = m.sponsor.address;
    grant(&mut m, GRANT);
    let s0 = m.bal(&sponsor);
    let t0 = m.bal(&t);

    let tx = create_from_grant(&mut m, 1, &sponsor, DEPOSIT);
    ok(&mut m.node, tx);
    assert!(deployment_exists(&m, 1));
    assert_eq!(m.bal(&sponsor), s0 - DEPOSIT, "the funder pays the deposit");
    assert_eq!(m.bal(&t), t0 - MFEE, "the tenant pays only the fee");
    assert_eq!(grant_limit(&m), GRANT - DEPOSIT);

    let tx = create_bid(&mut m.providers[0], &t, 1, 1, RATE);
    ok(&mut m.node, tx);
    let tx = create_lease(&mut m.tenant, bid_id(&t, 1, 1, 1, &p));
    ok(&mut m.node, tx);
    for _ in 0..5 {
        m.node.execute_block(&[]).unwrap();
    }
    let tx = close_deployment(&mut m.tenant, 1);
    ok(&mut m.node, tx);

    // The lease was paid from the grant-funded deposit; what is left went back to the
    // funder and restored the grant by as much. The tenant paid three fees and nothing else.
    let paid = s0 - m.bal(&sponsor);
    assert!(
        paid >= 5 * RATE,
        "the lease was paid from the deposit: {paid}"
    );
    assert!(paid < DEPOSIT);
    assert_eq!(grant_limit(&m), GRANT - paid);
    assert_eq!(m.bal(&t), t0 - 3 * MFEE);
    assert_eq!(m.bal(&escrow_addr()), 0, "nothing stays in escrow");
    assert_eq!(m.total(), supply, "uve created or lost");
}

#[test]
fn create_from_a_missing_or_too_small_grant_or_from_the_owner_is_refused_and_creates_nothing() {
    let mut m = market(1, |_| {});
    let sponsor = m.sponsor.address;
    let tenant = m.tenant.address;

    let tx = create_from_grant(&mut m, 1, &sponsor, DEPOSIT);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (23, "escrow"), "no grant");
    assert!(!deployment_exists(&m, 1));

    grant(&mut m, DEPOSIT - 1);
    let s0 = m.bal(&sponsor);
    let tx = create_from_grant(&mut m, 1, &sponsor, DEPOSIT);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (25, "escrow"), "beyond the limit");
    assert!(!deployment_exists(&m, 1));
    assert_eq!(m.bal(&sponsor), s0);
    assert_eq!(grant_limit(&m), DEPOSIT - 1);

    let tx = create_from_grant(&mut m, 1, &tenant, DEPOSIT);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (9, "deployment"), "own grant");
    assert!(!deployment_exists(&m, 1));
}
