"""Train the trust-score model on Rust-extracted `veid-features/v1` vectors and export it to ONNX.

Model: scikit-learn MLPClassifier (36 -> 16 ReLU -> 1 sigmoid), inputs standardised with the
training mean/std. The ONNX graph is written by hand (Sub, Div, MatMul, Add, Relu, Sigmoid) so
that it contains only ops every runtime (tract, onnxruntime) implements identically; the export is
checked against sklearn's predict_proba. Writes <models>/trust_model.onnx and
<models>/feature_spec.json (feature list from `ve-scoring spec` + reason-code thresholds derived
from the training set + provenance).
"""
import argparse
import json
import subprocess

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from sklearn.neural_network import MLPClassifier

import vebin

SEED = 42


def load(path):
    rows = [json.loads(l) for l in open(path)]
    X = np.array([r["features"] for r in rows], dtype=np.float64) / 10000.0
    y = np.array([r["truth"]["label"] for r in rows])
    return rows, X.astype(np.float32), y


def export(clf, mean, std, path, n):
    W1, W2 = clf.coefs_
    b1, b2 = clf.intercepts_
    inits = [numpy_helper.from_array(a.astype(np.float32), name) for a, name in [
        (mean.reshape(1, -1), "mean"), (std.reshape(1, -1), "std"), (W1, "W1"), (b1.reshape(1, -1), "b1"),
        (W2, "W2"), (b2.reshape(1, -1), "b2")]]
    nodes = [
        helper.make_node("Sub", ["features", "mean"], ["centred"]),
        helper.make_node("Div", ["centred", "std"], ["z"]),
        helper.make_node("MatMul", ["z", "W1"], ["h1"]),
        helper.make_node("Add", ["h1", "b1"], ["h1b"]),
        helper.make_node("Relu", ["h1b"], ["a1"]),
        helper.make_node("MatMul", ["a1", "W2"], ["h2"]),
        helper.make_node("Add", ["h2", "b2"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["trust"]),
    ]
    graph = helper.make_graph(nodes, "veid_trust_v1",
                              [helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, n])],
                              [helper.make_tensor_value_info("trust", TensorProto.FLOAT, [1, 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="ve-ml")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--models", default=vebin.MODELS)
    a = ap.parse_args()
    rows, X, y = load(a.train)
    spec = json.loads(subprocess.run([vebin.BIN, "spec"], capture_output=True, text=True, check=True).stdout)
    n = len(spec["features"])
    assert X.shape[1] == n, (X.shape, n)
    mean = X.mean(0)
    std = X.std(0)
    std[std < 1e-3] = 1.0
    clf = MLPClassifier(hidden_layer_sizes=(16,), activation="relu", alpha=1e-2, max_iter=3000, random_state=SEED,
                        learning_rate_init=1e-2)
    clf.fit((X - mean) / std, y)
    path = f"{a.models}/trust_model.onnx"
    export(clf, mean, std, path, n)
    sess = ort.InferenceSession(path)
    p_onnx = np.array([sess.run(None, {"features": X[i:i + 1]})[0][0, 0] for i in range(len(X))])
    p_sk = clf.predict_proba((X - mean) / std)[:, 1]
    assert np.max(np.abs(p_onnx - p_sk)) < 1e-4, np.max(np.abs(p_onnx - p_sk))
    acc = float(((p_sk >= 0.5) == y).mean())

    # reason-code thresholds from the training split
    fi = {name: i for i, name in enumerate(spec["features"])}
    genuine = y == 1
    from evaluate import face_pairs  # same pairing as the evaluation
    sims, same = face_pairs(rows)
    imp = np.sort(sims[~same])
    far1 = float(imp[int(np.ceil(0.99 * len(imp))) - 1]) if len(imp) else 0.0
    thr = {
        "face_match_min": round(far1, 4),
        "moire_max": round(float(np.percentile(X[genuine, fi["live_moire"]], 99)), 4),
        "saturation_min": round(float(np.percentile(X[genuine, fi["live_saturation"]], 1)), 4),
        "doc_sharpness_min": round(float(np.percentile(X[genuine, fi["doc_sharpness"]], 1)), 4),
        "ocr_confidence_min": 0.5,
    }
    spec["thresholds"] = thr
    spec["training"] = {
        "model": "sklearn MLPClassifier(hidden=(16,), relu, alpha=1e-2, lr=1e-2, random_state=42)",
        "sklearn_version": __import__("sklearn").__version__,
        "train_samples": int(len(y)), "train_positive": int(y.sum()), "train_accuracy": round(acc, 4),
        "dataset": "ml/dataset.py --split train --n 320 --seed 1 (see docs/ml.md)",
        "face_match_min": "embedding-similarity threshold at FAR=1% over training doc/selfie pairs",
    }
    with open(f"{a.models}/feature_spec.json", "w") as f:
        json.dump(spec, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps({"train_accuracy": acc, "thresholds": thr}, indent=1))


if __name__ == "__main__":
    main()
