//! `virtengine tx escrow ...` and `virtengine query escrow ...`: funding escrow accounts
//! (your own or someone else's), withdrawing payments, and looking at accounts settled to
//! the latest height. docs/escrow.md explains the rules.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use serde_json::{json, Value};
use ve_client::QueryClient;
use ve_proto::virtengine::escrow::v1::*;
use ve_types::{Address, Coin};

use crate::cli::keys::open_keyring;
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::query::query_error;
use crate::cli::tx::{broadcast, TxCommon};
use crate::home;

#[derive(Debug, Subcommand)]
pub enum EscrowTx {
    /// Add funds to an escrow account. Anyone may fund any account (sponsorship); a deposit
    /// that covers an overdrawn account's debt resumes its payments.
    #[command(
        after_help = "Example:\n  virtengine tx escrow deposit deployment/ve1...xyz/1 500000uve --from alice --yes"
    )]
    Deposit {
        /// Account id: scope/xid, e.g. deployment/<owner>/<dseq>.
        account_id: String,
        /// Amount, e.g. 500000uve (the account's denom).
        amount: String,
        /// Depositor: a key name in the keyring, or its address.
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Withdraw a payment's accrued funds (payee only); the take rate goes to the community pool.
    #[command(
        after_help = "Example:\n  virtengine tx escrow withdraw deployment/ve1...xyz/1 1/1/ve1...prov --from provider --yes"
    )]
    Withdraw {
        account_id: String,
        payment_id: String,
        /// The payee: a key name in the keyring, or its address.
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
}

#[derive(Debug, Subcommand)]
pub enum EscrowQuery {
    /// One account and its open payments, settled to the latest height.
    #[command(after_help = "Example:\n  virtengine query escrow account deployment/ve1...xyz/1")]
    Account { account_id: String },
    /// Every account of an owner.
    #[command(after_help = "Example:\n  virtengine query escrow accounts --owner alice")]
    Accounts {
        /// Address (ve1...) or key name.
        #[arg(long)]
        owner: String,
    },
}

fn account_id(s: &str) -> Result<AccountId> {
    match s.split_once('/') {
        Some((scope, xid)) if !scope.is_empty() && !xid.is_empty() => Ok(AccountId {
            scope: scope.to_string(),
            xid: xid.to_string(),
        }),
        _ => bail!("invalid account id {s:?}: expected scope/xid, e.g. deployment/<owner>/<dseq>"),
    }
}

/// The keyring key named `from`, or holding address `from`.
fn signer(c: &TxCommon, from: &str) -> Result<(ve_client::Keyring, String, Address)> {
    let home = home::resolve(c.home.as_deref(), home::DEFAULT_LOCALNET_HOME)?;
    let kr = open_keyring(&home, &c.keyring)?;
    let info = match from.parse::<Address>() {
        Ok(addr) => kr
            .list()?
            .into_iter()
            .find(|k| k.address == addr)
            .with_context(|| format!("no key for {addr} in {}", kr.dir().display()))?,
        Err(_) => kr.show(from).with_context(|| format!("signer {from:?}"))?,
    };
    Ok((kr, info.name, info.address))
}

pub async fn run_tx(cmd: EscrowTx) -> Result<()> {
    match cmd {
        EscrowTx::Deposit {
            account_id: id,
            amount,
            from,
            common,
        } => {
            let aid = account_id(&id)?;
            let coin: Coin = amount
                .parse()
                .with_context(|| format!("amount {amount:?}"))?;
            let (kr, name, address) = signer(&common, &from)?;
            let msg = ve_proto::to_any(
                "/virtengine.escrow.v1.MsgDeposit",
                &MsgDeposit {
                    signer: address.to_string(),
                    account_id: Some(aid),
                    amount: Some(ve_proto::cosmos::base::v1beta1::Coin {
                        denom: coin.denom.clone(),
                        amount: coin.amount.to_string(),
                    }),
                },
            );
            let summary = format!("deposit {coin} into escrow account {id} from {from}");
            broadcast(&common, &kr, &name, vec![msg], &summary).await
        }
        EscrowTx::Withdraw {
            account_id: id,
            payment_id,
            from,
            common,
        } => {
            let aid = account_id(&id)?;
            let (kr, name, address) = signer(&common, &from)?;
            let msg = ve_proto::to_any(
                "/virtengine.escrow.v1.MsgWithdrawPayment",
                &MsgWithdrawPayment {
                    signer: address.to_string(),
                    account_id: Some(aid),
                    payment_id: payment_id.clone(),
                },
            );
            let summary = format!("withdraw payment {payment_id} of escrow account {id} to {from}");
            broadcast(&common, &kr, &name, vec![msg], &summary).await
        }
    }
}

