//! `virtengine query ...`: read chain state through the node's ABCI query (paths are the
//! Cosmos gRPC method names), printed like the Cosmos SDK CLI prints them.
//!
//! Also home to the node connection every client command shares ([`connect`]) and to
//! the wording of node errors ([`rpc_error`], [`query_error`]).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use base64::Engine;
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use ve_client::rpc_types::TxResult;
use ve_client::tx::SECP256K1_PUBKEY_TYPE_URL;
use ve_client::{BaseAccount, QueryClient, QueryError, RpcClient, RpcError};
use ve_types::{Address, Coin};

use crate::cli::genesis::resolve_address;
use crate::cli::keys::KeyringArgs;
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::NodeArgs;
use crate::home;

/// Per-request timeout of client commands.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Output format.
    #[arg(long, short, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Keyring home, for giving a key name instead of an address [default: ~/.virtengine-localnet].
    #[arg(long, global = true, env = "VIRTENGINE_HOME")]
    pub home: Option<PathBuf>,
    #[command(flatten)]
    pub keyring: KeyringArgs,
    #[command(subcommand)]
    pub cmd: QueryCmd,
}

#[derive(Debug, Subcommand)]
pub enum QueryCmd {
    /// Auth module: accounts.
    Auth {
        #[command(subcommand)]
        cmd: AuthQuery,
    },
    /// Bank module: balances and supply.
    Bank {
        #[command(subcommand)]
        cmd: BankQuery,
    },
    /// Deployment module: deployments with their groups and escrow account.
    Deployment {
        #[command(subcommand)]
        cmd: crate::cli::deployment::DeploymentQuery,
    },
    /// Market module: orders, bids, leases (filters and pagination).
    Market {
        #[command(subcommand)]
        cmd: crate::cli::market::MarketQuery,
    },
    /// Provider module: providers, domain verification, attestors.
    Provider {
        #[command(subcommand)]
        cmd: crate::cli::provider::ProviderQuery,
    },
    /// Audit module: attributes auditors signed for providers.
    Audit {
        #[command(subcommand)]
        cmd: crate::cli::audit::AuditQuery,
    },
    /// Enclave registry: validators' enclave identities, the active keys (identity
    /// recipient set), the measurement allow-list, params.
    Enclave {
        #[command(subcommand)]
        cmd: crate::cli::enclave::EnclaveQuery,
    },
    /// Cert module: mTLS certificates.
    Cert {
        #[command(subcommand)]
        cmd: crate::cli::cert::CertQuery,
    },
    /// Offering module: the provider catalogue.
    Offering {
        #[command(subcommand)]
        cmd: crate::cli::offering::OfferingQuery,
    },
    /// HPC module: clusters, offerings, jobs.
    Hpc {
        #[command(subcommand)]
        cmd: crate::cli::hpc::HpcQuery,
    },
    /// Encryption module: recipient keys.
    Encryption {
        #[command(subcommand)]
        cmd: crate::cli::encryption::EncryptionQuery,
    },
    /// Escrow module: accounts and payments, settled to the latest height.
    Escrow {
        #[command(subcommand)]
        cmd: crate::cli::escrow::EscrowQuery,
    },
    /// MFA: policies, factors, challenges, sessions, verifier keys.
    Mfa {
        #[command(subcommand)]
        cmd: crate::cli::mfa::MfaQuery,
    },
    /// Identity (VEID): records, scopes, scores, pending verification requests.
    Identity {
        #[command(subcommand)]
        cmd: crate::cli::identity::IdentityQuery,
    },
    /// A committed transaction by hash.
    #[command(
        after_help = "Example:\n  virtengine query tx 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
    )]
    Tx {
        /// Hex transaction hash.
        hash: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuthQuery {
    /// Account number, sequence and public key of an address.
    #[command(after_help = "Example:\n  virtengine query auth account ve1...xyz")]
    Account {
        /// Address (ve1...) or key name.
        address: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum BankQuery {
    /// Balances of an address (all denoms, or one with --denom).
    #[command(
        after_help = "Examples:\n  virtengine query bank balances ve1...xyz\n  virtengine query bank balances alice --denom uve --output json"
    )]
    Balances {
        /// Address (ve1...) or key name.
        address: String,
        /// Only this denom.
        #[arg(long)]
        denom: Option<String>,
    },
    /// Total supply of every denom.
    Total,
}

pub async fn run(args: QueryArgs) -> Result<()> {
    let node = connect(&args.node.node)?;
    let url = node.url();
    let q = QueryClient::new(&node);
    let out = args.output;
    let addr = |s: &str| -> Result<Address> {
        let home = home::resolve(args.home.as_deref(), home::DEFAULT_LOCALNET_HOME)?;
        resolve_address(s, &home, &args.keyring)
    };
    match &args.cmd {
        QueryCmd::Encryption { cmd } => {
            crate::cli::encryption::run_query(&q, url, out, addr, cmd).await
        }
        QueryCmd::Escrow { cmd } => crate::cli::escrow::run_query(&q, url, out, addr, cmd).await,
        QueryCmd::Mfa { cmd } => crate::cli::mfa::run_query(&q, url, out, addr, cmd).await,
        QueryCmd::Deployment { cmd } => {
            crate::cli::deployment::run_query(&q, url, out, addr, cmd).await
        }
        QueryCmd::Market { cmd } => crate::cli::market::run_query(&q, url, out, addr, cmd).await,
        QueryCmd::Provider { cmd } => {
            crate::cli::provider::run_query(&q, url, out, addr, cmd).await
        }
        QueryCmd::Audit { cmd } => crate::cli::audit::run_query(&q, url, out, addr, cmd).await,
        QueryCmd::Cert { cmd } => crate::cli::cert::run_query(&q, url, out, addr, cmd).await,
        QueryCmd::Enclave { cmd } => crate::cli::enclave::run_query(&q, url, out, addr, cmd).await,
        QueryCmd::Offering { cmd } => {
            crate::cli::offering::run_query(&q, url, out, addr, cmd).await
        }
        QueryCmd::Hpc { cmd } => crate::cli::hpc::run_query(&q, url, out, addr, cmd).await,
        QueryCmd::Identity { cmd } => {
            crate::cli::identity::run_query(&q, url, out, addr, cmd).await
        }
        QueryCmd::Auth {
            cmd: AuthQuery::Account { address },
        } => {
            let a = addr(address)?;
            let acc = account(&node, &a)
                .await?
                .with_context(|| format!("account {a} not found: it has never received funds"))?;
            let pub_key = acc.pub_key.as_ref().map(|pk| {
                let key = base64::engine::general_purpose::STANDARD.encode(pk.to_bytes());
                json!({"@type": SECP256K1_PUBKEY_TYPE_URL, "key": key})
            });
            let v = json!({"account": {
                "@type": "/cosmos.auth.v1beta1.BaseAccount",
                "address": acc.address.to_string(),
                "pub_key": pub_key,
                "account_number": acc.account_number.to_string(),
                "sequence": acc.sequence.to_string(),
            }});
            emit(out, &v, || {
                println!("address:        {}", acc.address);
                println!("account number: {}", acc.account_number);
                println!("sequence:       {}", acc.sequence);
                match &pub_key {
                    Some(pk) => println!("public key:     {}", pk["key"].as_str().unwrap_or("")),
                    None => println!(
                        "public key:     (none yet: the account has not signed a transaction)"
                    ),
                }
            })
        }
        QueryCmd::Bank {
            cmd: BankQuery::Balances { address, denom },
        } => {
            let a = addr(address)?;
            if let Some(denom) = denom {
                let c = q
                    .balance(&a, denom)
                    .await
                    .map_err(|e| query_error(url, e))?;
                let v = json!({"balance": coin_json(&c)});
                return emit(out, &v, || println!("{}{}", c.amount, c.denom));
            }
            let all = q.all_balances(&a).await.map_err(|e| query_error(url, e))?;
            let v = json!({"balances": all.iter().map(coin_json).collect::<Vec<_>>()});
            emit(out, &v, || print_coins(&all, "no balances"))
        }
        QueryCmd::Bank {
            cmd: BankQuery::Total,
        } => {
            let all = q.total_supply().await.map_err(|e| query_error(url, e))?;
            let v = json!({"supply": all.iter().map(coin_json).collect::<Vec<_>>()});
            emit(out, &v, || print_coins(&all, "no supply"))
        }
        QueryCmd::Tx { hash } => {
            hex::decode(hash.trim_start_matches("0x"))
                .with_context(|| format!("tx hash {hash:?} is not hex"))?;
            let r = node
                .tx(hash)
                .await
                .map_err(|e| rpc_error(url, e))?
                .with_context(|| {
                    format!("tx {hash} not found (not yet in a block, or on another chain)")
                })?;
            let r = TxOutput::included(r);
            match out {
                OutputFormat::Json => print_json(&r),
                OutputFormat::Text => {
                    println!("txhash:   {}", r.txhash);
                    println!("height:   {}", r.height);
                    println!("code:     {}", r.code);
                    if r.code != 0 {
                        println!("codespace: {}", r.codespace);
                    }
                    println!("gas used: {} / {}", r.gas_used, r.gas_wanted);
                    println!("raw log:  {}", r.raw_log);
                    Ok(())
                }
            }
        }
    }
}

/// A transaction's result as the chain recorded it (JSON output of `tx` and `query tx`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TxOutput {
    pub txhash: String,
    pub height: u64,
    pub code: u32,
    pub codespace: String,
    pub raw_log: String,
    pub gas_wanted: u64,
    pub gas_used: u64,
    pub events: Value,
}

