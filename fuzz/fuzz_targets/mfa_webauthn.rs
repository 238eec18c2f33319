//! WebAuthn parsing and verification in the mfa module on untrusted bytes (what
//! `MsgEnrollFactor` and `MsgVerifyChallenge` carry): attestationObject (CBOR),
//! authenticatorData, COSE keys and clientDataJSON. Never a panic; and an assertion
//! verifies against the fixed credential only for exactly the genuine signed bytes.
//!
//! Input: `mode (1 byte) || u16be(len a) || a || u16be(len b) || b || c`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ve_fuzz::write_seeds;
use ve_mfa::testing::{Format, SoftAuthenticator};
use ve_mfa::webauthn::{
    check_client_data, parse_auth_data, parse_cose_key, verify_assertion, verify_registration,
    RelyingParty,
};

const RP_ID: &str = "virtengine.com";
const ORIGIN: &str = "https://virtengine.com";
const CHALLENGE: [u8; 32] = [0x42; 32];

fn authenticator(es256: bool) -> Option<SoftAuthenticator> {
    if es256 {
        SoftAuthenticator::es256(b"fuzz", RP_ID, ORIGIN).ok()
    } else {
        Some(SoftAuthenticator::ed25519(b"fuzz", RP_ID, ORIGIN))
    }
}

fn frame(mode: u8, a: &[u8], b: &[u8], c: &[u8]) -> Vec<u8> {
    let mut v = vec![mode];
    for part in [a, b] {
        v.extend_from_slice(&u16::try_from(part.len()).unwrap_or(0).to_be_bytes());
        v.extend_from_slice(part);
    }
    v.extend_from_slice(c);
    v
}

fn split(data: &[u8]) -> Option<(u8, &[u8], &[u8], &[u8])> {
    let (&mode, rest) = data.split_first()?;
    let mut rest = rest;
    let mut parts = [&[][..]; 2];
    for p in &mut parts {
        let len = usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]));
        *p = rest.get(2..2 + len)?;
        rest = rest.get(2 + len..)?;
    }
    Some((mode, parts[0], parts[1], rest))
}

type Genuine = Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>;

/// The genuine assertion message (COSE key, authData, clientDataJSON) of each seed
/// authenticator.
fn genuine() -> &'static Genuine {
    static G: std::sync::OnceLock<Genuine> = std::sync::OnceLock::new();
    G.get_or_init(make_genuine)
}

fn make_genuine() -> Genuine {
    let mut out = Vec::new();
    for es256 in [true, false] {
        let Some(mut a) = authenticator(es256) else {
            continue;
        };
        let Ok(key) = a.cose_key() else { continue };
        if let Ok(x) = a.assert(&CHALLENGE) {
            out.push((key, x.authenticator_data, x.client_data_json));
        }
    }
    out
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, es256) in [true, false].into_iter().enumerate() {
        let Some(mut a) = authenticator(es256) else {
            continue;
        };
        for (j, f) in [Format::None, Format::PackedSelf].into_iter().enumerate() {
            if let Ok((cd, obj)) = a.register(&CHALLENGE, f) {
                out.push((format!("register-{i}-{j}"), frame(0, &cd, &obj, &[])));
            }
        }
        let Ok(key) = a.cose_key() else { continue };
        out.push((format!("cose-{i}"), frame(3, &key, &[], &[])));
        if let Ok(x) = a.assert(&CHALLENGE) {
            out.push((
                format!("assert-{i}"),
                frame(
                    1 + u8::from(!es256) * 4,
                    &x.client_data_json,
                    &x.authenticator_data,
                    &x.signature,
                ),
            ));
            out.push((
                format!("authdata-{i}"),
                frame(2, &x.authenticator_data, &[], &[]),
            ));
            out.push((
                format!("clientdata-{i}"),
                frame(4, &x.client_data_json, &[], &[]),
            ));
        }
    }
    out
}

fuzz_target!(
    init: {
        write_seeds(seeds);
    },
    |data: &[u8]| {
        let Some((mode, a, b, c)) = split(data) else {
            return;
        };
        let origins = vec![ORIGIN.to_string()];
        let rp = RelyingParty {
            rp_id: RP_ID,
            origins: &origins,
            require_user_verification: true,
        };
        match mode % 6 {
            0 => {
                if let Ok(r) = verify_registration(a, b, &CHALLENGE, &rp) {
                    // Whatever registers yields a key the chain can later verify with.
                    assert!(parse_cose_key(&r.cose_key).is_ok(), "registered an unusable key");
                }
            }
            m @ (1 | 5) => {
                // mode 1: the ES256 credential, mode 5: the Ed25519 credential.
                let g = genuine();
                let Some((key, ad, cd)) = g.get(usize::from(m == 5)) else {
                    return;
                };
                if verify_assertion(key, 0, a, b, c, &CHALLENGE, &rp).is_ok() {
                    assert!(a == cd.as_slice() && b == ad.as_slice(), "a forged assertion verified");
                }
            }
            2 => {
                if let Ok(ad) = parse_auth_data(a) {
                    if let Some(cred) = ad.attested {
                        assert!(parse_cose_key(&cred.cose_key).is_ok());
                    }
                }
            }
            3 => {
                let _ = parse_cose_key(a);
            }
            _ => {
                let _ = check_client_data(a, "webauthn.get", &CHALLENGE, &rp);
                let _ = check_client_data(a, "webauthn.create", b, &rp);
            }
        }
    }
);
