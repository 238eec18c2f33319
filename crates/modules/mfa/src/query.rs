//! `virtengine.mfa.v1.Query`, one function per method.

use crate::gate::{requirement, session_valid};
use crate::ids;
use crate::msg_server::parse_addr;
use crate::proto::*;
use crate::types::{action_of, parse_uve};
use crate::{state, state_key, MfaError};
use prost::Message;
use ve_module::{paginate, QueryContext};
use ve_types::AppError;

pub const MFA_REQUIRED: &str = "/virtengine.mfa.v1.Query/MfaRequired";
pub const MFA_POLICY: &str = "/virtengine.mfa.v1.Query/MfaPolicy";
pub const FACTOR_ENROLLMENTS: &str = "/virtengine.mfa.v1.Query/FactorEnrollments";
pub const FACTOR_ENROLLMENT: &str = "/virtengine.mfa.v1.Query/FactorEnrollment";
pub const CHALLENGE: &str = "/virtengine.mfa.v1.Query/Challenge";
pub const PENDING_CHALLENGES: &str = "/virtengine.mfa.v1.Query/PendingChallenges";
pub const AUTHORIZATION_SESSION: &str = "/virtengine.mfa.v1.Query/AuthorizationSession";
pub const AUTHORIZATION_SESSIONS: &str = "/virtengine.mfa.v1.Query/AuthorizationSessions";
pub const TRUSTED_DEVICES: &str = "/virtengine.mfa.v1.Query/TrustedDevices";
pub const SENSITIVE_TX_CONFIG: &str = "/virtengine.mfa.v1.Query/SensitiveTxConfig";
pub const ALL_SENSITIVE_TX_CONFIGS: &str = "/virtengine.mfa.v1.Query/AllSensitiveTxConfigs";
pub const PARAMS: &str = "/virtengine.mfa.v1.Query/Params";

/// Most factors, devices and open challenges listed for one account.
const MAX_LIST: usize = 100;

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, AppError> {
    M::decode(data).map_err(|e| MfaError::InvalidRequest(e.to_string()).into())
}

fn check_id(id: &str) -> Result<(), AppError> {
    if ids::is_id(id) {
        Ok(())
    } else {
        Err(MfaError::InvalidRequest("ids are 32 lowercase hex characters".into()).into())
    }
}

/// Routes a query path owned by mfa; `None` if the path is not ours.
pub fn route(ctx: &QueryContext<'_>, path: &str, data: &[u8]) -> Option<Result<Vec<u8>, AppError>> {
    Some(match path {
        MFA_REQUIRED => mfa_required(ctx, data),
        MFA_POLICY => mfa_policy(ctx, data),
        FACTOR_ENROLLMENTS => factor_enrollments(ctx, data),
        FACTOR_ENROLLMENT => factor_enrollment(ctx, data),
        CHALLENGE => challenge(ctx, data),
        PENDING_CHALLENGES => pending_challenges(ctx, data),
        AUTHORIZATION_SESSION => authorization_session(ctx, data),
        AUTHORIZATION_SESSIONS => authorization_sessions(ctx, data),
        TRUSTED_DEVICES => trusted_devices(ctx, data),
        SENSITIVE_TX_CONFIG => sensitive_tx_config(ctx, data),
        ALL_SENSITIVE_TX_CONFIGS => all_sensitive_tx_configs(ctx),
        PARAMS => params(ctx),
        _ => return None,
    })
}

/// Whether the account needs a session for the action (VEID score not checked here).
pub fn mfa_required(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryMfaRequiredRequest = decode(data)?;
    let a = parse_addr(&req.address)?;
    let action = action_of(req.transaction_type).ok_or_else(|| {
        MfaError::InvalidRequest(format!("unknown transaction_type {}", req.transaction_type))
    })?;
    let value = parse_uve(&req.value_uve).map_err(|e| MfaError::InvalidRequest(e.to_string()))?;
    let mut store = ctx.store();
    let params = state::params(&mut store)?;
    Ok(match requirement(&mut store, &a, action, value)? {
        None => QueryMfaRequiredResponse::default(),
        Some(r) => QueryMfaRequiredResponse {
            required: !r.combinations.is_empty() || r.config.min_veid_score > 0,
            session_duration: match r.config.session_duration {
                0 => params.default_session_duration,
                d => d,
            },
            factor_combinations: r.combinations,
            min_veid_score: r.config.min_veid_score,
            value_threshold_uve: r.config.value_threshold_uve,
            single_use: r.config.single_use,
        },
    }
    .encode_to_vec())
}

