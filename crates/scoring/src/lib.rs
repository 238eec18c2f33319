//! VEID identity scoring (issue #6): document + selfie -> integer trust score 0-100, reason codes
//! and the model-set hash.
//!
//! Pipeline (all in this crate, pure Rust except the `tesseract` CLI for OCR):
//! face detection (BlazeFace) and face-mesh landmarks (MediaPipe) via tract-onnx, a learned
//! 128-d face embedding (dlib's ResNet, converted to ONNX) on a five-point-aligned chip plus
//! secondary LBP + landmark-geometry descriptors, document quality (sharpness,
//! brightness, contrast, noise, skew), passive liveness cues on the selfie (moiré, saturation,
//! glare, face texture), OCR fields with validation, then a small MLP trust model (ONNX,
//! trained by `ml/` on features produced by this crate's `ve-scoring extract`).
//!
//! Determinism: models run single-threaded; every feature is quantized to an integer (1e-4) before
//! the trust model; the probability is quantized to 1e-6 and the score to an integer.
//!
//! This crate runs off-chain (inside the enclave service), so it uses floating point internally;
//! only integers leave it.
#![allow(clippy::disallowed_types)] // f32/f64: off-chain image processing; outputs are quantized integers.

pub mod embedding;
pub mod error;
pub mod face;
pub mod features;
pub mod imgops;
pub mod ocr;
pub mod onnx;
pub mod quality;
pub mod timing;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use error::ScoringError;
pub use features::{
    Extraction, Extractor, ScoringInput, FEATURE_NAMES, FEATURE_VERSION, N_FEATURES,
};

use onnx::OnnxModel;
use timing::timed;
pub use timing::StageTimes;

pub const SPEC_FILE: &str = "feature_spec.json";
pub const TRUST_MODEL_FILE: &str = "trust_model.onnx";
/// Files covered by the model-set hash, in hashing order.
pub const MODEL_SET_FILES: [&str; 5] = [
    SPEC_FILE,
    face::DETECTOR_FILE,
    face::LANDMARK_FILE,
    embedding::EMBEDDING_FILE,
    TRUST_MODEL_FILE,
];

/// Score thresholds of the status mapping (spec §3.4.1).
pub const VERIFIED_MIN: u8 = 80;
pub const NEEDS_REVIEW_MIN: u8 = 50;

/// Thresholds for reason codes; written by training into `feature_spec.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReasonThresholds {
    /// Face embedding similarity below this => FACE_MISMATCH (the FAR = 1 % operating point).
    pub face_match_min: f32,
    /// Moiré cue above this => POSSIBLE_SCREEN_REPLAY.
    pub moire_max: f32,
    /// Saturation below this => POSSIBLE_PRINT_ATTACK.
    pub saturation_min: f32,
    /// Document sharpness below this => LOW_DOC_QUALITY.
    pub doc_sharpness_min: f32,
    /// Mean OCR confidence below this => LOW_OCR_CONFIDENCE.
    pub ocr_confidence_min: f32,
}

/// `feature_spec.json`: the versioned feature specification shipped with the model set.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub version: String,
    pub quantization_scale: i32,
    pub features: Vec<String>,
    pub model_file: String,
    pub model_input: String,
    pub model_output: String,
    pub thresholds: ReasonThresholds,
    /// Free-form provenance (dataset, training parameters); covered by the hash.
    #[serde(default)]
    pub training: serde_json::Value,
}