fn account_state(s: i32) -> &'static str {
    match AccountState::try_from(s) {
        Ok(AccountState::Open) => "open",
        Ok(AccountState::Overdrawn) => "overdrawn",
        Ok(AccountState::Closed) => "closed",
        _ => "unspecified",
    }
}

fn payment_state(s: i32) -> &'static str {
    match PaymentState::try_from(s) {
        Ok(PaymentState::Open) => "open",
        Ok(PaymentState::Paused) => "paused",
        Ok(PaymentState::Closed) => "closed",
        _ => "unspecified",
    }
}

fn id_string(id: Option<&AccountId>) -> String {
    id.map(|i| format!("{}/{}", i.scope, i.xid))
        .unwrap_or_default()
}

fn account_json(a: &Account) -> Value {
    json!({
        "id": id_string(a.id.as_ref()),
        "owner": a.owner,
        "state": account_state(a.state),
        "denom": a.denom,
        "balance": a.balance,
        "deposits": a.deposits.iter().map(|d| json!({
            "depositor": d.address, "height": d.height.to_string(), "balance": d.balance,
        })).collect::<Vec<_>>(),
        "transferred": a.transferred,
        "settled_at": a.settled_at.to_string(),
        "overdrawn_at": a.overdrawn_at.to_string(),
        "grace_until": a.grace_until.to_string(),
        "runs_dry_at": a.wake_at.to_string(),
        "closed_at": a.closed_at.to_string(),
    })
}

fn payment_json(p: &Payment) -> Value {
    json!({
        "id": p.id,
        "payee": p.payee,
        "rate": p.rate,
        "state": payment_state(p.state),
        "balance": p.balance,
        "unsettled": p.unsettled,
        "withdrawn": p.withdrawn,
    })
}

fn print_account(a: &Account) {
    println!("account: {}", id_string(a.id.as_ref()));
    println!("  owner:     {}", a.owner);
    println!("  state:     {}", account_state(a.state));
    println!("  balance:   {}{}", a.balance, a.denom);
    for d in &a.deposits {
        println!("    deposit: {}{} from {}", d.balance, a.denom, d.address);
    }
    println!("  paid out:  {}{}", a.transferred, a.denom);
    println!("  settled:   height {}", a.settled_at);
    if a.overdrawn_at != 0 {
        println!(
            "  overdrawn: at height {}; top up before the end of height {} or it closes",
            a.overdrawn_at, a.grace_until
        );
    } else if a.wake_at != 0 {
        println!("  runs dry:  at height {}", a.wake_at);
    }
}

pub async fn run_query(
    q: &QueryClient<'_>,
    url: &str,
    out: OutputFormat,
    address: impl Fn(&str) -> Result<Address>,
    cmd: &EscrowQuery,
) -> Result<()> {
    match cmd {
        EscrowQuery::Account { account_id: id } => {
            let r: QueryAccountResponse = q
                .query(
                    "/virtengine.escrow.v1.Query/Account",
                    &QueryAccountRequest {
                        id: Some(account_id(id)?),
                    },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            let a = r.account.context("node answered without an account")?;
            match out {
                OutputFormat::Json => print_json(&json!({
                    "account": account_json(&a),
                    "payments": r.payments.iter().map(payment_json).collect::<Vec<_>>(),
                })),
                OutputFormat::Text => {
                    print_account(&a);
                    for p in &r.payments {
                        println!(
                            "  payment {}: {} {}{}/block to {}, accrued {}{}, owed {}{}, withdrawn {}{}",
                            p.id,
                            payment_state(p.state),
                            p.rate,
                            a.denom,
                            p.payee,
                            p.balance,
                            a.denom,
                            p.unsettled,
                            a.denom,
                            p.withdrawn,
                            a.denom
                        );
                    }
                    Ok(())
                }
            }
        }
        EscrowQuery::Accounts { owner } => {
            let owner = address(owner)?;
            let path = "/virtengine.escrow.v1.Query/Accounts";
            let accounts = q
                .paged(path, |pagination| {
                    let req = QueryAccountsRequest {
                        owner: owner.to_string(),
                        pagination,
                    };
                    async move {
                        let r: QueryAccountsResponse = q.query(path, &req).await?;
                        Ok((r.accounts, r.pagination))
                    }
                })
                .await
                .map_err(|e| query_error(url, e))?;
            match out {
                OutputFormat::Json => print_json(&json!({
                    "accounts": accounts.iter().map(account_json).collect::<Vec<_>>()
                })),
                OutputFormat::Text => {
                    if accounts.is_empty() {
                        println!("no escrow accounts owned by {owner}");
                    }
                    accounts.iter().for_each(print_account);
                    Ok(())
                }
            }
        }
    }
}
