//! `virtengine.identity.v1.Query`, one function per method.

use crate::keeper::parse_account;
use crate::msg_server::check_scope_id;
use crate::proto::*;
use crate::types::{effective_status, scope_type, tier_of_record};
use crate::{gate, state, state_key, IdentityError};
use prost::Message;
use ve_module::{paginate, QueryContext, MAX_PAGE};
use ve_types::AppError;

pub const IDENTITY_RECORD: &str = "/virtengine.identity.v1.Query/IdentityRecord";
pub const SCOPE: &str = "/virtengine.identity.v1.Query/Scope";
pub const SCOPES: &str = "/virtengine.identity.v1.Query/Scopes";
pub const SCOPES_BY_TYPE: &str = "/virtengine.identity.v1.Query/ScopesByType";
pub const SCORE: &str = "/virtengine.identity.v1.Query/Score";
pub const VERIFICATION_REQUEST: &str = "/virtengine.identity.v1.Query/VerificationRequest";
pub const PENDING_REQUESTS: &str = "/virtengine.identity.v1.Query/PendingRequests";
pub const PARAMS: &str = "/virtengine.identity.v1.Query/Params";
pub const WALLET: &str = "/virtengine.identity.v1.Query/Wallet";
pub const WALLET_SCOPES: &str = "/virtengine.identity.v1.Query/WalletScopes";
pub const CONSENTS: &str = "/virtengine.identity.v1.Query/Consents";
pub const VERIFICATION_HISTORY: &str = "/virtengine.identity.v1.Query/VerificationHistory";
pub const BORDERLINE_FALLBACK: &str = "/virtengine.identity.v1.Query/BorderlineFallback";
pub const APPEAL: &str = "/virtengine.identity.v1.Query/Appeal";
pub const APPEALS: &str = "/virtengine.identity.v1.Query/Appeals";

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, AppError> {
    M::decode(data).map_err(|e| IdentityError::InvalidRequest(e.to_string()).into())
}

fn corrupt(e: impl std::fmt::Display) -> AppError {
    IdentityError::Corrupt(e.to_string()).into()
}

/// Routes a query path owned by identity; `None` if the path is not ours.
pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        IDENTITY_RECORD => identity_record(ctx, data),
        SCOPE => scope(ctx, data),
        SCOPES => scopes(ctx, data),
        SCOPES_BY_TYPE => scopes_by_type(ctx, data),
        SCORE => score(ctx, data),
        VERIFICATION_REQUEST => verification_request(ctx, data),
        PENDING_REQUESTS => pending_requests(ctx, data),
        PARAMS => params(ctx),
        WALLET => wallet(ctx, data),
        WALLET_SCOPES => wallet_scopes(ctx, data),
        CONSENTS => consents(ctx, data),
        VERIFICATION_HISTORY => verification_history(ctx, data),
        BORDERLINE_FALLBACK => borderline_fallback(ctx, data),
        APPEAL => appeal(ctx, data),
        APPEALS => appeals(ctx, data),
        _ => return None,
    })
}

pub fn identity_record(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryIdentityRecordRequest = decode(data)?;
    let a = parse_account(&req.account)?;
    let record = state::record(&mut ctx.store(), &a)?;
    Ok(QueryIdentityRecordResponse {
        found: record.is_some(),
        record,
    }
    .encode_to_vec())
}

pub fn scope(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryScopeRequest = decode(data)?;
    let a = parse_account(&req.account)?;
    check_scope_id(&req.scope_id)?;
    let scope = state::scope(&mut ctx.store(), &a, &req.scope_id)?;
    Ok(QueryScopeResponse {
        found: scope.is_some(),
        scope,
    }
    .encode_to_vec())
}

