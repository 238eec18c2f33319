//! Shared harness for the fuzz targets: one lazily built chain per process, funded
//! accounts that sign real transactions, the input framing of the block target, the
//! list of known query paths, and seed-corpus writing.
//!
//! Signing is done here with `ve-proto` and `ve-crypto` directly (not `ve-client`) so
//! the instrumented build stays small.

use prost::Message;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};
use ve_app::testing::{TestNode, TEST_CHAIN_ID};
use ve_app::AppGenesis;
use ve_crypto::PrivateKey;
use ve_proto::cosmos::bank::v1beta1::MsgSend;
use ve_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use ve_proto::cosmos::crypto::secp256k1::PubKey;
use ve_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignDoc, SignerInfo, TxBody, TxRaw,
};
use ve_proto::Any;
use ve_storage::{KvPairs, StateRead, StorageError};
use ve_types::{Address, Coin, Coins};

/// An empty committed state, under a `ve_storage::Delta`, for targets that exercise one
/// module's state functions without a chain.
pub struct EmptyState;

impl StateRead for EmptyState {
    fn get(&self, _key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(None)
    }
    fn range(&self, _s: &[u8], _e: Option<&[u8]>, _l: usize) -> Result<KvPairs, StorageError> {
        Ok(Vec::new())
    }
}

pub const DENOM: &str = "uve";
pub const FEE: u128 = 5_000;
pub const GAS: u64 = 200_000;
/// Enough for every block a long fuzz run can execute.
pub const START: u128 = 1_000_000_000_000_000;
/// Genesis account numbers: module accounts come first (7 of them), then users in order.
const FIRST_USER_NUMBER: u64 = 7;

/// A funded account that signs SIGN_MODE_DIRECT transactions.
pub struct User {
    pub key: PrivateKey,
    pub address: Address,
    pub number: u64,
    pub sequence: u64,
}

impl User {
    fn new(seed: u8, number: u64) -> Self {
        let key = match PrivateKey::from_bytes(&[seed; 32]) {
            Ok(k) => k,
            Err(e) => panic!("fixture key: {e}"),
        };
        let address = key.public_key().address();
        Self {
            key,
            address,
            number,
            sequence: 0,
        }
    }

    /// A signed send of `amount` to `to` at `sequence` (the user's own is not bumped).
    pub fn send_at(&self, to: &Address, amount: u128, sequence: u64) -> Vec<u8> {
        let msg = MsgSend {
            from_address: self.address.to_string(),
            to_address: to.to_string(),
            amount: vec![ProtoCoin {
                denom: DENOM.into(),
                amount: amount.to_string(),
            }],
        };
        let body_bytes = TxBody {
            messages: vec![Any {
                type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
                value: msg.encode_to_vec(),
            }],
            ..Default::default()
        }
        .encode_to_vec();
        let auth_info_bytes = AuthInfo {
            signer_infos: vec![SignerInfo {
                public_key: Some(Any {
                    type_url: "/cosmos.crypto.secp256k1.PubKey".into(),
                    value: PubKey {
                        key: self.key.public_key().to_bytes().to_vec(),
                    }
                    .encode_to_vec(),
                }),
                mode_info: Some(ModeInfo {
                    sum: Some(mode_info::Sum::Single(mode_info::Single { mode: 1 })),
                }),
                sequence,
            }],
            fee: Some(Fee {
                amount: vec![ProtoCoin {
                    denom: DENOM.into(),
                    amount: FEE.to_string(),
                }],
                gas_limit: GAS,
                payer: String::new(),
                granter: String::new(),
            }),
            ..Default::default()
        }
        .encode_to_vec();
        let doc = SignDoc {
            body_bytes: body_bytes.clone(),
            auth_info_bytes: auth_info_bytes.clone(),
            chain_id: TEST_CHAIN_ID.into(),
            account_number: self.number,
        }
        .encode_to_vec();
        TxRaw {
            body_bytes,
            auth_info_bytes,
            signatures: vec![self.key.sign(&doc).to_vec()],
        }
        .encode_to_vec()
    }

    /// A signed send at the user's current sequence, which is then bumped.
    pub fn send(&mut self, to: &Address, amount: u128) -> Vec<u8> {
        let tx = self.send_at(to, amount, self.sequence);
        self.sequence += 1;
        tx
    }
}

/// The chain and its users. `alice` signs the harness's own valid transactions;
/// `carol` signs the seed corpus, so fuzzed inputs never spend from alice.
pub struct Harness {
    pub node: TestNode,
    pub alice: User,
    pub bob: User,
    pub carol: User,
}

impl Harness {
    pub fn new() -> Self {
        let users = [1u8, 2, 3].map(|i| User::new(i, FIRST_USER_NUMBER + u64::from(i - 1)));
        let mut genesis = AppGenesis::default();
        for u in &users {
            let coins = match Coins::from_list([Coin::new(DENOM, START)]) {
                Ok(c) => c,
                Err(e) => panic!("fixture coins: {e}"),
            };
            if let Err(e) = genesis.add_account(u.address, &coins) {
                panic!("fixture genesis: {e}");
            }
        }
        let mut node = match TestNode::new(&genesis) {
            Ok(n) => n,
            Err(e) => panic!("fixture node: {e:?}"),
        };
        let [alice, bob, carol] = users;
        // Genesis becomes queryable at the first commit; a second block with a tx
        // gives queries some history (heights 1 and 2).
        let mut h = Self {
            node: {
                if let Err(e) = node.execute_block(&[]) {
                    panic!("first block: {e:?}");
                }
                node
            },
            alice,
            bob,
            carol,
        };
        let tx = h.alice.send(&h.bob.address, 1);
        match h.node.execute_block(&[tx]) {
            Ok(out) => {
                let codes: Vec<u32> = out.results().map(|r| r.0).collect();
                assert_eq!(codes, vec![0], "fixture tx must succeed");
            }
            Err(e) => panic!("second block: {e:?}"),
        }
        h
    }

