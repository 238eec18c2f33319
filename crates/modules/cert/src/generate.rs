//! Client-side certificate generation (CLI): a fresh P-256 key pair and a self-signed
//! certificate whose subject CN is the owner address, the way the chain checks it.

use rcgen::{
    CertificateParams, DistinguishedName, DnType, KeyPair, SerialNumber, PKCS_ECDSA_P256_SHA256,
};

/// A generated certificate: what `MsgCreateCertificate` carries, plus the private key
/// (which never leaves the client).
#[derive(Clone, Debug)]
pub struct Generated {
    pub cert_pem: String,
    /// `EC PUBLIC KEY` PEM (SubjectPublicKeyInfo DER), as Akash publishes it.
    pub pubkey_pem: String,
    /// PKCS#8 private key PEM.
    pub private_key_pem: String,
}

/// Generates a certificate for `owner` valid from `not_before` to `not_after` (unix
/// seconds), with `serial` (big-endian bytes, at most 20, positive).
pub fn generate(
    owner: &str,
    not_before: i64,
    not_after: i64,
    serial: &[u8],
) -> Result<Generated, String> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| e.to_string())?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, owner);
    params.distinguished_name = dn;
    params.not_before =
        time::OffsetDateTime::from_unix_timestamp(not_before).map_err(|e| e.to_string())?;
    params.not_after =
        time::OffsetDateTime::from_unix_timestamp(not_after).map_err(|e| e.to_string())?;
    let mut s = serial.to_vec();
    if s.first().is_some_and(|b| *b >= 0x80) {
        s.insert(0, 0);
    }
    params.serial_number = Some(SerialNumber::from_slice(&s));
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    let spki_pem = key.public_key_pem();
    let pubkey_pem = spki_pem
        .replace(
            "-----BEGIN PUBLIC KEY-----",
            "-----BEGIN EC PUBLIC KEY-----",
        )
        .replace("-----END PUBLIC KEY-----", "-----END EC PUBLIC KEY-----");
    Ok(Generated {
        cert_pem: cert.pem(),
        pubkey_pem,
        private_key_pem: key.serialize_pem(),
    })
}
