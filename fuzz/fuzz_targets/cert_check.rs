//! The cert module's X.509 checks on untrusted PEM (what `MsgCreateCertificate` carries):
//! never a panic; a certificate that passes is for the owner, carries exactly the given
//! P-256 key and is valid at block time.
//!
//! Input: `cert_pem || 0x00 || pubkey_pem` (a missing separator gives an empty key).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ve_fuzz::write_seeds;

/// A self-signed P-256 certificate (openssl, 300 days from 2026-11-26) for OWNER.
const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBvTCCAWOgAwIBAgIUK3NhBW7K27GE5uh+kjClZpWKa7IwCgYIKoZIzj0EAwIw
NDEyMDAGA1UEAwwpdmUxcXlxc3pxZ3BxeXFzenFncHF5cXN6cWdwcXlxc3pxZ3Bq
bnA3ZHUwHhcNMjYxMTI2MDIyNjU5WhcNMjcwOTIyMDIyNjU5WjA0MTIwMAYDVQQD
DCl2ZTFxeXFzenFncHF5cXN6cWdwcXlxc3pxZ3BxeXFzenFncGpucDdkdTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABN7QnctwaMLlugp14QkR/D+WZcD5DlrJoJa2
c7VQELN0m+WdCQviYr4Q0BNAZLfOW0bQtAX3S2Sfj9RQkuJVAkejUzBRMB0GA1Ud
DgQWBBQZCj9GMyMjAawbkOksc0Y1meiCeTAfBgNVHSMEGDAWgBQZCj9GMyMjAawb
kOksc0Y1meiCeTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDL
nhHWrYGy9PzTDT4Y1OzZZrqd+tEfbU1HkHhiMrqR8gIgMBkdHUeRZCzfq4HpgIAC
Jg7A1y6o8tUdv/Bq6lHpXLU=
-----END CERTIFICATE-----
";
const KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE3tCdy3BowuW6CnXhCRH8P5ZlwPkO
WsmglrZztVAQs3Sb5Z0JC+JivhDQE0Bkt85bRtC0BfdLZJ+P1FCS4lUCRw==
-----END PUBLIC KEY-----
";
const OWNER: &str = "ve1qyqszqgpqyqszqgpqyqszqgpqyqszqgpjnp7du";
/// Block time inside the seed certificate's validity.
const NOW: i64 = 1_795_660_021;

fn frame(cert: &[u8], key: &[u8]) -> Vec<u8> {
    [cert, &[0][..], key].concat()
}

fuzz_target!(
    init: {
        write_seeds(|| {
            vec![
                ("valid".into(), frame(CERT.as_bytes(), KEY.as_bytes())),
                ("swapped".into(), frame(KEY.as_bytes(), CERT.as_bytes())),
            ]
        });
    },
    |data: &[u8]| {
        let (cert, key) = match data.iter().position(|b| *b == 0) {
            Some(i) => (&data[..i], &data[i + 1..]),
            None => (data, &[][..]),
        };
        for now in [NOW, 0, i64::MAX, i64::MIN] {
            if let Ok(c) = ve_cert::parse_and_check(OWNER, cert, key, now) {
                assert!(
                    c.not_before <= now && now <= c.not_after,
                    "accepted outside its validity window"
                );
                assert!(!c.serial.is_empty() && c.serial.bytes().all(|b| b.is_ascii_digit()));
            }
        }
        // Another owner never passes with the seed's subject.
        if cert == CERT.as_bytes() {
            assert!(ve_cert::parse_and_check("ve1other", cert, key, NOW).is_err());
        }
    }
);
