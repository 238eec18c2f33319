//! What a client seals into `MsgEnrollFactor.sealed_secret` for the verifier to open.
//!
//! The envelope (docs/envelope.md) carries a small JSON document naming its factor, so a
//! TOTP seed can never be used as an email address or the other way round:
//!
//! ```text
//! TOTP:  {"v":1,"factor":"totp","secret":"<RFC 4648 base32, no padding>","algorithm":"SHA1","digits":6,"period":30}
//! EMAIL: {"v":1,"factor":"email","address":"user@example.org"}
//! ```
//!
//! `algorithm` is `SHA1` (what authenticator apps implement), `SHA256` or `SHA512`;
//! `digits` 6-8; `period` 15-300 seconds. Seeds must carry at least 128 bits (RFC 4226 §4).

use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Builder, Secret, Totp};
use ve_crypto::envelope::{self, RecipientPublicKey};
use zeroize::Zeroizing;

/// Issuer shown by authenticator apps.
pub const TOTP_ISSUER: &str = "VirtEngine";
/// Length of seeds this crate generates (RFC 4226's recommended 160 bits).
pub const TOTP_SEED_LEN: usize = 20;
/// Allowed skew: the previous and next step are accepted too (RFC 6238 §5.2).
pub const TOTP_SKEW_STEPS: u16 = 1;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the sealed secret is not a verifier secret document: {0}")]
    Format(String),
    #[error("the sealed secret is for a {found} factor, the challenge is for {expected}")]
    WrongFactor {
        expected: &'static str,
        found: String,
    },
    #[error("TOTP parameters rejected: {0}")]
    Totp(String),
    #[error("invalid email address {0:?}")]
    Email(String),
    #[error("envelope: {0}")]
    Envelope(#[from] envelope::EnvelopeError),
}

/// The document inside the envelope.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "factor", rename_all = "lowercase")]
pub enum SealedSecret {
    Totp {
        v: u32,
        secret: String,
        algorithm: String,
        digits: u8,
        period: u64,
    },
    Email {
        v: u32,
        address: String,
    },
}

impl SealedSecret {
    /// A standard TOTP seed (SHA1, 6 digits, 30 s) of 160 random bits.
    pub fn new_totp() -> Self {
        let mut seed = Zeroizing::new([0u8; TOTP_SEED_LEN]);
        OsRng.fill_bytes(seed.as_mut());
        Self::totp_from_seed(seed.as_ref())
    }

    pub fn totp_from_seed(seed: &[u8]) -> Self {
        SealedSecret::Totp {
            v: 1,
            secret: Secret::from(seed).to_base32(),
            algorithm: "SHA1".into(),
            digits: 6,
            period: 30,
        }
    }

