//! The hpc keeper: where jobs meet money. A job's max price is locked in escrow account
//! `hpc/JOB-<id>` at submission; when the job ends, that account closes, the unused part
//! goes straight back to the tenant and the bill is re-locked in `hpc/JOB-<id>-billed`
//! until settlement (after the dispute window), which splits it between the platform,
//! the node pool and the provider. Escrow refunds to its depositor, the hpc module
//! account, which forwards every coin in the same state transition, so it holds nothing
//! between transactions.

use crate::billing::{self, Prices};
use crate::proto::*;
use crate::{events, state, state_key, HpcError};
use std::sync::Arc;
use ve_escrow::{AccountId, BankKeeper, EscrowKeeper};
use ve_identity::IdentityGate;
use ve_module::gate::{MfaGate, RoleGate};
use ve_module::Context;
use ve_types::{Address, AppError, Coin};

/// Module account that forwards escrowed coins.
pub const MODULE_ACCOUNT: &str = "hpc";
/// Escrow scope of job accounts.
pub const ESCROW_SCOPE: &str = "hpc";

pub fn module_address() -> Address {
    Address::module(MODULE_ACCOUNT)
}

/// What the hpc keeper needs from other modules.
#[derive(Clone)]
pub struct Keepers {
    pub escrow: Arc<dyn EscrowKeeper + Send + Sync>,
    pub bank: Arc<dyn BankKeeper>,
    pub identity: Arc<dyn IdentityGate>,
    pub mfa: Arc<dyn MfaGate>,
    pub roles: Arc<dyn RoleGate>,
    /// Receives the platform share (the community pool).
    pub platform: Address,
}

#[derive(Clone)]
pub struct Keeper {
    pub keepers: Keepers,
}

pub fn parse_addr(s: &str) -> Result<Address, HpcError> {
    s.parse()
        .map_err(|e| HpcError::InvalidAddress(s.to_string(), format!("{e}")))
}

pub fn lock_account(job: u64) -> Result<AccountId, AppError> {
    Ok(AccountId::new(ESCROW_SCOPE, format!("JOB-{job}"))?)
}

pub fn billed_account(job: u64) -> Result<AccountId, AppError> {
    Ok(AccountId::new(ESCROW_SCOPE, format!("JOB-{job}-billed"))?)
}

pub fn state_name(s: i32) -> &'static str {
    JobState::try_from(s).map_or("unknown", |s| match s {
        JobState::Unspecified => "unspecified",
        JobState::Pending => "pending",
        JobState::Queued => "queued",
        JobState::Running => "running",
        JobState::Completed => "completed",
        JobState::Failed => "failed",
        JobState::Cancelled => "cancelled",
        JobState::Timeout => "timeout",
    })
}

pub fn is_terminal(s: i32) -> bool {
    s >= JobState::Completed as i32
}

fn amount(s: &str, what: &str) -> Result<u128, AppError> {
    if s.is_empty() {
        return Ok(0);
    }
    ve_types::parse_amount(s).map_err(|e| HpcError::Corrupt(format!("{what}: {e}")).into())
}

/// How a job ended, for the bill.
pub struct Ending {
    pub state: JobState,
    /// Usage billed (already capped at the job's request).
    pub usage: UsageMetrics,
    /// Whether anything is billed (false: the job never ran, or the provider cancelled).
    pub billable: bool,
    pub cancelled_by: String,
}

impl Keeper {
    pub fn new(keepers: Keepers) -> Self {
        Self { keepers }
    }

    fn send(
        &self,
        ctx: &mut Context<'_>,
        to: &Address,
        denom: &str,
        amount: u128,
    ) -> Result<(), AppError> {
        if amount == 0 {
            return Ok(());
        }
        self.keepers
            .bank
            .send(ctx, &module_address(), to, &Coin::new(denom, amount))
    }

