//! A software WebAuthn (FIDO2) authenticator, for tests and scripts that must pass the
//! chain's WebAuthn factor without a hardware key.
//!
//! It produces the same bytes a browser and a platform authenticator would:
//!
//! * an ES256 (ECDSA P-256 / SHA-256) credential with a random 32-byte credential id;
//! * `clientDataJSON` = `{"type":"webauthn.create"|"webauthn.get","challenge":<base64url,
//!   no padding>,"origin":<origin>,"crossOrigin":false}`;
//! * `authenticatorData` = `SHA-256(rpId) ‖ flags ‖ signCount (u32 BE)` and, at
//!   registration, the attested credential data `AAGUID (16) ‖ len (u16 BE) ‖ credential
//!   id ‖ COSE_Key`; flags UP (0x01) and UV (0x04), plus AT (0x40) at registration;
//! * an attestation object of format `"none"`: CBOR `{"fmt":"none","attStmt":{},
//!   "authData":<bytes>}`;
//! * an assertion signature: ASN.1 DER ECDSA over `authenticatorData ‖
//!   SHA-256(clientDataJSON)`, the sign count incremented on every assertion.
//!
//! The credential (private key, id, sign count) is kept in a JSON file, by default
//! `<home>/webauthn/<name>.json` (mode 0600, written atomically). It holds a private key
//! in the clear: this is a test authenticator, not a wallet.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ciborium::value::Value as Cbor;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Relying-party id the chain's WebAuthn factor uses unless its params say otherwise.
pub const DEFAULT_RP_ID: &str = "virtengine.com";
/// Origin that goes with [`DEFAULT_RP_ID`].
pub const DEFAULT_ORIGIN: &str = "https://virtengine.com";
/// COSE algorithm id of ES256.
pub const COSE_ALG_ES256: i64 = -7;
/// `authenticatorData` flag: user present.
pub const FLAG_UP: u8 = 0x01;
/// `authenticatorData` flag: user verified.
pub const FLAG_UV: u8 = 0x04;
/// `authenticatorData` flag: attested credential data included.
pub const FLAG_AT: u8 = 0x40;
/// Length of the credential ids this authenticator creates.
pub const CREDENTIAL_ID_LEN: usize = 32;
/// Version of the credential file format.
const FILE_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum WebauthnError {
    #[error("credential file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("credential file {path} is not a software-authenticator credential: {reason}")]
    BadFile { path: PathBuf, reason: String },
    #[error("the challenge is empty: pass the challenge bytes the chain issued")]
    EmptyChallenge,
    #[error("the sign counter reached its maximum: create a new credential")]
    CounterExhausted,
    #[error("encoding CBOR: {0}")]
    Cbor(String),
}

/// What registration returns: the `PublicKeyCredential` fields a relying party receives
/// from `navigator.credentials.create()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub credential_id: Vec<u8>,
    pub client_data_json: Vec<u8>,
    pub attestation_object: Vec<u8>,
    /// The `authData` inside `attestation_object`, for callers that want it separately.
    pub authenticator_data: Vec<u8>,
    /// The credential public key as a COSE_Key (EC2, P-256, ES256).
    pub public_key_cose: Vec<u8>,
}

/// What an assertion returns: the fields of `navigator.credentials.get()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub credential_id: Vec<u8>,
    pub client_data_json: Vec<u8>,
    pub authenticator_data: Vec<u8>,
    /// ASN.1 DER ECDSA signature over `authenticator_data ‖ SHA-256(client_data_json)`.
    pub signature: Vec<u8>,
}

/// One ES256 credential bound to one relying party.
pub struct SoftAuthenticator {
    rp_id: String,
    origin: String,
    credential_id: Vec<u8>,
    key: SigningKey,
    sign_count: u32,
    aaguid: [u8; 16],
}

