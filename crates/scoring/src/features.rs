//! The one feature definition (`veid-features/v2`) used for both training and inference.
//!
//! `ml/` never re-implements these features: it calls the `ve-scoring extract` binary built from
//! this crate, so the trust model is trained on exactly the quantized vector the scorer feeds it.

use std::path::Path;

use crate::error::ScoringError;
use crate::face::{embedding_similarity, geometry_distance, texture_similarity, Face, FaceModels};
use crate::imgops::Rgb;
use crate::ocr::{self, OcrResult, FIELDS};
use crate::quality::{self, LivenessCues, Quality, WORK_SIDE};
use crate::timing::{timed, StageTimes};

/// v2 added `face_embedding_similarity` (learned embedding) as the face-match feature.
pub const FEATURE_VERSION: &str = "veid-features/v2";
/// Features are quantized to integers at this scale (1e-4) before the model sees them.
pub const QUANT_SCALE: i32 = 10_000;

pub const FEATURE_NAMES: [&str; 37] = [
    "doc_face_detected",
    "doc_face_score",
    "selfie_face_detected",
    "selfie_face_score",
    "selfie_mesh_score",
    "face_embedding_similarity",
    "face_texture_similarity",
    "face_geometry_distance",
    "doc_sharpness",
    "doc_brightness",
    "doc_contrast",
    "doc_noise",
    "doc_skew",
    "selfie_sharpness",
    "selfie_brightness",
    "selfie_contrast",
    "selfie_noise",
    "live_moire",
    "live_saturation",
    "live_glare",
    "live_face_texture",
    "selfie_face_area",
    "ocr_conf_name",
    "ocr_conf_date_of_birth",
    "ocr_conf_document_number",
    "ocr_conf_expiry_date",
    "ocr_conf_nationality",
    "ocr_valid_name",
    "ocr_valid_date_of_birth",
    "ocr_valid_document_number",
    "ocr_valid_expiry_date",
    "ocr_valid_nationality",
    "ocr_fields_found_ratio",
    "document_expired",
    "claims_present",
    "claim_name_match",
    "claim_dob_match",
];

pub const N_FEATURES: usize = FEATURE_NAMES.len();

/// What the caller submits for scoring.
#[derive(Clone, Copy, Debug)]
pub struct ScoringInput<'a> {
    /// PNG/JPEG of the identity document (front side).
    pub document_image: &'a [u8],
    /// PNG/JPEG selfie.
    pub selfie_image: &'a [u8],
    /// Reference date YYYYMMDD (from block time, never the wall clock) for expiry/age checks.
    pub reference_date: u32,
    /// Name the user claimed in the application, if any.
    pub claimed_name: Option<&'a str>,
    /// Claimed date of birth `YYYY-MM-DD`, if any.
    pub claimed_date_of_birth: Option<&'a str>,
}

/// Everything measured for one input.
#[derive(Clone, Debug)]
pub struct Extraction {
    /// Quantized features in `FEATURE_NAMES` order (value x 10^4, rounded).
    pub quantized: Vec<i32>,
    pub doc_face: Option<Face>,
    pub selfie_face: Option<Face>,
    pub doc_quality: Quality,
    pub selfie_quality: Quality,
    pub liveness: LivenessCues,
    pub ocr: OcrResult,
    /// Similarity of claimed vs. OCR'd name / date of birth (None when not claimed).
    pub claim_name_match: Option<f32>,
    pub claim_dob_match: Option<f32>,
}

impl Extraction {
    pub fn feature(&self, name: &str) -> f32 {
        FEATURE_NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| self.quantized.get(i))
            .map_or(0.0, |q| *q as f32 / QUANT_SCALE as f32)
    }

    /// Model input: the quantized integers scaled back to f32.
    pub fn model_input(&self) -> Vec<f32> {
        self.quantized
            .iter()
            .map(|q| *q as f32 / QUANT_SCALE as f32)
            .collect()
    }
}

pub fn quantize(x: f32) -> i32 {
    if !x.is_finite() {
        return 0;
    }
    (f64::from(x) * f64::from(QUANT_SCALE))
        .round()
        .clamp(-1e9, 1e9) as i32
}

/// Feature extractor: face models + deterministic image measurements + Tesseract OCR.
#[derive(Debug)]
pub struct Extractor {
    faces: FaceModels,
}

impl Extractor {
    pub fn load(dir: &Path) -> Result<Self, ScoringError> {
        Ok(Extractor {
            faces: FaceModels::load(dir)?,
        })
    }

    pub fn extract(&self, input: &ScoringInput<'_>) -> Result<Extraction, ScoringError> {
        self.extract_timed(input, &mut StageTimes::default())
    }

