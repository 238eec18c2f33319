//! Typed identity events: one constructor per event so names and attributes cannot drift.

use crate::proto::*;
use crate::types::{scope_type_name, status_name};
use ve_module::Event;

pub const SCOPE_UPLOADED: &str = "virtengine.identity.v1.EventScopeUploaded";
pub const SCOPE_REVOKED: &str = "virtengine.identity.v1.EventScopeRevoked";
pub const SCOPE_STATUS_CHANGED: &str = "virtengine.identity.v1.EventScopeStatusChanged";
pub const IDENTITY_CREATED: &str = "virtengine.identity.v1.EventIdentityCreated";
pub const VERIFICATION_REQUESTED: &str = "virtengine.identity.v1.EventVerificationRequested";
pub const VERIFICATION_COMPLETED: &str = "virtengine.identity.v1.EventVerificationCompleted";
pub const VERIFICATION_FAILED: &str = "virtengine.identity.v1.EventVerificationFailed";
pub const SCORE_UPDATED: &str = "virtengine.identity.v1.EventScoreUpdated";
pub const TIER_CHANGED: &str = "virtengine.identity.v1.EventTierChanged";
pub const PARAMS_UPDATED: &str = "virtengine.identity.v1.EventParamsUpdated";

fn type_name(t: i32) -> &'static str {
    crate::types::scope_type(t).map_or("unspecified", scope_type_name)
}

pub fn scope_uploaded(s: &IdentityScope) -> Event {
    let m = s.metadata.clone().unwrap_or_default();
    Event::new(SCOPE_UPLOADED)
        .attr("account", &s.owner)
        .attr("scope_id", &s.scope_id)
        .attr("scope_type", type_name(s.scope_type))
        .attr("version", s.version)
        .attr("client_id", &m.client_id)
        .attr("client_key_version", m.client_key_version)
        .attr("payload_hash", hex::encode(&m.payload_hash))
        .attr("device_fingerprint", &m.device_fingerprint)
        .attr("uploaded_at", s.uploaded_at)
}

pub fn scope_revoked(s: &IdentityScope) -> Event {
    Event::new(SCOPE_REVOKED)
        .attr("account", &s.owner)
        .attr("scope_id", &s.scope_id)
        .attr("reason", &s.revoked_reason)
        .attr("revoked_at", s.revoked_at)
}

pub fn scope_status_changed(s: &IdentityScope, from: i32, reason: &str) -> Event {
    Event::new(SCOPE_STATUS_CHANGED)
        .attr("account", &s.owner)
        .attr("scope_id", &s.scope_id)
        .attr("from", status_name(from))
        .attr("to", status_name(s.status))
        .attr("reason", reason)
}

pub fn identity_created(account: &str, at: i64) -> Event {
    Event::new(IDENTITY_CREATED)
        .attr("account", account)
        .attr("created_at", at)
}

pub fn verification_requested(r: &VerificationRequest) -> Event {
    Event::new(VERIFICATION_REQUESTED)
        .attr("account", &r.account)
        .attr("request_id", &r.request_id)
        .attr("scope_ids", r.scope_ids.join(","))
        .attr("block_height", r.requested_block)
}

pub fn verification_completed(r: &VerificationRequest, score: u32, status: AccountStatus) -> Event {
    Event::new(VERIFICATION_COMPLETED)
        .attr("account", &r.account)
        .attr("request_id", &r.request_id)
        .attr("score", score)
        .attr("status", status.as_str_name())
        .attr("block_height", r.finished_block)
}

pub fn verification_failed(r: &VerificationRequest) -> Event {
    Event::new(VERIFICATION_FAILED)
        .attr("account", &r.account)
        .attr("request_id", &r.request_id)
        .attr("reason", &r.reason)
        .attr("block_height", r.finished_block)
}

pub fn score_updated(r: &ScoreRecord, previous: Option<u32>) -> Event {
    Event::new(SCORE_UPDATED)
        .attr("account", &r.account)
        .attr(
            "previous_score",
            previous.map_or_else(String::new, |p| p.to_string()),
        )
        .attr("new_score", r.score)
        .attr(
            "status",
            AccountStatus::try_from(r.status).map_or("INVALID", |s| s.as_str_name()),
        )
        .attr("model_version", &r.model_version)
        .attr("expires_at", r.expires_at)
}

pub fn tier_changed(
    account: &str,
    old: IdentityTier,
    new: IdentityTier,
    score: u32,
    height: u64,
) -> Event {
    Event::new(TIER_CHANGED)
        .attr("account", account)
        .attr("old_tier", old as i32)
        .attr("new_tier", new as i32)
        .attr("score", score)
        .attr("block_height", height)
}

pub fn params_updated(actor: &str) -> Event {
    Event::new(PARAMS_UPDATED).attr("actor", actor)
}
