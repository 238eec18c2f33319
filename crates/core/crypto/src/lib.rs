//! Account keys (secp256k1), BIP-39/BIP-32 derivation, addresses, hashing, and the
//! multi-recipient envelopes sensitive payloads travel in ([`envelope`]).
//!
//! Signature verification here runs inside consensus, so every function is total:
//! malformed input is an error, never a panic, and nothing depends on the clock or
//! on randomness except key *generation*, which only clients call.

pub mod attested;
pub mod envelope;
mod error;
mod hash;
mod hd;
mod secp256k1;

pub use error::CryptoError;
pub use hash::{ripemd160, sha256};
pub use hd::{derive_key, Mnemonic, COSMOS_HD_PATH, MNEMONIC_WORDS};
pub use secp256k1::{PrivateKey, PublicKey, PUBLIC_KEY_LEN, SIGNATURE_LEN};
