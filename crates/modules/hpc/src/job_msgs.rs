//! Job messages: submission (scheduling + escrow lock), status and usage reports by the
//! provider, cancellation, disputes.

use crate::billing;
use crate::handler::{bad, check_name, check_text, handler};
use crate::keeper::{is_terminal, parse_addr, state_name, Ending};
use crate::proto::*;
use crate::scheduling::{self, Candidate, Weights};
use crate::{events, proximity, state, state_key, HpcError};
use prost::Message;
use std::collections::BTreeMap;
use ve_identity::proto::IdentityTier;
use ve_module::gate::Role;
use ve_module::Context;
use ve_types::{AppError, Coin};

const MAX_ENV: usize = 64;
const MAX_ARGS: usize = 64;

fn wrong_state(j: &Job, action: &str) -> AppError {
    HpcError::InvalidJobState {
        id: j.job_id,
        state: state_name(j.state).to_string(),
        action: action.to_string(),
    }
    .into()
}

fn load_job(ctx: &mut Context<'_>, id: u64) -> Result<Job, AppError> {
    Ok(state::job(ctx, id)?.ok_or(HpcError::JobNotFound(id))?)
}

fn save(ctx: &mut Context<'_>, j: &Job) -> Result<(), AppError> {
    state::set_job(ctx, j, &parse_addr(&j.customer)?, &parse_addr(&j.provider)?)
}

fn require_job_provider(j: &Job, signer: &str) -> Result<(), AppError> {
    if j.provider != signer {
        return Err(HpcError::Unauthorized {
            signer: signer.to_string(),
            allowed: format!("the job's provider {}", j.provider),
        }
        .into());
    }
    Ok(())
}

/// A proximity-clustering site for a cluster.
pub(crate) fn site(c: &Cluster) -> proximity::Site {
    proximity::Site {
        id: c.cluster_id,
        region: c.region.clone(),
        datacenter: c.datacenter.clone(),
        peers: c
            .peer_latencies
            .iter()
            .map(|p| (p.cluster_id, p.latency_ms))
            .collect::<BTreeMap<_, _>>(),
    }
}

/// The primary cluster's proximity group in preference order: the primary first, then
/// by latency to it, then by id.
fn group_order(clusters: &[Cluster], primary: u64, max_latency: u32) -> Vec<u64> {
    let sites: Vec<proximity::Site> = clusters
        .iter()
        .filter(|c| c.state == ClusterState::Active as i32)
        .map(site)
        .collect();
    let group = proximity::group_of(&sites, max_latency, primary);
    let Some(p) = sites.iter().find(|s| s.id == primary) else {
        return group;
    };
    let mut rest: Vec<(u32, u64)> = group
        .iter()
        .filter(|id| **id != primary)
        .filter_map(|id| sites.iter().find(|s| s.id == *id))
        .map(|s| (proximity::latency(p, s).unwrap_or(u32::MAX), s.id))
        .collect();
    rest.sort_unstable();
    std::iter::once(primary)
        .chain(rest.into_iter().map(|(_, id)| id))
        .collect()
}

fn candidate(c: &Cluster, r: &JobResources) -> Candidate {
    let gpu_types = c
        .metadata
        .as_ref()
        .map(|m| m.gpu_types.as_slice())
        .unwrap_or_default();
    let unusable = if c.state != ClusterState::Active as i32 {
        Some("cluster is not active".to_string())
    } else if r.gpus_per_node > 0 && !r.gpu_type.is_empty() && !gpu_types.contains(&r.gpu_type) {
        Some(format!("no {} GPUs", r.gpu_type))
    } else {
        None
    };
    Candidate {
        cluster_id: c.cluster_id,
        region: c.region.clone(),
        avg_latency_ms: c.avg_latency_ms,
        available_nodes: c.available_nodes,
        total_nodes: c.total_nodes,
        unusable,
    }
}

handler!(
    /// A tenant submits a job: gated on the offering's tier, scheduled, max price locked.
    SubmitJobHandler, MsgSubmitJob, customer, "MsgSubmitJob"
);

