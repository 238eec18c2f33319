//! Image-quality measurements (document and selfie) and passive liveness / anti-spoofing cues.
//!
//! All measurements are computed on a working copy whose longer side is limited to
//! [`WORK_SIDE`] pixels so that they do not depend on the capture resolution more than necessary.

use crate::imgops::{conv3, mean_std, Gray, Rgb};

/// Longer side of the working copy used for quality measurements.
pub const WORK_SIDE: usize = 640;

const LAPLACIAN: [f32; 9] = [0.0, 1.0, 0.0, 1.0, -4.0, 1.0, 0.0, 1.0, 0.0];
const NOISE_KERNEL: [f32; 9] = [1.0, -2.0, 1.0, -2.0, 4.0, -2.0, 1.0, -2.0, 1.0];
const SOBEL_X: [f32; 9] = [-1.0, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0];
const SOBEL_Y: [f32; 9] = [-1.0, -2.0, -1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 1.0];

/// Quality measurements, each mapped to `[0, 1]`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Quality {
    /// log-scaled variance of the Laplacian (1 = very sharp).
    pub sharpness: f32,
    /// mean luma / 255.
    pub brightness: f32,
    /// luma standard deviation / 128.
    pub contrast: f32,
    /// Immerkær noise sigma / 20 (1 = very noisy).
    pub noise: f32,
    /// |dominant edge angle| / 45 degrees (0 = axis aligned).
    pub skew: f32,
}

pub fn measure(gray: &Gray) -> Quality {
    let (brightness, std) = mean_std(&gray.data);
    let lap = conv3(gray, &LAPLACIAN);
    let (_, lap_std) = mean_std(&lap.data);
    let var = f64::from(lap_std) * f64::from(lap_std);
    let sharpness = ((1.0 + var).ln() / (1.0f64 + 2000.0).ln()).min(1.0) as f32;
    Quality {
        sharpness,
        brightness: brightness / 255.0,
        contrast: (std / 128.0).min(1.0),
        noise: (noise_sigma(gray) / 20.0).min(1.0),
        skew: skew_degrees(gray).abs() / 45.0,
    }
}

/// Immerkær (1996) fast noise variance estimation: sigma = sqrt(pi/2) / (6 (W-2)(H-2)) * sum |I * N|.
pub fn noise_sigma(gray: &Gray) -> f32 {
    if gray.width < 3 || gray.height < 3 {
        return 0.0;
    }
    let r = conv3(gray, &NOISE_KERNEL);
    let mut s = 0.0f64;
    for y in 1..gray.height - 1 {
        for x in 1..gray.width - 1 {
            s += f64::from(r.px(x, y).abs());
        }
    }
    let n = ((gray.width - 2) * (gray.height - 2)) as f64;
    ((std::f64::consts::PI / 2.0).sqrt() * s / (6.0 * n)) as f32
}

/// Dominant edge orientation folded into [-45, 45) degrees: the magnitude-weighted circular mean
/// of 4x the Sobel gradient angle (so orientations 90 degrees apart coincide), divided by 4.
/// Averaging (rather than taking a histogram mode) also handles the staircase edges of slightly
/// rotated rasterised text.
pub fn skew_degrees(gray: &Gray) -> f32 {
    let gx = conv3(gray, &SOBEL_X);
    let gy = conv3(gray, &SOBEL_Y);
    let (mut sc, mut ss) = (0.0f64, 0.0f64);
    for i in 0..gx.data.len() {
        let (dx, dy) = (f64::from(gx.data[i]), f64::from(gy.data[i]));
        let mag = (dx * dx + dy * dy).sqrt();
        if mag < 40.0 {
            continue;
        }
        let a = 4.0 * dy.atan2(dx);
        sc += mag * a.cos();
        ss += mag * a.sin();
    }
    if sc == 0.0 && ss == 0.0 {
        return 0.0;
    }
    (ss.atan2(sc) / 4.0).to_degrees() as f32
}

/// Passive liveness / presentation-attack cues on the selfie, each in `[0, 1]`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LivenessCues {
    /// Strength of periodic high-frequency structure (screen pixel grid / moiré): max normalised
    /// autocorrelation of the high-pass image at lags 2..=12 px. Natural skin is near 0.
    pub moire: f32,
    /// Mean HSV saturation (prints and washed-out replays lose saturation).
    pub saturation: f32,
    /// Fraction of near-white clipped pixels (screen glare / specular reflection of glossy paper).
    pub glare: f32,
    /// High-frequency energy inside the face box relative to the whole image (prints and
    /// re-captures lose fine skin texture). 0.5 = same as the image.
    pub face_texture: f32,
}