impl std::fmt::Debug for SoftAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftAuthenticator")
            .field("rp_id", &self.rp_id)
            .field("origin", &self.origin)
            .field("credential_id", &hex::encode(&self.credential_id))
            .field("sign_count", &self.sign_count)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct StoredCredential {
    version: u32,
    rp_id: String,
    origin: String,
    credential_id: String,
    /// Hex of the 32-byte P-256 scalar.
    private_key: String,
    sign_count: u32,
    aaguid: String,
    /// Informational: hex of the COSE public key.
    public_key_cose: String,
}

impl SoftAuthenticator {
    /// A new credential with a random key and credential id (OS randomness).
    pub fn generate(rp_id: impl Into<String>, origin: impl Into<String>) -> Self {
        let mut credential_id = vec![0u8; CREDENTIAL_ID_LEN];
        OsRng.fill_bytes(&mut credential_id);
        Self {
            rp_id: rp_id.into(),
            origin: origin.into(),
            credential_id,
            key: SigningKey::random(&mut OsRng),
            sign_count: 0,
            aaguid: [0u8; 16],
        }
    }

    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }
    pub fn origin(&self) -> &str {
        &self.origin
    }
    pub fn credential_id(&self) -> &[u8] {
        &self.credential_id
    }
    pub fn sign_count(&self) -> u32 {
        self.sign_count
    }
    pub fn verifying_key(&self) -> VerifyingKey {
        *self.key.verifying_key()
    }

    /// The credential public key as a COSE_Key: `{1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256),
    /// -2: x, -3: y}`, in canonical CBOR key order.
    pub fn public_key_cose(&self) -> Result<Vec<u8>, WebauthnError> {
        cose_key_es256(&self.verifying_key())
    }

    /// `navigator.credentials.create()` for `challenge`: a `"none"` attestation.
    pub fn register(&mut self, challenge: &[u8]) -> Result<Registration, WebauthnError> {
        if challenge.is_empty() {
            return Err(WebauthnError::EmptyChallenge);
        }
        let client_data_json = client_data_json("webauthn.create", challenge, &self.origin);
        let cose = self.public_key_cose()?;
        let mut attested = Vec::with_capacity(18 + self.credential_id.len() + cose.len());
        attested.extend_from_slice(&self.aaguid);
        let id_len = u16::try_from(self.credential_id.len()).map_err(|_| {
            WebauthnError::Cbor("credential id longer than 65535 bytes".to_string())
        })?;
        attested.extend_from_slice(&id_len.to_be_bytes());
        attested.extend_from_slice(&self.credential_id);
        attested.extend_from_slice(&cose);
        let authenticator_data = authenticator_data(
            &self.rp_id,
            FLAG_UP | FLAG_UV | FLAG_AT,
            self.sign_count,
            &attested,
        );
        let attestation_object = encode_cbor(&Cbor::Map(vec![
            (Cbor::Text("fmt".into()), Cbor::Text("none".into())),
            (Cbor::Text("attStmt".into()), Cbor::Map(Vec::new())),
            (
                Cbor::Text("authData".into()),
                Cbor::Bytes(authenticator_data.clone()),
            ),
        ]))?;
        Ok(Registration {
            credential_id: self.credential_id.clone(),
            client_data_json,
            attestation_object,
            authenticator_data,
            public_key_cose: cose,
        })
    }

    /// `navigator.credentials.get()` for `challenge`: increments the sign count and signs.
    /// Save the authenticator afterwards, or the next assertion repeats the count (which
    /// a relying party must refuse as a cloned authenticator).
    pub fn assert(&mut self, challenge: &[u8]) -> Result<Assertion, WebauthnError> {
        if challenge.is_empty() {
            return Err(WebauthnError::EmptyChallenge);
        }
        self.sign_count = self
            .sign_count
            .checked_add(1)
            .ok_or(WebauthnError::CounterExhausted)?;
        let client_data_json = client_data_json("webauthn.get", challenge, &self.origin);
        let authenticator_data =
            authenticator_data(&self.rp_id, FLAG_UP | FLAG_UV, self.sign_count, &[]);
        let signature = self.sign(&authenticator_data, &client_data_json);
        Ok(Assertion {
            credential_id: self.credential_id.clone(),
            client_data_json,
            authenticator_data,
            signature,
        })
    }

    fn sign(&self, authenticator_data: &[u8], client_data_json: &[u8]) -> Vec<u8> {
        let mut msg = authenticator_data.to_vec();
        msg.extend_from_slice(&ve_crypto::sha256(client_data_json));
        let sig: DerSignature = self.key.sign(&msg);
        sig.as_bytes().to_vec()
    }

    /// `<home>/webauthn/<name>.json`.
    pub fn default_path(home: &Path, name: &str) -> PathBuf {
        home.join("webauthn").join(format!("{name}.json"))
    }

    /// Writes the credential to `path` (mode 0600) atomically: a temporary file in the
    /// same directory, fsynced, then renamed over the old one.
    pub fn save(&self, path: &Path) -> Result<(), WebauthnError> {
        let io = |source| WebauthnError::Io {
            path: path.to_path_buf(),
            source,
        };
        let stored = StoredCredential {
            version: FILE_VERSION,
            rp_id: self.rp_id.clone(),
            origin: self.origin.clone(),
            credential_id: hex::encode(&self.credential_id),
            private_key: hex::encode(self.key.to_bytes()),
            sign_count: self.sign_count,
            aaguid: hex::encode(self.aaguid),
            public_key_cose: hex::encode(self.public_key_cose()?),
        };
        let text = Zeroizing::new(serde_json::to_string_pretty(&stored).map_err(|e| {
            WebauthnError::BadFile {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        })?);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = path.with_extension("json.tmp");
        {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(io)?;
            f.write_all(text.as_bytes()).map_err(io)?;
            f.write_all(b"\n").map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a credential written by [`SoftAuthenticator::save`].
    pub fn load(path: &Path) -> Result<Self, WebauthnError> {
        let bad = |reason: String| WebauthnError::BadFile {
            path: path.to_path_buf(),
            reason,
        };
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| WebauthnError::Io {
                    path: path.to_path_buf(),
                    source,
                })?,
            );
        let s: StoredCredential = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if s.version != FILE_VERSION {
            return Err(bad(format!("unknown version {}", s.version)));
        }
        let secret = Zeroizing::new(
            hex::decode(&s.private_key).map_err(|e| bad(format!("private_key: {e}")))?,
        );
        let key = SigningKey::from_slice(&secret).map_err(|e| bad(format!("private_key: {e}")))?;
        let credential_id =
            hex::decode(&s.credential_id).map_err(|e| bad(format!("credential_id: {e}")))?;
        if credential_id.is_empty() {
            return Err(bad("empty credential_id".into()));
        }
        let aaguid: [u8; 16] = hex::decode(&s.aaguid)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| bad("aaguid must be 16 bytes of hex".into()))?;
        Ok(Self {
            rp_id: s.rp_id,
            origin: s.origin,
            credential_id,
            key,
            sign_count: s.sign_count,
            aaguid,
        })
    }
}