impl SubmitJobHandler {
    fn check(m: &MsgSubmitJob) -> Result<(), AppError> {
        let r = m.resources.clone().unwrap_or_default();
        if r.nodes == 0 || r.cpu_cores_per_node == 0 {
            return Err(bad(
                "resources need at least one node and one CPU core per node",
            ));
        }
        let w = m.workload.clone().unwrap_or_default();
        if w.preconfigured_workload_id.is_empty()
            && w.container_image.is_empty()
            && w.command.is_empty()
        {
            return Err(bad(
                "workload needs a preconfigured_workload_id, a container_image or a command",
            ));
        }
        if w.environment.len() > MAX_ENV || w.arguments.len() > MAX_ARGS {
            return Err(bad(format!(
                "at most {MAX_ENV} environment variables and {MAX_ARGS} arguments"
            )));
        }
        check_text(&w.command, "command", 4096)?;
        check_text(&w.working_directory, "working_directory", 1024)?;
        check_text(
            &m.encrypted_inputs_pointer,
            "encrypted_inputs_pointer",
            1024,
        )?;
        check_text(
            &m.encrypted_outputs_pointer,
            "encrypted_outputs_pointer",
            1024,
        )?;
        let price = m
            .max_price
            .as_ref()
            .ok_or_else(|| bad("max_price is required"))?;
        let c = Coin::from_parts(&price.denom, &price.amount)
            .map_err(|e| HpcError::InvalidPrice(format!("max_price: {e}")))?;
        if c.amount == 0 {
            return Err(HpcError::InvalidPrice("max_price must be positive".into()).into());
        }
        Ok(())
    }