    /// Moves `price` from the tenant into the job's escrow account.
    pub fn lock(
        &self,
        ctx: &mut Context<'_>,
        job: u64,
        customer: &Address,
        price: &Coin,
    ) -> Result<(), AppError> {
        self.keepers
            .bank
            .send(ctx, customer, &module_address(), price)?;
        self.keepers.escrow.account_create(
            ctx,
            &lock_account(job)?,
            customer,
            &module_address(),
            price,
        )
    }

    /// Ends a job: records it, bills it, refunds the unused escrow now, and keeps the bill
    /// locked until settlement (or settles at once when nothing is billed).
    pub fn finish(
        &self,
        ctx: &mut Context<'_>,
        job: &mut Job,
        end: Ending,
    ) -> Result<(), AppError> {
        let params = state::params(ctx)?;
        let now = ctx.block().time_unix;
        let offering = state::offering(ctx, job.offering_id)?
            .ok_or_else(|| HpcError::Corrupt(format!("job {} without offering", job.job_id)))?;
        let prices = Prices::from_proto(&offering.pricing.clone().unwrap_or_default())?;
        let multiplier = offering
            .queues
            .iter()
            .find(|q| q.partition == job.queue)
            .map_or(crate::params::BPS, |q| q.price_multiplier_bps);
        let max_price = amount(&job.max_price, "max_price")?;
        let cost = billing::usage_cost(&end.usage, &prices, multiplier)?;
        let billed = billing::bill(cost, prices.minimum_charge, max_price, end.billable);
        let refund = max_price.saturating_sub(billed);

        job.state = end.state as i32;
        job.completed_at = now;
        job.usage = Some(end.usage);
        job.cancelled_by = end.cancelled_by;
        let customer = parse_addr(&job.customer)?;
        let provider = parse_addr(&job.provider)?;
        state::set_job(ctx, job, &customer, &provider)?;

        self.keepers
            .escrow
            .account_close(ctx, &lock_account(job.job_id)?)?;
        self.send(ctx, &customer, &job.denom, refund)?;
        let mut acct = JobAccounting {
            job_id: job.job_id,
            cluster_id: job.cluster_id,
            provider: job.provider.clone(),
            customer: job.customer.clone(),
            usage: Some(end.usage),
            denom: job.denom.clone(),
            billed: billed.to_string(),
            final_state: end.state as i32,
            status: SettlementStatus::Pending as i32,
            dispute_deadline: now.saturating_add(params.dispute_window_seconds),
            settle_at: now.saturating_add(params.settlement_delay_seconds),
            created_at: now,
            settled_at: 0,
            dispute_id: 0,
            payouts: Vec::new(),
            refund: refund.to_string(),
            contributors: self.contributors(ctx, job, &params)?,
        };
        if billed == 0 {
            acct.status = SettlementStatus::Settled as i32;
            acct.settled_at = now;
        } else {
            self.keepers.escrow.account_create(
                ctx,
                &billed_account(job.job_id)?,
                &customer,
                &module_address(),
                &Coin::new(&job.denom, billed),
            )?;
            ctx.put(
                state_key::queued(
                    state_key::SETTLE_QUEUE,
                    acct.settle_at,
                    &job.job_id.to_be_bytes(),
                ),
                Vec::new(),
            )?;
        }
        state::set_accounting(ctx, &acct)?;
        ctx.emit(
            events::job(events::JOB_FINISHED, job.job_id)
                .attr("state", state_name(job.state))
                .attr("exit_code", job.exit_code)
                .attr("billed", billed)
                .attr("refund", refund)
                .attr("denom", &job.denom),
        );
        Ok(())
    }