/// Every scope of the account (revoked ones included), by scope id.
pub fn scopes(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryScopesRequest = decode(data)?;
    let a = parse_account(&req.account)?;
    let (entries, pagination) = paginate(ctx, &state_key::scopes(&a), req.pagination.as_ref())?;
    let scopes = entries
        .into_iter()
        .map(|(_, v)| IdentityScope::decode(v.as_slice()).map_err(corrupt))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(QueryScopesResponse {
        scopes,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

/// Live scopes of one type (at most max_scopes_per_type exist).
pub fn scopes_by_type(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryScopesByTypeRequest = decode(data)?;
    let a = parse_account(&req.account)?;
    if scope_type(req.scope_type).is_none() {
        return Err(IdentityError::InvalidScopeType(req.scope_type).into());
    }
    let mut store = ctx.store();
    let ids = state::live_scope_ids_of_type(&mut store, &a, req.scope_type, MAX_PAGE)?;
    let mut scopes = Vec::with_capacity(ids.len());
    for id in ids {
        scopes.push(
            state::scope(&mut store, &a, &id)?
                .ok_or_else(|| corrupt("index points at a missing scope"))?,
        );
    }
    Ok(QueryScopesByTypeResponse { scopes }.encode_to_vec())
}

/// The score record, its status as of the last block time and the tier.
pub fn score(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryScoreRequest = decode(data)?;
    let a = parse_account(&req.account)?;
    let mut store = ctx.store();
    let now = state::last_block_time(&mut store)?;
    let record = state::score(&mut store, &a)?;
    let view = gate::score_at(&mut store, &a, now)?;
    let (status, tier) = match (&record, view) {
        (Some(_), Some(v)) => (v.status, v.tier),
        (Some(r), None) => {
            let s = effective_status(r.status, r.expires_at, now);
            (s, tier_of_record(r.score, s, r.additional_factor))
        }
        _ => (AccountStatus::Unknown, IdentityTier::Unverified),
    };
    Ok(QueryScoreResponse {
        found: record.is_some(),
        score: record,
        effective_status: status as i32,
        tier: tier as i32,
    }
    .encode_to_vec())
}

pub fn verification_request(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryVerificationRequestRequest = decode(data)?;
    if req.request_id.len() != 32 || !req.request_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(IdentityError::InvalidRequest("request_id is 32 hex characters".into()).into());
    }
    let r = state::request(&mut ctx.store(), &req.request_id)?
        .ok_or_else(|| IdentityError::RequestNotFound(req.request_id.clone()))?;
    Ok(QueryVerificationRequestResponse { request: Some(r) }.encode_to_vec())
}

/// Queued requests, oldest first; or one account's requests that are still pending.
pub fn pending_requests(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryPendingRequestsRequest = decode(data)?;
    let mut store = ctx.store();
    let (prefix, id_offset) = if req.account.is_empty() {
        (
            state_key::QUEUE_PREFIX.to_vec(),
            state_key::QUEUE_PREFIX.len().saturating_add(8),
        )
    } else {
        let a = parse_account(&req.account)?;
        let p = state_key::account_requests(&a);
        let n = p.len();
        (p, n)
    };
    let (entries, pagination) = paginate(ctx, &prefix, req.pagination.as_ref())?;
    let mut requests = Vec::with_capacity(entries.len());
    for (k, _) in entries {
        let id = k
            .get(id_offset..)
            .and_then(|b| std::str::from_utf8(b).ok())
            .ok_or_else(|| corrupt("request index key"))?;
        let r = state::request(&mut store, id)?
            .ok_or_else(|| corrupt("index points at a missing request"))?;
        if r.status == RequestStatus::Pending as i32 || r.status == RequestStatus::InProgress as i32
        {
            requests.push(r);
        }
    }
    Ok(QueryPendingRequestsResponse {
        requests,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

pub fn params(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    Ok(QueryParamsResponse {
        params: Some(state::params(&mut ctx.store())?.to_proto()),
    }
    .encode_to_vec())
}

pub fn wallet(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryWalletRequest = decode(data)?;
    let a = parse_account(&req.account)?;
    let wallet = state::wallet(&mut ctx.store(), &a)?;
    Ok(QueryWalletResponse {
        found: wallet.is_some(),
        wallet,
    }
    .encode_to_vec())
}

/// The wallet's scope references with each scope's current status and consent.
pub fn wallet_scopes(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryWalletScopesRequest = decode(data)?;
    let a = parse_account(&req.account)?;
    let mut store = ctx.store();
    let now = state::last_block_time(&mut store)?;
    let (entries, pagination) =
        paginate(ctx, &state_key::wallet_refs(&a), req.pagination.as_ref())?;
    let mut scopes = Vec::with_capacity(entries.len());
    for (_, v) in entries {
        let r = ScopeReference::decode(v.as_slice()).map_err(corrupt)?;
        let status = state::scope(&mut store, &a, &r.scope_id)?.map_or(0, |s| s.status);
        let consent_granted = crate::keeper::consent_valid(&mut store, &a, &r.scope_id, now)?;
        scopes.push(WalletScope {
            reference: Some(r),
            status,
            consent_granted,
        });
    }
    Ok(QueryWalletScopesResponse {
        scopes,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

/// Global consent settings (absent without a wallet) and per-scope consents.
pub fn consents(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryConsentsRequest = decode(data)?;
    let a = parse_account(&req.account)?;
    let settings = state::wallet(&mut ctx.store(), &a)?.and_then(|w| w.consent_settings);
    let (entries, pagination) = paginate(ctx, &state_key::consents(&a), req.pagination.as_ref())?;
    let consents = entries
        .into_iter()
        .map(|(_, v)| ScopeConsent::decode(v.as_slice()).map_err(corrupt))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(QueryConsentsResponse {
        settings,
        consents,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

/// The kept history entries, oldest first.
pub fn verification_history(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryVerificationHistoryRequest = decode(data)?;
    let a = parse_account(&req.account)?;
    let (entries, pagination) = paginate(ctx, &state_key::history(&a), req.pagination.as_ref())?;
    let entries = entries
        .into_iter()
        .map(|(_, v)| VerificationHistoryEntry::decode(v.as_slice()).map_err(corrupt))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(QueryVerificationHistoryResponse {
        entries,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

pub fn borderline_fallback(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryBorderlineFallbackRequest = decode(data)?;
    let a = parse_account(&req.account)?;
    let fallback = state::fallback(&mut ctx.store(), &a)?;
    Ok(QueryBorderlineFallbackResponse {
        found: fallback.is_some(),
        fallback,
    }
    .encode_to_vec())
}

fn check_hex_id(id: &str, what: &str) -> Result<(), AppError> {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(IdentityError::InvalidRequest(format!("{what} is 32 hex characters")).into());
    }
    Ok(())
}

pub fn appeal(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryAppealRequest = decode(data)?;
    check_hex_id(&req.appeal_id, "appeal_id")?;
    let a = state::appeal(&mut ctx.store(), &req.appeal_id)?
        .ok_or_else(|| IdentityError::AppealNotFound(req.appeal_id.clone()))?;
    Ok(QueryAppealResponse { appeal: Some(a) }.encode_to_vec())
}

/// One account's appeals, or (account empty) the open appeals awaiting review.
pub fn appeals(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryAppealsRequest = decode(data)?;
    let (prefix, id_offset) = if req.account.is_empty() {
        (
            state_key::APPEAL_QUEUE_PREFIX.to_vec(),
            state_key::APPEAL_QUEUE_PREFIX.len().saturating_add(8),
        )
    } else {
        let a = parse_account(&req.account)?;
        let p = state_key::account_appeals(&a);
        let n = p.len();
        (p, n)
    };
    let (entries, pagination) = paginate(ctx, &prefix, req.pagination.as_ref())?;
    let mut store = ctx.store();
    let mut appeals = Vec::with_capacity(entries.len());
    for (k, _) in entries {
        let id = k
            .get(id_offset..)
            .and_then(|b| std::str::from_utf8(b).ok())
            .ok_or_else(|| corrupt("appeal index key"))?;
        appeals.push(
            state::appeal(&mut store, id)?
                .ok_or_else(|| corrupt("index points at a missing appeal"))?,
        );
    }
    Ok(QueryAppealsResponse {
        appeals,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}
