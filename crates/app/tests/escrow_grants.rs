//! Deposit grants through the app: a funder grants a tenant a spend limit, the tenant tops
//! up its deployment's escrow from the grant, the lease is paid, and on close what is left
//! of the grant-funded deposit goes back to the funder (restoring the grant), the rest of
//! the tenant's own deposit to the tenant. No uve is created or lost.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod market_common;
use common::*;
use market_common::*;
use ve_escrow::proto as ep;
use ve_types::Address;

const GRANT: u128 = 3_000_000;
const TOP_UP: u128 = 2_000_000;
const RATE: u128 = 800;

fn grant_msg(granter: &Address, grantee: &Address, limit: u128) -> ep::MsgGrantDeposit {
    ep::MsgGrantDeposit {
        granter: granter.to_string(),
        grantee: grantee.to_string(),
        spend_limit: Some(coin(limit)),
        expiration: 0,
        scopes: vec![],
    }
}

fn deposit_from_grant(u: &mut User, granter: &Address, dseq: u64, amount: u128) -> Vec<u8> {
    let msg = ep::MsgDepositFromGrant {
        signer: u.address.to_string(),
        account_id: Some(ep::AccountId {
            scope: "deployment".into(),
            xid: format!("{}/{dseq}", u.address),
        }),
        amount: Some(coin(amount)),
        granter: granter.to_string(),
    };
    sign(u, "/virtengine.escrow.v1.MsgDepositFromGrant", &msg)
}

fn grant_limit(m: &Market) -> Option<u128> {
    let req = ep::QueryGrantRequest {
        granter: m.sponsor.address.to_string(),
        grantee: m.tenant.address.to_string(),
    };
    let (code, _) = query_err(&m.node, "/virtengine.escrow.v1.Query/Grant", &req);
    if code != 0 {
        return None;
    }
    let r: ep::QueryGrantResponse = query(&m.node, "/virtengine.escrow.v1.Query/Grant", &req);
    Some(
        r.grant
            .unwrap()
            .spend_limit
            .unwrap()
            .amount
            .parse()
            .unwrap(),
    )
}

#[test]
fn grant_funded_top_up_pays_the_lease_and_its_remainder_returns_to_the_funder() {
    let mut m = market(1, |_| {});
    let supply = m.total();
    let t = m.tenant.address;
    let p = m.providers[0].address;

    let msg = grant_msg(&m.sponsor.address, &t, GRANT);
    let tx = sign(
        &mut m.sponsor,
        "/virtengine.escrow.v1.MsgGrantDeposit",
        &msg,
    );
    ok(&mut m.node, tx);
    assert_eq!(grant_limit(&m), Some(GRANT));
    let by_grantee: ep::QueryGrantsResponse = query(
        &m.node,
        "/virtengine.escrow.v1.Query/Grants",
        &ep::QueryGrantsRequest {
            granter: String::new(),
            grantee: t.to_string(),
            pagination: None,
        },
    );
    assert_eq!(by_grantee.grants.len(), 1);
    let s0 = m.bal(&m.sponsor.address);

    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![group_spec("web", PRICE_CAP, "eu-west")],
        DEPOSIT,
    );
    ok(&mut m.node, tx);
    let t0 = m.bal(&t);
    let sponsor = m.sponsor.address;
    let tx = deposit_from_grant(&mut m.tenant, &sponsor, 1, TOP_UP);
    ok(&mut m.node, tx);
    assert_eq!(m.bal(&m.sponsor.address), s0 - TOP_UP, "the funder pays");
    assert_eq!(m.bal(&t), t0 - MFEE, "the tenant pays only the fee");
    assert_eq!(grant_limit(&m), Some(GRANT - TOP_UP));
    let tx = deposit_from_grant(&mut m.tenant, &sponsor, 1, TOP_UP);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!(
        (code, space.as_str()),
        (25, "escrow"),
        "beyond the spend limit"
    );

    let tx = create_bid(&mut m.providers[0], &t, 1, 1, RATE);
    ok(&mut m.node, tx);
    let tx = create_lease(&mut m.tenant, bid_id(&t, 1, 1, 1, &p));
    ok(&mut m.node, tx);
    for _ in 0..5 {
        m.node.execute_block(&[]).unwrap();
    }
    let t1 = m.bal(&t);
    let tx = close_deployment(&mut m.tenant, 1);
    ok(&mut m.node, tx);
    // The lease cost far less than the tenant's own deposit, which is spent first: the
    // whole grant-funded top-up returns to the funder and the grant is whole again.
    assert_eq!(m.bal(&m.sponsor.address), s0);
    assert_eq!(grant_limit(&m), Some(GRANT));
    assert!(
        m.bal(&t) > t1,
        "the tenant gets the rest of its own deposit"
    );
    assert_eq!(m.bal(&escrow_addr()), 0, "nothing stays in escrow");
    assert_eq!(m.total(), supply, "uve created or lost");

    // Revocation: the grant is gone; a further grant-funded deposit is refused.
    let revoke = ep::MsgRevokeDepositGrant {
        granter: m.sponsor.address.to_string(),
        grantee: t.to_string(),
    };
    let tx = sign(
        &mut m.sponsor,
        "/virtengine.escrow.v1.MsgRevokeDepositGrant",
        &revoke,
    );
    ok(&mut m.node, tx);
    assert_eq!(grant_limit(&m), None);
    let tx = create_deployment(
        &mut m.tenant,
        2,
        vec![group_spec("web", PRICE_CAP, "eu-west")],
        DEPOSIT,
    );
    ok(&mut m.node, tx);
    let tx = deposit_from_grant(&mut m.tenant, &sponsor, 2, 1);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (23, "escrow"), "no grant");
}

#[test]
fn bad_grants_are_refused_with_stable_codes() {
    let mut m = market(1, |_| {});
    let tenant = m.tenant.address;
    let mut self_grant = grant_msg(&tenant, &tenant, 10);
    self_grant.grantee = self_grant.granter.clone();
    let tx = sign(
        &mut m.tenant,
        "/virtengine.escrow.v1.MsgGrantDeposit",
        &self_grant,
    );
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (22, "escrow"));
    let mut bad_scope = grant_msg(&m.sponsor.address, &tenant, 10);
    bad_scope.scopes = vec!["Deployment!".into()];
    let tx = sign(
        &mut m.sponsor,
        "/virtengine.escrow.v1.MsgGrantDeposit",
        &bad_scope,
    );
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (22, "escrow"));
    let (code, space) = query_err(
        &m.node,
        "/virtengine.escrow.v1.Query/Grants",
        &ep::QueryGrantsRequest::default(),
    );
    assert_eq!(
        (code, space.as_str()),
        (20, "escrow"),
        "neither filter given"
    );
}
