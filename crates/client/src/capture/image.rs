//! Checking that a file is a real JPEG or PNG image, and removing the metadata a camera
//! or editor leaves in it (EXIF with GPS position, XMP, comments, text chunks) before it
//! is sealed. No decoder: the structure is walked and every length, marker and (PNG)
//! checksum is checked, which refuses renamed, truncated and non-image files.

use super::CaptureError;

/// Smallest file accepted (a real JPEG or PNG of a face or document is far larger).
pub const MIN_IMAGE_BYTES: usize = 64;
/// Largest file accepted: the identity module's hard envelope limit (`HARD_MAX_PAYLOAD`,
/// 1 MiB). The chain's current `max_payload_bytes` (at most this) is checked again on the
/// sealed envelope.
pub const MAX_IMAGE_BYTES: usize = 1 << 20;
/// Smallest width and height accepted, pixels.
pub const MIN_DIMENSION: u32 = 32;
/// Largest width and height accepted, pixels.
pub const MAX_DIMENSION: u32 = 20_000;

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
}

impl ImageKind {
    pub fn media_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
        }
    }
}

/// What the structure walk found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub kind: ImageKind,
    pub width: u32,
    pub height: u32,
}

/// A checked image with its metadata removed: `bytes` is what gets sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedImage {
    pub info: ImageInfo,
    pub bytes: Vec<u8>,
    /// Bytes of metadata removed (EXIF, XMP, comments, text chunks).
    pub stripped: usize,
}

/// Checks `bytes` (named `what` in errors, e.g. the file name) and strips metadata.
pub fn check_image(what: &str, bytes: &[u8]) -> Result<CheckedImage, CaptureError> {
    let bad = |reason: String| CaptureError::NotAnImage {
        what: what.to_string(),
        reason,
    };
    if bytes.len() < MIN_IMAGE_BYTES {
        return Err(bad(format!(
            "{} bytes is too small for a photo (at least {MIN_IMAGE_BYTES})",
            bytes.len()
        )));
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(CaptureError::ImageTooLarge {
            what: what.to_string(),
            len: bytes.len(),
            max: MAX_IMAGE_BYTES,
        });
    }
    let (info, out) = if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        jpeg(bytes).map_err(bad)?
    } else if bytes.starts_with(&PNG_SIGNATURE) {
        png(bytes).map_err(bad)?
    } else {
        return Err(bad(
            "not a JPEG (starts FF D8 FF) or PNG (starts 89 50 4E 47) file".into(),
        ));
    };
    for (name, v) in [("width", info.width), ("height", info.height)] {
        if !(MIN_DIMENSION..=MAX_DIMENSION).contains(&v) {
            return Err(bad(format!(
                "{name} {v} px is outside {MIN_DIMENSION}..={MAX_DIMENSION}"
            )));
        }
    }
    Ok(CheckedImage {
        info,
        stripped: bytes.len().saturating_sub(out.len()),
        bytes: out,
    })
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at.checked_add(1)?)?,
    ]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// JPEG: markers up to the first SOS must be well formed, a frame header (SOF) must give