impl FeatureSpec {
    /// The spec this build of the crate computes (without training thresholds).
    pub fn current(thresholds: ReasonThresholds) -> Self {
        FeatureSpec {
            version: FEATURE_VERSION.to_string(),
            quantization_scale: features::QUANT_SCALE,
            features: FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
            model_file: TRUST_MODEL_FILE.to_string(),
            model_input: "features".to_string(),
            model_output: "trust".to_string(),
            thresholds,
            training: serde_json::Value::Null,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReasonCode {
    Success,
    HighConfidence,
    LowConfidence,
    MissingFace,
    MissingDocument,
    FaceMismatch,
    LowDocQuality,
    LowOcrConfidence,
    OcrValidationFailed,
    DocumentExpired,
    ClaimMismatch,
    PossibleScreenReplay,
    PossiblePrintAttack,
}

impl ReasonCode {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReasonCode::Success => "SUCCESS",
            ReasonCode::HighConfidence => "HIGH_CONFIDENCE",
            ReasonCode::LowConfidence => "LOW_CONFIDENCE",
            ReasonCode::MissingFace => "MISSING_FACE",
            ReasonCode::MissingDocument => "MISSING_DOCUMENT",
            ReasonCode::FaceMismatch => "FACE_MISMATCH",
            ReasonCode::LowDocQuality => "LOW_DOC_QUALITY",
            ReasonCode::LowOcrConfidence => "LOW_OCR_CONFIDENCE",
            ReasonCode::OcrValidationFailed => "OCR_VALIDATION_FAILED",
            ReasonCode::DocumentExpired => "DOCUMENT_EXPIRED",
            ReasonCode::ClaimMismatch => "CLAIM_MISMATCH",
            ReasonCode::PossibleScreenReplay => "POSSIBLE_SCREEN_REPLAY",
            ReasonCode::PossiblePrintAttack => "POSSIBLE_PRINT_ATTACK",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Verified,
    NeedsReview,
    Rejected,
}

/// Scoring output: integers only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreResult {
    /// Trust score 0-100.
    pub score: u8,
    /// Model probability x 10^6 (the score is this rounded to a percentage).
    pub probability_micros: u32,
    pub status: Status,
    pub reason_codes: Vec<ReasonCode>,
    /// SHA-256 over the model files + feature spec ([`model_set_hash`]).
    #[serde(with = "hex_bytes")]
    pub model_hash: [u8; 32],
    pub feature_version: String,
    /// Quantized features (value x 10^4) by name.
    pub features: BTreeMap<String, i32>,
    /// OCR values (normalised) by field; the enclave hashes them before anything leaves it.
    pub ocr_fields: BTreeMap<String, String>,
    /// SHA-256(document ‖ selfie ‖ u32_be(reference_date) ‖ claims).
    #[serde(with = "hex_bytes")]
    pub input_hash: [u8; 32],
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        let v = hex::decode(s).map_err(serde::de::Error::custom)?;
        v.try_into()
            .map_err(|_| serde::de::Error::custom("expected 32 bytes"))
    }
}

/// SHA-256 over, for each file of [`MODEL_SET_FILES`] in order:
/// `name ‖ 0x00 ‖ u64_be(len) ‖ SHA-256(contents)`.
pub fn model_set_hash(dir: &Path) -> Result<[u8; 32], ScoringError> {
    let mut h = Sha256::new();
    for name in MODEL_SET_FILES {
        let bytes = std::fs::read(dir.join(name)).map_err(|e| ScoringError::ModelSet {
            dir: dir.display().to_string(),
            reason: format!("cannot read {name}: {e}"),
        })?;
        h.update(name.as_bytes());
        h.update([0u8]);
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(Sha256::digest(&bytes));
    }
    Ok(h.finalize().into())
}

/// Hash of the scoring input (what was scored).
pub fn input_hash(input: &ScoringInput<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [input.document_image, input.selfie_image] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.update(input.reference_date.to_be_bytes());
    for c in [input.claimed_name, input.claimed_date_of_birth] {
        match c {
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
            None => h.update([0u8]),
        }
    }
    h.finalize().into()
}

/// Loaded model set: feature extractor + trust model + spec.
#[derive(Debug)]
pub struct Scorer {
    extractor: Extractor,
    trust: OnnxModel,
    spec: FeatureSpec,
    model_hash: [u8; 32],
}

impl Scorer {
    /// Load every model file from `dir` and check the feature spec matches this build.
    pub fn load(dir: &Path) -> Result<Self, ScoringError> {
        let bad = |reason: String| ScoringError::ModelSet {
            dir: dir.display().to_string(),
            reason,
        };
        let raw = std::fs::read(dir.join(SPEC_FILE))
            .map_err(|e| bad(format!("cannot read {SPEC_FILE}: {e}")))?;
        let spec: FeatureSpec =
            serde_json::from_slice(&raw).map_err(|e| bad(format!("{SPEC_FILE}: {e}")))?;
        if spec.version != FEATURE_VERSION {
            return Err(bad(format!(
                "feature spec {} but this scorer computes {FEATURE_VERSION}",
                spec.version
            )));
        }
        if spec
            .features
            .iter()
            .map(String::as_str)
            .ne(FEATURE_NAMES.iter().copied())
            || spec.quantization_scale != features::QUANT_SCALE
        {
            return Err(bad(
                "feature list or quantization differs from this scorer's".into(),
            ));
        }
        if spec.model_file != TRUST_MODEL_FILE {
            return Err(bad(format!("model_file must be {TRUST_MODEL_FILE}")));
        }
        let model_hash = model_set_hash(dir)?;
        let extractor = Extractor::load(dir)?;
        let trust = OnnxModel::load(&dir.join(TRUST_MODEL_FILE), &[1, N_FEATURES])?;
        Ok(Scorer {
            extractor,
            trust,
            spec,
            model_hash,
        })
    }