    fn run(&self, ctx: &mut Context<'_>, m: &MsgSubmitJob) -> Result<Vec<u8>, AppError> {
        let customer = parse_addr(&m.customer)?;
        let o = state::offering(ctx, m.offering_id)?
            .ok_or(HpcError::OfferingNotFound(m.offering_id))?;
        if !o.active {
            return Err(HpcError::OfferingInactive(o.offering_id).into());
        }
        let primary =
            state::cluster(ctx, o.cluster_id)?.ok_or(HpcError::ClusterNotFound(o.cluster_id))?;
        if primary.state != ClusterState::Active as i32 {
            return Err(HpcError::ClusterNotActive(primary.cluster_id).into());
        }
        let queue = if m.queue.is_empty() {
            o.queues.first().cloned().unwrap_or_default()
        } else {
            o.queues
                .iter()
                .find(|q| q.partition == m.queue)
                .cloned()
                .ok_or_else(|| {
                    bad(format!(
                        "offering {} has no queue {}",
                        o.offering_id, m.queue
                    ))
                })?
        };
        let r = m.resources.clone().unwrap_or_default();
        if queue.max_nodes > 0 && r.nodes > queue.max_nodes {
            return Err(bad(format!(
                "queue {} allows at most {} nodes",
                queue.partition, queue.max_nodes
            )));
        }
        let params = state::params(ctx)?;
        let mut max_rt = o.max_runtime_seconds.min(params.max_job_duration_seconds);
        if queue.max_runtime_seconds > 0 {
            max_rt = max_rt.min(queue.max_runtime_seconds);
        }
        if m.max_runtime_seconds < params.min_job_duration_seconds || m.max_runtime_seconds > max_rt
        {
            return Err(bad(format!(
                "max_runtime_seconds must be {}..={max_rt} for this offering and queue",
                params.min_job_duration_seconds
            )));
        }
        let mut workload = m.workload.clone().unwrap_or_default();
        if workload.preconfigured_workload_id.is_empty() {
            if !o.supports_custom_workloads {
                return Err(bad("this offering runs only its preconfigured workloads"));
            }
        } else {
            let w = o
                .workloads
                .iter()
                .find(|w| w.workload_id == workload.preconfigured_workload_id)
                .ok_or_else(|| {
                    bad(format!(
                        "offering has no workload {}",
                        workload.preconfigured_workload_id
                    ))
                })?;
            workload.container_image = w.container_image.clone();
            if workload.command.is_empty() {
                workload.command = w.default_command.clone();
            }
        }
        let pricing = o.pricing.clone().unwrap_or_default();
        let p = m.max_price.clone().unwrap_or_default();
        let price = Coin::from_parts(&p.denom, &p.amount)
            .map_err(|e| HpcError::InvalidPrice(format!("max_price: {e}")))?;
        if price.denom != pricing.denom {
            return Err(HpcError::InvalidPrice(format!(
                "the offering prices in {}, not {}",
                pricing.denom, price.denom
            ))
            .into());
        }
        let tier = IdentityTier::try_from(i32::try_from(o.min_tier).unwrap_or(i32::MAX))
            .map_err(|_| HpcError::Corrupt(format!("offering {} min_tier", o.offering_id)))?;
        self.keeper
            .keepers
            .identity
            .require_tier(ctx, &customer, tier)?;

        // Scheduling: the offering's cluster and the provider's other clusters.
        let provider = parse_addr(&o.provider)?;
        let clusters = state::provider_clusters(ctx, &provider)?;
        let cands: Vec<Candidate> = clusters.iter().map(|c| candidate(c, &r)).collect();
        let group = group_order(&clusters, primary.cluster_id, params.max_latency_ms);
        let w = Weights {
            latency_bps: params.latency_weight_bps,
            capacity_bps: params.capacity_weight_bps,
            max_latency_ms: params.max_latency_ms,
            proximity: params.enable_proximity_clustering,
        };
        // Only the offering's own cluster runs a single-cluster job (its partitions are the
        // queues); the provider's other clusters help only as members of its proximity
        // group, when the job does not fit the offering's cluster alone.
        let own: Vec<Candidate> = cands
            .iter()
            .filter(|c| c.cluster_id == primary.cluster_id)
            .cloned()
            .collect();
        let outcome = match scheduling::decide(&own, &w, r.nodes) {
            Ok(o) => o,
            Err(alone) if params.enable_proximity_clustering => {
                scheduling::decide_group(&cands, &w, r.nodes, &group)
                    .map_err(|g| HpcError::NoAvailableCluster(format!("{alone}; {g}")))?
            }
            Err(alone) => return Err(HpcError::NoAvailableCluster(alone).into()),
        };
        let now = ctx.block().time_unix;
        let job_id = state::next_id(ctx, "job")?;
        let decision_id = state::next_id(ctx, "decision")?;
        let d = SchedulingDecision {
            decision_id,
            job_id,
            selected_cluster_ids: outcome.selected.clone(),
            candidates: outcome.candidates,
            decision_reason: outcome.reason,
            is_fallback: outcome.is_fallback,
            fallback_reason: outcome.fallback_reason,
            virtual_supercomputer: outcome.virtual_supercomputer,
            created_at: now,
        };
        let job = Job {
            job_id,
            offering_id: o.offering_id,
            cluster_id: outcome
                .selected
                .first()
                .copied()
                .unwrap_or(primary.cluster_id),
            provider: o.provider.clone(),
            customer: m.customer.clone(),
            slurm_job_id: String::new(),
            state: JobState::Pending as i32,
            queue: queue.partition.clone(),
            workload: Some(workload),
            resources: Some(r),
            encrypted_inputs_pointer: m.encrypted_inputs_pointer.clone(),
            encrypted_outputs_pointer: m.encrypted_outputs_pointer.clone(),
            max_runtime_seconds: m.max_runtime_seconds,
            max_price: price.amount.to_string(),
            denom: price.denom.clone(),
            decision_id,
            status_message: String::new(),
            exit_code: 0,
            usage: None,
            created_at: now,
            queued_at: 0,
            started_at: 0,
            completed_at: 0,
            cancelled_by: String::new(),
        };
        state::set_decision(ctx, &d)?;
        state::set_job(ctx, &job, &customer, &provider)?;
        self.keeper.lock(ctx, job_id, &customer, &price)?;
        ctx.emit(
            events::job(events::JOB_SUBMITTED, job_id)
                .attr("customer", &m.customer)
                .attr("provider", &o.provider)
                .attr("offering_id", o.offering_id)
                .attr("clusters", events::ids(&d.selected_cluster_ids))
                .attr("max_price", price),
        );
        Ok(MsgSubmitJobResponse {
            job_id,
            decision_id,
            selected_cluster_ids: d.selected_cluster_ids,
        }
        .encode_to_vec())
    }
}

/// Seconds the job has been running by block time, at most its time limit.
fn elapsed(j: &Job, now: i64) -> u64 {
    if j.started_at == 0 {
        return 0;
    }
    u64::try_from(now.saturating_sub(j.started_at))
        .unwrap_or(0)
        .min(j.max_runtime_seconds)
}