/// The `clientDataJSON` a browser builds: `type`, `challenge` (base64url without
/// padding), `origin`, `crossOrigin`, in that order.
pub fn client_data_json(kind: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
    // serde_json::json! would sort keys alphabetically (BTreeMap); browsers emit this order.
    format!(
        "{{\"type\":{},\"challenge\":\"{}\",\"origin\":{},\"crossOrigin\":false}}",
        serde_json::Value::String(kind.to_string()),
        URL_SAFE_NO_PAD.encode(challenge),
        serde_json::Value::String(origin.to_string()),
    )
    .into_bytes()
}

/// `SHA-256(rp_id) ‖ flags ‖ sign_count (BE) ‖ attested_credential_data`.
pub fn authenticator_data(rp_id: &str, flags: u8, sign_count: u32, attested: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(37 + attested.len());
    out.extend_from_slice(&ve_crypto::sha256(rp_id.as_bytes()));
    out.push(flags);
    out.extend_from_slice(&sign_count.to_be_bytes());
    out.extend_from_slice(attested);
    out
}

/// COSE_Key of a P-256 public key for ES256.
pub fn cose_key_es256(key: &VerifyingKey) -> Result<Vec<u8>, WebauthnError> {
    let point = key.to_encoded_point(false);
    let (Some(x), Some(y)) = (point.x(), point.y()) else {
        return Err(WebauthnError::Cbor(
            "identity point has no coordinates".into(),
        ));
    };
    encode_cbor(&Cbor::Map(vec![
        (Cbor::Integer(1.into()), Cbor::Integer(2.into())),
        (
            Cbor::Integer(3.into()),
            Cbor::Integer(COSE_ALG_ES256.into()),
        ),
        (Cbor::Integer((-1).into()), Cbor::Integer(1.into())),
        (Cbor::Integer((-2).into()), Cbor::Bytes(x.to_vec())),
        (Cbor::Integer((-3).into()), Cbor::Bytes(y.to_vec())),
    ]))
}

