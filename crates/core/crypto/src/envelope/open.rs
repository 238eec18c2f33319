//! Opening: find our wrapped key by fingerprint, unwrap the data key, open the payload,
//! and check the header hash sealed inside it in constant time.

use super::*;
use crypto_box::aead::Aead;
use crypto_box::SalsaBox;
use crypto_secretbox::{KeyInit, XSalsa20Poly1305};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// An opened envelope.
#[derive(Debug)]
pub struct Opened {
    /// The plaintext; wiped when dropped.
    pub payload: Zeroizing<Vec<u8>>,
    /// The verified Ed25519 sender key, if the envelope was signed.
    pub sender: Option<SenderVerifyingKey>,
    /// SHA-256 of the envelope bytes.
    pub envelope_hash: [u8; 32],
}

pub fn open(envelope: &[u8], secret: &RecipientSecretKey) -> Result<Opened, EnvelopeError> {
    let parsed = parse_with_limits(envelope, Limits::hard())?;
    let me = secret.public_key().fingerprint();
    let entry = parsed
        .recipients()
        .iter()
        .find(|r| r.key_id == me)
        .ok_or(EnvelopeError::NotARecipient)?;
    let mut eph = [0u8; KEY_LEN];
    eph.copy_from_slice(&parsed.header.ephemeral_public_key);
    let eph = crypto_box::PublicKey::from_bytes(eph);
    let key_nonce = nonce(&entry.key_nonce)?;
    let data_key = Zeroizing::new(
        SalsaBox::new(&eph, &secret.to_box_key())
            .decrypt(&key_nonce.into(), entry.wrapped_key.as_slice())
            .map_err(|_| EnvelopeError::DecryptionFailed)?,
    );
    let data_key: &[u8; KEY_LEN] =
        data_key
            .as_slice()
            .try_into()
            .map_err(|_| EnvelopeError::InvalidLength {
                field: "data key",
                expected: KEY_LEN,
                got: data_key.len(),
            })?;
    let payload_nonce = nonce(&parsed.header.payload_nonce)?;
    let mut plaintext = Zeroizing::new(
        XSalsa20Poly1305::new(data_key.into())
            .decrypt(&payload_nonce.into(), parsed.ciphertext.as_slice())
            .map_err(|_| EnvelopeError::DecryptionFailed)?,
    );
    let bound = plaintext.get(..32).ok_or(EnvelopeError::HeaderMismatch)?;
    if !bool::from(bound.ct_eq(&parsed.header_hash)) {
        return Err(EnvelopeError::HeaderMismatch);
    }
    plaintext.drain(..32);
    Ok(Opened {
        payload: plaintext,
        sender: parsed.sender,
        envelope_hash: parsed.envelope_hash,
    })
}

/// Lengths were checked by `parse`; converting again keeps this function panic-free.
fn nonce(bytes: &[u8]) -> Result<[u8; NONCE_LEN], EnvelopeError> {
    bytes.try_into().map_err(|_| EnvelopeError::InvalidLength {
        field: "nonce",
        expected: NONCE_LEN,
        got: bytes.len(),
    })
}