/// The usage a terminal report is billed for: the reported (or last interim) usage,
/// never more than the request for the time limit; a timeout is the request for the
/// time it ran (the whole limit when the chain enforces it: a provider reporting a
/// timeout early cannot bill the rest).
fn final_usage(
    j: &Job,
    state: JobState,
    reported: Option<&UsageMetrics>,
    now: i64,
) -> Result<UsageMetrics, AppError> {
    let r = j.resources.clone().unwrap_or_default();
    if state == JobState::Timeout {
        return Ok(billing::usage_for(&r, elapsed(j, now))?);
    }
    let ceiling = billing::usage_for(&r, j.max_runtime_seconds)?;
    let u = reported.copied().or(j.usage).unwrap_or_default();
    Ok(billing::cap_usage(&u, &ceiling))
}

fn check_growth(j: &Job, new: &UsageMetrics) -> Result<(), AppError> {
    if let Some(old) = &j.usage {
        if let Some(f) = billing::decreased(old, new) {
            return Err(HpcError::UsageDecreased(f.to_string()).into());
        }
    }
    Ok(())
}

fn transition_allowed(from: i32, to: JobState) -> bool {
    use JobState as S;
    match S::try_from(from) {
        Ok(S::Pending) => matches!(to, S::Queued | S::Failed | S::Cancelled),
        Ok(S::Queued) => matches!(to, S::Running | S::Failed | S::Cancelled | S::Timeout),
        Ok(S::Running) => matches!(to, S::Completed | S::Failed | S::Cancelled | S::Timeout),
        _ => false,
    }
}

handler!(
    /// The provider reports a job's SLURM state (signed by the provider's account key).
    ReportJobStatusHandler, MsgReportJobStatus, provider, "MsgReportJobStatus"
);

impl ReportJobStatusHandler {
    fn check(m: &MsgReportJobStatus) -> Result<(), AppError> {
        let s = JobState::try_from(m.state).map_err(|_| bad("unknown job state"))?;
        if matches!(s, JobState::Unspecified | JobState::Pending) {
            return Err(bad(
                "state must be queued, running, completed, failed, cancelled or timeout",
            ));
        }
        if s == JobState::Queued && m.slurm_job_id.is_empty() {
            return Err(bad("a queued report carries the SLURM job id"));
        }
        check_text(&m.slurm_job_id, "slurm_job_id", 64)?;
        check_text(&m.status_message, "status_message", 1024)
    }

    fn run(&self, ctx: &mut Context<'_>, m: &MsgReportJobStatus) -> Result<Vec<u8>, AppError> {
        let to = JobState::try_from(m.state).map_err(|_| bad("unknown job state"))?;
        let mut j = load_job(ctx, m.job_id)?;
        require_job_provider(&j, &m.provider)?;
        if !transition_allowed(j.state, to) {
            return Err(wrong_state(
                &j,
                &format!("moving to {}", state_name(to as i32)),
            ));
        }
        if !m.slurm_job_id.is_empty() {
            j.slurm_job_id = m.slurm_job_id.clone();
        }
        j.status_message = m.status_message.clone();
        j.exit_code = m.exit_code;
        let now = ctx.block().time_unix;
        ctx.emit(
            events::job(events::JOB_STATUS, j.job_id)
                .attr("state", state_name(to as i32))
                .attr("slurm_job_id", &j.slurm_job_id),
        );
        match to {
            JobState::Queued => {
                j.state = to as i32;
                j.queued_at = now;
                save(ctx, &j)?;
            }
            JobState::Running => {
                j.state = to as i32;
                j.started_at = now;
                let due =
                    now.saturating_add(i64::try_from(j.max_runtime_seconds).unwrap_or(i64::MAX));
                ctx.put(
                    state_key::queued(state_key::TIMEOUT_QUEUE, due, &j.job_id.to_be_bytes()),
                    Vec::new(),
                )?;
                save(ctx, &j)?;
            }
            _ => {
                if let Some(u) = &m.usage {
                    check_growth(&j, u)?;
                }
                let usage = final_usage(&j, to, m.usage.as_ref(), now)?;
                // A provider-side cancellation is the provider's choice: nothing billed.
                let billable = j.started_at > 0 && to != JobState::Cancelled;
                let by = if to == JobState::Cancelled {
                    m.provider.clone()
                } else {
                    String::new()
                };
                self.keeper.finish(
                    ctx,
                    &mut j,
                    Ending {
                        state: to,
                        usage,
                        billable,
                        cancelled_by: by,
                    },
                )?;
            }
        }
        Ok(MsgReportJobStatusResponse {}.encode_to_vec())
    }
}

