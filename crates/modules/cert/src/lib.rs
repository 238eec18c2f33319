//! `cert`: X.509 certificates on chain for tenant <-> provider mTLS (spec §4.5, Akash
//! x/cert).
//!
//! An owner publishes a self-signed ECDSA P-256 certificate whose subject CN is its own
//! address, with the matching public key ([`proto::MsgCreateCertificate`]). The chain
//! parses both with `x509-parser` and checks: PEM labels, the key is P-256 and equals the
//! certificate's key, the signature (ECDSA-SHA256 over the TBS bytes) verifies with it,
//! subject CN = owner, the validity window contains the block time, the serial is unique
//! for the owner. A certificate is revoked by its owner; a provider daemon accepts a
//! client only while its certificate is valid on chain.
//!
//! The `generate` feature adds [`generate::generate`] (rcgen), used by the CLI.

pub mod check;
mod error;
pub mod events;
#[cfg(feature = "generate")]
pub mod generate;
pub mod genesis;
pub mod msg_server;
pub mod query;
pub mod state;
pub mod state_key;

pub use check::{parse_and_check, CheckedCert};
pub use error::CertError;
pub use genesis::CertGenesis;
pub use msg_server::{CreateCertificateHandler, RevokeCertificateHandler};

pub use ve_proto::virtengine::cert::v1 as proto;
