"""Face match across *different photographs* (something the synthetic dataset cannot test).

    python ml/eval_cross_photo.py          (after ml/run.sh: uses ml/.venv and target/debug/ve-scoring)

Photos: `tests/test_images/` of the PyPI sdist `face_recognition==1.3.0` (MIT-licensed package by
Adam Geitgey; SHA-256 pinned below): obama.jpg, obama2.jpg, obama3.jpg, obama_partial_face.jpg,
obama_partial_face2.jpg (five different photos or crops of Barack Obama) and biden.jpg (Joe Biden).
`32bit.png` is obama2.jpg again and is skipped. The package does not state where the photos come
from (they look like official US-government photos, which would be public domain), so they are
used here only for this evaluation, downloaded at run time into ml/.cache, never committed or
trained on. Writes ml/eval/cross_photo.json: per pair the cosine similarity of the learned
embedding (the scorer's face_embedding_similarity) and of the LBP texture descriptor.
"""
import hashlib
import itertools
import json
import os
import subprocess
import sys
import tarfile

import numpy as np

import vebin

SDIST = "face_recognition-1.3.0.tar.gz"
SDIST_SHA256 = "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec"
PHOTOS = ["obama.jpg", "obama2.jpg", "obama3.jpg", "obama_partial_face.jpg", "obama_partial_face2.jpg", "biden.jpg"]
HERE = os.path.dirname(os.path.abspath(__file__))


def fetch(cache):
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, SDIST)
    if not os.path.exists(path):
        subprocess.check_call([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                               "-d", cache, "face_recognition==1.3.0"])
    got = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if got != SDIST_SHA256:
        sys.exit(f"{path}: sha256 {got} != pinned {SDIST_SHA256}")
    out = os.path.join(cache, "cross_photo")
    os.makedirs(out, exist_ok=True)
    with tarfile.open(path) as t:
        for name in PHOTOS:
            with open(os.path.join(out, name), "wb") as f:
                f.write(t.extractfile(f"face_recognition-1.3.0/tests/test_images/{name}").read())
    return [os.path.join(out, n) for n in PHOTOS]


def main():
    paths = fetch(os.path.join(HERE, ".cache"))
    faces = {os.path.basename(r["path"]): r["face"] for r in vebin.run("embed", paths, workers=1)}
    missing = [n for n, f in faces.items() if f is None]
    if missing:
        sys.exit(f"no face found in {missing}")
    pairs = []
    for a, b in itertools.combinations(PHOTOS, 2):
        ea, eb = np.array(faces[a]["embedding"]), np.array(faces[b]["embedding"])
        same = a.startswith("obama") == b.startswith("obama")
        pairs.append({"a": a, "b": b, "same_person": same,
                      "embedding_cosine": round(float(ea @ eb / np.linalg.norm(ea) / np.linalg.norm(eb)), 4),
                      "embedding_l2": round(float(np.linalg.norm(ea - eb)), 4),
                      "texture_cosine": round(float(np.dot(faces[a]["texture"], faces[b]["texture"])), 4)})
    summary = {}
    for key in ("embedding_cosine", "texture_cosine"):
        gen = [p[key] for p in pairs if p["same_person"]]
        imp = [p[key] for p in pairs if not p["same_person"]]
        summary[key] = {"genuine_min": min(gen), "genuine_mean": round(float(np.mean(gen)), 4),
                        "impostor_max": max(imp), "impostor_mean": round(float(np.mean(imp)), 4),
                        "separable": min(gen) > max(imp)}
    res = {"source": f"PyPI sdist {SDIST} (sha256 {SDIST_SHA256}) tests/test_images",
           "genuine_pairs": sum(p["same_person"] for p in pairs),
           "impostor_pairs": sum(not p["same_person"] for p in pairs), "summary": summary, "pairs": pairs}
    os.makedirs(os.path.join(HERE, "eval"), exist_ok=True)
    with open(os.path.join(HERE, "eval", "cross_photo.json"), "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
