//! Envelope behaviour: round trips, tampering, wrong keys, bad input, properties.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use proptest::prelude::*;
use prost::Message;
use ve_proto::virtengine::encryption::v1::{Envelope, EnvelopeHeader};

/// A deterministic "RNG" for tests: a counter stream (not random, not for production).
struct CounterRng(u8);

impl rand_core::RngCore for CounterRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            self.0 = self.0.wrapping_mul(31).wrapping_add(7);
            *b = self.0;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl rand_core::CryptoRng for CounterRng {}

fn secret(seed: u8) -> RecipientSecretKey {
    RecipientSecretKey::from_bytes([seed; 32])
}

fn seal_to(payload: &[u8], seeds: &[u8], signer: Option<&SenderSigningKey>) -> Vec<u8> {
    let pks: Vec<_> = seeds.iter().map(|s| secret(*s).public_key()).collect();
    seal(payload, &pks, signer).unwrap()
}

/// Re-encodes an envelope after editing its decoded header.
fn with_header(env: &[u8], edit: impl FnOnce(&mut EnvelopeHeader)) -> Vec<u8> {
    let mut e = Envelope::decode(env).unwrap();
    let mut h = EnvelopeHeader::decode(e.header.as_slice()).unwrap();
    edit(&mut h);
    e.header = h.encode_to_vec();
    e.encode_to_vec()
}

#[test]
fn round_trip_single_recipient() {
    let env = seal_to(b"secret scope", &[1], None);
    let opened = open(&env, &secret(1)).unwrap();
    assert_eq!(opened.payload.as_slice(), b"secret scope");
    assert!(opened.sender.is_none());
    assert_eq!(opened.envelope_hash, crate::sha256(&env));
}

#[test]
fn round_trip_empty_payload_and_signed() {
    let signer = SenderSigningKey::from_bytes(&[9; 32]);
    let env = seal_to(b"", &[1, 2], Some(&signer));
    let opened = open(&env, &secret(2)).unwrap();
    assert!(opened.payload.is_empty());
    assert_eq!(opened.sender, Some(signer.verifying_key()));
    assert_eq!(parse(&env).unwrap().sender, Some(signer.verifying_key()));
}

#[test]
fn each_of_many_recipients_opens() {
    let seeds: Vec<u8> = (1..=100).collect();
    let env = seal_to(b"to the whole committee", &seeds, None);
    assert_eq!(parse(&env).unwrap().recipients().len(), 100);
    for s in seeds {
        assert_eq!(
            open(&env, &secret(s)).unwrap().payload.as_slice(),
            b"to the whole committee"
        );
    }
}

#[test]
fn wrong_recipient_fails() {
    let env = seal_to(b"x", &[1, 2], None);
    assert_eq!(
        open(&env, &secret(3)).unwrap_err(),
        EnvelopeError::NotARecipient
    );
}

#[test]
fn recipient_listed_but_wrapped_for_someone_else_fails() {
    // Put recipient 1's fingerprint on the entry wrapped for recipient 2.
    let env = seal_to(b"x", &[2], None);
    let fp1 = secret(1).public_key().fingerprint();
    let forged = with_header(&env, |h| h.recipients[0].key_id = fp1);
    assert_eq!(
        open(&forged, &secret(1)).unwrap_err(),
        EnvelopeError::DecryptionFailed
    );
}

fn assert_every_byte_tamper_fails(env: &[u8], key: &RecipientSecretKey) {
    assert!(open(env, key).is_ok());
    let mut tampered = env.to_vec();
    for i in 0..env.len() {
        for mask in 1..=255u8 {
            tampered[i] ^= mask;
            if let Ok(o) = open(&tampered, key) {
                panic!(
                    "tamper at byte {i} (mask {mask:#04x}) opened to {:?}",
                    o.payload.as_slice()
                );
            }
            tampered[i] ^= mask;
        }
    }
}

#[test]
fn every_single_byte_tamper_fails_unsigned() {
    // Header, every wrapped key and the ciphertext: any change to any byte is refused,
    // including changes to the *other* recipient's wrapped key (the header is bound).
    let env = seal_to(b"payload!", &[1, 2], None);
    assert_every_byte_tamper_fails(&env, &secret(1));
}

