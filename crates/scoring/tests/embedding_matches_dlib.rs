#![allow(
    clippy::disallowed_types,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)] // f32: compares float embeddings with a tolerance.
//! The ONNX conversion of dlib's face-recognition ResNet, run by tract, reproduces dlib's own
//! descriptors. Chips and descriptors come from dlib 19.24 itself (its 5-point predictor aligned
//! the chips); `ml/dlib_reference/verify.py` regenerates them.

use std::path::Path;

use ve_scoring::embedding::{cosine, FaceEmbedder, CHIP_SIDE, EMBEDDING_DIM};
use ve_scoring::imgops::Rgb;

fn dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn planar(img: &Rgb) -> Vec<f32> {
    let plane = CHIP_SIDE * CHIP_SIDE;
    let mut t = vec![0.0; 3 * plane];
    for y in 0..CHIP_SIDE {
        for x in 0..CHIP_SIDE {
            for c in 0..3 {
                t[c * plane + y * CHIP_SIDE + x] = img.px(x, y, c);
            }
        }
    }
    t
}

#[test]
fn tract_embedding_matches_dlib_on_its_own_chips() {
    let embedder = FaceEmbedder::load(&dir().join("models")).expect(
        "face_embedding.onnx missing: run `bash ml/fetch_face_embedding.sh` (scripts/setup.sh does)",
    );
    let raw = std::fs::read(dir().join("testdata/dlib_reference.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    let chips = reference["chips"].as_object().unwrap();
    assert_eq!(chips.len(), 3);
    let mut embeddings = Vec::new();
    for (name, entry) in chips {
        let want: Vec<f32> = entry["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(want.len(), EMBEDDING_DIM);
        let png = std::fs::read(dir().join(format!("testdata/dlib_chip_{name}.png"))).unwrap();
        let img = Rgb::decode(&png, "chip").unwrap();
        assert_eq!((img.width, img.height), (CHIP_SIDE, CHIP_SIDE));
        let got = embedder.embed_chip(planar(&img)).unwrap();
        let max_diff = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(max_diff < 1e-4, "{name}: max |tract - dlib| = {max_diff}");
        embeddings.push(got);
    }
    // three different people: far apart in dlib's metric (same person < 0.6)
    for i in 0..embeddings.len() {
        for j in i + 1..embeddings.len() {
            let d: f32 = embeddings[i]
                .iter()
                .zip(&embeddings[j])
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f32>()
                .sqrt();
            assert!(d > 0.6, "different people at distance {d}");
            assert!(cosine(&embeddings[i], &embeddings[j]) < 0.9);
        }
    }
}
