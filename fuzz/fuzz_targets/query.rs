//! ABCI queries with a path chosen from the known routes (or raw) and arbitrary data,
//! height and prove flag: no panic, and an answer is either an error or given at the
//! height asked for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use ve_fuzz::{carol_txs, harness, join_query, split_query, write_seeds, DENOM, QUERY_PATHS};

fuzz_target!(
    init: {
        write_seeds(|| {
            use ve_proto::cosmos::auth::v1beta1::QueryAccountRequest;
            use ve_proto::cosmos::bank::v1beta1::{
                QueryAllBalancesRequest, QueryBalanceRequest, QuerySupplyOfRequest,
            };
            use ve_proto::cosmos::tx::v1beta1::SimulateRequest;
            let h = harness();
            let addr = h.alice.address.to_string();
            let mut seeds = Vec::new();
            for (i, path) in QUERY_PATHS.iter().enumerate() {
                let data = match *path {
                    p if p == ve_auth::query::ACCOUNT => {
                        QueryAccountRequest { address: addr.clone() }.encode_to_vec()
                    }
                    p if p == ve_bank::query::BALANCE => QueryBalanceRequest {
                        address: addr.clone(),
                        denom: DENOM.into(),
                    }
                    .encode_to_vec(),
                    p if p == ve_bank::query::ALL_BALANCES
                        || p == ve_bank::query::SPENDABLE_BALANCES =>
                    {
                        QueryAllBalancesRequest {
                            address: addr.clone(),
                            ..Default::default()
                        }
                        .encode_to_vec()
                    }
                    p if p == ve_bank::query::SUPPLY_OF => {
                        QuerySupplyOfRequest { denom: DENOM.into() }.encode_to_vec()
                    }
                    "/cosmos.tx.v1beta1.Service/Simulate" => {
                        #[allow(deprecated)]
                        SimulateRequest {
                            tx: None,
                            tx_bytes: carol_txs(&h, 1).remove(0),
                        }
                        .encode_to_vec()
                    }
                    p if p.starts_with("/store/") => h.alice.address.as_bytes().to_vec(),
                    _ => Vec::new(),
                };
                let i = u8::try_from(i).unwrap_or(0);
                seeds.push((format!("path-{i}-latest"), join_query(i, 0, &data)));
                seeds.push((format!("path-{i}-h1-prove"), join_query(i, 0b011, &data)));
            }
            seeds
        });
    },
    |data: &[u8]| {
        let h = harness();
        let current = h.node.height();
        let q = split_query(data, current);
        let r = h.node.app().query(&q.path, &q.data, q.height, q.prove);
        if r.code == 0 {
            assert!(
                q.height == 0 || r.height == q.height,
                "answered at height {} when asked for {}: {q:?}",
                r.height,
                q.height
            );
            assert!(q.height <= current, "answered for a future height: {q:?}");
        }
    }
);
