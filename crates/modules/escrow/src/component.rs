//! End-block: the wake queue. Each open account with payments has one entry at the height
//! it runs dry, each overdrawn account one at the end of its grace window. Due entries are
//! processed in height order, at most `max_wakes_per_block` per block; processed entries
//! are deleted, so the first remaining entry is the cursor and a backlog continues next
//! block. No loop over payments or accounts that have nothing due.

use crate::keeper::Keeper;
use crate::{state, state_key};

use ve_module::{prefix_end, Context};
use ve_types::AppError;

pub fn end_block(ctx: &mut Context<'_>, keeper: &Keeper) -> Result<(), AppError> {
    let height = ctx.block().height;
    let limit = usize::try_from(state::params(ctx)?.max_wakes_per_block).unwrap_or(usize::MAX);
    let end = match height.checked_add(1) {
        Some(next) => Some(state_key::wake_height_prefix(next)),
        None => prefix_end(state_key::WAKE_PREFIX),
    };
    let due = ctx.range(state_key::WAKE_PREFIX, end.as_deref(), limit)?;
    let tail_at = state_key::WAKE_PREFIX.len().saturating_add(8);
    for (key, _) in due {
        ctx.delete(key.clone())?;
        let Some(id) = key.get(tail_at..).and_then(state_key::parse_id) else {
            continue;
        };
        let Some(at) = key
            .get(state_key::WAKE_PREFIX.len()..tail_at)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes)
        else {
            continue;
        };
        keeper.wake(ctx, &id, at)?;
    }
    Ok(())
}
