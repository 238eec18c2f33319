//! Typed offering events.

use ve_module::Event;

pub const OFFERING_CREATED: &str = "offering_created";
pub const OFFERING_UPDATED: &str = "offering_updated";
pub const OFFERING_DEACTIVATED: &str = "offering_deactivated";
pub const OFFERING_ORDERED: &str = "offering_ordered";

pub fn created(provider: &str, seq: u64, category: &str) -> Event {
    Event::new(OFFERING_CREATED)
        .attr("provider", provider)
        .attr("seq", seq)
        .attr("category", category)
}

pub fn updated(provider: &str, seq: u64) -> Event {
    Event::new(OFFERING_UPDATED)
        .attr("provider", provider)
        .attr("seq", seq)
}

pub fn deactivated(provider: &str, seq: u64) -> Event {
    Event::new(OFFERING_DEACTIVATED)
        .attr("provider", provider)
        .attr("seq", seq)
}

pub fn ordered(provider: &str, seq: u64, tenant: &str, dseq: u64, units: u32) -> Event {
    Event::new(OFFERING_ORDERED)
        .attr("provider", provider)
        .attr("seq", seq)
        .attr("tenant", tenant)
        .attr("dseq", dseq)
        .attr("units", units)
}
