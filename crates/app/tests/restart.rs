//! Crash safety at the application level: a block becomes durable only at Commit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use ve_app::testing::TestNode;
use ve_app::{App, AppConfig};

#[test]
fn crash_between_finalize_and_commit_leaves_previous_height_and_replay_gives_same_hash() {
    let dir = tempfile::tempdir().unwrap();
    let mut users: Vec<User> = (0..2)
        .map(|i| User::new(i + 1, FIRST_USER_NUMBER + u64::from(i)))
        .collect();
    let app = App::open(dir.path(), AppConfig::default()).unwrap();
    let mut node = TestNode::with_app(app, 0);
    let genesis = {
        let mut g = ve_app::AppGenesis::default();
        for u in &users {
            g.add_account(u.address, &"1000000000uve".parse().unwrap())
                .unwrap();
        }
        g
    };
    node.init_chain(ve_app::testing::TEST_CHAIN_ID, &genesis)
        .unwrap();
    node.execute_block(&[]).unwrap();
    let bob = users[1].address;
    let tx = users[0].send(&bob, 77);
    let staged = node.finalize_block(std::slice::from_ref(&tx)).unwrap();
    let height_before = node.app().info().0;
    drop(node); // crash: no Commit

    // No chain id is passed in: it must come back from state, as after a node restart.
    let app = App::open(dir.path(), AppConfig::default()).unwrap();
    assert_eq!(
        app.info().0,
        height_before,
        "the staged block did not become durable"
    );
    let mut node = TestNode::with_app(app, height_before);
    let replayed = node.execute_block(&[tx]).unwrap();
    assert_eq!(
        replayed.app_hash, staged.app_hash,
        "replaying the block gives the same app hash"
    );
    assert_eq!(balance(&node, &bob), START + 77);
}

#[test]
fn committed_state_survives_reopen_with_identical_app_hash() {
    let dir = tempfile::tempdir().unwrap();
    let mut users: Vec<User> = (0..2)
        .map(|i| User::new(i + 1, FIRST_USER_NUMBER + u64::from(i)))
        .collect();
    let mut genesis = ve_app::AppGenesis::default();
    for u in &users {
        genesis
            .add_account(u.address, &"1000000000uve".parse().unwrap())
            .unwrap();
    }
    let app = App::open(dir.path(), AppConfig::default()).unwrap();
    let mut node = TestNode::with_app(app, 0);
    node.init_chain(ve_app::testing::TEST_CHAIN_ID, &genesis)
        .unwrap();
    let bob = users[1].address;
    for _ in 0..3 {
        let tx = users[0].send(&bob, 1);
        node.execute_block(&[tx]).unwrap();
    }
    let (height, hash) = node.app().info();
    drop(node);
    let app = App::open(dir.path(), AppConfig::default()).unwrap();
    assert_eq!(app.info(), (height, hash));
    let node = TestNode::with_app(app, height);
    assert_eq!(balance(&node, &bob), START + 3);
}

#[test]
fn restarted_node_still_accepts_transactions_without_init_chain() {
    let dir = tempfile::tempdir().unwrap();
    let mut users: Vec<User> = (0..2)
        .map(|i| User::new(i + 1, FIRST_USER_NUMBER + u64::from(i)))
        .collect();
    let mut genesis = ve_app::AppGenesis::default();
    for u in &users {
        genesis
            .add_account(u.address, &"1000000000uve".parse().unwrap())
            .unwrap();
    }
    let app = App::open(dir.path(), AppConfig::default()).unwrap();
    let mut node = TestNode::with_app(app, 0);
    node.init_chain(ve_app::testing::TEST_CHAIN_ID, &genesis)
        .unwrap();
    node.execute_block(&[]).unwrap();
    drop(node);

    let app = App::open(dir.path(), AppConfig::default()).unwrap();
    let mut node = TestNode::with_app(app, 1);
    let bob = users[1].address;
    let tx = users[0].send(&bob, 5);
    let checked = node.app().check_tx(&tx);
    assert_eq!(checked.code, 0, "{}", checked.log);
    let out = node.execute_block(&[tx]).unwrap();
    let first = out.results().next().unwrap();
    assert_eq!(first.0, 0, "{first:?}");
    assert_eq!(balance(&node, &bob), START + 5);
}
