//! Lease usage records through mock consensus (issue #9 item 6): the provider reports the
//! cumulative usage its back end measured (`MsgRecordLeaseUsage`) in sequence, bounded by
//! the leased resources and the elapsed block time, once more after the lease closes
//! (final), and never after that; each withdrawal's event carries the usage it covers.
//! The lease under test: one unit of 500 millicores and 512 MiB, no GPU.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod market_common;
use common::*;
use market_common::*;
use ve_app::testing::{TestNode, BLOCK_SECONDS};
use ve_app::AppGenesis;
use ve_market::proto as mp;
use ve_types::Address;

const RATE: u128 = 800;
const MILLICORES: u64 = 500;
const MEMORY: u64 = 512 << 20;
const USAGE_URL: &str = "/virtengine.market.v1.MsgRecordLeaseUsage";
const USAGE_QUERY: &str = "/virtengine.market.v1.Query/LeaseUsage";

/// A chain with two providers and an active lease of the tenant's dseq 1 with provider 0;
/// returns the market and the lease id.
fn leased() -> (Market, mp::BidId) {
    leased_with(|_| {}, DEPOSIT, RATE)
}

/// [`leased`] with a genesis edit, the deployment's deposit and the price per block.
fn leased_with(
    edit: impl FnOnce(&mut AppGenesis),
    deposit: u128,
    price: u128,
) -> (Market, mp::BidId) {
    let mut m = market(2, edit);
    let t = m.tenant.address;
    let p = m.providers[0].address;
    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![group_spec("web", PRICE_CAP, "eu-west")],
        deposit,
    );
    ok(&mut m.node, tx);
    let tx = create_bid(&mut m.providers[0], &t, 1, 1, price);
    ok(&mut m.node, tx);
    let id = bid_id(&t, 1, 1, 1, &p);
    let tx = create_lease(&mut m.tenant, id.clone());
    ok(&mut m.node, tx);
    (m, id)
}

/// Usage of a workload that ran `wall` seconds at `cpu_share`/1000 of its CPU and half
/// its memory.
fn usage(wall: u64, cpu_share: u64) -> mp::LeaseUsage {
    mp::LeaseUsage {
        cpu_milli_seconds: MILLICORES * wall * cpu_share / 1000,
        memory_byte_seconds: MEMORY / 2 * wall,
        storage_bytes: 100 << 20,
        gpu_seconds: 0,
        wall_seconds: wall,
    }
}

fn record(
    u: &mut User,
    id: &mp::BidId,
    seq: u64,
    cumulative: mp::LeaseUsage,
    last: bool,
) -> Vec<u8> {
    sign(
        u,
        USAGE_URL,
        &mp::MsgRecordLeaseUsage {
            id: Some(id.clone()),
            seq,
            cumulative: Some(cumulative),
            r#final: last,
        },
    )
}

fn lease_usage(node: &TestNode, id: &mp::BidId) -> mp::QueryLeaseUsageResponse {
    query(
        node,
        USAGE_QUERY,
        &mp::QueryLeaseUsageRequest {
            id: Some(id.clone()),
        },
    )
}

fn last_seq(node: &TestNode, id: &mp::BidId) -> u64 {
    lease_usage(node, id).summary.unwrap().last_seq
}

fn attr<'a>(e: &'a ve_module::Event, key: &str) -> &'a str {
    e.attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{} has no {key}", e.kind))
}

/// Runs one tx that must succeed and returns the event of `kind` it emitted.
fn ok_event(node: &mut TestNode, tx: Vec<u8>, kind: &str) -> ve_module::Event {
    let out = node.execute_block(&[tx]).unwrap();
    let (code, space, log) = out.results().next().unwrap();
    assert_eq!(code, 0, "{space} {code}: {log}");
    let (events, _) = out.tx_events_and_data().next().unwrap();
    events.iter().find(|e| e.kind == kind).unwrap().clone()
}