impl TxOutput {
    /// A transaction that made it into a block.
    pub fn included(r: TxResult) -> Self {
        Self {
            txhash: r.hash.to_uppercase(),
            height: r.height,
            code: r.code,
            codespace: r.codespace,
            raw_log: r.log,
            gas_wanted: u64::try_from(r.gas_wanted).unwrap_or(0),
            gas_used: u64::try_from(r.gas_used).unwrap_or(0),
            events: serde_json::to_value(&r.events).unwrap_or(Value::Array(Vec::new())),
        }
    }
}

/// The node at `url` (CometBFT RPC), for client commands.
pub fn connect(url: &str) -> Result<RpcClient> {
    RpcClient::with_timeout(url, REQUEST_TIMEOUT).context("building HTTP client")
}

/// The account's number and sequence; `None` if the chain has never seen it.
pub async fn account(node: &RpcClient, address: &Address) -> Result<Option<BaseAccount>> {
    QueryClient::new(node)
        .account(address)
        .await
        .map_err(|e| match e {
            QueryError::Abci {
                codespace,
                code,
                log,
                ..
            } => anyhow!("account query failed: codespace {codespace} code {code}: {log}"),
            e => query_error(node.url(), e),
        })
}

/// A node error, worded for someone at a terminal.
pub fn rpc_error(url: &str, e: RpcError) -> anyhow::Error {
    match e {
        RpcError::Transport { reason, .. } => anyhow!(reason).context(format!(
            "no answer from CometBFT RPC at {url} (is the node running? start one with \
             `virtengine localnet start`, or pass --node)"
        )),
        RpcError::Decode { method, reason } => {
            anyhow!(reason).context(format!("unexpected response to {method} from {url}"))
        }
        RpcError::Rpc {
            method,
            message,
            data,
            ..
        } => anyhow!("{method} failed at {url}: {message} {data}"),
        e => anyhow!(e),
    }
}

/// A query error, worded for someone at a terminal.
pub fn query_error(url: &str, e: QueryError) -> anyhow::Error {
    match e {
        QueryError::Rpc(e) => rpc_error(url, e),
        QueryError::Abci {
            path,
            codespace,
            code,
            log,
            ..
        } => anyhow!("query {path} failed: codespace {codespace} code {code}: {log}"),
        QueryError::Decode { path, reason } => {
            anyhow!(reason).context(format!("decoding the answer of {path}"))
        }
    }
}

fn coin_json(c: &Coin) -> Value {
    json!({"denom": c.denom, "amount": c.amount.to_string()})
}

fn print_coins(coins: &[Coin], empty: &str) {
    if coins.is_empty() {
        println!("{empty}");
    }
    for c in coins {
        println!("{}{}", c.amount, c.denom);
    }
}

fn emit(out: OutputFormat, v: &Value, text: impl FnOnce()) -> Result<()> {
    match out {
        OutputFormat::Json => print_json(v),
        OutputFormat::Text => {
            text();
            Ok(())
        }
    }
}
