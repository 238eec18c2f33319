//! SEV-SNP report parsing and verification on untrusted bytes (with the genuine VCEK
//! chain): never a panic, and anything that verifies proves exactly what the genuine
//! sample proves (the whole report body is signed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ve_attestation::{snp, verify, x509, Platform, TrustAnchors};
use ve_fuzz::write_seeds;

const SAMPLE: &[u8] = include_bytes!("../../crates/attestation/testdata/snp_report_milan.bin");
const VCEK: &[u8] = include_bytes!("../../crates/attestation/testdata/snp_vcek_milan.der");
const CHAIN: &[u8] = include_bytes!("../../crates/attestation/testdata/snp_cert_chain_milan.pem");
/// 2025-01-01: inside the sample VCEK's validity.
const AT: i64 = 1_735_689_600;

fn chain() -> Vec<Vec<u8>> {
    let mut c = vec![VCEK.to_vec()];
    c.extend(x509::pem_to_der("snp", CHAIN).unwrap_or_default());
    c
}

fuzz_target!(
    init: {
        write_seeds(|| vec![("sev-milan-sample".into(), SAMPLE.to_vec())]);
    },
    |data: &[u8]| {
        let _ = snp::parse(data);
        let anchors = TrustAnchors::vendor_roots();
        if let Ok(e) = verify(Platform::SevSnp, data, &chain(), &anchors, AT) {
            let genuine = verify(Platform::SevSnp, SAMPLE, &chain(), &anchors, AT);
            assert_eq!(Ok(e), genuine, "a forged report verified");
        }
    }
);
