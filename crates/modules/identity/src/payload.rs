//! The two signed digests of an upload (docs/veid.md, "Signatures"). Pure functions: the
//! chain, the capture-client library and any other implementation compute the same bytes.
//!
//! `lp(x)` is `u32 BE length(x) ‖ x`.
//!
//! ```text
//! client_digest = SHA-256( "virtengine-veid-client-v1" ‖ lp(chain_id) ‖ lp(sender)
//!                 ‖ lp(scope_id) ‖ u32be(scope_type) ‖ lp(salt) ‖ lp(device_fingerprint)
//!                 ‖ lp(client_id) ‖ lp(client_version) ‖ payload_hash[32]
//!                 ‖ i64be(capture_timestamp) ‖ lp(geo_hint) )
//! user_digest   = SHA-256( "virtengine-veid-user-v1" ‖ client_digest ‖ lp(client_signature) )
//! ```
//! The client signs `client_digest` (Ed25519 over the 32 bytes; secp256k1 ECDSA over
//! SHA-256 of them). The account signs `user_digest` with its secp256k1 key (ECDSA over
//! SHA-256(user_digest), low-S, 64-byte r‖s) — the same way it signs transactions.

use sha2::{Digest, Sha256};

pub const CLIENT_DOMAIN: &[u8] = b"virtengine-veid-client-v1";
pub const USER_DOMAIN: &[u8] = b"virtengine-veid-user-v1";

/// Everything the client signature binds.
#[derive(Clone, Debug)]
pub struct UploadSigningInput<'a> {
    pub chain_id: &'a str,
    /// Bech32 address of the uploading account.
    pub sender: &'a str,
    pub scope_id: &'a str,
    pub scope_type: i32,
    pub salt: &'a [u8],
    pub device_fingerprint: &'a str,
    pub client_id: &'a str,
    pub client_version: &'a str,
    /// SHA-256 of the envelope bytes (32 bytes).
    pub payload_hash: &'a [u8],
    pub capture_timestamp: i64,
    pub geo_hint: &'a str,
}

fn lp(h: &mut Sha256, b: &[u8]) {
    let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
    h.update(len.to_be_bytes());
    h.update(b);
}

pub fn client_digest(i: &UploadSigningInput<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(CLIENT_DOMAIN);
    lp(&mut h, i.chain_id.as_bytes());
    lp(&mut h, i.sender.as_bytes());
    lp(&mut h, i.scope_id.as_bytes());
    h.update(u32::try_from(i.scope_type).unwrap_or(0).to_be_bytes());
    lp(&mut h, i.salt);
    lp(&mut h, i.device_fingerprint.as_bytes());
    lp(&mut h, i.client_id.as_bytes());
    lp(&mut h, i.client_version.as_bytes());
    h.update(i.payload_hash);
    h.update(i.capture_timestamp.to_be_bytes());
    lp(&mut h, i.geo_hint.as_bytes());
    h.finalize().into()
}

pub fn user_digest(client_digest: &[u8; 32], client_signature: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(USER_DOMAIN);
    h.update(client_digest);
    lp(&mut h, client_signature);
    h.finalize().into()
}

pub const WALLET_BINDING_DOMAIN: &[u8] = b"virtengine-veid-wallet-binding-v1";
pub const WALLET_REBIND_DOMAIN: &[u8] = b"virtengine-veid-wallet-rebind-v1";

/// `"wallet_" + hex(SHA-256("VEID_WALLET:" + address)[:16])` (the spec's wallet id).
pub fn wallet_id(address: &str) -> String {
    let h: [u8; 32] =
        Sha256::digest([b"VEID_WALLET:".as_slice(), address.as_bytes()].concat()).into();
    format!("wallet_{}", hex::encode(h.get(..16).unwrap_or_default()))
}

/// What the Ed25519 binding key signs to bind itself to the account on this chain:
///
/// ```text
/// binding_digest = SHA-256( "virtengine-veid-wallet-binding-v1" ‖ lp(chain_id)
///                  ‖ lp(address) ‖ lp(wallet_id) ‖ binding_pub_key[32]
///                  ‖ u32be(binding_version) )
/// ```
/// `binding_version` is 0 at creation and the wallet's version + 1 for a rebind.
pub fn binding_digest(
    chain_id: &str,
    address: &str,
    wallet_id: &str,
    binding_pub_key: &[u8],
    binding_version: u32,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(WALLET_BINDING_DOMAIN);
    lp(&mut h, chain_id.as_bytes());
    lp(&mut h, address.as_bytes());
    lp(&mut h, wallet_id.as_bytes());
    h.update(binding_pub_key);
    h.update(binding_version.to_be_bytes());
    h.finalize().into()
}

