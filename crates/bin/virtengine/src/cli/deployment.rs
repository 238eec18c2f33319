//! `virtengine tx deployment ...` and `virtengine query deployment ...`: create a
//! deployment from an SDL file (docs/marketplace.md), update its manifest, close it, and
//! look at deployments with their groups and escrow account.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use ve_client::QueryClient;
use ve_proto::cosmos::base::query::v1beta1::PageRequest;
use ve_proto::virtengine::deployment::v1::*;
use ve_types::{Address, Coin};

use crate::cli::keys::{open_keyring, KeyringArgs};
use crate::cli::output::{print_json, OutputFormat};
use crate::cli::query::{connect, query_error};
use crate::cli::tx::{broadcast, TxCommon};
use crate::home;

#[derive(Debug, Subcommand)]
pub enum DeploymentTx {
    /// Create a deployment from an SDL file; the deposit moves from your balance (or, with
    /// --from-grant, from a funder's deposit grant to you) into the escrow account
    /// deployment/<owner>/<dseq>.
    #[command(
        after_help = "Examples:\n  virtengine tx deployment create examples/deployment.yaml --deposit 5000000uve --from alice --gas 1000000 --yes\n  virtengine tx deployment create examples/deployment.yaml --deposit 5000000uve --from-grant ve1...funder --from alice --gas 1000000 --yes"
    )]
    Create {
        /// SDL file (YAML).
        file: std::path::PathBuf,
        /// Deposit, at least the chain's minimum (500000uve by default).
        #[arg(long, default_value = "500000uve")]
        deposit: String,
        /// Deployment sequence; default: the latest block height.
        #[arg(long)]
        dseq: Option<u64>,
        /// Pay the deposit from this granter's deposit grant to --from (address or key
        /// name); the granter gets the remainder back at close.
        #[arg(long, value_name = "GRANTER")]
        from_grant: Option<String>,
        /// Owner: a key name in the keyring, or its address.
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Replace the manifest hash with that of a new SDL file (the groups stay).
    #[command(
        after_help = "Example:\n  virtengine tx deployment update examples/deployment.yaml --dseq 42 --from alice --yes"
    )]
    Update {
        file: std::path::PathBuf,
        #[arg(long)]
        dseq: u64,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Close a deployment: leases are paid out and closed, the rest of the escrow is refunded.
    #[command(
        after_help = "Example:\n  virtengine tx deployment close --dseq 42 --from alice --yes"
    )]
    Close {
        #[arg(long)]
        dseq: u64,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Top up a deployment's escrow account: from your balance, or with --from-grant from
    /// a funder's deposit grant to you (the funder pays and gets the remainder back at close).
    #[command(
        after_help = "Examples:\n  virtengine tx deployment deposit 1000000uve --dseq 42 --from alice --yes\n  virtengine tx deployment deposit 1000000uve --dseq 42 --from-grant ve1...funder --from alice --yes"
    )]
    Deposit {
        /// Amount, e.g. 1000000uve.
        amount: String,
        #[arg(long)]
        dseq: u64,
        /// Deployment owner (address or key name); default: --from.
        #[arg(long)]
        owner: Option<String>,
        /// Draw from this granter's deposit grant to --from (address or key name).
        #[arg(long, value_name = "GRANTER")]
        from_grant: Option<String>,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Close, pause or start one group of a deployment.
    Group {
        /// close | pause | start
        #[arg(value_parser = ["close", "pause", "start"])]
        action: String,
        #[arg(long)]
        dseq: u64,
        #[arg(long, default_value_t = 1)]
        gseq: u32,
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
}

/// Page flags of list queries: without them every page is fetched.
#[derive(Debug, Clone, Args)]
pub struct PageArgs {
    /// Entries per page (one page only).
    #[arg(long)]
    pub limit: Option<u64>,
    /// Hex next_key of the previous page (one page only).
    #[arg(long)]
    pub page_key: Option<String>,
}

impl PageArgs {
    /// `Some(page)` for one page, `None` for every page.
    pub fn one_page(&self) -> Result<Option<PageRequest>> {
        if self.limit.is_none() && self.page_key.is_none() {
            return Ok(None);
        }
        let key = match &self.page_key {
            Some(k) => hex::decode(k).context("--page-key must be hex")?,
            None => Vec::new(),
        };
        Ok(Some(PageRequest {
            key,
            limit: self.limit.unwrap_or(100),
            ..Default::default()
        }))
    }
}

#[derive(Debug, Subcommand)]
pub enum DeploymentQuery {
    /// One deployment with its groups and escrow account.
    #[command(after_help = "Example:\n  virtengine query deployment get --owner alice --dseq 42")]
    Get {
        /// Address (ve1...) or key name.
        #[arg(long)]
        owner: String,
        #[arg(long)]
        dseq: u64,
    },
    /// Deployments, optionally of one owner and in one state (active|closed).
    #[command(
        after_help = "Example:\n  virtengine query deployment list --owner alice --state active --output json"
    )]
    List {
        #[arg(long)]
        owner: Option<String>,
        #[arg(long, value_parser = ["active", "closed"])]
        state: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
}

