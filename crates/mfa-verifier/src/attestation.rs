//! Signing the factor attestation the mfa module accepts. The payload bytes are the
//! chain's own ([`ve_mfa::attestation::payload`], docs/mfa.md §4), so signer and checker
//! cannot drift apart; this side only refuses inputs the chain could never match.

use ed25519_dalek::{Signer, SigningKey};
pub use ve_mfa::attestation::{payload, AttestationInput};

/// Factor types a verifier attests (numbering of `virtengine.mfa.v1.FactorType`).
pub const FACTOR_TOTP: u32 = 1;
pub const FACTOR_EMAIL: u32 = 4;

/// Why an attestation cannot be signed.
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

/// Ed25519 signature (64 bytes) over [`payload`].
pub fn sign(key: &SigningKey, a: &AttestationInput<'_>) -> Result<[u8; 64], PayloadError> {
    if a.chain_id.len() > usize::from(u16::MAX) {
        return Err(PayloadError::ChainIdTooLong);
    }
    hex_id(a.challenge_id, "challenge id")?;
    hex_id(a.factor_id, "factor id")?;
    if a.challenge_data.len() != 32 {
        return Err(PayloadError::BadChallengeData(a.challenge_data.len()));
    }
    Ok(key.sign(&payload(a)).to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier};
    use ve_types::Address;

    fn input<'a>(account: &'a Address, data: &'a [u8], verified: bool) -> AttestationInput<'a> {
        AttestationInput {
            chain_id: "c-1",
            challenge_id: "0123456789abcdef0123456789abcdef",
            account,
            factor_type: FACTOR_TOTP,
            factor_id: "fedcba9876543210fedcba9876543210",
            challenge_data: data,
            verified,
            otp_step: 0x0102_0304_0506_0708,
        }
    }

    #[test]
    fn payload_layout_matches_docs_mfa_md() {
        let account = Address([7u8; 20]);
        let data = [9u8; 32];
        let p = payload(&input(&account, &data, true));
        assert_eq!(&p[..29], b"virtengine-mfa-attestation-v2");
        assert_eq!(p[29], 0);
        assert_eq!(&p[30..32], &[0, 3]);
        assert_eq!(&p[32..35], b"c-1");
        assert_eq!(&p[35..67], b"0123456789abcdef0123456789abcdef");
        assert_eq!(&p[67..87], &[7u8; 20]);
        assert_eq!(&p[87..91], &[0, 0, 0, 1]);
        assert_eq!(&p[91..123], b"fedcba9876543210fedcba9876543210");
        assert_eq!(&p[123..155], &[9u8; 32]);
        assert_eq!(p[155], 1);
        assert_eq!(&p[156..164], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(p.len(), 164);
    }

    #[test]
    fn signature_covers_the_outcome_and_the_time_step() {
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let account = Address([7u8; 20]);
        let data = [9u8; 32];
        let a = input(&account, &data, false);
        let sig = Signature::from_bytes(&sign(&key, &a).unwrap());
        key.verifying_key().verify(&payload(&a), &sig).unwrap();
        let flipped = AttestationInput {
            verified: true,
            ..a.clone()
        };
        assert!(key
            .verifying_key()
            .verify(&payload(&flipped), &sig)
            .is_err());
        let later = AttestationInput {
            otp_step: a.otp_step + 1,
            ..a
        };
        assert!(key.verifying_key().verify(&payload(&later), &sig).is_err());
    }

    #[test]
    fn malformed_ids_are_refused() {
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let account = Address([7u8; 20]);
        let data = [9u8; 32];
        let a = AttestationInput {
            challenge_id: "0123456789ABCDEF0123456789ABCDEF",
            ..input(&account, &data, true)
        };
        assert_eq!(sign(&key, &a), Err(PayloadError::BadHexId("challenge id")));
        let b = AttestationInput {
            challenge_data: &data[..31],
            ..input(&account, &data, true)
        };
        assert_eq!(sign(&key, &b), Err(PayloadError::BadChallengeData(31)));
    }
}