    pub fn model_hash(&self) -> [u8; 32] {
        self.model_hash
    }

    pub fn spec(&self) -> &FeatureSpec {
        &self.spec
    }

    pub fn extractor(&self) -> &Extractor {
        &self.extractor
    }

    /// Score one document + selfie.
    pub fn score(&self, input: &ScoringInput<'_>) -> Result<ScoreResult, ScoringError> {
        self.score_timed(input, &mut StageTimes::default())
    }

    /// [`Self::score`], adding each pipeline stage's wall time to `times` (see `benches/`).
    pub fn score_timed(
        &self,
        input: &ScoringInput<'_>,
        times: &mut StageTimes,
    ) -> Result<ScoreResult, ScoringError> {
        let ex = self.extractor.extract_timed(input, times)?;
        timed(&mut times.trust_model, || self.finish(input, &ex))
    }

    /// Trust model, status, reason codes and the output record for one extraction.
    fn finish(
        &self,
        input: &ScoringInput<'_>,
        ex: &Extraction,
    ) -> Result<ScoreResult, ScoringError> {
        let out = self.trust.run(ex.model_input())?;
        let p = out
            .first()
            .and_then(|o| o.first())
            .copied()
            .ok_or(ScoringError::Internal("trust model output"))?;
        let p = if p.is_finite() {
            p.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let probability_micros = (f64::from(p) * 1e6).round() as u32;
        let score = u8::try_from((probability_micros + 5_000) / 10_000)
            .unwrap_or(100)
            .min(100);
        let status = if score >= VERIFIED_MIN {
            Status::Verified
        } else if score >= NEEDS_REVIEW_MIN {
            Status::NeedsReview
        } else {
            Status::Rejected
        };
        let reason_codes = reasons(ex, score, &self.spec.thresholds);
        Ok(ScoreResult {
            score,
            probability_micros,
            status,
            reason_codes,
            model_hash: self.model_hash,
            feature_version: FEATURE_VERSION.to_string(),
            features: FEATURE_NAMES
                .iter()
                .map(|n| n.to_string())
                .zip(ex.quantized.iter().copied())
                .collect(),
            ocr_fields: ex
                .ocr
                .fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.value.clone()))
                .collect(),
            input_hash: input_hash(input),
        })
    }
}

