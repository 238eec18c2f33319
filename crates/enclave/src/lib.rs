//! The identity-scoring enclave service that runs beside each validator (issue 5).
//!
//! It holds two keys — an X25519 key identity scopes are sealed to and an Ed25519 key
//! that signs results — sealed on disk under a platform key ([`sealing`]); opens the
//! scopes of a verification request, runs the scoring models (`ve-scoring`), wipes the
//! plaintext, and signs a result that binds request, account, score, reason codes, model
//! set, input hash, measurement and height ([`ve_crypto::attested`]). The node talks to it
//! over a unix socket ([`api`]).
//!
//! **Simulated platform.** This machine has no SGX/SEV/Nitro hardware. The "platform key"
//! is a file (`platform-sealing.key`) and the measurement is a hash of the service binary
//! and the model set, not a hardware measurement: nothing here proves to anyone that the
//! code runs in a TEE. The real-platform attestation verification lives in the chain's
//! enclave registry; this service's report format is the simulated one.

pub mod api;
#[cfg(feature = "scorer")]
mod date;
mod error;
pub mod fault;
mod identity;
pub mod sealing;
#[cfg(feature = "scorer")]
pub mod service;

pub use error::EnclaveError;
pub use fault::{ScoreOffset, SIMULATED_PLATFORM};
pub use identity::EnclaveIdentity;
#[cfg(feature = "scorer")]
pub use service::{Enclave, ScopeIn, ScoreOutcome, ScoreRequest};
