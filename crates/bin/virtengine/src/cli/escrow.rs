//! `virtengine tx escrow ...` and `virtengine query escrow ...`: funding escrow accounts
//! (your own or someone else's), withdrawing payments, and looking at accounts settled to
//! the latest height; deposit grants (a funder lets a tenant fund escrow from the funder's
//! balance). docs/escrow.md explains the rules.

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
    /// With --from-grant the funds come from that account's deposit grant to you (it pays,
    /// and gets back what is left when the escrow account closes).
    #[command(
        after_help = "Examples:\n  virtengine tx escrow deposit deployment/ve1...xyz/1 500000uve --from alice --yes\n  virtengine tx escrow deposit deployment/ve1...xyz/1 500000uve --from-grant ve1...funder --from alice --yes"
    )]
    Deposit {
        /// Account id: scope/xid, e.g. deployment/<owner>/<dseq>.
        account_id: String,
        /// Amount, e.g. 500000uve (the account's denom).
        amount: String,
        /// Depositor: a key name in the keyring, or its address.
        #[arg(long)]
        from: String,
        /// Draw the amount from this granter's deposit grant to --from (address or key name).
        #[arg(long, value_name = "GRANTER")]
        from_grant: Option<String>,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Let GRANTEE fund escrow accounts (deployments by default) from your balance, up to
    /// LIMIT in total. Replaces an earlier grant to the same grantee.
    #[command(
        after_help = "Example:\n  virtengine tx escrow grant ve1...tenant 10000000uve --expiration 1767225600 --from funder --yes"
    )]
    Grant {
        /// Who may spend: address or key name.
        grantee: String,
        /// Spend limit, e.g. 10000000uve.
        limit: String,
        /// Unix time (block time) from which the grant can no longer be used; 0 = never.
        #[arg(long, default_value_t = 0)]
        expiration: i64,
        /// Escrow account scopes it may fund (repeatable): deployment, bid.
        #[arg(long = "scope", default_value = "deployment")]
        scopes: Vec<String>,
        /// The granter (pays): a key name in the keyring, or its address.
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Withdraw a deposit grant. Deposits already made stay in escrow and come back to you
    /// when their accounts close.
    #[command(
        after_help = "Example:\n  virtengine tx escrow revoke ve1...tenant --from funder --yes"
    )]
    Revoke {
        grantee: String,
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
    /// One deposit grant.
    #[command(after_help = "Example:\n  virtengine query escrow grant ve1...funder ve1...tenant")]
    Grant { granter: String, grantee: String },
    /// Grants given by --granter, or received by --grantee.
    #[command(after_help = "Example:\n  virtengine query escrow grants --grantee alice")]
    Grants {
        #[arg(long, conflicts_with = "grantee", required_unless_present = "grantee")]
        granter: Option<String>,
        #[arg(long)]
        grantee: Option<String>,
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

/// An address given as `ve1...` or as a key name in the keyring.
pub(crate) fn address_or_key(c: &TxCommon, s: &str) -> Result<Address> {
    if let Ok(a) = s.parse::<Address>() {
        return Ok(a);
    }
    let home = home::resolve(c.home.as_deref(), home::DEFAULT_LOCALNET_HOME)?;
    let kr = open_keyring(&home, &c.keyring)?;
    Ok(kr
        .show(s)
        .with_context(|| format!("{s:?} is neither an address nor a key name"))?
        .address)
}

fn proto_coin(c: &Coin) -> ve_proto::cosmos::base::v1beta1::Coin {
    ve_proto::cosmos::base::v1beta1::Coin {
        denom: c.denom.clone(),
        amount: c.amount.to_string(),
    }
}

/// The deposit message: from the signer's balance, or from `granter`'s grant.
pub(crate) fn deposit_any(
    signer: &Address,
    aid: AccountId,
    coin: &Coin,
    granter: Option<&Address>,
) -> ve_proto::Any {
    match granter {
        None => ve_proto::to_any(
            "/virtengine.escrow.v1.MsgDeposit",
            &MsgDeposit {
                signer: signer.to_string(),
                account_id: Some(aid),
                amount: Some(proto_coin(coin)),
            },
        ),
        Some(g) => ve_proto::to_any(
            "/virtengine.escrow.v1.MsgDepositFromGrant",
            &MsgDepositFromGrant {
                signer: signer.to_string(),
                account_id: Some(aid),
                amount: Some(proto_coin(coin)),
                granter: g.to_string(),
            },
        ),
    }
}

pub async fn run_tx(cmd: EscrowTx) -> Result<()> {
    match cmd {
        EscrowTx::Deposit {
            account_id: id,
            amount,
            from,
            from_grant,
            common,
        } => {
            let aid = account_id(&id)?;
            let coin: Coin = amount
                .parse()
                .with_context(|| format!("amount {amount:?}"))?;
            let (kr, name, address) = signer(&common, &from)?;
            let granter = from_grant
                .as_deref()
                .map(|g| address_or_key(&common, g))
                .transpose()?;
            let msg = deposit_any(&address, aid, &coin, granter.as_ref());
            let source = match &granter {
                Some(g) => format!("the grant of {g}"),
                None => from.clone(),
            };
            let summary = format!("deposit {coin} into escrow account {id} from {source}");
            broadcast(&common, &kr, &name, vec![msg], &summary).await
        }
        EscrowTx::Grant {
            grantee,
            limit,
            expiration,
            scopes,
            from,
            common,
        } => {
            let coin: Coin = limit.parse().with_context(|| format!("limit {limit:?}"))?;
            let grantee = address_or_key(&common, &grantee)?;
            let (kr, name, address) = signer(&common, &from)?;
            let msg = ve_proto::to_any(
                "/virtengine.escrow.v1.MsgGrantDeposit",
                &MsgGrantDeposit {
                    granter: address.to_string(),
                    grantee: grantee.to_string(),
                    spend_limit: Some(proto_coin(&coin)),
                    expiration,
                    scopes: scopes.clone(),
                },
            );
            let until = if expiration == 0 {
                "no expiration".to_string()
            } else {
                format!("until unix time {expiration}")
            };
            let summary = format!(
                "let {grantee} fund {} escrow accounts with up to {coin} of {from}'s funds ({until})",
                scopes.join("/")
            );
            broadcast(&common, &kr, &name, vec![msg], &summary).await
        }
        EscrowTx::Revoke {
            grantee,
            from,
            common,
        } => {
            let grantee = address_or_key(&common, &grantee)?;
            let (kr, name, address) = signer(&common, &from)?;
            let msg = ve_proto::to_any(
                "/virtengine.escrow.v1.MsgRevokeDepositGrant",
                &MsgRevokeDepositGrant {
                    granter: address.to_string(),
                    grantee: grantee.to_string(),
                },
            );
            let summary = format!("revoke the deposit grant of {from} to {grantee}");
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
            "grantee": d.grantee,
        })).collect::<Vec<_>>(),
        "transferred": a.transferred,
        "settled_at": a.settled_at.to_string(),
        "overdrawn_at": a.overdrawn_at.to_string(),
        "grace_until": a.grace_until.to_string(),
        "runs_dry_at": a.wake_at.to_string(),
        "closed_at": a.closed_at.to_string(),
    })
}