fn encode_cbor(v: &Cbor) -> Result<Vec<u8>, WebauthnError> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).map_err(|e| WebauthnError::Cbor(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::Signature;

    /// A minimal relying-party check written independently of the authenticator: parse
    /// the attestation object and COSE key with ciborium, rebuild the signed message,
    /// verify with the registered key.
    fn parse_registration(reg: &Registration) -> (Vec<u8>, VerifyingKey) {
        let att: Cbor = ciborium::de::from_reader(reg.attestation_object.as_slice()).unwrap();
        let map = att.as_map().unwrap();
        let get = |k: &str| {
            map.iter()
                .find(|(kk, _)| kk.as_text() == Some(k))
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("fmt").as_text(), Some("none"));
        assert!(get("attStmt").as_map().unwrap().is_empty());
        let auth = get("authData").as_bytes().unwrap().clone();
        assert_eq!(auth[32] & FLAG_AT, FLAG_AT);
        let id_len = usize::from(u16::from_be_bytes([auth[53], auth[54]]));
        let cred_id = auth[55..55 + id_len].to_vec();
        let cose: Cbor = ciborium::de::from_reader(&auth[55 + id_len..]).unwrap();
        let cm = cose.as_map().unwrap();
        let int = |k: i64| {
            cm.iter()
                .find(|(kk, _)| kk.as_integer() == Some(k.into()))
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(int(3).as_integer(), Some((-7).into()));
        let mut sec1 = vec![4u8];
        sec1.extend_from_slice(int(-2).as_bytes().unwrap());
        sec1.extend_from_slice(int(-3).as_bytes().unwrap());
        (cred_id, VerifyingKey::from_sec1_bytes(&sec1).unwrap())
    }

    #[test]
    fn registration_carries_the_challenge_rp_hash_and_a_parsable_es256_key() {
        let mut a = SoftAuthenticator::generate("example.org", "https://example.org");
        let reg = a.register(b"chal-1").unwrap();
        let cd: serde_json::Value = serde_json::from_slice(&reg.client_data_json).unwrap();
        assert_eq!(cd["type"], "webauthn.create");
        assert_eq!(cd["challenge"], URL_SAFE_NO_PAD.encode(b"chal-1"));
        assert_eq!(cd["origin"], "https://example.org");
        assert_eq!(
            &reg.authenticator_data[..32],
            &ve_crypto::sha256(b"example.org")
        );
        let (cred_id, key) = parse_registration(&reg);
        assert_eq!(cred_id, a.credential_id());
        assert_eq!(key, a.verifying_key());
        assert_eq!(reg.public_key_cose, a.public_key_cose().unwrap());
    }

    #[test]
    fn assertion_verifies_with_the_registered_key_and_counts_up() {
        let mut a = SoftAuthenticator::generate(DEFAULT_RP_ID, DEFAULT_ORIGIN);
        let (_, key) = parse_registration(&a.register(b"reg").unwrap());
        let first = a.assert(b"login-1").unwrap();
        let second = a.assert(b"login-2").unwrap();
        for (asr, count) in [(&first, 1u32), (&second, 2)] {
            assert_eq!(asr.authenticator_data.len(), 37);
            assert_eq!(asr.authenticator_data[32], FLAG_UP | FLAG_UV);
            assert_eq!(
                u32::from_be_bytes(asr.authenticator_data[33..37].try_into().unwrap()),
                count
            );
            let mut msg = asr.authenticator_data.clone();
            msg.extend_from_slice(&ve_crypto::sha256(&asr.client_data_json));
            let sig = Signature::from_der(&asr.signature).unwrap();
            key.verify(&msg, &sig).unwrap();
        }
        // A signature does not transfer to another challenge.
        let mut other = first.authenticator_data.clone();
        other.extend_from_slice(&ve_crypto::sha256(&second.client_data_json));
        let sig = Signature::from_der(&first.signature).unwrap();
        assert!(key.verify(&other, &sig).is_err());
    }

    #[test]
    fn saved_credential_reloads_with_its_counter_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = SoftAuthenticator::default_path(dir.path(), "alice");
        let mut a = SoftAuthenticator::generate(DEFAULT_RP_ID, DEFAULT_ORIGIN);
        a.assert(b"x").unwrap();
        a.save(&path).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let mut b = SoftAuthenticator::load(&path).unwrap();
        assert_eq!(b.credential_id(), a.credential_id());
        assert_eq!(b.verifying_key(), a.verifying_key());
        assert_eq!(b.sign_count(), 1);
        assert_eq!(b.assert(b"y").unwrap().authenticator_data[36], 2);
    }

    /// The chain's own WebAuthn verifier (ve_mfa::webauthn) accepts what this
    /// authenticator produces, and refuses a replayed sign count.
    #[test]
    fn chain_verifier_accepts_registration_and_assertions() {
        use ve_mfa::webauthn::{verify_assertion, verify_registration, RelyingParty};
        let origins = vec![DEFAULT_ORIGIN.to_string()];
        let rp = RelyingParty {
            rp_id: DEFAULT_RP_ID,
            origins: &origins,
            require_user_verification: true,
        };
        let mut a = SoftAuthenticator::generate(DEFAULT_RP_ID, DEFAULT_ORIGIN);
        let reg = a.register(&[1u8; 32]).unwrap();
        let r = verify_registration(
            &reg.client_data_json,
            &reg.attestation_object,
            &[1u8; 32],
            &rp,
        )
        .unwrap();
        assert_eq!(r.credential_id, a.credential_id());
        assert_eq!(r.algorithm, COSE_ALG_ES256);
        assert_eq!(r.attestation_type, "none");
        // Registration answers only its own challenge.
        assert!(verify_registration(
            &reg.client_data_json,
            &reg.attestation_object,
            &[9u8; 32],
            &rp
        )
        .is_err());

        let asr = a.assert(&[2u8; 32]).unwrap();
        let count = verify_assertion(
            &r.cose_key,
            r.sign_count,
            &asr.client_data_json,
            &asr.authenticator_data,
            &asr.signature,
            &[2u8; 32],
            &rp,
        )
        .unwrap();
        assert_eq!(count, 1);
        // The same assertion again: the counter did not move, so it is refused.
        assert!(verify_assertion(
            &r.cose_key,
            count,
            &asr.client_data_json,
            &asr.authenticator_data,
            &asr.signature,
            &[2u8; 32],
            &rp,
        )
        .is_err());
    }

    #[test]
    fn empty_challenge_is_refused() {
        let mut a = SoftAuthenticator::generate(DEFAULT_RP_ID, DEFAULT_ORIGIN);
        assert!(matches!(
            a.register(b""),
            Err(WebauthnError::EmptyChallenge)
        ));
        assert!(matches!(a.assert(b""), Err(WebauthnError::EmptyChallenge)));
    }
}
