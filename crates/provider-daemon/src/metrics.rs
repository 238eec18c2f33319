//! Prometheus counters (names are stable: dashboards use them).

pub const ORDERS_SEEN: &str = "provider_orders_seen_total";
pub const BIDS_PLACED: &str = "provider_bids_placed_total";
/// Label `reason`: [`crate::decision::Skip::label`].
pub const BIDS_SKIPPED: &str = "provider_bids_skipped_total";
/// Label `event`: `reserved` or `released`.
pub const RESERVATIONS: &str = "provider_reservations_total";
pub const BIDS_WITHDRAWN: &str = "provider_bids_withdrawn_total";
pub const CHECKPOINT: &str = "provider_checkpoint_height";
pub const RPC_ERRORS: &str = "provider_rpc_errors_total";
/// Label `event`: `provisioned`, `suspended`, `resumed`, `torn_down`, `orphan_torn_down`,
/// `failed`, `usage_recorded`, `usage_final`, `usage_refused`, `step_error`.
pub const LEASE_EVENTS: &str = "provider_lease_events_total";

pub fn describe() {
    metrics::describe_counter!(ORDERS_SEEN, "orders seen in committed blocks");
    metrics::describe_counter!(BIDS_PLACED, "bids confirmed on chain by their tx");
    metrics::describe_counter!(BIDS_SKIPPED, "orders not bid on, by reason");
    metrics::describe_counter!(RESERVATIONS, "capacity reservations made and released");
    metrics::describe_counter!(
        BIDS_WITHDRAWN,
        "unaccepted bids withdrawn after the timeout"
    );
    metrics::describe_gauge!(CHECKPOINT, "last fully processed height");
    metrics::describe_counter!(
        RPC_ERRORS,
        "failed chain RPC calls (retried, never acted on)"
    );
    metrics::describe_counter!(LEASE_EVENTS, "lease workload steps, by event");
}

pub fn counter_lease(event: &'static str) {
    metrics::counter!(LEASE_EVENTS, "event" => event).increment(1);
}

pub fn skipped(reason: &'static str) {
    metrics::counter!(BIDS_SKIPPED, "reason" => reason).increment(1);
}

pub fn reservations(event: &'static str, n: u64) {
    if n > 0 {
        metrics::counter!(RESERVATIONS, "event" => event).increment(n);
    }
}

pub fn counter_bid_placed() {
    metrics::counter!(BIDS_PLACED).increment(1);
}

pub fn counter_bid_withdrawn() {
    metrics::counter!(BIDS_WITHDRAWN).increment(1);
}

pub fn counter_rpc_error() {
    metrics::counter!(RPC_ERRORS).increment(1);
}

pub fn counter_orders_seen(n: u64) {
    metrics::counter!(ORDERS_SEEN).increment(n);
}

pub fn gauge_checkpoint(h: u64) {
    // A gauge is f64 by Prometheus' design (this is off-chain, not consensus code);
    // heights stay exact below 2^53.
    #[allow(clippy::cast_precision_loss, clippy::disallowed_types)]
    metrics::gauge!(CHECKPOINT).set(h as f64);
}
