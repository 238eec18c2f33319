//! `virtengine bench load`: pre-signed bank-send load over CometBFT RPC.
//!
//! Why it is built this way:
//! - Everything it needs (account numbers and sequences via `abci_query
//!   /cosmos.auth.v1beta1.Query/Account`, SIGN_MODE_DIRECT signing, `broadcast_tx_sync`,
//!   `/block` + `/block_results`) is standard CometBFT + Cosmos SDK, so the same run works
//!   against VirtEngine and a stock Cosmos SDK chain (`--prefix cosmos --denom stake`).
//! - All txs are signed before the clock starts, so the measurement is the chain's, not the
//!   signer's.
//! - Each account's txs are submitted in sequence order by one worker (accounts are split
//!   between workers), because a mempool checks sequences in arrival order; a `mempool is full`
//!   answer is retried after a pause rather than dropped, since dropping one tx would make every
//!   later tx of that account fail with a wrong sequence.
//! - Commitment is observed by following blocks, not by per-tx lookups, so observing costs a
//!   few requests per block whatever the load.
//!
//! Reported: committed tx/s from the first submission to the last commit seen, and latency
//! from submission to the moment the block holding the tx was seen (p50/p95/max).

use crate::gateway::comet::CometRpc;
use anyhow::{anyhow, bail, Context};
use cosmos_sdk_proto::cosmos::auth::v1beta1::{
    BaseAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignDoc, SignerInfo, TxBody, TxRaw,
};
use cosmos_sdk_proto::Any;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use prost::Message;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ve_crypto::{derive_key, PrivateKey, COSMOS_HD_PATH};

/// Output format of the final report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
pub enum OutputFormat {
    /// One compact JSON object on the last stdout line (what `bench/run.sh` parses).
    Json,
    /// A human-readable summary.
    Text,
}

/// Arguments of `virtengine bench load`.
#[derive(Clone, Debug, clap::Args)]
pub struct LoadArgs {
    /// CometBFT RPC endpoint of the chain under load.
    #[arg(
        long = "node",
        visible_alias = "rpc",
        default_value = "http://127.0.0.1:26657"
    )]
    pub node: String,
    /// accounts.json: `[{"name","address","mnemonic"}]` (as written by `virtengine localnet`
    /// and `bench/baseline-localnet.sh`). Every account sends; each needs funds for fees.
    #[arg(long)]
    pub accounts: PathBuf,
    /// Chain id signed into every tx.
    #[arg(long, default_value = "virtengine-localnet-1")]
    pub chain_id: String,
    /// Denom of the amount sent and of the fee.
    #[arg(long, default_value = "uve")]
    pub denom: String,
    /// Bech32 account prefix (`ve` for VirtEngine, `cosmos` for a stock SDK chain).
    #[arg(long, default_value = "ve")]
    pub prefix: String,
    /// Number of transactions to pre-sign and submit.
    #[arg(long, default_value_t = 1000)]
    pub txs: u64,
    /// Target submission rate in tx/s (0 = as fast as the node accepts them).
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Concurrent submitters (capped at the number of accounts: one account, one submitter).
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Gas limit of each tx.
    #[arg(long, default_value_t = 200_000)]
    pub gas: u64,
    /// Gas price in `--denom` per gas unit; the fee is ceil(gas × price). Ignored with `--fees`.
    #[arg(long, default_value = "0.0025")]
    pub gas_price: String,
    /// Explicit fee per tx, e.g. `500uve` or `500` (in `--denom`).
    #[arg(long)]
    pub fees: Option<String>,
    /// Amount sent by each tx, in `--denom`.
    #[arg(long, default_value_t = 1)]
    pub amount: u64,
    /// Extra senders to derive from the first account's mnemonic (HD indexes 1..=N) and fund
    /// before the measurement, so chains with few genesis accounts get as many senders.
    #[arg(long, default_value_t = 0)]
    pub extra_accounts: usize,
    /// Amount (in `--denom`) each extra sender is funded with; must cover its fees.
    #[arg(long, default_value_t = 1_000_000_000)]
    pub extra_funding: u64,
    /// Seconds to wait for commitment after the last submission.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// How often to poll for new blocks, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub poll_ms: u64,
    /// Report format.
    #[arg(long, value_enum, default_value = "json")]
    pub output: OutputFormat,
}

