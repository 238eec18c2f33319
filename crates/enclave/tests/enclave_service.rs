//! The enclave service end to end over its unix socket: sealed keys, scopes sealed to
//! the enclave's X25519 key, real models, signed results the chain can verify.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use base64::Engine as _;
use ed25519_dalek::Verifier;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use ve_crypto::attested::score_sign_bytes;
use ve_crypto::envelope::{seal, RecipientPublicKey};
use ve_enclave::api::{Client, RequestJson, ScopeJson};
use ve_enclave::sealing::Home;
use ve_enclave::Enclave;
use ve_proto::virtengine::consensus::v1::EnclaveScore;

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scoring/models")
}

fn testdata(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scoring/testdata")
            .join(name),
    )
    .unwrap()
}

/// An initialised enclave serving on a socket in `dir`.
fn start(dir: &Path, name: &str) -> Client {
    let home = dir.join(name);
    Home(home.clone()).init().unwrap();
    let enclave = Enclave::open(&home, &models()).unwrap();
    let socket = dir.join(format!("{name}.sock"));
    let s = socket.clone();
    std::thread::spawn(move || ve_enclave::api::serve(enclave, &s));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "socket never appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    Client::new(socket, Duration::from_secs(30))
}

fn request(id: &str, to: &RecipientPublicKey, doc: &[u8], selfie: &[u8]) -> RequestJson {
    let b64 = |b: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(b);
    RequestJson {
        request_id: id.into(),
        account: "ve1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq".into(),
        reference_time: 1_764_115_200, // 2025-11-26
        scopes: vec![
            ScopeJson {
                scope_id: "doc".into(),
                scope_type: 1,
                envelope: b64(seal(doc, &[*to], None).unwrap()),
            },
            ScopeJson {
                scope_id: "selfie".into(),
                scope_type: 2,
                envelope: b64(seal(selfie, &[*to], None).unwrap()),
            },
        ],
    }
}

/// Asks until the worker has scored the request.
fn score(c: &Client, height: u64, r: impl Fn() -> RequestJson) -> EnclaveScore {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(s) = c.score("test-chain", height, r()).unwrap() {
            return s;
        }
        assert!(Instant::now() < deadline, "scoring never finished");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn enclave_scores_sealed_scopes_and_signs_a_result_the_chain_can_verify() {
    let dir = tempfile::tempdir().unwrap();
    let a = start(dir.path(), "a");
    let id = a.identity().unwrap();
    assert_eq!(id.platform, "simulated");
    let key = RecipientPublicKey::from_slice(&id.x25519_public_key).unwrap();

    let doc = testdata("genuine_doc.jpg");
    let genuine = score(&a, 7, || {
        request("r-genuine", &key, &doc, &testdata("genuine_selfie.jpg"))
    });
    let other = score(&a, 7, || {
        request("r-other", &key, &doc, &testdata("other_person_selfie.jpg"))
    });
    assert!(
        genuine.score > other.score,
        "genuine {} must outscore a different person's selfie {}",
        genuine.score,
        other.score
    );
    assert_eq!(genuine.measurement, id.measurement.to_vec());
    assert_eq!(genuine.model_version, hex::encode(id.model_hash));

    // The signature verifies over the chain's sign bytes, for this height only.
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&id.signing_public_key).unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&genuine.signature).unwrap();
    vk.verify(&score_sign_bytes("test-chain", 7, &genuine), &sig)
        .unwrap();
    assert!(vk
        .verify(&score_sign_bytes("test-chain", 8, &genuine), &sig)
        .is_err());
    // Asked again at a later height: same score, signed for that height.
    let later = score(&a, 9, || {
        request("r-genuine", &key, &doc, &testdata("genuine_selfie.jpg"))
    });
    assert_eq!(later.score, genuine.score);
    let sig9 = ed25519_dalek::Signature::from_slice(&later.signature).unwrap();
    vk.verify(&score_sign_bytes("test-chain", 9, &later), &sig9)
        .unwrap();

    // Another enclave, whose key the scopes were not sealed to, cannot score them.
    let b = start(dir.path(), "b");
    let err = (0..600)
        .find_map(
            |_| match b.score("test-chain", 7, request("r-genuine", &key, &doc, &doc)) {
                Ok(None) => {
                    std::thread::sleep(Duration::from_millis(100));
                    None
                }
                other => Some(other),
            },
        )
        .unwrap();
    assert!(
        err.as_ref()
            .is_err_and(|e| e.contains("not sealed to this enclave")),
        "{err:?}"
    );
}

#[test]
fn a_deviant_score_fault_signs_the_offset_score_and_cannot_be_changed_once_set() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("deviant");
    Home(home.clone()).init().unwrap();
    let enclave = Enclave::open(&home, &models()).unwrap();
    let id = enclave.identity().clone();
    let key = RecipientPublicKey::from_slice(&id.x25519_public_key).unwrap();
    let doc = testdata("genuine_doc.jpg");
    let selfie = testdata("genuine_selfie.jpg");
    let req = || {
        let j = request("r-deviant", &key, &doc, &selfie);
        ve_enclave::ScoreRequest {
            request_id: j.request_id,
            account: j.account,
            reference_time: j.reference_time,
            scopes: j
                .scopes
                .into_iter()
                .map(|s| ve_enclave::ScopeIn {
                    scope_id: s.scope_id,
                    scope_type: s.scope_type,
                    envelope: base64::engine::general_purpose::STANDARD
                        .decode(s.envelope)
                        .unwrap(),
                })
                .collect(),
        }
    };
    let ready = |height: u64| {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            match enclave.score("test-chain", height, &req()) {
                ve_enclave::ScoreOutcome::Ready(s) => return s,
                ve_enclave::ScoreOutcome::Pending => {}
                other => panic!("{other:?}"),
            }
            assert!(Instant::now() < deadline, "scoring never finished");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let honest = ready(7);

    let fault = enclave.sign_deviant_scores(40).unwrap();
    let deviant = ready(8);
    assert_eq!(deviant.score, fault.apply(honest.score));
    assert!(deviant.score.abs_diff(honest.score) > 2);
    // Signed like any result: the chain cannot tell, only the aggregation can.
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&id.signing_public_key).unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&deviant.signature).unwrap();
    vk.verify(&score_sign_bytes("test-chain", 8, &deviant), &sig)
        .unwrap();
    // Set once, at start: a second offset is refused and the first stays.
    assert!(enclave.sign_deviant_scores(10).is_err());
    assert_eq!(ready(9).score, deviant.score);
}