    /// [`Self::extract`], adding each stage's time to `times`.
    pub fn extract_timed(
        &self,
        input: &ScoringInput<'_>,
        times: &mut StageTimes,
    ) -> Result<Extraction, ScoringError> {
        let (doc, selfie) = timed(&mut times.decode, || {
            Ok::<_, ScoringError>((
                Rgb::decode(input.document_image, "document")?.limit_side(1280),
                Rgb::decode(input.selfie_image, "selfie")?.limit_side(1280),
            ))
        })?;

        let doc_face = self.faces.analyse_timed(&doc, times)?.map(|(f, _)| f);
        let selfie_face = self.faces.analyse_timed(&selfie, times)?.map(|(f, _)| f);

        let (doc_quality, selfie_quality, liveness) = timed(&mut times.image_cues, || {
            let doc_work = doc.limit_side(WORK_SIDE);
            let doc_gray_work = doc_work.to_gray();
            let doc_quality = quality::measure(&doc_gray_work);
            let selfie_work = selfie.limit_side(WORK_SIDE);
            let selfie_gray = selfie_work.to_gray();
            let selfie_quality = quality::measure(&selfie_gray);
            let ratio = selfie_work.width as f32 / selfie.width as f32;
            let sbox = selfie_face.as_ref().map(|f| {
                (
                    f.bbox.0 * ratio,
                    f.bbox.1 * ratio,
                    f.bbox.2 * ratio,
                    f.bbox.3 * ratio,
                )
            });
            let liveness = quality::liveness(&selfie_work, &selfie_gray, sbox);
            (doc_quality, selfie_quality, liveness)
        });

        let ocr = timed(&mut times.ocr, || {
            let tsv = ocr::run_tesseract(&doc.to_gray())?;
            Ok::<_, ScoringError>(ocr::parse_fields(
                &ocr::tsv_lines(&tsv),
                input.reference_date,
            ))
        })?;

        let mut f = Vec::with_capacity(N_FEATURES);
        let det = |x: &Option<Face>| if x.is_some() { 1.0 } else { 0.0 };
        f.push(det(&doc_face));
        f.push(doc_face.as_ref().map_or(0.0, |x| x.score));
        f.push(det(&selfie_face));
        f.push(selfie_face.as_ref().map_or(0.0, |x| x.score));
        f.push(selfie_face.as_ref().map_or(0.0, |x| x.mesh_score));
        let (emb, sim, geo) = match (&doc_face, &selfie_face) {
            (Some(a), Some(b)) => (
                embedding_similarity(a, b),
                texture_similarity(a, b),
                geometry_distance(a, b).min(1.0),
            ),
            _ => (0.0, 0.0, 1.0),
        };
        f.push(emb);
        f.push(sim);
        f.push(geo);
        let q = &doc_quality;
        f.extend([q.sharpness, q.brightness, q.contrast, q.noise, q.skew]);
        let q = &selfie_quality;
        f.extend([q.sharpness, q.brightness, q.contrast, q.noise]);
        f.extend([
            liveness.moire,
            liveness.saturation,
            liveness.glare,
            liveness.face_texture,
        ]);
        let area = selfie_face.as_ref().map_or(0.0, |x| {
            let (x0, y0, x1, y1) = x.bbox;
            ((x1 - x0) * (y1 - y0) / (selfie.width * selfie.height) as f32).clamp(0.0, 1.0)
        });
        f.push(area);
        for name in FIELDS {
            f.push(ocr.fields.get(name).map_or(0.0, |x| x.confidence));
        }
        for name in FIELDS {
            f.push(
                ocr.fields
                    .get(name)
                    .map_or(0.0, |x| if x.valid { 1.0 } else { 0.0 }),
            );
        }
        f.push(ocr.fields.len() as f32 / FIELDS.len() as f32);
        f.push(if ocr.expired { 1.0 } else { 0.0 });
        let claims = input.claimed_name.is_some() || input.claimed_date_of_birth.is_some();
        f.push(if claims { 1.0 } else { 0.0 });
        let claim_name_match = input.claimed_name.map(|c| {
            ocr.fields
                .get("name")
                .map_or(0.0, |o| ocr::similarity(c, &o.value))
        });
        let claim_dob_match = input.claimed_date_of_birth.map(|c| {
            ocr.fields
                .get("date_of_birth")
                .map_or(0.0, |o| ocr::similarity(c, &o.value))
        });
        // unclaimed fields count as matching so the model sees "no contradiction"
        f.push(claim_name_match.unwrap_or(1.0));
        f.push(claim_dob_match.unwrap_or(1.0));
        if f.len() != N_FEATURES {
            return Err(ScoringError::Internal("feature vector length"));
        }
        Ok(Extraction {
            quantized: f.into_iter().map(quantize).collect(),
            doc_face,
            selfie_face,
            doc_quality,
            selfie_quality,
            liveness,
            ocr,
            claim_name_match,
            claim_dob_match,
        })
    }
}
