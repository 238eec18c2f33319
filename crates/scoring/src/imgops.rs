//! Deterministic image primitives: decoding, colour conversion, bilinear sampling, affine crops.
//!
//! Every operation here is a plain sequential loop over `f32` values, so the same input bytes give
//! the same output bits on a given build; these are the only pixel operations the feature
//! extractor uses (training features are produced by this same code, see `ml/`).

use crate::error::ScoringError;

/// Maximum decoded side; larger images are rejected before allocation-heavy work.
pub const MAX_SIDE: u32 = 8192;

/// An RGB image with channels in `[0, 255]`, row-major, interleaved.
#[derive(Clone, Debug)]
pub struct Rgb {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

/// A single-channel image (luma) in `[0, 255]`.
#[derive(Clone, Debug)]
pub struct Gray {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Rgb {
    /// Decode PNG or JPEG bytes.
    pub fn decode(bytes: &[u8], what: &'static str) -> Result<Self, ScoringError> {
        if bytes.is_empty() {
            return Err(ScoringError::EmptyImage(what));
        }
        let img = image::load_from_memory(bytes).map_err(|e| ScoringError::Decode {
            what,
            reason: e.to_string(),
        })?;
        if img.width() == 0
            || img.height() == 0
            || img.width() > MAX_SIDE
            || img.height() > MAX_SIDE
        {
            return Err(ScoringError::ImageSize {
                what,
                width: img.width(),
                height: img.height(),
            });
        }
        let rgb = img.to_rgb8();
        let (w, h) = (rgb.width() as usize, rgb.height() as usize);
        let data = rgb.into_raw().into_iter().map(f32::from).collect();
        Ok(Rgb {
            width: w,
            height: h,
            data,
        })
    }

    #[inline]
    pub fn px(&self, x: usize, y: usize, c: usize) -> f32 {
        self.data[(y * self.width + x) * 3 + c]
    }

    /// Bilinear sample with edge clamping; `x`,`y` in pixel-centre coordinates.
    pub fn sample(&self, x: f32, y: f32, c: usize) -> f32 {
        bilinear(self.width, self.height, x, y, |xi, yi| self.px(xi, yi, c))
    }

    /// ITU-R BT.601 luma.
    pub fn to_gray(&self) -> Gray {
        let mut data = Vec::with_capacity(self.width * self.height);
        for p in self.data.chunks_exact(3) {
            data.push(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]);
        }
        Gray {
            width: self.width,
            height: self.height,
            data,
        }
    }

    /// Area-averaging downscale so that the longer side is at most `max_side` (never upscales).
    pub fn limit_side(&self, max_side: usize) -> Rgb {
        let long = self.width.max(self.height);
        if long <= max_side {
            return self.clone();
        }
        let nw = (self.width * max_side / long).max(1);
        let nh = (self.height * max_side / long).max(1);
        let mut out = vec![0.0f32; nw * nh * 3];
        for oy in 0..nh {
            let y0 = oy * self.height / nh;
            let y1 = ((oy + 1) * self.height / nh).max(y0 + 1);
            for ox in 0..nw {
                let x0 = ox * self.width / nw;
                let x1 = ((ox + 1) * self.width / nw).max(x0 + 1);
                let n = ((y1 - y0) * (x1 - x0)) as f32;
                for c in 0..3 {
                    let mut s = 0.0f32;
                    for y in y0..y1 {
                        for x in x0..x1 {
                            s += self.px(x, y, c);
                        }
                    }
                    out[(oy * nw + ox) * 3 + c] = s / n;
                }
            }
        }
        Rgb {
            width: nw,
            height: nh,
            data: out,
        }
    }
}

impl Gray {
    #[inline]
    pub fn px(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    pub fn sample(&self, x: f32, y: f32) -> f32 {
        bilinear(self.width, self.height, x, y, |xi, yi| self.px(xi, yi))
    }

    /// Encode as 8-bit PNG (used to hand the document to Tesseract).
    pub fn to_png(&self) -> Result<Vec<u8>, ScoringError> {
        let bytes: Vec<u8> = self
            .data
            .iter()
            .map(|v| v.round().clamp(0.0, 255.0) as u8)
            .collect();
        let img = image::GrayImage::from_raw(self.width as u32, self.height as u32, bytes)
            .ok_or(ScoringError::Internal("gray buffer size"))?;
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png)
            .map_err(|e| ScoringError::Decode {
                what: "png-encode",
                reason: e.to_string(),
            })?;
        Ok(out.into_inner())
    }

