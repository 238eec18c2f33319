#!/usr/bin/env bash
# Reliability report, one table: the 4-validator fault run (network namespaces, kill -9,
# SIGSTOP, partition, wiped-data restart with block sync, under a CLI load), the seeded
# simulation (invariants after every block; 3 seeds x 3 runs give identical app hashes;
# genesis export/import continues with the same app hashes), every fuzz target for a
# bounded time, and a short load benchmark of a 1-validator localnet. Exit status 1 on a
# divergence, a lost tx, a stall, a crash, a broken invariant or a fuzz finding.
#
#   bash scripts/report.sh                          # seed 1, 100 perturbations (~30 min)
#   bash scripts/report.sh --ci                     # CI-sized: seed 2, 8 perturbations,
#                                                   # 10 s per fuzz target, 2000-tx bench
#   bash scripts/report.sh --seed 5 --perturbations 20 --max-minutes 10 --no-bench
#
# Options: --seed S [1], --perturbations N [100], --max-minutes M (no new perturbation
# after M minutes), --loopback (no network namespaces: no partitions), --no-bench,
# --bench-txs T [5000], --fuzz-seconds S [60] (0 = no fuzzing), --no-sim, --keep, --ci.
# Network namespaces need root and iproute2. Binary:
# $VIRTENGINE_BIN, else <target>/release/virtengine (built by scripts/setup.sh). The full
# node-vs-Cosmos-SDK benchmark is `make bench`; this one is ours only, short.
# Outputs: $FAULTS_OUT [target/faults]/{faults.json,faults.log,bench.json,bench.log}.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
GOBIN_DIR="$(PATH="/usr/local/go/bin:$PATH" go env GOBIN 2>/dev/null || true)"
if [ -z "$GOBIN_DIR" ]; then
  GOBIN_DIR="$(PATH="/usr/local/go/bin:$PATH" go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
fi
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$GOBIN_DIR:$PATH"

SEED=1 N=100 MAX_MIN="" LOOPBACK="" BENCH=1 BENCH_TXS=5000 KEEP="" FUZZ_SECS=60 SIM=1
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) SEED="$2"; shift 2 ;;
    --perturbations) N="$2"; shift 2 ;;
    --max-minutes) MAX_MIN="$2"; shift 2 ;;
    --loopback) LOOPBACK=1; shift ;;
    --no-bench) BENCH=""; shift ;;
    --bench-txs) BENCH_TXS="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --fuzz-seconds) FUZZ_SECS="$2"; shift 2 ;;
    --no-sim) SIM=""; shift ;;
    --ci) SEED=2; N=8; MAX_MIN=3; FUZZ_SECS=10; BENCH_TXS=2000; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "faults.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export VIRTENGINE_BIN="${VIRTENGINE_BIN:-$TARGET_DIR/release/virtengine}"
[ -x "$VIRTENGINE_BIN" ] || { echo "faults.sh: $VIRTENGINE_BIN not found: run scripts/setup.sh" >&2; exit 1; }
OUT="${FAULTS_OUT:-$TARGET_DIR/faults}"
mkdir -p "$OUT"

echo "==> building the fault runner (cargo build --release -p ve-e2e --bin faults)"
cargo build --release -q -p ve-e2e --bin faults
args=(--seed "$SEED" --perturbations "$N" --json "$OUT/faults.json")
[ -n "$MAX_MIN" ] && args+=(--max-minutes "$MAX_MIN")
[ -n "$LOOPBACK" ] && args+=(--loopback)
[ -n "$KEEP" ] && args+=(--keep)
echo "==> fault run: $TARGET_DIR/release/faults ${args[*]}"
rm -f "$OUT/faults.json"
set +e
"$TARGET_DIR/release/faults" "${args[@]}" 2>&1 | tee "$OUT/faults.log"
FAULTS_RC=${PIPESTATUS[0]}
set -e

# Simulation: the app-level determinism and invariant tests (mock consensus, no processes).
SIM_RC=0
rm -f "$OUT/sim.log"
if [ -n "$SIM" ]; then
  echo "==> simulation (cargo test -p ve-app --test simulation)"
  set +e
  cargo test -q -p ve-app --test simulation -- --test-threads=2 >"$OUT/sim.log" 2>&1
  SIM_RC=$?
  set -e
  tail -5 "$OUT/sim.log"
fi

# Fuzzing: every target for FUZZ_SECS seconds; a crash fails the report.
FUZZ_RC=0
rm -f "$OUT/fuzz.log"
if [ "$FUZZ_SECS" != 0 ]; then
  echo "==> fuzzing every target for ${FUZZ_SECS}s (fuzz/run.sh)"
  set +e
  FUZZ_REQUIRED=1 bash fuzz/run.sh "$FUZZ_SECS" 2>&1 | tee "$OUT/fuzz.log"
  FUZZ_RC=${PIPESTATUS[0]}
  set -e
