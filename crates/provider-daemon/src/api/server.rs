//! The daemon's side of the provider API (see the module docs of [`crate::api`]).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use ve_backend::{Backend, BackendError};

use super::auth::{self, AuthError, Signature, HEADER_PUBKEY, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use super::types::{codes, ApiError, LeaseLogs, LeasePhase, LeaseStatus};
use crate::chain::Chain;
use crate::events::OrderKey;
use crate::hpc::wall_clock;
use crate::lease::chain::ChainLease;
use crate::lease::worker::{lease_id, workload_spec};
use crate::lease::LeaseRecord;
use crate::store::Store;

/// What the handlers share.
pub struct ApiState {
    pub chain: Arc<Chain>,
    pub store: Arc<Store>,
    pub backend: Arc<dyn Backend>,
}

type Shared = Arc<ApiState>;

/// An error answer: HTTP status + [`ApiError`] body.
struct Refusal(StatusCode, ApiError);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

fn refuse(status: StatusCode, code: (u32, &str), msg: impl Into<String>) -> Refusal {
    Refusal(status, ApiError::new(code, msg))
}

fn chain_down(e: impl std::fmt::Display) -> Refusal {
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        codes::CHAIN_UNAVAILABLE,
        format!("the provider cannot reach its chain node ({e}); retry shortly"),
    )
}

fn no_lease(s: &ApiState, key: &OrderKey) -> Refusal {
    refuse(
        StatusCode::NOT_FOUND,
        codes::LEASE_NOT_FOUND,
        format!("no lease {key} with provider {}", s.chain.provider),
    )
}

fn internal(e: impl std::fmt::Display) -> Refusal {
    refuse(
        StatusCode::INTERNAL_SERVER_ERROR,
        codes::BACKEND,
        e.to_string(),
    )
}

pub fn router(state: Shared) -> Router {
    let lease = "/v1/leases/{owner}/{dseq}/{gseq}/{oseq}";
    Router::new()
        .route(&format!("{lease}/manifest"), put(put_manifest))
        .route(&format!("{lease}/status"), get(status))
        .route(&format!("{lease}/logs"), get(logs))
        .with_state(state)
}

/// Serves the API on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, state: Shared) -> std::io::Result<()> {
    axum::serve(listener, router(state)).await
}

type LeasePath = Path<(String, u64, u32, u32)>;

fn key_of(Path((owner, dseq, gseq, oseq)): LeasePath) -> OrderKey {
    OrderKey {
        owner,
        dseq,
        gseq,
        oseq,
    }
}

/// Checks the request's signature and that the signer owns the lease.
fn authorize(
    headers: &HeaderMap,
    method: &Method,
    uri: &Uri,
    body: &[u8],
    key: &OrderKey,
) -> Result<(), Refusal> {
    let header = |name: &'static str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or(AuthError::Missing(name))
    };
    let unauth = |e: AuthError| {
        refuse(
            StatusCode::UNAUTHORIZED,
            codes::UNAUTHENTICATED,
            e.to_string(),
        )
    };
    let sig = Signature {
        pubkey_hex: header(HEADER_PUBKEY).map_err(unauth)?,
        timestamp: header(HEADER_TIMESTAMP)
            .map_err(unauth)?
            .parse()
            .map_err(|_| unauth(AuthError::Malformed(HEADER_TIMESTAMP)))?,
        signature_hex: header(HEADER_SIGNATURE).map_err(unauth)?,
    };
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let signer =
        auth::verify(&sig, method.as_str(), path, body, wall_clock().as_secs()).map_err(unauth)?;
    if signer.to_string() != key.owner {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            codes::NOT_OWNER,
            format!("{signer} does not own lease {key}"),
        ));
    }
    Ok(())
}

