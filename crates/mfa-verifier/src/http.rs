//! HTTP JSON API of the verifier service.
//!
//! ```text
//! GET  /healthz                                  "ok"
//! GET  /v1/info                                  key id, public keys, chain id, factor types
//! POST /v1/totp/verify   {challenge_id, code}    -> Verdict (signed attestation)
//! POST /v1/email/send    {challenge_id}          -> {challenge_id, sent_to, expires_at}
//! POST /v1/email/verify  {challenge_id, code}    -> Verdict
//! ```
//!
//! Errors: a non-2xx status with `{"error": "<what to do>"}`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::chain::ChainSource;
use crate::error::VerifierError;
use crate::service::Verifier;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeRequest {
    pub challenge_id: String,
    pub code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendRequest {
    pub challenge_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InfoResponse {
    /// The verifier's keys (what the chain registers).
    pub key: crate::keys::PublicKeyInfo,
    pub chain_id: String,
    pub email_enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

impl IntoResponse for VerifierError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::warn!(error = %self, "request failed");
        }
        (
            status,
            Json(ErrorBody {
                error: self.to_string(),
            }),
        )
            .into_response()
    }
}

pub fn router<C: ChainSource>(v: Arc<Verifier<C>>, email_enabled: bool) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/v1/info",
            get(move |State(v): State<Arc<Verifier<C>>>| async move {
                Json(InfoResponse {
                    key: v.info(),
                    chain_id: v.chain_id().to_string(),
                    email_enabled,
                })
            }),
        )
        .route(
            "/v1/totp/verify",
            post(
                |State(v): State<Arc<Verifier<C>>>, Json(r): Json<CodeRequest>| async move {
                    v.verify_totp(&r.challenge_id, &r.code).await.map(Json)
                },
            ),
        )
        .route(
            "/v1/email/send",
            post(
                |State(v): State<Arc<Verifier<C>>>, Json(r): Json<SendRequest>| async move {
                    v.send_email(&r.challenge_id).await.map(Json)
                },
            ),
        )
        .route(
            "/v1/email/verify",
            post(
                |State(v): State<Arc<Verifier<C>>>, Json(r): Json<CodeRequest>| async move {
                    v.verify_email(&r.challenge_id, &r.code).await.map(Json)
                },
            ),
        )
        .with_state(v)
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), VerifierError> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| VerifierError::Internal(format!("HTTP server: {e}")))
}
