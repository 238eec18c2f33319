//! The keeper's internal API: status transitions, verification results and scores.
//!
//! No message reaches these functions directly. The scoring consensus (issue 5) will call
//! [`complete_request`] / [`fail_request`] from its injected, consensus-verified
//! transaction; until then app tests drive them through the test harness. Nothing here
//! lets a single key set a score.

use crate::proto::*;
use crate::types::{effective_status, status_name, tier_of, MAX_SCORE};
use crate::{events, state, state_key, IdentityError, IdentityParams};
use ve_module::Context;
use ve_types::{Address, AppError};

/// Block time for a rule: the block's, or in CheckTx (which has none) the last block's.
pub fn now(ctx: &mut Context<'_>) -> Result<i64, AppError> {
    let t = ctx.block().time_unix;
    if t > 0 {
        Ok(t)
    } else {
        state::last_block_time(ctx)
    }
}

pub(crate) fn parse_account(s: &str) -> Result<Address, AppError> {
    s.parse().map_err(|e| {
        IdentityError::InvalidAddress(s.chars().take(100).collect(), format!("{e}")).into()
    })
}

/// Moves a scope through the status machine (the spec's table; revoked scopes refuse).
/// VERIFIED stamps `verified_at` and `expires_at` (block time + verification expiry).
pub fn transition_scope(
    ctx: &mut Context<'_>,
    owner: &Address,
    scope_id: &str,
    to: VerificationStatus,
    reason: &str,
) -> Result<IdentityScope, AppError> {
    let old = state::scope(ctx, owner, scope_id)?
        .ok_or_else(|| IdentityError::ScopeNotFound(scope_id.to_string()))?;
    if old.revoked {
        return Err(IdentityError::ScopeRevoked(scope_id.to_string()).into());
    }
    let from = VerificationStatus::try_from(old.status).unwrap_or(VerificationStatus::Unknown);
    if !crate::types::transition_allowed(from, to) {
        return Err(IdentityError::InvalidTransition {
            scope_id: scope_id.to_string(),
            from: status_name(old.status),
            to: status_name(to as i32),
        }
        .into());
    }
    let t = now(ctx)?;
    let mut s = old.clone();
    s.status = to as i32;
    s.status_reason = reason.to_string();
    if to == VerificationStatus::Verified {
        let params = state::params(ctx)?;
        s.verified_at = t;
        s.expires_at = t
            .checked_add(params.expiry_seconds())
            .ok_or(IdentityError::Overflow("scope expiry"))?;
        if let Some(mut r) = state::record(ctx, owner)? {
            r.last_verified_at = t;
            r.updated_at = t;
            state::set_record(ctx, owner, &r)?;
        }
    }
    state::set_scope(ctx, owner, &s, Some(&old))?;
    ctx.emit(events::scope_status_changed(&s, old.status, reason));
    Ok(s)
}

/// Account status a consensus score gives: at or above the band VERIFIED, inside the
/// borderline band NEEDS_ADDITIONAL_FACTOR, below it REJECTED.
pub fn status_for_score(params: &IdentityParams, score: u32) -> AccountStatus {
    if score >= params.borderline_upper {
        AccountStatus::Verified
    } else if score >= params.borderline_lower {
        AccountStatus::NeedsAdditionalFactor
    } else {
        AccountStatus::Rejected
    }
}

/// Writes the account's score record (expiring `verification_expiry_days` of block time
/// from now) and emits `EventScoreUpdated` and, when the tier moves, `EventTierChanged`.
pub fn set_score(
    ctx: &mut Context<'_>,
    account: &Address,
    score: u32,
    status: AccountStatus,
    model_version: &str,
    verification_hash: &[u8],
) -> Result<ScoreRecord, AppError> {
    if score > MAX_SCORE {
        return Err(IdentityError::ScoreOutOfRange(score).into());
    }
    if let Some(r) = state::record(ctx, account)? {
        if r.locked {
            return Err(IdentityError::IdentityLocked(account.to_string(), r.locked_reason).into());
        }
    }
    let t = now(ctx)?;
    let params = state::params(ctx)?;
    let previous = state::score(ctx, account)?;
    let old_tier = previous.as_ref().map_or(IdentityTier::Unverified, |p| {
        tier_of(p.score, effective_status(p.status, p.expires_at, t))
    });
    let rec = ScoreRecord {
        account: account.to_string(),
        score,
        status: status as i32,
        model_version: model_version.to_string(),
        computed_at: t,
        expires_at: t
            .checked_add(params.expiry_seconds())
            .ok_or(IdentityError::Overflow("score expiry"))?,
        verification_hash: verification_hash.to_vec(),
        block_height: ctx.block().height,
    };
    state::set_score(ctx, account, &rec)?;
    ctx.emit(events::score_updated(&rec, previous.map(|p| p.score)));
    let new_tier = tier_of(score, status);
    if new_tier != old_tier {
        ctx.emit(events::tier_changed(
            &rec.account,
            old_tier,
            new_tier,
            score,
            rec.block_height,
        ));
    }
    Ok(rec)
}