async fn put_manifest(
    State(s): State<Shared>,
    path: LeasePath,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<LeaseStatus>, Refusal> {
    let key = key_of(path);
    authorize(&headers, &method, &uri, &body, &key)?;
    let manifest: ve_sdl::Manifest = serde_json::from_slice(&body).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            codes::BAD_MANIFEST,
            format!("the body is not a manifest (ve_sdl::Manifest JSON): {e}"),
        )
    })?;
    match s.chain.lease(&key).await.map_err(chain_down)? {
        None => return Err(no_lease(&s, &key)),
        Some(ChainLease::Closed) => {
            return Err(refuse(
                StatusCode::CONFLICT,
                codes::LEASE_NOT_ACTIVE,
                format!("lease {key} is closed"),
            ))
        }
        Some(_) => {}
    }
    let target = s.chain.manifest_target(&key).await.map_err(chain_down)?;
    let hash = manifest.hash();
    if target.hash != hash {
        return Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::HASH_MISMATCH,
            format!(
                "manifest hash {} differs from the deployment's {} on chain: send the manifest the deployment was created from",
                hex::encode(hash),
                hex::encode(&target.hash)
            ),
        ));
    }
    let fresh = LeaseRecord::new(
        String::from_utf8_lossy(&manifest.canonical_json()).into_owned(),
        target.group,
    );
    workload_spec(&fresh)
        .map_err(|why| refuse(StatusCode::UNPROCESSABLE_ENTITY, codes::BAD_MANIFEST, why))?;
    let stored = s.store.put_manifest_once(&key, fresh).map_err(internal)?;
    tracing::info!(lease = %key, phase = ?stored.phase, "manifest accepted (hash matches the deployment)");
    Ok(Json(lease_status(&s, &key, Some(&stored)).await))
}

async fn status(
    State(s): State<Shared>,
    path: LeasePath,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<LeaseStatus>, Refusal> {
    let key = key_of(path);
    authorize(&headers, &method, &uri, &[], &key)?;
    let rec = s.store.lease(&key).map_err(internal)?;
    if rec.is_none() && s.chain.lease(&key).await.map_err(chain_down)?.is_none() {
        return Err(no_lease(&s, &key));
    }
    Ok(Json(lease_status(&s, &key, rec.as_ref()).await))
}

async fn lease_status(s: &ApiState, key: &OrderKey, rec: Option<&LeaseRecord>) -> LeaseStatus {
    let lease = format!("{key}/{}", s.chain.provider);
    let Some(rec) = rec else {
        return LeaseStatus {
            lease,
            phase: LeasePhase::AwaitingManifest,
            services: Vec::new(),
            endpoints: Vec::new(),
            message: Some("send the manifest (virtengine deploy does)".into()),
        };
    };
    let services = match lease_id(key, &s.chain) {
        Ok(id) => {
            let b = Arc::clone(&s.backend);
            tokio::task::spawn_blocking(move || b.status(&id))
                .await
                .ok()
                .and_then(Result::ok)
                .map(|w| w.services)
                .unwrap_or_default()
        }
        Err(_) => Vec::new(),
    };
    LeaseStatus {
        lease,
        phase: rec.phase,
        services,
        endpoints: rec.endpoints.clone(),
        message: rec.message.clone(),
    }
}

#[derive(Deserialize)]
struct LogsQuery {
    service: String,
    #[serde(default = "default_tail")]
    tail: usize,
}

fn default_tail() -> usize {
    100
}

async fn logs(
    State(s): State<Shared>,
    path: LeasePath,
    Query(q): Query<LogsQuery>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<LeaseLogs>, Refusal> {
    let key = key_of(path);
    authorize(&headers, &method, &uri, &[], &key)?;
    let id = lease_id(&key, &s.chain).map_err(internal)?;
    let b = Arc::clone(&s.backend);
    let service = q.service.clone();
    let tail = q.tail.min(10_000);
    let lines = tokio::task::spawn_blocking(move || b.logs(&id, &service, tail))
        .await
        .map_err(internal)?
        .map_err(|e| match e {
            BackendError::NotFound(m) => refuse(StatusCode::NOT_FOUND, codes::LEASE_NOT_FOUND, m),
            other => internal(other),
        })?;
    Ok(Json(LeaseLogs {
        service: q.service,
        lines,
    }))
}
