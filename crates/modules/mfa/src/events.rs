//! Typed mfa events: one constructor per event so names and attributes cannot drift.

use crate::proto::*;
use crate::types::{action_name, factor_name_i32};
use ve_module::gate::SensitiveAction;
use ve_module::Event;

pub const FACTOR_ENROLLED: &str = "virtengine.mfa.v1.EventFactorEnrolled";
pub const FACTOR_REVOKED: &str = "virtengine.mfa.v1.EventFactorRevoked";
pub const FACTOR_VERIFIED: &str = "virtengine.mfa.v1.EventFactorVerified";
pub const POLICY_UPDATED: &str = "virtengine.mfa.v1.EventMfaPolicyUpdated";
pub const CHALLENGE_CREATED: &str = "virtengine.mfa.v1.EventChallengeCreated";
pub const CHALLENGE_VERIFIED: &str = "virtengine.mfa.v1.EventChallengeVerified";
pub const CHALLENGE_FAILED: &str = "virtengine.mfa.v1.EventChallengeFailed";
pub const CHALLENGE_EXPIRED: &str = "virtengine.mfa.v1.EventChallengeExpired";
pub const SESSION_CREATED: &str = "virtengine.mfa.v1.EventSessionCreated";
pub const SESSION_FACTOR_ADDED: &str = "virtengine.mfa.v1.EventSessionFactorAdded";
pub const SESSION_USED: &str = "virtengine.mfa.v1.EventSessionUsed";
pub const SESSION_REVOKED: &str = "virtengine.mfa.v1.EventSessionRevoked";
pub const SESSION_EXPIRED: &str = "virtengine.mfa.v1.EventSessionExpired";
pub const DEVICE_ADDED: &str = "virtengine.mfa.v1.EventTrustedDeviceAdded";
pub const DEVICE_REMOVED: &str = "virtengine.mfa.v1.EventTrustedDeviceRemoved";
pub const MFA_BYPASSED: &str = "virtengine.mfa.v1.EventMfaBypassed";
pub const CONFIG_UPDATED: &str = "virtengine.mfa.v1.EventSensitiveTxConfigUpdated";
pub const PARAMS_UPDATED: &str = "virtengine.mfa.v1.EventParamsUpdated";

fn tx_type_name(t: i32) -> &'static str {
    SensitiveTxType::try_from(t).map_or("SENSITIVE_TX_TYPE_UNSPECIFIED", |t| t.as_str_name())
}

pub fn factor_enrolled(f: &FactorEnrollment) -> Event {
    Event::new(FACTOR_ENROLLED)
        .attr("account", &f.account)
        .attr("factor_type", factor_name_i32(f.factor_type))
        .attr("factor_id", &f.factor_id)
}

pub fn factor_revoked(f: &FactorEnrollment) -> Event {
    Event::new(FACTOR_REVOKED)
        .attr("account", &f.account)
        .attr("factor_type", factor_name_i32(f.factor_type))
        .attr("factor_id", &f.factor_id)
}

pub fn factor_verified(c: &Challenge) -> Event {
    Event::new(FACTOR_VERIFIED)
        .attr("account", &c.account)
        .attr("factor_type", factor_name_i32(c.factor_type))
        .attr("factor_id", &c.factor_id)
}

pub fn policy_updated(account: &str, enabled: bool) -> Event {
    Event::new(POLICY_UPDATED)
        .attr("account", account)
        .attr("enabled", enabled)
}

pub fn challenge_created(c: &Challenge) -> Event {
    Event::new(CHALLENGE_CREATED)
        .attr("account", &c.account)
        .attr("challenge_id", &c.challenge_id)
        .attr("factor_type", factor_name_i32(c.factor_type))
        .attr("transaction_type", tx_type_name(c.transaction_type))
        .attr("expires_at", c.expires_at)
}

pub fn challenge_verified(c: &Challenge, session_id: &str) -> Event {
    Event::new(CHALLENGE_VERIFIED)
        .attr("account", &c.account)
        .attr("challenge_id", &c.challenge_id)
        .attr("factor_type", factor_name_i32(c.factor_type))
        .attr("session_id", session_id)
}

pub fn challenge_failed(c: &Challenge, reason: &str, locked: bool) -> Event {
    Event::new(CHALLENGE_FAILED)
        .attr("account", &c.account)
        .attr("challenge_id", &c.challenge_id)
        .attr("factor_type", factor_name_i32(c.factor_type))
        .attr("attempt_count", c.attempt_count)
        .attr("max_attempts", c.max_attempts)
        .attr("locked", locked)
        .attr("reason", reason)
}

pub fn challenge_expired(c: &Challenge) -> Event {
    Event::new(CHALLENGE_EXPIRED)
        .attr("account", &c.account)
        .attr("challenge_id", &c.challenge_id)
}

pub fn session_created(s: &AuthorizationSession) -> Event {
    Event::new(SESSION_CREATED)
        .attr("account", &s.account)
        .attr("session_id", &s.session_id)
        .attr("transaction_type", tx_type_name(s.transaction_type))
        .attr("expires_at", s.expires_at)
        .attr("single_use", s.single_use)
}

pub fn session_factor_added(s: &AuthorizationSession, factor_type: i32) -> Event {
    Event::new(SESSION_FACTOR_ADDED)
        .attr("account", &s.account)
        .attr("session_id", &s.session_id)
        .attr("factor_type", factor_name_i32(factor_type))
        .attr("factor_count", s.verified_factors.len())
}

pub fn session_used(s: &AuthorizationSession, action: SensitiveAction) -> Event {
    Event::new(SESSION_USED)
        .attr("account", &s.account)
        .attr("session_id", &s.session_id)
        .attr("action", action_name(action))
        .attr("consumed", s.single_use)
}

pub fn session_revoked(s: &AuthorizationSession) -> Event {
    Event::new(SESSION_REVOKED)
        .attr("account", &s.account)
        .attr("session_id", &s.session_id)
}

pub fn session_expired(s: &AuthorizationSession) -> Event {
    Event::new(SESSION_EXPIRED)
        .attr("account", &s.account)
        .attr("session_id", &s.session_id)
}

pub fn device_added(d: &TrustedDevice) -> Event {
    Event::new(DEVICE_ADDED)
        .attr("account", &d.account)
        .attr("device_fingerprint", &d.device_fingerprint)
        .attr("trust_expires_at", d.trust_expires_at)
}

pub fn device_removed(account: &str, fingerprint: &str) -> Event {
    Event::new(DEVICE_REMOVED)
        .attr("account", account)
        .attr("device_fingerprint", fingerprint)
}

pub fn mfa_bypassed(account: &str, action: SensitiveAction, fingerprint: &str) -> Event {
    Event::new(MFA_BYPASSED)
        .attr("account", account)
        .attr("action", action_name(action))
        .attr("device_fingerprint", fingerprint)
}

pub fn config_updated(c: &SensitiveTxConfig, by: &str) -> Event {
    Event::new(CONFIG_UPDATED)
        .attr("transaction_type", tx_type_name(c.transaction_type))
        .attr("enabled", c.enabled)
        .attr("authority", by)
}

pub fn params_updated(by: &str) -> Event {
    Event::new(PARAMS_UPDATED).attr("authority", by)
}
