//! Multi-recipient envelopes: how sensitive payloads travel on a public ledger.
//!
//! A fresh random 32-byte data key seals the payload with XSalsa20-Poly1305
//! (`crypto_secretbox`); the data key is wrapped for each recipient with NaCl `crypto_box`
//! (X25519 + XSalsa20-Poly1305) from one ephemeral sender key. The header (algorithm,
//! ephemeral key, nonces, every wrapped key, optional sender key) is bound to the payload
//! by sealing `SHA-256(header) || payload`, and optionally signed with Ed25519. Everything
//! here is reproducible with libsodium's `crypto_box_easy`, `crypto_secretbox_easy` and
//! `crypto_sign_detached` alone; `docs/envelope.md` describes every byte.
//!
//! Randomness is used only by [`seal`] (clients). [`parse`] and [`open`] are total and
//! deterministic, so consensus code may call [`parse`] to validate envelopes.

mod algorithm;
mod error;
mod keys;
mod open;
mod parse;
mod seal;

pub use algorithm::{Algorithm, ALGORITHMS, PRIMARY_ALGORITHM};
pub use error::EnvelopeError;
pub use keys::{
    fingerprint, is_weak_public_key, validate_fingerprint, RecipientPublicKey, RecipientSecretKey,
    FINGERPRINT_HEX_LEN, KEY_LEN,
};
pub use open::{open, Opened};
pub use parse::{parse, parse_with_limits, Limits, ParsedEnvelope};
pub use seal::{seal, seal_with_material, seal_with_rng, SealMaterial};

pub use ed25519_dalek::{SigningKey as SenderSigningKey, VerifyingKey as SenderVerifyingKey};

/// Envelope format version carried in the header.
pub const FORMAT_VERSION: u32 = 1;
/// Nonce length of crypto_box and crypto_secretbox.
pub const NONCE_LEN: usize = 24;
/// Poly1305 tag length (prefix of every box / secretbox ciphertext).
pub const TAG_LEN: usize = 16;
/// Length of a wrapped data key: tag + 32-byte key.
pub const WRAPPED_KEY_LEN: usize = TAG_LEN + KEY_LEN;
/// Ed25519 public key and signature lengths.
pub const SENDER_KEY_LEN: usize = 32;
pub const SIGNATURE_LEN: usize = 64;
/// Largest payload [`seal`] accepts (4 MiB); chain params may set a smaller envelope cap.
pub const MAX_PAYLOAD_LEN: usize = 4 << 20;
/// Most recipients any envelope may have, whatever a caller's limits say.
pub const HARD_MAX_RECIPIENTS: usize = 1000;
/// Largest encoded envelope [`parse`] looks at: the payload cap plus room for the header.
pub const MAX_ENVELOPE_LEN: usize = MAX_PAYLOAD_LEN + (256 << 10);
/// Domain separation prefix of the signing payload: exactly 32 ASCII bytes.
pub const SIGNING_DOMAIN: &[u8; 32] = b"virtengine-envelope-v1-signature";

/// The 96 bytes an Ed25519 sender signature covers:
/// `SIGNING_DOMAIN || SHA-256(header) || SHA-256(ciphertext)`. Header and ciphertext
/// together are the whole envelope except the signature itself.
pub fn signing_payload(header: &[u8], ciphertext: &[u8]) -> [u8; 96] {
    let mut out = [0u8; 96];
    out[..32].copy_from_slice(SIGNING_DOMAIN);
    out[32..64].copy_from_slice(&crate::sha256(header));
    out[64..].copy_from_slice(&crate::sha256(ciphertext));
    out
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;
