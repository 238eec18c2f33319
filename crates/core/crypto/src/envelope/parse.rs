//! Header-only validation: everything that can be checked without a secret key. Total and
//! deterministic, so consensus code calls it on untrusted bytes.

use super::algorithm::Algorithm;
use super::keys::{is_weak_public_key, validate_fingerprint};
use super::*;
use prost::Message;
use ve_proto::virtengine::encryption::v1::{Envelope, EnvelopeHeader, WrappedKey};

/// Caller-chosen bounds (the chain's params); never above the hard caps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_recipients: usize,
    pub max_envelope_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_recipients: 100,
            max_envelope_len: MAX_ENVELOPE_LEN,
        }
    }
}

impl Limits {
    /// The widest limits: what [`open`](super::open) uses, since a recipient may read any
    /// envelope a sealer could legally produce.
    pub fn hard() -> Self {
        Self {
            max_recipients: HARD_MAX_RECIPIENTS,
            max_envelope_len: MAX_ENVELOPE_LEN,
        }
    }
}

/// A structurally valid envelope (signature, if any, verified).
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedEnvelope {
    pub header: EnvelopeHeader,
    /// The header bytes exactly as carried.
    pub header_bytes: Vec<u8>,
    /// SHA-256 of `header_bytes`; sealed inside the payload.
    pub header_hash: [u8; 32],
    pub ciphertext: Vec<u8>,
    pub algorithm: &'static Algorithm,
    /// SHA-256 of the whole (canonical) envelope: a unique id for it.
    pub envelope_hash: [u8; 32],
    /// The Ed25519 key that signed it, if signed.
    pub sender: Option<SenderVerifyingKey>,
}

impl ParsedEnvelope {
    pub fn recipients(&self) -> &[WrappedKey] {
        &self.header.recipients
    }

    pub fn recipient_ids(&self) -> impl Iterator<Item = &str> {
        self.header.recipients.iter().map(|r| r.key_id.as_str())
    }
}

/// [`parse_with_limits`] with the default limits (100 recipients, 4 MiB payload).
pub fn parse(bytes: &[u8]) -> Result<ParsedEnvelope, EnvelopeError> {
    parse_with_limits(bytes, Limits::default())
}

fn exact_len(field: &'static str, got: &[u8], expected: usize) -> Result<(), EnvelopeError> {
    if got.len() == expected {
        Ok(())
    } else {
        Err(EnvelopeError::InvalidLength {
            field,
            expected,
            got: got.len(),
        })
    }
}

/// Decodes protobuf and insists it is the canonical encoding of what was decoded, so
/// one envelope has exactly one byte string (unknown fields, reordering, explicit
/// defaults and padded varints are all refused).
fn decode_canonical<M: Message + Default>(
    bytes: &[u8],
    what: &'static str,
) -> Result<M, EnvelopeError> {
    let m = M::decode(bytes).map_err(|e| EnvelopeError::Malformed(format!("{what}: {e}")))?;
    if m.encoded_len() != bytes.len() || m.encode_to_vec() != bytes {
        return Err(EnvelopeError::NonCanonical(what));
    }
    Ok(m)
}

pub fn parse_with_limits(bytes: &[u8], limits: Limits) -> Result<ParsedEnvelope, EnvelopeError> {
    let max_len = limits.max_envelope_len.min(MAX_ENVELOPE_LEN);
    if bytes.len() > max_len {
        return Err(EnvelopeError::TooLarge {
            len: bytes.len(),
            max: max_len,
        });
    }
    if bytes.is_empty() {
        return Err(EnvelopeError::Truncated);
    }
    let env: Envelope = decode_canonical(bytes, "envelope")?;
    if env.header.is_empty() {
        return Err(EnvelopeError::Truncated);
    }
    let header: EnvelopeHeader = decode_canonical(&env.header, "header")?;
    if header.version != FORMAT_VERSION {
        return Err(EnvelopeError::UnsupportedVersion(header.version));
    }
    let algorithm = Algorithm::supported(&header.algorithm_id)?;
    if header.algorithm_version != algorithm.version {
        return Err(EnvelopeError::UnsupportedAlgorithmVersion {
            expected: algorithm.version,
            got: header.algorithm_version,
        });
    }
    exact_len(
        "ephemeral_public_key",
        &header.ephemeral_public_key,
        KEY_LEN,
    )?;
    let mut eph = [0u8; KEY_LEN];
    eph.copy_from_slice(&header.ephemeral_public_key);
    if is_weak_public_key(&eph) {
        return Err(EnvelopeError::WeakKey("ephemeral_public_key"));
    }
    exact_len("payload_nonce", &header.payload_nonce, NONCE_LEN)?;
    check_recipients(&header.recipients, limits)?;
    if env.ciphertext.len() < TAG_LEN + 32 {
        return Err(EnvelopeError::CiphertextTooShort(env.ciphertext.len()));
    }
    let sender = check_signature(&header, &env)?;
    Ok(ParsedEnvelope {
        header_hash: crate::sha256(&env.header),
        envelope_hash: crate::sha256(bytes),
        algorithm,
        sender,
        header,
        header_bytes: env.header,
        ciphertext: env.ciphertext,
    })
}

fn check_recipients(list: &[WrappedKey], limits: Limits) -> Result<(), EnvelopeError> {
    if list.is_empty() {
        return Err(EnvelopeError::NoRecipients);
    }
    let max = limits.max_recipients.min(HARD_MAX_RECIPIENTS);
    if list.len() > max {
        return Err(EnvelopeError::TooManyRecipients {
            count: list.len(),
            max,
        });
    }
    let mut prev: Option<&str> = None;
    for r in list {
        validate_fingerprint(&r.key_id)?;
        exact_len("key_nonce", &r.key_nonce, NONCE_LEN)?;
        exact_len("wrapped_key", &r.wrapped_key, WRAPPED_KEY_LEN)?;
        if let Some(p) = prev {
            match p.cmp(r.key_id.as_str()) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => {
                    return Err(EnvelopeError::DuplicateRecipient(r.key_id.clone()))
                }
                std::cmp::Ordering::Greater => return Err(EnvelopeError::RecipientsNotSorted),
            }
        }
        prev = Some(&r.key_id);
    }
    Ok(())
}

fn check_signature(
    header: &EnvelopeHeader,
    env: &Envelope,
) -> Result<Option<SenderVerifyingKey>, EnvelopeError> {
    if header.sender_public_key.is_empty() {
        if !env.signature.is_empty() {
            return Err(EnvelopeError::UnexpectedSignature);
        }
        return Ok(None);
    }
    exact_len(
        "sender_public_key",
        &header.sender_public_key,
        SENDER_KEY_LEN,
    )?;
    exact_len("signature", &env.signature, SIGNATURE_LEN)?;
    let mut pk = [0u8; SENDER_KEY_LEN];
    pk.copy_from_slice(&header.sender_public_key);
    let key = SenderVerifyingKey::from_bytes(&pk).map_err(|_| EnvelopeError::InvalidSignature)?;
    let sig = ed25519_dalek::Signature::from_slice(&env.signature)
        .map_err(|_| EnvelopeError::InvalidSignature)?;
    // verify_strict: rejects small-order keys and non-canonical signatures, so a
    // signature verifies the same way on every node.
    key.verify_strict(&signing_payload(&env.header, &env.ciphertext), &sig)
        .map_err(|_| EnvelopeError::InvalidSignature)?;
    Ok(Some(key))
}
