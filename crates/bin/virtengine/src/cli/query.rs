//! `virtengine query ...`: read chain state through the node's ABCI query (paths are the
//! Cosmos gRPC method names), printed like the Cosmos SDK CLI prints them.

use std::path::PathBuf;

use anyhow::{Context, Result};
use base64::Engine;
use clap::{Args, Subcommand};
use prost::Message;
use serde_json::{json, Value};
use ve_proto::cosmos::bank::v1beta1::{
    QueryAllBalancesRequest, QueryAllBalancesResponse, QueryBalanceRequest, QueryBalanceResponse,
    QueryTotalSupplyRequest, QueryTotalSupplyResponse,
};
use ve_proto::cosmos::base::query::v1beta1::PageRequest;
use ve_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use ve_types::Address;

use crate::chain::Node;
use crate::cli::genesis::resolve_address;
use crate::cli::keys::KeyringArgs;
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::NodeArgs;
use crate::home;

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
    let node = Node::new(&args.node.node)?;
    let out = args.output;
    let addr = |s: &str| -> Result<Address> {
        let home = home::resolve(args.home.as_deref(), home::DEFAULT_LOCALNET_HOME)?;
        resolve_address(s, &home, &args.keyring)
    };
    match &args.cmd {
        QueryCmd::Auth {
            cmd: AuthQuery::Account { address },
        } => {
            let a = addr(address)?;
            let acc = node
                .account(&a)
                .await?
                .with_context(|| format!("account {a} not found: it has never received funds"))?;
            let pub_key = acc.pub_key.as_ref().map(|pk| {
                let key = ve_proto::cosmos::crypto::secp256k1::PubKey::decode(pk.value.as_slice())
                    .map(|k| base64::engine::general_purpose::STANDARD.encode(k.key))
                    .unwrap_or_default();
                json!({"@type": pk.type_url, "key": key})
            });
            let v = json!({"account": {
                "@type": "/cosmos.auth.v1beta1.BaseAccount",
                "address": acc.address,
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
                let r: QueryBalanceResponse = node
                    .grpc_query(
                        "/cosmos.bank.v1beta1.Query/Balance",
                        &QueryBalanceRequest {
                            address: a.to_string(),
                            denom: denom.clone(),
                        },
                    )
                    .await?;
                let c = r.balance.unwrap_or(ProtoCoin {
                    denom: denom.clone(),
                    amount: "0".into(),
                });
                let v = json!({"balance": coin_json(&c)});
                return emit(out, &v, || println!("{}{}", c.amount, c.denom));
            }
            let mut all = Vec::new();
            let mut key = Vec::new();
            loop {
                let r: QueryAllBalancesResponse = node
                    .grpc_query(
                        "/cosmos.bank.v1beta1.Query/AllBalances",
                        &QueryAllBalancesRequest {
                            address: a.to_string(),
                            pagination: Some(page(key)),
                            resolve_denom: false,
                        },
                    )
                    .await?;
                all.extend(r.balances);
                match r.pagination {
                    Some(p) if !p.next_key.is_empty() => key = p.next_key,
                    _ => break,
                }
            }
            let v = json!({"balances": all.iter().map(coin_json).collect::<Vec<_>>()});
            emit(out, &v, || print_coins(&all, "no balances"))
        }
        QueryCmd::Bank {
            cmd: BankQuery::Total,
        } => {
            let mut all = Vec::new();
            let mut key = Vec::new();
            loop {
                let r: QueryTotalSupplyResponse = node
                    .grpc_query(
                        "/cosmos.bank.v1beta1.Query/TotalSupply",
                        &QueryTotalSupplyRequest {
                            pagination: Some(page(key)),
                        },
                    )
                    .await?;
                all.extend(r.supply);
                match r.pagination {
                    Some(p) if !p.next_key.is_empty() => key = p.next_key,
                    _ => break,
                }
            }
            let v = json!({"supply": all.iter().map(coin_json).collect::<Vec<_>>()});
            emit(out, &v, || print_coins(&all, "no supply"))
        }
        QueryCmd::Tx { hash } => {
            let r = node.tx(hash).await?.with_context(|| {
                format!("tx {hash} not found (not yet in a block, or on another chain)")
            })?;
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

fn page(key: Vec<u8>) -> PageRequest {
    PageRequest {
        key,
        limit: 100,
        ..Default::default()
    }
}

fn coin_json(c: &ProtoCoin) -> Value {
    json!({"denom": c.denom, "amount": c.amount})
}

fn print_coins(coins: &[ProtoCoin], empty: &str) {
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