/// What the current binding key signs to hand the wallet over to a new key:
///
/// ```text
/// rebind_digest = SHA-256( "virtengine-veid-wallet-rebind-v1" ‖ lp(chain_id)
///                 ‖ lp(address) ‖ lp(wallet_id) ‖ old_pub_key[32] ‖ new_pub_key[32]
///                 ‖ u32be(new_binding_version) )
/// ```
pub fn rebind_digest(
    chain_id: &str,
    address: &str,
    wallet_id: &str,
    old_pub_key: &[u8],
    new_pub_key: &[u8],
    new_binding_version: u32,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(WALLET_REBIND_DOMAIN);
    lp(&mut h, chain_id.as_bytes());
    lp(&mut h, address.as_bytes());
    lp(&mut h, wallet_id.as_bytes());
    h.update(old_pub_key);
    h.update(new_pub_key);
    h.update(new_binding_version.to_be_bytes());
    h.finalize().into()
}

/// Strict Ed25519 verification (RFC 8032, no malleable signatures) of `sig` over `msg`.
pub fn ed25519_verify(pub_key: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (<[u8; 32]>::try_from(pub_key), <[u8; 64]>::try_from(sig)) else {
        return false;
    };
    let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&pk) else {
        return false;
    };
    vk.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&sig))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> UploadSigningInput<'static> {
        UploadSigningInput {
            chain_id: "virtengine-1",
            sender: "ve1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqh7d9m3",
            scope_id: "doc-1",
            scope_type: 1,
            salt: &[7; 16],
            device_fingerprint: "device",
            client_id: "capture-app",
            client_version: "1.0.0",
            payload_hash: &[9; 32],
            capture_timestamp: 1_700_000_000,
            geo_hint: "",
        }
    }

    /// Pins the digest so an accidental change of the byte layout fails here first; the
    /// same vector is printed in docs/veid.md.
    #[test]
    fn digests_match_the_published_vector() {
        let c = client_digest(&input());
        let u = user_digest(&c, &[1; 64]);
        assert_eq!(
            hex::encode(c),
            include_str!("../testdata/client_digest.hex").trim()
        );
        assert_eq!(
            hex::encode(u),
            include_str!("../testdata/user_digest.hex").trim()
        );
    }

    #[test]
    fn every_field_changes_the_digest() {
        let base = client_digest(&input());
        let mut variants = Vec::new();
        variants.push(UploadSigningInput {
            chain_id: "virtengine-2",
            ..input()
        });
        variants.push(UploadSigningInput {
            scope_id: "doc-2",
            ..input()
        });
        variants.push(UploadSigningInput {
            scope_type: 2,
            ..input()
        });
        variants.push(UploadSigningInput {
            salt: &[8; 16],
            ..input()
        });
        variants.push(UploadSigningInput {
            device_fingerprint: "d2",
            ..input()
        });
        variants.push(UploadSigningInput {
            client_id: "other-app",
            ..input()
        });
        variants.push(UploadSigningInput {
            client_version: "1.0.1",
            ..input()
        });
        variants.push(UploadSigningInput {
            payload_hash: &[1; 32],
            ..input()
        });
        variants.push(UploadSigningInput {
            capture_timestamp: 1,
            ..input()
        });
        variants.push(UploadSigningInput {
            geo_hint: "DE",
            ..input()
        });
        // Length prefixes keep field boundaries: moving a byte between fields changes it.
        variants.push(UploadSigningInput {
            scope_id: "doc-1d",
            device_fingerprint: "evice",
            ..input()
        });
        for v in variants {
            assert_ne!(client_digest(&v), base, "{v:?}");
        }
    }

    #[test]
    fn binding_digest_matches_the_documented_vector_and_binds_every_field() {
        let a = "ve1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqh7d9m3";
        let wid = wallet_id(a);
        let d = binding_digest("virtengine-1", a, &wid, &[5; 32], 0);
        assert_eq!(
            hex::encode(d),
            include_str!("../testdata/binding_digest.hex").trim()
        );
        assert_eq!(wid, include_str!("../testdata/wallet_id.txt").trim());
        assert_ne!(d, binding_digest("virtengine-2", a, &wid, &[5; 32], 0));
        assert_ne!(d, binding_digest("virtengine-1", a, &wid, &[6; 32], 0));
        assert_ne!(d, binding_digest("virtengine-1", a, &wid, &[5; 32], 1));
        let r = rebind_digest("virtengine-1", a, &wid, &[5; 32], &[6; 32], 1);
        assert_ne!(
            r,
            rebind_digest("virtengine-1", a, &wid, &[5; 32], &[6; 32], 2)
        );
    }

    #[test]
    fn ed25519_verify_accepts_only_the_signing_key_over_the_same_bytes() {
        use ed25519_dalek::Signer;
        let k = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
        let pk = k.verifying_key().to_bytes();
        let sig = k.sign(b"msg").to_bytes();
        assert!(ed25519_verify(&pk, b"msg", &sig));
        assert!(!ed25519_verify(&pk, b"msh", &sig));
        assert!(!ed25519_verify(&[1; 32], b"msg", &sig));
        assert!(!ed25519_verify(&pk, b"msg", &sig[..63]));
    }
}
