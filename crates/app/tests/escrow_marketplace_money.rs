//! escrow and take through mock consensus: a sponsor funds someone else's account, the
//! payee withdraws (2% of uve to the community pool), strangers cannot withdraw, bad
//! deposits fail with stable codes, accounts run dry over several blocks when more are
//! due than the per-block cap, and no uve is created or lost. There is no market module
//! yet, so accounts and payments come from genesis (the escrow module account holds
//! their coins).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use prost::Message;
use ve_app::testing::TestNode;
use ve_app::AppGenesis;
use ve_escrow::genesis::{GenesisAccount, GenesisDeposit, GenesisPayment};
use ve_escrow::proto::*;
use ve_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use ve_proto::to_any;
use ve_types::{Address, Coin, Coins};

const GAS2: u64 = 400_000;
const FEE2: u128 = 10_000;
const RATE: u128 = 100;
const FUNDS: u128 = 1_000_000;

fn escrow_addr() -> Address {
    Address::module("escrow")
}
fn pool() -> Address {
    Address::module("community_pool")
}

fn acct_id(owner: &Address, dseq: u32) -> String {
    format!("deployment/{owner}/{dseq}")
}

fn proto_id(s: &str) -> AccountId {
    let (scope, xid) = s.split_once('/').unwrap();
    AccountId {
        scope: scope.into(),
        xid: xid.into(),
    }
}

/// Users: 0 tenant, 1 provider, 2 sponsor, 3 stranger. `accounts` escrow accounts of the
/// tenant, each funded with `funds` and paying `RATE` per block to the provider.
fn chain_with(
    accounts: u32,
    funds: u128,
    edit: impl FnOnce(&mut AppGenesis),
) -> (TestNode, Vec<User>) {
    let mut genesis = AppGenesis::default();
    let users: Vec<User> = (0..4u8)
        .map(|i| User::new(i + 1, FIRST_USER_NUMBER + u64::from(i)))
        .collect();
    for u in &users {
        genesis
            .add_account(
                u.address,
                &Coins::from_list([Coin::new("uve", START)]).unwrap(),
            )
            .unwrap();
    }
    let (tenant, provider) = (users[0].address, users[1].address);
    for n in 0..accounts {
        genesis.escrow.accounts.push(GenesisAccount {
            id: acct_id(&tenant, n),
            owner: tenant,
            denom: "uve".into(),
            deposits: vec![GenesisDeposit {
                depositor: tenant,
                amount: funds,
                grantee: None,
            }],
            settled_at: 0,
        });
        genesis.escrow.payments.push(GenesisPayment {
            account_id: acct_id(&tenant, n),
            id: format!("1/1/{provider}"),
            payee: provider,
            rate: RATE,
            balance: 0,
        });
    }
    if accounts > 0 {
        genesis
            .add_account(
                escrow_addr(),
                &Coins::from_list([Coin::new("uve", funds * u128::from(accounts))]).unwrap(),
            )
            .unwrap();
    }
    edit(&mut genesis);
    let mut node = TestNode::new(&genesis).unwrap();
    // Genesis state becomes visible to queries with the first block.
    node.execute_block(&[]).unwrap();
    (node, users)
}

fn deposit(u: &mut User, account: &str, amount: &str) -> Vec<u8> {
    let msg = MsgDeposit {
        signer: u.address.to_string(),
        account_id: Some(proto_id(account)),
        amount: Some(ProtoCoin {
            denom: "uve".into(),
            amount: amount.into(),
        }),
    };
    u.sign(
        vec![to_any("/virtengine.escrow.v1.MsgDeposit", &msg)],
        FEE2,
        GAS2,
    )
}

fn withdraw(u: &mut User, account: &str, payment: &str) -> Vec<u8> {
    let msg = MsgWithdrawPayment {
        signer: u.address.to_string(),
        account_id: Some(proto_id(account)),
        payment_id: payment.into(),
    };
    u.sign(
        vec![to_any("/virtengine.escrow.v1.MsgWithdrawPayment", &msg)],
        FEE2,
        GAS2,
    )
}

fn query<Req: Message, Resp: Message + Default>(node: &TestNode, path: &str, req: &Req) -> Resp {
    let r = node.app().query(path, &req.encode_to_vec(), 0, false);
    assert_eq!(r.code, 0, "{path}: {}", r.log);
    Resp::decode(r.value.as_slice()).unwrap()
}

fn account(node: &TestNode, id: &str) -> QueryAccountResponse {
    query(
        node,
        "/virtengine.escrow.v1.Query/Account",
        &QueryAccountRequest {
            id: Some(proto_id(id)),
        },
    )
}

fn one(node: &mut TestNode, tx: Vec<u8>) -> (u32, String, String) {
    let out = node.execute_block(&[tx]).unwrap();
    let (code, space, log) = out.results().next().unwrap();
    (code, space.to_string(), log.to_string())
}

fn total(node: &TestNode, users: &[User]) -> u128 {
    let mut t = balance(node, &escrow_addr())
        + balance(node, &pool())
        + balance(node, &Address::module("fee_collector"));
    for u in users {
        t += balance(node, &u.address);
    }
    t
}

