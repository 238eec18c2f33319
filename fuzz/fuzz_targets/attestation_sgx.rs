//! SGX DCAP quote parsing and verification on untrusted bytes: never a panic, and
//! anything that verifies proves exactly what the genuine sample proves (every byte of
//! measurement and report data is signed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ve_attestation::{sgx, verify, Platform, TrustAnchors};
use ve_fuzz::write_seeds;

const SAMPLE: &[u8] = include_bytes!("../../crates/attestation/testdata/sgx_dcap_quote_v3.bin");
/// 2025-01-01: inside the sample's PCK validity.
const AT: i64 = 1_735_689_600;

fuzz_target!(
    init: {
        write_seeds(|| vec![("dcap-qvl-sample".into(), SAMPLE.to_vec())]);
    },
    |data: &[u8]| {
        let _ = sgx::parse(data);
        if let Ok(e) = verify(Platform::Sgx, data, &[], &TrustAnchors::vendor_roots(), AT) {
            let genuine = verify(Platform::Sgx, SAMPLE, &[], &TrustAnchors::vendor_roots(), AT);
            assert_eq!(Ok(e), genuine, "a forged quote verified");
        }
    }
);
