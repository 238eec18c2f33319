//! Block hooks, each with bounded work.
//!
//! Begin-block records the block time (queries and CheckTx read it). End-block deletes
//! this block's rate counters and runs four sweeps, each over an index ordered by its
//! due time/height whose processed entries are deleted (so the first remaining entry is
//! the cursor and a backlog resumes next block):
//! * verified scopes whose `expires_at` has come → EXPIRED (≤ `max_expiries_per_block`);
//! * VERIFIED score records whose `expires_at` has come → EXPIRED (≤ `max_expiries_per_block`);
//! * verification requests queued at or before `height - request_timeout_blocks` →
//!   TIMEOUT (≤ `max_timeouts_per_block`);
//! * borderline fallbacks whose deadline height has come → EXPIRED, scopes REJECTED
//!   (≤ `max_timeouts_per_block`).

use crate::proto::VerificationStatus;
use crate::{keeper, state, state_key, IdentityParams};
use ve_module::{prefix_end, Context};
use ve_types::{Address, AppError};

/// Most rate-counter entries deleted per block (a backlog continues next block).
pub const MAX_COUNTER_DELETES_PER_BLOCK: usize = 10_000;

pub fn begin_block(ctx: &mut Context<'_>) -> Result<(), AppError> {
    let t = ctx.block().time_unix;
    state::set_last_block_time(ctx, t)
}

pub fn end_block(ctx: &mut Context<'_>) -> Result<(), AppError> {
    let height = ctx.block().height;
    let end = match height.checked_add(1) {
        Some(next) => Some(state_key::rate_height(next)),
        None => prefix_end(state_key::RATE_PREFIX),
    };
    for (k, _) in ctx.range(
        state_key::RATE_PREFIX,
        end.as_deref(),
        MAX_COUNTER_DELETES_PER_BLOCK,
    )? {
        ctx.delete(k)?;
    }

    let now = ctx.block().time_unix;
    let limit = usize::try_from(state::params(ctx)?.max_expiries_per_block).unwrap_or(1);
    let end = match now.checked_add(1) {
        Some(next) => Some(state_key::scope_expiry_time(next)),
        None => prefix_end(state_key::SCOPE_EXPIRY_PREFIX),
    };
    let due = ctx.range(state_key::SCOPE_EXPIRY_PREFIX, end.as_deref(), limit)?;
    let skip = state_key::SCOPE_EXPIRY_PREFIX.len().saturating_add(8);
    for (k, _) in due {
        ctx.delete(k.clone())?;
        let rest = k.get(skip..).unwrap_or_default();
        let (Some(addr), Some(id)) = (
            rest.get(..20)
                .and_then(|b| <[u8; 20]>::try_from(b).ok())
                .map(Address),
            rest.get(20..).and_then(|b| std::str::from_utf8(b).ok()),
        ) else {
            continue;
        };
        let Some(s) = state::scope(ctx, &addr, id)? else {
            continue;
        };
        if s.revoked || s.status != VerificationStatus::Verified as i32 || s.expires_at > now {
            continue;
        }
        keeper::transition_scope(
            ctx,
            &addr,
            id,
            VerificationStatus::Expired,
            "verification expired",
        )?;
    }
    let params = state::params(ctx)?;
    expire_scores(ctx, &params, now)?;
    time_out_requests(ctx, &params)?;
    expire_fallbacks(ctx, &params)?;
    Ok(())
}

fn address_at(k: &[u8], skip: usize) -> Option<Address> {
    k.get(skip..skip.checked_add(20)?)
        .and_then(|b| <[u8; 20]>::try_from(b).ok())
        .map(Address)
}

fn expire_scores(ctx: &mut Context<'_>, params: &IdentityParams, now: i64) -> Result<(), AppError> {
    let limit = usize::try_from(params.max_expiries_per_block).unwrap_or(1);
    let end = match now.checked_add(1) {
        Some(next) => Some(state_key::score_expiry_time(next)),
        None => prefix_end(state_key::SCORE_EXPIRY_PREFIX),
    };
    let due = ctx.range(state_key::SCORE_EXPIRY_PREFIX, end.as_deref(), limit)?;
    let skip = state_key::SCORE_EXPIRY_PREFIX.len().saturating_add(8);
    for (k, _) in due {
        ctx.delete(k.clone())?;
        if let Some(addr) = address_at(&k, skip) {
            keeper::expire_score(ctx, &addr)?;
        }
    }
    Ok(())
}

/// Requests still queued `request_timeout_blocks` after they were made. The queue is
/// ordered by request height and a finished request leaves it, so the due entries are a
/// prefix of the queue.
fn time_out_requests(ctx: &mut Context<'_>, params: &IdentityParams) -> Result<(), AppError> {
    let Some(last_due) = ctx
        .block()
        .height
        .checked_sub(params.request_timeout_blocks)
    else {
        return Ok(());
    };
    let limit = usize::try_from(params.max_timeouts_per_block).unwrap_or(1);
    let end = match last_due.checked_add(1) {
        Some(next) => Some(state_key::queue_entry(next, "")),
        None => prefix_end(state_key::QUEUE_PREFIX),
    };
    let due = ctx.range(state_key::QUEUE_PREFIX, end.as_deref(), limit)?;
    let skip = state_key::QUEUE_PREFIX.len().saturating_add(8);
    for (k, _) in due {
        let id = k
            .get(skip..)
            .and_then(|b| std::str::from_utf8(b).ok())
            .map(str::to_string);
        let open = match &id {
            Some(id) => state::request(ctx, id)?.is_some_and(|r| {
                r.status == crate::proto::RequestStatus::Pending as i32
                    || r.status == crate::proto::RequestStatus::InProgress as i32
            }),
            None => false,
        };
        match id {
            Some(id) if open => keeper::time_out_request(ctx, &id)?,
            // A stale entry (finished or unreadable request): just drop it.
            _ => ctx.delete(k)?,
        }
    }
    Ok(())
}

fn expire_fallbacks(ctx: &mut Context<'_>, params: &IdentityParams) -> Result<(), AppError> {
    let height = ctx.block().height;
    let limit = usize::try_from(params.max_timeouts_per_block).unwrap_or(1);
    let end = match height.checked_add(1) {
        Some(next) => Some(state_key::fallback_queue_height(next)),
        None => prefix_end(state_key::FALLBACK_QUEUE_PREFIX),
    };
    let due = ctx.range(state_key::FALLBACK_QUEUE_PREFIX, end.as_deref(), limit)?;
    let skip = state_key::FALLBACK_QUEUE_PREFIX.len().saturating_add(8);
    for (k, _) in due {
        // expire_fallback rewrites the fallback, which deletes this entry; delete it
        // anyway so a stale entry cannot stall the sweep.
        ctx.delete(k.clone())?;
        if let Some(addr) = address_at(&k, skip) {
            keeper::expire_fallback(ctx, &addr)?;
        }
    }
    Ok(())
}
