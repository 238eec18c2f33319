//! Envelope decoding on untrusted bytes (what the chain's `validate_envelope` and every
//! recipient's `open` see): never a panic; whatever parses is canonical, within limits,
//! sorted and unique; and nothing but the genuine envelopes (the seeds) opens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ve_crypto::envelope::{
    open, parse, seal_with_material, RecipientSecretKey, SealMaterial, SenderSigningKey,
};
use ve_fuzz::write_seeds;

fn alice() -> RecipientSecretKey {
    RecipientSecretKey::from_bytes([0x11; 32])
}

fn bob() -> RecipientSecretKey {
    RecipientSecretKey::from_bytes([0x22; 32])
}

/// The envelope of docs/envelope.md's vector 1 (alice only, unsigned).
fn vector_1() -> Vec<u8> {
    let m = SealMaterial {
        ephemeral_secret: [0x33; 32],
        data_key: [0x44; 32],
        payload_nonce: [0x55; 24],
        key_nonces: vec![[0x66; 24]],
    };
    seal_with_material(&m, b"hello, virtengine", &[alice().public_key()], None).unwrap_or_default()
}

/// The envelope of docs/envelope.md's vector 2 (alice and bob, signed).
fn vector_2() -> Vec<u8> {
    let m = SealMaterial {
        ephemeral_secret: [0x33; 32],
        data_key: [0x44; 32],
        payload_nonce: [0x55; 24],
        key_nonces: vec![[0x66; 24], [0x77; 24]],
    };
    let signer = SenderSigningKey::from_bytes(&[0x88; 32]);
    seal_with_material(
        &m,
        b"hello, virtengine",
        &[alice().public_key(), bob().public_key()],
        Some(&signer),
    )
    .unwrap_or_default()
}

fuzz_target!(
    init: {
        write_seeds(|| vec![("vector-1".into(), vector_1()), ("vector-2".into(), vector_2())]);
    },
    |data: &[u8]| {
        if let Ok(p) = parse(data) {
            assert!(!p.recipients().is_empty() && p.recipients().len() <= 100);
            let ids: Vec<&str> = p.recipient_ids().collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "recipients sorted and unique");
            assert_eq!(p.envelope_hash, ve_crypto::sha256(data));
        }
        for key in [alice(), bob()] {
            if let Ok(o) = open(data, &key) {
                // Only the genuine envelope opens: the format has one encoding, and every
                // byte of it is authenticated.
                assert!(
                    data == vector_1().as_slice() || data == vector_2().as_slice(),
                    "a forged envelope opened"
                );
                assert_eq!(o.payload.as_slice(), b"hello, virtengine");
            }
        }
    }
);