/// the size, and the entropy-coded data must end with EOI. APPn segments other than
/// APP0 (JFIF), APP2 (ICC colour profile) and APP14 (Adobe colour transform), and COM
/// segments, are removed.
fn jpeg(b: &[u8]) -> Result<(ImageInfo, Vec<u8>), String> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&[0xff, 0xd8]);
    let mut pos = 2usize;
    let mut size: Option<(u32, u32)> = None;
    loop {
        if b.get(pos) != Some(&0xff) {
            return Err(format!(
                "broken JPEG structure at byte {pos}: expected a marker"
            ));
        }
        // Fill bytes (repeated 0xFF) may precede a marker.
        while b.get(pos) == Some(&0xff) {
            pos += 1;
        }
        let marker = *b
            .get(pos)
            .ok_or_else(|| "JPEG ends inside a marker (truncated file)".to_string())?;
        pos += 1;
        match marker {
            0xd8 => return Err("second start-of-image marker: not a single JPEG".into()),
            0xd9 => return Err("JPEG ends before any image data (no SOS segment)".into()),
            0x01 | 0xd0..=0xd7 => {
                out.extend_from_slice(&[0xff, marker]);
                continue;
            }
            _ => {}
        }
        let len = usize::from(
            be16(b, pos)
                .ok_or_else(|| "JPEG ends inside a segment length (truncated)".to_string())?,
        );
        let end = pos
            .checked_add(len)
            .filter(|&e| len >= 2 && e <= b.len())
            .ok_or_else(|| {
                format!("JPEG segment FF{marker:02X} at byte {pos} runs past the end (truncated)")
            })?;
        let segment = &b[pos..end];
        let is_sof = matches!(marker, 0xc0..=0xcf) && !matches!(marker, 0xc4 | 0xc8 | 0xcc);
        if is_sof {
            if len < 8 {
                return Err("JPEG frame header too short".into());
            }
            let h = be16(b, pos + 3).unwrap_or(0);
            let w = be16(b, pos + 5).unwrap_or(0);
            size = Some((u32::from(w), u32::from(h)));
        }
        let strip = matches!(marker, 0xe1 | 0xe3..=0xed | 0xef | 0xfe);
        if !strip {
            out.extend_from_slice(&[0xff, marker]);
            out.extend_from_slice(segment);
        }
        pos = end;
        if marker == 0xda {
            let (width, height) =
                size.ok_or_else(|| "JPEG has image data but no frame header (SOF)".to_string())?;
            let rest = &b[pos..];
            let eoi = rest
                .windows(2)
                .rposition(|w| w == [0xff, 0xd9])
                .ok_or_else(|| "JPEG has no end-of-image marker (truncated file)".to_string())?;
            if rest.len().saturating_sub(eoi + 2) > 0 && rest[eoi + 2..].iter().any(|&x| x != 0) {
                return Err("data after the JPEG end-of-image marker".into());
            }
            if eoi == 0 {
                return Err("JPEG has no entropy-coded image data".into());
            }
            out.extend_from_slice(&rest[..eoi + 2]);
            return Ok((
                ImageInfo {
                    kind: ImageKind::Jpeg,
                    width,
                    height,
                },
                out,
            ));
        }
    }
}

/// PNG: chunks with valid lengths and CRCs, IHDR first, at least one IDAT, IEND last.
/// tEXt, zTXt, iTXt, eXIf and tIME chunks are removed.
fn png(b: &[u8]) -> Result<(ImageInfo, Vec<u8>), String> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&PNG_SIGNATURE);
    let mut pos = PNG_SIGNATURE.len();
    let mut size: Option<(u32, u32)> = None;
    let mut idat = false;
    loop {
        let len =
            be32(b, pos).ok_or_else(|| "PNG ends inside a chunk header (truncated)".to_string())?;
        let len = usize::try_from(len).map_err(|_| "PNG chunk length overflows".to_string())?;
        let ty_at = pos + 4;
        let data_at = ty_at + 4;
        let end = data_at
            .checked_add(len)
            .and_then(|e| e.checked_add(4))
            .filter(|&e| e <= b.len())
            .ok_or_else(|| format!("PNG chunk at byte {pos} runs past the end (truncated)"))?;
        let ty = &b[ty_at..data_at];
        if !ty.iter().all(u8::is_ascii_alphabetic) {
            return Err(format!("PNG chunk at byte {pos} has an invalid type"));
        }
        let name = String::from_utf8_lossy(ty).to_string();
        let crc = be32(b, data_at + len).unwrap_or(0);
        if crc32(&b[ty_at..data_at + len]) != crc {
            return Err(format!(
                "PNG chunk {name} has a wrong checksum (corrupt file)"
            ));
        }
        if size.is_none() && name != "IHDR" {
            return Err("PNG does not start with an IHDR chunk".into());
        }
        match name.as_str() {
            "IHDR" => {
                if size.is_some() || len != 13 {
                    return Err("PNG has a malformed or repeated IHDR chunk".into());
                }
                let w = be32(b, data_at).unwrap_or(0);
                let h = be32(b, data_at + 4).unwrap_or(0);
                size = Some((w, h));
            }
            "IDAT" => idat = true,
            _ => {}
        }
        let strip = matches!(name.as_str(), "tEXt" | "zTXt" | "iTXt" | "eXIf" | "tIME");
        if !strip {
            out.extend_from_slice(&b[pos..end]);
        }
        pos = end;
        if name == "IEND" {
            if pos != b.len() {
                return Err("data after the PNG IEND chunk".into());
            }
            if !idat {
                return Err("PNG has no image data (IDAT)".into());
            }
            let (width, height) = size.unwrap_or((0, 0));
            return Ok((
                ImageInfo {
                    kind: ImageKind::Png,
                    width,
                    height,
                },
                out,
            ));
        }
    }
}

