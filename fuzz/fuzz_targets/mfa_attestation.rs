//! Verifier factor attestations (TOTP / email / SMS results signed by an off-chain
//! verifier, checked by `MsgVerifyChallenge`) on untrusted bytes: never a panic, and only
//! the genuine signature over the genuine payload verifies against the registered key.
//!
//! Input: `signature (64) || verified (1) || factor_type (4, be) || challenge_data (32) ||
//! chain_id (rest, UTF-8)`.
#![no_main]

use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use ve_fuzz::write_seeds;
use ve_mfa::attestation::{payload, verify, AttestationInput};
use ve_types::Address;

const CHALLENGE_ID: &str = "0123456789abcdef0123456789abcdef";
const FACTOR_ID: &str = "fedcba9876543210fedcba9876543210";
const ACCOUNT: Address = Address([7; 20]);

fn key() -> SigningKey {
    SigningKey::from_bytes(&[0x5A; 32])
}

fn input<'a>(
    chain_id: &'a str,
    data: &'a [u8],
    factor_type: u32,
    verified: bool,
) -> AttestationInput<'a> {
    AttestationInput {
        chain_id,
        challenge_id: CHALLENGE_ID,
        account: &ACCOUNT,
        factor_type,
        factor_id: FACTOR_ID,
        challenge_data: data,
        verified,
    }
}

fn genuine(chain_id: &str, verified: bool) -> Vec<u8> {
    let cd = [0x33u8; 32];
    let i = input(chain_id, &cd, 1, verified);
    let sig = key().sign(&payload(&i)).to_bytes();
    let mut v = sig.to_vec();
    v.push(u8::from(verified));
    v.extend_from_slice(&1u32.to_be_bytes());
    v.extend_from_slice(&cd);
    v.extend_from_slice(chain_id.as_bytes());
    v
}

fuzz_target!(
    init: {
        write_seeds(|| {
            vec![
                ("verified".into(), genuine("virtengine-1", true)),
                ("failed".into(), genuine("virtengine-1", false)),
                ("empty-chain".into(), genuine("", true)),
            ]
        });
    },
    |data: &[u8]| {
        if data.len() < 64 + 1 + 4 + 32 {
            // Short signatures and keys must be refused, not panic.
            let _ = verify(data, &input("c", &[0; 32], 1, true), data);
            return;
        }
        let (sig, rest) = data.split_at(64);
        let verified = rest[0] & 1 == 1;
        let factor_type = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]);
        let (cd, chain) = rest[5..].split_at(32);
        let Ok(chain_id) = std::str::from_utf8(chain) else {
            return;
        };
        let i = input(chain_id, cd, factor_type, verified);
        let pk = key().verifying_key().to_bytes();
        if verify(&pk, &i, sig).is_ok() {
            // Ed25519 strict verification: exactly one signature per message and key.
            assert_eq!(sig, key().sign(&payload(&i)).to_bytes().as_slice(), "a forged attestation verified");
        }
        // The signature bytes as a key and the key bytes as a signature: refused, no panic.
        assert!(verify(sig, &i, &pk).is_err());
    }
);
