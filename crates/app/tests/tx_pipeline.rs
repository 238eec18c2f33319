//! Behaviour of the transaction pipeline, driven through mock consensus.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use ve_client::tx::msg_send;
use ve_types::Coin;

fn only_result(outcome: &ve_app::BlockOutcome) -> (u32, String, String) {
    let results: Vec<_> = outcome
        .results()
        .map(|(c, s, l)| (c, s.to_string(), l.to_string()))
        .collect();
    assert_eq!(results.len(), 1);
    results.into_iter().next().unwrap()
}

#[test]
fn send_moves_funds_and_pays_fee_to_fee_collector() {
    let (mut node, mut users) = chain(2);
    let bob = users[1].address;
    let tx = users[0].send(&bob, 1_234);
    let out = node.execute_block(&[tx]).unwrap();
    assert_eq!(only_result(&out).0, 0, "{:?}", only_result(&out));
    assert_eq!(balance(&node, &users[0].address), START - 1_234 - FEE);
    assert_eq!(balance(&node, &bob), START + 1_234);
    let collector = ve_types::Address::module("fee_collector");
    assert_eq!(balance(&node, &collector), FEE);
    assert_eq!(sequence(&node, &users[0].address), 1);
}

#[test]
fn bad_signature_is_rejected_and_changes_nothing() {
    let (mut node, users) = chain(2);
    let mut tx = users[0].sign_with(
        vec![msg_send(
            &users[0].address,
            &users[1].address,
            &[Coin::new("uve", 5)],
        )],
        FEE,
        GAS,
        ve_app::testing::TEST_CHAIN_ID,
        0,
    );
    let last = tx.len() - 1;
    tx[last] ^= 0x01; // flip a bit of the signature
    let hash_before = node.app().info().1;
    let (code, space, log) = only_result(&node.execute_block(&[tx]).unwrap());
    assert_eq!((code, space.as_str()), (4, "sdk"), "{log}");
    assert!(log.contains("signature verification failed"), "{log}");
    assert_eq!(balance(&node, &users[0].address), START);
    assert_eq!(sequence(&node, &users[0].address), 0);
    assert_ne!(
        hash_before,
        node.app().info().1,
        "a new block still gets a new version"
    );
}

#[test]
fn wrong_sequence_is_rejected_with_expected_sequence_in_log() {
    let (mut node, users) = chain(2);
    let tx = users[0].sign_with(
        vec![msg_send(
            &users[0].address,
            &users[1].address,
            &[Coin::new("uve", 5)],
        )],
        FEE,
        GAS,
        ve_app::testing::TEST_CHAIN_ID,
        3,
    );
    let (code, _, log) = only_result(&node.execute_block(&[tx]).unwrap());
    assert_eq!(code, 32, "{log}");
    assert!(log.contains("expected 0, got 3"), "{log}");
    assert_eq!(balance(&node, &users[0].address), START);
}

#[test]
fn tx_signed_for_another_chain_id_fails_signature_check() {
    let (mut node, users) = chain(2);
    let tx = users[0].sign_with(
        vec![msg_send(
            &users[0].address,
            &users[1].address,
            &[Coin::new("uve", 5)],
        )],
        FEE,
        GAS,
        "some-other-chain",
        0,
    );
    let (code, _, log) = only_result(&node.execute_block(&[tx]).unwrap());
    assert_eq!(code, 4, "{log}");
    assert!(log.contains("chain-id"), "{log}");
    assert_eq!(balance(&node, &users[0].address), START);
}

#[test]
fn fee_below_minimum_gas_price_is_rejected_with_the_required_fee() {
    let (mut node, users) = chain(2);
    // 200_000 gas at 0.025uve needs 5_000uve.
    let tx = users[0].sign_with(
        vec![msg_send(
            &users[0].address,
            &users[1].address,
            &[Coin::new("uve", 5)],
        )],
        4_999,
        GAS,
        ve_app::testing::TEST_CHAIN_ID,
        0,
    );
    let (code, _, log) = only_result(&node.execute_block(&[tx]).unwrap());
    assert_eq!(code, 13, "{log}");
    assert!(log.contains("required: 5000uve"), "{log}");
    assert_eq!(balance(&node, &users[0].address), START);
}