#[test]
fn provider_records_cumulative_usage_in_sequence() {
    let (mut m, id) = leased();
    // Nothing recorded yet: the provider's next seq is 1.
    let r = lease_usage(&m.node, &id);
    assert_eq!(r.summary.as_ref().unwrap().last_seq, 0);
    assert!(r.records.is_empty());

    let first = usage(BLOCK_SECONDS as u64, 800);
    let tx = record(&mut m.providers[0], &id, 1, first, false);
    let e = ok_event(&mut m.node, tx, "lease_usage_recorded");
    assert_eq!(attr(&e, "seq"), "1");
    assert_eq!(attr(&e, "final"), "false");
    assert_eq!(attr(&e, "provider"), id.provider);
    assert_eq!(attr(&e, "dseq"), "1");
    let h1 = m.node.height() as i64;

    let second = usage(2 * BLOCK_SECONDS as u64, 900);
    let tx = record(&mut m.providers[0], &id, 2, second, false);
    let e = ok_event(&mut m.node, tx, "lease_usage_recorded");
    assert_eq!(attr(&e, "seq"), "2");
    let cpu_delta = second.cpu_milli_seconds - first.cpu_milli_seconds;
    assert_eq!(attr(&e, "cpu_milli_seconds"), cpu_delta.to_string());
    assert_eq!(attr(&e, "wall_seconds"), BLOCK_SECONDS.to_string());

    let r = lease_usage(&m.node, &id);
    let s = r.summary.unwrap();
    assert_eq!((s.last_seq, s.r#final), (2, false));
    assert_eq!(s.cumulative.as_ref(), Some(&second));
    assert_eq!(s.last_height, m.node.height() as i64);
    assert_eq!(r.records.len(), 2);
    assert_eq!((r.records[0].seq, r.records[0].height), (1, h1));
    assert_eq!(r.records[0].delta.as_ref(), Some(&first));
    assert_eq!(r.records[1].seq, 2);
    assert_eq!(
        r.records[1].delta.as_ref().unwrap().cpu_milli_seconds,
        cpu_delta
    );

    // The provider withdraws: the payout's event names the usage it covers.
    let tx = withdraw_lease(&mut m.providers[0], id.clone());
    let e = ok_event(&mut m.node, tx, "lease_withdrawn");
    assert_eq!(attr(&e, "usage_last_seq"), "2");
    assert_eq!(
        attr(&e, "usage_cpu_milli_seconds"),
        second.cpu_milli_seconds.to_string()
    );
    assert_eq!(
        attr(&e, "usage_memory_byte_seconds"),
        second.memory_byte_seconds.to_string()
    );
    assert!(attr(&e, "payout").ends_with("uve"));
}

#[test]
fn usage_record_above_leased_resources_is_refused() {
    let (mut m, id) = leased();
    let wall = 2 * BLOCK_SECONDS as u64;
    let p = &mut m.providers[0];
    // Bounds allow one second more than the floored wall time (the back end's rounding).
    let too_much_cpu = mp::LeaseUsage {
        cpu_milli_seconds: MILLICORES * (wall + 1) + 1,
        ..usage(wall, 0)
    };
    let too_much_memory = mp::LeaseUsage {
        memory_byte_seconds: MEMORY * (wall + 1) + 1,
        ..usage(wall, 0)
    };
    let gpu_not_leased = mp::LeaseUsage {
        gpu_seconds: 1,
        ..usage(wall, 0)
    };
    // The lease is one block (5 s) old at the next block: 5 s + 120 s slack at most (each
    // refused record is a block, so this one goes first).
    let longer_than_the_lease = usage(BLOCK_SECONDS as u64 + 121, 0);
    for (bad, counter) in [
        (longer_than_the_lease, "wall_seconds"),
        (too_much_cpu, "cpu_milli_seconds"),
        (too_much_memory, "memory_byte_seconds"),
        (gpu_not_leased, "gpu_seconds"),
    ] {
        let tx = record(p, &id, 1, bad, false);
        let (code, space, log) = run(&mut m.node, tx);
        assert_eq!((code, space.as_str()), (29, "market"), "{counter}: {log}");
        assert!(log.contains(counter), "{log}");
    }
    assert_eq!(last_seq(&m.node, &id), 0);

    // Exactly the leased resources, the whole time: accepted.
    let full = mp::LeaseUsage {
        cpu_milli_seconds: MILLICORES * wall,
        memory_byte_seconds: MEMORY * wall,
        ..usage(wall, 0)
    };
    let tx = record(p, &id, 1, full, false);
    ok(&mut m.node, tx);
    assert_eq!(last_seq(&m.node, &id), 1);
}

#[test]
fn usage_counters_cannot_go_backwards() {
    let (mut m, id) = leased();
    let p = &mut m.providers[0];
    let first = usage(10, 500);
    let tx = record(p, &id, 1, first, false);
    ok(&mut m.node, tx);
    let less_cpu = mp::LeaseUsage {
        cpu_milli_seconds: first.cpu_milli_seconds - 1,
        ..usage(20, 500)
    };
    let tx = record(p, &id, 2, less_cpu, false);
    let (code, space, log) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (28, "market"));
    assert!(log.contains("cpu_milli_seconds"), "{log}");
    let shorter = mp::LeaseUsage {
        wall_seconds: first.wall_seconds - 1,
        ..first
    };
    let tx = record(p, &id, 2, shorter, false);
    let (code, _, log) = run(&mut m.node, tx);
    assert_eq!(code, 28);
    assert!(log.contains("wall_seconds"), "{log}");

    // Storage is a level: it may shrink.
    let smaller_disk = mp::LeaseUsage {
        storage_bytes: 1,
        ..usage(20, 500)
    };
    let tx = record(p, &id, 2, smaller_disk, false);
    ok(&mut m.node, tx);
    let r = lease_usage(&m.node, &id);
    assert_eq!(r.records[1].delta.as_ref().unwrap().storage_bytes, 1);
}

#[test]
fn only_the_lease_provider_records_usage() {
    let (mut m, id) = leased();
    let stranger = m.stranger.address;
    // Signed by someone else than id.provider: refused before the handler runs.
    for u in [&mut m.stranger, &mut m.tenant] {
        let tx = record(u, &id, 1, usage(5, 100), false);
        let (code, _, log) = run(&mut m.node, tx);
        assert_ne!(code, 0, "{log}");
        u.sequence = sequence(&m.node, &u.address);
    }
    // Naming themselves as provider: they have no such lease, nor has the losing bidder.
    let as_stranger = mp::BidId {
        provider: stranger.to_string(),
        ..id.clone()
    };
    let tx = record(&mut m.stranger, &as_stranger, 1, usage(5, 100), false);
    let (code, space, log) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (15, "market"), "{log}");
    assert!(log.contains("not found"), "{log}");
    let other: Address = m.providers[1].address;
    let as_other = mp::BidId {
        provider: other.to_string(),
        ..id.clone()
    };
    let tx = record(&mut m.providers[1], &as_other, 1, usage(5, 100), false);
    assert_eq!(run(&mut m.node, tx).0, 15);
    assert_eq!(
        query_err(
            &m.node,
            USAGE_QUERY,
            &mp::QueryLeaseUsageRequest { id: Some(as_other) }
        ),
        (15, "market".to_string())
    );
    assert_eq!(last_seq(&m.node, &id), 0);
}

