//! `mfa`: multi-factor authentication and sensitive-transaction gating (spec §3.3, §2.4).
//!
//! Accounts enrol factors — FIDO2/WebAuthn (verified on chain, [`webauthn`]), TOTP, email
//! OTP and SMS (secrets sealed to the validator enclaves, which check codes and sign
//! attestations verified here against the enclave registry, [`attestation`]), single-use backup codes (salted hashes), VEID (identity score)
//! and trusted devices (token hash only). A verified challenge creates an authorization
//! session for one transaction type, or adds its factor to an existing one, so
//! combinations like VEID + FIDO2 can be met. A sensitive message's handler calls the
//! gate ([`gate::MfaKeeper`], `ve_module::gate::MfaGate`), which reads the session ids
//! from the transaction's `MfaProof` extension option ([`gate::PROOF_TYPE_URL`]) — so
//! every message type can be gated, inside its handler, message by message.
//!
//! Ids and challenge bytes are derived from chain data ([`ids`]); failed verification
//! attempts are committed (the verify message succeeds with outcome FAILED/LOCKED);
//! expired challenges and sessions leave through bounded end-block queues. docs/mfa.md
//! defines every payload byte by byte.

pub mod attestation;
pub mod component;
mod error;
pub mod events;
pub mod gate;
pub mod genesis;
pub mod ids;
pub mod keepers;
pub mod msg_server;
pub mod params;
pub mod query;
pub mod state;
pub mod state_key;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod types;
pub mod webauthn;

pub use component::{begin_block, end_block};
pub use error::MfaError;
pub use gate::{MfaKeeper, PROOF_TYPE_URL};
pub use genesis::{GenesisConfig, MfaGenesis};
pub use keepers::{EnclaveVerifiers, Keepers};
pub use msg_server::{
    AddTrustedDeviceHandler, CreateChallengeHandler, EnrollFactorHandler,
    RemoveTrustedDeviceHandler, RevokeFactorHandler, RevokeSessionHandler, SetMfaPolicyHandler,
    UpdateParamsHandler, UpdateSensitiveTxConfigHandler, VerifyChallengeHandler,
};
pub use params::MfaParams;

pub use ve_proto::virtengine::mfa::v1 as proto;