fi

rm -f "$OUT/bench.json"
if [ -n "$BENCH" ]; then
  BHOME="$(mktemp -d /tmp/ve-faults-bench-XXXXXX)"
  OFFSET=12000
  cleanup() { "$VIRTENGINE_BIN" localnet stop --home "$BHOME/ln" >/dev/null 2>&1 || true; rm -rf "$BHOME"; }
  trap cleanup EXIT
  echo "==> load benchmark: 1-validator localnet (port offset $OFFSET), $BENCH_TXS pre-signed bank sends"
  "$VIRTENGINE_BIN" localnet start --detach --home "$BHOME/ln" --port-offset "$OFFSET" >"$OUT/bench.log" 2>&1
  "$VIRTENGINE_BIN" bench load --node "http://127.0.0.1:$((26657 + OFFSET))" --accounts "$BHOME/ln/accounts.json" \
      --txs "$BENCH_TXS" --extra-accounts 45 --gas-price 0.025 --output json 2>>"$OUT/bench.log" | tee -a "$OUT/bench.log" | tail -1 >"$OUT/bench.json" || true
  cleanup; trap - EXIT
fi

python3 - "$OUT/faults.json" "$OUT/bench.json" "$OUT/sim.log" "$SIM_RC" "$OUT/fuzz.log" "$FUZZ_RC" <<'PY'
import json, re, sys
def load(p):
    try:
        with open(p) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except Exception:
        return None
f, b = load(sys.argv[1]), load(sys.argv[2])
rows = []
if f:
    kinds = ", ".join(f"{k} {v}" for k, v in f["by_kind"].items())
    rows += [
        ("fault run", f"seed {f['seed']}, {f['network']}"),
        ("perturbations survived", f"{f['survived']} of {f['run']} run ({f['planned']} planned): {kinds}"),
        ("final heights", ", ".join(f"n{i} {h}" for i, h in enumerate(f["final_heights"]))),
        ("heights compared on every node", f"1..={f['common_height']} ({f['node_heights_read']} node-heights read)"),
        ("divergences", str(f["divergences"])),
        ("committed txs (CLI) / lost", f"{f['committed_txs']} / {f['lost_txs']}"),
        ("max recovery after heal", f"{f['max_recovery_s']:.1f} s"),
        ("failures", str(len(f["failures"]))),
        ("fault run time", f"{f['elapsed_s']} s"),
        ("fault run result", "PASS" if f["pass"] else "FAIL"),
    ]
else:
    rows.append(("fault run", "no result (see faults.log)"))
sim_log, sim_rc, fuzz_log, fuzz_rc = sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
try:
    text = open(sim_log).read()
    m = re.findall(r"test result: (\w+)\. (\d+) passed; (\d+) failed", text)
    if m:
        res, passed, failed = m[-1]
        rows.append(("simulation (3 seeds x 3 runs, export/import)",
                     f"{'PASS' if sim_rc == '0' else 'FAIL'}: {passed} tests passed, {failed} failed "
                     "(invariants every block, identical app hashes)"))
    else:
        rows.append(("simulation", f"FAIL (exit {sim_rc}, see sim.log)"))
except OSError:
    pass
try:
    lines = open(fuzz_log).read().splitlines()
    if "== summary" in "\n".join(lines):
        start = max(i for i, l in enumerate(lines) if l.startswith("== summary"))
        for l in lines[start + 1:]:
            parts = l.split()
            if parts:
                rows.append((f"fuzz {parts[0]}", " ".join(parts[1:])))
    else:
        rows.append(("fuzzing", f"{'FAIL' if fuzz_rc != '0' else 'no summary'} (see fuzz.log)"))
except OSError:
    pass
if b:
    tps = b.get("committed_tps", b.get("tps"))
    p50 = b.get("p50_ms", b.get("latency_p50_ms"))
    p95 = b.get("p95_ms", b.get("latency_p95_ms"))
    fmt = lambda x: f"{x:.0f}" if isinstance(x, (int, float)) else str(x)
    rows += [("load benchmark (1 validator)",
              f"{fmt(tps)} committed tx/s, p50 {fmt(p50)} ms, p95 {fmt(p95)} ms "
              f"({b.get('committed', '?')}/{b.get('txs', '?')} txs committed in {b.get('blocks', '?')} block(s))")]
w = max(len(k) for k, _ in rows)
print()
print("+-" + "-" * w + "-+-" + "-" * 70)
for k, v in rows:
    print(f"| {k:<{w}} | {v}")
print("+-" + "-" * w + "-+-" + "-" * 70)
PY
[ "$FAULTS_RC" = 0 ] && [ "$SIM_RC" = 0 ] && [ "$FUZZ_RC" = 0 ]