handler!(
    /// The provider's interim cumulative usage snapshot.
    ReportJobUsageHandler, MsgReportJobUsage, provider, "MsgReportJobUsage"
);

impl ReportJobUsageHandler {
    fn check(m: &MsgReportJobUsage) -> Result<(), AppError> {
        if m.usage.is_none() {
            return Err(bad("usage is required"));
        }
        Ok(())
    }

    fn run(&self, ctx: &mut Context<'_>, m: &MsgReportJobUsage) -> Result<Vec<u8>, AppError> {
        let mut j = load_job(ctx, m.job_id)?;
        require_job_provider(&j, &m.provider)?;
        if j.state != JobState::Queued as i32 && j.state != JobState::Running as i32 {
            return Err(wrong_state(&j, "reporting usage"));
        }
        let u = m.usage.unwrap_or_default();
        check_growth(&j, &u)?;
        let ceiling = billing::usage_for(
            &j.resources.clone().unwrap_or_default(),
            j.max_runtime_seconds,
        )?;
        j.usage = Some(billing::cap_usage(&u, &ceiling));
        save(ctx, &j)?;
        Ok(MsgReportJobUsageResponse {}.encode_to_vec())
    }
}

handler!(
    /// Customer or provider cancels a job that has not ended.
    CancelJobHandler, MsgCancelJob, requester, "MsgCancelJob"
);

impl CancelJobHandler {
    fn check(m: &MsgCancelJob) -> Result<(), AppError> {
        check_text(&m.reason, "reason", 1024)
    }

    fn run(&self, ctx: &mut Context<'_>, m: &MsgCancelJob) -> Result<Vec<u8>, AppError> {
        let mut j = load_job(ctx, m.job_id)?;
        let by_customer = j.customer == m.requester;
        if !by_customer && j.provider != m.requester {
            return Err(HpcError::Unauthorized {
                signer: m.requester.clone(),
                allowed: "the job's customer or provider".into(),
            }
            .into());
        }
        if is_terminal(j.state) {
            return Err(wrong_state(&j, "cancelling"));
        }
        // A tenant pays for the time the job ran (its request × elapsed block time, or
        // more if the provider already reported more); a provider cancelling forfeits.
        let ran = j.started_at > 0;
        let usage = if ran {
            let r = j.resources.clone().unwrap_or_default();
            let by_time = billing::usage_for(&r, elapsed(&j, ctx.block().time_unix))?;
            match &j.usage {
                Some(rep) if billing::decreased(&by_time, rep).is_none() => {
                    billing::cap_usage(rep, &billing::usage_for(&r, j.max_runtime_seconds)?)
                }
                _ => by_time,
            }
        } else {
            UsageMetrics::default()
        };
        j.status_message = m.reason.clone();
        ctx.emit(
            events::job(events::JOB_CANCELLED, j.job_id)
                .attr("by", &m.requester)
                .attr("slurm_job_id", &j.slurm_job_id),
        );
        self.keeper.finish(
            ctx,
            &mut j,
            Ending {
                state: JobState::Cancelled,
                usage,
                billable: ran && by_customer,
                cancelled_by: m.requester.clone(),
            },
        )?;
        Ok(MsgCancelJobResponse {}.encode_to_vec())
    }
}

handler!(
    /// Customer or provider disputes a job's bill within the dispute window.
    FlagDisputeHandler, MsgFlagDispute, disputer, "MsgFlagDispute"
);

impl FlagDisputeHandler {
    fn check(m: &MsgFlagDispute) -> Result<(), AppError> {
        check_name(&m.reason, "reason", 1024)?;
        check_text(&m.evidence, "evidence", 4096)
    }

