//! `virtengine enclave run --otp-listen ADDR`: the enclave service also checks one-time
//! codes for the mfa module (TOTP, email OTP) with its own keys, over HTTP
//! (`ve_mfa_verifier::http`). Factor secrets are sealed to the enclave keys at enrolment;
//! the chain checks each attestation against this enclave's registered signing key,
//! under the validator operator address given by `--operator`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use ve_mfa_verifier::email::{Mailer, SmtpConfig};
use ve_mfa_verifier::service::system_clock;
use ve_mfa_verifier::store::Store;
use ve_mfa_verifier::{RpcChain, Verifier};
use ve_types::Address;

/// Folder of the verifier's state (replay protection, pending email codes) in the
/// enclave home.
const STATE_DIR: &str = "otp";

#[derive(Debug, Clone, Args)]
pub struct OtpArgs {
    /// Also serve the one-time-code verifier (TOTP, email OTP) of the mfa module on this
    /// address, e.g. 127.0.0.1:26690. Needs --operator.
    #[arg(long, value_name = "ADDR", requires = "operator")]
    pub otp_listen: Option<String>,
    /// The validator operator address this enclave is registered for (`tx enclave
    /// register --from`): the key id its attestations name.
    #[arg(long, value_name = "ADDRESS")]
    pub operator: Option<String>,
    /// CometBFT RPC of a node of the chain: challenges and enrolments are read there,
    /// never taken from a request.
    #[arg(
        long,
        env = "VIRTENGINE_NODE",
        default_value = "http://127.0.0.1:26657"
    )]
    pub node: String,
    /// Chain id bound into every attestation.
    #[arg(
        long,
        env = "VIRTENGINE_CHAIN_ID",
        default_value = "virtengine-localnet-1"
    )]
    pub chain_id: String,
    /// SMTP relay for email codes, `smtp://host:port` (plain SMTP to a trusted relay).
    /// Without it, email factors are answered with 503.
    #[arg(long)]
    pub smtp: Option<String>,
    /// Sender address of email codes.
    #[arg(long, default_value = "VirtEngine <mfa@localhost>")]
    pub smtp_from: String,
}

/// A bound listener and the router to serve on it.
pub struct OtpServer {
    listener: tokio::net::TcpListener,
    router: axum::Router,
}

impl OtpServer {
    /// Binds `--otp-listen` (so a caller that waits for the enclave socket knows the
    /// verifier listens too) and builds the verifier on the enclave's keys.
    pub async fn bind(
        args: &OtpArgs,
        listen: &str,
        enclave: &ve_enclave::Enclave,
        home: &Path,
    ) -> Result<Self> {
        let operator: Address = args
            .operator
            .as_deref()
            .context("--otp-listen needs --operator (the validator operator address)")?
            .parse()
            .map_err(|e| anyhow::anyhow!("--operator: {e}"))?;
        let keys = enclave.otp_verifier_keys(&operator);
        let info = keys.public_info();
        let store = Store::open(&home.join(STATE_DIR))?;
        let mailer = match &args.smtp {
            Some(url) => Some(Mailer::new(&SmtpConfig::from_url(url, &args.smtp_from)?)?),
            None => None,
        };
        let email = mailer.is_some();
        let verifier = Arc::new(Verifier::new(
            keys,
            args.chain_id.clone(),
            RpcChain::new(&args.node)?,
            store,
            mailer,
            system_clock(),
        ));
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen} (--otp-listen)"))?;
        eprintln!(
            "one-time-code verifier listening on http://{listen}: operator {}, signing key {}, node {}, email {}",
            info.key_id,
            info.public_key,
            args.node,
            if email { "on" } else { "off (--smtp)" }
        );
        Ok(Self {
            listener,
            router: ve_mfa_verifier::http::router(verifier, email),
        })
    }

    /// Serves until the process is stopped.
    pub async fn serve(self) -> Result<()> {
        ve_mfa_verifier::http::serve(self.listener, self.router, std::future::pending())
            .await
            .context("one-time-code verifier")
    }
}