    /// Bilinear resize to an exact size.
    pub fn resize(&self, nw: usize, nh: usize) -> Gray {
        let mut data = Vec::with_capacity(nw * nh);
        let sx = self.width as f32 / nw as f32;
        let sy = self.height as f32 / nh as f32;
        for y in 0..nh {
            for x in 0..nw {
                data.push(self.sample((x as f32 + 0.5) * sx - 0.5, (y as f32 + 0.5) * sy - 0.5));
            }
        }
        Gray {
            width: nw,
            height: nh,
            data,
        }
    }
}

fn bilinear(w: usize, h: usize, x: f32, y: f32, get: impl Fn(usize, usize) -> f32) -> f32 {
    let xm = (w - 1) as f32;
    let ym = (h - 1) as f32;
    let x = x.clamp(0.0, xm);
    let y = y.clamp(0.0, ym);
    let x0 = x.floor();
    let y0 = y.floor();
    let fx = x - x0;
    let fy = y - y0;
    let x0 = x0 as usize;
    let y0 = y0 as usize;
    let x1 = (x0 + 1).min(w - 1);
    let y1 = (y0 + 1).min(h - 1);
    let top = get(x0, y0) * (1.0 - fx) + get(x1, y0) * fx;
    let bot = get(x0, y1) * (1.0 - fx) + get(x1, y1) * fx;
    top * (1.0 - fy) + bot * fy
}

/// A 2-D similarity/affine map from output pixel coordinates to source pixel coordinates:
/// `src = [a b; c d] * [u; v] + [tx; ty]`.
#[derive(Clone, Copy, Debug)]
pub struct Affine {
    pub a: f32,
    pub b: f32,
    pub c: f32,
    pub d: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Affine {
    pub fn apply(&self, u: f32, v: f32) -> (f32, f32) {
        (
            self.a * u + self.b * v + self.tx,
            self.c * u + self.d * v + self.ty,
        )
    }

    /// Square crop of side `size` (source pixels) centred at (`cx`,`cy`), rotated by `angle`
    /// radians, sampled onto an `out` x `out` grid.
    pub fn rotated_square(cx: f32, cy: f32, size: f32, angle: f32, out: usize) -> Affine {
        let s = size / out as f32;
        let (sin, cos) = angle.sin_cos();
        let half = out as f32 / 2.0;
        // src = R * (s * (u - half)) + c
        let a = cos * s;
        let b = -sin * s;
        let c = sin * s;
        let d = cos * s;
        Affine {
            a,
            b,
            c,
            d,
            tx: cx - a * half - b * half,
            ty: cy - c * half - d * half,
        }
    }
}

/// Sample an RGB crop through `map` into a `out_w` x `out_h` planar CHW tensor, each channel
/// scaled by `scale` and shifted by `shift` (value = px * scale + shift).
pub fn crop_chw(
    img: &Rgb,
    map: &Affine,
    out_w: usize,
    out_h: usize,
    scale: f32,
    shift: f32,
) -> Vec<f32> {
    let mut t = vec![0.0f32; 3 * out_w * out_h];
    for v in 0..out_h {
        for u in 0..out_w {
            let (x, y) = map.apply(u as f32 + 0.5, v as f32 + 0.5);
            let (x, y) = (x - 0.5, y - 0.5);
            for c in 0..3 {
                t[c * out_w * out_h + v * out_w + u] = img.sample(x, y, c) * scale + shift;
            }
        }
    }
    t
}

/// Sample a grey crop through `map`.
pub fn crop_gray(img: &Gray, map: &Affine, out_w: usize, out_h: usize) -> Gray {
    let mut data = Vec::with_capacity(out_w * out_h);
    for v in 0..out_h {
        for u in 0..out_w {
            let (x, y) = map.apply(u as f32 + 0.5, v as f32 + 0.5);
            data.push(img.sample(x - 0.5, y - 0.5));
        }
    }
    Gray {
        width: out_w,
        height: out_h,
        data,
    }
}

/// 3x3 convolution with edge replication.
pub fn conv3(img: &Gray, k: &[f32; 9]) -> Gray {
    let (w, h) = (img.width, img.height);
    let mut out = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut s = 0.0f32;
            for dy in 0..3usize {
                let yy = (y + dy).saturating_sub(1).min(h - 1);
                for dx in 0..3usize {
                    let xx = (x + dx).saturating_sub(1).min(w - 1);
                    s += k[dy * 3 + dx] * img.px(xx, yy);
                }
            }
            out[y * w + x] = s;
        }
    }
    Gray {
        width: w,
        height: h,
        data: out,
    }
}

/// Mean and (population) standard deviation, accumulated in f64 sequentially.
pub fn mean_std(v: &[f32]) -> (f32, f32) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let n = v.len() as f64;
    let mut s = 0.0f64;
    for &x in v {
        s += f64::from(x);
    }
    let m = s / n;
    let mut q = 0.0f64;
    for &x in v {
        let d = f64::from(x) - m;
        q += d * d;
    }
    (m as f32, (q / n).sqrt() as f32)
}