fn grant_json(g: &DepositGrant) -> Value {
    let limit = g
        .spend_limit
        .as_ref()
        .map(|c| format!("{}{}", c.amount, c.denom))
        .unwrap_or_default();
    json!({
        "granter": g.granter,
        "grantee": g.grantee,
        "spend_limit": limit,
        "expiration": g.expiration.to_string(),
        "scopes": g.scopes,
        "created_at": g.created_at.to_string(),
    })
}

fn print_grant(g: &DepositGrant) {
    let v = grant_json(g);
    let expires = if g.expiration == 0 {
        "never".to_string()
    } else {
        format!("unix time {}", g.expiration)
    };
    println!("grant: {} -> {}", g.granter, g.grantee);
    println!(
        "  spend limit left: {}",
        v["spend_limit"].as_str().unwrap_or("")
    );
    println!("  scopes:           {}", g.scopes.join(", "));
    println!("  expires:          {expires}");
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
        if d.grantee.is_empty() {
            println!("    deposit: {}{} from {}", d.balance, a.denom, d.address);
        } else {
            println!(
                "    deposit: {}{} from {} (grant to {})",
                d.balance, a.denom, d.address, d.grantee
            );
        }
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
        EscrowQuery::Grant { granter, grantee } => {
            let r: QueryGrantResponse = q
                .query(
                    "/virtengine.escrow.v1.Query/Grant",
                    &QueryGrantRequest {
                        granter: address(granter)?.to_string(),
                        grantee: address(grantee)?.to_string(),
                    },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            let g = r.grant.context("node answered without a grant")?;
            match out {
                OutputFormat::Json => print_json(&grant_json(&g)),
                OutputFormat::Text => {
                    print_grant(&g);
                    Ok(())
                }
            }
        }
        EscrowQuery::Grants { granter, grantee } => {
            let granter = granter.as_deref().map(&address).transpose()?;
            let grantee = grantee.as_deref().map(&address).transpose()?;
            let path = "/virtengine.escrow.v1.Query/Grants";
            let grants = q
                .paged(path, |pagination| {
                    let req = QueryGrantsRequest {
                        granter: granter.map(|a| a.to_string()).unwrap_or_default(),
                        grantee: grantee.map(|a| a.to_string()).unwrap_or_default(),
                        pagination,
                    };
                    async move {
                        let r: QueryGrantsResponse = q.query(path, &req).await?;
                        Ok((r.grants, r.pagination))
                    }
                })
                .await
                .map_err(|e| query_error(url, e))?;
            match out {
                OutputFormat::Json => print_json(&json!({
                    "grants": grants.iter().map(grant_json).collect::<Vec<_>>()
                })),
                OutputFormat::Text => {
                    if grants.is_empty() {
                        println!("no deposit grants");
                    }
                    grants.iter().for_each(print_grant);
                    Ok(())
                }
            }
        }
    }
}
