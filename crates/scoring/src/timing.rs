//! Per-stage wall-clock times of one scoring call, for the `score_pair` benchmark and profiling.
//!
//! Timing never feeds a score: it only observes how long each stage took.
#![allow(clippy::disallowed_methods)] // Instant::now: measurement only, never an input to scoring.

use std::time::{Duration, Instant};

/// Time spent per pipeline stage, summed over the document and the selfie.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StageTimes {
    /// Image decoding and resizing.
    pub decode: Duration,
    /// BlazeFace detector over all search windows.
    pub detector: Duration,
    /// Face-mesh landmarks plus alignment, texture and geometry descriptors.
    pub landmarks: Duration,
    /// dlib ResNet embedding (chip extraction + network).
    pub embedding: Duration,
    /// Document/selfie quality and liveness cues.
    pub image_cues: Duration,
    /// Tesseract OCR plus field parsing.
    pub ocr: Duration,
    /// Trust MLP, reason codes and output assembly.
    pub trust_model: Duration,
}

impl StageTimes {
    /// Sum of all stages.
    pub fn total(&self) -> Duration {
        self.decode
            + self.detector
            + self.landmarks
            + self.embedding
            + self.image_cues
            + self.ocr
            + self.trust_model
    }

    /// Named stages in pipeline order.
    pub fn stages(&self) -> [(&'static str, Duration); 7] {
        [
            ("decode", self.decode),
            ("detector", self.detector),
            ("landmarks", self.landmarks),
            ("embedding", self.embedding),
            ("image_cues", self.image_cues),
            ("ocr", self.ocr),
            ("trust_model", self.trust_model),
        ]
    }
}

/// Run `f` and add its duration to `slot`.
pub fn timed<T>(slot: &mut Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    *slot += start.elapsed();
    out
}
