//! The tenant's side of the provider API (used by `virtengine deploy` and `lease ...`).

use std::time::Duration;

use ve_crypto::PrivateKey;
use ve_sdl::Manifest;

use super::auth::{self, HEADER_PUBKEY, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use super::types::{codes, ApiError, LeaseLogs, LeaseStatus};
use crate::events::OrderKey;

/// Why a provider call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// (`error` is in the message and deliberately not a `source`, so a report shows
    /// it once.)
    #[error("provider at {url} is unreachable: {error}")]
    Unreachable { url: String, error: reqwest::Error },
    #[error(transparent)]
    Refused(#[from] ApiError),
    #[error("provider at {url} answered {status} with a body that is not the API's: {body}")]
    BadAnswer {
        url: String,
        status: u16,
        body: String,
    },
}

/// Signed calls to one provider's API on behalf of a lease owner.
pub struct ProviderClient {
    base: String,
    key: PrivateKey,
    http: reqwest::Client,
}

impl ProviderClient {
    /// `base`: the provider's `host_uri` from chain (e.g. `http://127.0.0.1:8443`).
    pub fn new(base: &str, key: PrivateKey) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|error| ClientError::Unreachable {
                url: base.to_string(),
                error,
            })?;
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            key,
            http,
        })
    }

    /// Sends the manifest for a lease (idempotent: the same manifest again is accepted).
    pub async fn send_manifest(
        &self,
        lease: &OrderKey,
        manifest: &Manifest,
    ) -> Result<LeaseStatus, ClientError> {
        let path = format!("/v1/leases/{lease}/manifest");
        self.call(reqwest::Method::PUT, &path, manifest.canonical_json())
            .await
    }

    pub async fn status(&self, lease: &OrderKey) -> Result<LeaseStatus, ClientError> {
        let path = format!("/v1/leases/{lease}/status");
        self.call(reqwest::Method::GET, &path, Vec::new()).await
    }

    /// The last `tail` lines of a service's output.
    pub async fn logs(
        &self,
        lease: &OrderKey,
        service: &str,
        tail: usize,
    ) -> Result<LeaseLogs, ClientError> {
        let path = format!(
            "/v1/leases/{lease}/logs?service={}&tail={tail}",
            urlencode(service)
        );
        self.call(reqwest::Method::GET, &path, Vec::new()).await
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<T, ClientError> {
        let now = crate::hpc::wall_clock().as_secs();
        let sig = auth::sign(&self.key, method.as_str(), path, &body, now);
        let url = format!("{}{path}", self.base);
        let unreachable = |error| ClientError::Unreachable {
            url: url.clone(),
            error,
        };
        let resp = self
            .http
            .request(method, &url)
            .header(HEADER_PUBKEY, sig.pubkey_hex)
            .header(HEADER_TIMESTAMP, sig.timestamp.to_string())
            .header(HEADER_SIGNATURE, sig.signature_hex)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(unreachable)?;
        let status = resp.status();
        let text = resp.text().await.map_err(unreachable)?;
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|_| ClientError::BadAnswer {
                url,
                status: status.as_u16(),
                body: text,
            });
        }
        match serde_json::from_str::<ApiError>(&text) {
            Ok(e) => Err(e.into()),
            Err(_) if text.is_empty() => Err(ApiError::new(
                codes::BAD_REQUEST,
                format!("HTTP {status} without a body from {url}"),
            )
            .into()),
            Err(_) => Err(ClientError::BadAnswer {
                url,
                status: status.as_u16(),
                body: text,
            }),
        }
    }
}

/// Service names are DNS labels; escape anything else anyway.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
