//! The keeper's internal API: status transitions, verification results and scores.
//!
//! No message reaches these functions directly. The scoring consensus (issue 5) will call
//! [`complete_request`] / [`fail_request`] from its injected, consensus-verified
//! transaction; until then app tests drive them through the test harness. Nothing here
//! lets a single key set a score.

use crate::proto::*;
use crate::types::{
    effective_status, needs_explicit_consent, status_name, tier_of_record, MAX_SCORE,
};
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
    put_score(
        ctx,
        account,
        score,
        status,
        model_version,
        verification_hash,
        false,
    )
    .map(|(rec, _)| rec)
}

fn tier_at(r: &ScoreRecord, now: i64) -> IdentityTier {
    tier_of_record(
        r.score,
        effective_status(r.status, r.expires_at, now),
        r.additional_factor,
    )
}

/// [`set_score`] with the additional-factor flag; also returns the previous record.
fn put_score(
    ctx: &mut Context<'_>,
    account: &Address,
    score: u32,
    status: AccountStatus,
    model_version: &str,
    verification_hash: &[u8],
    additional_factor: bool,
) -> Result<(ScoreRecord, Option<ScoreRecord>), AppError> {
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
        additional_factor,
    };
    write_score(ctx, account, &rec, previous.as_ref(), t)?;
    Ok((rec, previous))
}

