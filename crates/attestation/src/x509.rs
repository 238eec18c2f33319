//! Certificate chains: parse, check validity at a given time, check each signature with
//! the issuer's key, and require the last certificate to be a pinned vendor root.

use crate::error::{malformed, AttestationError, Result};
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::prelude::{FromDer, X509Certificate};

const OID_ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const OID_ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const OID_RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
const OID_RSA_SHA256: &str = "1.2.840.113549.1.1.11";
const OID_RSA_SHA384: &str = "1.2.840.113549.1.1.12";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";

/// Most certificates a chain may hold.
pub const MAX_CHAIN_LEN: usize = 8;

/// Elliptic curve of a leaf key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    Other,
}

/// What a verified chain yields.
#[derive(Clone, Debug)]
pub struct VerifiedChain {
    /// The leaf's public key: the uncompressed SEC1 point for EC keys.
    pub leaf_key: Vec<u8>,
    pub leaf_curve: Curve,
    /// Earliest `notAfter` in the chain (unix seconds): the evidence is worth nothing after it.
    pub not_after: i64,
    /// Raw DER of the leaf, for extension look-ups by the caller.
    pub leaf_der: Vec<u8>,
}

pub(crate) fn parse<'a>(platform: &'static str, der: &'a [u8]) -> Result<X509Certificate<'a>> {
    let (rest, cert) = X509Certificate::from_der(der)
        .map_err(|e| malformed(platform, format!("certificate: {e}")))?;
    if !rest.is_empty() {
        return Err(malformed(platform, "trailing bytes after a certificate"));
    }
    Ok(cert)
}

/// DER certificates from a PEM bundle, in order.
pub fn pem_to_der(platform: &'static str, pem: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for p in x509_parser::pem::Pem::iter_from_buffer(pem) {
        let p = p.map_err(|e| malformed(platform, format!("PEM: {e}")))?;
        if out.len() >= MAX_CHAIN_LEN {
            return Err(malformed(platform, "too many certificates"));
        }
        out.push(p.contents);
    }
    if out.is_empty() {
        return Err(malformed(platform, "no certificate in PEM data"));
    }
    Ok(out)
}

fn curve_of(cert: &X509Certificate<'_>) -> Curve {
    let spki = cert.public_key();
    match spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string())
        .as_deref()
    {
        Some(OID_P256) => Curve::P256,
        Some(OID_P384) => Curve::P384,
        _ => Curve::Other,
    }
}

fn subject(cert: &X509Certificate<'_>) -> String {
    cert.subject().to_string().chars().take(120).collect()
}

/// Checks that `cert` carries a valid signature by `issuer`'s key.
fn verify_signed_by(
    platform: &'static str,
    cert: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
) -> Result<()> {
    let bad = |reason: String| AttestationError::BadChain { platform, reason };
    if cert.issuer().as_raw() != issuer.subject().as_raw() {
        return Err(bad(format!(
            "{} is not issued by {}",
            subject(cert),
            subject(issuer)
        )));
    }
    let alg_oid = cert.signature_algorithm.algorithm.to_id_string();
    let issuer_curve = curve_of(issuer);
    let alg: &'static dyn VerificationAlgorithm = match (alg_oid.as_str(), issuer_curve) {
        (OID_ECDSA_SHA256, Curve::P256) => &signature::ECDSA_P256_SHA256_ASN1,
        (OID_ECDSA_SHA256, Curve::P384) => &signature::ECDSA_P384_SHA256_ASN1,
        (OID_ECDSA_SHA384, Curve::P256) => &signature::ECDSA_P256_SHA384_ASN1,
        (OID_ECDSA_SHA384, Curve::P384) => &signature::ECDSA_P384_SHA384_ASN1,
        // AMD's ARK/ASK sign with RSASSA-PSS, SHA-384, MGF1-SHA-384, 48-byte salt.
        (OID_RSASSA_PSS, Curve::Other) => &signature::RSA_PSS_2048_8192_SHA384,
        (OID_RSA_SHA256, Curve::Other) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (OID_RSA_SHA384, Curve::Other) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (other, _) => {
            return Err(bad(format!(
                "unsupported signature algorithm {other} on {}",
                subject(cert)
            )))
        }
    };
    let key = UnparsedPublicKey::new(alg, &issuer.public_key().subject_public_key.data);
    key.verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data)
        .map_err(|_| bad(format!("signature on {} does not verify", subject(cert))))
}

/// Verifies `chain` (leaf first, root last) at unix time `at`: every certificate valid
/// then, each signed by the next, the root self-signed and byte-equal to one of `roots`.
pub fn verify_chain(
    platform: &'static str,
    chain: &[Vec<u8>],
    roots: &[Vec<u8>],
    at: i64,
) -> Result<VerifiedChain> {
    if chain.is_empty() || chain.len() > MAX_CHAIN_LEN {
        return Err(malformed(
            platform,
            format!(
                "chain has {} certificates; need 1..={MAX_CHAIN_LEN}",
                chain.len()
            ),
        ));
    }
    let certs = chain
        .iter()
        .map(|d| parse(platform, d))
        .collect::<Result<Vec<_>>>()?;
    let root_der = chain
        .last()
        .ok_or_else(|| malformed(platform, "empty chain"))?;
    if !roots.iter().any(|r| r == root_der) {
        return Err(AttestationError::UntrustedRoot { platform });
    }
    let mut not_after = i64::MAX;
    for (i, c) in certs.iter().enumerate() {
        let nb = c.validity().not_before.timestamp();
        let na = c.validity().not_after.timestamp();
        if at < nb || at > na {
            return Err(AttestationError::CertificateExpired {
                platform,
                index: i,
                subject: subject(c),
                at,
                not_before: nb,
                not_after: na,
            });
        }
        not_after = not_after.min(na);
        let issuer = certs.get(i.saturating_add(1)).unwrap_or(c);
        verify_signed_by(platform, c, issuer)?;
    }
    let leaf = certs
        .first()
        .ok_or_else(|| malformed(platform, "empty chain"))?;
    Ok(VerifiedChain {
        leaf_key: leaf.public_key().subject_public_key.data.to_vec(),
        leaf_curve: curve_of(leaf),
        not_after,
        leaf_der: chain.first().cloned().unwrap_or_default(),
    })
}
