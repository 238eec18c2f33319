//! CheckTx on arbitrary bytes: must never panic, and whatever it answers must be a
//! well-formed outcome (a refusal names its codespace).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ve_fuzz::{carol_txs, harness, write_seeds};

fuzz_target!(
    init: {
        write_seeds(|| {
            let h = harness();
            carol_txs(&h, 4)
                .into_iter()
                .enumerate()
                .map(|(i, tx)| (format!("carol-send-{i}"), tx))
                .collect()
        });
    },
    |data: &[u8]| {
        let h = harness();
        let out = h.node.app().check_tx(data);
        if out.code != 0 {
            assert!(!out.codespace.is_empty(), "refusal without codespace: {out:?}");
        }
    }
);
