//! Factor attestations by off-chain verifier services (TOTP, email OTP, SMS): the exact
//! payload bytes (docs/mfa.md §4) and their Ed25519 check.

use ve_types::Address;

pub const DOMAIN: &[u8] = b"virtengine-mfa-attestation-v1";
pub const OUTCOME_VERIFIED: u8 = 0x01;
pub const OUTCOME_FAILED: u8 = 0x00;

/// What an attestation is bound to.
#[derive(Clone, Debug)]
pub struct AttestationInput<'a> {
    pub chain_id: &'a str,
    pub challenge_id: &'a str,
    pub account: &'a Address,
    pub factor_type: u32,
    pub factor_id: &'a str,
    pub challenge_data: &'a [u8],
    pub verified: bool,
}

/// The bytes a verifier key signs:
/// `DOMAIN || 0x00 || u16be(len(chain_id)) || chain_id || challenge_id (32 ASCII hex) ||
/// account (20 bytes) || u32be(factor_type) || factor_id (32 ASCII hex) ||
/// challenge_data (32 bytes) || outcome (0x01 verified / 0x00 failed)`.
pub fn payload(i: &AttestationInput<'_>) -> Vec<u8> {
    let chain = i.chain_id.as_bytes();
    let len = u16::try_from(chain.len()).unwrap_or(u16::MAX);
    let mut v = Vec::with_capacity(200);
    v.extend_from_slice(DOMAIN);
    v.push(0x00);
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(chain.get(..usize::from(len)).unwrap_or(chain));
    v.extend_from_slice(i.challenge_id.as_bytes());
    v.extend_from_slice(i.account.as_bytes());
    v.extend_from_slice(&i.factor_type.to_be_bytes());
    v.extend_from_slice(i.factor_id.as_bytes());
    v.extend_from_slice(i.challenge_data);
    v.push(if i.verified {
        OUTCOME_VERIFIED
    } else {
        OUTCOME_FAILED
    });
    v
}

/// Checks an Ed25519 attestation signature (strict verification).
pub fn verify(
    public_key: &[u8],
    input: &AttestationInput<'_>,
    signature: &[u8],
) -> Result<(), String> {
    let pk: [u8; 32] = public_key
        .try_into()
        .map_err(|_| "verifier key is not 32 bytes".to_string())?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&pk)
        .map_err(|_| "verifier key is not an Ed25519 point".to_string())?;
    let sig = ed25519_dalek::Signature::from_slice(signature)
        .map_err(|_| "attestation signature must be 64 bytes".to_string())?;
    key.verify_strict(&payload(input), &sig)
        .map_err(|_| "attestation signature does not verify with the verifier key".to_string())
}
