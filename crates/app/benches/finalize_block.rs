//! App-only throughput: FinalizeBlock + Commit of blocks of pre-signed bank sends, through the
//! mock-consensus harness (`ve_app::testing::TestNode`: no CometBFT, no sockets).
//!
//! Two variants of the same work, measured in the same run:
//! - `parallel`: the app as it runs in a node (stateless checks — decoding, signature
//!   verification — spread over all cores with rayon, then sequential execution);
//! - `one_thread`: identical blocks with rayon confined to a single thread, i.e. what the
//!   pipeline costs without the parallel stateless phase.
//!
//! The printed ratio parallel/one_thread is the speed-up the parallel stateless phase buys on
//! this machine (bounded by the core count and by the sequential share: execution and commit).
//! Signing happens before the clock starts. Every tx must succeed (code 0), so a benchmark that
//! silently measured rejections is impossible.
//!
//! Knobs (env): `BENCH_BLOCK_TXS` (5000), `BENCH_ACCOUNTS` (1000).
//! Run: `cargo bench -p ve-app --bench finalize_block`.

// A benchmark aborts loudly on a setup failure and measures wall-clock time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

use criterion::{criterion_group, BenchmarkId, Criterion, SamplingMode, Throughput};
use prost::Message;
use rayon::prelude::*;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use ve_app::testing::{TestNode, TEST_CHAIN_ID};
use ve_app::AppGenesis;
use ve_client::tx::{msg_send, TxBuilder};
use ve_crypto::{sha256, PrivateKey};
use ve_proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountRequest, QueryAccountResponse};
use ve_types::{Address, Coin, Coins};

const FEE: u128 = 5_000;
const GAS: u64 = 200_000;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Sender {
    key: PrivateKey,
    address: Address,
    number: u64,
    sequence: u64,
}

/// A funded chain plus the senders' next sequences, so blocks can be signed just before use.
struct Bench {
    node: TestNode,
    senders: Vec<Sender>,
    block_txs: usize,
    next_sender: usize,
}

impl Bench {
    fn new(accounts: usize, block_txs: usize) -> Self {
        let keys: Vec<PrivateKey> = (0..accounts)
            .map(|i| PrivateKey::from_bytes(&sha256(format!("bench-{i}").as_bytes())).unwrap())
            .collect();
        let mut genesis = AppGenesis::default();
        for k in &keys {
            let coins = Coins::from_list([Coin::new("uve", 1_000_000_000_000)]).unwrap();
            genesis
                .add_account(k.public_key().address(), &coins)
                .unwrap();
        }
        let mut node = TestNode::new(&genesis).unwrap();
        // Genesis state is written by the first block; account numbers are readable after it.
        node.execute_block(&[]).unwrap();
        let senders = keys
            .into_iter()
            .map(|key| {
                let address = key.public_key().address();
                let req = QueryAccountRequest {
                    address: address.to_string(),
                }
                .encode_to_vec();
                let r = node
                    .app()
                    .query("/cosmos.auth.v1beta1.Query/Account", &req, 0, false);
                assert_eq!(r.code, 0, "{}", r.log);
                let any = QueryAccountResponse::decode(r.value.as_slice())
                    .unwrap()
                    .account
                    .unwrap();
                let acc = BaseAccount::decode(any.value.as_slice()).unwrap();
                Sender {
                    key,
                    address,
                    number: acc.account_number,
                    sequence: acc.sequence,
                }
            })
            .collect();
        Self {
            node,
            senders,
            block_txs,
            next_sender: 0,
        }
    }

    /// Signs the next block: senders in round-robin, each to the next account, sequences
    /// continuing from the previous block.
    fn sign_block(&mut self) -> Vec<Vec<u8>> {
        let n = self.senders.len();
        let plan: Vec<(usize, u64)> = (0..self.block_txs)
            .map(|_| {
                let i = self.next_sender;
                self.next_sender = (i + 1) % n;
                let seq = self.senders[i].sequence;
                self.senders[i].sequence += 1;
                (i, seq)
            })
            .collect();
        let senders = &self.senders;
        plan.par_iter()
            .map(|&(i, seq)| {
                let s = &senders[i];
                let to = &senders[(i + 1) % n].address;
                TxBuilder::new()
                    .msg(msg_send(&s.address, to, &[Coin::new("uve", 1)]))
                    .fee(vec![Coin::new("uve", FEE)])
                    .gas_limit(GAS)
                    .sign_direct(&s.key, TEST_CHAIN_ID, s.number, seq)
                    .bytes
            })
            .collect()
    }

