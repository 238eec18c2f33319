//! Typed encryption events: one constructor per event so names and attributes cannot drift.

use crate::proto::RecipientKeyRecord;
use ve_module::Event;

pub const KEY_REGISTERED: &str = "virtengine.encryption.v1.EventKeyRegistered";
pub const KEY_REVOKED: &str = "virtengine.encryption.v1.EventKeyRevoked";
pub const KEY_ROTATED: &str = "virtengine.encryption.v1.EventKeyRotated";
pub const KEY_EXPIRED: &str = "virtengine.encryption.v1.EventKeyExpired";

pub fn key_registered(r: &RecipientKeyRecord) -> Event {
    Event::new(KEY_REGISTERED)
        .attr("address", &r.address)
        .attr("fingerprint", &r.fingerprint)
        .attr("algorithm", &r.algorithm_id)
        .attr("key_version", r.key_version)
        .attr("label", &r.label)
        .attr("registered_at", r.registered_at)
        .attr("expires_at", r.expires_at)
}

pub fn key_revoked(r: &RecipientKeyRecord) -> Event {
    Event::new(KEY_REVOKED)
        .attr("address", &r.address)
        .attr("fingerprint", &r.fingerprint)
        .attr("revoked_at", r.revoked_at)
}

pub fn key_rotated(old: &RecipientKeyRecord, new: &RecipientKeyRecord) -> Event {
    Event::new(KEY_ROTATED)
        .attr("address", &old.address)
        .attr("old_fingerprint", &old.fingerprint)
        .attr("new_fingerprint", &new.fingerprint)
        .attr("old_key_expires_at", old.expires_at)
}

pub fn key_expired(r: &RecipientKeyRecord, height: u64) -> Event {
    Event::new(KEY_EXPIRED)
        .attr("address", &r.address)
        .attr("fingerprint", &r.fingerprint)
        .attr("expires_at", r.expires_at)
        .attr("height", height)
}