#[test]
fn every_single_byte_tamper_fails_signed() {
    let signer = SenderSigningKey::from_bytes(&[7; 32]);
    let env = seal_to(b"p", &[1], Some(&signer));
    assert_every_byte_tamper_fails(&env, &secret(1));
}

#[test]
fn stripping_the_signature_is_refused() {
    let signer = SenderSigningKey::from_bytes(&[7; 32]);
    let env = seal_to(b"p", &[1], Some(&signer));
    let mut e = Envelope::decode(env.as_slice()).unwrap();
    e.signature.clear();
    let err = parse(&e.encode_to_vec()).unwrap_err();
    assert!(
        matches!(
            err,
            EnvelopeError::InvalidLength {
                field: "signature",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn signature_from_another_key_is_refused() {
    let a = SenderSigningKey::from_bytes(&[7; 32]);
    let env = seal_to(b"p", &[1], Some(&a));
    let b = SenderSigningKey::from_bytes(&[8; 32]);
    let forged = with_header(&env, |h| {
        h.sender_public_key = b.verifying_key().to_bytes().to_vec()
    });
    assert_eq!(parse(&forged).unwrap_err(), EnvelopeError::InvalidSignature);
}

#[test]
fn duplicate_recipients_are_refused() {
    let pk = secret(1).public_key();
    assert_eq!(
        seal(b"x", &[pk, pk], None).unwrap_err(),
        EnvelopeError::DuplicateRecipient(pk.fingerprint())
    );
    let env = seal_to(b"x", &[1, 2], None);
    let dup = with_header(&env, |h| {
        let first = h.recipients[0].clone();
        h.recipients[1] = first;
    });
    assert!(matches!(
        parse(&dup).unwrap_err(),
        EnvelopeError::DuplicateRecipient(_)
    ));
    let unsorted = with_header(&env, |h| h.recipients.reverse());
    assert_eq!(
        parse(&unsorted).unwrap_err(),
        EnvelopeError::RecipientsNotSorted
    );
}

#[test]
fn unknown_and_reserved_algorithms_are_refused() {
    let env = seal_to(b"x", &[1], None);
    let unknown = with_header(&env, |h| h.algorithm_id = "ROT13".into());
    assert_eq!(parse(&unknown).unwrap_err().code(), 6);
    let reserved = with_header(&env, |h| h.algorithm_id = "ML-KEM-768".into());
    assert_eq!(
        parse(&reserved).unwrap_err(),
        EnvelopeError::UnsupportedAlgorithm("ML-KEM-768".into())
    );
    let lower = with_header(&env, |h| h.algorithm_id = h.algorithm_id.to_lowercase());
    assert!(matches!(
        parse(&lower).unwrap_err(),
        EnvelopeError::UnknownAlgorithm(_)
    ));
    let v2 = with_header(&env, |h| h.algorithm_version = 2);
    assert!(matches!(
        parse(&v2).unwrap_err(),
        EnvelopeError::UnsupportedAlgorithmVersion { .. }
    ));
    let fmt2 = with_header(&env, |h| h.version = 2);
    assert_eq!(
        parse(&fmt2).unwrap_err(),
        EnvelopeError::UnsupportedVersion(2)
    );
    assert_eq!(
        Algorithm::by_id_ignore_case("x25519-xsalsa20-poly1305")
            .unwrap()
            .id,
        PRIMARY_ALGORITHM.id
    );
}

#[test]
fn keys_of_the_wrong_length_are_refused() {
    for len in [0usize, 31, 33, 64] {
        assert!(matches!(
            RecipientPublicKey::from_slice(&vec![9; len]).unwrap_err(),
            EnvelopeError::InvalidLength { got, .. } if got == len
        ));
        assert!(RecipientSecretKey::from_slice(&vec![9; len]).is_err());
    }
    let env = seal_to(b"x", &[1], None);
    let short = with_header(&env, |h| h.ephemeral_public_key.pop().map(|_| ()).unwrap());
    assert!(matches!(
        parse(&short).unwrap_err(),
        EnvelopeError::InvalidLength {
            field: "ephemeral_public_key",
            ..
        }
    ));
    let short_wrap = with_header(&env, |h| {
        h.recipients[0].wrapped_key.pop();
    });
    assert!(matches!(
        parse(&short_wrap).unwrap_err(),
        EnvelopeError::InvalidLength {
            field: "wrapped_key",
            ..
        }
    ));
    let bad_fp = with_header(&env, |h| {
        h.recipients[0].key_id = h.recipients[0].key_id.to_uppercase()
    });
    assert!(matches!(
        parse(&bad_fp).unwrap_err(),
        EnvelopeError::InvalidFingerprint(_)
    ));
}

#[test]
fn weak_keys_are_refused() {
    assert_eq!(
        RecipientPublicKey::from_slice(&[0; 32]).unwrap_err(),
        EnvelopeError::WeakKey("recipient public key")
    );
    let mut one = [0u8; 32];
    one[0] = 1;
    assert!(RecipientPublicKey::from_slice(&one).is_err());
    let env = seal_to(b"x", &[1], None);
    let weak = with_header(&env, |h| h.ephemeral_public_key = vec![0; 32]);
    assert_eq!(
        parse(&weak).unwrap_err(),
        EnvelopeError::WeakKey("ephemeral_public_key")
    );
}

#[test]
fn truncated_envelopes_are_refused() {
    let env = seal_to(b"some payload", &[1, 2], None);
    assert_eq!(parse(&[]).unwrap_err(), EnvelopeError::Truncated);
    for cut in 0..env.len() {
        assert!(
            open(&env[..cut], &secret(1)).is_err(),
            "prefix {cut} opened"
        );
    }
}

#[test]
fn oversized_input_is_refused() {
    let pk = secret(1).public_key();
    let big = vec![0u8; MAX_PAYLOAD_LEN + 1];
    assert!(matches!(
        seal(&big, &[pk], None).unwrap_err(),
        EnvelopeError::PayloadTooLarge { .. }
    ));
    let env = seal_to(b"x", &[1], None);
    let limits = Limits {
        max_envelope_len: env.len() - 1,
        ..Limits::default()
    };
    assert!(matches!(
        parse_with_limits(&env, limits).unwrap_err(),
        EnvelopeError::TooLarge { .. }
    ));
    assert!(matches!(
        parse(&vec![0u8; MAX_ENVELOPE_LEN + 1]).unwrap_err(),
        EnvelopeError::TooLarge { .. }
    ));
}

#[test]
fn too_many_recipients_are_refused() {
    let pks: Vec<_> = (0..101u8)
        .map(|s| secret(s.wrapping_add(1)).public_key())
        .collect();
    assert_eq!(
        seal(b"x", &pks, None).unwrap_err(),
        EnvelopeError::TooManyRecipients {
            count: 101,
            max: 100
        }
    );
    assert_eq!(
        seal(b"x", &[], None).unwrap_err(),
        EnvelopeError::NoRecipients
    );
    let env = seal_to(b"x", &[1, 2, 3], None);
    let limits = Limits {
        max_recipients: 2,
        ..Limits::default()
    };
    assert!(matches!(
        parse_with_limits(&env, limits).unwrap_err(),
        EnvelopeError::TooManyRecipients { count: 3, max: 2 }
    ));
}

#[test]
fn non_canonical_encodings_are_refused() {
    let env = seal_to(b"x", &[1], None);
    // An unknown field appended to the envelope.
    let mut extra = env.clone();
    extra.extend_from_slice(&[0x20, 0x01]);
    assert_eq!(
        parse(&extra).unwrap_err(),
        EnvelopeError::NonCanonical("envelope")
    );
    // An explicit default (empty signature) encoded.
    let mut explicit = env.clone();
    explicit.extend_from_slice(&[0x1a, 0x00]);
    assert_eq!(
        parse(&explicit).unwrap_err(),
        EnvelopeError::NonCanonical("envelope")
    );
}

#[test]
fn error_codes_are_distinct() {
    let errs = [
        EnvelopeError::Truncated,
        EnvelopeError::TooLarge { len: 0, max: 0 },
        EnvelopeError::Malformed(String::new()),
        EnvelopeError::NonCanonical(""),
        EnvelopeError::UnsupportedVersion(0),
        EnvelopeError::UnknownAlgorithm(String::new()),
        EnvelopeError::UnsupportedAlgorithm(String::new()),
        EnvelopeError::UnsupportedAlgorithmVersion {
            expected: 0,
            got: 0,
        },
        EnvelopeError::InvalidLength {
            field: "",
            expected: 0,
            got: 0,
        },
        EnvelopeError::NoRecipients,
        EnvelopeError::TooManyRecipients { count: 0, max: 0 },
        EnvelopeError::DuplicateRecipient(String::new()),
        EnvelopeError::RecipientsNotSorted,
        EnvelopeError::InvalidFingerprint(String::new()),
        EnvelopeError::WeakKey(""),
        EnvelopeError::CiphertextTooShort(0),
        EnvelopeError::InvalidSignature,
        EnvelopeError::UnexpectedSignature,
        EnvelopeError::SignatureRequired,
        EnvelopeError::PayloadTooLarge { len: 0, max: 0 },
        EnvelopeError::NotARecipient,
        EnvelopeError::DecryptionFailed,
        EnvelopeError::HeaderMismatch,
    ];
    let codes: std::collections::BTreeSet<u32> = errs.iter().map(EnvelopeError::code).collect();
    assert_eq!(codes.len(), errs.len());
    assert!(!codes.contains(&0));
}

#[test]
fn fingerprint_is_first_20_bytes_of_sha256_in_lowercase_hex() {
    let pk = secret(1).public_key();
    let fp = pk.fingerprint();
    assert_eq!(fp, hex::encode(&crate::sha256(pk.as_bytes())[..20]));
    assert_eq!(fp.len(), FINGERPRINT_HEX_LEN);
    validate_fingerprint(&fp).unwrap();
    assert!(validate_fingerprint(&fp.to_uppercase()).is_err());
    assert!(validate_fingerprint(&format!("{fp}:v1")).is_err());
}

#[test]
fn seal_with_rng_is_deterministic_for_a_fixed_stream() {
    let pks = [secret(1).public_key(), secret(2).public_key()];
    let a = seal_with_rng(&mut CounterRng(1), b"x", &pks, None).unwrap();
    let b = seal_with_rng(&mut CounterRng(1), b"x", &pks, None).unwrap();
    assert_eq!(a, b);
    let c = seal_with_rng(&mut CounterRng(2), b"x", &pks, None).unwrap();
    assert_ne!(a, c);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_payload_round_trips_for_every_recipient(
        payload in proptest::collection::vec(any::<u8>(), 0..2048),
        seeds in proptest::collection::btree_set(1u8..=255, 1..6),
        signed in any::<bool>(),
    ) {
        let seeds: Vec<u8> = seeds.into_iter().collect();
        let signer = SenderSigningKey::from_bytes(&[42; 32]);
        let env = seal_to(&payload, &seeds, signed.then_some(&signer));
        for s in &seeds {
            let o = open(&env, &secret(*s)).unwrap();
            prop_assert_eq!(o.payload.as_slice(), payload.as_slice());
            prop_assert_eq!(o.sender.is_some(), signed);
        }
        prop_assert_eq!(open(&env, &secret(0)).unwrap_err(), EnvelopeError::NotARecipient);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = parse(&bytes);
        let _ = open(&bytes, &secret(1));
    }

    #[test]
    fn random_edits_never_open(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..8),
    ) {
        let env = seal_to(b"edit me", &[1, 2], None);
        let mut t = env.clone();
        for (i, mask) in edits {
            let i = i.index(t.len());
            t[i] ^= mask;
        }
        prop_assert!(open(&t, &secret(1)).is_err() || t == env);
    }
}
