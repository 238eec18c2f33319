//! Block hooks, each with bounded work.
//!
//! Begin-block records the block time (queries and CheckTx read it). End-block removes
//! challenges and sessions whose expiry has come, from the two expiry queues (ordered by
//! time; processed entries are deleted, so the first remaining entry is the cursor), at
//! most `max_cleanups_per_block` entries in total.

use crate::proto::ChallengeStatus;
use crate::{events, state, state_key};
use ve_module::{prefix_end, Context};
use ve_types::{Address, AppError};

pub fn begin_block(ctx: &mut Context<'_>) -> Result<(), AppError> {
    let t = ctx.block().time_unix;
    state::set_last_block_time(ctx, t)
}

fn due(
    ctx: &mut Context<'_>,
    prefix: &[u8],
    upto: Vec<u8>,
    limit: usize,
) -> Result<Vec<String>, AppError> {
    let skip = prefix.len().saturating_add(8);
    let entries = ctx.range(prefix, Some(&upto), limit)?;
    let mut ids = Vec::with_capacity(entries.len());
    for (k, _) in entries {
        if let Some(id) = k.get(skip..).and_then(|b| std::str::from_utf8(b).ok()) {
            ids.push(id.to_string());
        }
        ctx.delete(k)?;
    }
    Ok(ids)
}

pub fn end_block(ctx: &mut Context<'_>) -> Result<(), AppError> {
    let now = ctx.block().time_unix;
    let mut budget = usize::try_from(state::params(ctx)?.max_cleanups_per_block).unwrap_or(1);
    // Entries with expires_at <= now.
    let upto = |k: fn(i64) -> Vec<u8>, p: &[u8]| match now.checked_add(1) {
        Some(n) => k(n),
        None => prefix_end(p).unwrap_or_default(),
    };
    let ids = due(
        ctx,
        state_key::CHALLENGE_EXPIRY_PREFIX,
        upto(
            state_key::challenge_expiry_time,
            state_key::CHALLENGE_EXPIRY_PREFIX,
        ),
        budget,
    )?;
    budget = budget.saturating_sub(ids.len());
    for id in ids {
        let Some(c) = state::challenge(ctx, &id)? else {
            continue;
        };
        if c.status == ChallengeStatus::Pending as i32 {
            ctx.emit(events::challenge_expired(&c));
        }
        if let Ok(a) = c.account.parse::<Address>() {
            ctx.delete(state_key::open_challenge(&a, &id))?;
        }
        ctx.delete(state_key::challenge(&id))?;
    }
    if budget == 0 {
        return Ok(());
    }
    let ids = due(
        ctx,
        state_key::SESSION_EXPIRY_PREFIX,
        upto(
            state_key::session_expiry_time,
            state_key::SESSION_EXPIRY_PREFIX,
        ),
        budget,
    )?;
    for id in ids {
        let Some(s) = state::session(ctx, &id)? else {
            continue;
        };
        if s.used_at == 0 {
            ctx.emit(events::session_expired(&s));
        }
        if let Ok(a) = s.account.parse::<Address>() {
            state::delete_session(ctx, &a, &id)?;
        }
    }
    Ok(())
}