/// CRC-32 (ISO-HDLC, as PNG uses), bitwise.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const JPEG: &[u8] = include_bytes!("testdata/face.jpg");
    pub const PNG: &[u8] = include_bytes!("testdata/card.png");

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn real_jpeg_is_accepted_with_its_size_and_exif_removed() {
        let img = check_image("face.jpg", JPEG).unwrap();
        assert_eq!(img.info.kind, ImageKind::Jpeg);
        assert!(img.info.width >= MIN_DIMENSION && img.info.height >= MIN_DIMENSION);
        // The fixture carries an EXIF comment; it must be gone and the rest identical.
        assert!(img.stripped > 0, "fixture has metadata to strip");
        assert!(!contains(&img.bytes, b"Exif"));
        assert!(!contains(&img.bytes, b"virtengine-test-comment"));
        // Stripping is idempotent and the result is still a valid JPEG.
        let again = check_image("face.jpg", &img.bytes).unwrap();
        assert_eq!(again.bytes, img.bytes);
        assert_eq!(again.stripped, 0);
        assert_eq!(again.info, img.info);
    }

    #[test]
    fn real_png_is_accepted_and_text_chunks_removed() {
        let img = check_image("card.png", PNG).unwrap();
        assert_eq!(img.info.kind, ImageKind::Png);
        assert!(img.stripped > 0, "fixture has a text chunk to strip");
        assert!(!contains(&img.bytes, b"tEXt"));
        let again = check_image("card.png", &img.bytes).unwrap();
        assert_eq!((again.bytes, again.stripped), (img.bytes.clone(), 0));
    }

    #[test]
    fn non_images_truncated_and_corrupt_files_are_refused() {
        let text =
            b"this is a text file pretending to be a selfie, long enough to pass the size check";
        let e = check_image("selfie.jpg", text).unwrap_err();
        assert!(e.to_string().contains("not a JPEG"), "{e}");

        let truncated = &JPEG[..JPEG.len() / 2];
        assert!(matches!(
            check_image("t.jpg", truncated),
            Err(CaptureError::NotAnImage { .. })
        ));
        let mut corrupt = PNG.to_vec();
        let mid = corrupt.len() / 2;
        corrupt[mid] ^= 0x55;
        let e = check_image("c.png", &corrupt).unwrap_err();
        assert!(e.to_string().contains("checksum"), "{e}");
        let mut trailing = JPEG.to_vec();
        trailing.extend_from_slice(b"<script>");
        assert!(check_image("x.jpg", &trailing).is_err());
        assert!(check_image("tiny.png", &PNG[..40]).is_err());
    }

    #[test]
    fn files_over_the_module_payload_limit_are_refused() {
        let mut big = JPEG.to_vec();
        big.resize(MAX_IMAGE_BYTES + 1, 0);
        assert!(matches!(
            check_image("big.jpg", &big),
            Err(CaptureError::ImageTooLarge { .. })
        ));
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }
}
