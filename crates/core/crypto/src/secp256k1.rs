use std::cmp::Ordering;
use std::fmt;

use k256::ecdsa::signature::Signer;
use k256::ecdsa::{Signature, SigningKey, VerifyingKey};
use ve_types::Address;
use zeroize::Zeroizing;

use crate::error::CryptoError;
use crate::hash::{ripemd160, sha256};

/// Length of a compressed SEC1 public key, the only form Cosmos puts on the wire.
pub const PUBLIC_KEY_LEN: usize = 33;
/// Length of a Cosmos secp256k1 signature: `r || s`, 32 bytes each, no DER, no recovery id.
pub const SIGNATURE_LEN: usize = 64;

/// An account signing key.
///
/// The inner k256 key zeroizes its scalar on drop; this wrapper adds no copies of the
/// secret, and its `Debug` never prints it, so keys can sit in structs that get logged.
#[derive(Clone)]
pub struct PrivateKey(SigningKey);

impl PrivateKey {
    /// Builds a key from a 32-byte big-endian scalar (must be in `1..n`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        SigningKey::from_slice(bytes)
            .map(Self)
            .map_err(|_| CryptoError::InvalidPrivateKey("expected a 32-byte scalar in 1..n".into()))
    }

    /// A fresh key from the OS random generator; clients only, never consensus.
    pub fn generate() -> Self {
        Self(SigningKey::random(&mut rand_core::OsRng)) // allowed: key generation runs in clients, never in consensus
    }

    pub(crate) fn from_signing_key(key: SigningKey) -> Self {
        Self(key)
    }

    /// The raw scalar, wrapped so that the copy is wiped when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes().into())
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_verifying_key(*self.0.verifying_key())
    }

    /// Signs `msg` as Cosmos SIGN_MODE_DIRECT does: ECDSA over SHA-256(msg), RFC 6979
    /// nonces (so the same key and message always give the same bytes) and low-S,
    /// because the chain rejects high-S signatures to rule out malleated tx hashes.
    pub fn sign(&self, msg: &[u8]) -> [u8; SIGNATURE_LEN] {
        let sig: Signature = self.0.sign(msg);
        let sig = sig.normalize_s().unwrap_or(sig);
        sig.to_bytes().into()
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

/// A secp256k1 account public key, always held in its 33-byte compressed form.
#[derive(Clone, Copy)]
pub struct PublicKey {
    bytes: [u8; PUBLIC_KEY_LEN],
}

impl PublicKey {
    /// Accepts only the 33-byte compressed encoding: Cosmos hashes exactly these bytes
    /// into the address, so accepting the 65-byte form would let one key have two
    /// addresses.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != PUBLIC_KEY_LEN {
            return Err(CryptoError::InvalidPublicKey(format!(
                "expected {PUBLIC_KEY_LEN} bytes (compressed SEC1), got {}",
                bytes.len()
            )));
        }
        if !matches!(bytes.first(), Some(0x02 | 0x03)) {
            return Err(CryptoError::InvalidPublicKey(
                "compressed key must start with 0x02 or 0x03".into(),
            ));
        }
        Self::parse(bytes)?;
        let mut out = [0u8; PUBLIC_KEY_LEN];
        out.copy_from_slice(bytes);
        Ok(Self { bytes: out })
    }

    fn parse(bytes: &[u8]) -> Result<secp256k1::PublicKey, CryptoError> {
        secp256k1::PublicKey::from_slice(bytes)
            .map_err(|_| CryptoError::InvalidPublicKey("not a point on secp256k1".into()))
    }

    fn from_verifying_key(key: VerifyingKey) -> Self {
        let point = key.to_encoded_point(true);
        let mut bytes = [0u8; PUBLIC_KEY_LEN];
        // A compressed point of a valid key is always 33 bytes.
        bytes.copy_from_slice(point.as_bytes());
        Self { bytes }
    }

    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.bytes
    }

    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.bytes
    }

    /// Verifies a 64-byte `r || s` signature over SHA-256(msg).
    ///
    /// High-S is refused explicitly (not only by whatever the backend does) because
    /// accepting both `s` and `n - s` would give every tx two valid encodings.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        if sig.len() != SIGNATURE_LEN {
            return Err(CryptoError::SignatureLength {
                expected: SIGNATURE_LEN,
                got: sig.len(),
            });
        }
        // r and s must be in [1, n-1]: libsecp256k1's parser refuses values >= n, and a
        // zero half is refused here so malformed input is named as such.
        if sig[..32].iter().all(|b| *b == 0) || sig[32..].iter().all(|b| *b == 0) {
            return Err(CryptoError::MalformedSignature);
        }
        let mut sig = secp256k1::ecdsa::Signature::from_compact(sig)
            .map_err(|_| CryptoError::MalformedSignature)?;
        let as_given = sig.serialize_compact();
        sig.normalize_s();
        if sig.serialize_compact() != as_given {
            return Err(CryptoError::HighS);
        }
        let digest = secp256k1::Message::from_digest(sha256(msg));
        // Signatures are verified by libsecp256k1: it is ~2.5x faster than k256 here and
        // verification dominates block execution. Signing stays on k256 (clients only).
        secp256k1::SECP256K1
            .verify_ecdsa(&digest, &sig, &Self::parse(&self.bytes)?)
            .map_err(|_| CryptoError::VerificationFailed)
    }

    /// The Cosmos account address: RIPEMD160(SHA256(compressed key)).
    pub fn address(&self) -> Address {
        Address(ripemd160(&sha256(&self.bytes)))
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for PublicKey {}

impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.bytes.cmp(&other.bytes)
    }
}

impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.bytes))
    }
}

/// Lower-case hex of the compressed key, the form keyrings and CLIs show.
impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::elliptic_curve::ops::Neg;
    use k256::elliptic_curve::scalar::IsHigh;

    fn key_one() -> PrivateKey {
        let mut b = [0u8; 32];
        b[31] = 1;
        PrivateKey::from_bytes(&b).unwrap()
    }

    #[test]
    fn sign_verify_roundtrip() {
        let k = PrivateKey::generate();
        let sig = k.sign(b"hello");
        k.public_key().verify(b"hello", &sig).unwrap();
    }

    #[test]
    fn tampered_message_fails() {
        let k = key_one();
        let sig = k.sign(b"hello");
        assert_eq!(
            k.public_key().verify(b"hellp", &sig),
            Err(CryptoError::VerificationFailed)
        );
    }

    #[test]
    fn other_key_fails() {
        let sig = key_one().sign(b"hello");
        let other = PrivateKey::generate().public_key();
        assert_eq!(
            other.verify(b"hello", &sig),
            Err(CryptoError::VerificationFailed)
        );
    }

    #[test]
    fn high_s_is_rejected() {
        let k = key_one();
        let sig = Signature::from_slice(&k.sign(b"msg")).unwrap();
        let (r, s) = sig.split_scalars();
        let high = Signature::from_scalars(r, s.as_ref().neg()).unwrap();
        assert!(bool::from(high.s().is_high()));
        assert_eq!(
            k.public_key().verify(b"msg", &high.to_bytes()),
            Err(CryptoError::HighS)
        );
    }

    #[test]
    fn wrong_signature_length_is_rejected() {
        let k = key_one();
        let sig = k.sign(b"msg");
        assert!(matches!(
            k.public_key().verify(b"msg", &sig[..63]),
            Err(CryptoError::SignatureLength { got: 63, .. })
        ));
        let mut long = sig.to_vec();
        long.push(0);
        assert!(matches!(
            k.public_key().verify(b"msg", &long),
            Err(CryptoError::SignatureLength { got: 65, .. })
        ));
        assert_eq!(
            k.public_key().verify(b"msg", &[0u8; 64]),
            Err(CryptoError::MalformedSignature)
        );
    }

    /// RFC 6979 with SHA-256 on secp256k1, private key 1: the widely published vector
    /// (python-ecdsa, trezor-crypto), already low-S.
    #[test]
    fn fixed_key_signature_vector() {
        let k = key_one();
        let sig = k.sign(b"Satoshi Nakamoto");
        assert_eq!(
            hex::encode(sig),
            "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8\
             2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5"
        );
        assert_eq!(sig, k.sign(b"Satoshi Nakamoto"), "deterministic");
        assert_eq!(
            hex::encode(k.public_key().to_bytes()),
            "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
        );
    }

    #[test]
    fn public_key_accepts_only_compressed() {
        let pk = key_one().public_key();
        assert_eq!(PublicKey::from_bytes(pk.as_bytes()).unwrap(), pk);
        let uncompressed = key_one().0.verifying_key().to_encoded_point(false);
        assert!(PublicKey::from_bytes(uncompressed.as_bytes()).is_err());
        let mut bad = pk.to_bytes();
        bad[0] = 0x04;
        assert!(PublicKey::from_bytes(&bad).is_err());
        assert!(PublicKey::from_bytes(&[]).is_err());
    }

    #[test]
    fn debug_redacts_private_key() {
        assert_eq!(format!("{:?}", key_one()), "PrivateKey(<redacted>)");
    }

    #[test]
    fn private_key_bytes_roundtrip() {
        let k = PrivateKey::generate();
        let again = PrivateKey::from_bytes(k.to_bytes().as_ref()).unwrap();
        assert_eq!(k.public_key(), again.public_key());
        assert!(PrivateKey::from_bytes(&[0u8; 32]).is_err());
    }
}
