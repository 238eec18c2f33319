//! Fixtures for the provider/audit/cert/offering app tests: the mfa tests' fixtures (one
//! copy: a chain with a genesis account, funded users, identity scores through the
//! harness's system step, a software WebAuthn authenticator, MfaProof-carrying txs).
#![allow(dead_code, unused_imports)]

#[path = "../mfa_common/mod.rs"]
mod base;
pub use base::*;

/// `Any` of a message with its type URL.
pub fn to_any<M: prost::Message + Url>(m: &M) -> ve_proto::Any {
    any(m)
}
