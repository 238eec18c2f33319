//! Robustness of the untrusted-bytes entry points (CheckTx, FinalizeBlock) against
//! garbage, tampered transactions and decoder-exhaustion payloads.
//!
//! The properties are the ones a validator depends on: nothing panics, garbage is
//! refused with a non-zero code, a tampered transaction is either refused without any
//! state change or has exactly the effect of the original, and garbage in a block does
//! not stop the valid transactions next to it from executing.
//!
//! Crash inputs found by `fuzz/` (cargo-fuzz) belong in `REFUSED_INPUTS` below.

// Test code: unwrapping is the assertion. The wall clock is read only to assert that
// a decoder-exhaustion payload is refused quickly; it never feeds consensus.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::disallowed_methods)]

mod common;
use common::*;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use prost::Message;
use std::cell::RefCell;
use std::time::{Duration, Instant};
use ve_app::testing::{TestNode, TEST_CHAIN_ID};
use ve_client::tx::{msg_send, sign_doc_bytes, TxBuilder};
use ve_proto::cosmos::tx::v1beta1::TxRaw;
use ve_proto::Any;
use ve_types::{Address, Coin};

const AMOUNT: u128 = 1_234;

/// Runs `cases` cases of `strategy` through `test`, failing the test on the first
/// counterexample (after shrinking).
fn check<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

fn collector() -> Address {
    Address::module("fee_collector")
}

// ---------------------------------------------------------------- random bytes

#[test]
fn random_bytes_are_refused_by_check_tx_with_a_nonzero_code() {
    let (node, _users) = chain(2);
    check(512, prop::collection::vec(any::<u8>(), 0..2048), |bytes| {
        let out = node.app().check_tx(&bytes);
        prop_assert_ne!(out.code, 0, "garbage accepted: {:?}", out);
        prop_assert!(!out.codespace.is_empty(), "{:?}", out);
        Ok(())
    });
}

/// One field of a `TxRaw`: either the genuine part of a valid tx or something random.
#[derive(Clone, Debug)]
enum Part {
    Genuine,
    Random(Vec<u8>),
}

fn part() -> impl Strategy<Value = Part> {
    prop_oneof![
        Just(Part::Genuine),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Part::Random),
    ]
}

#[test]
fn well_framed_tx_raw_with_random_fields_is_refused_by_check_tx() {
    let (node, mut users) = chain(2);
    let bob = users[1].address;
    let valid = TxRaw::decode(users[0].send(&bob, AMOUNT).as_slice()).unwrap();
    check(384, (part(), part(), part()), |(body, auth, sig)| {
        if matches!(
            (&body, &auth, &sig),
            (Part::Genuine, Part::Genuine, Part::Genuine)
        ) {
            return Ok(()); // that is the valid tx itself
        }
        let pick = |p: &Part, genuine: &[u8]| match p {
            Part::Genuine => genuine.to_vec(),
            Part::Random(r) => r.clone(),
        };
        let tx = TxRaw {
            body_bytes: pick(&body, &valid.body_bytes),
            auth_info_bytes: pick(&auth, &valid.auth_info_bytes),
            signatures: vec![pick(&sig, &valid.signatures[0])],
        }
        .encode_to_vec();
        let out = node.app().check_tx(&tx);
        prop_assert_ne!(out.code, 0, "tampered tx accepted: {:?}", out);
        Ok(())
    });
    // The genuine parts still make a tx the mempool accepts: the refusals above were
    // caused by the random parts, not by a broken fixture.
    let genuine = valid.encode_to_vec();
    let out = node.app().check_tx(&genuine);
    assert_eq!(out.code, 0, "{out:?}");
}

// ---------------------------------------------------------------- tampering

#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(Index, u8),
    Truncate(Index),
    Insert(Index, u8),
    Delete(Index),
    Overwrite(Index, u8),
}

