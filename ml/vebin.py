"""Run the Rust `ve-scoring` binary (the one feature definition) over JSONL jobs, in parallel."""
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("VE_SCORING_BIN", os.path.join(ROOT, "target", "debug", "ve-scoring"))
MODELS = os.environ.get("VE_SCORING_MODELS", os.path.join(ROOT, "crates", "scoring", "models"))


def _run(sub, lines, models):
    p = subprocess.run([BIN, sub, models], input="".join(lines), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"ve-scoring {sub} failed: {p.stderr}")
    return [json.loads(l) for l in p.stdout.splitlines() if l.strip()]


def run(sub, items, workers=2, models=MODELS):
    """items: list of dicts (jobs) or strings (embed paths). Returns results in input order."""
    lines = [(json.dumps(i) if isinstance(i, dict) else i) + "\n" for i in items]
    chunks = [lines[k::workers] for k in range(workers)]
    with ThreadPoolExecutor(workers) as ex:
        parts = list(ex.map(lambda c: _run(sub, c, models), chunks))
    out = [None] * len(lines)
    for k, part in enumerate(parts):
        for j, r in enumerate(part):
            out[k + j * workers] = r
    return out