/// The keyring key named `from`, or holding address `from`.
pub(crate) fn signer(c: &TxCommon, from: &str) -> Result<(ve_client::Keyring, String, Address)> {
    signer_in(c.home.as_deref(), &c.keyring, from)
}

/// [`signer`] for commands that sign no transaction (only the keyring flags).
pub(crate) fn signer_in(
    home: Option<&std::path::Path>,
    keyring: &KeyringArgs,
    from: &str,
) -> Result<(ve_client::Keyring, String, Address)> {
    let home = home::resolve(home, home::DEFAULT_LOCALNET_HOME)?;
    let kr = open_keyring(&home, keyring)?;
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

pub(crate) fn proto_coin(c: &Coin) -> ve_proto::cosmos::base::v1beta1::Coin {
    ve_proto::cosmos::base::v1beta1::Coin {
        denom: c.denom.clone(),
        amount: c.amount.to_string(),
    }
}

pub(crate) fn read_sdl(file: &std::path::Path) -> Result<ve_sdl::Sdl> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    ve_sdl::parse(&text).with_context(|| format!("{}", file.display()))
}

fn did(owner: &Address, dseq: u64) -> DeploymentId {
    DeploymentId {
        owner: owner.to_string(),
        dseq,
    }
}

/// The dseq the CLI picks when none is given: the node's latest block height.
pub(crate) async fn default_dseq(c: &TxCommon) -> Result<u64> {
    Ok(connect(&c.node.node)?
        .status()
        .await
        .context("asking the node for the latest height (or pass --dseq)")?
        .sync_info
        .latest_block_height
        .max(1))
}

/// `MsgCreateDeployment` of `sdl`'s groups and manifest hash, funded by `deposit`
/// (from `granter`'s deposit grant when given).
pub(crate) fn create_msg(
    sdl: &ve_sdl::Sdl,
    owner: &Address,
    dseq: u64,
    deposit: &Coin,
    granter: Option<&Address>,
) -> ve_proto::Any {
    ve_proto::to_any(
        "/virtengine.deployment.v1.MsgCreateDeployment",
        &MsgCreateDeployment {
            id: Some(did(owner, dseq)),
            groups: sdl.groups.clone(),
            hash: sdl.hash().to_vec(),
            deposit: Some(proto_coin(deposit)),
            from_grant: granter.map(|g| g.to_string()).unwrap_or_default(),
        },
    )
}

