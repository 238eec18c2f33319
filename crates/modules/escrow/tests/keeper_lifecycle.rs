//! Keeper behaviours named after what they prove: overdraft pauses with a grace window and
//! events, a sponsor's top-up resumes, grace expiry closes and refunds each depositor,
//! end-block work is bounded per block, bad inputs fail with stable codes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use ve_escrow::{events, AccountId, AccountState, EscrowKeeper, EscrowParams, PaymentState};
use ve_types::Coin;

fn uve(n: u128) -> Coin {
    Coin::new("uve", n)
}

fn id(n: u32) -> AccountId {
    AccountId::new("deployment", format!("ve1owner/{n}")).unwrap()
}

fn chain_with(grace: u64, wakes: u32) -> Chain {
    let mut c = Chain::new();
    c.set_params(&EscrowParams {
        grace_period_blocks: grace,
        max_wakes_per_block: wakes,
        ..EscrowParams::default()
    });
    for u in 0..4 {
        c.mint(&user(u), 1_000_000);
    }
    c
}

#[test]
fn overdraft_pauses_then_sponsor_top_up_resumes() {
    let mut c = chain_with(10, 100);
    let k = keeper();
    let (owner, provider, sponsor) = (user(0), user(1), user(2));
    // 1_000 uve at 100 uve/block: 10 blocks of service.
    c.tx(|ctx| k.account_create(ctx, &id(1), &owner, &owner, &uve(1_000)))
        .unwrap();
    c.tx(|ctx| k.payment_create(ctx, &id(1), "1/1/p", &provider, &uve(100)))
        .unwrap();
    let start = c.height;
    while c.height <= start + 11 {
        c.next_block();
    }
    // Ran dry at start + 11 (end-block), not later.
    let a = c.account(&id(1)).unwrap();
    assert_eq!(a.state, AccountState::Overdrawn);
    assert_eq!(a.overdrawn_at, start + 11);
    assert_eq!(a.grace_until, start + 21);
    let ev = c
        .events
        .iter()
        .find(|e| e.kind == events::OVERDRAWN)
        .unwrap();
    assert!(ev
        .attributes
        .contains(&("grace_until".into(), (start + 21).to_string())));
    assert!(ev.attributes.contains(&("debt".into(), "100uve".into())));
    // Paused: nothing accrues while overdrawn.
    for _ in 0..5 {
        c.next_block();
    }
    let p = c
        .tx(|ctx| ve_escrow::state::payment(ctx, &id(1), "1/1/p"))
        .unwrap()
        .unwrap();
    assert_eq!(p.state, PaymentState::Paused);
    assert_eq!((p.balance, p.unsettled), (1_000, 100));
    // A sponsor (not the owner) tops up; the debt is paid and the account resumes.
    let st = c
        .tx(|ctx| k.account_deposit(ctx, &id(1), &sponsor, &uve(500)))
        .unwrap();
    assert_eq!(st, AccountState::Open);
    assert_eq!(c.count_events(events::RESUMED), 1);
    let a = c.account(&id(1)).unwrap();
    assert_eq!(a.balance().unwrap(), 400);
    assert_eq!(a.settled_at, c.height);
    // The provider withdraws 1_100 accrued: 2% (22) to the pool.
    let before = c.balance(&provider);
    let paid = c
        .tx(|ctx| k.payment_withdraw(ctx, &id(1), "1/1/p"))
        .unwrap();
    assert_eq!((paid.to_payee, paid.fee), (1_078, 22));
    assert_eq!(c.balance(&provider) - before, 1_078);
    assert_eq!(c.balance(&pool()), 22);
}

#[test]
fn grace_expiry_closes_and_refunds_each_depositor_what_is_left_of_its_deposit() {
    let mut c = chain_with(3, 100);
    let k = keeper();
    let (owner, provider, sponsor) = (user(0), user(1), user(2));
    c.tx(|ctx| k.account_create(ctx, &id(1), &owner, &owner, &uve(300)))
        .unwrap();
    c.tx(|ctx| k.account_deposit(ctx, &id(1), &sponsor, &uve(250)))
        .unwrap();
    // Two payments of 100 + 100: 550 lasts 2 full blocks (400), the 3rd is short by 50.
    c.tx(|ctx| k.payment_create(ctx, &id(1), "a", &provider, &uve(100)))
        .unwrap();
    c.tx(|ctx| k.payment_create(ctx, &id(1), "b", &provider, &uve(100)))
        .unwrap();
    let owner_before = c.balance(&owner);
    let sponsor_before = c.balance(&sponsor);
    for _ in 0..4 {
        c.next_block();
    }
    let a = c.account(&id(1)).unwrap();
    assert_eq!(a.state, AccountState::Overdrawn);
    // Oldest deposit (owner's) spent first: nothing left for anyone.
    assert!(a.deposits.is_empty());
    // A top-up too small for the debt (50) does not resume.
    c.tx(|ctx| k.account_deposit(ctx, &id(1), &sponsor, &uve(30)))
        .unwrap();
    assert_eq!(c.account(&id(1)).unwrap().state, AccountState::Overdrawn);
    for _ in 0..4 {
        c.next_block();
    }
    let a = c.account(&id(1)).unwrap();
    assert_eq!(a.state, AccountState::Closed);
    assert_eq!(c.count_events(events::ACCOUNT_CLOSED), 1);
    // The sponsor's 30 came back; the owner's deposit was spent.
    assert_eq!(c.balance(&sponsor), sponsor_before);
    assert_eq!(c.balance(&owner), owner_before);
    // Provider was paid 550 in total minus 2%.
    assert_eq!(c.balance(&provider), 1_000_000 + 550 - 11);
    assert_eq!(c.balance(&escrow_addr()), 0);
    // Deposits to a closed account are refused.
    let e = c
        .tx(|ctx| k.account_deposit(ctx, &id(1), &owner, &uve(1)))
        .unwrap_err();
    assert_eq!((e.codespace, e.code), ("escrow", 5));
}

