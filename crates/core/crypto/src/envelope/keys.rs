//! Recipient keys (X25519) and the one fingerprint scheme used everywhere: envelopes, the
//! on-chain registry, the CLI.

use super::EnvelopeError;
use curve25519_dalek::montgomery::MontgomeryPoint;
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

/// X25519 key length.
pub const KEY_LEN: usize = 32;
/// A fingerprint is 20 bytes, written as 40 lowercase hex characters.
pub const FINGERPRINT_HEX_LEN: usize = 40;

/// Lowercase hex of the first 20 bytes of SHA-256 of the raw public key bytes.
pub fn fingerprint(public_key: &[u8]) -> String {
    hex::encode(&crate::sha256(public_key)[..20])
}

/// Accepts exactly the strings [`fingerprint`] produces.
pub fn validate_fingerprint(s: &str) -> Result<(), EnvelopeError> {
    let ok = s.len() == FINGERPRINT_HEX_LEN
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(EnvelopeError::InvalidFingerprint(
            super::algorithm::truncate(s),
        ))
    }
}

/// True for points of small order (and points off the curve), whose shared secret is
/// predictable. libsodium's `crypto_box` refuses them, so we refuse them too: an envelope
/// Rust accepts must open in libsodium.
pub fn is_weak_public_key(bytes: &[u8; KEY_LEN]) -> bool {
    MontgomeryPoint(*bytes)
        .to_edwards(0)
        .is_none_or(|p| p.is_small_order())
}

/// A recipient's X25519 public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecipientPublicKey([u8; KEY_LEN]);

impl RecipientPublicKey {
    /// Checks length and refuses weak (low-order) points.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let arr: [u8; KEY_LEN] = bytes.try_into().map_err(|_| EnvelopeError::InvalidLength {
            field: "recipient public key",
            expected: KEY_LEN,
            got: bytes.len(),
        })?;
        if is_weak_public_key(&arr) {
            return Err(EnvelopeError::WeakKey("recipient public key"));
        }
        Ok(Self(arr))
    }

    /// Parses 64 hex characters (the CLI's and the registry's text form).
    pub fn from_hex(s: &str) -> Result<Self, EnvelopeError> {
        let bytes = hex::decode(s.trim()).map_err(|_| EnvelopeError::InvalidLength {
            field: "recipient public key (hex)",
            expected: KEY_LEN,
            got: s.len() / 2,
        })?;
        Self::from_slice(&bytes)
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    pub fn fingerprint(&self) -> String {
        fingerprint(&self.0)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub(crate) fn to_box_key(self) -> crypto_box::PublicKey {
        crypto_box::PublicKey::from_bytes(self.0)
    }
}

/// A recipient's X25519 secret key; the bytes are wiped when it is dropped.
#[derive(Clone)]
pub struct RecipientSecretKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for RecipientSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecipientSecretKey({})", self.public_key().fingerprint())
    }
}

impl RecipientSecretKey {
    /// A fresh key from a cryptographic RNG (clients only; never in consensus code).
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// Any 32 bytes are a valid X25519 secret (libsodium clamps them the same way).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let arr: [u8; KEY_LEN] = bytes.try_into().map_err(|_| EnvelopeError::InvalidLength {
            field: "recipient secret key",
            expected: KEY_LEN,
            got: bytes.len(),
        })?;
        Ok(Self::from_bytes(arr))
    }

    pub fn to_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        self.0.clone()
    }

    pub fn public_key(&self) -> RecipientPublicKey {
        RecipientPublicKey(self.to_box_key().public_key().to_bytes())
    }

    pub(crate) fn to_box_key(&self) -> crypto_box::SecretKey {
        crypto_box::SecretKey::from_bytes(*self.0)
    }
}
