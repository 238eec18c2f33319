//! The two upload signatures (docs/veid.md §3), implemented here independently of the
//! chain's `ve_identity::payload` and checked against it in the tests, and the approved
//! capture client's key.
//!
//! ```text
//! client_digest = SHA-256( "virtengine-veid-client-v1" ‖ lp(chain_id) ‖ lp(sender)
//!                 ‖ lp(scope_id) ‖ u32be(scope_type) ‖ lp(salt) ‖ lp(device_fingerprint)
//!                 ‖ lp(client_id) ‖ lp(client_version) ‖ payload_hash[32]
//!                 ‖ i64be(capture_timestamp) ‖ lp(geo_hint) )
//! user_digest   = SHA-256( "virtengine-veid-user-v1" ‖ client_digest ‖ lp(client_signature) )
//! ```

use std::path::Path;

use ed25519_dalek::Signer;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::CaptureError;

/// What the client signature binds (field meanings as in `MsgUploadScope`).
#[derive(Debug, Clone, Copy)]
pub struct SigningFields<'a> {
    pub chain_id: &'a str,
    pub sender: &'a str,
    pub scope_id: &'a str,
    pub scope_type: i32,
    pub salt: &'a [u8],
    pub device_fingerprint: &'a str,
    pub client_id: &'a str,
    pub client_version: &'a str,
    pub payload_hash: &'a [u8; 32],
    pub capture_timestamp: i64,
    pub geo_hint: &'a str,
}

fn lp(h: &mut Sha256, b: &[u8]) -> Result<(), CaptureError> {
    let len = u32::try_from(b.len()).map_err(|_| CaptureError::Field {
        field: "signed field",
        reason: "longer than 4 GiB".into(),
    })?;
    h.update(len.to_be_bytes());
    h.update(b);
    Ok(())
}

pub fn client_digest(f: &SigningFields<'_>) -> Result<[u8; 32], CaptureError> {
    let scope_type = u32::try_from(f.scope_type).map_err(|_| CaptureError::Field {
        field: "scope_type",
        reason: "negative".into(),
    })?;
    let mut h = Sha256::new();
    h.update(b"virtengine-veid-client-v1");
    lp(&mut h, f.chain_id.as_bytes())?;
    lp(&mut h, f.sender.as_bytes())?;
    lp(&mut h, f.scope_id.as_bytes())?;
    h.update(scope_type.to_be_bytes());
    lp(&mut h, f.salt)?;
    lp(&mut h, f.device_fingerprint.as_bytes())?;
    lp(&mut h, f.client_id.as_bytes())?;
    lp(&mut h, f.client_version.as_bytes())?;
    h.update(f.payload_hash);
    h.update(f.capture_timestamp.to_be_bytes());
    lp(&mut h, f.geo_hint.as_bytes())?;
    Ok(h.finalize().into())
}

pub fn user_digest(
    client_digest: &[u8; 32],
    client_signature: &[u8],
) -> Result<[u8; 32], CaptureError> {
    let mut h = Sha256::new();
    h.update(b"virtengine-veid-user-v1");
    h.update(client_digest);
    lp(&mut h, client_signature)?;
    Ok(h.finalize().into())
}

/// The approved capture client's signing key.
#[derive(Clone)]
pub enum ClientSecret {
    /// Signs the 32 digest bytes (RFC 8032).
    Ed25519(ed25519_dalek::SigningKey),
    /// Signs like a Cosmos account key: ECDSA over SHA-256(digest), low-S, r‖s.
    Secp256k1(ve_crypto::PrivateKey),
}

/// A capture client identity: the id it is registered under in the config module's
/// approved-client registry, and its key.
#[derive(Clone)]
pub struct ClientKey {
    pub client_id: String,
    pub secret: ClientSecret,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ClientKey({}, {} {}, <secret redacted>)",
            self.client_id,
            self.key_type(),
            self.public_key_hex()
        )
    }
}

/// The JSON key file (`<localnet home>/capture-client.key`).
#[derive(serde::Serialize, serde::Deserialize)]
struct KeyFile {
    client_id: String,
    /// `ed25519` or `secp256k1` (the config registry's names).
    key_type: String,
    /// 64 hex characters: the Ed25519 seed or the secp256k1 scalar.
    private_key: String,
    /// Hex; informational (checked against the private key when present).
    #[serde(default)]
    public_key: String,
    #[serde(default)]
    note: String,
}

