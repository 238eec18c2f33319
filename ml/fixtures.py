"""Build the Rust test fixtures in crates/scoring/testdata/ from the held-out split.

genuine_doc.jpg / genuine_selfie.jpg     test_0050 (astronaut, genuine)
other_person_selfie.jpg                  test_0011 selfie (grace_hopper: a different real person)
screen_replay_selfie.jpg                 genuine_selfie re-captured from a "screen" (dataset.screen_replay, seed 3)
print_attack_selfie.jpg                  genuine_selfie as a "printed photo" (dataset.print_attack, seed 6)
tampered_doc.jpg / tampered_selfie.jpg   first tampered_number sample of the split
claims.json                              the claimed name / date of birth for each case
"""
import json
import os
import shutil
import sys

import numpy as np
from PIL import Image

import dataset

data, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
jobs = {j["id"]: j for j in map(json.loads, open(os.path.join(data, "test.jsonl")))}
g = jobs["test_0050"]
o = jobs["test_0011"]
t = next(j for j in jobs.values() if j["truth"]["category"] == "tampered_number")
shutil.copy(g["document"], os.path.join(out, "genuine_doc.jpg"))
shutil.copy(g["selfie"], os.path.join(out, "genuine_selfie.jpg"))
shutil.copy(o["selfie"], os.path.join(out, "other_person_selfie.jpg"))
shutil.copy(t["document"], os.path.join(out, "tampered_doc.jpg"))
shutil.copy(t["selfie"], os.path.join(out, "tampered_selfie.jpg"))
selfie = Image.open(g["selfie"]).convert("RGB")
dataset.screen_replay(selfie, np.random.default_rng(3)).save(os.path.join(out, "screen_replay_selfie.jpg"), quality=92)
dataset.print_attack(selfie, np.random.default_rng(6)).save(os.path.join(out, "print_attack_selfie.jpg"), quality=92)
claims = {"genuine": {k: g[k] for k in ("claimed_name", "claimed_date_of_birth", "reference_date")},
          "tampered": {k: t[k] for k in ("claimed_name", "claimed_date_of_birth", "reference_date")},
          "tampered_printed": t["truth"]["printed"], "genuine_printed": g["truth"]["printed"]}
with open(os.path.join(out, "claims.json"), "w") as f:
    json.dump(claims, f, indent=2, sort_keys=True)
    f.write("\n")
print(json.dumps(claims, indent=1))
