//! `ve-scoring`: command-line front end of the scoring crate, used by `ml/` for training-feature
//! extraction and evaluation (so Python never re-implements a feature).
//!
//! ```text
//! ve-scoring spec                         # feature spec of this build (JSON, default thresholds)
//! ve-scoring hash <models>                # model-set hash (hex)
//! ve-scoring extract <models>             # JSONL jobs on stdin -> JSONL features on stdout
//! ve-scoring score-batch <models>         # JSONL jobs on stdin -> JSONL ScoreResult on stdout
//! ve-scoring embed <models>               # image paths on stdin -> JSONL face descriptors
//! ve-scoring score <models> <document> <selfie> <YYYYMMDD> [claimed_name] [claimed_dob]
//! ```
//! A job is `{"id": .., "document": path, "selfie": path, "reference_date": YYYYMMDD,
//! "claimed_name": opt, "claimed_date_of_birth": opt}`.
#![allow(clippy::disallowed_types)] // f32 measurements are printed for the training pipeline.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;

use serde::Deserialize;
use ve_scoring::{Extractor, FeatureSpec, ReasonThresholds, Scorer, ScoringError, ScoringInput};

#[derive(Deserialize)]
struct Job {
    id: serde_json::Value,
    document: String,
    selfie: String,
    reference_date: u32,
    claimed_name: Option<String>,
    claimed_date_of_birth: Option<String>,
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{path}: {e}"))
}

fn run_jobs(
    mut f: impl FnMut(&ScoringInput<'_>) -> Result<serde_json::Value, ScoringError>,
) -> Result<(), String> {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            continue;
        }
        let job: Job = serde_json::from_str(&line).map_err(|e| format!("bad job: {e}"))?;
        let doc = read(&job.document)?;
        let selfie = read(&job.selfie)?;
        let input = ScoringInput {
            document_image: &doc,
            selfie_image: &selfie,
            reference_date: job.reference_date,
            claimed_name: job.claimed_name.as_deref(),
            claimed_date_of_birth: job.claimed_date_of_birth.as_deref(),
        };
        let v = match f(&input) {
            Ok(v) => serde_json::json!({"id": job.id, "ok": v}),
            Err(e) => serde_json::json!({"id": job.id, "error": e.to_string(), "code": e.code()}),
        };
        writeln!(out, "{v}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn real_main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .ok_or_else(|| format!("missing argument {i}; see the module docs"))
    };
    match args.first().map(String::as_str) {
        Some("spec") => {
            let spec = FeatureSpec::current(ReasonThresholds {
                face_match_min: 0.0,
                moire_max: 1.0,
                saturation_min: 0.0,
                doc_sharpness_min: 0.0,
                ocr_confidence_min: 0.5,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&spec).map_err(|e| e.to_string())?
            );
        }
        Some("hash") => {
            let h = ve_scoring::model_set_hash(Path::new(&arg(1)?)).map_err(|e| e.to_string())?;
            println!("{}", hex::encode(h));
        }
        Some("extract") => {
            let ex = Extractor::load(Path::new(&arg(1)?)).map_err(|e| e.to_string())?;
            run_jobs(|input| {
                let e = ex.extract(input)?;
                let ocr: serde_json::Map<String, serde_json::Value> = e
                    .ocr
                    .fields
                    .iter()
                    .map(|(k, v)| {
                        (k.to_string(), serde_json::json!({"value": v.value, "confidence": v.confidence, "valid": v.valid}))
                    })
                    .collect();
                let face = |f: &Option<ve_scoring::face::Face>| {
                    f.as_ref().map(|f| serde_json::json!({"score": f.score, "embedding": f.embedding, "texture": f.texture, "geometry": f.geometry}))
                };
                Ok(serde_json::json!({
                    "features": e.quantized,
                    "ocr": ocr,
                    "doc_face": face(&e.doc_face),
                    "selfie_face": face(&e.selfie_face),
                }))
            })?;
        }
        Some("embed") => {
            // stdin: one image path per line -> stdout: {"path", "face": null | {score, mesh_score,
            // bbox, five_points, embedding, texture, geometry}}
            let faces = ve_scoring::face::FaceModels::load(Path::new(&arg(1)?))
                .map_err(|e| e.to_string())?;
            let mut out = std::io::stdout().lock();
            for line in std::io::stdin().lock().lines() {
                let path = line.map_err(|e| e.to_string())?;
                let path = path.trim();
                if path.is_empty() {
                    continue;
                }
                let img = ve_scoring::imgops::Rgb::decode(&read(path)?, "image")
                    .map_err(|e| e.to_string())?
                    .limit_side(1280);
                let face = faces.analyse(&img).map_err(|e| e.to_string())?.map(|(f, _)| {
                    serde_json::json!({"score": f.score, "mesh_score": f.mesh_score, "bbox": f.bbox, "five_points": f.five_points, "embedding": f.embedding, "texture": f.texture, "geometry": f.geometry})
                });
                writeln!(out, "{}", serde_json::json!({"path": path, "face": face}))
                    .map_err(|e| e.to_string())?;
            }
        }
        Some("score-batch") => {
            let sc = Scorer::load(Path::new(&arg(1)?)).map_err(|e| e.to_string())?;
            run_jobs(|input| {
                let r = sc.score(input)?;
                serde_json::to_value(&r).map_err(|_| ScoringError::Internal("serialise result"))
            })?;
        }
        Some("score") => {
            let sc = Scorer::load(Path::new(&arg(1)?)).map_err(|e| e.to_string())?;
            let doc = read(&arg(2)?)?;
            let selfie = read(&arg(3)?)?;
            let reference_date: u32 = arg(4)?
                .parse()
                .map_err(|_| "reference date must be YYYYMMDD".to_string())?;
            let name = args.get(5).cloned();
            let dob = args.get(6).cloned();
            let input = ScoringInput {
                document_image: &doc,
                selfie_image: &selfie,
                reference_date,
                claimed_name: name.as_deref(),
                claimed_date_of_birth: dob.as_deref(),
            };
            let r = sc.score(&input).map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?
            );
        }
        _ => {
            return Err(
                "usage: ve-scoring spec|hash|extract|score-batch|score ... (see module docs)"
                    .into(),
            )
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ve-scoring: {e}");
            ExitCode::FAILURE
        }
    }
}