impl ClientKey {
    /// A new random Ed25519 client key (OS randomness).
    pub fn generate_ed25519(client_id: &str) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, seed.as_mut()); // allowed: key generation runs in clients, never in consensus
        Self {
            client_id: client_id.to_string(),
            secret: ClientSecret::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)),
        }
    }

    /// From a 32-byte secret: `key_type` is `ed25519` or `secp256k1`.
    pub fn from_secret(
        client_id: &str,
        key_type: &str,
        secret: &[u8],
    ) -> Result<Self, CaptureError> {
        let bad = |reason: String| CaptureError::ClientKey(reason);
        let secret = match key_type {
            "ed25519" => {
                let seed: [u8; 32] = secret.try_into().map_err(|_| {
                    bad(format!("an ed25519 key is 32 bytes, got {}", secret.len()))
                })?;
                ClientSecret::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
            }
            "secp256k1" => ClientSecret::Secp256k1(
                ve_crypto::PrivateKey::from_bytes(secret).map_err(|e| bad(e.to_string()))?,
            ),
            other => {
                return Err(bad(format!(
                    "unknown key type {other:?}: use ed25519 or secp256k1"
                )))
            }
        };
        Ok(Self {
            client_id: client_id.to_string(),
            secret,
        })
    }

    /// Reads a key file: the JSON form this library writes, or a bare line of 64 hex
    /// characters (e.g. from `virtengine envelope keygen --ed25519`), which needs
    /// `client_id` and `key_type` from the caller. `client_id`, when given, overrides or
    /// must match the file's.
    pub fn load(
        path: &Path,
        client_id: Option<&str>,
        key_type: Option<&str>,
    ) -> Result<Self, CaptureError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            CaptureError::ClientKey(format!(
                "cannot read client key file {}: {e}",
                path.display()
            ))
        })?);
        let trimmed = text.trim();
        if trimmed.starts_with('{') {
            let f: KeyFile = serde_json::from_str(trimmed).map_err(|e| {
                CaptureError::ClientKey(format!("{} is not a client key file: {e}", path.display()))
            })?;
            let secret = Zeroizing::new(hex::decode(f.private_key.trim()).map_err(|_| {
                CaptureError::ClientKey(format!("{}: private_key is not hex", path.display()))
            })?);
            if let Some(t) = key_type.filter(|t| *t != f.key_type) {
                return Err(CaptureError::ClientKey(format!(
                    "{} holds a {} key, not {t}",
                    path.display(),
                    f.key_type
                )));
            }
            let id = client_id.unwrap_or(&f.client_id);
            let key = Self::from_secret(id, &f.key_type, &secret)?;
            if !f.public_key.is_empty() && f.public_key != key.public_key_hex() {
                return Err(CaptureError::ClientKey(format!(
                    "{}: public_key does not belong to private_key (edited file?)",
                    path.display()
                )));
            }
            return Ok(key);
        }
        let secret = Zeroizing::new(hex::decode(trimmed).map_err(|_| {
            CaptureError::ClientKey(format!(
                "{}: a client key file is JSON or 64 hex characters",
                path.display()
            ))
        })?);
        let id = client_id.ok_or_else(|| {
            CaptureError::ClientKey(format!(
                "{} holds only a key, not the client id it is registered under: pass the client id (--client-id)",
                path.display()
            ))
        })?;
        Self::from_secret(id, key_type.unwrap_or("ed25519"), &secret)
    }

    /// Writes the JSON key file with mode 0600; refuses to overwrite.
    pub fn save(&self, path: &Path, note: &str) -> Result<(), CaptureError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let secret = Zeroizing::new(match &self.secret {
            ClientSecret::Ed25519(k) => hex::encode(k.to_bytes()),
            ClientSecret::Secp256k1(k) => hex::encode(*k.to_bytes()),
        });
        let f = KeyFile {
            client_id: self.client_id.clone(),
            key_type: self.key_type().to_string(),
            private_key: secret.to_string(),
            public_key: self.public_key_hex(),
            note: note.to_string(),
        };
        let text = Zeroizing::new(
            serde_json::to_string_pretty(&f).map_err(|e| CaptureError::ClientKey(e.to_string()))?,
        );
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| {
                CaptureError::ClientKey(format!("cannot create {}: {e}", path.display()))
            })?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .map_err(|e| CaptureError::ClientKey(format!("writing {}: {e}", path.display())))
    }

    /// The config registry's name of the key type.
    pub fn key_type(&self) -> &'static str {
        match self.secret {
            ClientSecret::Ed25519(_) => "ed25519",
            ClientSecret::Secp256k1(_) => "secp256k1",
        }
    }

    /// The public key as registered (32-byte Ed25519, or 33-byte compressed secp256k1).
    pub fn public_key(&self) -> Vec<u8> {
        match &self.secret {
            ClientSecret::Ed25519(k) => k.verifying_key().to_bytes().to_vec(),
            ClientSecret::Secp256k1(k) => k.public_key().to_bytes().to_vec(),
        }
    }

    pub fn public_key_hex(&self) -> String {
        hex::encode(self.public_key())
    }

    /// Signs a client digest as the chain verifies it.
    pub fn sign(&self, digest: &[u8; 32]) -> Vec<u8> {
        match &self.secret {
            ClientSecret::Ed25519(k) => k.sign(digest).to_bytes().to_vec(),
            ClientSecret::Secp256k1(k) => k.sign(digest).to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> SigningFields<'static> {
        SigningFields {
            chain_id: "virtengine-1",
            sender: "ve1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqh7d9m3",
            scope_id: "doc-1",
            scope_type: 1,
            salt: &[7; 16],
            device_fingerprint: "device",
            client_id: "capture-app",
            client_version: "1.0.0",
            payload_hash: &[9; 32],
            capture_timestamp: 1_700_000_000,
            geo_hint: "",
        }
    }

    /// The vector published in docs/veid.md §3.
    #[test]
    fn digests_match_the_published_vector() {
        let c = client_digest(&fields()).unwrap();
        assert_eq!(
            hex::encode(c),
            "6c0491bbf781557de0e41689bf6744a9bdc01a2a4b4108f654468a247dbdf6e1"
        );
        assert_eq!(
            hex::encode(user_digest(&c, &[1; 64]).unwrap()),
            "16cff54f6f9ff71bee48daf2d745bc9c41a46d0fdf756822a790dc02902f6ee9"
        );
    }

    /// The same bytes as the chain's own implementation, for other inputs too.
    #[test]
    fn digests_equal_the_identity_modules() {
        let salt = [3u8; 40];
        let hash = [0xabu8; 32];
        let f = SigningFields {
            chain_id: "virtengine-localnet-1",
            sender: "ve1xyz",
            scope_id: "selfie-0011",
            scope_type: 2,
            salt: &salt,
            device_fingerprint: "cli:abcdef",
            client_id: "localnet-capture",
            client_version: "1.2.3",
            payload_hash: &hash,
            capture_timestamp: 1_800_000_123,
            geo_hint: "DE",
        };
        let ours = client_digest(&f).unwrap();
        let chain =
            ve_identity::payload::client_digest(&ve_identity::payload::UploadSigningInput {
                chain_id: f.chain_id,
                sender: f.sender,
                scope_id: f.scope_id,
                scope_type: f.scope_type,
                salt: f.salt,
                device_fingerprint: f.device_fingerprint,
                client_id: f.client_id,
                client_version: f.client_version,
                payload_hash: f.payload_hash,
                capture_timestamp: f.capture_timestamp,
                geo_hint: f.geo_hint,
            });
        assert_eq!(ours, chain);
        let sig = [5u8; 70];
        assert_eq!(
            user_digest(&ours, &sig).unwrap(),
            ve_identity::payload::user_digest(&chain, &sig)
        );
    }

    /// Both key types verify with the config module's own verification function.
    #[test]
    fn client_signatures_verify_with_the_config_registry_function() {
        use ve_config::proto::KeyType;
        let digest = [0x42u8; 32];
        let ed = ClientKey::generate_ed25519("app-ed");
        let secp = ClientKey::from_secret("app-k1", "secp256k1", &[0x11; 32]).unwrap();
        for (k, t) in [(&ed, KeyType::Ed25519), (&secp, KeyType::Secp256k1)] {
            let sig = k.sign(&digest);
            assert!(ve_config::keeper::verify_with(
                t as i32,
                &k.public_key(),
                &digest,
                &sig
            ));
            let mut other = digest;
            other[0] ^= 1;
            assert!(!ve_config::keeper::verify_with(
                t as i32,
                &k.public_key(),
                &other,
                &sig
            ));
        }
    }

    #[test]
    fn key_files_round_trip_and_bare_hex_needs_a_client_id() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("capture-client.key");
        let k = ClientKey::generate_ed25519("localnet-capture");
        k.save(&p, "test").unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let back = ClientKey::load(&p, None, None).unwrap();
        assert_eq!(
            (back.client_id.as_str(), back.public_key()),
            ("localnet-capture", k.public_key())
        );
        assert!(k.save(&p, "again").is_err(), "never overwrites a key file");

        let bare = dir.path().join("bare.key");
        std::fs::write(&bare, format!("{}\n", hex::encode([0x22u8; 32]))).unwrap();
        let e = ClientKey::load(&bare, None, None).unwrap_err();
        assert!(e.to_string().contains("--client-id"), "{e}");
        let k2 = ClientKey::load(&bare, Some("my-app"), Some("secp256k1")).unwrap();
        assert_eq!(
            (k2.client_id.as_str(), k2.key_type()),
            ("my-app", "secp256k1")
        );
        assert_eq!(k2.public_key().len(), 33);
    }
}