#[test]
fn a_sponsor_funds_the_tenants_account_and_the_provider_withdraws_minus_two_percent() {
    let (mut node, mut users) = chain_with(1, FUNDS, |_| {});
    let supply = total(&node, &users);
    let id = acct_id(&users[0].address, 0);
    let pid = format!("1/1/{}", users[1].address);

    let (code, _, log) = one(&mut node, deposit(&mut users[2], &id, "5000"));
    assert_eq!(code, 0, "{log}");
    let a = account(&node, &id).account.unwrap();
    let depositors: Vec<(String, String)> = a
        .deposits
        .iter()
        .map(|d| (d.address.clone(), d.balance.clone()))
        .collect();
    // Blocks 1-2 cost 200 from the oldest (tenant's) deposit; the sponsor's entry is whole.
    assert_eq!(
        depositors,
        vec![
            (users[0].address.to_string(), (FUNDS - 2 * RATE).to_string()),
            (users[2].address.to_string(), "5000".to_string()),
        ]
    );
    assert_eq!(a.state, AccountState::Open as i32);

    node.advance_to(9).unwrap();
    let provider_before = balance(&node, &users[1].address);
    let out = node
        .execute_block(&[withdraw(&mut users[1], &id, &pid)])
        .unwrap();
    let (code, _, log) = out.results().next().unwrap();
    assert_eq!(code, 0, "{log}");
    // Settled at height 10: 10 blocks × 100 = 1000; fee 2% = 20.
    assert_eq!(
        balance(&node, &users[1].address),
        provider_before + 980 - FEE2
    );
    assert_eq!(balance(&node, &pool()), 20);
    assert_eq!(total(&node, &users), supply, "uve created or lost");

    // The query shows the account settled to the queried height without a write.
    node.advance_to(15).unwrap();
    let view = account(&node, &id);
    let p = &view.payments[0];
    assert_eq!(p.balance, (5 * RATE).to_string());
    assert_eq!(p.withdrawn, "1000");
}

#[test]
fn only_the_payee_may_withdraw_and_bad_deposits_fail_with_stable_codes() {
    let (mut node, mut users) = chain_with(1, FUNDS, |_| {});
    let id = acct_id(&users[0].address, 0);
    let pid = format!("1/1/{}", users[1].address);
    let stranger_before = balance(&node, &users[3].address);

    let (code, space, _) = one(&mut node, withdraw(&mut users[3], &id, &pid));
    assert_eq!((code, space.as_str()), (11, "escrow"));
    let (code, space, _) = one(&mut node, withdraw(&mut users[1], &id, "nope"));
    assert_eq!((code, space.as_str()), (8, "escrow"));
    let unknown = acct_id(&users[0].address, 99);
    let (code, space, _) = one(&mut node, deposit(&mut users[2], &unknown, "10"));
    assert_eq!((code, space.as_str()), (3, "escrow"));
    // These fail the stateless checks, before the sequence is used.
    let (code, space, _) = one(&mut node, deposit(&mut users[2], &id, "0"));
    assert_eq!((code, space.as_str()), (6, "escrow"));
    users[2].sequence = sequence(&node, &users[2].address);
    let (code, space, _) = one(&mut node, deposit(&mut users[2], &id, "-5"));
    assert_eq!((code, space.as_str()), (6, "escrow"));
    users[2].sequence = sequence(&node, &users[2].address);
    let (code, space, _) = one(&mut node, deposit(&mut users[2], "Bad/x", "5"));
    assert_eq!((code, space.as_str()), (2, "escrow"));
    users[2].sequence = sequence(&node, &users[2].address);
    let (code, space, _) = one(&mut node, deposit(&mut users[2], &id, "999999999999"));
    assert_eq!((code, space.as_str()), (5, "sdk"));
    // Failed transactions moved nothing but the fee.
    assert_eq!(balance(&node, &escrow_addr()), FUNDS);
    assert_eq!(balance(&node, &users[3].address), stranger_before - FEE2);

    // Module accounts cannot be sent to directly.
    let tx = users[3].send(&pool(), 10);
    let (code, space, _) = one(&mut node, tx);
    assert_eq!((code, space.as_str()), (4, "sdk"));
}

