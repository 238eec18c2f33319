//! Signed requests: the tenant proves it holds the lease owner's account key.
//!
//! The signature covers the method, the path with its query, a timestamp and the body's
//! SHA-256, under a domain tag so it can never be mistaken for a transaction signature:
//!
//! ```text
//! virtengine-provider-request-v1\n{METHOD}\n{path?query}\n{unix seconds}\n{hex sha256(body)}
//! ```
//!
//! It is a secp256k1 signature (the account key, as in transactions) sent in three
//! headers. The daemon accepts a timestamp within [`MAX_SKEW_SECS`] of its clock and
//! derives the signer's address from the public key; that address must own the lease.
//! A replay inside the window can only repeat an idempotent request (manifest upload,
//! status, logs), never change anything.

use ve_crypto::{sha256, PrivateKey, PublicKey};
use ve_types::Address;

pub const HEADER_PUBKEY: &str = "x-ve-pubkey";
pub const HEADER_TIMESTAMP: &str = "x-ve-timestamp";
pub const HEADER_SIGNATURE: &str = "x-ve-signature";
/// How far the request's timestamp may be from the daemon's clock.
pub const MAX_SKEW_SECS: u64 = 300;
const DOMAIN: &str = "virtengine-provider-request-v1";

/// The three header values of a signed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub pubkey_hex: String,
    pub timestamp: u64,
    pub signature_hex: String,
}

/// Why a request's signature was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing header {0}: sign the request with the lease owner's key")]
    Missing(&'static str),
    #[error("malformed header {0}")]
    Malformed(&'static str),
    #[error("timestamp {got} is more than {MAX_SKEW_SECS} s from the provider's clock {now}: check your clock")]
    Skew { got: u64, now: u64 },
    #[error("signature does not verify for this request")]
    BadSignature,
}

fn signed_bytes(method: &str, path_and_query: &str, timestamp: u64, body: &[u8]) -> Vec<u8> {
    format!(
        "{DOMAIN}\n{}\n{path_and_query}\n{timestamp}\n{}",
        method.to_ascii_uppercase(),
        hex::encode(sha256(body))
    )
    .into_bytes()
}

/// Signs a request (tenant side).
pub fn sign(
    key: &PrivateKey,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now: u64,
) -> Signature {
    let sig = key.sign(&signed_bytes(method, path_and_query, now, body));
    Signature {
        pubkey_hex: hex::encode(key.public_key().to_bytes()),
        timestamp: now,
        signature_hex: hex::encode(sig),
    }
}

/// Verifies a request (daemon side) and returns the signer's account address.
pub fn verify(
    sig: &Signature,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now: u64,
) -> Result<Address, AuthError> {
    if sig.timestamp.abs_diff(now) > MAX_SKEW_SECS {
        return Err(AuthError::Skew {
            got: sig.timestamp,
            now,
        });
    }
    let pk = hex::decode(&sig.pubkey_hex)
        .ok()
        .and_then(|b| PublicKey::from_bytes(&b).ok())
        .ok_or(AuthError::Malformed(HEADER_PUBKEY))?;
    let raw =
        hex::decode(&sig.signature_hex).map_err(|_| AuthError::Malformed(HEADER_SIGNATURE))?;
    pk.verify(
        &signed_bytes(method, path_and_query, sig.timestamp, body),
        &raw,
    )
    .map_err(|_| AuthError::BadSignature)?;
    Ok(pk.address())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_request_verifies_to_the_signers_address_and_nothing_else() {
        let key = PrivateKey::generate();
        let s = sign(&key, "PUT", "/v1/leases/a/1/1/1/manifest", b"{}", 1_000);
        assert_eq!(
            verify(&s, "put", "/v1/leases/a/1/1/1/manifest", b"{}", 1_100),
            Ok(key.public_key().address())
        );
        // Another body, path, method or a stale clock: refused.
        let bad = |m, p, b: &[u8], now| verify(&s, m, p, b, now);
        assert_eq!(
            bad("PUT", "/v1/leases/a/1/1/1/manifest", b"{ }", 1_000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            bad("PUT", "/v1/leases/a/2/1/1/manifest", b"{}", 1_000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            bad("GET", "/v1/leases/a/1/1/1/manifest", b"{}", 1_000),
            Err(AuthError::BadSignature)
        );
        assert!(matches!(
            bad("PUT", "/v1/leases/a/1/1/1/manifest", b"{}", 1_301),
            Err(AuthError::Skew { .. })
        ));
        let mut forged = s.clone();
        forged.pubkey_hex = hex::encode(PrivateKey::generate().public_key().to_bytes());
        assert_eq!(
            verify(&forged, "PUT", "/v1/leases/a/1/1/1/manifest", b"{}", 1_000),
            Err(AuthError::BadSignature)
        );
        forged.pubkey_hex = "zz".into();
        assert_eq!(
            verify(&forged, "PUT", "/v1/leases/a/1/1/1/manifest", b"{}", 1_000),
            Err(AuthError::Malformed(HEADER_PUBKEY))
        );
    }
}
