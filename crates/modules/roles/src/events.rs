//! Typed roles events.

use ve_module::gate::Role;
use ve_module::Event;
use ve_types::Address;

pub const ROLE_ASSIGNED: &str = "virtengine.roles.v1.EventRoleAssigned";
pub const ROLE_REVOKED: &str = "virtengine.roles.v1.EventRoleRevoked";
pub const ACCOUNT_STATE_CHANGED: &str = "virtengine.roles.v1.EventAccountStateChanged";
pub const ADMIN_NOMINATED: &str = "virtengine.roles.v1.EventAdminNominated";
pub const PARAMS_UPDATED: &str = "virtengine.roles.v1.EventParamsUpdated";

pub fn role_assigned(addr: &Address, role: Role, by: &Address) -> Event {
    Event::new(ROLE_ASSIGNED)
        .attr("address", addr)
        .attr("role", role.name())
        .attr("assigned_by", by)
}

pub fn role_revoked(addr: &Address, role: Role, by: &Address) -> Event {
    Event::new(ROLE_REVOKED)
        .attr("address", addr)
        .attr("role", role.name())
        .attr("revoked_by", by)
}

pub fn account_state_changed(
    addr: &Address,
    previous: &str,
    new: &str,
    by: &Address,
    reason: &str,
) -> Event {
    Event::new(ACCOUNT_STATE_CHANGED)
        .attr("address", addr)
        .attr("previous_state", previous)
        .attr("new_state", new)
        .attr("modified_by", by)
        .attr("reason", reason)
}

pub fn admin_nominated(addr: &Address, by: &Address) -> Event {
    Event::new(ADMIN_NOMINATED)
        .attr("address", addr)
        .attr("nominated_by", by)
}

pub fn params_updated(by: &Address) -> Event {
    Event::new(PARAMS_UPDATED).attr("authority", by)
}
