//! Learned face embedding: dlib's ResNet face-recognition network (128-d, 99.38 % on LFW;
//! CC0 / public domain), converted to ONNX by `ml/convert_dlib_resnet.py` from the PyPI sdist
//! `face_recognition_models==0.3.0` (see `ml/fetch_face_embedding.sh` and docs/ml.md).
//!
//! The network expects dlib's 150x150 "face chip": the face mapped by a least-squares similarity
//! transform so that five landmarks land on dlib's canonical points (`get_face_chip_details`
//! with padding 0.25). dlib finds those five points with its own shape predictor; we take the
//! corresponding points from the MediaPipe face mesh we already run ([`FIVE_POINT_MESH`]).

use std::path::Path;

use crate::error::ScoringError;
use crate::imgops::{Affine, Rgb};
use crate::onnx::OnnxModel;

pub const EMBEDDING_FILE: &str = "face_embedding.onnx";
/// Side of dlib's face chip.
pub const CHIP_SIDE: usize = 150;
/// dlib's padding for the recognition network's chips (`get_face_chip_details(shape, 150, 0.25)`).
const CHIP_PADDING: f32 = 0.25;
/// Embedding length.
pub const EMBEDDING_DIM: usize = 128;

/// dlib's canonical positions of its five landmarks (unpadded unit square, from
/// `get_face_chip_details`), in dlib's point order: subject's left eye outer and inner corner
/// (image right), right eye outer and inner corner (image left), base of the nose.
const FIVE_POINT_TEMPLATE: [(f32, f32); 5] = [
    (0.859_567_5, 0.213_498_15),
    (0.646_060_5, 0.228_967_44),
    (0.120_575_06, 0.213_727_45),
    (0.334_085_06, 0.229_064_24),
    (0.490_112_3, 0.627_797_5),
];

/// MediaPipe face-mesh indices of the same five points: 263 / 362 (left eye outer / inner),
/// 33 / 133 (right eye outer / inner), 2 (subnasale, the base of the nose).
pub const FIVE_POINT_MESH: [usize; 5] = [263, 362, 33, 133, 2];

#[derive(Debug)]
pub struct FaceEmbedder {
    net: OnnxModel,
}

impl FaceEmbedder {
    pub fn load(dir: &Path) -> Result<Self, ScoringError> {
        Ok(FaceEmbedder {
            net: OnnxModel::load(&dir.join(EMBEDDING_FILE), &[1, 3, CHIP_SIDE, CHIP_SIDE])?,
        })
    }

    /// 128-d embedding of the face whose five landmarks (source pixels, dlib order) are `pts`.
    pub fn embed(&self, img: &Rgb, pts: &[(f32, f32); 5]) -> Result<Vec<f32>, ScoringError> {
        self.embed_chip(face_chip(img, &chip_transform(pts)))
    }

    /// Embedding of an already aligned chip: planar RGB, 3 x 150 x 150, values 0..255.
    pub fn embed_chip(&self, chip: Vec<f32>) -> Result<Vec<f32>, ScoringError> {
        let out = self.net.run(chip)?;
        match out.into_iter().next() {
            Some(e) if e.len() == EMBEDDING_DIM => Ok(e),
            _ => Err(ScoringError::Internal("embedding output shape")),
        }
    }
}

/// Least-squares similarity transform (rotation, uniform scale, translation; no reflection)
/// from chip pixel coordinates to source pixel coordinates that maps dlib's canonical points
/// onto `pts`. Same criterion as dlib's `find_similarity_transform`.
pub fn chip_transform(pts: &[(f32, f32); 5]) -> Affine {
    let side = CHIP_SIDE as f64;
    let pad = f64::from(CHIP_PADDING);
    let from: Vec<(f64, f64)> = FIVE_POINT_TEMPLATE
        .iter()
        .map(|&(x, y)| {
            (
                (pad + f64::from(x)) / (2.0 * pad + 1.0) * side,
                (pad + f64::from(y)) / (2.0 * pad + 1.0) * side,
            )
        })
        .collect();
    let to: Vec<(f64, f64)> = pts
        .iter()
        .map(|&(x, y)| (f64::from(x), f64::from(y)))
        .collect();
    let n = from.len() as f64;
    let mean = |v: &[(f64, f64)]| {
        (
            v.iter().map(|p| p.0).sum::<f64>() / n,
            v.iter().map(|p| p.1).sum::<f64>() / n,
        )
    };
    let (fx, fy) = mean(&from);
    let (tx, ty) = mean(&to);
    let (mut sa, mut sb, mut ss) = (0.0f64, 0.0f64, 0.0f64);
    for (f, t) in from.iter().zip(&to) {
        let (qx, qy) = (f.0 - fx, f.1 - fy);
        let (px, py) = (t.0 - tx, t.1 - ty);
        sa += qx * px + qy * py;
        sb += qx * py - qy * px;
        ss += qx * qx + qy * qy;
    }
    let (a, b) = (sa / ss, sb / ss);
    // src = [a -b; b a] * (q - mean_from) + mean_to
    Affine {
        a: a as f32,
        b: (-b) as f32,
        c: b as f32,
        d: a as f32,
        tx: (tx - a * fx + b * fy) as f32,
        ty: (ty - b * fx - a * fy) as f32,
    }
}

