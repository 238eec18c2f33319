//! The attestor as an HTTP service (`virtengine dns-attestor run`):
//!
//! - `GET /v1/info` → `{"public_key": "<hex>", "chain_id": "...", "nameserver": "ip:port"}`
//! - `POST /v1/attest` with a [`Challenge`] → 200 and an [`Attestation`], 422
//!   `{"error": ...}` if the record does not hold the token (or the challenge is
//!   malformed), 502 if the nameserver could not be asked.
//!
//! The time of the lookup is the service's clock (unix seconds); the chain accepts it
//! within `attestation_max_age_seconds` in the past and 300 s in the future.

use crate::{Attestor, Challenge};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

/// The service's routes over one attestor.
pub fn router(attestor: Arc<Attestor>) -> Router {
    Router::new()
        .route("/v1/info", get(info))
        .route("/v1/attest", post(attest))
        .with_state(attestor)
}

async fn info(State(a): State<Arc<Attestor>>) -> Json<Value> {
    Json(json!({
        "public_key": a.public_key_hex(),
        "chain_id": a.chain_id(),
    }))
}

/// Current unix time: when the lookup happened. The attestor runs off chain, where the
/// wall clock is the right clock.
#[allow(clippy::disallowed_methods)]
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

async fn attest(
    State(a): State<Arc<Attestor>>,
    Json(c): Json<Challenge>,
) -> (StatusCode, Json<Value>) {
    match a.attest(&c, unix_now()).await {
        Ok(att) => (
            StatusCode::OK,
            Json(serde_json::to_value(att).unwrap_or(Value::Null)),
        ),
        Err(e) => {
            let status = if e.is_client_error() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::BAD_GATEWAY
            };
            (status, Json(json!({ "error": e.to_string() })))
        }
    }
}

/// Serves the attestor on `listener` until the task is dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    attestor: Arc<Attestor>,
) -> std::io::Result<()> {
    axum::serve(listener, router(attestor)).await
}
