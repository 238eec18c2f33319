//! End-block work, bounded: each queue (cluster heartbeats, node heartbeats, job
//! timeouts, settlements) handles at most `max_end_block_ops` due entries per block; the
//! rest wait for the next block. Every entry is re-checked against the record it names,
//! so entries made stale by a later heartbeat or state change are simply dropped.

use crate::billing;
use crate::keeper::{Ending, Keeper};
use crate::proto::*;
use crate::{events, state, state_key as k};
use ve_module::Context;
use ve_types::AppError;

pub fn end_block(ctx: &mut Context<'_>, keeper: &Keeper) -> Result<(), AppError> {
    let params = state::params(ctx)?;
    let now = ctx.block().time_unix;
    let cap = usize::try_from(params.max_end_block_ops).unwrap_or(100);

    for key in state::due(ctx, k::CLUSTER_HB_QUEUE, now, cap)? {
        ctx.delete(key.clone())?;
        let Some(id) = k::queue_rest(k::CLUSTER_HB_QUEUE, &key).and_then(k::u64_at) else {
            continue;
        };
        let Some(mut c) = state::cluster(ctx, id)? else {
            continue;
        };
        let live =
            c.state == ClusterState::Active as i32 || c.state == ClusterState::Draining as i32;
        let stale = c
            .last_heartbeat
            .saturating_add(params.cluster_heartbeat_timeout_seconds)
            <= now;
        if live && stale {
            c.state = ClusterState::Offline as i32;
            let provider = crate::keeper::parse_addr(&c.provider)?;
            state::set_cluster(ctx, &c, &provider)?;
            ctx.emit(
                events::cluster(events::CLUSTER_OFFLINE, id)
                    .attr("last_heartbeat", c.last_heartbeat),
            );
        }
    }

    for key in state::due(ctx, k::NODE_HB_QUEUE, now, cap)? {
        ctx.delete(key.clone())?;
        let Some(rest) = k::queue_rest(k::NODE_HB_QUEUE, &key) else {
            continue;
        };
        let (Some(cluster), Some(node_id)) = (
            k::u64_at(rest),
            rest.get(8..).and_then(|b| std::str::from_utf8(b).ok()),
        ) else {
            continue;
        };
        let Some(mut n) = state::node(ctx, cluster, node_id)? else {
            continue;
        };
        let stale = n
            .last_heartbeat
            .saturating_add(params.node_heartbeat_timeout_seconds)
            <= now;
        if n.state == NodeState::Active as i32 && stale {
            n.state = NodeState::Stale as i32;
            state::set_node(ctx, &n)?;
            ctx.emit(events::cluster(events::NODE_STALE, cluster).attr("node_id", &n.node_id));
        }
    }

    for key in state::due(ctx, k::TIMEOUT_QUEUE, now, cap)? {
        ctx.delete(key.clone())?;
        let Some(id) = k::queue_rest(k::TIMEOUT_QUEUE, &key).and_then(k::u64_at) else {
            continue;
        };
        let Some(mut j) = state::job(ctx, id)? else {
            continue;
        };
        let limit = i64::try_from(j.max_runtime_seconds).unwrap_or(i64::MAX);
        if j.state == JobState::Running as i32 && j.started_at.saturating_add(limit) <= now {
            let usage = billing::usage_for(
                &j.resources.clone().unwrap_or_default(),
                j.max_runtime_seconds,
            )?;
            j.status_message = "time limit reached (enforced by the chain)".into();
            keeper.finish(
                ctx,
                &mut j,
                Ending {
                    state: JobState::Timeout,
                    usage,
                    billable: true,
                    cancelled_by: String::new(),
                },
            )?;
        }
    }

    for key in state::due(ctx, k::SETTLE_QUEUE, now, cap)? {
        ctx.delete(key.clone())?;
        let Some(id) = k::queue_rest(k::SETTLE_QUEUE, &key).and_then(k::u64_at) else {
            continue;
        };
        let Some(mut a) = state::accounting(ctx, id)? else {
            continue;
        };
        // A disputed bill waits for its resolution, which settles or re-queues it.
        if a.status == SettlementStatus::Pending as i32 && a.settle_at <= now {
            keeper.settle(ctx, &mut a)?;
        }
    }
    Ok(())
}
