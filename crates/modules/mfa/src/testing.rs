//! A software WebAuthn authenticator (feature `testing`): builds authenticatorData,
//! clientDataJSON, attestation objects and signatures exactly as a browser and a
//! platform authenticator would, from a seed (deterministic; no OS randomness).
//! For tests and for client-side tooling; never used by the chain.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ciborium::value::Value;

use crate::webauthn::{FLAG_AT, FLAG_UP, FLAG_UV};

enum Key {
    Es256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

/// Attestation format produced at registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    None,
    /// Packed self attestation (signed by the credential key itself).
    PackedSelf,
}

/// What `navigator.credentials.get` returns.
#[derive(Clone, Debug)]
pub struct Assertion {
    pub credential_id: Vec<u8>,
    pub client_data_json: Vec<u8>,
    pub authenticator_data: Vec<u8>,
    pub signature: Vec<u8>,
}

pub struct SoftAuthenticator {
    key: Key,
    pub credential_id: Vec<u8>,
    pub rp_id: String,
    pub origin: String,
    pub sign_count: u32,
    pub user_verified: bool,
    pub aaguid: [u8; 16],
}

impl std::fmt::Debug for SoftAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftAuthenticator")
            .field("credential_id", &hex::encode(&self.credential_id))
            .field("rp_id", &self.rp_id)
            .field("origin", &self.origin)
            .field("sign_count", &self.sign_count)
            .finish()
    }
}

fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

