//! The gating API other modules call inside their handlers (DESIGN §2.7): `score`,
//! `tier`, `require_tier`. Reads only; the tier is derived from the score record's
//! (score, status, expiry) at the current block time, never stored.

use crate::proto::{AccountStatus, IdentityTier};
use crate::types::{effective_status, tier_of_record};
use crate::{keeper, state, IdentityError};
use ve_module::{Context, Store};
use ve_types::{Address, AppError};

/// An account's score as gating sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoreView {
    pub score: u32,
    /// EXPIRED once `expires_at` has passed; REJECTED while the identity is locked.
    pub status: AccountStatus,
    pub tier: IdentityTier,
    pub model_version: String,
    pub expires_at: i64,
}

/// The score view of `addr` at block time `now`; `None` if never scored.
pub fn score_at(
    store: &mut impl Store,
    addr: &Address,
    now: i64,
) -> Result<Option<ScoreView>, AppError> {
    let Some(r) = state::score(store, addr)? else {
        return Ok(None);
    };
    let locked = state::record(store, addr)?.is_some_and(|rec| rec.locked);
    let status = if locked {
        AccountStatus::Rejected
    } else {
        effective_status(r.status, r.expires_at, now)
    };
    Ok(Some(ScoreView {
        score: r.score,
        status,
        tier: tier_of_record(r.score, status, r.additional_factor),
        model_version: r.model_version,
        expires_at: r.expires_at,
    }))
}

/// What marketplace, provider, HPC and MFA call. Implemented by [`IdentityKeeper`]; the
/// app hands modules an `Arc<dyn IdentityGate>`.
pub trait IdentityGate: Send + Sync {
    fn score(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<Option<ScoreView>, AppError>;
    fn tier(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<IdentityTier, AppError>;
    /// Fails with identity code 28 (tier too low) unless `addr`'s tier is at least `min`.
    fn require_tier(
        &self,
        ctx: &mut Context<'_>,
        addr: &Address,
        min: IdentityTier,
    ) -> Result<(), AppError>;
}

#[derive(Clone, Copy, Debug, Default)]
pub struct IdentityKeeper;

impl IdentityGate for IdentityKeeper {
    fn score(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<Option<ScoreView>, AppError> {
        let now = keeper::now(ctx)?;
        score_at(ctx, addr, now)
    }

    fn tier(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<IdentityTier, AppError> {
        Ok(self
            .score(ctx, addr)?
            .map_or(IdentityTier::Unverified, |s| s.tier))
    }

    fn require_tier(
        &self,
        ctx: &mut Context<'_>,
        addr: &Address,
        min: IdentityTier,
    ) -> Result<(), AppError> {
        let have = self.tier(ctx, addr)?;
        if (have as i32) < (min as i32) {
            return Err(IdentityError::TierTooLow {
                have: u32::try_from(have as i32).unwrap_or(0),
                need: u32::try_from(min as i32).unwrap_or(0),
            }
            .into());
        }
        Ok(())
    }
}