/// One entry of accounts.json.
#[derive(Clone, Debug, Deserialize)]
pub struct AccountEntry {
    pub name: String,
    pub address: String,
    pub mnemonic: String,
}

/// The result of a load run. Field names are the ones `bench/run.sh` reads
/// (`committed_tps`, `p50_ms`, `p95_ms`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LoadReport {
    pub rpc: String,
    pub chain_id: String,
    pub accounts: usize,
    pub txs: u64,
    /// Txs sent to the node (CheckTx answered, accepted or not).
    pub submitted: u64,
    /// Txs that passed CheckTx.
    pub accepted: u64,
    /// Txs that failed CheckTx or could not be sent.
    pub rejected: u64,
    /// Txs committed with code 0.
    pub committed: u64,
    /// Txs committed with a non-zero code.
    pub failed_in_block: u64,
    /// Accepted txs not seen in a block before the timeout.
    pub missing: u64,
    /// Errors by kind: `check:<codespace>/<code>`, `deliver:<codespace>/<code>`, `rpc:<reason>`.
    pub errors: BTreeMap<String, u64>,
    /// The first message seen for each error kind.
    pub error_samples: BTreeMap<String, String>,
    /// Seconds from the first submission to the last commit seen.
    pub duration_s: f64,
    /// Seconds spent submitting.
    pub submit_s: f64,
    /// Submission rate (accepted tx / submit_s).
    pub submit_tps: f64,
    /// Committed tx/s over `duration_s`.
    pub committed_tps: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// Blocks that held at least one of our txs, and the largest such block.
    pub blocks: u64,
    pub max_block_txs: u64,
    pub first_height: u64,
    pub last_height: u64,
    /// Seconds spent pre-signing (not part of the measurement).
    pub sign_s: f64,
}

impl LoadReport {
    /// The report in the requested format (JSON is a single line).
    pub fn render(&self, format: OutputFormat) -> anyhow::Result<String> {
        match format {
            OutputFormat::Json => serde_json::to_string(self).context("serializing load report"),
            OutputFormat::Text => {
                let mut s = format!(
                    "chain {} at {}: {} txs from {} accounts\n\
                     submitted {}  accepted {}  rejected {}  committed {}  failed in block {}  missing {}\n\
                     committed tx/s {:.1} over {:.2}s (submit {:.1} tx/s over {:.2}s; signing took {:.2}s)\n\
                     latency p50 {:.0} ms  p95 {:.0} ms  max {:.0} ms\n\
                     blocks {} (heights {}..{}), largest {} txs\n",
                    self.chain_id, self.rpc, self.txs, self.accounts, self.submitted,
                    self.accepted, self.rejected, self.committed, self.failed_in_block,
                    self.missing, self.committed_tps, self.duration_s, self.submit_tps,
                    self.submit_s, self.sign_s, self.p50_ms, self.p95_ms, self.max_ms,
                    self.blocks, self.first_height, self.last_height, self.max_block_txs,
                );
                for (k, v) in &self.errors {
                    let sample = self.error_samples.get(k).map(String::as_str).unwrap_or("");
                    s.push_str(&format!("error {k}: {v} (first: {sample})\n"));
                }
                Ok(s)
            }
        }
    }
}

/// Runs the load and prints the report on stdout in `args.output` format (the subcommand).
pub async fn main(args: LoadArgs) -> anyhow::Result<()> {
    let format = args.output;
    let report = run(args).await?;
    println!("{}", report.render(format)?);
    Ok(())
}

/// A pre-signed tx and where it came from.
struct SignedTx {
    account: usize,
    bytes: Vec<u8>,
    hash: [u8; 32],
}

/// Per-tx timing, filled in as the run goes.
#[derive(Clone, Copy, Default)]
struct TxTiming {
    submitted_at: Option<Instant>,
    accepted: bool,
    committed_at: Option<Instant>,
}

