"""Extract `veid-features/v1` for a split with the Rust binary; writes .cache/features_<split>.jsonl."""
import json
import sys

import vebin


def main(data_dir, split, out):
    jobs = [json.loads(l) for l in open(f"{data_dir}/{split}.jsonl")]
    res = vebin.run("extract", [{k: v for k, v in j.items() if k != "truth"} for j in jobs])
    with open(out, "w") as f:
        for j, r in zip(jobs, res):
            if "ok" not in r:
                sys.exit(f"extract failed for {j['id']}: {r}")
            f.write(json.dumps({"id": j["id"], "truth": j["truth"], **r["ok"]}) + "\n")
    print(f"{split}: {len(res)} feature vectors -> {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