pub async fn run_tx(cmd: DeploymentTx) -> Result<()> {
    match cmd {
        DeploymentTx::Create {
            file,
            deposit,
            dseq,
            from_grant,
            from,
            common,
        } => {
            let sdl = read_sdl(&file)?;
            let deposit: Coin = deposit
                .parse()
                .with_context(|| format!("deposit {deposit:?}"))?;
            let dseq = match dseq {
                Some(d) => d,
                None => default_dseq(&common).await?,
            };
            let (kr, name, owner) = signer(&common, &from)?;
            let granter = from_grant
                .as_deref()
                .map(|g| crate::cli::escrow::address_or_key(&common, g))
                .transpose()?;
            let hash = sdl.hash();
            let msg = create_msg(&sdl, &owner, dseq, &deposit, granter.as_ref());
            let source = granter
                .map(|g| format!(" from the grant of {g}"))
                .unwrap_or_default();
            let summary = format!(
                "create deployment {owner}/{dseq} ({} group(s), manifest {}) with deposit {deposit}{source}",
                sdl.groups.len(),
                hex::encode(hash)
            );
            broadcast(&common, &kr, &name, vec![msg], &summary).await
        }
        DeploymentTx::Update {
            file,
            dseq,
            from,
            common,
        } => {
            let sdl = read_sdl(&file)?;
            let (kr, name, owner) = signer(&common, &from)?;
            let msg = ve_proto::to_any(
                "/virtengine.deployment.v1.MsgUpdateDeployment",
                &MsgUpdateDeployment {
                    id: Some(did(&owner, dseq)),
                    hash: sdl.hash().to_vec(),
                },
            );
            let summary = format!(
                "update deployment {owner}/{dseq} to manifest {}",
                hex::encode(sdl.hash())
            );
            broadcast(&common, &kr, &name, vec![msg], &summary).await
        }
        DeploymentTx::Close { dseq, from, common } => {
            let (kr, name, owner) = signer(&common, &from)?;
            let msg = ve_proto::to_any(
                "/virtengine.deployment.v1.MsgCloseDeployment",
                &MsgCloseDeployment {
                    id: Some(did(&owner, dseq)),
                },
            );
            let summary = format!("close deployment {owner}/{dseq} (refunds the escrow remainder)");
            broadcast(&common, &kr, &name, vec![msg], &summary).await
        }
        DeploymentTx::Deposit {
            amount,
            dseq,
            owner,
            from_grant,
            from,
            common,
        } => {
            use crate::cli::escrow::{address_or_key, deposit_any};
            let coin: Coin = amount
                .parse()
                .with_context(|| format!("amount {amount:?}"))?;
            let (kr, name, signer_addr) = signer(&common, &from)?;
            let owner = match owner {
                Some(o) => address_or_key(&common, &o)?,
                None => signer_addr,
            };
            let granter = from_grant
                .as_deref()
                .map(|g| address_or_key(&common, g))
                .transpose()?;
            let aid = ve_proto::virtengine::escrow::v1::AccountId {
                scope: "deployment".into(),
                xid: format!("{owner}/{dseq}"),
            };
            let msg = deposit_any(&signer_addr, aid, &coin, granter.as_ref());
            let source = granter
                .map(|g| format!(" from the grant of {g}"))
                .unwrap_or_default();
            let summary = format!("deposit {coin} into deployment {owner}/{dseq}{source}");
            broadcast(&common, &kr, &name, vec![msg], &summary).await
        }
        DeploymentTx::Group {
            action,
            dseq,
            gseq,
            from,
            common,
        } => {
            let (kr, name, owner) = signer(&common, &from)?;
            let id = Some(GroupId {
                owner: owner.to_string(),
                dseq,
                gseq,
            });
            let msg = match action.as_str() {
                "close" => ve_proto::to_any(
                    "/virtengine.deployment.v1.MsgCloseGroup",
                    &MsgCloseGroup { id },
                ),
                "pause" => ve_proto::to_any(
                    "/virtengine.deployment.v1.MsgPauseGroup",
                    &MsgPauseGroup { id },
                ),
                "start" => ve_proto::to_any(
                    "/virtengine.deployment.v1.MsgStartGroup",
                    &MsgStartGroup { id },
                ),
                other => bail!("unknown group action {other}"),
            };
            let summary = format!("{action} group {owner}/{dseq}/{gseq}");
            broadcast(&common, &kr, &name, vec![msg], &summary).await
        }
    }
}

fn dstate(s: i32) -> &'static str {
    match DeploymentState::try_from(s) {
        Ok(DeploymentState::Active) => "active",
        Ok(DeploymentState::Closed) => "closed",
        _ => "invalid",
    }
}

fn gstate(s: i32) -> &'static str {
    match GroupState::try_from(s) {
        Ok(GroupState::Open) => "open",
        Ok(GroupState::Paused) => "paused",
        Ok(GroupState::InsufficientFunds) => "insufficient_funds",
        Ok(GroupState::Closed) => "closed",
        _ => "invalid",
    }
}

pub(crate) fn resources_json(r: &Resources) -> Value {
    json!({
        "cpu_millicores": r.cpu_millicores.to_string(),
        "memory_bytes": r.memory_bytes.to_string(),
        "storage_bytes": r.storage_bytes.to_string(),
        "gpu_count": r.gpu_count,
        "gpu_model": r.gpu_model,
        "endpoints": r.endpoints.len(),
    })
}

pub(crate) fn spec_json(s: &GroupSpec) -> Value {
    json!({
        "name": s.name,
        "requirements": s.requirements.as_ref().map(|r| json!({
            "attributes": r.attributes.iter().map(|a| json!({"key": a.key, "value": a.value})).collect::<Vec<_>>(),
            "signed_by": r.signed_by.as_ref().map(|s| json!({"all_of": s.all_of, "any_of": s.any_of})),
        })),
        "resources": s.resources.iter().map(|u| json!({
            "resources": u.resources.as_ref().map(resources_json),
            "count": u.count,
            "price": u.price.as_ref().map(|p| format!("{}{}", p.amount, p.denom)),
        })).collect::<Vec<_>>(),
    })
}