pub fn liveness(rgb: &Rgb, gray: &Gray, face_box: Option<(f32, f32, f32, f32)>) -> LivenessCues {
    // high-pass: I - mean3x3(I)
    let box3 = [1.0 / 9.0; 9];
    let blur = conv3(gray, &box3);
    let hp: Vec<f32> = gray
        .data
        .iter()
        .zip(&blur.data)
        .map(|(a, b)| a - b)
        .collect();
    let (w, h) = (gray.width, gray.height);
    let mut e0 = 0.0f64;
    for &v in &hp {
        e0 += f64::from(v) * f64::from(v);
    }
    let mut moire = 0.0f64;
    if e0 > 1e-6 {
        for lag in 2..=12usize {
            let mut sx = 0.0f64;
            let mut sy = 0.0f64;
            for y in 0..h {
                for x in 0..w {
                    let v = f64::from(hp[y * w + x]);
                    if x + lag < w {
                        sx += v * f64::from(hp[y * w + x + lag]);
                    }
                    if y + lag < h {
                        sy += v * f64::from(hp[(y + lag) * w + x]);
                    }
                }
            }
            moire = moire.max(sx / e0).max(sy / e0);
        }
    }
    let mut sat = 0.0f64;
    let mut glare = 0usize;
    for p in rgb.data.chunks_exact(3) {
        let mx = p[0].max(p[1]).max(p[2]);
        let mn = p[0].min(p[1]).min(p[2]);
        if mx > 0.0 {
            sat += f64::from((mx - mn) / mx);
        }
        if mn >= 245.0 {
            glare += 1;
        }
    }
    let npx = (rgb.data.len() / 3).max(1) as f64;
    let face_texture = match face_box {
        Some((x0, y0, x1, y1)) => {
            let xa = x0.max(0.0) as usize;
            let ya = y0.max(0.0) as usize;
            let xb = (x1.max(0.0) as usize).min(w);
            let yb = (y1.max(0.0) as usize).min(h);
            let mut ef = 0.0f64;
            let mut nf = 0usize;
            for y in ya..yb {
                for x in xa..xb {
                    let v = f64::from(hp[y * w + x]);
                    ef += v * v;
                    nf += 1;
                }
            }
            if nf == 0 || e0 <= 1e-6 {
                0.0
            } else {
                let rf = ef / nf as f64;
                let ri = e0 / (w * h) as f64;
                (rf / (rf + ri)) as f32
            }
        }
        None => 0.0,
    };
    LivenessCues {
        moire: moire.clamp(0.0, 1.0) as f32,
        saturation: (sat / npx) as f32,
        glare: (glare as f64 / npx) as f32,
        face_texture,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(w: usize, h: usize, f: impl Fn(usize, usize) -> f32) -> Gray {
        let mut data = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                data.push(f(x, y));
            }
        }
        Gray {
            width: w,
            height: h,
            data,
        }
    }

    /// Deterministic pseudo-random noise in [-1, 1] (splitmix64 finaliser of the index).
    fn lcg(i: usize) -> f32 {
        let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z % 2001) as f32 / 1000.0 - 1.0
    }

    #[test]
    fn noise_estimate_grows_with_added_noise() {
        let clean = image(120, 90, |x, y| 100.0 + 0.5 * x as f32 + 0.3 * y as f32);
        let noisy = image(120, 90, |x, y| {
            100.0 + 0.5 * x as f32 + 0.3 * y as f32 + 20.0 * lcg(y * 120 + x)
        });
        assert!(noise_sigma(&clean) < 0.5);
        assert!(noise_sigma(&noisy) > 5.0 * noise_sigma(&clean).max(1.0));
    }

    #[test]
    fn skew_of_tilted_stripes_is_recovered() {
        let angle = 10.0f32.to_radians();
        let (s, c) = angle.sin_cos();
        // band-limited (like any camera capture) horizontal stripes rotated by +10 degrees
        let img = image(200, 200, |x, y| {
            let v = -s * x as f32 + c * y as f32;
            130.0 + 90.0 * (v * std::f32::consts::TAU / 16.0).sin()
        });
        let skew = skew_degrees(&img);
        assert!((skew - 10.0).abs() <= 2.0, "skew {skew}");
        let flat = image(200, 200, |_, y| {
            130.0 + 90.0 * (y as f32 * std::f32::consts::TAU / 16.0).sin()
        });
        assert!(skew_degrees(&flat).abs() <= 1.0);
    }

    #[test]
    fn periodic_screen_pattern_raises_the_moire_cue() {
        let smooth = image(160, 160, |x, y| {
            80.0 + 0.4 * x as f32 + 10.0 * lcg(y * 160 + x)
        });
        let screen = image(160, 160, |x, y| {
            80.0 + 0.4 * x as f32
                + 10.0 * lcg(y * 160 + x)
                + 25.0 * (x as f32 * std::f32::consts::TAU / 4.0).sin()
        });
        let rgb = |g: &Gray| Rgb {
            width: g.width,
            height: g.height,
            data: g.data.iter().flat_map(|v| [*v, *v, *v]).collect(),
        };
        let a = liveness(&rgb(&smooth), &smooth, None).moire;
        let b = liveness(&rgb(&screen), &screen, None).moire;
        assert!(b > 0.3 && a < 0.15, "smooth {a}, screen {b}");
    }

    #[test]
    fn sharpness_drops_when_the_image_is_blurred() {
        let sharp = image(100, 100, |x, y| {
            if (x / 5 + y / 5) % 2 == 0 {
                30.0
            } else {
                220.0
            }
        });
        let mut blurred = sharp.clone();
        for _ in 0..4 {
            blurred = conv3(&blurred, &[1.0 / 9.0; 9]);
        }
        assert!(measure(&sharp).sharpness > measure(&blurred).sharpness + 0.1);
    }
}
