"""Assemble the VEID scoring dataset: package-shipped face photos -> synthetic ID cards + selfies.

Face sources (all shipped inside pinned PyPI packages, no download):
  * astronaut     scikit-image 0.26.0 `skimage/data/astronaut.png` (Eileen Collins, NASA, public domain)
  * grace_hopper  matplotlib 3.10.7 `mpl-data/sample_data/grace_hopper.jpg` (US Navy photo, public domain)
  * cameraman     scikit-image 0.26.0 `skimage/data/camera.png` (classic test image; "no known copyright
                  restrictions" per scikit-image's data README); greyscale, so sepia-toned here

Identities: each real source plus K synthetic "warp identities" per source (smooth random
geometric warps of the face region + skin-tone shift). Warp identities are NOT real people: the
evaluation reports impostor pairs from different real sources and from warps separately.

Samples (one ID-card photo + one selfie + claimed name/DOB, reference date 2026-11-26):
  genuine (label 1) and negatives (label 0): face_mismatch, tampered_number, expired,
  claim_mismatch, screen_replay, print_attack, low_quality.

Writes <out>/<split>/<id>_doc.jpg, <id>_selfie.jpg and <out>/<split>.jsonl (jobs for `ve-scoring`,
plus ground truth). Deterministic given --seed.
"""
import argparse
import io
import json
import math
import os

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

REFERENCE_DATE = 20261126
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FIRST = ["ADA", "ALAN", "MARIA", "JOHN", "LINA", "OMAR", "SARA", "PAUL", "ELENA", "IVAN", "NOOR", "KEMAL",
         "ROSA", "TARO", "AMINA", "LUCAS", "ZOE", "HUGO", "INES", "MILO"]
LAST = ["NOVAK", "BERGER", "SILVA", "OKAFOR", "LINDQVIST", "MORENO", "TANAKA", "KOWALSKI", "DUBOIS", "HASSAN",
        "FISCHER", "ROSSI", "PETROV", "NGUYEN", "MURPHY", "KAPOOR", "JENSEN", "COSTA", "WEBER", "SATO"]
NATIONALITIES = ["UTO", "DEU", "FRA", "ITA", "ESP", "NLD", "SWE", "POL", "PRT", "IRL", "CAN", "AUS", "JPN", "BRA"]
# face centre (x, y) and detector box width in the source image (measured once with the detector)
SOURCES = {
    "astronaut": (226.5, 129.2, 94.6),
    "grace_hopper": (267.6, 245.2, 193.7),
    "cameraman": (220.3, 166.5, 92.5),
}
CATEGORIES = ["genuine", "face_mismatch", "tampered_number", "expired", "claim_mismatch", "screen_replay",
              "print_attack", "low_quality"]


def load_sources():
    import matplotlib
    from skimage import data
    mpl = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "sample_data", "grace_hopper.jpg")
    return {
        "astronaut": data.astronaut(),
        "grace_hopper": np.asarray(Image.open(mpl).convert("RGB")),
        # the cameraman photo is greyscale: sepia-tone it so that "low colour saturation" stays a
        # print-attack cue rather than a property of one identity
        "cameraman": np.clip(np.stack([data.camera()] * 3, -1).astype(np.float32)
                             * np.array([1.0, 0.82, 0.62], np.float32) + np.array([20, 8, 0], np.float32),
                             0, 255).astype(np.uint8),
    }


