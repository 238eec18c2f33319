#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Real vendor samples (see testdata/README.md for where each comes from) verify at a
//! time inside their certificates' validity, and every tampering is refused.

use ve_attestation::{
    key_binding, nitro, sgx, simulated, snp, verify, x509, AttestationError, Platform, TrustAnchors,
};

const SGX_QUOTE: &[u8] = include_bytes!("../testdata/sgx_dcap_quote_v3.bin");
const SNP_REPORT: &[u8] = include_bytes!("../testdata/snp_report_milan.bin");
const SNP_VCEK: &[u8] = include_bytes!("../testdata/snp_vcek_milan.der");
const SNP_CHAIN_PEM: &[u8] = include_bytes!("../testdata/snp_cert_chain_milan.pem");
const NITRO_DOC: &[u8] = include_bytes!("../testdata/nitro_attestation.cose");

/// 2025-01-01T00:00:00Z: inside the SGX PCK and SNP VCEK validity windows.
const JAN_2025: i64 = 1_735_689_600;
/// 2031-01-01T00:00:00Z: after the SGX PCK (2030-09-20) and VCEK (2030-04-03) expire.
const JAN_2031: i64 = 1_924_992_000;
/// The Nitro document's own timestamp (2025-01-06T16:07:05Z); its leaf lives ~3 hours.
const NITRO_AT: i64 = 1_736_179_625;

fn anchors() -> TrustAnchors {
    TrustAnchors::vendor_roots()
}

fn snp_chain() -> Vec<Vec<u8>> {
    // cert_chain_milan holds [ASK, ARK].
    let mut c = vec![SNP_VCEK.to_vec()];
    c.extend(x509::pem_to_der("test", SNP_CHAIN_PEM).unwrap());
    c
}

#[test]
fn real_sgx_dcap_quote_verifies_to_its_mrenclave() {
    let e = verify(Platform::Sgx, SGX_QUOTE, &[], &anchors(), JAN_2025).unwrap();
    assert_eq!(e.platform, Platform::Sgx);
    assert_eq!(
        hex::encode(&e.measurement),
        "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"
    );
    assert_eq!(e.measurement, SGX_QUOTE[112..144].to_vec());
    assert_eq!(e.signer, SGX_QUOTE[176..208].to_vec());
    assert_eq!(e.report_data, SGX_QUOTE[368..432].to_vec());
    assert!(!e.debug);
    assert!(e.not_after > JAN_2025 && e.not_after < JAN_2031);
}

#[test]
fn sgx_quote_with_any_flipped_byte_in_the_signed_part_is_refused() {
    // Header + report body (signed by the attestation key), then ISV signature,
    // attestation key, QE report, QE signature, QE auth data length and data.
    let auth_len = usize::from(u16::from_le_bytes([
        SGX_QUOTE[436 + 576],
        SGX_QUOTE[437 + 576],
    ]));
    let end = 436 + 578 + auth_len;
    for i in (0..432).chain(436..end) {
        let mut q = SGX_QUOTE.to_vec();
        q[i] ^= 0x01;
        assert!(
            verify(Platform::Sgx, &q, &[], &anchors(), JAN_2025).is_err(),
            "flipping byte {i} was accepted"
        );
    }
}

#[test]
fn sgx_quote_with_a_tampered_pck_certificate_is_refused() {
    let cert_start = 436 + 578 + 32 + 6;
    // A byte inside the base64 body of the first (PCK) certificate.
    let mut q = SGX_QUOTE.to_vec();
    let i = cert_start + 200;
    q[i] = if q[i] == b'A' { b'B' } else { b'A' };
    assert!(verify(Platform::Sgx, &q, &[], &anchors(), JAN_2025).is_err());
}

#[test]
fn sgx_quote_is_refused_under_a_wrong_root() {
    let mut a = anchors();
    a.sgx_roots = vec![ve_attestation::AWS_NITRO_ROOT_G1_DER.to_vec()];
    assert_eq!(
        verify(Platform::Sgx, SGX_QUOTE, &[], &a, JAN_2025).unwrap_err(),
        AttestationError::UntrustedRoot { platform: "sgx" }
    );
}