#[test]
fn insufficient_funds_fails_the_message_but_keeps_fee_and_sequence() {
    let (mut node, mut users) = chain(2);
    let bob = users[1].address;
    let tx = users[0].send(&bob, START); // START + fee is more than held
    let (code, space, log) = only_result(&node.execute_block(&[tx]).unwrap());
    assert_eq!((code, space.as_str()), (5, "sdk"), "{log}");
    assert!(log.contains("insufficient funds"), "{log}");
    assert_eq!(
        balance(&node, &users[0].address),
        START - FEE,
        "only the fee is taken"
    );
    assert_eq!(balance(&node, &bob), START);
    assert_eq!(sequence(&node, &users[0].address), 1, "sequence advances");
}

#[test]
fn replaying_a_committed_tx_is_rejected() {
    let (mut node, mut users) = chain(2);
    let bob = users[1].address;
    let tx = users[0].send(&bob, 10);
    assert_eq!(
        only_result(&node.execute_block(std::slice::from_ref(&tx)).unwrap()).0,
        0
    );
    let (code, _, log) = only_result(&node.execute_block(&[tx]).unwrap());
    assert_eq!(code, 32, "{log}");
    assert_eq!(balance(&node, &bob), START + 10);
}

#[test]
fn same_tx_twice_in_one_block_executes_once() {
    let (mut node, mut users) = chain(2);
    let bob = users[1].address;
    let tx = users[0].send(&bob, 10);
    let out = node.execute_block(&[tx.clone(), tx]).unwrap();
    let codes: Vec<u32> = out.results().map(|r| r.0).collect();
    assert_eq!(codes, vec![0, 32]);
    assert_eq!(balance(&node, &bob), START + 10);
}

#[test]
fn unknown_message_type_is_rejected_with_code_6() {
    let (mut node, mut users) = chain(1);
    let msg = ve_proto::Any {
        type_url: "/virtengine.nothing.v1.MsgNothing".into(),
        value: vec![],
    };
    let tx = users[0].sign(vec![msg], FEE, GAS);
    let (code, _, log) = only_result(&node.execute_block(&[tx]).unwrap());
    assert_eq!(code, 6, "{log}");
    assert!(log.contains("MsgNothing"), "{log}");
}

#[test]
fn oversize_tx_is_rejected_before_decoding() {
    let (mut node, _) = chain(1);
    let tx = vec![0u8; 2 * 1024 * 1024];
    let (code, _, log) = only_result(&node.execute_block(&[tx]).unwrap());
    assert_eq!(code, 21, "{log}");
}

#[test]
fn malformed_bytes_are_rejected_not_panicking() {
    let (mut node, _) = chain(1);
    for junk in [
        vec![0xff; 10],
        vec![0x0a, 0x80],
        vec![1, 2, 3],
        vec![0x0a, 0x02, 0x0a, 0x00],
    ] {
        let out = node.execute_block(&[junk]).unwrap();
        assert_ne!(out.results().next().unwrap().0, 0);
    }
}

#[test]
fn zero_and_invalid_amounts_are_rejected() {
    let (mut node, mut users) = chain(2);
    let bob = users[1].address;
    let zero = msg_send(&users[0].address, &bob, &[Coin::new("uve", 0)]);
    let tx = users[0].sign(vec![zero], FEE, GAS);
    let (code, _, log) = only_result(&node.execute_block(&[tx]).unwrap());
    assert_eq!(code, 10, "{log}");
    let bad_denom = msg_send(&users[0].address, &bob, &[Coin::new("U", 5)]);
    let tx = users[0].sign_with(vec![bad_denom], FEE, GAS, ve_app::testing::TEST_CHAIN_ID, 0);
    let (code, _, log) = only_result(&node.execute_block(&[tx]).unwrap());
    assert_eq!(code, 10, "{log}");
}

#[test]
fn sends_to_module_accounts_are_blocked() {
    let (mut node, mut users) = chain(1);
    let collector = ve_types::Address::module("fee_collector");
    let tx = users[0].send(&collector, 10);
    let (code, _, log) = only_result(&node.execute_block(&[tx]).unwrap());
    assert_eq!(code, 4, "{log}");
    assert!(log.contains("not allowed to receive funds"), "{log}");
}