def warp_identity(img, centre, width, rng):
    """Smooth random warp of the face region (a synthetic 'identity') + skin-tone shift."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx = np.zeros_like(xx)
    dy = np.zeros_like(yy)
    cx, cy = centre
    for _ in range(6):
        bx = cx + rng.uniform(-0.5, 0.5) * width
        by = cy + rng.uniform(-0.6, 0.6) * width
        sig = rng.uniform(0.15, 0.3) * width
        g = np.exp(-((xx - bx) ** 2 + (yy - by) ** 2) / (2 * sig * sig))
        dx += g * rng.uniform(-0.12, 0.12) * width
        dy += g * rng.uniform(-0.12, 0.12) * width
    sx = np.clip(xx + dx, 0, w - 1)
    sy = np.clip(yy + dy, 0, h - 1)
    x0 = np.floor(sx).astype(int)
    y0 = np.floor(sy).astype(int)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    fx = (sx - x0)[..., None]
    fy = (sy - y0)[..., None]
    f = img.astype(np.float32)
    out = (f[y0, x0] * (1 - fx) * (1 - fy) + f[y0, x1] * fx * (1 - fy) + f[y1, x0] * (1 - fx) * fy
           + f[y1, x1] * fx * fy)
    tint = rng.uniform(0.85, 1.15, size=3).astype(np.float32)
    return np.clip(out * tint, 0, 255).astype(np.uint8)


def crop_rotated(img, cx, cy, out_w, out_h, scale, angle_deg):
    """Crop out_w x out_h around (cx, cy), `scale` source px per output px, rotated by angle."""
    pil = Image.fromarray(img)
    a = math.radians(angle_deg)
    c, s = math.cos(a) * scale, math.sin(a) * scale
    # PIL affine maps output (u, v) -> input (a u + b v + c, d u + e v + f)
    tx = cx - c * out_w / 2 + s * out_h / 2
    ty = cy - s * out_w / 2 - c * out_h / 2
    return pil.transform((out_w, out_h), Image.AFFINE, (c, -s, tx, s, c, ty), resample=Image.BILINEAR,
                         fillcolor=(128, 128, 128))


def jpeg(pil, q):
    b = io.BytesIO()
    pil.save(b, "JPEG", quality=int(q))
    b.seek(0)
    return Image.open(b).convert("RGB")


def add_noise(pil, sigma, rng):
    a = np.asarray(pil).astype(np.float32) + rng.normal(0, sigma, size=(pil.height, pil.width, 3))
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def selfie(img, meta, rng):
    cx, cy, fw = meta
    out_w, out_h = 480, 640
    face_frac = rng.uniform(0.28, 0.45)
    scale = fw / (face_frac * out_w)
    p = crop_rotated(img, cx + rng.uniform(-0.15, 0.15) * fw, cy + rng.uniform(-0.05, 0.25) * fw, out_w, out_h,
                     scale, rng.uniform(-8, 8))
    p = ImageEnhance.Brightness(p).enhance(rng.uniform(0.8, 1.2))
    p = ImageEnhance.Contrast(p).enhance(rng.uniform(0.85, 1.15))
    if rng.random() < 0.5:
        p = p.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    p = add_noise(p, rng.uniform(1, 4), rng)
    return jpeg(p, rng.uniform(75, 95))


def screen_replay(p, rng):
    """Selfie re-captured from a screen: pixel-grid moiré, gamma/blue shift, glare."""
    a = np.asarray(p).astype(np.float32)
    h, w = a.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rng.uniform(3.0, 7.0)
    ang = rng.uniform(0, math.pi)
    grating = np.sin(2 * math.pi * (xx * math.cos(ang) + yy * math.sin(ang)) / period)
    grid = np.sin(2 * math.pi * xx / rng.uniform(2.5, 4.0)) * np.sin(2 * math.pi * yy / rng.uniform(2.5, 4.0))
    amp = rng.uniform(8, 22)
    a = a + (amp * grating + 0.6 * amp * grid)[..., None]
    a = 255 * (np.clip(a, 0, 255) / 255) ** rng.uniform(0.8, 1.2)
    a *= np.array([0.92, 0.97, 1.08], np.float32)
    if rng.random() < 0.5:
        gx, gy = rng.uniform(0, w), rng.uniform(0, h)
        a += 120 * np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * (0.12 * w) ** 2))[..., None]
    return jpeg(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)), rng.uniform(75, 92))


def print_attack(p, rng):
    """Selfie of a printed photo: desaturated, compressed dynamic range, halftone dots, paper border."""
    p = ImageEnhance.Color(p).enhance(rng.uniform(0.1, 0.45))
    p = ImageEnhance.Contrast(p).enhance(rng.uniform(0.6, 0.85))
    a = np.asarray(p).astype(np.float32)
    h, w = a.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rng.uniform(3.0, 5.0)
    dots = np.cos(2 * math.pi * xx / period) * np.cos(2 * math.pi * yy / period)
    a = a + rng.uniform(6, 14) * dots[..., None] + rng.normal(0, 3, size=a.shape)
    b = int(rng.uniform(0.03, 0.08) * w)
    a[:b, :] = a[-b:, :] = 235
    a[:, :b] = a[:, -b:] = 235
    return jpeg(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)), rng.uniform(75, 92))


def check_digit(s):
    total = 0
    for i, ch in enumerate(s):
        v = int(ch) if ch.isdigit() else ord(ch) - 55
        total += v * (7, 3, 1)[i % 3]
    return total % 10


def random_fields(rng):
    name = f"{FIRST[rng.integers(len(FIRST))]} {LAST[rng.integers(len(LAST))]}"
    y = int(rng.integers(1950, 2006))
    dob = f"{y:04d}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
    prefix = "".join(chr(65 + int(rng.integers(26))) for _ in range(2))
    digits = "".join(str(int(rng.integers(10))) for _ in range(6))
    number = prefix + digits + str(check_digit(prefix + digits))
    ey = int(rng.integers(2027, 2036))
    expiry = f"{ey:04d}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
    nat = NATIONALITIES[rng.integers(len(NATIONALITIES))]
    return {"name": name, "date_of_birth": dob, "document_number": number, "expiry_date": expiry,
            "nationality": nat}


def render_card(portrait, fields, rng):
    w, h = 856, 540
    base = np.array([rng.uniform(215, 245), rng.uniform(220, 245), rng.uniform(215, 240)])
    card = Image.new("RGB", (w, h), tuple(int(v) for v in base))
    d = ImageDraw.Draw(card)
    # guilloche-like background lines
    col = tuple(int(v) for v in base - rng.uniform(15, 30))
    for k in range(14):
        pts = [(x, 300 + 120 * math.sin(x / (40 + 3 * k) + k) + 8 * k - 60) for x in range(0, w, 6)]
        d.line(pts, fill=col, width=1)
    bold = ImageFont.truetype(os.path.join(FONT_DIR, "DejaVuSans-Bold.ttf"), 30)
    font = ImageFont.truetype(os.path.join(FONT_DIR, "DejaVuSansMono-Bold.ttf"), 26)
    d.rectangle([0, 0, w, 70], fill=(30, 60, 120))
    d.text((30, 16), "REPUBLIC OF UTOPIA  IDENTITY CARD", font=bold, fill=(255, 255, 255))
    card.paste(portrait.resize((210, 280), Image.BILINEAR), (30, 110))
    labels = [("NAME", "name"), ("DATE OF BIRTH", "date_of_birth"), ("DOCUMENT NO", "document_number"),
              ("EXPIRY", "expiry_date"), ("NATIONALITY", "nationality")]
    for i, (lab, key) in enumerate(labels):
        d.text((270, 120 + 62 * i), f"{lab}: {fields[key]}", font=font, fill=(10, 10, 20))
    d.rectangle([2, 2, w - 3, h - 3], outline=(30, 60, 120), width=3)
    return card


def capture_document(card, rng, low_quality=False):
    bg = Image.new("RGB", (1100, 760), tuple(int(v) for v in rng.uniform(60, 140, size=3)))
    angle = rng.uniform(-3.5, 3.5)
    rot = card.rotate(angle, resample=Image.BILINEAR, expand=True, fillcolor=(0, 0, 0))
    mask = Image.new("L", card.size, 255).rotate(angle, expand=True)
    bg.paste(rot, (int((1100 - rot.width) / 2 + rng.uniform(-40, 40)), int((760 - rot.height) / 2 + rng.uniform(-30, 30))),
             mask)
    p = ImageEnhance.Brightness(bg).enhance(rng.uniform(0.85, 1.15))
    p = p.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 0.8)))
    if low_quality:
        kind = rng.integers(3)
        if kind == 0:
            p = p.filter(ImageFilter.GaussianBlur(rng.uniform(3.0, 5.0)))
        elif kind == 1:
            p = ImageEnhance.Brightness(p).enhance(rng.uniform(0.15, 0.3))
        else:
            p = add_noise(p, rng.uniform(35, 55), rng)
    p = add_noise(p, rng.uniform(1, 3), rng)
    return jpeg(p, rng.uniform(80, 95))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--split", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--warps", type=int, default=4, help="synthetic warp identities per source")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    src = load_sources()
    identities = []  # (identity id, real source, image)
    for name, img in src.items():
        identities.append((f"{name}", name, img))
        for k in range(a.warps):
            cx, cy, fw = SOURCES[name]
            identities.append((f"{name}~w{a.seed}_{k}", name, warp_identity(img, (cx, cy), fw, rng)))
    outdir = os.path.join(a.out, a.split)
    os.makedirs(outdir, exist_ok=True)
    jobs = []
    for i in range(a.n):
        cat = "genuine" if rng.random() < 0.4 else CATEGORIES[1 + int(rng.integers(len(CATEGORIES) - 1))]
        ident = identities[int(rng.integers(len(identities)))]
        doc_ident = ident
        if cat == "face_mismatch":
            while doc_ident[0] == ident[0]:
                doc_ident = identities[int(rng.integers(len(identities)))]
        fields = random_fields(rng)
        printed = dict(fields)
        if cat == "tampered_number":
            n = printed["document_number"]
            pos = 2 + int(rng.integers(6))
            printed["document_number"] = n[:pos] + str((int(n[pos]) + 1 + int(rng.integers(8))) % 10) + n[pos + 1:]
        if cat == "expired":
            printed["expiry_date"] = f"{int(rng.integers(2015, 2026)):04d}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
        claimed_name = fields["name"]
        if cat == "claim_mismatch":
            while claimed_name == fields["name"]:
                claimed_name = f"{FIRST[rng.integers(len(FIRST))]} {LAST[rng.integers(len(LAST))]}"
        meta = SOURCES[doc_ident[1]]
        cx, cy, fw = meta
        portrait = crop_rotated(doc_ident[2], cx, cy + 0.15 * fw, 210, 280, 2.0 * fw / 210, 0.0)
        card = render_card(portrait, printed, rng)
        doc = capture_document(card, rng, low_quality=(cat == "low_quality"))
        s = selfie(ident[2], SOURCES[ident[1]], rng)
        if cat == "screen_replay":
            s = screen_replay(s, rng)
        elif cat == "print_attack":
            s = print_attack(s, rng)
        sid = f"{a.split}_{i:04d}"
        doc_path = os.path.join(outdir, f"{sid}_doc.jpg")
        selfie_path = os.path.join(outdir, f"{sid}_selfie.jpg")
        doc.save(doc_path, quality=92)
        s.save(selfie_path, quality=92)
        jobs.append({"id": sid, "document": os.path.abspath(doc_path), "selfie": os.path.abspath(selfie_path),
                     "reference_date": REFERENCE_DATE, "claimed_name": claimed_name,
                     "claimed_date_of_birth": fields["date_of_birth"],
                     "truth": {"category": cat, "label": int(cat == "genuine"), "selfie_identity": ident[0],
                               "doc_identity": doc_ident[0], "selfie_source": ident[1],
                               "doc_source": doc_ident[1], "printed": printed}})
    with open(os.path.join(a.out, f"{a.split}.jsonl"), "w") as f:
        for j in jobs:
            f.write(json.dumps(j) + "\n")
    print(f"{a.split}: {len(jobs)} samples", {c: sum(j["truth"]["category"] == c for j in jobs) for c in CATEGORIES})


if __name__ == "__main__":
    main()
