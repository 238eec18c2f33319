//! Typed errors with stable numeric codes.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ScoringError {
    #[error("{0} image is empty: supply the PNG or JPEG bytes")]
    EmptyImage(&'static str),
    #[error("{what} image could not be decoded ({reason}): supply a PNG or JPEG")]
    Decode { what: &'static str, reason: String },
    #[error("{what} image is {width}x{height}: each side must be between 1 and 8192 pixels")]
    ImageSize {
        what: &'static str,
        width: u32,
        height: u32,
    },
    #[error("model {path} could not be loaded ({reason}): generate the face embedding with `bash ml/fetch_face_embedding.sh` or the whole model set with `bash ml/run.sh`")]
    ModelLoad { path: String, reason: String },
    #[error("model set in {dir} is invalid: {reason}")]
    ModelSet { dir: String, reason: String },
    #[error("inference with {model} failed: {reason}")]
    Inference { model: String, reason: String },
    #[error("OCR failed: {0} (is the `tesseract` binary with the `eng` language installed?)")]
    Ocr(String),
    #[error("internal scoring error: {0}")]
    Internal(&'static str),
}

impl ScoringError {
    /// Stable error code for logs and the enclave service's error field.
    pub fn code(&self) -> u32 {
        match self {
            ScoringError::EmptyImage(_) => 1,
            ScoringError::Decode { .. } => 2,
            ScoringError::ImageSize { .. } => 3,
            ScoringError::ModelLoad { .. } => 4,
            ScoringError::ModelSet { .. } => 5,
            ScoringError::Inference { .. } => 6,
            ScoringError::Ocr(_) => 7,
            ScoringError::Internal(_) => 8,
        }
    }
}
