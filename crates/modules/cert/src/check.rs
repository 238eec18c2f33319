//! Parsing and checking a certificate + public key pair (no state). Deterministic: only
//! `x509-parser` (DER/PEM) and `p256` (ECDSA verification), no clock but the one passed in.

use crate::CertError;
use p256::ecdsa::signature::Verifier;
use x509_parser::prelude::*;

/// Most bytes of a PEM certificate or key accepted.
pub const MAX_PEM_LEN: usize = 8 * 1024;
/// Clock skew allowed for `not_before` in the future of block time.
pub const NOT_BEFORE_SKEW_SECONDS: i64 = 300;
/// Longest validity window accepted (about 5 years).
pub const MAX_VALIDITY_SECONDS: i64 = 5 * 366 * 24 * 3600;

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";

/// What the chain keeps from a checked certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedCert {
    /// Decimal serial number.
    pub serial: String,
    pub not_before: i64,
    pub not_after: i64,
}

fn bad_cert(m: impl Into<String>) -> CertError {
    CertError::InvalidCertificate(m.into())
}

fn bad_key(m: impl Into<String>) -> CertError {
    CertError::InvalidPublicKey(m.into())
}

/// Exactly one PEM block with one of `labels`; returns its DER contents.
fn one_pem(bytes: &[u8], labels: &[&str], what: &str) -> Result<Vec<u8>, String> {
    if bytes.is_empty() || bytes.len() > MAX_PEM_LEN {
        return Err(format!("{what} must be 1..={MAX_PEM_LEN} bytes of PEM"));
    }
    let mut blocks = Pem::iter_from_buffer(bytes);
    let first = blocks
        .next()
        .ok_or_else(|| format!("{what} holds no PEM block"))?
        .map_err(|e| format!("{what} is not PEM: {e}"))?;
    if blocks.next().is_some() {
        return Err(format!("{what} must hold exactly one PEM block"));
    }
    if !labels.contains(&first.label.as_str()) {
        return Err(format!(
            "{what} PEM block is {:?}, expected {}",
            first.label,
            labels.join(" or ")
        ));
    }
    Ok(first.contents)
}

/// Decimal string of a big-endian unsigned integer.
pub fn decimal(be: &[u8]) -> String {
    let mut digits: Vec<u8> = vec![0]; // little-endian base-10 digits
    for &byte in be {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            let v = u32::from(*d) * 256 + carry;
            *d = u8::try_from(v % 10).unwrap_or(0);
            carry = v / 10;
        }
        while carry > 0 {
            digits.push(u8::try_from(carry % 10).unwrap_or(0));
            carry /= 10;
        }
    }
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

fn check_p256_spki(spki: &SubjectPublicKeyInfo<'_>) -> Result<(), CertError> {
    if spki.algorithm.algorithm.to_id_string() != OID_EC_PUBLIC_KEY {
        return Err(bad_key("must be an EC key (id-ecPublicKey)"));
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    if curve.as_deref() != Some(OID_P256) {
        return Err(bad_key("must be on curve P-256 (prime256v1)"));
    }
    Ok(())
}

/// Checks `cert_pem` and `pubkey_pem` for `owner` at block time `now`.
pub fn parse_and_check(
    owner: &str,
    cert_pem: &[u8],
    pubkey_pem: &[u8],
    now: i64,
) -> Result<CheckedCert, CertError> {
    let key_der =
        one_pem(pubkey_pem, &["EC PUBLIC KEY", "PUBLIC KEY"], "public key").map_err(bad_key)?;
    let (rest, spki) = SubjectPublicKeyInfo::from_der(&key_der)
        .map_err(|e| bad_key(format!("not a SubjectPublicKeyInfo: {e}")))?;
    if !rest.is_empty() {
        return Err(bad_key("trailing bytes after the key"));
    }
    check_p256_spki(&spki)?;
    let cert_der = one_pem(cert_pem, &["CERTIFICATE"], "certificate").map_err(bad_cert)?;
    let (rest, cert) = X509Certificate::from_der(&cert_der)
        .map_err(|e| bad_cert(format!("not an X.509 certificate: {e}")))?;
    if !rest.is_empty() {
        return Err(bad_cert("trailing bytes after the certificate"));
    }
    let tbs = &cert.tbs_certificate;
    if tbs.subject_pki.raw != spki.raw {
        return Err(CertError::KeyMismatch);
    }
    let cn = tbs
        .subject
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .unwrap_or_default()
        .to_string();
    if cn != owner {
        return Err(CertError::SubjectMismatch {
            owner: owner.to_string(),
            found: cn,
        });
    }
    // Validity window.
    let not_before = tbs.validity.not_before.timestamp();
    let not_after = tbs.validity.not_after.timestamp();
    let span = not_after.checked_sub(not_before).unwrap_or(i64::MAX);
    if span <= 0 || span > MAX_VALIDITY_SECONDS {
        return Err(bad_cert(format!(
            "validity must be positive and at most {} days",
            MAX_VALIDITY_SECONDS / 86_400
        )));
    }
    if not_before > now.saturating_add(NOT_BEFORE_SKEW_SECONDS) || not_after <= now {
        return Err(CertError::OutsideValidity {
            now,
            not_before,
            not_after,
        });
    }
    // Serial: positive, at most 20 bytes (RFC 5280).
    let raw_serial = tbs.raw_serial();
    let trimmed: Vec<u8> = raw_serial.iter().copied().skip_while(|b| *b == 0).collect();
    if trimmed.is_empty() || trimmed.len() > 20 || raw_serial.first().is_some_and(|b| *b >= 0x80) {
        return Err(bad_cert(
            "serial number must be positive and at most 20 bytes",
        ));
    }
    // Self-signed with ECDSA P-256 / SHA-256 by this key.
    if cert.signature_algorithm.algorithm.to_id_string() != OID_ECDSA_SHA256 {
        return Err(bad_cert("signature algorithm must be ecdsa-with-SHA256"));
    }
    if tbs.issuer.as_raw() != tbs.subject.as_raw() {
        return Err(bad_cert("must be self-signed (issuer = subject)"));
    }
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&spki.subject_public_key.data)
        .map_err(|_| bad_key("not a valid P-256 point"))?;
    let sig = p256::ecdsa::Signature::from_der(&cert.signature_value.data)
        .map_err(|_| CertError::BadSignature)?;
    vk.verify(tbs.as_ref(), &sig)
        .map_err(|_| CertError::BadSignature)?;
    Ok(CheckedCert {
        serial: decimal(&trimmed),
        not_before,
        not_after,
    })
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimal_serials() {
        assert_eq!(decimal(&[0]), "0");
        assert_eq!(decimal(&[1, 0]), "256");
        assert_eq!(
            decimal(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            u64::MAX.to_string()
        );
    }
}
