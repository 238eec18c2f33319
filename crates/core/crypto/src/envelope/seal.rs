//! Sealing: the only place randomness is used. [`seal_with_material`] is the
//! deterministic core; the published test vectors call it with fixed material.

use super::*;
use crypto_box::aead::Aead;
use crypto_box::SalsaBox;
use crypto_secretbox::{KeyInit, XSalsa20Poly1305};
use ed25519_dalek::Signer;
use prost::Message;
use rand_core::CryptoRngCore;
use ve_proto::virtengine::encryption::v1::{Envelope, EnvelopeHeader, WrappedKey};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Everything random in an envelope. `key_nonces[i]` belongs to the i-th recipient in
/// ascending fingerprint order (the order recipients appear in the header).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SealMaterial {
    pub ephemeral_secret: [u8; KEY_LEN],
    pub data_key: [u8; KEY_LEN],
    pub payload_nonce: [u8; NONCE_LEN],
    pub key_nonces: Vec<[u8; NONCE_LEN]>,
}

impl SealMaterial {
    /// Draws material in the documented order: ephemeral secret (32), data key (32),
    /// payload nonce (24), then one 24-byte key nonce per recipient.
    pub fn random(rng: &mut impl CryptoRngCore, recipients: usize) -> Self {
        let mut m = Self {
            ephemeral_secret: [0; KEY_LEN],
            data_key: [0; KEY_LEN],
            payload_nonce: [0; NONCE_LEN],
            key_nonces: vec![[0; NONCE_LEN]; recipients],
        };
        rng.fill_bytes(&mut m.ephemeral_secret);
        rng.fill_bytes(&mut m.data_key);
        rng.fill_bytes(&mut m.payload_nonce);
        for n in &mut m.key_nonces {
            rng.fill_bytes(n);
        }
        m
    }
}

/// Seals `payload` to `recipients` (at most 100, see [`Limits`]) with OS randomness,
/// optionally signed by `signer`. Returns the encoded envelope.
pub fn seal(
    payload: &[u8],
    recipients: &[RecipientPublicKey],
    signer: Option<&SenderSigningKey>,
) -> Result<Vec<u8>, EnvelopeError> {
    seal_with_rng(&mut rand_core::OsRng, payload, recipients, signer) // allowed: sealing runs in clients; validation is deterministic
}

pub fn seal_with_rng(
    rng: &mut impl CryptoRngCore,
    payload: &[u8],
    recipients: &[RecipientPublicKey],
    signer: Option<&SenderSigningKey>,
) -> Result<Vec<u8>, EnvelopeError> {
    let material = SealMaterial::random(rng, recipients.len());
    seal_with_material(&material, payload, recipients, signer)
}

fn sorted_unique(
    recipients: &[RecipientPublicKey],
) -> Result<Vec<(String, RecipientPublicKey)>, EnvelopeError> {
    if recipients.is_empty() {
        return Err(EnvelopeError::NoRecipients);
    }
    let max = Limits::default().max_recipients;
    if recipients.len() > max {
        return Err(EnvelopeError::TooManyRecipients {
            count: recipients.len(),
            max,
        });
    }
    let mut list: Vec<(String, RecipientPublicKey)> =
        recipients.iter().map(|k| (k.fingerprint(), *k)).collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    for pair in list.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(EnvelopeError::DuplicateRecipient(pair[0].0.clone()));
        }
    }
    Ok(list)
}

/// Deterministic sealing from explicit material. Public for test vectors and for
/// implementers checking their own code; applications call [`seal`].
pub fn seal_with_material(
    m: &SealMaterial,
    payload: &[u8],
    recipients: &[RecipientPublicKey],
    signer: Option<&SenderSigningKey>,
) -> Result<Vec<u8>, EnvelopeError> {
    if payload.len() > MAX_PAYLOAD_LEN {
        return Err(EnvelopeError::PayloadTooLarge {
            len: payload.len(),
            max: MAX_PAYLOAD_LEN,
        });
    }
    let list = sorted_unique(recipients)?;
    if m.key_nonces.len() != list.len() {
        return Err(EnvelopeError::InvalidLength {
            field: "seal material key_nonces",
            expected: list.len(),
            got: m.key_nonces.len(),
        });
    }
    for (_, k) in &list {
        if is_weak_public_key(k.as_bytes()) {
            return Err(EnvelopeError::WeakKey("recipient public key"));
        }
    }
    let ephemeral = RecipientSecretKey::from_bytes(m.ephemeral_secret);
    let eph_box_secret = ephemeral.to_box_key();
    let mut wrapped = Vec::with_capacity(list.len());
    for ((key_id, pk), nonce) in list.into_iter().zip(&m.key_nonces) {
        let wrapped_key = SalsaBox::new(&pk.to_box_key(), &eph_box_secret)
            .encrypt(nonce.into(), m.data_key.as_slice())
            .map_err(|_| EnvelopeError::DecryptionFailed)?;
        wrapped.push(WrappedKey {
            key_id,
            key_nonce: nonce.to_vec(),
            wrapped_key,
        });
    }
    let header = EnvelopeHeader {
        version: FORMAT_VERSION,
        algorithm_id: PRIMARY_ALGORITHM.id.to_string(),
        algorithm_version: PRIMARY_ALGORITHM.version,
        ephemeral_public_key: ephemeral.public_key().as_bytes().to_vec(),
        payload_nonce: m.payload_nonce.to_vec(),
        recipients: wrapped,
        sender_public_key: signer
            .map(|s| s.verifying_key().to_bytes().to_vec())
            .unwrap_or_default(),
    }
    .encode_to_vec();
    let mut plaintext = Zeroizing::new(Vec::with_capacity(32 + payload.len()));
    plaintext.extend_from_slice(&crate::sha256(&header));
    plaintext.extend_from_slice(payload);
    let ciphertext = XSalsa20Poly1305::new((&m.data_key).into())
        .encrypt((&m.payload_nonce).into(), plaintext.as_slice())
        .map_err(|_| EnvelopeError::DecryptionFailed)?;
    let signature = signer
        .map(|s| {
            s.sign(&signing_payload(&header, &ciphertext))
                .to_bytes()
                .to_vec()
        })
        .unwrap_or_default();
    Ok(Envelope {
        header,
        ciphertext,
        signature,
    }
    .encode_to_vec())
}