    /// FinalizeBlock then Commit; returns (FinalizeBlock time, Commit time).
    fn execute(&mut self, block: &[Vec<u8>]) -> (Duration, Duration) {
        let started = Instant::now();
        let out = self.node.finalize_block(block).unwrap();
        let finalized = started.elapsed();
        self.node.app().commit().unwrap();
        let committed = started.elapsed();
        for (code, codespace, log) in out.results() {
            assert_eq!(
                code, 0,
                "tx failed in the benchmark block: {codespace}: {log}"
            );
        }
        (finalized, committed - finalized)
    }
}

/// Per variant, across all criterion samples: (txs, FinalizeBlock time, Commit time).
static TOTALS: Mutex<[(u64, Duration, Duration); 2]> =
    Mutex::new([(0, Duration::ZERO, Duration::ZERO); 2]);

fn block_txs() -> usize {
    env_usize("BENCH_BLOCK_TXS", 5000)
}

fn accounts() -> usize {
    env_usize("BENCH_ACCOUNTS", 1000)
}

fn finalize_block(c: &mut Criterion) {
    let block_txs = block_txs();
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut bench = Bench::new(accounts(), block_txs);

    let mut group = c.benchmark_group("finalize_block+commit");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(block_txs as u64));
    let variants: [(&str, Option<&rayon::ThreadPool>); 2] =
        [("parallel", None), ("one_thread", Some(&one_thread))];
    for (slot, (name, pool)) in variants.into_iter().enumerate() {
        group.bench_function(BenchmarkId::new(name, format!("{block_txs}tx")), |b| {
            b.iter_custom(|iters| {
                // Sign outside the timed section, then time only FinalizeBlock + Commit.
                let blocks: Vec<Vec<Vec<u8>>> = (0..iters).map(|_| bench.sign_block()).collect();
                let (mut finalize, mut commit) = (Duration::ZERO, Duration::ZERO);
                for block in &blocks {
                    let (f, c) = match pool {
                        Some(p) => p.install(|| bench.execute(block)),
                        None => bench.execute(block),
                    };
                    finalize += f;
                    commit += c;
                }
                let mut t = TOTALS.lock().unwrap();
                t[slot].0 += iters * block_txs as u64;
                t[slot].1 += finalize;
                t[slot].2 += commit;
                finalize + commit
            })
        });
    }
    group.finish();
}

criterion_group!(benches, finalize_block);

/// Prints one variant's throughput and per-block split; returns its tx/s.
fn report(name: &str, (n, finalize, commit): (u64, Duration, Duration)) -> f64 {
    let total = finalize + commit;
    let tps = if total.is_zero() {
        0.0
    } else {
        n as f64 / total.as_secs_f64()
    };
    let blocks = (n as f64 / block_txs() as f64).max(1.0);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / blocks;
    println!(
        "  {name:<26}: {tps:>8.0} tx/s  ({n} txs; per {}-tx block: FinalizeBlock {:.0} ms, Commit {:.0} ms)",
        block_txs(),
        ms(finalize),
        ms(commit)
    );
    tps
}

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    let t = *TOTALS.lock().unwrap();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!();
    println!(
        "finalize_block+commit, bank sends from {} accounts, {cores} cores (all txs code 0):",
        accounts()
    );
    let par = report("parallel stateless checks", t[0]);
    let one = report("one thread (baseline)", t[1]);
    if one > 0.0 {
        println!("  ratio parallel/one_thread : {:.2}x", par / one);
    }
    println!("  target                    : >= 20000 tx/s (parallel)");
}
