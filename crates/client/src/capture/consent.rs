//! Consent for biometric scopes. The identity module leaves a selfie (and other biometric
//! scopes) out of verification until the account has granted consent for it, and consent
//! lives in the account's identity wallet, which is bound to an Ed25519 key the user
//! holds (docs/veid.md, identity wallet):
//!
//! ```text
//! wallet_id      = "wallet_" ‖ hex(SHA-256("VEID_WALLET:" ‖ address)[..16])
//! binding_digest = SHA-256( "virtengine-veid-wallet-binding-v1" ‖ lp(chain_id)
//!                  ‖ lp(address) ‖ lp(wallet_id) ‖ binding_pub_key[32] ‖ u32be(version) )
//! ```
//! Implemented here independently of `ve_identity::payload` and checked against it.

use ed25519_dalek::Signer;
use sha2::{Digest, Sha256};
use ve_proto::virtengine::identity::v1 as id;
use ve_proto::Any;
use ve_types::Address;

pub const MSG_CREATE_WALLET: &str = "/virtengine.identity.v1.MsgCreateIdentityWallet";
pub const MSG_GRANT_SCOPE_CONSENT: &str = "/virtengine.identity.v1.MsgGrantScopeConsent";
pub const PATH_WALLET: &str = "/virtengine.identity.v1.Query/Wallet";
/// The purpose recorded with a consent granted by this library.
pub const VERIFICATION_PURPOSE: &str = "identity verification";

pub fn wallet_id(address: &str) -> String {
    let h = Sha256::digest([b"VEID_WALLET:".as_slice(), address.as_bytes()].concat());
    format!("wallet_{}", hex::encode(&h[..16]))
}

fn lp(h: &mut Sha256, b: &[u8]) {
    h.update(u32::try_from(b.len()).unwrap_or(u32::MAX).to_be_bytes());
    h.update(b);
}

pub fn binding_digest(
    chain_id: &str,
    address: &str,
    wallet_id: &str,
    binding_pub_key: &[u8; 32],
    binding_version: u32,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"virtengine-veid-wallet-binding-v1");
    lp(&mut h, chain_id.as_bytes());
    lp(&mut h, address.as_bytes());
    lp(&mut h, wallet_id.as_bytes());
    h.update(binding_pub_key);
    h.update(binding_version.to_be_bytes());
    h.finalize().into()
}

/// `MsgCreateIdentityWallet` for `sender`, bound to `binding_key` (default consent
/// settings: sharing for verification and re-verification on).
pub fn create_wallet_msg(
    chain_id: &str,
    sender: &Address,
    binding_key: &ed25519_dalek::SigningKey,
) -> id::MsgCreateIdentityWallet {
    let address = sender.to_string();
    let pk = binding_key.verifying_key().to_bytes();
    let digest = binding_digest(chain_id, &address, &wallet_id(&address), &pk, 0);
    id::MsgCreateIdentityWallet {
        sender: address,
        binding_pub_key: pk.to_vec(),
        binding_signature: binding_key.sign(&digest).to_bytes().to_vec(),
        consent_settings: None,
    }
}

pub fn create_wallet_any(
    chain_id: &str,
    sender: &Address,
    binding_key: &ed25519_dalek::SigningKey,
) -> Any {
    ve_proto::to_any(
        MSG_CREATE_WALLET,
        &create_wallet_msg(chain_id, sender, binding_key),
    )
}

/// Consent for `scope_id` to be used for identity verification, without expiry.
pub fn grant_consent_any(sender: &Address, scope_id: &str) -> Any {
    ve_proto::to_any(
        MSG_GRANT_SCOPE_CONSENT,
        &id::MsgGrantScopeConsent {
            sender: sender.to_string(),
            scope_id: scope_id.to_string(),
            purpose: VERIFICATION_PURPOSE.to_string(),
            expires_at: 0,
        },
    )
}

/// Whether a scope type is biometric (needs consent before verification uses it).
pub fn needs_consent(t: id::ScopeType) -> bool {
    matches!(
        t,
        id::ScopeType::Selfie
            | id::ScopeType::FaceVideo
            | id::ScopeType::Biometric
            | id::ScopeType::BiometricHardware
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallet_id_and_binding_digest_equal_the_identity_modules() {
        let addr = "ve1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqh7d9m3";
        assert_eq!(wallet_id(addr), ve_identity::payload::wallet_id(addr));
        let pk = [7u8; 32];
        for v in [0, 1, 9] {
            assert_eq!(
                binding_digest("c-1", addr, &wallet_id(addr), &pk, v),
                ve_identity::payload::binding_digest("c-1", addr, &wallet_id(addr), &pk, v)
            );
        }
    }

    #[test]
    fn biometric_types_need_consent_exactly_as_the_module_says() {
        for t in 1..=12 {
            let st = id::ScopeType::try_from(t).unwrap();
            assert_eq!(
                needs_consent(st),
                ve_identity::types::needs_explicit_consent(t),
                "{st:?}"
            );
        }
    }
}
