//! The two keys the verifier works with: they are the validator enclave's own keys
//! (`virtengine enclave run --otp-listen`), unsealed inside the enclave service. TOTP and
//! email secrets are sealed to the enclave's X25519 key; attestations are signed with its
//! Ed25519 key, which the chain finds in the enclave registry under `key_id`, the
//! validator operator address the enclave is registered for.

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use ve_crypto::envelope::{RecipientPublicKey, RecipientSecretKey};
use ve_types::Address;

/// The public description of the verifier: what `GET /v1/info` shows, to be compared
/// with the enclave registry (`query enclave identity OPERATOR`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PublicKeyInfo {
    /// The validator operator address whose enclave this is.
    pub key_id: String,
    /// Hex of the Ed25519 public key that signs attestations.
    pub public_key: String,
    /// Hex of the X25519 public key factor secrets are sealed to.
    pub encryption_public_key: String,
    /// Envelope fingerprint (40 hex) of `encryption_public_key`.
    pub encryption_fingerprint: String,
    /// Factor types attested (1 TOTP, 4 EMAIL).
    pub factor_types: Vec<u32>,
}

pub struct VerifierKeys {
    pub key_id: String,
    pub signing: SigningKey,
    pub envelope: RecipientSecretKey,
}

impl std::fmt::Debug for VerifierKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifierKeys")
            .field("key_id", &self.key_id)
            .field(
                "public_key",
                &hex::encode(self.signing.verifying_key().as_bytes()),
            )
            .finish_non_exhaustive()
    }
}

impl VerifierKeys {
    /// The enclave keys of `operator`'s validator.
    pub fn for_enclave(
        operator: &Address,
        signing: SigningKey,
        envelope: RecipientSecretKey,
    ) -> Self {
        Self {
            key_id: operator.to_string(),
            signing,
            envelope,
        }
    }

    pub fn envelope_public(&self) -> RecipientPublicKey {
        self.envelope.public_key()
    }

    pub fn public_info(&self) -> PublicKeyInfo {
        let enc = self.envelope_public();
        PublicKeyInfo {
            key_id: self.key_id.clone(),
            public_key: hex::encode(self.signing.verifying_key().as_bytes()),
            encryption_public_key: enc.to_hex(),
            encryption_fingerprint: enc.fingerprint(),
            factor_types: vec![
                crate::attestation::FACTOR_TOTP,
                crate::attestation::FACTOR_EMAIL,
            ],
        }
    }
}
