//! Model-based property test: random sends (valid and invalid) against a reference
//! model of balances. After every block the chain's balances equal the model's, and
//! the total supply never changes (fees move to the fee collector, nothing is minted).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
struct Op {
    from: usize,
    to: usize,
    amount: u128,
}

fn ops() -> impl Strategy<Value = Vec<Vec<Op>>> {
    let op = (
        0usize..4,
        0usize..4,
        prop_oneof![1u128..1_000, 0u128..2_000_000_000],
    )
        .prop_map(|(from, to, amount)| Op { from, to, amount });
    prop::collection::vec(prop::collection::vec(op, 0..6), 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn balances_follow_the_reference_model_and_supply_is_conserved(blocks in ops()) {
        let (mut node, mut users) = chain(4);
        let collector = ve_types::Address::module("fee_collector");
        let mut model: BTreeMap<ve_types::Address, u128> = users.iter().map(|u| (u.address, START)).collect();
        model.insert(collector, 0);
        for block in blocks {
            let mut txs = Vec::new();
            let mut expected = Vec::new();
            for op in &block {
                let to = users[op.to].address;
                let from = users[op.from].address;
                txs.push(users[op.from].send(&to, op.amount));
                // Model: the fee is always taken (ante passes); the send only if affordable after it.
                let have = model[&from];
                if have < FEE {
                    expected.push(false);
                    users[op.from].sequence -= 1;
                    continue;
                }
                *model.get_mut(&from).unwrap() -= FEE;
                *model.get_mut(&collector).unwrap() += FEE;
                if model[&from] >= op.amount {
                    *model.get_mut(&from).unwrap() -= op.amount;
                    *model.get_mut(&to).unwrap() += op.amount;
                    expected.push(true);
                } else {
                    expected.push(false);
                }
            }
            let out = node.execute_block(&txs).unwrap();
            let ok: Vec<bool> = out.results().map(|r| r.0 == 0).collect();
            prop_assert_eq!(ok, expected);
            let mut total = 0u128;
            for (addr, want) in &model {
                prop_assert_eq!(balance(&node, addr), *want);
                total += balance(&node, addr);
            }
            prop_assert_eq!(total, 4 * START);
        }
    }
}