/// Reason codes from the score and the measured features (sorted, deduplicated).
pub fn reasons(ex: &Extraction, score: u8, t: &ReasonThresholds) -> Vec<ReasonCode> {
    let mut r = Vec::new();
    if score >= NEEDS_REVIEW_MIN {
        r.push(ReasonCode::Success);
    }
    // Confidence as in spec §3.5.4: 0.5 + 0.4 |score - 50| / 50, HIGH_CONFIDENCE at >= 0.8
    // (|score - 50| >= 38). The spec's "LOW_CONFIDENCE if < 0.5" can never fire with that formula,
    // so here it marks scores within 5 points of the review threshold (confidence < 0.54).
    let distance = i32::from(score).abs_diff(50);
    if distance >= 38 {
        r.push(ReasonCode::HighConfidence);
    } else if distance < 5 {
        r.push(ReasonCode::LowConfidence);
    }
    if ex.doc_face.is_none() || ex.selfie_face.is_none() {
        r.push(ReasonCode::MissingFace);
    } else if ex.feature("face_embedding_similarity") < t.face_match_min {
        r.push(ReasonCode::FaceMismatch);
    }
    let found = ex.ocr.fields.len();
    if found < 2 {
        r.push(ReasonCode::MissingDocument);
    }
    let q = &ex.doc_quality;
    if q.sharpness < t.doc_sharpness_min
        || q.brightness < 0.15
        || q.brightness > 0.92
        || q.contrast < 0.08
    {
        r.push(ReasonCode::LowDocQuality);
    }
    if found > 0 {
        let mean = ex.ocr.fields.values().map(|f| f.confidence).sum::<f32>() / found as f32;
        if mean < t.ocr_confidence_min {
            r.push(ReasonCode::LowOcrConfidence);
        }
        if ex.ocr.fields.values().any(|f| !f.valid) || found < ocr::FIELDS.len() {
            r.push(ReasonCode::OcrValidationFailed);
        }
    }
    if ex.ocr.expired {
        r.push(ReasonCode::DocumentExpired);
    }
    if ex.claim_name_match.is_some_and(|m| m < 0.8) || ex.claim_dob_match.is_some_and(|m| m < 0.9) {
        r.push(ReasonCode::ClaimMismatch);
    }
    if ex.liveness.moire > t.moire_max {
        r.push(ReasonCode::PossibleScreenReplay);
    }
    if ex.liveness.saturation < t.saturation_min {
        r.push(ReasonCode::PossiblePrintAttack);
    }
    r.sort();
    r.dedup();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_set_hash_covers_every_model_file_and_the_spec() {
        let dir = tempfile::tempdir().unwrap();
        for name in MODEL_SET_FILES {
            std::fs::write(dir.path().join(name), name.as_bytes()).unwrap();
        }
        let base = model_set_hash(dir.path()).unwrap();
        assert_eq!(base, model_set_hash(dir.path()).unwrap());
        for name in MODEL_SET_FILES {
            std::fs::write(dir.path().join(name), b"changed").unwrap();
            assert_ne!(
                model_set_hash(dir.path()).unwrap(),
                base,
                "{name} not covered"
            );
            std::fs::write(dir.path().join(name), name.as_bytes()).unwrap();
        }
        std::fs::remove_file(dir.path().join(TRUST_MODEL_FILE)).unwrap();
        assert!(matches!(
            model_set_hash(dir.path()),
            Err(ScoringError::ModelSet { .. })
        ));
    }

    #[test]
    fn features_are_quantized_to_a_ten_thousandth() {
        assert_eq!(features::quantize(0.12344), 1234);
        assert_eq!(features::quantize(0.12346), 1235);
        assert_eq!(features::quantize(-0.5), -5000);
        assert_eq!(features::quantize(f32::NAN), 0);
        assert_eq!(features::quantize(f32::INFINITY), 0);
    }

    #[test]
    fn input_hash_binds_images_date_and_claims() {
        let base = ScoringInput {
            document_image: b"doc",
            selfie_image: b"selfie",
            reference_date: 20261126,
            claimed_name: Some("JANE DOE"),
            claimed_date_of_birth: None,
        };
        let h = input_hash(&base);
        assert_ne!(
            h,
            input_hash(&ScoringInput {
                reference_date: 20261127,
                ..base
            })
        );
        assert_ne!(
            h,
            input_hash(&ScoringInput {
                claimed_name: None,
                ..base
            })
        );
        assert_ne!(
            h,
            input_hash(&ScoringInput {
                document_image: b"docs",
                selfie_image: b"elfie",
                ..base
            })
        );
    }
}