fn info_json(i: &DeploymentInfo) -> Value {
    let d = i.deployment.clone().unwrap_or_default();
    let id = d.id.clone().unwrap_or_default();
    json!({
        "owner": id.owner,
        "dseq": id.dseq.to_string(),
        "state": dstate(d.state),
        "hash": hex::encode(&d.hash),
        "denom": d.denom,
        "created_at": d.created_at.to_string(),
        "closed_at": d.closed_at.to_string(),
        "groups": i.groups.iter().map(|g| json!({
            "gseq": g.id.as_ref().map_or(0, |x| x.gseq),
            "state": gstate(g.state),
            "spec": g.spec.as_ref().map(spec_json),
        })).collect::<Vec<_>>(),
        "escrow_account": i.escrow_account.as_ref().map(|a| json!({
            "state": a.state,
            "balance": a.balance,
            "transferred": a.transferred,
            "deposits": a.deposits.iter().map(|x| json!({"depositor": x.address, "balance": x.balance})).collect::<Vec<_>>(),
            "grace_until": a.grace_until.to_string(),
        })),
    })
}

fn print_info(i: &DeploymentInfo) {
    let d = i.deployment.clone().unwrap_or_default();
    let id = d.id.clone().unwrap_or_default();
    println!("deployment {}/{}: {}", id.owner, id.dseq, dstate(d.state));
    println!("  manifest: {}", hex::encode(&d.hash));
    if let Some(a) = &i.escrow_account {
        println!(
            "  escrow:   {}{} left, {}{} paid out",
            a.balance, a.denom, a.transferred, a.denom
        );
    }
    for g in &i.groups {
        let name = g.spec.as_ref().map(|s| s.name.as_str()).unwrap_or("");
        println!(
            "  group {} ({name}): {}",
            g.id.as_ref().map_or(0, |x| x.gseq),
            gstate(g.state)
        );
    }
}

pub async fn run_query(
    q: &QueryClient<'_>,
    url: &str,
    out: OutputFormat,
    address: impl Fn(&str) -> Result<Address>,
    cmd: &DeploymentQuery,
) -> Result<()> {
    match cmd {
        DeploymentQuery::Get { owner, dseq } => {
            let owner = address(owner)?;
            let r: QueryDeploymentResponse = q
                .query(
                    "/virtengine.deployment.v1.Query/Deployment",
                    &QueryDeploymentRequest {
                        id: Some(did(&owner, *dseq)),
                    },
                )
                .await
                .map_err(|e| query_error(url, e))?;
            let i = r.deployment.context("node answered without a deployment")?;
            match out {
                OutputFormat::Json => print_json(&info_json(&i)),
                OutputFormat::Text => {
                    print_info(&i);
                    Ok(())
                }
            }
        }
        DeploymentQuery::List { owner, state, page } => {
            let owner = owner.as_deref().map(&address).transpose()?;
            let path = "/virtengine.deployment.v1.Query/Deployments";
            let req = |pagination| QueryDeploymentsRequest {
                owner: owner.map(|o| o.to_string()).unwrap_or_default(),
                state: state.clone().unwrap_or_default(),
                pagination,
            };
            let (list, next) = match page.one_page()? {
                Some(p) => {
                    let r: QueryDeploymentsResponse = q
                        .query(path, &req(Some(p)))
                        .await
                        .map_err(|e| query_error(url, e))?;
                    (
                        r.deployments,
                        r.pagination.map(|p| p.next_key).unwrap_or_default(),
                    )
                }
                None => {
                    let all = q
                        .paged(path, |pagination| {
                            let r = req(pagination);
                            async move {
                                let resp: QueryDeploymentsResponse = q.query(path, &r).await?;
                                Ok((resp.deployments, resp.pagination))
                            }
                        })
                        .await
                        .map_err(|e| query_error(url, e))?;
                    (all, Vec::new())
                }
            };
            match out {
                OutputFormat::Json => print_json(&json!({
                    "deployments": list.iter().map(info_json).collect::<Vec<_>>(),
                    "next_key": hex::encode(&next),
                })),
                OutputFormat::Text => {
                    if list.is_empty() {
                        println!("no deployments");
                    }
                    list.iter().for_each(print_info);
                    if !next.is_empty() {
                        println!("next page: --page-key {}", hex::encode(&next));
                    }
                    Ok(())
                }
            }
        }
    }
}