#[test]
fn end_block_wakes_at_most_the_cap_per_block_and_catches_up() {
    let mut c = chain_with(2, 3);
    let k = keeper();
    // Ten accounts that all run dry at the same height.
    for n in 0..10 {
        c.tx(|ctx| k.account_create(ctx, &id(n), &user(0), &user(0), &uve(10)))
            .unwrap();
        c.tx(|ctx| k.payment_create(ctx, &id(n), "p", &user(1), &uve(10)))
            .unwrap();
    }
    let dry_at = c.height + 2;
    let count = |c: &mut Chain, st: AccountState| {
        (0..10)
            .filter(|n| c.account(&id(*n)).unwrap().state == st)
            .count()
    };
    while c.height < dry_at {
        c.next_block();
    }
    let mut overdrawn = Vec::new();
    for _ in 0..4 {
        c.next_block();
        overdrawn
            .push(count(&mut c, AccountState::Overdrawn) + count(&mut c, AccountState::Closed));
    }
    // 3 per block: 3, 6, 9, 10.
    assert_eq!(overdrawn, vec![3, 6, 9, 10]);
    for _ in 0..10 {
        c.next_block();
    }
    assert_eq!(count(&mut c, AccountState::Closed), 10);
    assert_eq!(c.balance(&escrow_addr()), 0);
}

#[test]
fn bad_inputs_fail_with_stable_codes() {
    let mut c = chain_with(5, 100);
    let k = keeper();
    let code = |r: Result<(), ve_types::AppError>| {
        let e = r.unwrap_err();
        (e.codespace, e.code)
    };
    c.tx(|ctx| k.account_create(ctx, &id(1), &user(0), &user(0), &uve(100)))
        .unwrap();
    assert_eq!(
        code(c.tx(|ctx| k.account_create(ctx, &id(1), &user(0), &user(0), &uve(100)))),
        ("escrow", 4)
    );
    assert_eq!(
        code(c.tx(|ctx| {
            k.account_deposit(ctx, &id(2), &user(0), &uve(1))
                .map(|_| ())
        })),
        ("escrow", 3)
    );
    assert_eq!(
        code(c.tx(|ctx| {
            k.account_deposit(ctx, &id(1), &user(0), &uve(0))
                .map(|_| ())
        })),
        ("escrow", 6)
    );
    assert_eq!(
        code(c.tx(|ctx| {
            k.account_deposit(ctx, &id(1), &user(0), &Coin::new("uusd", 5))
                .map(|_| ())
        })),
        ("escrow", 7)
    );
    // Insufficient funds is bank's (sdk code 5), and nothing moved.
    assert_eq!(
        code(c.tx(|ctx| {
            k.account_deposit(ctx, &id(1), &user(3), &uve(10_000_000))
                .map(|_| ())
        })),
        ("sdk", 5)
    );
    assert_eq!(c.balance(&escrow_addr()), 100);
    c.tx(|ctx| k.payment_create(ctx, &id(1), "p", &user(1), &uve(1)))
        .unwrap();
    assert_eq!(
        code(c.tx(|ctx| k.payment_create(ctx, &id(1), "p", &user(1), &uve(1)))),
        ("escrow", 9)
    );
    assert_eq!(
        code(c.tx(|ctx| k.payment_withdraw(ctx, &id(1), "nope").map(|_| ()))),
        ("escrow", 8)
    );
    c.tx(|ctx| k.payment_close(ctx, &id(1), "p").map(|_| ()))
        .unwrap();
    assert_eq!(
        code(c.tx(|ctx| k.payment_withdraw(ctx, &id(1), "p").map(|_| ()))),
        ("escrow", 10)
    );
    assert_eq!(
        code(c.tx(|ctx| k.payment_create(ctx, &id(1), "p", &user(1), &uve(1)))),
        ("escrow", 9)
    );
    assert!(AccountId::new("Bad Scope", "x").is_err());
}

#[test]
fn sponsors_are_bounded_but_the_owner_can_always_top_up() {
    let mut c = chain_with(5, 100);
    c.set_params(&EscrowParams {
        max_sponsors_per_account: 1,
        ..EscrowParams::default()
    });
    let k = keeper();
    c.tx(|ctx| k.account_create(ctx, &id(1), &user(0), &user(1), &uve(100)))
        .unwrap();
    let e = c
        .tx(|ctx| {
            k.account_deposit(ctx, &id(1), &user(2), &uve(5))
                .map(|_| ())
        })
        .unwrap_err();
    assert_eq!((e.codespace, e.code), ("escrow", 14));
    c.tx(|ctx| k.account_deposit(ctx, &id(1), &user(1), &uve(5)))
        .unwrap();
    c.tx(|ctx| k.account_deposit(ctx, &id(1), &user(0), &uve(5)))
        .unwrap();
    let a = c.account(&id(1)).unwrap();
    assert_eq!(a.deposits.len(), 2);
    assert_eq!(a.balance().unwrap(), 110);
    // Closing refunds each depositor its own entry.
    c.tx(|ctx| k.account_close(ctx, &id(1))).unwrap();
    assert_eq!(c.balance(&user(1)), 1_000_000);
    assert_eq!(c.balance(&user(0)), 1_000_000);
}