    pub fn email(address: &str) -> Result<Self, SecretError> {
        let address = normalise_email(address)?;
        Ok(SealedSecret::Email { v: 1, address })
    }

    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        // Serialising a plain enum of strings and integers cannot fail.
        Zeroizing::new(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, SecretError> {
        let s: SealedSecret =
            serde_json::from_slice(bytes).map_err(|e| SecretError::Format(e.to_string()))?;
        let v = match &s {
            SealedSecret::Totp { v, .. } | SealedSecret::Email { v, .. } => *v,
        };
        if v != 1 {
            return Err(SecretError::Format(format!("unknown version {v}")));
        }
        Ok(s)
    }

    /// Seals the document to the verifier keys' X25519 public keys.
    pub fn seal(&self, recipients: &[RecipientPublicKey]) -> Result<Vec<u8>, SecretError> {
        Ok(envelope::seal(&self.to_json(), recipients, None)?)
    }

    /// Opens an envelope with the verifier's X25519 secret key.
    pub fn open(sealed: &[u8], key: &envelope::RecipientSecretKey) -> Result<Self, SecretError> {
        let opened = envelope::open(sealed, key)?;
        Self::from_json(&opened.payload)
    }

    /// The TOTP generator for this seed (skew ±1 step); errors for an email secret.
    pub fn totp(&self) -> Result<Totp, SecretError> {
        let SealedSecret::Totp {
            secret,
            algorithm,
            digits,
            period,
            ..
        } = self
        else {
            return Err(SecretError::WrongFactor {
                expected: "totp",
                found: "email".into(),
            });
        };
        let algorithm = match algorithm.as_str() {
            "SHA1" => Algorithm::SHA1,
            "SHA256" => Algorithm::SHA256,
            "SHA512" => Algorithm::SHA512,
            other => return Err(SecretError::Totp(format!("unknown algorithm {other:?}"))),
        };
        if !(15..=300).contains(period) {
            return Err(SecretError::Totp(format!(
                "period {period} s outside 15..=300"
            )));
        }
        let seed = Secret::try_from_base32(secret)
            .map_err(|e| SecretError::Totp(format!("secret is not base32: {e}")))?;
        Builder::new()
            .with_algorithm(algorithm)
            .with_digits(*digits)
            .with_skew(TOTP_SKEW_STEPS)
            .with_step_duration(*period)
            .with_secret(seed)
            .build()
            .map_err(|e| SecretError::Totp(e.to_string()))
    }

    /// The `otpauth://totp/...` URI authenticator apps import (Key Uri Format).
    pub fn otpauth_uri(&self, account_label: &str) -> Result<String, SecretError> {
        let SealedSecret::Totp {
            secret,
            algorithm,
            digits,
            period,
            ..
        } = self
        else {
            return Err(SecretError::WrongFactor {
                expected: "totp",
                found: "email".into(),
            });
        };
        Ok(format!(
            "otpauth://totp/{issuer}:{label}?secret={secret}&issuer={issuer}&algorithm={algorithm}&digits={digits}&period={period}",
            issuer = TOTP_ISSUER,
            label = percent_encode(account_label),
        ))
    }

    pub fn email_address(&self) -> Result<&str, SecretError> {
        match self {
            SealedSecret::Email { address, .. } => Ok(address),
            SealedSecret::Totp { .. } => Err(SecretError::WrongFactor {
                expected: "email",
                found: "totp".into(),
            }),
        }
    }
}

/// Trimmed, domain lower-cased; one `@`, non-empty parts, no whitespace or control chars.
pub fn normalise_email(address: &str) -> Result<String, SecretError> {
    let a = address.trim();
    let bad = || SecretError::Email(address.to_string());
    let (local, domain) = a.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.is_empty()
        || domain.contains('@')
        || !domain.contains('.') && domain != "localhost"
        || a.len() > 254
        || a.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// SHA-256 of the normalised address: `MsgEnrollFactor.contact_hash`.
pub fn contact_hash(address: &str) -> Result<[u8; 32], SecretError> {
    Ok(ve_crypto::sha256(normalise_email(address)?.as_bytes()))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_seed_round_trips_through_an_envelope_and_matches_rfc6238() {
        // RFC 6238 appendix B, SHA1 seed "12345678901234567890", T = 59 -> 94287082 (8 digits);
        // 6 digits are its last six.
        let s = SealedSecret::totp_from_seed(b"12345678901234567890");
        let key = envelope::RecipientSecretKey::generate(&mut OsRng);
        let sealed = s.seal(&[key.public_key()]).unwrap();
        let opened = SealedSecret::open(&sealed, &key).unwrap();
        assert_eq!(opened, s);
        let totp = opened.totp().unwrap();
        assert_eq!(totp.generate(59).to_string(), "287082");
        assert!(opened.email_address().is_err());
    }

    #[test]
    fn otpauth_uri_names_issuer_account_and_secret() {
        let s = SealedSecret::totp_from_seed(b"12345678901234567890");
        let uri = s.otpauth_uri("ve1abc").unwrap();
        assert_eq!(
            uri,
            "otpauth://totp/VirtEngine:ve1abc?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=VirtEngine&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn email_secret_is_normalised_and_not_a_totp_seed() {
        let s = SealedSecret::email(" Bob@Example.ORG ").unwrap();
        assert_eq!(s.email_address().unwrap(), "Bob@example.org");
        assert!(s.totp().is_err());
        assert!(SealedSecret::email("no-at-sign").is_err());
        assert!(SealedSecret::email("a b@example.org").is_err());
    }

    #[test]
    fn short_seeds_and_unknown_versions_are_refused() {
        assert!(SealedSecret::totp_from_seed(&[1u8; 10]).totp().is_err());
        assert!(SealedSecret::from_json(br#"{"factor":"email","v":2,"address":"a@b.c"}"#).is_err());
    }
}