impl Mutation {
    fn apply(&self, tx: &[u8]) -> Vec<u8> {
        let mut out = tx.to_vec();
        match self {
            Mutation::FlipBit(i, bit) => out[i.index(tx.len())] ^= 1 << (bit % 8),
            Mutation::Truncate(i) => out.truncate(i.index(tx.len())),
            Mutation::Insert(i, b) => out.insert(i.index(tx.len() + 1), *b),
            Mutation::Delete(i) => {
                out.remove(i.index(tx.len()));
            }
            Mutation::Overwrite(i, b) => out[i.index(tx.len())] = *b,
        }
        out
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<Index>().prop_map(Mutation::Delete),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Overwrite(i, b)),
    ]
}

struct Snapshot {
    alice: u128,
    bob: u128,
    collector: u128,
    alice_seq: u64,
}

fn snapshot(node: &TestNode, alice: &Address, bob: &Address) -> Snapshot {
    Snapshot {
        alice: balance(node, alice),
        bob: balance(node, bob),
        collector: balance(node, &collector()),
        alice_seq: sequence(node, alice),
    }
}

#[test]
fn tampered_tx_is_refused_without_effect_or_has_exactly_the_original_effect() {
    let fresh = || {
        let (mut node, mut users) = chain(2);
        // Genesis state becomes queryable at the first commit.
        node.execute_block(&[]).unwrap();
        let bob = users[1].address;
        let tx = users[0].send(&bob, AMOUNT);
        (node, users[0].address, bob, tx)
    };
    let state = RefCell::new(fresh());
    check(384, mutation(), |m| {
        let mut st = state.borrow_mut();
        let (node, alice, bob, valid) = &mut *st;
        let (alice, bob) = (*alice, *bob);
        let tampered = m.apply(valid);
        if tampered == *valid {
            return Ok(()); // e.g. overwriting a byte with itself
        }
        let before = snapshot(node, &alice, &bob);
        let checked = node.app().check_tx(&tampered);
        let out = node
            .execute_block(std::slice::from_ref(&tampered))
            .map_err(|e| TestCaseError::fail(format!("block failed: {e:?}")))?;
        let results: Vec<_> = out
            .results()
            .map(|(c, s, l)| (c, s.to_string(), l.to_string()))
            .collect();
        prop_assert_eq!(results.len(), 1);
        let (code, _, log) = &results[0];
        prop_assert_eq!(
            checked.code == 0,
            *code == 0,
            "CheckTx and FinalizeBlock disagree: check {:?}, block {}: {}",
            checked,
            code,
            log
        );
        let after = snapshot(node, &alice, &bob);
        if *code != 0 {
            prop_assert_eq!(after.alice, before.alice, "refused tx moved funds: {}", log);
            prop_assert_eq!(after.bob, before.bob, "refused tx moved funds: {}", log);
            prop_assert_eq!(
                after.collector,
                before.collector,
                "refused tx took a fee: {}",
                log
            );
            prop_assert_eq!(
                after.alice_seq,
                before.alice_seq,
                "refused tx bumped sequence: {}",
                log
            );
        } else {
            // Only a change outside the signed bytes can still be accepted; then it must
            // do precisely what the signer signed.
            prop_assert_eq!(after.alice, before.alice - AMOUNT - FEE);
            prop_assert_eq!(after.bob, before.bob + AMOUNT);
            prop_assert_eq!(after.collector, before.collector + FEE);
            prop_assert_eq!(after.alice_seq, before.alice_seq + 1);
            drop(st);
            *state.borrow_mut() = fresh();
        }
        Ok(())
    });
    // Sanity: the untampered tx does succeed on the chain the mutants ran against,
    // so the refusals above were not caused by the fixture.
    let mut st = state.borrow_mut();
    let (node, alice, bob, valid) = &mut *st;
    let (alice, bob) = (*alice, *bob);
    let before = snapshot(node, &alice, &bob);
    let out = node.execute_block(std::slice::from_ref(valid)).unwrap();
    let codes: Vec<u32> = out.results().map(|r| r.0).collect();
    assert_eq!(codes, vec![0], "{:?}", out.results().collect::<Vec<_>>());
    assert_eq!(balance(node, &bob), before.bob + AMOUNT);
}