#[test]
fn out_of_gas_fails_the_tx_but_charges_the_fee() {
    let (mut node, users) = chain(2);
    let bob = users[1].address;
    let msg = || msg_send(&users[0].address, &bob, &[Coin::new("uve", 5)]);
    // CheckTx runs only the ante step, so its gas is what ante costs.
    let probe = users[0].sign_with(vec![msg()], FEE, GAS, ve_app::testing::TEST_CHAIN_ID, 0);
    node.execute_block(&[]).unwrap();
    let ante_gas = node.app().check_tx(&probe).gas_used;
    // Enough gas for ante, not for the send; the fee (at the minimum price) is still charged.
    let gas = ante_gas + 100;
    let fee = u128::from(gas).div_ceil(40);
    let tx = users[0].sign_with(vec![msg()], fee, gas, ve_app::testing::TEST_CHAIN_ID, 0);
    let (code, _, log) = only_result(&node.execute_block(&[tx]).unwrap());
    assert_eq!(code, 11, "{log}");
    assert_eq!(balance(&node, &users[0].address), START - fee);
    assert_eq!(balance(&node, &bob), START);
}

#[test]
fn new_account_created_by_a_send_can_spend_in_the_same_block() {
    let (mut node, mut users) = chain(1);
    let mut fresh = User::new(200, FIRST_USER_NUMBER + 1);
    let fund = users[0].send(&fresh.address, 100_000);
    let back = fresh.send(&users[0].address, 1);
    let out = node.execute_block(&[fund, back]).unwrap();
    let codes: Vec<u32> = out.results().map(|r| r.0).collect();
    assert_eq!(codes, vec![0, 0], "{:?}", out.results().collect::<Vec<_>>());
    assert_eq!(balance(&node, &fresh.address), 100_000 - 1 - FEE);
}

#[test]
fn check_tx_accepts_consecutive_sequences_and_rejects_bad_ones() {
    let (node, mut users) = chain(2);
    let bob = users[1].address;
    let t0 = users[0].send(&bob, 1);
    let t1 = users[0].send(&bob, 1);
    assert_eq!(node.app().check_tx(&t0).code, 0);
    assert_eq!(node.app().check_tx(&t1).code, 0);
    assert_eq!(
        node.app().check_tx(&t1).code,
        32,
        "replay within the mempool"
    );
    assert_eq!(node.app().check_tx(&[0xde, 0xad]).code, 2);
}

#[test]
fn simulate_reports_gas_without_a_valid_signature() {
    use prost::Message;
    let (mut node, users) = chain(2);
    node.execute_block(&[]).unwrap();
    let msg = msg_send(&users[0].address, &users[1].address, &[Coin::new("uve", 5)]);
    // Signed for another chain and with no fee: simulation checks neither.
    // Gas limit 0 too: clients simulate before they know the gas.
    let tx = users[0].sign_with(vec![msg], 0, 0, "whatever", 0);
    #[allow(deprecated)]
    let req = ve_proto::cosmos::tx::v1beta1::SimulateRequest {
        tx: None,
        tx_bytes: tx,
    }
    .encode_to_vec();
    #[allow(deprecated)]
    let r = node
        .app()
        .query("/cosmos.tx.v1beta1.Service/Simulate", &req, 0, false);
    assert_eq!(r.code, 0, "{}", r.log);
    let resp = ve_proto::cosmos::tx::v1beta1::SimulateResponse::decode(r.value.as_slice()).unwrap();
    let used = resp.gas_info.unwrap().gas_used;
    assert!(used > 10_000 && used < GAS, "{used}");

    // The same zero gas limit is refused outside simulation.
    let tx = users[0].sign_with(
        vec![msg_send(
            &users[0].address,
            &users[1].address,
            &[Coin::new("uve", 5)],
        )],
        FEE,
        0,
        ve_app::testing::TEST_CHAIN_ID,
        0,
    );
    assert_eq!(node.app().check_tx(&tx).code, 18);
}