fn cbor(v: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

impl SoftAuthenticator {
    /// An ES256 (P-256) authenticator whose key is derived from `seed`.
    pub fn es256(seed: &[u8], rp_id: &str, origin: &str) -> Result<Self, String> {
        let sk = ve_crypto::sha256(&[b"soft-authenticator/p256".as_slice(), seed].concat());
        let key = p256::ecdsa::SigningKey::from_bytes(&sk.into()).map_err(|e| e.to_string())?;
        Ok(Self::with_key(Key::Es256(key), seed, rp_id, origin))
    }

    /// An EdDSA (Ed25519) authenticator whose key is derived from `seed`.
    pub fn ed25519(seed: &[u8], rp_id: &str, origin: &str) -> Self {
        let sk = ve_crypto::sha256(&[b"soft-authenticator/ed25519".as_slice(), seed].concat());
        Self::with_key(
            Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(&sk)),
            seed,
            rp_id,
            origin,
        )
    }

    fn with_key(key: Key, seed: &[u8], rp_id: &str, origin: &str) -> Self {
        let id = ve_crypto::sha256(&[b"soft-authenticator/credential".as_slice(), seed].concat());
        Self {
            key,
            credential_id: id.get(..16).unwrap_or_default().to_vec(),
            rp_id: rp_id.into(),
            origin: origin.into(),
            sign_count: 0,
            user_verified: true,
            aaguid: [0u8; 16],
        }
    }

    fn alg(&self) -> i64 {
        match self.key {
            Key::Es256(_) => -7,
            Key::Ed25519(_) => -8,
        }
    }

    /// The credential public key as a COSE_Key.
    pub fn cose_key(&self) -> Result<Vec<u8>, String> {
        let v = match &self.key {
            Key::Es256(k) => {
                let p = k.verifying_key().to_encoded_point(false);
                let x = p.x().ok_or("no x")?.to_vec();
                let y = p.y().ok_or("no y")?.to_vec();
                Value::Map(vec![
                    (int(1), int(2)),
                    (int(3), int(-7)),
                    (int(-1), int(1)),
                    (int(-2), Value::Bytes(x)),
                    (int(-3), Value::Bytes(y)),
                ])
            }
            Key::Ed25519(k) => Value::Map(vec![
                (int(1), int(1)),
                (int(3), int(-8)),
                (int(-1), int(6)),
                (int(-2), Value::Bytes(k.verifying_key().to_bytes().to_vec())),
            ]),
        };
        cbor(&v)
    }

    /// clientDataJSON as a browser serialises it.
    pub fn client_data(&self, typ: &str, challenge: &[u8]) -> Vec<u8> {
        format!(
            r#"{{"type":"{typ}","challenge":"{}","origin":"{}","crossOrigin":false}}"#,
            URL_SAFE_NO_PAD.encode(challenge),
            self.origin
        )
        .into_bytes()
    }

    fn auth_data(&self, attested: bool) -> Result<Vec<u8>, String> {
        let mut flags = FLAG_UP;
        if self.user_verified {
            flags |= FLAG_UV;
        }
        if attested {
            flags |= FLAG_AT;
        }
        let mut v = ve_crypto::sha256(self.rp_id.as_bytes()).to_vec();
        v.push(flags);
        v.extend_from_slice(&self.sign_count.to_be_bytes());
        if attested {
            v.extend_from_slice(&self.aaguid);
            let len = u16::try_from(self.credential_id.len()).map_err(|e| e.to_string())?;
            v.extend_from_slice(&len.to_be_bytes());
            v.extend_from_slice(&self.credential_id);
            v.extend_from_slice(&self.cose_key()?);
        }
        Ok(v)
    }

    /// Signs like the authenticator: ES256 as ASN.1 DER, EdDSA as 64 bytes.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        match &self.key {
            Key::Es256(k) => {
                use p256::ecdsa::signature::Signer;
                let sig: p256::ecdsa::Signature = k.sign(msg);
                sig.to_der().as_bytes().to_vec()
            }
            Key::Ed25519(k) => {
                use ed25519_dalek::Signer;
                k.sign(msg).to_bytes().to_vec()
            }
        }
    }

    /// `navigator.credentials.create`: (clientDataJSON, attestationObject).
    pub fn register(
        &mut self,
        challenge: &[u8],
        format: Format,
    ) -> Result<(Vec<u8>, Vec<u8>), String> {
        let client_data = self.client_data("webauthn.create", challenge);
        let auth_data = self.auth_data(true)?;
        let (fmt, stmt) = match format {
            Format::None => ("none", Value::Map(vec![])),
            Format::PackedSelf => {
                let msg = [auth_data.as_slice(), &ve_crypto::sha256(&client_data)].concat();
                (
                    "packed",
                    Value::Map(vec![
                        (Value::Text("alg".into()), int(self.alg())),
                        (Value::Text("sig".into()), Value::Bytes(self.sign(&msg))),
                    ]),
                )
            }
        };
        let obj = Value::Map(vec![
            (Value::Text("fmt".into()), Value::Text(fmt.into())),
            (Value::Text("attStmt".into()), stmt),
            (Value::Text("authData".into()), Value::Bytes(auth_data)),
        ]);
        Ok((client_data, cbor(&obj)?))
    }

    /// `navigator.credentials.get`: increments the sign count and signs
    /// `authenticatorData || SHA-256(clientDataJSON)`.
    pub fn assert(&mut self, challenge: &[u8]) -> Result<Assertion, String> {
        self.sign_count = self.sign_count.saturating_add(1);
        let client_data_json = self.client_data("webauthn.get", challenge);
        let authenticator_data = self.auth_data(false)?;
        let msg = [
            authenticator_data.as_slice(),
            &ve_crypto::sha256(&client_data_json),
        ]
        .concat();
        Ok(Assertion {
            credential_id: self.credential_id.clone(),
            signature: self.sign(&msg),
            client_data_json,
            authenticator_data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webauthn::{verify_assertion, verify_registration, RelyingParty};

    fn rp(origins: &[String]) -> RelyingParty<'_> {
        RelyingParty {
            rp_id: "virtengine.com",
            origins,
            require_user_verification: true,
        }
    }

    #[test]
    fn es256_and_eddsa_registrations_and_assertions_verify() {
        let origins = vec!["https://virtengine.com".to_string()];
        for (mut a, fmt) in [
            (
                SoftAuthenticator::es256(b"k1", "virtengine.com", "https://virtengine.com")
                    .unwrap(),
                Format::None,
            ),
            (
                SoftAuthenticator::es256(b"k2", "virtengine.com", "https://virtengine.com")
                    .unwrap(),
                Format::PackedSelf,
            ),
            (
                SoftAuthenticator::ed25519(b"k3", "virtengine.com", "https://virtengine.com"),
                Format::PackedSelf,
            ),
        ] {
            let challenge = [7u8; 32];
            let (cd, att) = a.register(&challenge, fmt).unwrap();
            let r = verify_registration(&cd, &att, &challenge, &rp(&origins)).unwrap();
            assert_eq!(r.credential_id, a.credential_id);
            let ch2 = [9u8; 32];
            let s = a.assert(&ch2).unwrap();
            let count = verify_assertion(
                &r.cose_key,
                0,
                &s.client_data_json,
                &s.authenticator_data,
                &s.signature,
                &ch2,
                &rp(&origins),
            )
            .unwrap();
            assert_eq!(count, 1);
            // Replaying the same assertion fails the sign-count rule.
            assert!(verify_assertion(
                &r.cose_key,
                1,
                &s.client_data_json,
                &s.authenticator_data,
                &s.signature,
                &ch2,
                &rp(&origins)
            )
            .is_err());
            // Another challenge, another origin, a flipped signature bit: all refused.
            assert!(verify_assertion(
                &r.cose_key,
                0,
                &s.client_data_json,
                &s.authenticator_data,
                &s.signature,
                &[1u8; 32],
                &rp(&origins)
            )
            .is_err());
            let other = vec!["https://evil.example".to_string()];
            assert!(verify_assertion(
                &r.cose_key,
                0,
                &s.client_data_json,
                &s.authenticator_data,
                &s.signature,
                &ch2,
                &rp(&other)
            )
            .is_err());
            let mut bad = s.signature.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert!(verify_assertion(
                &r.cose_key,
                0,
                &s.client_data_json,
                &s.authenticator_data,
                &bad,
                &ch2,
                &rp(&origins)
            )
            .is_err());
        }
    }

    #[test]
    fn missing_user_verification_is_refused_when_required() {
        let origins = vec!["https://virtengine.com".to_string()];
        let mut a =
            SoftAuthenticator::es256(b"uv", "virtengine.com", "https://virtengine.com").unwrap();
        let (cd, att) = a.register(&[1u8; 32], Format::None).unwrap();
        let r = verify_registration(&cd, &att, &[1u8; 32], &rp(&origins)).unwrap();
        a.user_verified = false;
        let s = a.assert(&[2u8; 32]).unwrap();
        let err = verify_assertion(
            &r.cose_key,
            0,
            &s.client_data_json,
            &s.authenticator_data,
            &s.signature,
            &[2u8; 32],
            &rp(&origins),
        )
        .unwrap_err();
        assert!(err.contains("UV"), "{err}");
    }
}