struct Signer {
    key: PrivateKey,
    address: String,
    pub_key_any: Any,
    account_number: u64,
    sequence: u64,
}

/// Runs the load described by `args` and returns the report. Progress goes to stderr.
pub async fn run(args: LoadArgs) -> anyhow::Result<LoadReport> {
    if args.txs == 0 {
        bail!("--txs must be at least 1");
    }
    let rpc = CometRpc::new(args.node.clone())?;
    let entries = read_accounts(&args.accounts)?;
    if entries.len() < 2 {
        bail!(
            "{}: need at least 2 accounts (each sends to the next)",
            args.accounts.display()
        );
    }
    let fee = fee_coin(&args)?;
    let status = rpc
        .status()
        .await
        .with_context(|| format!("is a node running at {}?", args.node))?;
    let network = status.node_info["network"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if !network.is_empty() && network != args.chain_id {
        bail!(
            "--chain-id {} does not match the node's network {network}",
            args.chain_id
        );
    }

    // Keys, account numbers and sequences.
    let mut signers = Vec::with_capacity(entries.len());
    for e in &entries {
        signers.push(load_signer(&rpc, e, &args.prefix).await?);
    }
    if args.extra_accounts > 0 {
        let extra = fund_extra_senders(&rpc, &args, &entries, &mut signers, &fee).await?;
        signers.extend(extra);
    }

    // Pre-sign: tx i comes from account i % n, so each account's sequences increase by one.
    let sign_started = Instant::now();
    let txs = presign(&signers, &args, &fee)?;
    let sign_s = sign_started.elapsed().as_secs_f64();
    eprintln!(
        "signed {} txs from {} accounts in {:.2}s; submitting to {}",
        txs.len(),
        signers.len(),
        sign_s,
        args.node
    );

    let n_tx = txs.len();
    let timings = Arc::new(Mutex::new(vec![TxTiming::default(); n_tx]));
    let errors: Arc<Mutex<Errors>> = Arc::new(Mutex::new(Errors::default()));
    let index: Arc<HashMap<[u8; 32], usize>> =
        Arc::new(txs.iter().enumerate().map(|(i, t)| (t.hash, i)).collect());

    let progress = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{prefix:>9} [{bar:40}] {pos}/{len} {per_sec} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let sent_bar = progress.add(ProgressBar::new(n_tx as u64).with_style(style.clone()));
    sent_bar.set_prefix("submitted");
    let commit_bar = progress.add(ProgressBar::new(n_tx as u64).with_style(style));
    commit_bar.set_prefix("committed");

    let start_height = status.sync_info.latest_block_height;
    let started = Instant::now();
    let submitting_done = Arc::new(AtomicU64::new(0));

    // Follower: watches blocks from the current height on.
    let follower = {
        let rpc = rpc.clone();
        let timings = Arc::clone(&timings);
        let errors = Arc::clone(&errors);
        let index = Arc::clone(&index);
        let done = Arc::clone(&submitting_done);
        let bar = commit_bar.clone();
        let poll = Duration::from_millis(args.poll_ms.max(10));
        let timeout = Duration::from_secs(args.timeout);
        tokio::spawn(async move {
            follow(
                rpc,
                start_height,
                timings,
                errors,
                index,
                done,
                bar,
                poll,
                timeout,
            )
            .await
        })
    };

    // Submitters: accounts are dealt to workers; each worker sends its txs in index order,
    // which is sequence order per account.
    let workers = args.concurrency.clamp(1, signers.len());
    let mut queues: Vec<Vec<(usize, Vec<u8>)>> = vec![Vec::new(); workers];
    for (i, tx) in txs.into_iter().enumerate() {
        queues[tx.account % workers].push((i, tx.bytes));
    }
    let pacer = Pacer::new(args.rate);
    let mut handles = Vec::with_capacity(workers);
    for queue in queues {
        let rpc = rpc.clone();
        let timings = Arc::clone(&timings);
        let errors = Arc::clone(&errors);
        let bar = sent_bar.clone();
        let pacer = pacer.clone();
        handles.push(tokio::spawn(async move {
            submit_queue(rpc, queue, timings, errors, bar, pacer).await
        }));
    }
    for h in handles {
        h.await.context("submitter task failed")?;
    }
    let submit_s = started.elapsed().as_secs_f64();
    sent_bar.finish();
    submitting_done.store(1, Ordering::SeqCst);
    let blocks = follower.await.context("block follower task failed")??;
    commit_bar.finish();

    let timings = timings
        .lock()
        .map_err(|_| anyhow!("timings lock poisoned"))?
        .clone();
    let errors = std::mem::take(&mut *errors.lock().map_err(|_| anyhow!("errors lock poisoned"))?);
    Ok(summarize(
        &args,
        signers.len(),
        &timings,
        errors,
        blocks,
        started,
        submit_s,
        sign_s,
    ))
}

fn read_accounts(path: &PathBuf) -> anyhow::Result<Vec<AccountEntry>> {
    let raw = std::fs::read_to_string(path)
        .with_context(|| format!("reading accounts file {}", path.display()))?;
    serde_json::from_str(&raw).with_context(|| {
        format!(
            "{}: expected [{{\"name\",\"address\",\"mnemonic\"}}]",
            path.display()
        )
    })
}

/// Parses a decimal gas price (no floats: `0.0025` = 25 / 10^4) and returns ceil(gas × price).
pub fn fee_for_gas(gas: u64, price: &str) -> anyhow::Result<u128> {
    let (int, frac) = price.split_once('.').unwrap_or((price, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
    {
        bail!("invalid gas price {price:?}: want a decimal number like 0.0025");
    }
    if frac.len() > 18 {
        bail!("gas price {price:?} has more than 18 decimals");
    }
    let scale = 10u128.pow(frac.len() as u32);
    let num: u128 = format!("{int}{frac}")
        .trim_start_matches('0')
        .parse()
        .unwrap_or(0);
    let total = num.checked_mul(u128::from(gas)).context("fee overflows")?;
    Ok(total.div_ceil(scale))
}

fn fee_coin(args: &LoadArgs) -> anyhow::Result<Coin> {
    match &args.fees {
        Some(f) => {
            let digits: String = f.chars().take_while(|c| c.is_ascii_digit()).collect();
            let denom = &f[digits.len()..];
            if digits.is_empty() {
                bail!(
                    "invalid --fees {f:?}: want an amount like 500{}",
                    args.denom
                );
            }
            let denom = if denom.is_empty() {
                args.denom.clone()
            } else {
                denom.to_string()
            };
            Ok(Coin {
                denom,
                amount: digits,
            })
        }
        None => Ok(Coin {
            denom: args.denom.clone(),
            amount: fee_for_gas(args.gas, &args.gas_price)?.to_string(),
        }),
    }
}

async fn load_signer(rpc: &CometRpc, e: &AccountEntry, prefix: &str) -> anyhow::Result<Signer> {
    let key = derive_key(&e.mnemonic, "", COSMOS_HD_PATH)
        .with_context(|| format!("deriving the key of account {}", e.name))?;
    let address = key.public_key().address().to_bech32_with_hrp(prefix);
    if address != e.address {
        bail!(
            "account {}: mnemonic gives {address} but accounts.json says {} (wrong --prefix?)",
            e.name,
            e.address
        );
    }
    signer_from_chain(rpc, key, &address, &e.name).await
}

/// A signer for `key` with its account number and sequence read from the chain.
async fn signer_from_chain(
    rpc: &CometRpc,
    key: PrivateKey,
    address: &str,
    name: &str,
) -> anyhow::Result<Signer> {
    let pk = key.public_key();
    let req = QueryAccountRequest {
        address: address.to_string(),
    }
    .encode_to_vec();
    let value = rpc
        .abci_query_ok("/cosmos.auth.v1beta1.Query/Account", &req)
        .await
        .with_context(|| format!("fetching account {name} ({address}); is it funded?"))?;
    let resp =
        QueryAccountResponse::decode(value.as_slice()).context("decoding account response")?;
    let any = resp
        .account
        .with_context(|| format!("no account returned for {address}"))?;
    let base = base_account(&any)?;
    Ok(Signer {
        key,
        address: address.to_string(),
        pub_key_any: Any {
            type_url: "/cosmos.crypto.secp256k1.PubKey".to_string(),
            value: PubKey {
                key: pk.to_bytes().to_vec(),
            }
            .encode_to_vec(),
        },
        account_number: base.account_number,
        sequence: base.sequence,
    })
}

/// The `BaseAccount` inside an account `Any` (plain, or the base of a module account).
fn base_account(any: &Any) -> anyhow::Result<BaseAccount> {
    match any.type_url.as_str() {
        "/cosmos.auth.v1beta1.BaseAccount" => {
            BaseAccount::decode(any.value.as_slice()).context("decoding BaseAccount")
        }
        other => bail!("account type {other} cannot sign load txs (want a BaseAccount)"),
    }
}

/// One signed SIGN_MODE_DIRECT `MsgSend` of `amount` `--denom` from `s` to `to`, as
/// (TxRaw bytes, SHA-256 hash).
#[allow(deprecated)] // `AuthInfo.tip` is deprecated; it must still be set to `None`.
fn sign_send(
    s: &Signer,
    to: &str,
    amount: u64,
    sequence: u64,
    args: &LoadArgs,
    fee: &Coin,
) -> (Vec<u8>, [u8; 32]) {
    let msg = MsgSend {
        from_address: s.address.clone(),
        to_address: to.to_string(),
        amount: vec![Coin {
            denom: args.denom.clone(),
            amount: amount.to_string(),
        }],
    };
    let body = TxBody {
        messages: vec![Any {
            type_url: "/cosmos.bank.v1beta1.MsgSend".to_string(),
            value: msg.encode_to_vec(),
        }],
        memo: String::new(),
        timeout_height: 0,
        extension_options: Vec::new(),
        non_critical_extension_options: Vec::new(),
    };
    let auth_info = AuthInfo {
        signer_infos: vec![SignerInfo {
            public_key: Some(s.pub_key_any.clone()),
            mode_info: Some(ModeInfo {
                sum: Some(mode_info::Sum::Single(mode_info::Single {
                    mode: SignMode::Direct as i32,
                })),
            }),
            sequence,
        }],
        fee: Some(Fee {
            amount: vec![fee.clone()],
            gas_limit: args.gas,
            payer: String::new(),
            granter: String::new(),
        }),
        tip: None,
    };
    let body_bytes = body.encode_to_vec();
    let auth_info_bytes = auth_info.encode_to_vec();
    let doc = SignDoc {
        body_bytes: body_bytes.clone(),
        auth_info_bytes: auth_info_bytes.clone(),
        chain_id: args.chain_id.clone(),
        account_number: s.account_number,
    };
    let sig = s.key.sign(&doc.encode_to_vec());
    let bytes = TxRaw {
        body_bytes,
        auth_info_bytes,
        signatures: vec![sig.to_vec()],
    }
    .encode_to_vec();
    let hash: [u8; 32] = Sha256::digest(&bytes).into();
    (bytes, hash)
}

/// Derives `count` more senders from the first account's mnemonic (HD indexes 1..=count), funds
/// each with one `MsgSend` of `funding` from the file's accounts, waits until every funding tx
/// is committed, and returns the new senders. Done before the clock starts, so that a chain
/// whose genesis has few accounts is measured with as many independent senders as another.
async fn fund_extra_senders(
    rpc: &CometRpc,
    args: &LoadArgs,
    entries: &[AccountEntry],
    funders: &mut [Signer],
    fee: &Coin,
) -> anyhow::Result<Vec<Signer>> {
    let count = args.extra_accounts;
    let mut extra = Vec::with_capacity(count);
    for i in 1..=count {
        let path = format!("m/44'/118'/0'/0/{i}");
        let key = derive_key(&entries[0].mnemonic, "", &path)
            .with_context(|| format!("deriving extra sender {path}"))?;
        let address = key.public_key().address().to_bech32_with_hrp(&args.prefix);
        extra.push(AccountEntry {
            name: format!("extra{i}"),
            address,
            mnemonic: String::new(),
        });
    }
    let mut hashes = Vec::with_capacity(count);
    for (i, e) in extra.iter().enumerate() {
        let funder = &mut funders[i % entries.len()];
        let (bytes, hash) = sign_send(
            funder,
            &e.address,
            args.extra_funding,
            funder.sequence,
            args,
            fee,
        );
        let r = rpc.broadcast_tx_sync(&bytes).await?;
        if r.code != 0 {
            bail!(
                "funding {} failed in CheckTx: code {} ({}): {}",
                e.address,
                r.code,
                r.codespace,
                r.log
            );
        }
        funder.sequence += 1;
        hashes.push(hash);
    }
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    for hash in &hashes {
        loop {
            if let Some(r) = rpc.tx(hash).await? {
                if r.tx_result.code != 0 {
                    bail!("funding tx failed in its block: {}", r.tx_result.log);
                }
                break;
            }
            if Instant::now() >= deadline {
                bail!("funding txs not committed within {}s", args.timeout);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let mut signers = Vec::with_capacity(count);
    for (i, e) in extra.iter().enumerate() {
        let key = derive_key(
            &entries[0].mnemonic,
            "",
            &format!("m/44'/118'/0'/0/{}", i + 1),
        )
        .context("deriving extra sender")?;
        signers.push(signer_from_chain(rpc, key, &e.address, &e.name).await?);
    }
    eprintln!(
        "funded {count} extra senders with {}{} each",
        args.extra_funding, args.denom
    );
    Ok(signers)
}

fn presign(signers: &[Signer], args: &LoadArgs, fee: &Coin) -> anyhow::Result<Vec<SignedTx>> {
    let n = signers.len();
    let total = usize::try_from(args.txs).context("--txs too large")?;
    let sign_one = |i: usize| -> SignedTx {
        let account = i % n;
        let s = &signers[account];
        let to = &signers[(account + 1) % n].address;
        let sequence = s.sequence + (i / n) as u64;
        let (bytes, hash) = sign_send(s, to, args.amount, sequence, args, fee);
        SignedTx {
            account,
            bytes,
            hash,
        }
    };
    // Signing is CPU-bound: split it over the available cores.
    let threads = std::thread::available_parallelism()
        .map(|p| p.get())
        .unwrap_or(1)
        .min(8);
    let chunk = total.div_ceil(threads).max(1);
    let mut out = Vec::with_capacity(total);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..total)
            .step_by(chunk)
            .map(|start| {
                let end = (start + chunk).min(total);
                scope.spawn(move || (start..end).map(sign_one).collect::<Vec<_>>())
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(part) => out.extend(part),
                Err(_) => return Err(anyhow!("signing thread panicked")),
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// Spaces submissions to a target rate shared by all workers (no limit when rate is 0).
#[derive(Clone)]
struct Pacer {
    interval: Option<Duration>,
    next: Arc<tokio::sync::Mutex<Option<tokio::time::Instant>>>,
}

impl Pacer {
    fn new(rate: u64) -> Self {
        let interval = (rate > 0).then(|| Duration::from_nanos(1_000_000_000 / rate));
        Self {
            interval,
            next: Arc::new(tokio::sync::Mutex::new(None)),
        }
    }

    async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let at = {
            let mut next = self.next.lock().await;
            let now = tokio::time::Instant::now();
            let at = next.map_or(now, |n| n.max(now));
            *next = Some(at + interval);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// Error counts by kind, with the first message seen for each kind (so a report says *why*,
/// e.g. the fee the chain wanted).
#[derive(Default)]
struct Errors {
    counts: BTreeMap<String, u64>,
    samples: BTreeMap<String, String>,
}

fn bump(errors: &Mutex<Errors>, key: String, message: &str) {
    if let Ok(mut e) = errors.lock() {
        e.samples
            .entry(key.clone())
            .or_insert_with(|| message.chars().take(300).collect());
        *e.counts.entry(key).or_default() += 1;
    }
}

/// Whether a broadcast failure is the node asking us to slow down (retry) rather than a
/// verdict on the tx.
fn is_backpressure(msg: &str) -> bool {
    msg.contains("mempool is full") || msg.contains("too many") || msg.contains("Too Many")
}

async fn submit_queue(
    rpc: CometRpc,
    queue: Vec<(usize, Vec<u8>)>,
    timings: Arc<Mutex<Vec<TxTiming>>>,
    errors: Arc<Mutex<Errors>>,
    bar: ProgressBar,
    pacer: Pacer,
) {
    for (i, bytes) in queue {
        pacer.wait().await;
        let sent_at = Instant::now();
        let mut attempts = 0u32;
        let accepted = loop {
            attempts += 1;
            match rpc.broadcast_tx_sync(&bytes).await {
                Ok(r) if r.code == 0 => break true,
                Ok(r) if r.log.contains("mempool is full") && attempts < 600 => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(r) => {
                    bump(&errors, format!("check:{}/{}", r.codespace, r.code), &r.log);
                    break false;
                }
                Err(e) => {
                    let msg = format!("{e:#}");
                    if msg.contains("already exists in cache") {
                        break true;
                    }
                    if is_backpressure(&msg) && attempts < 600 {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                    let reason = if is_backpressure(&msg) {
                        "mempool full"
                    } else {
                        "broadcast failed"
                    };
                    bump(&errors, format!("rpc:{reason}"), &msg);
                    break false;
                }
            }
        };
        if let Ok(mut t) = timings.lock() {
            t[i].submitted_at = Some(sent_at);
            t[i].accepted = accepted;
        }
        bar.inc(1);
    }
}

/// Per-block tally of our txs.
#[derive(Default, Debug, Clone)]
struct BlockTally {
    blocks: u64,
    max_block_txs: u64,
    first_height: u64,
    last_height: u64,
    last_commit: Option<Instant>,
}

#[allow(clippy::too_many_arguments)]
async fn follow(
    rpc: CometRpc,
    start_height: u64,
    timings: Arc<Mutex<Vec<TxTiming>>>,
    errors: Arc<Mutex<Errors>>,
    index: Arc<HashMap<[u8; 32], usize>>,
    submitting_done: Arc<AtomicU64>,
    bar: ProgressBar,
    poll: Duration,
    timeout: Duration,
) -> anyhow::Result<BlockTally> {
    let mut tally = BlockTally::default();
    let mut next_height = start_height + 1;
    let mut seen = 0usize;
    let mut deadline: Option<Instant> = None;
    loop {
        let latest = match rpc.status().await {
            Ok(s) => s.sync_info.latest_block_height,
            Err(_) => next_height.saturating_sub(1),
        };
        while next_height <= latest {
            let block = rpc.block(Some(next_height)).await?;
            let seen_at = Instant::now();
            let ours: Vec<(usize, usize)> = block
                .block
                .data
                .txs
                .iter()
                .enumerate()
                .filter_map(|(pos, tx)| {
                    let h: [u8; 32] = Sha256::digest(tx).into();
                    index.get(&h).map(|&i| (pos, i))
                })
                .collect();
            if !ours.is_empty() {
                // CometBFT stores a block before its execution results: until the results
                // exist, retry this height on the next poll.
                let results = match rpc.block_results(next_height).await {
                    Ok(r) => r,
                    Err(e) if format!("{e:#}").contains("could not find results") => break,
                    Err(e) => return Err(e),
                };
                let mut t = timings
                    .lock()
                    .map_err(|_| anyhow!("timings lock poisoned"))?;
                for &(pos, i) in &ours {
                    match results.txs_results.get(pos) {
                        Some(r) if r.code != 0 => bump(
                            &errors,
                            format!("deliver:{}/{}", r.codespace, r.code),
                            &r.log,
                        ),
                        _ => t[i].committed_at = Some(seen_at),
                    }
                    // A tx can be in a block even if our broadcast call failed (e.g. timeout).
                    t[i].accepted = true;
                }
                seen += ours.len();
                bar.inc(ours.len() as u64);
                tally.blocks += 1;
                tally.max_block_txs = tally.max_block_txs.max(ours.len() as u64);
                if tally.first_height == 0 {
                    tally.first_height = next_height;
                }
                tally.last_height = next_height;
                tally.last_commit = Some(seen_at);
            }
            next_height += 1;
        }
        if submitting_done.load(Ordering::SeqCst) == 1 {
            let outstanding = {
                let t = timings
                    .lock()
                    .map_err(|_| anyhow!("timings lock poisoned"))?;
                t.iter().filter(|x| x.accepted).count().saturating_sub(seen)
            };
            if outstanding == 0 {
                return Ok(tally);
            }
            let d = *deadline.get_or_insert_with(|| Instant::now() + timeout);
            if Instant::now() >= d {
                bar.set_message(format!("timed out with {outstanding} txs not seen"));
                return Ok(tally);
            }
        }
        tokio::time::sleep(poll).await;
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[allow(clippy::too_many_arguments)]
fn summarize(
    args: &LoadArgs,
    accounts: usize,
    timings: &[TxTiming],
    errors: Errors,
    blocks: BlockTally,
    started: Instant,
    submit_s: f64,
    sign_s: f64,
) -> LoadReport {
    let submitted = timings.iter().filter(|t| t.submitted_at.is_some()).count() as u64;
    let accepted = timings.iter().filter(|t| t.accepted).count() as u64;
    let committed = timings.iter().filter(|t| t.committed_at.is_some()).count() as u64;
    let Errors {
        counts: errors,
        samples: error_samples,
    } = errors;
    let failed_in_block: u64 = errors
        .iter()
        .filter(|(k, _)| k.starts_with("deliver:"))
        .map(|(_, v)| v)
        .sum();
    let mut lat: Vec<f64> = timings
        .iter()
        .filter_map(|t| match (t.submitted_at, t.committed_at) {
            (Some(s), Some(c)) => Some(c.saturating_duration_since(s).as_secs_f64() * 1000.0),
            _ => None,
        })
        .collect();
    lat.sort_by(|a, b| a.total_cmp(b));
    let duration_s = blocks
        .last_commit
        .map(|c| c.saturating_duration_since(started).as_secs_f64())
        .unwrap_or(0.0);
    let rate = |n: u64, s: f64| if s > 0.0 { n as f64 / s } else { 0.0 };
    LoadReport {
        rpc: args.node.clone(),
        chain_id: args.chain_id.clone(),
        accounts,
        txs: args.txs,
        submitted,
        accepted,
        rejected: submitted.saturating_sub(accepted),
        committed,
        failed_in_block,
        missing: accepted.saturating_sub(committed + failed_in_block),
        errors,
        error_samples,
        duration_s,
        submit_s,
        submit_tps: rate(accepted, submit_s),
        committed_tps: rate(committed, duration_s),
        p50_ms: percentile(&lat, 50.0),
        p95_ms: percentile(&lat, 95.0),
        max_ms: lat.last().copied().unwrap_or(0.0),
        blocks: blocks.blocks,
        max_block_txs: blocks.max_block_txs,
        first_height: blocks.first_height,
        last_height: blocks.last_height,
        sign_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_is_ceil_of_gas_times_decimal_price() {
        assert_eq!(fee_for_gas(200_000, "0.0025").unwrap(), 500);
        assert_eq!(fee_for_gas(100_001, "0.0025").unwrap(), 251);
        assert_eq!(fee_for_gas(10, "1").unwrap(), 10);
        assert_eq!(fee_for_gas(10, "0").unwrap(), 0);
        assert!(fee_for_gas(10, "abc").is_err());
        assert!(fee_for_gas(10, "-1").is_err());
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(|x| x as f64).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 95.0), 95.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn report_json_has_the_fields_bench_run_sh_reads() {
        let r = LoadReport {
            committed_tps: 12.5,
            p50_ms: 900.0,
            p95_ms: 1500.0,
            ..Default::default()
        };
        let line = r.render(OutputFormat::Json).unwrap();
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["committed_tps"], 12.5);
        assert_eq!(v["p50_ms"], 900.0);
        assert_eq!(v["p95_ms"], 1500.0);
    }
}
