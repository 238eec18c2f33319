//! The DNS attestor behind provider domain verification (docs/provider.md).
//!
//! The chain cannot look up DNS, so it trusts signatures of registered *attestors*: a
//! provider asks for a challenge (`MsgRequestDomainVerification`), publishes
//! `_virtengine-verification.<domain> TXT "virtengine-verification=<token>"`, and an
//! attestor resolves that record at the nameserver it is configured with. Only if the
//! exact value is there does it sign
//! [`ve_provider::domain::attestation_payload`] (chain id, owner, domain, token, time of the
//! lookup) with its Ed25519 key; the provider submits the signature in
//! `MsgConfirmDomainVerification`.
//!
//! The signed statement is an observation ("at `observed_at` the record held this token"),
//! so the attestor needs no chain access: the chain checks that the token is the one it
//! issued to that owner for that domain.
//!
//! - [`Resolver`]: TXT lookups (hickory-resolver) at one nameserver, no cache.
//! - [`Attestor`]: lookup + check + signature.
//! - [`service`]: the HTTP service `virtengine dns-attestor run` serves.

mod attest;
mod error;
mod resolve;
pub mod service;

pub use attest::{load_key, Attestation, Attestor, Challenge};
pub use error::AttestError;
pub use resolve::Resolver;