// ---------------------------------------------------------------- nesting

/// `levels` levels of field 1 (length-delimited) around a one-field leaf message,
/// built outside-in in linear time.
fn nested(levels: usize) -> Vec<u8> {
    fn varint_len(mut v: usize) -> usize {
        let mut n = 1;
        while v >= 0x80 {
            v >>= 7;
            n += 1;
        }
        n
    }
    fn push_varint(out: &mut Vec<u8>, mut v: usize) {
        while v >= 0x80 {
            out.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    let leaf = [0x08u8, 0x01]; // field 1, varint 1
                               // lens[k] = encoded length of the message with k levels of wrapping.
    let mut lens = Vec::with_capacity(levels + 1);
    lens.push(leaf.len());
    for k in 0..levels {
        let inner = lens[k];
        lens.push(1 + varint_len(inner) + inner);
    }
    let mut out = Vec::with_capacity(lens[levels]);
    for k in (0..levels).rev() {
        out.push(0x0a);
        push_varint(&mut out, lens[k]);
    }
    out.extend_from_slice(&leaf);
    assert_eq!(out.len(), lens[levels]);
    out
}

/// A correctly signed alice→bob send whose body carries `extension` as a
/// non-critical extension option, so only the content of that option can get it refused.
fn signed_with_extension(user: &User, to: &Address, extension: Vec<u8>) -> Vec<u8> {
    let builder = TxBuilder::new()
        .msg(msg_send(&user.address, to, &[Coin::new("uve", AMOUNT)]))
        .fee(vec![Coin::new("uve", 100_000)])
        .gas_limit(4_000_000);
    let mut body = builder.body();
    body.non_critical_extension_options.push(Any {
        type_url: "/virtengine.test.Nested".into(),
        value: extension,
    });
    let body_bytes = body.encode_to_vec();
    let auth_info_bytes = builder
        .auth_info(&user.key.public_key(), user.sequence)
        .encode_to_vec();
    let doc = sign_doc_bytes(&body_bytes, &auth_info_bytes, TEST_CHAIN_ID, user.number);
    TxRaw {
        body_bytes,
        auth_info_bytes,
        signatures: vec![user.key.sign(&doc).to_vec()],
    }
    .encode_to_vec()
}

fn assert_refused_quickly(node: &TestNode, what: &str, tx: &[u8]) {
    let start = Instant::now();
    let out = node.app().check_tx(tx);
    let took = start.elapsed();
    assert_ne!(out.code, 0, "{what}: accepted: {out:?}");
    assert!(
        took < Duration::from_secs(1),
        "{what}: refusing took {took:?}"
    );
}

#[test]
fn ten_thousand_levels_of_nesting_are_refused_quickly_everywhere_in_a_tx() {
    let (mut node, users) = chain(2);
    let bob = users[1].address;
    let deep = nested(10_000);
    assert!(
        deep.len() < 100_000,
        "payload stays far below the size limit"
    );

    // As the whole tx, as the body, as the auth info, and inside a message's value.
    assert_refused_quickly(&node, "whole tx", &deep);
    let framed = |body: Vec<u8>, auth: Vec<u8>| {
        TxRaw {
            body_bytes: body,
            auth_info_bytes: auth,
            signatures: vec![vec![0; 64]],
        }
        .encode_to_vec()
    };
    assert_refused_quickly(&node, "body_bytes", &framed(deep.clone(), vec![]));
    assert_refused_quickly(&node, "auth_info_bytes", &framed(vec![], deep.clone()));
    let body_with_msg = ve_proto::cosmos::tx::v1beta1::TxBody {
        messages: vec![Any {
            type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
            value: deep.clone(),
        }],
        ..Default::default()
    }
    .encode_to_vec();
    assert_refused_quickly(&node, "message value", &framed(body_with_msg, vec![]));

    // Correctly signed, where the decoder itself never recurses into the payload: only
    // the nesting bound can refuse it, and it must, with the nesting reason.
    let deep_signed = signed_with_extension(&users[0], &bob, deep);
    assert_refused_quickly(&node, "signed extension option", &deep_signed);
    let out = node.app().check_tx(&deep_signed);
    assert!(out.log.contains("nest"), "refused for the nesting: {out:?}");
    let block = node
        .execute_block(std::slice::from_ref(&deep_signed))
        .unwrap();
    let (code, _, log) = block.results().next().unwrap();
    assert_ne!(code, 0, "FinalizeBlock accepted the deep tx: {log}");
    assert_eq!(balance(&node, &bob), START, "nothing moved");

    // Control: the very same construction with shallow nesting is accepted, so the
    // refusals above are due to depth alone.
    let shallow_signed = signed_with_extension(&users[0], &bob, nested(3));
    let block = node.execute_block(&[shallow_signed]).unwrap();
    let (code, _, log) = block.results().next().unwrap();
    assert_eq!(code, 0, "shallow control refused: {log}");
    assert_eq!(balance(&node, &bob), START + AMOUNT);
}

// ---------------------------------------------------------------- blocks

#[derive(Clone, Debug)]
enum Item {
    /// A valid send from user `from` to user `to` (indices mod the user count).
    Valid { from: u8, to: u8, amount: u16 },
    /// Random bytes.
    Garbage(Vec<u8>),
    /// A tampered copy of the most recent valid tx of this block (skipped if none).
    Tampered(Mutation),
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        3 => (any::<u8>(), any::<u8>(), 1u16..1000).prop_map(|(from, to, amount)| Item::Valid { from, to, amount }),
        2 => prop::collection::vec(any::<u8>(), 0..256).prop_map(Item::Garbage),
        2 => mutation().prop_map(Item::Tampered),
    ]
}

#[test]
fn garbage_in_a_block_does_not_stop_the_valid_txs_from_executing() {
    const USERS: usize = 3;
    let state = RefCell::new(chain(USERS as u8));
    let expected = RefCell::new([START; USERS]);
    check(96, prop::collection::vec(item(), 0..14), |items| {
        let mut st = state.borrow_mut();
        let (node, users) = &mut *st;
        let mut expected = expected.borrow_mut();
        let mut txs: Vec<Vec<u8>> = Vec::new();
        let mut must_succeed: Vec<bool> = Vec::new();
        let mut last_valid: Option<Vec<u8>> = None;
        for it in items {
            match it {
                Item::Valid { from, to, amount } => {
                    let (from, to) = (from as usize % USERS, to as usize % USERS);
                    let to_addr = users[to].address;
                    let tx = users[from].send(&to_addr, u128::from(amount));
                    expected[from] -= u128::from(amount) + FEE;
                    expected[to] += u128::from(amount);
                    last_valid = Some(tx.clone());
                    txs.push(tx);
                    must_succeed.push(true);
                }
                Item::Garbage(bytes) => {
                    txs.push(bytes);
                    must_succeed.push(false);
                }
                Item::Tampered(m) => {
                    // Placed after its original: even a tamper that kept the meaning is
                    // then a replay of a used sequence and must be refused.
                    if let Some(v) = &last_valid {
                        let t = m.apply(v);
                        if t != *v {
                            txs.push(t);
                            must_succeed.push(false);
                        }
                    }
                }
            }
        }
        let out = node
            .execute_block(&txs)
            .map_err(|e| TestCaseError::fail(format!("block failed: {e:?}")))?;
        let results: Vec<_> = out.results().map(|(c, _, l)| (c, l.to_string())).collect();
        prop_assert_eq!(results.len(), txs.len(), "one result per tx");
        for (i, ((code, log), ok)) in results.iter().zip(&must_succeed).enumerate() {
            if *ok {
                prop_assert_eq!(*code, 0, "valid tx #{} refused: {}", i, log);
            } else {
                prop_assert_ne!(*code, 0, "invalid tx #{} accepted: {:02x?}", i, txs[i]);
            }
        }
        for (u, want) in users.iter().zip(expected.iter()) {
            prop_assert_eq!(balance(node, &u.address), *want);
            prop_assert_eq!(sequence(node, &u.address), u.sequence);
        }
        Ok(())
    });
}

// ---------------------------------------------------------------- queries

const QUERY_PATHS: &[&str] = &[
    ve_auth::query::ACCOUNT,
    ve_auth::query::ACCOUNTS,
    ve_auth::query::PARAMS,
    ve_auth::query::MODULE_ACCOUNTS_PATH,
    ve_bank::query::BALANCE,
    ve_bank::query::ALL_BALANCES,
    ve_bank::query::SPENDABLE_BALANCES,
    ve_bank::query::TOTAL_SUPPLY,
    ve_bank::query::SUPPLY_OF,
    ve_bank::query::DENOM_METADATA,
    ve_bank::query::PARAMS,
    "/cosmos.tx.v1beta1.Service/Simulate",
    "/store/key",
    "/store/bank/key",
    "/no.such.Service/Method",
];

#[test]
fn random_query_data_on_every_path_is_answered_at_the_asked_height_or_refused() {
    let (mut node, mut users) = chain(2);
    let bob = users[1].address;
    node.execute_block(&[]).unwrap();
    node.execute_block(&[users[0].send(&bob, AMOUNT)]).unwrap();
    let latest = node.height();
    check(
        512,
        (
            0..QUERY_PATHS.len(),
            prop::collection::vec(any::<u8>(), 0..256),
            0..latest + 3,
            any::<bool>(),
        ),
        |(path, data, height, prove)| {
            let r = node.app().query(QUERY_PATHS[path], &data, height, prove);
            if r.code == 0 {
                prop_assert!(height <= latest, "answered for future height {}", height);
                if height != 0 {
                    prop_assert_eq!(r.height, height);
                }
            } else {
                prop_assert!(!r.log.is_empty(), "refusal without a reason: {:?}", r);
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------- fuzz regressions

/// Inputs that must be refused by CheckTx and in a block: edge cases of the decoder,
/// plus any crash input found by the cargo-fuzz targets under `fuzz/` (append those
/// here as hex with what they exercised, so they stay fixed).
const REFUSED_INPUTS: &[(&str, &str)] = &[
    ("", "empty tx"),
    ("00", "a single zero byte (field number 0)"),
    ("0affffffffffffffffff01", "body length of u64::MAX"),
    ("0a80808080808080808002", "overlong 10-byte length varint"),
    ("0a00120022", "truncated signatures field"),
    ("0a0012001a00", "empty body, auth info and signature"),
];

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn decoder_edge_cases_and_fuzz_findings_are_refused_in_check_tx_and_blocks() {
    let (mut node, _users) = chain(2);
    let mut inputs: Vec<(Vec<u8>, String)> = REFUSED_INPUTS
        .iter()
        .map(|(h, what)| (hex_bytes(h), what.to_string()))
        .collect();
    // Just past and far past the nesting bound, and one byte over the size bound.
    inputs.push((nested(17), "17 levels of nesting".into()));
    inputs.push((nested(200), "200 levels of nesting".into()));
    inputs.push((vec![0; 1024 * 1024 + 1], "1 MiB + 1 byte".into()));
    for (bytes, what) in &inputs {
        let out = node.app().check_tx(bytes);
        assert_ne!(out.code, 0, "{what}: CheckTx accepted: {out:?}");
        assert!(!out.log.is_empty(), "{what}: no reason given");
    }
    let block: Vec<Vec<u8>> = inputs.iter().map(|(b, _)| b.clone()).collect();
    let out = node.execute_block(&block).unwrap();
    let codes: Vec<u32> = out.results().map(|r| r.0).collect();
    assert_eq!(codes.len(), inputs.len());
    for (code, (_, what)) in codes.iter().zip(&inputs) {
        assert_ne!(*code, 0, "{what}: accepted in a block");
    }
}
