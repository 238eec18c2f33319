//! A small HTTP client for the verifier service, used by the CLI (`tx mfa verify`).

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::http::{CodeRequest, ErrorBody, InfoResponse, SendRequest};
use crate::service::{EmailSent, Verdict};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("verifier {url}: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("verifier {url} answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
}

#[derive(Debug, Clone)]
pub struct VerifierClient {
    base: String,
    http: reqwest::Client,
}

impl VerifierClient {
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        let base = base_url.trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|source| ClientError::Http {
                url: base.clone(),
                source,
            })?;
        Ok(Self { base, http })
    }

    async fn decode<T: DeserializeOwned>(
        url: String,
        resp: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<T, ClientError> {
        let resp = resp.map_err(|source| ClientError::Http {
            url: url.clone(),
            source,
        })?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            let message = serde_json::from_str::<ErrorBody>(&text)
                .map(|b| b.error)
                .unwrap_or(text);
            return Err(ClientError::Status {
                url,
                status: status.as_u16(),
                message,
            });
        }
        resp.json()
            .await
            .map_err(|source| ClientError::Http { url, source })
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let r = self.http.post(&url).json(body).send().await;
        Self::decode(url, r).await
    }

    pub async fn info(&self) -> Result<InfoResponse, ClientError> {
        let url = format!("{}/v1/info", self.base);
        let r = self.http.get(&url).send().await;
        Self::decode(url, r).await
    }

    pub async fn verify_totp(
        &self,
        challenge_id: &str,
        code: &str,
    ) -> Result<Verdict, ClientError> {
        self.post(
            "/v1/totp/verify",
            &CodeRequest {
                challenge_id: challenge_id.into(),
                code: code.into(),
            },
        )
        .await
    }

    pub async fn send_email(&self, challenge_id: &str) -> Result<EmailSent, ClientError> {
        self.post(
            "/v1/email/send",
            &SendRequest {
                challenge_id: challenge_id.into(),
            },
        )
        .await
    }

    pub async fn verify_email(
        &self,
        challenge_id: &str,
        code: &str,
    ) -> Result<Verdict, ClientError> {
        self.post(
            "/v1/email/verify",
            &CodeRequest {
                challenge_id: challenge_id.into(),
                code: code.into(),
            },
        )
        .await
    }
}
