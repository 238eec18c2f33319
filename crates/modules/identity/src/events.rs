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
pub const VERIFICATION_TIMED_OUT: &str = "virtengine.identity.v1.EventVerificationTimedOut";
pub const SCORE_EXPIRED: &str = "virtengine.identity.v1.EventScoreExpired";
pub const WALLET_CREATED: &str = "virtengine.identity.v1.EventWalletCreated";
pub const WALLET_REBOUND: &str = "virtengine.identity.v1.EventWalletRebound";
pub const SCOPE_REFERENCE_CHANGED: &str = "virtengine.identity.v1.EventScopeReferenceChanged";
pub const CONSENT_SETTINGS_UPDATED: &str = "virtengine.identity.v1.EventConsentSettingsUpdated";
pub const CONSENT_GRANTED: &str = "virtengine.identity.v1.EventConsentGranted";
pub const CONSENT_REVOKED: &str = "virtengine.identity.v1.EventConsentRevoked";
pub const FALLBACK_TRIGGERED: &str = "virtengine.identity.v1.EventBorderlineFallbackTriggered";
pub const FALLBACK_COMPLETED: &str = "virtengine.identity.v1.EventBorderlineFallbackCompleted";
pub const FALLBACK_EXPIRED: &str = "virtengine.identity.v1.EventBorderlineFallbackExpired";
pub const FALLBACK_SUPERSEDED: &str = "virtengine.identity.v1.EventBorderlineFallbackSuperseded";
pub const APPEAL_SUBMITTED: &str = "virtengine.identity.v1.EventAppealSubmitted";
pub const APPEAL_REVIEWED: &str = "virtengine.identity.v1.EventAppealReviewed";
pub const SCORE_ADJUSTED: &str = "virtengine.identity.v1.EventScoreAdjusted";

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

pub fn verification_timed_out(r: &VerificationRequest) -> Event {
    Event::new(VERIFICATION_TIMED_OUT)
        .attr("account", &r.account)
        .attr("request_id", &r.request_id)
        .attr("requested_block", r.requested_block)
        .attr("block_height", r.finished_block)
}

pub fn score_expired(account: &str, score: u32, expires_at: i64) -> Event {
    Event::new(SCORE_EXPIRED)
        .attr("account", account)
        .attr("score", score)
        .attr("expires_at", expires_at)
}

pub fn wallet_created(w: &IdentityWallet) -> Event {
    Event::new(WALLET_CREATED)
        .attr("account", &w.account)
        .attr("wallet_id", &w.wallet_id)
        .attr("binding_pub_key", hex::encode(&w.binding_pub_key))
        .attr("created_at", w.created_at)
}

pub fn wallet_rebound(w: &IdentityWallet, old_key: &[u8]) -> Event {
    Event::new(WALLET_REBOUND)
        .attr("account", &w.account)
        .attr("wallet_id", &w.wallet_id)
        .attr("old_binding_pub_key", hex::encode(old_key))
        .attr("new_binding_pub_key", hex::encode(&w.binding_pub_key))
        .attr("binding_version", w.binding_version)
}

pub fn scope_reference_changed(account: &str, r: &ScopeReference) -> Event {
    Event::new(SCOPE_REFERENCE_CHANGED)
        .attr("account", account)
        .attr("scope_id", &r.scope_id)
        .attr(
            "status",
            ScopeRefStatus::try_from(r.status).map_or("INVALID", |s| s.as_str_name()),
        )
}

pub fn consent_settings_updated(account: &str, c: &ConsentSettings) -> Event {
    Event::new(CONSENT_SETTINGS_UPDATED)
        .attr("account", account)
        .attr("share_with_providers", c.share_with_providers)
        .attr("share_for_verification", c.share_for_verification)
        .attr("allow_re_verification", c.allow_re_verification)
        .attr(
            "allow_derived_feature_sharing",
            c.allow_derived_feature_sharing,
        )
        .attr("consent_version", c.consent_version)
}

pub fn consent_granted(account: &str, c: &ScopeConsent, version: u64) -> Event {
    Event::new(CONSENT_GRANTED)
        .attr("account", account)
        .attr("scope_id", &c.scope_id)
        .attr("purpose", &c.purpose)
        .attr("expires_at", c.expires_at)
        .attr("consent_version", version)
}

pub fn consent_revoked(account: &str, scope_id: &str, reason: &str, version: u64) -> Event {
    Event::new(CONSENT_REVOKED)
        .attr("account", account)
        .attr("scope_id", scope_id)
        .attr("reason", reason)
        .attr("consent_version", version)
}

fn fallback_event(kind: &str, f: &BorderlineFallback) -> Event {
    Event::new(kind)
        .attr("account", &f.account)
        .attr("fallback_id", &f.fallback_id)
        .attr("request_id", &f.request_id)
        .attr("borderline_score", f.borderline_score)
        .attr("deadline_height", f.deadline_height)
}

pub fn fallback_triggered(f: &BorderlineFallback) -> Event {
    fallback_event(FALLBACK_TRIGGERED, f)
}

pub fn fallback_completed(f: &BorderlineFallback) -> Event {
    fallback_event(FALLBACK_COMPLETED, f).attr("final_status", "VERIFIED")
}

pub fn fallback_expired(f: &BorderlineFallback) -> Event {
    fallback_event(FALLBACK_EXPIRED, f).attr("final_status", "REJECTED")
}

pub fn fallback_superseded(f: &BorderlineFallback) -> Event {
    fallback_event(FALLBACK_SUPERSEDED, f)
}

pub fn appeal_submitted(a: &Appeal) -> Event {
    Event::new(APPEAL_SUBMITTED)
        .attr("account", &a.account)
        .attr("appeal_id", &a.appeal_id)
        .attr("original_score", a.original_score)
        .attr("block_height", a.submitted_height)
}

pub fn appeal_reviewed(a: &Appeal) -> Event {
    Event::new(APPEAL_REVIEWED)
        .attr("account", &a.account)
        .attr("appeal_id", &a.appeal_id)
        .attr("reviewer", &a.reviewer)
        .attr(
            "status",
            AppealStatus::try_from(a.status).map_or("INVALID", |s| s.as_str_name()),
        )
        .attr("score_adjustment", a.score_adjustment)
        .attr("resulting_score", a.resulting_score)
}

pub fn score_adjusted(account: &str, previous: u32, new: u32, appeal_id: &str) -> Event {
    Event::new(SCORE_ADJUSTED)
        .attr("account", account)
        .attr("previous_score", previous)
        .attr("new_score", new)
        .attr("appeal_id", appeal_id)
}