#[test]
fn overdraft_pauses_top_up_resumes_and_grace_expiry_refunds() {
    // 1000 uve at 100/block: runs dry at height 11 (end-block), grace 5 blocks.
    let (mut node, mut users) = chain_with(2, 1_000, |g| {
        g.escrow.params.grace_period_blocks = 5;
    });
    let supply = total(&node, &users);
    let (a0, a1) = (acct_id(&users[0].address, 0), acct_id(&users[0].address, 1));
    let mut overdrawn_at = Vec::new();
    for _ in 0..10 {
        let out = node.execute_block(&[]).unwrap();
        for e in out.events.iter().filter(|e| e.kind == "escrow_overdrawn") {
            overdrawn_at.push(e.attributes.clone());
        }
    }
    assert_eq!(overdrawn_at.len(), 2);
    assert!(overdrawn_at[0].contains(&("grace_until".to_string(), "16".to_string())));
    assert_eq!(
        account(&node, &a0).account.unwrap().state,
        AccountState::Overdrawn as i32
    );
    // The sponsor tops up account 0 in the grace window: debt (100) paid, resumed.
    let out = node
        .execute_block(&[deposit(&mut users[2], &a0, "700")])
        .unwrap();
    let (code, _, log) = out.results().next().unwrap();
    assert_eq!(code, 0, "{log}");
    let view = account(&node, &a0);
    assert_eq!(view.account.unwrap().state, AccountState::Open as i32);
    assert_eq!(view.payments[0].state, PaymentState::Open as i32);
    // Account 1 stays dry past its grace and closes; its owner had nothing left.
    node.advance_to(17).unwrap();
    assert_eq!(
        account(&node, &a1).account.unwrap().state,
        AccountState::Closed as i32
    );
    // Account 0: 600 left after the debt, 6 blocks from height 12 → dry again at 19.
    node.advance_to(18).unwrap();
    assert_eq!(
        account(&node, &a0).account.unwrap().state,
        AccountState::Open as i32
    );
    node.advance_to(19).unwrap();
    assert_eq!(
        account(&node, &a0).account.unwrap().state,
        AccountState::Overdrawn as i32
    );
    assert_eq!(total(&node, &users), supply, "uve created or lost");
}

#[test]
fn more_accounts_run_dry_than_the_per_block_cap_and_end_block_catches_up() {
    // 250 accounts that can each pay exactly one block: all due at height 2.
    let (mut node, users) = chain_with(250, RATE, |g| {
        g.escrow.params.max_wakes_per_block = 100;
        g.escrow.params.grace_period_blocks = 2;
    });
    let supply = total(&node, &users);
    let mut per_block = Vec::new();
    let mut closed = Vec::new();
    for _ in 0..8 {
        let out = node.execute_block(&[]).unwrap();
        per_block.push(
            out.events
                .iter()
                .filter(|e| e.kind == "escrow_overdrawn")
                .count(),
        );
        closed.push(
            out.events
                .iter()
                .filter(|e| e.kind == "escrow_account_closed")
                .count(),
        );
    }
    // Blocks 2.. : 100 per block.
    assert_eq!(per_block, vec![100, 100, 50, 0, 0, 0, 0, 0]);
    // Each is due to close at the end of its grace (overdrawn height + 2); the cap is
    // shared with the backlog in height order, so block 4 closes only 50.
    assert_eq!(closed, vec![0, 0, 50, 100, 100, 0, 0, 0]);
    assert_eq!(balance(&node, &escrow_addr()), 0);
    assert_eq!(total(&node, &users), supply, "uve created or lost");
}

#[test]
fn accounts_by_owner_are_paginated_and_params_are_queryable() {
    let (node, users) = chain_with(3, FUNDS, |_| {});
    let owner = users[0].address.to_string();
    let page1: QueryAccountsResponse = query(
        &node,
        "/virtengine.escrow.v1.Query/Accounts",
        &QueryAccountsRequest {
            owner: owner.clone(),
            pagination: Some(ve_proto::cosmos::base::query::v1beta1::PageRequest {
                limit: 2,
                ..Default::default()
            }),
        },
    );
    assert_eq!(page1.accounts.len(), 2);
    let next = page1.pagination.unwrap().next_key;
    assert!(!next.is_empty());
    let page2: QueryAccountsResponse = query(
        &node,
        "/virtengine.escrow.v1.Query/Accounts",
        &QueryAccountsRequest {
            owner,
            pagination: Some(ve_proto::cosmos::base::query::v1beta1::PageRequest {
                key: next,
                limit: 2,
                ..Default::default()
            }),
        },
    );
    assert_eq!(page2.accounts.len(), 1);
    assert!(page2.pagination.unwrap().next_key.is_empty());

    let p: QueryParamsResponse = query(
        &node,
        "/virtengine.escrow.v1.Query/Params",
        &QueryParamsRequest {},
    );
    assert_eq!(p.params.unwrap().grace_period_blocks, 17_280);
    let t: ve_take::proto::QueryParamsResponse = query(
        &node,
        "/virtengine.take.v1.Query/Params",
        &ve_take::proto::QueryParamsRequest {},
    );
    let t = t.params.unwrap();
    assert_eq!(t.default_take_rate_bps, 2_000);
    assert_eq!(t.denom_take_rates[0].rate_bps, 200);
}

#[test]
fn genesis_escrow_must_be_backed_by_the_module_account() {
    let mut genesis = AppGenesis::default();
    let owner = Address([7; 20]);
    genesis.escrow.accounts.push(GenesisAccount {
        id: acct_id(&owner, 1),
        owner,
        denom: "uve".into(),
        deposits: vec![GenesisDeposit {
            depositor: owner,
            amount: 10,
            grantee: None,
        }],
        settled_at: 0,
    });
    let err = genesis.validate().unwrap_err();
    assert!(err.contains("escrow module account"), "{err}");
}
