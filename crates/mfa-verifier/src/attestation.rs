//! The factor attestation the mfa module accepts (docs/mfa.md §4), byte for byte.

use ed25519_dalek::{Signer, SigningKey};
use ve_types::Address;

/// Domain prefix of the attestation payload (29 ASCII bytes), followed by a 0x00 byte.
pub const DOMAIN: &[u8; 29] = b"virtengine-mfa-attestation-v1";

/// Factor types a verifier attests (numbering of `virtengine.mfa.v1.FactorType`).
pub const FACTOR_TOTP: u32 = 1;
pub const FACTOR_SMS: u32 = 3;
pub const FACTOR_EMAIL: u32 = 4;

/// What an attestation binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationInput<'a> {
    pub chain_id: &'a str,
    /// 32 lowercase hex characters.
    pub challenge_id: &'a str,
    pub account: &'a Address,
    pub factor_type: u32,
    /// 32 lowercase hex characters.
    pub factor_id: &'a str,
    /// The challenge's 32 bytes of `challenge_data`.
    pub challenge_data: &'a [u8],
    pub verified: bool,
}

/// Why an attestation payload cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("chain id is longer than 65535 bytes")]
    ChainIdTooLong,
    #[error("{0} must be 32 lowercase hex characters")]
    BadHexId(&'static str),
    #[error("challenge data must be 32 bytes, got {0}")]
    BadChallengeData(usize),
}

fn hex_id(s: &str, what: &'static str) -> Result<(), PayloadError> {
    if s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(PayloadError::BadHexId(what))
    }
}

/// The exact bytes signed:
/// `DOMAIN ‖ 0x00 ‖ u16be(len chain_id) ‖ chain_id ‖ challenge_id (32 ASCII) ‖ account (20)
/// ‖ u32be(factor_type) ‖ factor_id (32 ASCII) ‖ challenge_data (32) ‖ outcome (1)`.
pub fn payload(a: &AttestationInput<'_>) -> Result<Vec<u8>, PayloadError> {
    let chain_len = u16::try_from(a.chain_id.len()).map_err(|_| PayloadError::ChainIdTooLong)?;
    hex_id(a.challenge_id, "challenge id")?;
    hex_id(a.factor_id, "factor id")?;
    if a.challenge_data.len() != 32 {
        return Err(PayloadError::BadChallengeData(a.challenge_data.len()));
    }
    let mut out = Vec::with_capacity(30 + 2 + a.chain_id.len() + 32 + 20 + 4 + 32 + 32 + 1);
    out.extend_from_slice(DOMAIN);
    out.push(0);
    out.extend_from_slice(&chain_len.to_be_bytes());
    out.extend_from_slice(a.chain_id.as_bytes());
    out.extend_from_slice(a.challenge_id.as_bytes());
    out.extend_from_slice(&a.account.0);
    out.extend_from_slice(&a.factor_type.to_be_bytes());
    out.extend_from_slice(a.factor_id.as_bytes());
    out.extend_from_slice(a.challenge_data);
    out.push(u8::from(a.verified));
    Ok(out)
}

/// Ed25519 signature (64 bytes) over [`payload`].
pub fn sign(key: &SigningKey, a: &AttestationInput<'_>) -> Result<[u8; 64], PayloadError> {
    Ok(key.sign(&payload(a)?).to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier};

    fn input(verified: bool) -> (Address, Vec<u8>, bool) {
        (Address([7u8; 20]), vec![9u8; 32], verified)
    }

    #[test]
    fn payload_layout_matches_docs_mfa_md() {
        let (account, data, _) = input(true);
        let a = AttestationInput {
            chain_id: "c-1",
            challenge_id: "0123456789abcdef0123456789abcdef",
            account: &account,
            factor_type: FACTOR_TOTP,
            factor_id: "fedcba9876543210fedcba9876543210",
            challenge_data: &data,
            verified: true,
        };
        let p = payload(&a).unwrap();
        assert_eq!(&p[..29], b"virtengine-mfa-attestation-v1");
        assert_eq!(p[29], 0);
        assert_eq!(&p[30..32], &[0, 3]);
        assert_eq!(&p[32..35], b"c-1");
        assert_eq!(&p[35..67], b"0123456789abcdef0123456789abcdef");
        assert_eq!(&p[67..87], &[7u8; 20]);
        assert_eq!(&p[87..91], &[0, 0, 0, 1]);
        assert_eq!(&p[91..123], b"fedcba9876543210fedcba9876543210");
        assert_eq!(&p[123..155], &[9u8; 32]);
        assert_eq!(p[155], 1);
        assert_eq!(p.len(), 156);
    }

    #[test]
    fn signature_covers_the_outcome() {
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let (account, data, _) = input(true);
        let mut a = AttestationInput {
            chain_id: "c",
            challenge_id: "0123456789abcdef0123456789abcdef",
            account: &account,
            factor_type: FACTOR_EMAIL,
            factor_id: "fedcba9876543210fedcba9876543210",
            challenge_data: &data,
            verified: false,
        };
        let sig = Signature::from_bytes(&sign(&key, &a).unwrap());
        key.verifying_key()
            .verify(&payload(&a).unwrap(), &sig)
            .unwrap();
        a.verified = true;
        assert!(key
            .verifying_key()
            .verify(&payload(&a).unwrap(), &sig)
            .is_err());
    }

    #[test]
    fn malformed_ids_are_refused() {
        let (account, data, _) = input(true);
        let a = AttestationInput {
            chain_id: "c",
            challenge_id: "0123456789ABCDEF0123456789ABCDEF",
            account: &account,
            factor_type: FACTOR_TOTP,
            factor_id: "fedcba9876543210fedcba9876543210",
            challenge_data: &data,
            verified: true,
        };
        assert_eq!(payload(&a), Err(PayloadError::BadHexId("challenge id")));
        let b = AttestationInput {
            challenge_id: "0123456789abcdef0123456789abcdef",
            challenge_data: &data[..31],
            ..a
        };
        assert_eq!(payload(&b), Err(PayloadError::BadChallengeData(31)));
    }
}