pub fn mfa_policy(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryMfaPolicyRequest = decode(data)?;
    let a = parse_addr(&req.address)?;
    let policy = state::policy(&mut ctx.store(), &a)?;
    Ok(QueryMfaPolicyResponse {
        found: policy.is_some(),
        policy,
    }
    .encode_to_vec())
}

pub fn factor_enrollments(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryFactorEnrollmentsRequest = decode(data)?;
    let a = parse_addr(&req.address)?;
    let enrollments = state::factors(&mut ctx.store(), &a, MAX_LIST)?;
    Ok(QueryFactorEnrollmentsResponse { enrollments }.encode_to_vec())
}

pub fn factor_enrollment(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryFactorEnrollmentRequest = decode(data)?;
    let a = parse_addr(&req.address)?;
    check_id(&req.factor_id)?;
    let e = state::factor(&mut ctx.store(), &a, &req.factor_id)?
        .ok_or_else(|| MfaError::FactorNotFound("any", req.factor_id.clone()))?;
    Ok(QueryFactorEnrollmentResponse {
        enrollment: Some(e),
    }
    .encode_to_vec())
}

pub fn challenge(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryChallengeRequest = decode(data)?;
    check_id(&req.challenge_id)?;
    let c = state::challenge(&mut ctx.store(), &req.challenge_id)?
        .ok_or_else(|| MfaError::ChallengeNotFound(req.challenge_id.clone()))?;
    Ok(QueryChallengeResponse { challenge: Some(c) }.encode_to_vec())
}

pub fn pending_challenges(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryPendingChallengesRequest = decode(data)?;
    let a = parse_addr(&req.address)?;
    let mut store = ctx.store();
    let mut challenges = Vec::new();
    for id in state::open_challenge_ids(&mut store, &a, MAX_LIST)? {
        if let Some(c) = state::challenge(&mut store, &id)? {
            if c.status == ChallengeStatus::Pending as i32 {
                challenges.push(c);
            }
        }
    }
    Ok(QueryPendingChallengesResponse { challenges }.encode_to_vec())
}

pub fn authorization_session(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryAuthorizationSessionRequest = decode(data)?;
    check_id(&req.session_id)?;
    let mut store = ctx.store();
    let now = state::last_block_time(&mut store)?;
    let session = state::session(&mut store, &req.session_id)?;
    Ok(QueryAuthorizationSessionResponse {
        found: session.is_some(),
        is_valid: session.as_ref().is_some_and(|s| session_valid(s, now)),
        session,
    }
    .encode_to_vec())
}

pub fn authorization_sessions(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryAuthorizationSessionsRequest = decode(data)?;
    let a = parse_addr(&req.address)?;
    let prefix = state_key::account_sessions(&a);
    let (entries, pagination) = paginate(ctx, &prefix, req.pagination.as_ref())?;
    let mut store = ctx.store();
    let now = state::last_block_time(&mut store)?;
    let mut sessions = Vec::with_capacity(entries.len());
    for (k, _) in entries {
        let Some(id) = k
            .get(prefix.len()..)
            .and_then(|b| std::str::from_utf8(b).ok())
        else {
            continue;
        };
        if let Some(s) = state::session(&mut store, id)? {
            if req.include_expired || session_valid(&s, now) {
                sessions.push(s);
            }
        }
    }
    Ok(QueryAuthorizationSessionsResponse {
        sessions,
        pagination: Some(pagination),
    }
    .encode_to_vec())
}

pub fn trusted_devices(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QueryTrustedDevicesRequest = decode(data)?;
    let a = parse_addr(&req.address)?;
    let devices = state::devices(&mut ctx.store(), &a, MAX_LIST)?;
    Ok(QueryTrustedDevicesResponse { devices }.encode_to_vec())
}

pub fn sensitive_tx_config(ctx: &QueryContext<'_>, data: &[u8]) -> Result<Vec<u8>, AppError> {
    let req: QuerySensitiveTxConfigRequest = decode(data)?;
    let t = u32::try_from(req.transaction_type)
        .map_err(|_| MfaError::InvalidRequest("negative transaction_type".into()))?;
    let config = state::config(&mut ctx.store(), t)?;
    Ok(QuerySensitiveTxConfigResponse {
        found: config.is_some(),
        config,
    }
    .encode_to_vec())
}

pub fn all_sensitive_tx_configs(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    let configs = state::configs(&mut ctx.store())?;
    Ok(QueryAllSensitiveTxConfigsResponse { configs }.encode_to_vec())
}

pub fn params(ctx: &QueryContext<'_>) -> Result<Vec<u8>, AppError> {
    Ok(QueryParamsResponse {
        params: Some(state::params(&mut ctx.store())?.to_proto()),
    }
    .encode_to_vec())
}
