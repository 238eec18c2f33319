#!/usr/bin/env bash
# Reliability report: the 4-validator fault run (network namespaces, kill -9, SIGSTOP,
# partition, wiped-data restart with block sync, under a CLI load) and a short load
# benchmark of a 1-validator localnet, printed as one table. Exit status 1 if the fault
# run finds a divergence, a lost tx, a stall or a crash.
#
#   bash scripts/faults.sh                          # seed 1, 100 perturbations (~30 min)
#   bash scripts/faults.sh --perturbations 8        # CI-sized (~1.5 min + benchmark)
#   bash scripts/faults.sh --seed 5 --perturbations 20 --max-minutes 10 --no-bench
#
# Options: --seed S [1], --perturbations N [100], --max-minutes M (no new perturbation
# after M minutes), --loopback (no network namespaces: no partitions), --no-bench,
# --bench-txs T [5000], --keep. Network namespaces need root and iproute2. Binary:
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

SEED=1 N=100 MAX_MIN="" LOOPBACK="" BENCH=1 BENCH_TXS=5000 KEEP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) SEED="$2"; shift 2 ;;
    --perturbations) N="$2"; shift 2 ;;
    --max-minutes) MAX_MIN="$2"; shift 2 ;;
    --loopback) LOOPBACK=1; shift ;;
    --no-bench) BENCH=""; shift ;;
    --bench-txs) BENCH_TXS="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

python3 - "$OUT/faults.json" "$OUT/bench.json" <<'PY'
import json, sys
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
exit "$FAULTS_RC"
