//! The verifier's two keys, as files under its home:
//!
//! ```text
//! <home>/keys/attestation_ed25519.key   hex of the 32-byte Ed25519 seed (mode 0600)
//! <home>/keys/envelope_x25519.key       hex of the 32-byte X25519 secret (mode 0600)
//! <home>/verifier_key.json              public half: what the chain registers (VerifierKey)
//! ```
//!
//! Plain key files: this service is the standalone stand-in for the enclave service of
//! issue #5, which will hold these keys inside a TEE and prove it by attestation.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use ve_crypto::envelope::{RecipientPublicKey, RecipientSecretKey};
use zeroize::Zeroizing;

use crate::error::VerifierError;

/// The public description of a verifier key: the fields of `virtengine.mfa.v1.VerifierKey`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PublicKeyInfo {
    pub key_id: String,
    /// Hex of the Ed25519 public key that signs attestations.
    pub public_key: String,
    /// Hex of the X25519 public key enrolment envelopes are sealed to.
    pub encryption_public_key: String,
    /// Encryption-registry fingerprint (40 hex) of `encryption_public_key`.
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

fn signing_path(home: &Path) -> PathBuf {
    home.join("keys").join("attestation_ed25519.key")
}
fn envelope_path(home: &Path) -> PathBuf {
    home.join("keys").join("envelope_x25519.key")
}
pub fn public_info_path(home: &Path) -> PathBuf {
    home.join("verifier_key.json")
}

/// Key ids the chain accepts: 1-64 characters of `[A-Za-z0-9._-]`.
pub fn validate_key_id(id: &str) -> Result<(), VerifierError> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err(VerifierError::Config(format!(
            "key id {id:?} must be 1-64 characters of A-Z a-z 0-9 . _ -"
        )));
    }
    Ok(())
}

impl VerifierKeys {
    /// Loads the keys in `home`, creating them (and the home) on first use.
    pub fn load_or_create(home: &Path, key_id: &str) -> Result<Self, VerifierError> {
        validate_key_id(key_id)?;
        let sp = signing_path(home);
        let ep = envelope_path(home);
        let keys = match (sp.exists(), ep.exists()) {
            (true, true) => Self {
                key_id: key_id.to_string(),
                signing: SigningKey::from_bytes(&*read_key(&sp)?),
                envelope: RecipientSecretKey::from_bytes(*read_key(&ep)?),
            },
            (false, false) => {
                let mut seed = Zeroizing::new([0u8; 32]);
                OsRng.fill_bytes(seed.as_mut());
                let keys = Self {
                    key_id: key_id.to_string(),
                    signing: SigningKey::from_bytes(&seed),
                    envelope: RecipientSecretKey::generate(&mut OsRng),
                };
                write_secret(&sp, &keys.signing.to_bytes())?;
                write_secret(&ep, keys.envelope.to_bytes().as_ref())?;
                keys
            }
            _ => {
                return Err(VerifierError::Config(format!(
                    "{} has only one of its two key files ({} and {}): restore the missing one or use a new --home",
                    home.display(),
                    sp.display(),
                    ep.display()
                )))
            }
        };
        let info = keys.public_info();
        let text = serde_json::to_string_pretty(&info)
            .map_err(|e| VerifierError::Config(e.to_string()))?;
        crate::store::write_atomic(&public_info_path(home), text.as_bytes(), 0o644)?;
        Ok(keys)
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

fn read_key(path: &Path) -> Result<Zeroizing<[u8; 32]>, VerifierError> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| VerifierError::Io {
            path: path.to_path_buf(),
            source: e,
        })?,
    );
    let bytes = Zeroizing::new(
        hex::decode(text.trim())
            .map_err(|e| VerifierError::Config(format!("{}: not hex: {e}", path.display())))?,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(VerifierError::Config(format!(
            "{}: expected 32 bytes of hex, got {}",
            path.display(),
            bytes.len()
        )));
    }
    out.copy_from_slice(&bytes);
    Ok(out)
}

fn write_secret(path: &Path, key: &[u8]) -> Result<(), VerifierError> {
    let text = Zeroizing::new(hex::encode(key) + "\n");
    crate::store::write_atomic(path, text.as_bytes(), 0o600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_created_once_and_reloaded_identically() {
        let dir = tempfile::tempdir().unwrap();
        let a = VerifierKeys::load_or_create(dir.path(), "v-1").unwrap();
        let b = VerifierKeys::load_or_create(dir.path(), "v-1").unwrap();
        assert_eq!(a.public_info(), b.public_info());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(signing_path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let info: PublicKeyInfo =
            serde_json::from_str(&std::fs::read_to_string(public_info_path(dir.path())).unwrap())
                .unwrap();
        assert_eq!(info, a.public_info());
        assert_eq!(info.encryption_fingerprint.len(), 40);
    }

    #[test]
    fn half_a_key_pair_is_an_error_not_a_silent_new_key() {
        let dir = tempfile::tempdir().unwrap();
        VerifierKeys::load_or_create(dir.path(), "v").unwrap();
        std::fs::remove_file(envelope_path(dir.path())).unwrap();
        assert!(VerifierKeys::load_or_create(dir.path(), "v").is_err());
        assert!(validate_key_id("bad id").is_err());
    }
}