#[test]
fn final_usage_record_is_accepted_after_close_and_nothing_after_it() {
    let (mut m, id) = leased();
    let tx = record(&mut m.providers[0], &id, 1, usage(5, 500), false);
    ok(&mut m.node, tx);
    let tx = close_lease(&mut m.tenant, id.clone());
    ok(&mut m.node, tx);
    assert_eq!(
        lease(&m.node, id.clone()).lease.unwrap().state,
        mp::LeaseState::Closed as i32
    );
    // After teardown the provider reports the closing usage (not final yet: still open).
    let tx = record(&mut m.providers[0], &id, 2, usage(10, 500), false);
    ok(&mut m.node, tx);
    let tx = record(&mut m.providers[0], &id, 3, usage(12, 500), true);
    let e = ok_event(&mut m.node, tx, "lease_usage_recorded");
    assert_eq!(attr(&e, "final"), "true");
    let s = lease_usage(&m.node, &id).summary.unwrap();
    assert_eq!((s.last_seq, s.r#final), (3, true));

    let tx = record(&mut m.providers[0], &id, 4, usage(13, 500), false);
    let (code, space, log) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (26, "market"));
    let lease_name = format!(
        "{}/{}/{}/{}/{}",
        id.owner, id.dseq, id.gseq, id.oseq, id.provider
    );
    assert!(log.contains(&lease_name), "{log}");
    assert_eq!(last_seq(&m.node, &id), 3);
}

#[test]
fn usage_is_recorded_while_the_lease_is_paused_and_after_escrow_closes_it() {
    // 10 000 uve at 1 000 per block: dry after 10 blocks, closed 5 blocks later.
    let (mut m, id) = leased_with(
        |g| {
            g.deployment.params.min_deposits = vec![ve_types::Coin::new("uve", 10_000)];
            g.escrow.params.grace_period_blocks = 5;
        },
        10_000,
        1_000,
    );
    let state = |m: &Market| lease(&m.node, id.clone()).lease.unwrap().state;
    m.node.advance_to(m.node.height() + 11).unwrap();
    assert_eq!(state(&m), mp::LeaseState::InsufficientFunds as i32);
    let tx = record(&mut m.providers[0], &id, 1, usage(50, 100), false);
    ok(&mut m.node, tx);

    m.node.advance_to(m.node.height() + 6).unwrap();
    assert_eq!(state(&m), mp::LeaseState::Closed as i32);
    let tx = record(&mut m.providers[0], &id, 2, usage(60, 100), true);
    ok(&mut m.node, tx);
    let s = lease_usage(&m.node, &id).summary.unwrap();
    assert_eq!((s.last_seq, s.r#final), (2, true));
}

#[test]
fn repeated_usage_seq_is_refused_with_its_own_code() {
    let (mut m, id) = leased();
    let p = &mut m.providers[0];
    let tx = record(p, &id, 1, usage(5, 500), false);
    ok(&mut m.node, tx);
    // A daemon re-sending seq 1 after a crash learns it is already recorded.
    let tx = record(p, &id, 1, usage(5, 500), false);
    let (code, space, log) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (25, "market"));
    assert!(log.contains("usage record 1 "), "{log}");
    assert!(log.contains("already recorded"), "{log}");
    // A gap is a different error.
    let tx = record(p, &id, 3, usage(10, 500), false);
    let (code, _, log) = run(&mut m.node, tx);
    assert_eq!(code, 27, "{log}");
    assert!(log.contains("the next is 2"), "{log}");
    // seq 0 never exists.
    let tx = record(p, &id, 0, usage(10, 500), false);
    assert_ne!(run(&mut m.node, tx).0, 0);
    p.sequence = sequence(&m.node, &p.address);
    // The final record re-sent is "already recorded" too, not "finalized".
    let tx = record(p, &id, 2, usage(10, 500), true);
    ok(&mut m.node, tx);
    let tx = record(p, &id, 2, usage(10, 500), true);
    assert_eq!(run(&mut m.node, tx).0, 25);
}

#[test]
fn usage_state_and_query_keep_the_latest_hundred_records_newest_last() {
    let (mut m, id) = leased();
    // 120 records of one second each, six per block (the lease ages 5 s per block and
    // wall time may run 120 s ahead).
    let mut seq = 0u64;
    while seq < 120 {
        let txs: Vec<Vec<u8>> = (0..6)
            .map(|_| {
                seq += 1;
                record(&mut m.providers[0], &id, seq, usage(seq, 500), false)
            })
            .collect();
        let out = m.node.execute_block(&txs).unwrap();
        assert!(out.results().all(|(c, _, _)| c == 0));
    }
    let r = lease_usage(&m.node, &id);
    assert_eq!(r.summary.unwrap().last_seq, 120);
    let seqs: Vec<u64> = r.records.iter().map(|x| x.seq).collect();
    assert_eq!(seqs, (21..=120).collect::<Vec<_>>());
    // Older records are deleted, not only hidden: state holds exactly the latest 100.
    let exported = m.node.app().export_genesis(m.node.height()).unwrap();
    let stored = exported.state.unwrap().modules["market"]
        .iter()
        .filter(|(k, _)| hex::decode(k).unwrap().starts_with(b"market/usagerec/"))
        .count();
    assert_eq!(stored, 100);
}

#[test]
fn exported_genesis_keeps_usage_records_and_the_next_seq() {
    let (mut m, id) = leased();
    let tx = record(&mut m.providers[0], &id, 1, usage(5, 500), false);
    ok(&mut m.node, tx);
    let tx = record(&mut m.providers[0], &id, 2, usage(10, 500), false);
    ok(&mut m.node, tx);
    let before = lease_usage(&m.node, &id);

    let exported = m.node.app().export_genesis(0).unwrap();
    let json = serde_json::to_vec(&exported).unwrap();
    let imported: AppGenesis = serde_json::from_slice(&json).unwrap();
    let mut fresh = TestNode::from_export(&imported, m.node.height()).unwrap();
    // InitChain stages the imported state; the first block commits it.
    fresh.execute_block(&[]).unwrap();
    assert_eq!(lease_usage(&fresh, &id), before);

    // The imported chain continues the sequence and still refuses a repeat.
    let tx = record(&mut m.providers[0], &id, 2, usage(10, 500), false);
    assert_eq!(run(&mut fresh, tx).0, 25);
    let tx = record(&mut m.providers[0], &id, 3, usage(15, 500), true);
    ok(&mut fresh, tx);
    assert_eq!(last_seq(&fresh, &id), 3);
}