#[test]
fn sgx_quote_is_refused_once_its_pck_certificate_expired() {
    let err = verify(Platform::Sgx, SGX_QUOTE, &[], &anchors(), JAN_2031).unwrap_err();
    assert!(
        matches!(err, AttestationError::CertificateExpired { index: 0, .. }),
        "{err}"
    );
}

#[test]
fn real_snp_report_verifies_with_its_vcek_chain() {
    let e = verify(
        Platform::SevSnp,
        SNP_REPORT,
        &snp_chain(),
        &anchors(),
        JAN_2025,
    )
    .unwrap();
    assert_eq!(e.platform, Platform::SevSnp);
    assert_eq!(e.measurement, SNP_REPORT[0x90..0xC0].to_vec());
    assert_eq!(e.measurement.len(), 48);
    assert_eq!(e.report_data, SNP_REPORT[0x50..0x90].to_vec());
    // Without the ARK: the pinned ARK completes the chain.
    let two = snp_chain()[..2].to_vec();
    assert!(verify(Platform::SevSnp, SNP_REPORT, &two, &anchors(), JAN_2025).is_ok());
}

#[test]
fn snp_report_with_any_flipped_byte_in_the_signed_part_is_refused() {
    let chain = snp_chain();
    for i in (0..0x2A0).chain(0x2A0..0x2A0 + 48).chain(0x2E8..0x2E8 + 48) {
        let mut r = SNP_REPORT.to_vec();
        r[i] ^= 0x01;
        assert!(
            verify(Platform::SevSnp, &r, &chain, &anchors(), JAN_2025).is_err(),
            "flipping byte {i} was accepted"
        );
    }
}

#[test]
fn snp_report_is_refused_under_a_wrong_root_or_missing_ask() {
    let mut a = anchors();
    a.snp_arks = vec![ve_attestation::AMD_ARK_GENOA_DER.to_vec()];
    let err = verify(Platform::SevSnp, SNP_REPORT, &snp_chain(), &a, JAN_2025).unwrap_err();
    assert_eq!(
        err,
        AttestationError::UntrustedRoot {
            platform: "sev-snp"
        }
    );
    let err = verify(
        Platform::SevSnp,
        SNP_REPORT,
        &snp_chain()[..1],
        &anchors(),
        JAN_2025,
    )
    .unwrap_err();
    assert!(matches!(err, AttestationError::Malformed { .. }), "{err}");
    // A chain whose "ASK" is the ARK itself does not sign the VCEK.
    let bad = vec![SNP_VCEK.to_vec(), snp_chain()[2].clone()];
    assert!(verify(Platform::SevSnp, SNP_REPORT, &bad, &anchors(), JAN_2025).is_err());
}

#[test]
fn snp_report_is_refused_once_its_vcek_expired() {
    let err = verify(
        Platform::SevSnp,
        SNP_REPORT,
        &snp_chain(),
        &anchors(),
        JAN_2031,
    )
    .unwrap_err();
    assert!(
        matches!(err, AttestationError::CertificateExpired { index: 0, .. }),
        "{err}"
    );
}

#[test]
fn real_nitro_document_verifies_to_its_pcr0() {
    let e = verify(Platform::Nitro, NITRO_DOC, &[], &anchors(), NITRO_AT).unwrap();
    let d = nitro::parse(NITRO_DOC).unwrap();
    assert_eq!(d.module_id, "i-0bee92034f3d60691-enc01943c5eaab3ad6a");
    assert_eq!(d.pcrs.len(), 16);
    // PCR 0-4 set (image, kernel, application, IAM role, instance), the rest zero.
    let set: Vec<u64> = d
        .pcrs
        .iter()
        .filter(|(_, v)| v.iter().any(|b| *b != 0))
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(set, vec![0, 1, 2, 3, 4]);
    assert_eq!(e.measurement, d.pcrs[0].1);
    assert_eq!(e.measurement.len(), 48);
    assert!(d.public_key.is_some());
    assert!(e.report_data.is_empty());
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).unwrap()
}

