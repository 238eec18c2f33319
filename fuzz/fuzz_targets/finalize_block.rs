//! FinalizeBlock + Commit of a block of arbitrary transactions (split from the input)
//! with one valid signed transaction placed among them: no panic, no block-level error,
//! one result per transaction, and the valid one succeeds with exactly its effect.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ve_fuzz::{carol_txs, harness, join_block, split_block, write_seeds, FEE};

const AMOUNT: u128 = 3;

fuzz_target!(
    init: {
        write_seeds(|| {
            let h = harness();
            let carol = carol_txs(&h, 3);
            vec![
                ("empty".into(), join_block(0, &[])),
                ("carol-one".into(), join_block(1, &carol[..1])),
                ("carol-three".into(), join_block(2, &carol)),
                (
                    "carol-and-garbage".into(),
                    join_block(1, &[carol[0].clone(), vec![0x0a, 0x02, 0x08], carol[1].clone()]),
                ),
            ]
        });
    },
    |data: &[u8]| {
        let mut h = harness();
        let (pos, mut txs) = split_block(data);
        let bob = h.bob.address;
        let valid = h.alice.send(&bob, AMOUNT);
        txs.insert(pos, valid);
        let alice_before = h.alice_balance();
        let out = match h.node.execute_block(&txs) {
            Ok(o) => o,
            Err(e) => panic!("block-level error (would halt the chain): {e:?}"),
        };
        let results: Vec<_> = out.results().collect();
        assert_eq!(results.len(), txs.len(), "one result per tx");
        let (code, space, log) = results[pos];
        assert_eq!(code, 0, "valid tx at #{pos} refused: {space} {log}");
        drop(out);
        assert_eq!(
            h.alice_balance(),
            alice_before - AMOUNT - FEE,
            "the valid tx had exactly its effect"
        );
    }
);