    /// The nodes of the job's clusters that are active now, weighted by CPU cores (at
    /// least 1): they share the node pool when the bill settles.
    fn contributors(
        &self,
        ctx: &mut Context<'_>,
        job: &Job,
        params: &crate::HpcParams,
    ) -> Result<Vec<RewardRecipient>, AppError> {
        let mut clusters = match state::decision(ctx, job.decision_id)? {
            Some(d) => d.selected_cluster_ids,
            None => Vec::new(),
        };
        if clusters.is_empty() {
            clusters.push(job.cluster_id);
        }
        let limit = usize::try_from(params.max_nodes_per_cluster).unwrap_or(256);
        let mut out = Vec::new();
        for c in clusters {
            for n in state::nodes(ctx, c, limit)? {
                if n.state != NodeState::Active as i32 {
                    continue;
                }
                out.push(RewardRecipient {
                    address: n.operator.clone(),
                    amount: String::new(),
                    recipient_type: RecipientType::Node as i32,
                    node_id: n.node_id.clone(),
                    contribution_weight: n.capacity.as_ref().map_or(1, |c| c.cpu_cores.max(1)),
                });
            }
        }
        Ok(out)
    }

    /// Pays a bill out: platform, node pool (the selected clusters' active nodes, by CPU
    /// cores, as recorded when the job ended), provider; a dispute's reduction goes back to the tenant.
    pub fn settle(&self, ctx: &mut Context<'_>, acct: &mut JobAccounting) -> Result<(), AppError> {
        let params = state::params(ctx)?;
        let locked = amount(&acct.billed, "billed")?;
        let mut pay = locked;
        if acct.dispute_id != 0 {
            if let Some(d) = state::dispute(ctx, acct.dispute_id)? {
                if d.status == DisputeStatus::Resolved as i32 {
                    pay = amount(&d.adjusted_billed, "adjusted_billed")?.min(locked);
                }
            }
        }
        self.keepers
            .escrow
            .account_close(ctx, &billed_account(acct.job_id)?)?;
        let weights: Vec<u64> = acct
            .contributors
            .iter()
            .map(|n| n.contribution_weight)
            .collect();
        let split = billing::split(
            pay,
            params.platform_fee_bps,
            params.node_reward_bps,
            &weights,
        )?;
        let denom = acct.denom.clone();
        let mut payouts = Vec::new();
        let mut record =
            |address: &Address, amount: u128, t: RecipientType, node_id: &str, w: u64| {
                payouts.push(RewardRecipient {
                    address: address.to_string(),
                    amount: amount.to_string(),
                    recipient_type: t as i32,
                    node_id: node_id.to_string(),
                    contribution_weight: w,
                });
            };
        let platform = self.keepers.platform;
        self.send(ctx, &platform, &denom, split.platform)?;
        record(&platform, split.platform, RecipientType::Platform, "", 0);
        for ((n, amount), w) in acct.contributors.iter().zip(&split.nodes).zip(&weights) {
            let op = parse_addr(&n.address)?;
            self.send(ctx, &op, &denom, *amount)?;
            record(&op, *amount, RecipientType::Node, &n.node_id, *w);
        }
        let provider = parse_addr(&acct.provider)?;
        self.send(ctx, &provider, &denom, split.provider)?;
        record(&provider, split.provider, RecipientType::Provider, "", 0);
        let back = locked.saturating_sub(pay);
        if back > 0 {
            let customer = parse_addr(&acct.customer)?;
            self.send(ctx, &customer, &denom, back)?;
            record(&customer, back, RecipientType::CustomerRefund, "", 0);
            let refund = amount(&acct.refund, "refund")?.saturating_add(back);
            acct.refund = refund.to_string();
        }
        acct.payouts = payouts;
        acct.status = SettlementStatus::Settled as i32;
        acct.settled_at = ctx.block().time_unix;
        state::set_accounting(ctx, acct)?;
        ctx.emit(
            events::job(events::JOB_SETTLED, acct.job_id)
                .attr("paid", pay)
                .attr("platform", split.platform)
                .attr("provider", split.provider)
                .attr("nodes", split.nodes.iter().sum::<u128>())
                .attr("denom", &denom),
        );
        Ok(())
    }
}
