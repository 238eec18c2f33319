//! Typed deployment events. A provider daemon watches `deployment_updated` (new manifest
//! hash) and the group events.

use crate::types::{DeploymentId, GroupId};
use ve_module::Event;

pub const DEPLOYMENT_CREATED: &str = "deployment_created";
pub const DEPLOYMENT_UPDATED: &str = "deployment_updated";
pub const DEPLOYMENT_CLOSED: &str = "deployment_closed";
pub const GROUP_CLOSED: &str = "group_closed";
pub const GROUP_PAUSED: &str = "group_paused";
pub const GROUP_STARTED: &str = "group_started";
pub const GROUP_INSUFFICIENT_FUNDS: &str = "group_insufficient_funds";

fn dep(kind: &str, id: &DeploymentId) -> Event {
    Event::new(kind)
        .attr("owner", id.owner)
        .attr("dseq", id.dseq)
}

pub fn created(id: &DeploymentId, hash: &[u8], deposit: &str) -> Event {
    dep(DEPLOYMENT_CREATED, id)
        .attr("hash", hex::encode(hash))
        .attr("deposit", deposit)
}

pub fn updated(id: &DeploymentId, hash: &[u8]) -> Event {
    dep(DEPLOYMENT_UPDATED, id).attr("hash", hex::encode(hash))
}

/// `reason`: `owner` or `insufficient_funds`.
pub fn closed(id: &DeploymentId, reason: &str) -> Event {
    dep(DEPLOYMENT_CLOSED, id).attr("reason", reason)
}

pub fn group(kind: &str, id: &GroupId) -> Event {
    Event::new(kind)
        .attr("owner", id.owner)
        .attr("dseq", id.dseq)
        .attr("gseq", id.gseq)
}
