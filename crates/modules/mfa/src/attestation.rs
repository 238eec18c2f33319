//! Factor attestations by validator enclaves (TOTP, email OTP, SMS): the exact payload
//! bytes (docs/mfa.md §4). The enclave service signs them; the chain checks the signature
//! against the enclave registry.

use ve_types::Address;

pub const DOMAIN: &[u8] = b"virtengine-mfa-attestation-v2";
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
    /// TOTP: the time step of the checked code; 0 otherwise.
    pub otp_step: u64,
}

/// The bytes a verifier key signs:
/// `DOMAIN || 0x00 || u16be(len(chain_id)) || chain_id || challenge_id (32 ASCII hex) ||
/// account (20 bytes) || u32be(factor_type) || factor_id (32 ASCII hex) ||
/// challenge_data (32 bytes) || outcome (0x01 verified / 0x00 failed) || u64be(otp_step)`.
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
    v.extend_from_slice(&i.otp_step.to_be_bytes());
    v
}
