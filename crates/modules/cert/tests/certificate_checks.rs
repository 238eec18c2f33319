//! The certificate rules, on certificates made with rcgen the way the CLI makes them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rcgen::{
    CertificateParams, DistinguishedName, DnType, KeyPair, SerialNumber, PKCS_ECDSA_P256_SHA256,
    PKCS_ED25519,
};
use ve_cert::{parse_and_check, CertError};

const OWNER: &str = "ve1qyqszqgpqyqszqgpqyqszqgpqyqszqgpjnp7du";
const NOW: i64 = 1_700_000_000;

struct Made {
    cert: String,
    pubkey: String,
}

fn make(cn: &str, key: &KeyPair, from: i64, to: i64, serial: u64) -> Made {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.not_before = time::OffsetDateTime::from_unix_timestamp(from).unwrap();
    p.not_after = time::OffsetDateTime::from_unix_timestamp(to).unwrap();
    p.serial_number = Some(SerialNumber::from_slice(&serial.to_be_bytes()));
    let c = p.self_signed(key).unwrap();
    Made {
        cert: c.pem(),
        pubkey: key
            .public_key_pem()
            .replace("BEGIN PUBLIC KEY", "BEGIN EC PUBLIC KEY")
            .replace("END PUBLIC KEY", "END EC PUBLIC KEY"),
    }
}

fn p256() -> KeyPair {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap()
}

fn check(m: &Made) -> Result<ve_cert::CheckedCert, CertError> {
    parse_and_check(OWNER, m.cert.as_bytes(), m.pubkey.as_bytes(), NOW)
}

#[test]
fn a_self_signed_p256_certificate_for_the_owner_is_accepted() {
    let m = make(OWNER, &p256(), NOW - 3600, NOW + 86_400 * 365, 258);
    let c = check(&m).unwrap();
    assert_eq!(c.serial, "258");
    assert_eq!(c.not_after, NOW + 86_400 * 365);
}

#[test]
fn a_certificate_for_another_subject_is_refused() {
    let m = make("ve1someoneelse", &p256(), NOW - 3600, NOW + 3600, 1);
    assert!(matches!(check(&m), Err(CertError::SubjectMismatch { .. })));
}

#[test]
fn a_public_key_that_is_not_the_certificate_key_is_refused() {
    let a = make(OWNER, &p256(), NOW - 3600, NOW + 3600, 1);
    let b = make(OWNER, &p256(), NOW - 3600, NOW + 3600, 1);
    let mixed = Made {
        cert: a.cert,
        pubkey: b.pubkey,
    };
    assert!(matches!(check(&mixed), Err(CertError::KeyMismatch)));
}

#[test]
fn expired_and_not_yet_valid_certificates_are_refused() {
    let old = make(OWNER, &p256(), NOW - 7200, NOW - 3600, 1);
    assert!(matches!(
        check(&old),
        Err(CertError::OutsideValidity { .. })
    ));
    let future = make(OWNER, &p256(), NOW + 3600, NOW + 7200, 1);
    assert!(matches!(
        check(&future),
        Err(CertError::OutsideValidity { .. })
    ));
}

#[test]
fn a_tampered_certificate_does_not_verify() {
    let m = make(OWNER, &p256(), NOW - 3600, NOW + 3600, 1);
    // Flip one bit inside the DER (in the signature value near the end).
    let der = x509_parser::pem::parse_x509_pem(m.cert.as_bytes())
        .unwrap()
        .1
        .contents;
    let mut der2 = der.clone();
    let i = der2.len() - 5;
    der2[i] ^= 0x01;
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64_lines(&der2)
    );
    let r = parse_and_check(OWNER, pem.as_bytes(), m.pubkey.as_bytes(), NOW);
    assert!(
        matches!(
            r,
            Err(CertError::BadSignature) | Err(CertError::InvalidCertificate(_))
        ),
        "{r:?}"
    );
}

#[test]
fn non_p256_keys_and_garbage_are_refused() {
    let ed = KeyPair::generate_for(&PKCS_ED25519).unwrap();
    let m = make(OWNER, &ed, NOW - 3600, NOW + 3600, 1);
    assert!(matches!(check(&m), Err(CertError::InvalidPublicKey(_))));
    let r = parse_and_check(OWNER, b"not pem", b"also not", NOW);
    assert!(r.is_err());
}

fn base64_lines(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for chunk in b.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        s.push(T[(n >> 18) as usize & 63] as char);
        s.push(T[(n >> 12) as usize & 63] as char);
        s.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        s.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    s.as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}
