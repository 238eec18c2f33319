//! MFA one-time-code verifier, hosted by the validator enclave service
//! (`virtengine enclave run --otp-listen ADDR`): it checks TOTP and email codes and signs
//! the factor attestations the `mfa` module accepts (docs/mfa.md §4).
//!
//! Its two keys are the enclave's own ([`keys`]): clients seal TOTP seeds and email
//! addresses to every active validator enclave key at enrolment ([`secret`]), so any
//! validator's enclave can open them and no one outside an enclave can; the chain checks
//! each attestation's signature against the enclave registry, under the validator
//! operator address the attestation names.
//!
//! Flow for one code:
//! 1. The user creates a challenge on chain (`MsgCreateChallenge`, factor TOTP or EMAIL).
//! 2. They send the challenge id and code to an enclave's OTP endpoint ([`http`]); the
//!    service reads the challenge and the enrolment **from the chain** ([`chain`]) — never
//!    from the request — opens the sealed secret, and checks the code: TOTP with `totp-rs`
//!    (RFC 6238, ±1 step, a step accepted at most once per factor here, persisted in
//!    [`store`], and on chain across all enclaves through the attested step); email with a
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
