//! Typed enclave events: one constructor per event so names and attributes cannot drift.

use crate::keeper::platform_name;
use crate::proto::{EnclaveIdentity, MeasurementRecord};
use ve_module::Event;

pub const IDENTITY_REGISTERED: &str = "virtengine.enclave.v1.EventEnclaveIdentityRegistered";
pub const REATTESTED: &str = "virtengine.enclave.v1.EventEnclaveReattested";
pub const KEYS_ROTATED: &str = "virtengine.enclave.v1.EventEnclaveKeysRotated";
pub const MEASUREMENT_ADDED: &str = "virtengine.enclave.v1.EventMeasurementAdded";
pub const MEASUREMENT_REVOKED: &str = "virtengine.enclave.v1.EventMeasurementRevoked";
pub const PARAMS_UPDATED: &str = "virtengine.enclave.v1.EventParamsUpdated";

fn identity_event(kind: &str, id: &EnclaveIdentity) -> Event {
    Event::new(kind)
        .attr("validator", &id.validator)
        .attr("platform", platform_name(id.platform))
        .attr("measurement", hex::encode(&id.measurement))
        .attr("key_fingerprint", &id.key_fingerprint)
        .attr("key_epoch", id.key_epoch)
        .attr("expiry_height", id.expiry_height)
}

pub fn identity_registered(id: &EnclaveIdentity) -> Event {
    identity_event(IDENTITY_REGISTERED, id)
}

pub fn reattested(id: &EnclaveIdentity) -> Event {
    identity_event(REATTESTED, id)
}

pub fn keys_rotated(id: &EnclaveIdentity) -> Event {
    identity_event(KEYS_ROTATED, id).attr("previous_keys_valid_until", id.previous_keys_valid_until)
}

pub fn measurement_added(r: &MeasurementRecord) -> Event {
    Event::new(MEASUREMENT_ADDED)
        .attr("platform", platform_name(r.platform))
        .attr("measurement", hex::encode(&r.measurement))
        .attr("added_by", &r.added_by)
}

pub fn measurement_revoked(r: &MeasurementRecord) -> Event {
    Event::new(MEASUREMENT_REVOKED)
        .attr("platform", platform_name(r.platform))
        .attr("measurement", hex::encode(&r.measurement))
        .attr("revoked_by", &r.revoked_by)
        .attr("reason", &r.revoke_reason)
}

pub fn params_updated(actor: &str) -> Event {
    Event::new(PARAMS_UPDATED).attr("actor", actor)
}
