"""Evaluate the model set on the held-out split; writes ml/eval/results.json and ml/eval/report.md.

1. Face match: embedding similarity (cosine of the Rust-computed dlib ResNet embeddings, the
   scorer's face_embedding_similarity) over every document-photo x selfie pair of the split
   (presentation-attack selfies excluded); the classical LBP texture and landmark-geometry
   descriptors are reported alongside for comparison. Genuine = same identity.
   Impostors are reported as (a) different real people only and (b) all, including synthetic
   warp identities of the same real person. ROC: TAR at FAR = 1 %, AUC.
2. OCR field accuracy: OCR'd value == printed value (after the scorer's normalisation) per field,
   on normal-quality and on degraded documents.
3. Score distributions: the Rust scorer (`ve-scoring score-batch`, i.e. the deployed integer path)
   per category; AUC genuine vs all negatives; accept rates at 50 and 80.
"""
import argparse
import json
import os

import numpy as np

import vebin

FIELDS = ["name", "date_of_birth", "document_number", "expiry_date", "nationality"]


def face_pairs(rows, cross_only=False, descriptor="embedding"):
    """All doc-photo x selfie pairs with both faces found. Returns (similarities, same_identity).

    descriptor "embedding": cosine of the learned embeddings (face_embedding_similarity);
    "texture": cosine of the LBP descriptors (face_texture_similarity);
    "geometry": minus the RMS distance of the aligned landmark sets (face_geometry_distance).
    """
    key = descriptor
    docs = [(r["truth"]["doc_identity"], r["truth"]["doc_source"], r["doc_face"][key]) for r in rows
            if r.get("doc_face") and r["truth"]["category"] != "low_quality"]
    selfies = [(r["truth"]["selfie_identity"], r["truth"]["selfie_source"], r["selfie_face"][key]) for r in rows
               if r.get("selfie_face") and r["truth"]["category"] not in ("screen_replay", "print_attack")]
    if not docs or not selfies:
        return np.zeros(0), np.zeros(0, bool)
    D = np.array([d[2] for d in docs], np.float64)
    S = np.array([s[2] for s in selfies], np.float64)
    if key == "embedding":
        D = D / np.linalg.norm(D, axis=1, keepdims=True)
        S = S / np.linalg.norm(S, axis=1, keepdims=True)
        sims = D @ S.T
    elif key == "texture":
        sims = D @ S.T
    else:
        diff = D[:, None, :] - S[None, :, :]
        sims = -np.sqrt((diff.reshape(len(D), len(S), -1, 2) ** 2).sum(-1).mean(-1))
    same = np.array([[d[0] == s[0] for s in selfies] for d in docs])
    keep = np.ones_like(same)
    if cross_only:
        samesrc = np.array([[d[1] == s[1] for s in selfies] for d in docs])
        keep = same | ~samesrc
    return sims[keep], same[keep]


