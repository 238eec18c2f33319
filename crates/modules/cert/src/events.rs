//! Typed cert events.

use ve_module::Event;

pub const CERT_CREATED: &str = "cert_created";
pub const CERT_REVOKED: &str = "cert_revoked";

pub fn created(owner: &str, serial: &str, not_after: i64) -> Event {
    Event::new(CERT_CREATED)
        .attr("owner", owner)
        .attr("serial", serial)
        .attr("not_after", not_after)
}

pub fn revoked(owner: &str, serial: &str) -> Event {
    Event::new(CERT_REVOKED)
        .attr("owner", owner)
        .attr("serial", serial)
}
