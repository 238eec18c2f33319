//! Typed provider events: one constructor per event so names and attributes cannot drift.

use ve_module::Event;

pub const PROVIDER_CREATED: &str = "provider_created";
pub const PROVIDER_UPDATED: &str = "provider_updated";
pub const PROVIDER_DELETED: &str = "provider_deleted";
pub const VERIFICATION_REQUESTED: &str = "provider_domain_verification_requested";
pub const VERIFICATION_CONFIRMED: &str = "provider_domain_verified";
pub const VERIFICATION_REVOKED: &str = "provider_domain_verification_revoked";
pub const ATTESTOR_ADDED: &str = "provider_attestor_added";
pub const ATTESTOR_REMOVED: &str = "provider_attestor_removed";

pub fn provider_created(owner: &str, host_uri: &str) -> Event {
    Event::new(PROVIDER_CREATED)
        .attr("owner", owner)
        .attr("host_uri", host_uri)
}

pub fn provider_updated(owner: &str, host_uri: &str, host_trusted: bool) -> Event {
    Event::new(PROVIDER_UPDATED)
        .attr("owner", owner)
        .attr("host_uri", host_uri)
        .attr("host_trusted", host_trusted)
}

pub fn provider_deleted(owner: &str) -> Event {
    Event::new(PROVIDER_DELETED).attr("owner", owner)
}

pub fn verification_requested(owner: &str, domain: &str, record: &str, expires_at: i64) -> Event {
    Event::new(VERIFICATION_REQUESTED)
        .attr("owner", owner)
        .attr("domain", domain)
        .attr("record_name", record)
        .attr("expires_at", expires_at)
}

pub fn verification_confirmed(owner: &str, domain: &str, attestor: &str) -> Event {
    Event::new(VERIFICATION_CONFIRMED)
        .attr("owner", owner)
        .attr("domain", domain)
        .attr("attestor", attestor)
}

pub fn verification_revoked(owner: &str, domain: &str, reason: &str) -> Event {
    Event::new(VERIFICATION_REVOKED)
        .attr("owner", owner)
        .attr("domain", domain)
        .attr("reason", reason)
}

pub fn attestor_added(key_hex: &str, by: &str) -> Event {
    Event::new(ATTESTOR_ADDED)
        .attr("attestor", key_hex)
        .attr("added_by", by)
}

pub fn attestor_removed(key_hex: &str, by: &str) -> Event {
    Event::new(ATTESTOR_REMOVED)
        .attr("attestor", key_hex)
        .attr("removed_by", by)
}