/// What the scoring consensus agreed for one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerificationOutcome {
    /// 0..=100.
    pub score: u32,
    pub model_version: String,
    /// SHA-256 of the scoring inputs.
    pub input_hash: Vec<u8>,
    /// Scopes the scorer could not use (decrypt/validation failures): they are REJECTED.
    pub failed_scopes: Vec<String>,
}

fn open_request(
    ctx: &mut Context<'_>,
    request_id: &str,
) -> Result<(VerificationRequest, Address), AppError> {
    let r = state::request(ctx, request_id)?
        .ok_or_else(|| IdentityError::RequestNotFound(request_id.to_string()))?;
    if r.status != RequestStatus::Pending as i32 && r.status != RequestStatus::InProgress as i32 {
        return Err(IdentityError::RequestFinished(request_id.to_string()).into());
    }
    let account = parse_account(&r.account)?;
    Ok((r, account))
}

/// Scopes of the request that are still waiting on it (not revoked, IN_PROGRESS, same request).
fn waiting_scopes(
    ctx: &mut Context<'_>,
    r: &VerificationRequest,
    account: &Address,
) -> Result<Vec<String>, AppError> {
    let mut out = Vec::with_capacity(r.scope_ids.len());
    for id in &r.scope_ids {
        if let Some(s) = state::scope(ctx, account, id)? {
            if !s.revoked
                && s.status == VerificationStatus::InProgress as i32
                && s.request_id == r.request_id
            {
                out.push(id.clone());
            }
        }
    }
    Ok(out)
}

fn finish(
    ctx: &mut Context<'_>,
    r: &mut VerificationRequest,
    status: RequestStatus,
    reason: &str,
) -> Result<(), AppError> {
    ctx.delete(state_key::queue_entry(r.requested_block, &r.request_id))?;
    r.status = status as i32;
    r.reason = reason.to_string();
    r.finished_block = ctx.block().height;
    state::set_request(ctx, r)
}

/// Applies an agreed score to a request: the score record (status from the borderline
/// band), each waiting scope to VERIFIED / NEEDS_ADDITIONAL_FACTOR / REJECTED (failed
/// scopes REJECTED), and the request COMPLETED and out of the queue.
pub fn complete_request(
    ctx: &mut Context<'_>,
    request_id: &str,
    outcome: &VerificationOutcome,
) -> Result<ScoreRecord, AppError> {
    if outcome.score > MAX_SCORE {
        return Err(IdentityError::ScoreOutOfRange(outcome.score).into());
    }
    let (mut r, account) = open_request(ctx, request_id)?;
    let params = state::params(ctx)?;
    let status = status_for_score(&params, outcome.score);
    let scope_status = match status {
        AccountStatus::Verified => VerificationStatus::Verified,
        AccountStatus::NeedsAdditionalFactor => VerificationStatus::NeedsAdditionalFactor,
        _ => VerificationStatus::Rejected,
    };
    for id in waiting_scopes(ctx, &r, &account)? {
        let to = if outcome.failed_scopes.contains(&id) {
            VerificationStatus::Rejected
        } else {
            scope_status
        };
        transition_scope(ctx, &account, &id, to, "verification result")?;
    }
    let rec = set_score(
        ctx,
        &account,
        outcome.score,
        status,
        &outcome.model_version,
        &outcome.input_hash,
    )?;
    finish(ctx, &mut r, RequestStatus::Completed, "")?;
    ctx.emit(events::verification_completed(&r, outcome.score, status));
    Ok(rec)
}

/// Gives up on a request (e.g. timeout, no quorum): its waiting scopes go back to
/// PENDING so the account can request again; the score record is untouched.
pub fn fail_request(ctx: &mut Context<'_>, request_id: &str, reason: &str) -> Result<(), AppError> {
    let (mut r, account) = open_request(ctx, request_id)?;
    for id in waiting_scopes(ctx, &r, &account)? {
        transition_scope(ctx, &account, &id, VerificationStatus::Pending, reason)?;
    }
    finish(ctx, &mut r, RequestStatus::Failed, reason)?;
    ctx.emit(events::verification_failed(&r));
    Ok(())
}

/// Locks or unlocks an identity (locked identities refuse uploads and score updates).
pub fn set_locked(
    ctx: &mut Context<'_>,
    account: &Address,
    locked: bool,
    reason: &str,
) -> Result<(), AppError> {
    let t = now(ctx)?;
    let mut r = state::record(ctx, account)?.unwrap_or_else(|| IdentityRecord {
        account: account.to_string(),
        created_at: t,
        ..Default::default()
    });
    r.locked = locked;
    r.locked_reason = if locked {
        reason.to_string()
    } else {
        String::new()
    };
    r.updated_at = t;
    state::set_record(ctx, account, &r)
}
