//! `encryption`: the on-chain registry of recipients' X25519 keys, and the envelope
//! validation every module that stores sensitive data calls.
//!
//! Keys are registered, rotated (the old key stays usable for an overlap of
//! `rotation_overlap_blocks`, then expires) and revoked. Expiry runs from a queue keyed by
//! height and is bounded per block; usability at a height is decided from the record's
//! `expires_at`, so a lagging queue never lets an expired key through. The envelope format
//! itself lives in `ve_crypto::envelope`.

pub mod component;
mod error;
pub mod events;
pub mod genesis;
pub mod msg_server;
pub mod params;
pub mod query;
pub mod state;
pub mod state_key;
pub mod validate;

pub use component::end_block;
pub use error::EncryptionError;
pub use genesis::{EncryptionGenesis, GenesisKey};
pub use msg_server::{RegisterKeyHandler, RevokeKeyHandler, RotateKeyHandler};
pub use params::EncryptionParams;
pub use validate::{validate_envelope, validate_envelope_metered, ValidatedEnvelope};

pub use ve_proto::virtengine::encryption::v1 as proto;
