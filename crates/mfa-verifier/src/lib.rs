//! Off-chain MFA factor verifier: the service that checks TOTP and email one-time codes
//! and signs the factor attestations the `mfa` module accepts (docs/mfa.md §4).
//!
//! **Stand-in for the enclave service (issue #5).** It keeps an Ed25519 attestation key
//! and an X25519 envelope key in plain files under its home ([`keys`]); the enclave
//! service will hold the same two keys inside a TEE. The protocol does not change: the
//! chain registers the keys (`MsgAddVerifierKey` or genesis), clients seal factor secrets
//! to the X25519 key ([`secret`]), and the chain checks attestations with the Ed25519 key.
//!
//! Flow for one code:
//! 1. The user creates a challenge on chain (`MsgCreateChallenge`, factor TOTP or EMAIL).
//! 2. They send the challenge id and code to this service ([`http`]); the service reads the
//!    challenge and the enrolment **from the chain** ([`chain`]) — never from the request —
//!    opens the sealed secret, and checks the code: TOTP with `totp-rs` (RFC 6238, ±1
//!    step, a step accepted at most once per factor, persisted in [`store`]); email with a
//!    6-digit code it mailed over SMTP ([`email`]), 10 min TTL, 5 attempts.
//! 3. It returns a [`service::Verdict`] with a signed attestation (verified or not), which
//!    the user submits in `MsgVerifyChallenge.attestation`.

pub mod attestation;
pub mod chain;
pub mod client;
pub mod email;
pub mod error;
pub mod http;
pub mod keys;
pub mod secret;
pub mod service;
pub mod store;

pub use chain::{ChainSource, RpcChain};
pub use client::{ClientError, VerifierClient};
pub use error::VerifierError;
pub use keys::{PublicKeyInfo, VerifierKeys};
pub use secret::SealedSecret;
pub use service::{Verdict, Verifier};
