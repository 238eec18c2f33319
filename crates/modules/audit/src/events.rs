//! Typed audit events.

use ve_module::Event;

pub const ATTRIBUTES_SIGNED: &str = "audit_provider_attributes_signed";
pub const ATTRIBUTES_DELETED: &str = "audit_provider_attributes_deleted";

pub fn signed(owner: &str, auditor: &str, keys: &[String]) -> Event {
    Event::new(ATTRIBUTES_SIGNED)
        .attr("owner", owner)
        .attr("auditor", auditor)
        .attr("keys", keys.join(","))
}

pub fn deleted(owner: &str, auditor: &str, keys: &[String]) -> Event {
    Event::new(ATTRIBUTES_DELETED)
        .attr("owner", owner)
        .attr("auditor", auditor)
        .attr(
            "keys",
            if keys.is_empty() {
                "*".to_string()
            } else {
                keys.join(",")
            },
        )
}