#[test]
fn nitro_document_with_a_flipped_byte_in_the_signed_part_is_refused() {
    // The signed part is the protected header and the payload; the signature is the last
    // 96 bytes. Every byte of the protected header and signature, every 5th of the payload.
    let payload_start = find(NITRO_DOC, b"module_id") - 1;
    let sig_start = NITRO_DOC.len() - 96;
    let positions = (1..8)
        .chain((payload_start..sig_start - 2).step_by(5))
        .chain(sig_start..NITRO_DOC.len());
    for i in positions {
        let mut d = NITRO_DOC.to_vec();
        d[i] ^= 0x01;
        assert!(
            verify(Platform::Nitro, &d, &[], &anchors(), NITRO_AT).is_err(),
            "flipping byte {i} was accepted"
        );
    }
}

#[test]
fn nitro_document_is_refused_under_a_wrong_root_and_after_expiry() {
    let mut a = anchors();
    a.nitro_roots = vec![ve_attestation::INTEL_SGX_ROOT_CA_DER.to_vec()];
    assert_eq!(
        verify(Platform::Nitro, NITRO_DOC, &[], &a, NITRO_AT).unwrap_err(),
        AttestationError::UntrustedRoot { platform: "nitro" }
    );
    let err = verify(
        Platform::Nitro,
        NITRO_DOC,
        &[],
        &anchors(),
        NITRO_AT + 86_400,
    )
    .unwrap_err();
    assert!(
        matches!(err, AttestationError::CertificateExpired { .. }),
        "{err}"
    );
}

#[test]
fn parsers_refuse_other_platforms_reports() {
    assert!(sgx::parse(SNP_REPORT).is_err());
    assert!(snp::parse(SGX_QUOTE).is_err());
    assert!(nitro::parse(SGX_QUOTE).is_err());
    assert!(simulated::parse(NITRO_DOC).is_err());
    assert!(verify(Platform::Nitro, SGX_QUOTE, &[], &anchors(), NITRO_AT).is_err());
}

fn sim_key(seed: u8) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
}

#[test]
fn simulated_report_verifies_only_when_allowed_and_with_the_platform_key() {
    let k = sim_key(7);
    let binding = key_binding(&[1; 32], &[2; 32]);
    let r = simulated::sign(&k, &[9; 32], &binding);
    let allowed = anchors().with_simulated(true, Some(k.verifying_key().to_bytes()));
    let e = verify(Platform::Simulated, &r, &[], &allowed, 0).unwrap();
    assert_eq!(e.measurement, vec![9; 32]);
    assert_eq!(e.report_data, binding.to_vec());

    let disallowed = anchors().with_simulated(false, Some(k.verifying_key().to_bytes()));
    assert_eq!(
        verify(Platform::Simulated, &r, &[], &disallowed, 0).unwrap_err(),
        AttestationError::SimulatedNotAllowed
    );
    let other = anchors().with_simulated(true, Some(sim_key(8).verifying_key().to_bytes()));
    assert!(verify(Platform::Simulated, &r, &[], &other, 0).is_err());
    for i in 0..simulated::REPORT_LEN {
        let mut t = r.clone();
        t[i] ^= 0x80;
        assert!(
            verify(Platform::Simulated, &t, &[], &allowed, 0).is_err(),
            "byte {i}"
        );
    }
}

#[test]
fn key_binding_depends_on_both_keys() {
    let a = key_binding(&[1; 32], &[2; 32]);
    assert_ne!(a, key_binding(&[1; 32], &[3; 32]));
    assert_ne!(a, key_binding(&[3; 32], &[2; 32]));
    assert_eq!(a, key_binding(&[1; 32], &[2; 32]));
}
