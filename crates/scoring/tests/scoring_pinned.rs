#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End-to-end scoring on committed fixtures (crates/scoring/testdata, built by ml/fixtures.py from
//! the held-out split) with the committed model set (crates/scoring/models).
//!
//! Outputs are pinned: a change of any model file, the feature spec, the feature code or the OCR
//! engine shows up here. After retraining (`bash ml/run.sh`) update PINNED_MODEL_HASH and the
//! pinned scores from the failure messages.
//!
//! Needs the `tesseract` binary with English data (Debian: tesseract-ocr tesseract-ocr-eng).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ve_scoring::{ReasonCode, ScoreResult, Scorer, ScoringError, ScoringInput, Status};

const PINNED_MODEL_HASH: &str = "464fe3c19d3f176f3bed951b6ec913f8a5dcd5e91828e459840d2c3470c48710";
const REFERENCE_DATE: u32 = 20261126;
const GENUINE_NAME: &str = "LINA BERGER";
const GENUINE_DOB: &str = "1971-05-17";

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(name),
    )
    .unwrap()
}

fn scorer() -> &'static Scorer {
    static S: OnceLock<Scorer> = OnceLock::new();
    S.get_or_init(|| Scorer::load(&models()).expect("model set loads"))
}

fn score(doc: &str, selfie: &str, name: &str, dob: &str) -> ScoreResult {
    let (d, s) = (fixture(doc), fixture(selfie));
    scorer()
        .score(&ScoringInput {
            document_image: &d,
            selfie_image: &s,
            reference_date: REFERENCE_DATE,
            claimed_name: Some(name),
            claimed_date_of_birth: Some(dob),
        })
        .unwrap()
}

#[test]
fn model_set_hash_is_pinned() {
    assert_eq!(hex::encode(scorer().model_hash()), PINNED_MODEL_HASH);
    assert_eq!(
        ve_scoring::model_set_hash(&models()).unwrap(),
        scorer().model_hash()
    );
}

#[test]
fn genuine_applicant_is_verified_with_pinned_output() {
    let r = score(
        "genuine_doc.jpg",
        "genuine_selfie.jpg",
        GENUINE_NAME,
        GENUINE_DOB,
    );
    assert_eq!(
        (r.score, r.probability_micros, r.status),
        (100, 999_865, Status::Verified),
        "{r:#?}"
    );
    assert_eq!(
        r.reason_codes,
        vec![ReasonCode::Success, ReasonCode::HighConfidence]
    );
    assert_eq!(hex::encode(r.model_hash), PINNED_MODEL_HASH);
    assert_eq!(r.feature_version, "veid-features/v2");
    assert_eq!(r.features["face_embedding_similarity"], 9971);
    assert_eq!(r.features["face_texture_similarity"], 9329);
    assert_eq!(r.features["live_moire"], 2298);
    assert_eq!(r.features["ocr_valid_document_number"], 10_000);
    let printed = [
        ("date_of_birth", "1971-05-17"),
        ("document_number", "OE8599559"),
        ("expiry_date", "2029-03-06"),
        ("name", "LINA BERGER"),
        ("nationality", "BRA"),
    ];
    for (field, value) in printed {
        assert_eq!(r.ocr_fields[field], value, "OCR of {field}");
    }
}

#[test]
fn selfie_of_another_person_is_rejected_as_face_mismatch() {
    let r = score(
        "genuine_doc.jpg",
        "other_person_selfie.jpg",
        GENUINE_NAME,
        GENUINE_DOB,
    );
    assert_eq!((r.score, r.status), (0, Status::Rejected), "{r:#?}");
    assert!(
        r.reason_codes.contains(&ReasonCode::FaceMismatch),
        "{:?}",
        r.reason_codes
    );
    let genuine = score(
        "genuine_doc.jpg",
        "genuine_selfie.jpg",
        GENUINE_NAME,
        GENUINE_DOB,
    );
    assert!(
        r.features["face_embedding_similarity"] < genuine.features["face_embedding_similarity"]
    );
}

