//! `enclave`: the registry of validators' TEE enclaves.
//!
//! Each validator operator registers one enclave identity: an X25519 key (the recipient
//! key identity scopes are encrypted to) and an Ed25519 key (signs scoring results),
//! bound by an attestation report (SGX DCAP, SEV-SNP, Nitro, or — on localnets only —
//! the simulated platform) that [`ve_attestation`] verifies at block time. The report's
//! data must be [`ve_attestation::key_binding`] of the two keys and its measurement must
//! be on the allow-list kept by governance or administrators. Identities expire after
//! `identity_validity_blocks` unless re-attested; keys rotate with an overlap during
//! which the previous keys still verify.
//!
//! There is no staking module yet: the validator operators are a list in params.
//! Expiry, rotation overlap and revocation are evaluated lazily against the height (no
//! begin/end-block work).
//!
//! Other modules use [`keeper`]: [`active_enclave_keys`], [`verify_enclave_signature`],
//! and the [`EnclaveRegistry`] trait.

mod error;
pub mod events;
pub mod genesis;
pub mod keeper;
pub mod msg_server;
pub mod params;
pub mod query;
pub mod state;
pub mod state_key;

pub use error::EnclaveError;
pub use genesis::{EnclaveGenesis, GenesisMeasurement};
pub use keeper::{
    active_enclave_keys, check_enclave_signature, enclave_of, enclave_of_consensus,
    operator_of_consensus, verify_enclave_signature, ActiveEnclave, EnclaveKeeper, EnclaveRegistry,
};
pub use msg_server::{
    AddMeasurementHandler, Authority, ReattestHandler, RegisterEnclaveIdentityHandler,
    RevokeMeasurementHandler, RotateEnclaveKeysHandler, UpdateParamsHandler,
};
pub use params::{EnclaveParams, ValidatorBinding};

pub use ve_proto::virtengine::enclave::v1 as proto;