    /// Alice's balance as the bank query reports it.
    pub fn alice_balance(&self) -> u128 {
        self.balance(&self.alice.address)
    }

    /// A balance in uve as the bank query reports it.
    pub fn balance(&self, addr: &Address) -> u128 {
        use ve_proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
        let req = QueryBalanceRequest {
            address: addr.to_string(),
            denom: DENOM.into(),
        };
        let r = self
            .node
            .app()
            .query(ve_bank::query::BALANCE, &req.encode_to_vec(), 0, false);
        assert_eq!(r.code, 0, "balance query: {}", r.log);
        QueryBalanceResponse::decode(r.value.as_slice())
            .ok()
            .and_then(|r| r.balance)
            .and_then(|c| c.amount.parse().ok())
            .unwrap_or_else(|| panic!("balance response for {addr}"))
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

/// The process-wide harness, built on first use. A panic while it is locked aborts
/// the fuzzer anyway, so a poisoned lock is simply taken over.
pub fn harness() -> MutexGuard<'static, Harness> {
    static H: OnceLock<Mutex<Harness>> = OnceLock::new();
    let m = H.get_or_init(|| Mutex::new(Harness::new()));
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// ------------------------------------------------------------------ block framing

/// Most transactions taken from one input, to keep each execution cheap.
pub const MAX_BLOCK_TXS: usize = 16;

/// Splits a block-target input into (position of the harness's valid tx, txs).
///
/// Layout: one byte of position, then repeated `[len: u16 LE][len bytes]`; a length
/// running past the end takes the rest.
pub fn split_block(data: &[u8]) -> (usize, Vec<Vec<u8>>) {
    let Some((&pos, mut rest)) = data.split_first() else {
        return (0, Vec::new());
    };
    let mut txs = Vec::new();
    while rest.len() >= 2 && txs.len() < MAX_BLOCK_TXS {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        rest = &rest[2..];
        let take = len.min(rest.len());
        txs.push(rest[..take].to_vec());
        rest = &rest[take..];
    }
    (usize::from(pos) % (txs.len() + 1), txs)
}

/// The inverse of [`split_block`], for seeds.
pub fn join_block(pos: u8, txs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![pos];
    for tx in txs {
        let len = u16::try_from(tx.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&tx[..usize::from(len)]);
    }
    out
}

// ------------------------------------------------------------------ queries

/// The query paths the app answers (module routes, simulation, raw store reads).
pub const QUERY_PATHS: &[&str] = &[
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
    "/store/main/key",
];

/// A decoded query-target input.
#[derive(Debug)]
pub struct QueryInput {
    pub path: String,
    pub height: u64,
    pub prove: bool,
    pub data: Vec<u8>,
}

/// Layout: `[path selector][flags]` then, for the raw-path selector, `[n][n path bytes]`,
/// then for height mode 3 `[8 bytes height LE]`, then the data.
/// Flags: bit 0 = prove; bits 1..=2 = height mode (0 latest, 1 height 1,
/// 2 `current`, 3 explicit).
pub fn split_query(data: &[u8], current: u64) -> QueryInput {
    let sel = data.first().copied().unwrap_or(0);
    let flags = data.get(1).copied().unwrap_or(0);
    let mut rest = data.get(2..).unwrap_or_default();
    let path = match QUERY_PATHS.get(usize::from(sel) % (QUERY_PATHS.len() + 1)) {
        Some(p) => (*p).to_string(),
        None => {
            let n = rest.first().map(|&n| usize::from(n)).unwrap_or(0);
            rest = rest.get(1..).unwrap_or_default();
            let n = n.min(rest.len());
            let p = String::from_utf8_lossy(&rest[..n]).into_owned();
            rest = &rest[n..];
            p
        }
    };
    let height = match (flags >> 1) & 3 {
        0 => 0,
        1 => 1,
        2 => current,
        _ => {
            let mut h = [0u8; 8];
            let n = rest.len().min(8);
            h[..n].copy_from_slice(&rest[..n]);
            rest = &rest[n..];
            u64::from_le_bytes(h)
        }
    };
    QueryInput {
        path,
        height,
        prove: flags & 1 == 1,
        data: rest.to_vec(),
    }
}

/// The inverse of [`split_query`] for a known path index and height mode 0..=2.
pub fn join_query(path_index: u8, flags: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![path_index, flags];
    out.extend_from_slice(data);
    out
}

// ------------------------------------------------------------------ seeds

/// Writes `seeds` into the first corpus directory given on the command line (what
/// `cargo fuzz run <target>` passes), so a run starts from valid inputs. Called from
/// the targets' `init`, which libFuzzer runs before it reads the corpus. Existing
/// files are left alone; nothing is written when no corpus directory was given.
pub fn write_seeds(seeds: impl FnOnce() -> Vec<(String, Vec<u8>)>) {
    let Some(dir) = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .find(|p| p.is_dir())
    else {
        return;
    };
    for (name, bytes) in seeds() {
        let path = dir.join(format!("seed-{name}"));
        if !path.exists() {
            // Best effort: a read-only corpus just means no seeds.
            let _ = std::fs::write(path, bytes);
        }
    }
}

/// Valid transactions signed by carol (to bob) at sequences 0..n.
pub fn carol_txs(h: &Harness, n: u64) -> Vec<Vec<u8>> {
    (0..n)
        .map(|s| h.carol.send_at(&h.bob.address, 7 + u128::from(s), s))
        .collect()
}
