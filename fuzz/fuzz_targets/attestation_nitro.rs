//! Nitro attestation document (COSE_Sign1 / CBOR) parsing and verification on untrusted
//! bytes: never a panic, and anything that verifies proves exactly what the genuine
//! sample proves (protected header and payload are signed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ve_attestation::{nitro, verify, Platform, TrustAnchors};
use ve_fuzz::write_seeds;

const SAMPLE: &[u8] = include_bytes!("../../crates/attestation/testdata/nitro_attestation.cose");
/// The sample's own timestamp: inside its leaf certificate's validity.
const AT: i64 = 1_736_179_625;

fuzz_target!(
    init: {
        write_seeds(|| vec![("nitro-attest-sample".into(), SAMPLE.to_vec())]);
    },
    |data: &[u8]| {
        let _ = nitro::parse(data);
        let anchors = TrustAnchors::vendor_roots();
        if let Ok(e) = verify(Platform::Nitro, data, &[], &anchors, AT) {
            let genuine = verify(Platform::Nitro, SAMPLE, &[], &anchors, AT);
            assert_eq!(Ok(e), genuine, "a forged document verified");
        }
    }
);