def roc(scores, positive):
    """TAR at FAR <= 1 % (threshold = smallest value above the 99th-percentile impostor) and AUC."""
    pos = np.sort(scores[positive])
    neg = np.sort(scores[~positive])
    if len(pos) == 0 or len(neg) == 0:
        return {"tar_at_far_1pct": None, "auc": None, "threshold": None, "genuine": int(len(pos)), "impostor": int(len(neg))}
    k = int(np.floor(0.01 * len(neg)))  # number of impostors allowed above the threshold
    thr = neg[len(neg) - 1 - k] if k < len(neg) else neg[0]
    tar = float((pos > thr).mean())
    far = float((neg > thr).mean())
    # AUC via rank statistic
    allv = np.concatenate([pos, neg])
    ranks = allv.argsort().argsort() + 1
    auc = (ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
    return {"tar_at_far_1pct": round(tar, 4), "far_at_threshold": round(far, 4), "threshold": round(float(thr), 4),
            "auc": round(float(auc), 4), "genuine": int(len(pos)), "impostor": int(len(neg))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--features", required=True, help=".cache/features_test.jsonl")
    ap.add_argument("--jobs", required=True, help=".cache/data/test.jsonl")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "eval"))
    a = ap.parse_args()
    rows = [json.loads(l) for l in open(a.features)]
    res = {"split": os.path.basename(a.jobs), "samples": len(rows)}

    sims, same = face_pairs(rows)
    res["face_match_all_impostors"] = roc(sims, same)
    sims, same = face_pairs(rows, cross_only=True)
    res["face_match_real_people_only"] = roc(sims, same)
    sims, same = face_pairs(rows, descriptor="texture")
    res["texture_match_all_impostors"] = roc(sims, same)
    sims, same = face_pairs(rows, cross_only=True, descriptor="texture")
    res["texture_match_real_people_only"] = roc(sims, same)
    sims, same = face_pairs(rows, descriptor="geometry")
    res["geometry_match_all_impostors"] = roc(sims, same)
    sims, same = face_pairs(rows, cross_only=True, descriptor="geometry")
    res["geometry_match_real_people_only"] = roc(sims, same)
    det = {"doc_face_found": float(np.mean([r.get("doc_face") is not None for r in rows
                                             if r["truth"]["category"] != "low_quality"])),
           "selfie_face_found": float(np.mean([r.get("selfie_face") is not None for r in rows]))}
    res["face_detection_rate"] = {k: round(v, 4) for k, v in det.items()}

    ocr = {}
    for quality in ("normal", "degraded"):
        sel = [r for r in rows if (r["truth"]["category"] == "low_quality") == (quality == "degraded")]
        per = {}
        for f in FIELDS:
            ok = [r["ocr"].get(f, {}).get("value") == " ".join(r["truth"]["printed"][f].split()).upper() for r in sel]
            per[f] = round(float(np.mean(ok)), 4) if ok else None
        allok = [all(r["ocr"].get(f, {}).get("value") == r["truth"]["printed"][f] for f in FIELDS) for r in sel]
        per["all_fields"] = round(float(np.mean(allok)), 4) if allok else None
        per["documents"] = len(sel)
        ocr[quality] = per
    res["ocr_field_accuracy"] = ocr

    jobs = [json.loads(l) for l in open(a.jobs)]
    scored = vebin.run("score-batch", [{k: v for k, v in j.items() if k != "truth"} for j in jobs])
    cats = {}
    scores, labels = [], []
    reason_counts = {}
    for j, r in zip(jobs, scored):
        c = j["truth"]["category"]
        s = r["ok"]["score"]
        cats.setdefault(c, []).append(s)
        scores.append(s)
        labels.append(j["truth"]["label"] == 1)
        for code in r["ok"]["reason_codes"]:
            reason_counts.setdefault(c, {}).setdefault(code, 0)
            reason_counts[c][code] += 1
    dist = {}
    for c, v in sorted(cats.items()):
        v = np.array(v)
        dist[c] = {"n": int(len(v)), "mean": round(float(v.mean()), 1), "median": float(np.median(v)),
                   "min": int(v.min()), "max": int(v.max()), "p10": round(float(np.percentile(v, 10)), 1),
                   "p90": round(float(np.percentile(v, 90)), 1), "accept_ge_50": round(float((v >= 50).mean()), 3),
                   "verified_ge_80": round(float((v >= 80).mean()), 3)}
    res["score_distribution"] = dist
    res["score_genuine_vs_negative"] = roc(np.array(scores, float), np.array(labels))
    res["reason_codes_by_category"] = reason_counts
    res["model_hash"] = scored[0]["ok"]["model_hash"] if scored else None
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(res, f, indent=2, sort_keys=True)
        f.write("\n")
    write_report(res, os.path.join(a.out, "report.md"))
    print(json.dumps({k: res[k] for k in ("face_match_all_impostors", "face_match_real_people_only",
                                          "ocr_field_accuracy", "score_genuine_vs_negative")}, indent=1))


def write_report(res, path):
    L = [f"Held-out split `{res['split']}`: {res['samples']} samples. Model-set hash `{res['model_hash']}`.", ""]
    L.append("| face match | genuine pairs | impostor pairs | TAR @ FAR=1% | AUC |")
    L.append("|---|---|---|---|---|")
    for k, name in [("face_match_real_people_only", "embedding (dlib ResNet), impostors = different real people"),
                    ("face_match_all_impostors", "embedding (dlib ResNet), impostors incl. synthetic warp identities"),
                    ("texture_match_real_people_only", "LBP texture, different real people"),
                    ("texture_match_all_impostors", "LBP texture, incl. warp identities"),
                    ("geometry_match_real_people_only", "landmark geometry, different real people"),
                    ("geometry_match_all_impostors", "landmark geometry, incl. warp identities")]:
        r = res[k]
        L.append(f"| {name} | {r['genuine']} | {r['impostor']} | {r['tar_at_far_1pct']} | {r['auc']} |")
    L.append("")
    L.append(f"Face detection rate: {res['face_detection_rate']}")
    L.append("")
    L.append("| OCR exact-match accuracy | docs | " + " | ".join(FIELDS) + " | all fields |")
    L.append("|---|---|" + "---|" * (len(FIELDS) + 1))
    for q, r in res["ocr_field_accuracy"].items():
        L.append(f"| {q} | {r['documents']} | " + " | ".join(str(r[f]) for f in FIELDS) + f" | {r['all_fields']} |")
    L.append("")
    L.append("| category | n | mean | median | p10 | p90 | min | max | score >= 50 | score >= 80 |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for c, d in res["score_distribution"].items():
        L.append(f"| {c} | {d['n']} | {d['mean']} | {d['median']} | {d['p10']} | {d['p90']} | {d['min']} | {d['max']} | "
                 f"{d['accept_ge_50']} | {d['verified_ge_80']} |")
    g = res["score_genuine_vs_negative"]
    L.append("")
    L.append(f"Score AUC genuine vs all negatives: {g['auc']} (genuine {g['genuine']}, negatives {g['impostor']}).")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
