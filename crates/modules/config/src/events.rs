//! Typed config events: one constructor per event so names and attributes cannot drift.

use crate::proto::ApprovedClient;
use ve_module::Event;

pub const CLIENT_REGISTERED: &str = "virtengine.config.v1.EventClientRegistered";
pub const CLIENT_UPDATED: &str = "virtengine.config.v1.EventClientUpdated";
pub const CLIENT_KEY_ROTATED: &str = "virtengine.config.v1.EventClientKeyRotated";
pub const CLIENT_SUSPENDED: &str = "virtengine.config.v1.EventClientSuspended";
pub const CLIENT_REACTIVATED: &str = "virtengine.config.v1.EventClientReactivated";
pub const CLIENT_REVOKED: &str = "virtengine.config.v1.EventClientRevoked";
pub const PARAMS_UPDATED: &str = "virtengine.config.v1.EventParamsUpdated";

fn base(kind: &str, c: &ApprovedClient, actor: &str) -> Event {
    Event::new(kind)
        .attr("client_id", &c.client_id)
        .attr("actor", actor)
}

pub fn client_registered(c: &ApprovedClient, actor: &str) -> Event {
    base(CLIENT_REGISTERED, c, actor)
        .attr("name", &c.name)
        .attr("key_type", crate::keeper::key_type_name(c.key_type))
        .attr("public_key", hex::encode(&c.public_key))
        .attr("min_version", &c.min_version)
        .attr("max_version", &c.max_version)
}

pub fn client_updated(c: &ApprovedClient, actor: &str) -> Event {
    base(CLIENT_UPDATED, c, actor)
        .attr("min_version", &c.min_version)
        .attr("max_version", &c.max_version)
        .attr("allowed_scopes", c.allowed_scopes.join(","))
}

pub fn client_key_rotated(c: &ApprovedClient, actor: &str) -> Event {
    base(CLIENT_KEY_ROTATED, c, actor)
        .attr("key_version", c.key_version)
        .attr("public_key", hex::encode(&c.public_key))
        .attr("previous_key_valid_until", c.previous_key_valid_until)
}

pub fn client_status(kind: &str, c: &ApprovedClient, actor: &str) -> Event {
    base(kind, c, actor).attr("reason", &c.status_reason)
}

pub fn params_updated(actor: &str) -> Event {
    Event::new(PARAMS_UPDATED).attr("actor", actor)
}
