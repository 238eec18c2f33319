//! Block hooks, each with bounded work.
//!
//! Begin-block records the block time (queries and CheckTx read it). End-block deletes
//! this block's rate counters and expires verified scopes whose `expires_at` has come,
//! at most `max_expiries_per_block`; the expiry index is ordered by time and processed
//! entries are deleted, so the first remaining entry is the cursor.

use crate::proto::VerificationStatus;
use crate::{keeper, state, state_key};
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
    Ok(())
}