    fn run(&self, ctx: &mut Context<'_>, m: &MsgFlagDispute) -> Result<Vec<u8>, AppError> {
        let j = load_job(ctx, m.job_id)?;
        if j.customer != m.disputer && j.provider != m.disputer {
            return Err(HpcError::Unauthorized {
                signer: m.disputer.clone(),
                allowed: "the job's customer or provider".into(),
            }
            .into());
        }
        let mut a = state::accounting(ctx, j.job_id)?
            .ok_or_else(|| HpcError::DisputeRefused(j.job_id, "the job has not ended".into()))?;
        let now = ctx.block().time_unix;
        if a.status != SettlementStatus::Pending as i32 {
            return Err(HpcError::DisputeRefused(
                j.job_id,
                "its bill is already settled or disputed".into(),
            )
            .into());
        }
        if now > a.dispute_deadline {
            return Err(HpcError::DisputeRefused(
                j.job_id,
                format!(
                    "the dispute window closed at {} (now {now})",
                    a.dispute_deadline
                ),
            )
            .into());
        }
        let id = state::next_id(ctx, "dispute")?;
        state::set_dispute(
            ctx,
            &Dispute {
                dispute_id: id,
                job_id: j.job_id,
                disputer: m.disputer.clone(),
                reason: m.reason.clone(),
                evidence: m.evidence.clone(),
                status: DisputeStatus::Pending as i32,
                resolution: String::new(),
                resolver: String::new(),
                adjusted_billed: String::new(),
                created_at: now,
                resolved_at: 0,
            },
        )?;
        a.status = SettlementStatus::Disputed as i32;
        a.dispute_id = id;
        state::set_accounting(ctx, &a)?;
        ctx.emit(events::job(events::DISPUTE_FLAGGED, j.job_id).attr("dispute_id", id));
        Ok(MsgFlagDisputeResponse { dispute_id: id }.encode_to_vec())
    }
}

handler!(
    /// A moderator (roles module) resolves a dispute; settlement then proceeds.
    ResolveDisputeHandler, MsgResolveDispute, resolver, "MsgResolveDispute"
);

impl ResolveDisputeHandler {
    fn check(m: &MsgResolveDispute) -> Result<(), AppError> {
        if m.uphold {
            ve_types::parse_amount(&m.adjusted_billed)
                .map_err(|e| bad(format!("adjusted_billed: {e}")))?;
        }
        check_text(&m.resolution, "resolution", 1024)
    }

    fn run(&self, ctx: &mut Context<'_>, m: &MsgResolveDispute) -> Result<Vec<u8>, AppError> {
        let resolver = parse_addr(&m.resolver)?;
        self.keeper
            .keepers
            .roles
            .require_role(ctx, &resolver, Role::Moderator)?;
        let mut d =
            state::dispute(ctx, m.dispute_id)?.ok_or(HpcError::DisputeNotFound(m.dispute_id))?;
        if d.status != DisputeStatus::Pending as i32
            && d.status != DisputeStatus::UnderReview as i32
        {
            return Err(bad(format!("dispute {} is already decided", d.dispute_id)));
        }
        let mut a = state::accounting(ctx, d.job_id)?.ok_or_else(|| {
            HpcError::Corrupt(format!("dispute {} without accounting", d.dispute_id))
        })?;
        let billed =
            ve_types::parse_amount(&a.billed).map_err(|e| HpcError::Corrupt(e.to_string()))?;
        let now = ctx.block().time_unix;
        if m.uphold {
            let adj = ve_types::parse_amount(&m.adjusted_billed).map_err(|e| bad(e.to_string()))?;
            if adj > billed {
                return Err(bad(format!(
                    "adjusted_billed {adj} is above the bill of {billed}"
                )));
            }
            d.status = DisputeStatus::Resolved as i32;
            d.adjusted_billed = adj.to_string();
        } else {
            d.status = DisputeStatus::Rejected as i32;
        }
        d.resolution = m.resolution.clone();
        d.resolver = m.resolver.clone();
        d.resolved_at = now;
        state::set_dispute(ctx, &d)?;
        a.status = SettlementStatus::Pending as i32;
        ctx.emit(
            events::job(events::DISPUTE_RESOLVED, d.job_id)
                .attr("dispute_id", d.dispute_id)
                .attr("upheld", m.uphold),
        );
        if now >= a.settle_at {
            self.keeper.settle(ctx, &mut a)?;
        } else {
            state::set_accounting(ctx, &a)?;
            ctx.put(
                state_key::queued(
                    state_key::SETTLE_QUEUE,
                    a.settle_at,
                    &a.job_id.to_be_bytes(),
                ),
                Vec::new(),
            )?;
        }
        Ok(MsgResolveDisputeResponse {}.encode_to_vec())
    }
}