#[test]
fn screen_replayed_selfie_is_flagged_and_rejected() {
    let r = score(
        "genuine_doc.jpg",
        "screen_replay_selfie.jpg",
        GENUINE_NAME,
        GENUINE_DOB,
    );
    assert_eq!((r.score, r.status), (0, Status::Rejected), "{r:#?}");
    assert!(
        r.reason_codes.contains(&ReasonCode::PossibleScreenReplay),
        "{:?}",
        r.reason_codes
    );
    assert_eq!(r.features["live_moire"], 5695);
}

#[test]
fn printed_photo_selfie_is_flagged_and_rejected() {
    let r = score(
        "genuine_doc.jpg",
        "print_attack_selfie.jpg",
        GENUINE_NAME,
        GENUINE_DOB,
    );
    assert_eq!((r.score, r.status), (0, Status::Rejected), "{r:#?}");
    assert!(
        r.reason_codes.contains(&ReasonCode::PossiblePrintAttack),
        "{:?}",
        r.reason_codes
    );
}

#[test]
fn tampered_document_number_fails_validation_and_is_rejected() {
    let r = score(
        "tampered_doc.jpg",
        "tampered_selfie.jpg",
        "SARA BERGER",
        "1954-08-02",
    );
    assert_eq!(
        r.ocr_fields["document_number"], "PF3413422",
        "the tampered number is read correctly"
    );
    assert_eq!(
        r.features["ocr_valid_document_number"], 0,
        "its ICAO check digit is wrong"
    );
    assert_eq!((r.score, r.status), (33, Status::Rejected), "{r:#?}");
    assert_eq!(r.reason_codes, vec![ReasonCode::OcrValidationFailed]);
}

#[test]
fn claimed_name_that_differs_from_the_document_is_rejected() {
    let r = score(
        "genuine_doc.jpg",
        "genuine_selfie.jpg",
        "OMAR SATO",
        GENUINE_DOB,
    );
    assert_eq!((r.score, r.status), (0, Status::Rejected), "{r:#?}");
    assert!(r.reason_codes.contains(&ReasonCode::ClaimMismatch));
}

/// Runs the CLI (a separate process, fresh model load) twice and compares with this process.
#[test]
fn score_is_identical_across_processes() {
    let here = score(
        "genuine_doc.jpg",
        "genuine_selfie.jpg",
        GENUINE_NAME,
        GENUINE_DOB,
    );
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    for _ in 0..2 {
        let out = Command::new(env!("CARGO_BIN_EXE_ve-scoring"))
            .arg("score")
            .arg(models())
            .arg(testdata.join("genuine_doc.jpg"))
            .arg(testdata.join("genuine_selfie.jpg"))
            .arg(REFERENCE_DATE.to_string())
            .arg(GENUINE_NAME)
            .arg(GENUINE_DOB)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let there: ScoreResult = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(there, here);
    }
}

#[test]
fn undecodable_images_are_rejected_with_typed_errors() {
    let doc = fixture("genuine_doc.jpg");
    let input = |d: &'static [u8]| ScoringInput {
        document_image: d,
        selfie_image: d,
        reference_date: REFERENCE_DATE,
        claimed_name: None,
        claimed_date_of_birth: None,
    };
    let e = scorer().score(&input(b"")).unwrap_err();
    assert!(matches!(e, ScoringError::EmptyImage("document")), "{e}");
    let e = scorer().score(&input(b"not an image")).unwrap_err();
    assert!(
        matches!(
            e,
            ScoringError::Decode {
                what: "document",
                ..
            }
        ),
        "{e}"
    );
    let truncated = scorer().score(&ScoringInput {
        selfie_image: &doc[..200],
        ..input(b"x")
    });
    assert!(truncated.is_err());
}

#[test]
fn model_set_with_another_feature_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for name in ve_scoring::MODEL_SET_FILES {
        std::fs::copy(models().join(name), dir.path().join(name)).unwrap();
    }
    let spec = std::fs::read_to_string(models().join(ve_scoring::SPEC_FILE)).unwrap();
    std::fs::write(
        dir.path().join(ve_scoring::SPEC_FILE),
        spec.replace("veid-features/v2", "veid-features/v0"),
    )
    .unwrap();
    let e = Scorer::load(dir.path()).unwrap_err();
    assert!(matches!(e, ScoringError::ModelSet { .. }), "{e}");
    assert!(e.to_string().contains("veid-features/v0"), "{e}");
}
