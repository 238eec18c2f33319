//! End-block: expire keys whose time has come, at most `max_expiries_per_block` per block.
//! The queue is ordered by height, and processed entries are deleted, so the first
//! remaining entry is the cursor: a backlog simply continues next block.

use crate::proto::KeyStatus;
use crate::{events, state, state_key};
use ve_module::{prefix_end, Context};
use ve_types::{Address, AppError};

pub fn end_block(ctx: &mut Context<'_>) -> Result<(), AppError> {
    let height = ctx.block().height;
    let limit = usize::try_from(state::params(ctx)?.max_expiries_per_block).unwrap_or(usize::MAX);
    // Due entries: every queue key below `expiry/<height + 1>`.
    let end = match height.checked_add(1) {
        Some(next) => Some(state_key::expiry_height_prefix(next)),
        None => prefix_end(state_key::EXPIRY_PREFIX),
    };
    let due = ctx.range(state_key::EXPIRY_PREFIX, end.as_deref(), limit)?;
    for (key, _) in due {
        ctx.delete(key.clone())?;
        let Some(fp) = key
            .get(state_key::EXPIRY_PREFIX.len().saturating_add(8)..)
            .and_then(|b| std::str::from_utf8(b).ok())
        else {
            continue;
        };
        let Some(mut r) = state::key(ctx, fp)? else {
            continue;
        };
        // Revoked keys and keys whose expiry was moved are left alone.
        if r.status != KeyStatus::Active as i32 || r.expires_at == 0 || r.expires_at > height {
            continue;
        }
        r.status = KeyStatus::Expired as i32;
        state::set_key(ctx, &r)?;
        if let Ok(owner) = r.address.parse::<Address>() {
            state::add_live(ctx, &owner, -1)?;
        }
        ctx.emit(events::key_expired(&r, height));
    }
    Ok(())
}
