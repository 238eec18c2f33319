//! Deposit grants at the keeper and handler level: who pays, who is refunded, and when a
//! grant refuses to fund (stable codes).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use ve_escrow::proto::{MsgGrantDeposit, MsgRevokeDepositGrant};
use ve_escrow::{AccountId, EscrowKeeper, Funding, GrantDepositHandler, RevokeDepositGrantHandler};
use ve_module::MsgHandler;
use ve_types::{AppError, Coin};

const TENANT: u8 = 0;
const FUNDER: u8 = 1;
const PROVIDER: u8 = 2;

fn dep() -> AccountId {
    AccountId::new("deployment", "tenant/1").unwrap()
}

fn uve(n: u128) -> Coin {
    Coin::new("uve", n)
}

fn grant(chain: &mut Chain, limit: u128, expiration: i64, scopes: &[&str]) -> Result<(), AppError> {
    let msg = MsgGrantDeposit {
        granter: user(FUNDER).to_string(),
        grantee: user(TENANT).to_string(),
        spend_limit: Some(ve_proto::cosmos::base::v1beta1::Coin {
            denom: "uve".into(),
            amount: limit.to_string(),
        }),
        expiration,
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    };
    chain.tx(|ctx| {
        GrantDepositHandler.check_stateless(&msg)?;
        GrantDepositHandler.execute(ctx, &msg).map(|_| ())
    })
}

fn via_grant() -> Funding {
    Funding::Grant {
        granter: user(FUNDER),
        grantee: user(TENANT),
    }
}

fn limit(chain: &mut Chain) -> Option<u128> {
    chain
        .tx(|ctx| ve_escrow::state::grant(ctx, &user(FUNDER), &user(TENANT)))
        .unwrap()
        .map(|g| g.spend_limit.amount)
}

fn code(r: Result<(), AppError>) -> u32 {
    r.expect_err("should fail").code
}

fn setup() -> Chain {
    let mut c = Chain::new();
    c.mint(&user(TENANT), 1_000);
    c.mint(&user(FUNDER), 10_000);
    c
}

#[test]
fn grant_funded_deposit_is_paid_by_the_granter_and_refunded_to_it_restoring_the_grant() {
    let mut c = setup();
    let k = keeper();
    grant(&mut c, 5_000, 0, &[]).unwrap();
    c.tx(|ctx| k.account_create_funded(ctx, &dep(), &user(TENANT), &via_grant(), &uve(3_000)))
        .unwrap();
    assert_eq!(c.balance(&user(FUNDER)), 7_000, "the granter pays");
    assert_eq!(c.balance(&user(TENANT)), 1_000, "the grantee pays nothing");
    assert_eq!(limit(&mut c), Some(2_000));
    c.tx(|ctx| k.payment_create(ctx, &dep(), "1/1/p", &user(PROVIDER), &uve(100)))
        .unwrap();
    for _ in 0..10 {
        c.next_block();
    }
    c.tx(|ctx| k.account_close(ctx, &dep())).unwrap();
    // 10 blocks x 100 went to the provider (minus 2% take); the remaining 2 000 go back
    // to the funder, not the tenant, and the grant can spend them again.
    assert_eq!(c.balance(&user(FUNDER)), 9_000);
    assert_eq!(c.balance(&user(TENANT)), 1_000);
    assert_eq!(c.balance(&user(PROVIDER)), 980);
    assert_eq!(limit(&mut c), Some(4_000));
    assert_eq!(c.count_events(ve_escrow::events::GRANT_RESTORED), 1);
}

#[test]
fn refund_after_revocation_goes_to_the_granter_without_reviving_the_grant() {
    let mut c = setup();
    let k = keeper();
    c.tx(|ctx| k.account_create(ctx, &dep(), &user(TENANT), &user(TENANT), &uve(500)))
        .unwrap();
    grant(&mut c, 1_000, 0, &["deployment"]).unwrap();
    c.tx(|ctx| {
        k.account_deposit_funded(ctx, &dep(), &via_grant(), &uve(800))
            .map(|_| ())
    })
    .unwrap();
    let revoke = MsgRevokeDepositGrant {
        granter: user(FUNDER).to_string(),
        grantee: user(TENANT).to_string(),
    };
    c.tx(|ctx| RevokeDepositGrantHandler.execute(ctx, &revoke).map(|_| ()))
        .unwrap();
    assert_eq!(limit(&mut c), None);
    assert_eq!(
        code(c.tx(|ctx| RevokeDepositGrantHandler.execute(ctx, &revoke).map(|_| ()))),
        23,
        "revoking twice: grant not found"
    );
    c.tx(|ctx| k.account_close(ctx, &dep())).unwrap();
    assert_eq!(c.balance(&user(FUNDER)), 10_000);
    assert_eq!(c.balance(&user(TENANT)), 1_000);
    assert_eq!(limit(&mut c), None);
}

#[test]
fn grants_refuse_to_fund_past_their_limit_expiry_or_scope() {
    let mut c = setup();
    let k = keeper();
    let create = |c: &mut Chain, id: &AccountId, n: u128| {
        c.tx(|ctx| k.account_create_funded(ctx, id, &user(TENANT), &via_grant(), &uve(n)))
    };
    assert_eq!(code(create(&mut c, &dep(), 10)), 23, "no grant");
    // Expires at block time 15 (height 3 with 5 s blocks).
    grant(&mut c, 1_000, 15, &[]).unwrap();
    assert_eq!(
        code(create(&mut c, &dep(), 1_001)),
        25,
        "above the spend limit"
    );
    let bid = AccountId::new("bid", "tenant/1/1/1/p").unwrap();
    assert_eq!(code(create(&mut c, &bid, 10)), 26, "scope bid not granted");
    c.next_block();
    c.next_block();
    assert_eq!(code(create(&mut c, &dep(), 10)), 24, "expired");
    assert_eq!(c.balance(&user(FUNDER)), 10_000, "nothing moved");
    assert_eq!(
        code(grant(&mut c, 1_000, 5, &[])),
        22,
        "an expiration in the past is refused"
    );
    assert_eq!(code(grant(&mut c, 0, 0, &[])), 6, "zero limit");
    assert_eq!(code(grant(&mut c, 10, 0, &["Not A Scope"])), 22);
}