/// Sample the 150x150 chip (planar RGB, values 0..255: the ONNX graph subtracts dlib's mean and
/// scales). Pixel centres are at integer coordinates in both images, as in dlib. When the chip
/// shrinks the face, each chip pixel averages a k x k grid of bilinear samples (k = ceil(scale))
/// instead of aliasing; dlib uses an image pyramid for the same purpose.
pub fn face_chip(img: &Rgb, map: &Affine) -> Vec<f32> {
    let scale = (map.a * map.a + map.c * map.c).sqrt();
    let k = scale.ceil().clamp(1.0, 8.0) as usize;
    let inv = 1.0 / (k * k) as f32;
    let plane = CHIP_SIDE * CHIP_SIDE;
    let mut t = vec![0.0f32; 3 * plane];
    for v in 0..CHIP_SIDE {
        for u in 0..CHIP_SIDE {
            let mut acc = [0.0f32; 3];
            for j in 0..k {
                for i in 0..k {
                    let du = (i as f32 + 0.5) / k as f32 - 0.5;
                    let dv = (j as f32 + 0.5) / k as f32 - 0.5;
                    let (x, y) = map.apply(u as f32 + du, v as f32 + dv);
                    for (c, a) in acc.iter_mut().enumerate() {
                        *a += img.sample(x, y, c);
                    }
                }
            }
            for (c, a) in acc.iter().enumerate() {
                t[c * plane + v * CHIP_SIDE + u] = a * inv;
            }
        }
    }
    t
}

/// Cosine similarity of two embeddings, in [-1, 1] (0 if either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    (dot / (na * nb)).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chip_transform_maps_the_template_onto_a_scaled_rotated_copy_exactly() {
        // pts = template chip points rotated by 30 degrees, scaled 2x, shifted (40, -7)
        let (s, c) = (30f64.to_radians().sin(), 30f64.to_radians().cos());
        let mut pts = [(0.0f32, 0.0f32); 5];
        let pad = f64::from(CHIP_PADDING);
        for (p, t) in pts.iter_mut().zip(FIVE_POINT_TEMPLATE) {
            let qx = (pad + f64::from(t.0)) / (1.0 + 2.0 * pad) * 150.0;
            let qy = (pad + f64::from(t.1)) / (1.0 + 2.0 * pad) * 150.0;
            *p = (
                (2.0 * (c * qx - s * qy) + 40.0) as f32,
                (2.0 * (s * qx + c * qy) - 7.0) as f32,
            );
        }
        let m = chip_transform(&pts);
        assert!((m.a - (2.0 * c) as f32).abs() < 1e-4);
        assert!((m.c - (2.0 * s) as f32).abs() < 1e-4);
        assert!((m.tx - 40.0).abs() < 1e-2 && (m.ty + 7.0).abs() < 1e-2);
    }

    #[test]
    fn chip_of_a_uniform_image_is_uniform_at_any_scale() {
        let img = Rgb {
            width: 400,
            height: 300,
            data: [10.0f32, 120.0, 250.0].repeat(400 * 300),
        };
        for scale in [0.5f32, 1.0, 3.3] {
            let map = Affine {
                a: scale,
                b: 0.0,
                c: 0.0,
                d: scale,
                tx: 5.0,
                ty: 5.0,
            };
            let chip = face_chip(&img, &map);
            let plane = CHIP_SIDE * CHIP_SIDE;
            assert!(chip[..plane].iter().all(|v| (v - 10.0).abs() < 1e-3));
            assert!(chip[2 * plane..].iter().all(|v| (v - 250.0).abs() < 1e-3));
        }
    }

    #[test]
    fn cosine_is_one_for_parallel_and_zero_for_empty_vectors() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
        assert!((cosine(&[1.0, 0.0], &[-1.0, 0.0]) + 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }
}