/// Stores `rec` and emits the score and tier events against `previous`.
fn write_score(
    ctx: &mut Context<'_>,
    account: &Address,
    rec: &ScoreRecord,
    previous: Option<&ScoreRecord>,
    t: i64,
) -> Result<(), AppError> {
    let old_tier = previous.map_or(IdentityTier::Unverified, |p| tier_at(p, t));
    state::set_score(ctx, account, rec)?;
    ctx.emit(events::score_updated(rec, previous.map(|p| p.score)));
    let new_tier = tier_at(rec, t);
    if new_tier != old_tier {
        ctx.emit(events::tier_changed(
            &rec.account,
            old_tier,
            new_tier,
            rec.score,
            rec.block_height,
        ));
    }
    Ok(())
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
    /// Reason codes of the result (spec vocabulary: SUCCESS, LOW_CONFIDENCE, ...).
    pub reason_codes: Vec<String>,
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
) -> Result<Vec<IdentityScope>, AppError> {
    let mut out = Vec::with_capacity(r.scope_ids.len());
    for id in &r.scope_ids {
        if let Some(s) = state::scope(ctx, account, id)? {
            if !s.revoked
                && s.status == VerificationStatus::InProgress as i32
                && s.request_id == r.request_id
            {
                out.push(s);
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

/// Whether `scope_id` of `account` has a granted consent that holds at block time `t`.
pub fn consent_valid(
    store: &mut impl ve_module::Store,
    account: &Address,
    scope_id: &str,
    t: i64,
) -> Result<bool, AppError> {
    Ok(state::consent(store, account, scope_id)?
        .is_some_and(|c| c.granted && (c.expires_at == 0 || t < c.expires_at)))
}

/// A verification history entry for `account` (the sequence is assigned on append).
#[allow(clippy::too_many_arguments)]
fn history(
    ctx: &mut Context<'_>,
    account: &Address,
    kind: HistoryKind,
    previous: Option<&ScoreRecord>,
    new: Option<&ScoreRecord>,
    scopes: Vec<String>,
    request_id: &str,
    reason: &str,
    reason_codes: Vec<String>,
) -> Result<(), AppError> {
    let t = now(ctx)?;
    let keep = state::params(ctx)?.max_history_per_account;
    let e = VerificationHistoryEntry {
        sequence: 0,
        kind: kind as i32,
        timestamp: t,
        block_height: ctx.block().height,
        previous_score: previous.map_or(0, |p| p.score),
        new_score: new.map_or(0, |n| n.score),
        previous_status: previous.map_or(AccountStatus::Unknown as i32, |p| p.status),
        new_status: new.map_or(AccountStatus::Unknown as i32, |n| n.status),
        scopes_evaluated: scopes,
        model_version: new.map(|n| n.model_version.clone()).unwrap_or_default(),
        reason: reason.to_string(),
        request_id: request_id.to_string(),
        reason_codes,
    };
    state::append_history(ctx, account, e, keep).map(|_| ())
}

/// Closes an open fallback of `account` because a newer result replaces it: its scopes
/// still waiting for the additional factor become EXPIRED.
fn supersede_fallback(ctx: &mut Context<'_>, account: &Address) -> Result<(), AppError> {
    let Some(mut f) = state::fallback(ctx, account)? else {
        return Ok(());
    };
    if f.status != FallbackStatus::Pending as i32 {
        return Ok(());
    }
    move_scopes(
        ctx,
        account,
        &f.scope_ids,
        &[
            VerificationStatus::NeedsAdditionalFactor,
            VerificationStatus::AdditionalFactorPending,
        ],
        &[VerificationStatus::Expired],
        "superseded by a newer verification result",
    )?;
    f.status = FallbackStatus::Superseded as i32;
    f.finished_height = ctx.block().height;
    state::set_fallback(ctx, account, &f)?;
    ctx.emit(events::fallback_superseded(&f));
    Ok(())
}

/// Moves each listed scope that is currently in one of `from` through the `path` of
/// statuses (each step checked by the status machine); others are left alone.
fn move_scopes(
    ctx: &mut Context<'_>,
    account: &Address,
    ids: &[String],
    from: &[VerificationStatus],
    path: &[VerificationStatus],
    reason: &str,
) -> Result<Vec<String>, AppError> {
    let mut moved = Vec::new();
    for id in ids {
        let Some(s) = state::scope(ctx, account, id)? else {
            continue;
        };
        if s.revoked || !from.iter().any(|f| *f as i32 == s.status) {
            continue;
        }
        for to in path {
            transition_scope(ctx, account, id, *to, reason)?;
        }
        moved.push(id.clone());
    }
    Ok(moved)
}

/// The scoring consensus's entry point (issue 5 calls it from its consensus-verified
/// system step; there is no message for it). Applies an agreed result to a request:
///
/// * each waiting scope moves IN_PROGRESS → VERIFIED (score ≥ `borderline_upper`),
///   NEEDS_ADDITIONAL_FACTOR (inside the band) or REJECTED (below it); scopes in
///   `failed_scopes` are REJECTED; a biometric scope whose consent no longer holds goes
///   back to PENDING and is not counted;
/// * the score record is written with `expires_at = block time + verification_expiry_days`;
/// * inside the band a borderline fallback opens with deadline
///   `height + fallback_timeout_blocks` (an older open fallback is superseded);
/// * the request is COMPLETED (reason codes kept) and leaves the queue; a history entry
///   is appended.
///
/// When no scope of the request is still waiting (all revoked or consent withdrawn) the
/// request is FAILED with reason `NO_SCOPES` and no score is written (`Ok(None)`).
pub fn apply_verification_result(
    ctx: &mut Context<'_>,
    request_id: &str,
    outcome: &VerificationOutcome,
) -> Result<Option<ScoreRecord>, AppError> {
    if outcome.score > MAX_SCORE {
        return Err(IdentityError::ScoreOutOfRange(outcome.score).into());
    }
    let params = state::params(ctx)?;
    if !params.active_model_hashes.is_empty()
        && !params.active_model_hashes.contains(&outcome.model_version)
    {
        return Err(IdentityError::ModelNotActive(outcome.model_version.clone()).into());
    }
    let (mut r, account) = open_request(ctx, request_id)?;
    let t = now(ctx)?;
    let status = status_for_score(&params, outcome.score);
    let scope_status = match status {
        AccountStatus::Verified => VerificationStatus::Verified,
        AccountStatus::NeedsAdditionalFactor => VerificationStatus::NeedsAdditionalFactor,
        _ => VerificationStatus::Rejected,
    };
    let mut evaluated = Vec::new();
    let mut borderline_scopes = Vec::new();
    let mut usable = Vec::new();
    for s in waiting_scopes(ctx, &r, &account)? {
        if needs_explicit_consent(s.scope_type) && !consent_valid(ctx, &account, &s.scope_id, t)? {
            transition_scope(
                ctx,
                &account,
                &s.scope_id,
                VerificationStatus::Pending,
                "consent no longer valid",
            )?;
            continue;
        }
        usable.push(s.scope_id);
    }
    if usable.is_empty() {
        finish(ctx, &mut r, RequestStatus::Failed, "NO_SCOPES")?;
        ctx.emit(events::verification_failed(&r));
        return Ok(None);
    }
    supersede_fallback(ctx, &account)?;
    for id in usable {
        let to = if outcome.failed_scopes.contains(&id) {
            VerificationStatus::Rejected
        } else {
            scope_status
        };
        transition_scope(ctx, &account, &id, to, "verification result")?;
        if to == VerificationStatus::NeedsAdditionalFactor {
            borderline_scopes.push(id.clone());
        }
        evaluated.push(id);
    }
    let (rec, previous) = put_score(
        ctx,
        &account,
        outcome.score,
        status,
        &outcome.model_version,
        &outcome.input_hash,
        false,
    )?;
    if status == AccountStatus::NeedsAdditionalFactor {
        let height = ctx.block().height;
        let id_hash = ve_crypto::sha256(
            &[
                b"virtengine-veid-fallback-v1".as_slice(),
                account.as_bytes(),
                request_id.as_bytes(),
            ]
            .concat(),
        );
        let f = BorderlineFallback {
            fallback_id: hex::encode(id_hash.get(..16).unwrap_or_default()),
            account: account.to_string(),
            request_id: request_id.to_string(),
            borderline_score: outcome.score,
            model_version: outcome.model_version.clone(),
            input_hash: outcome.input_hash.clone(),
            scope_ids: borderline_scopes,
            status: FallbackStatus::Pending as i32,
            created_at: t,
            created_height: height,
            deadline_height: height
                .checked_add(params.fallback_timeout_blocks)
                .ok_or(IdentityError::Overflow("fallback deadline"))?,
            finished_height: 0,
        };
        state::set_fallback(ctx, &account, &f)?;
        ctx.emit(events::fallback_triggered(&f));
    }
    r.reason_codes = outcome.reason_codes.clone();
    finish(ctx, &mut r, RequestStatus::Completed, "")?;
    history(
        ctx,
        &account,
        HistoryKind::VerificationResult,
        previous.as_ref(),
        Some(&rec),
        evaluated,
        request_id,
        "",
        outcome.reason_codes.clone(),
    )?;
    ctx.emit(events::verification_completed(&r, outcome.score, status));
    Ok(Some(rec))
}

/// [`apply_verification_result`] under its earlier name.
pub fn complete_request(
    ctx: &mut Context<'_>,
    request_id: &str,
    outcome: &VerificationOutcome,
) -> Result<Option<ScoreRecord>, AppError> {
    apply_verification_result(ctx, request_id, outcome)
}

/// Gives up on a request (e.g. no quorum): its waiting scopes go back to PENDING so the
/// account can request again; the score record is untouched.
pub fn fail_request(ctx: &mut Context<'_>, request_id: &str, reason: &str) -> Result<(), AppError> {
    let (mut r, account) = open_request(ctx, request_id)?;
    for s in waiting_scopes(ctx, &r, &account)? {
        transition_scope(
            ctx,
            &account,
            &s.scope_id,
            VerificationStatus::Pending,
            reason,
        )?;
    }
    finish(ctx, &mut r, RequestStatus::Failed, reason)?;
    ctx.emit(events::verification_failed(&r));
    Ok(())
}

/// A request not completed within `request_timeout_blocks` (end-block sweep): TIMEOUT,
/// waiting scopes back to PENDING, a history entry, `EventVerificationTimedOut`.
pub fn time_out_request(ctx: &mut Context<'_>, request_id: &str) -> Result<(), AppError> {
    let (mut r, account) = open_request(ctx, request_id)?;
    let mut returned = Vec::new();
    for s in waiting_scopes(ctx, &r, &account)? {
        transition_scope(
            ctx,
            &account,
            &s.scope_id,
            VerificationStatus::Pending,
            "TIMEOUT",
        )?;
        returned.push(s.scope_id);
    }
    r.reason_codes = vec!["TIMEOUT".to_string()];
    finish(ctx, &mut r, RequestStatus::Timeout, "TIMEOUT")?;
    history(
        ctx,
        &account,
        HistoryKind::RequestTimedOut,
        None,
        None,
        returned,
        request_id,
        "no consensus result before request_timeout_blocks",
        vec!["TIMEOUT".to_string()],
    )?;
    ctx.emit(events::verification_timed_out(&r));
    Ok(())
}

/// What the MFA module calls after a successful MFA verification of `account` (and what
/// `MsgCompleteBorderlineFallback` calls after its own MFA check): the open borderline
/// fallback's scopes move NEEDS_ADDITIONAL_FACTOR → ADDITIONAL_FACTOR_PENDING → VERIFIED,
/// the score record becomes VERIFIED at the borderline score with `additional_factor`
/// (tier at least BASIC), the fallback is COMPLETED and a history entry is appended.
/// Refused once the block height reaches the fallback's deadline (code 42).
pub fn complete_borderline_fallback(
    ctx: &mut Context<'_>,
    account: &Address,
) -> Result<ScoreRecord, AppError> {
    let mut f = state::fallback(ctx, account)?
        .filter(|f| f.status == FallbackStatus::Pending as i32)
        .ok_or_else(|| IdentityError::NoOpenFallback(account.to_string()))?;
    let height = ctx.block().height;
    if height >= f.deadline_height {
        return Err(IdentityError::FallbackExpired(account.to_string(), f.deadline_height).into());
    }
    let moved = move_scopes(
        ctx,
        account,
        &f.scope_ids,
        &[VerificationStatus::NeedsAdditionalFactor],
        &[
            VerificationStatus::AdditionalFactorPending,
            VerificationStatus::Verified,
        ],
        "additional factor verified",
    )?;
    let (rec, previous) = put_score(
        ctx,
        account,
        f.borderline_score,
        AccountStatus::Verified,
        &f.model_version,
        &f.input_hash,
        true,
    )?;
    f.status = FallbackStatus::Completed as i32;
    f.finished_height = height;
    state::set_fallback(ctx, account, &f)?;
    history(
        ctx,
        account,
        HistoryKind::BorderlineCompleted,
        previous.as_ref(),
        Some(&rec),
        moved,
        &f.request_id,
        "additional factor verified",
        vec![],
    )?;
    ctx.emit(events::fallback_completed(&f));
    Ok(rec)
}

/// A fallback whose deadline came (end-block sweep): its waiting scopes are REJECTED,
/// the score record becomes REJECTED (which opens the appeal window), the fallback
/// EXPIRED. Written directly (not through the lock check): a sweep never fails on a
/// locked identity.
pub fn expire_fallback(ctx: &mut Context<'_>, account: &Address) -> Result<(), AppError> {
    let Some(mut f) = state::fallback(ctx, account)? else {
        return Ok(());
    };
    if f.status != FallbackStatus::Pending as i32 {
        return Ok(());
    }
    let height = ctx.block().height;
    let t = now(ctx)?;
    let moved = move_scopes(
        ctx,
        account,
        &f.scope_ids,
        &[
            VerificationStatus::NeedsAdditionalFactor,
            VerificationStatus::AdditionalFactorPending,
        ],
        &[VerificationStatus::Rejected],
        "additional factor not provided before the deadline",
    )?;
    let previous = state::score(ctx, account)?;
    let mut new_rec = None;
    if let Some(p) = &previous {
        if p.status == AccountStatus::NeedsAdditionalFactor as i32 {
            let rec = ScoreRecord {
                status: AccountStatus::Rejected as i32,
                block_height: height,
                computed_at: t,
                ..p.clone()
            };
            write_score(ctx, account, &rec, Some(p), t)?;
            new_rec = Some(rec);
        }
    }
    f.status = FallbackStatus::Expired as i32;
    f.finished_height = height;
    state::set_fallback(ctx, account, &f)?;
    history(
        ctx,
        account,
        HistoryKind::BorderlineExpired,
        previous.as_ref(),
        new_rec.as_ref(),
        moved,
        &f.request_id,
        "additional factor not provided before the deadline",
        vec![],
    )?;
    ctx.emit(events::fallback_expired(&f));
    Ok(())
}

/// A VERIFIED score record whose `expires_at` has come (end-block sweep): written as
/// EXPIRED, with `EventScoreExpired`, `EventTierChanged` and a history entry. The
/// account can then request verification again (EXPIRED scopes are re-verifiable).
pub fn expire_score(ctx: &mut Context<'_>, account: &Address) -> Result<(), AppError> {
    let Some(p) = state::score(ctx, account)? else {
        return Ok(());
    };
    let t = now(ctx)?;
    if p.status != AccountStatus::Verified as i32 || p.expires_at == 0 || p.expires_at > t {
        return Ok(());
    }
    let rec = ScoreRecord {
        status: AccountStatus::Expired as i32,
        ..p.clone()
    };
    // The tier as it was before expiry (the lazy read already shows EXPIRED).
    let old_tier = tier_of_record(p.score, AccountStatus::Verified, p.additional_factor);
    state::set_score(ctx, account, &rec)?;
    ctx.emit(events::score_expired(
        &rec.account,
        rec.score,
        rec.expires_at,
    ));
    if old_tier != IdentityTier::Unverified {
        ctx.emit(events::tier_changed(
            &rec.account,
            old_tier,
            IdentityTier::Unverified,
            rec.score,
            ctx.block().height,
        ));
    }
    history(
        ctx,
        account,
        HistoryKind::ScoreExpired,
        Some(&p),
        Some(&rec),
        vec![],
        "",
        "verification expired",
        vec![],
    )
}

/// Appeal approval (moderator): the score record becomes VERIFIED at
/// `clamp(original + adjustment, 0, 100)` with model version `appeal_adjustment`.
pub(crate) fn apply_appeal_outcome(
    ctx: &mut Context<'_>,
    account: &Address,
    adjusted: u32,
    appeal_id: &str,
) -> Result<ScoreRecord, AppError> {
    let hash = state::score(ctx, account)?
        .map(|p| p.verification_hash)
        .unwrap_or_default();
    let (rec, previous) = put_score(
        ctx,
        account,
        adjusted,
        AccountStatus::Verified,
        "appeal_adjustment",
        &hash,
        false,
    )?;
    history(
        ctx,
        account,
        HistoryKind::AppealApproved,
        previous.as_ref(),
        Some(&rec),
        vec![],
        "",
        &format!("appeal {appeal_id} approved"),
        vec![],
    )?;
    ctx.emit(events::score_adjusted(
        &rec.account,
        previous.map_or(0, |p| p.score),
        rec.score,
        appeal_id,
    ));
    Ok(rec)
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
