#!/usr/bin/env bash
# Full-node load benchmark: the same pre-signed bank-send load against
#   (1) the stock Cosmos SDK v0.50.15 baseline (bench/baseline-localnet.sh), then
#   (2) VirtEngine's localnet,
# with the same block/mempool settings (bench/chain-settings.env), one chain at a time
# (2 cores: never both at once). Prints both throughputs/latencies and ours/theirs.
#
#   bench/run.sh            (or: make bench)
#
# Env: LOAD_TXS [20000] total txs per run, N_ACCOUNTS [50] sending accounts,
#      LOAD_EXTRA_ARGS [] extra args for `virtengine bench load`,
#      VIRTENGINE_BIN [${CARGO_TARGET_DIR:-target}/release/virtengine], SKIP_BASELINE=1, SKIP_OURS=1,
#      BENCH_OUT [bench/out] where the JSON results and logs go.
#
# Contract with the load generator (`virtengine bench load`): it is called as
#   virtengine bench load --node RPC_URL --accounts accounts.json --chain-id ID --denom D --prefix P \
#       --gas-price PRICE --txs N [LOAD_EXTRA_ARGS]
# pre-signs N bank sends from the accounts (SIGN_MODE_DIRECT, coin type 118), submits them over
# CometBFT RPC, and prints as its LAST stdout line a JSON object with at least the committed
# tx/s and latency percentiles: {"committed_tps":..,"p50_ms":..,"p95_ms":..} (other names
# accepted below: tps, committed_tx_per_s, latency_p50_ms, latency_p95_ms).
# Contract with the localnet: `virtengine localnet start --home DIR` with the settings passed as
# flags (--timeout-commit --mempool-size --mempool-max-txs-bytes --minimum-gas-prices); if the
# binary refuses those flags, it is started without them and a WARNING says so.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$PATH"
GOBIN_DIR="$(go env GOBIN 2>/dev/null || true)"; [ -n "$GOBIN_DIR" ] || GOBIN_DIR="$(go env GOPATH)/bin"
export PATH="$GOBIN_DIR:$PATH"
# shellcheck source=chain-settings.env
. "$HERE/chain-settings.env"

LOAD_TXS="${LOAD_TXS:-20000}"
export N_ACCOUNTS="${N_ACCOUNTS:-50}"
LOAD_EXTRA_ARGS="${LOAD_EXTRA_ARGS:-}"
VE="${VIRTENGINE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/virtengine}"
OUT="${BENCH_OUT:-$HERE/out}"
mkdir -p "$OUT"
say() { echo "==> $*"; }
die() { echo "bench/run.sh: error: $*" >&2; exit 1; }
[ -x "$VE" ] || die "no virtengine binary at $VE (run: make setup)"
command -v jq >/dev/null || die "jq not found (run: make setup)"

BASE_HOME=""; OURS_PID=""; OURS_HOME=""
cleanup() {
  [ -n "$BASE_HOME" ] && BASELINE_HOME="$BASE_HOME" bash "$HERE/baseline-localnet.sh" stop >/dev/null 2>&1 || true
  [ -n "$OURS_HOME" ] && [ -f "$OURS_HOME/localnet.json" ] && "$VE" localnet stop --home "$OURS_HOME" >/dev/null 2>&1
  if [ -n "$OURS_PID" ] && kill -0 "$OURS_PID" 2>/dev/null; then
    kill -TERM "$OURS_PID" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$OURS_PID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$OURS_PID" 2>/dev/null || true
  fi
  [ -n "$BASE_HOME" ] && rm -rf "$BASE_HOME"
  [ -n "$OURS_HOME" ] && rm -rf "$OURS_HOME"
  return 0
}
trap cleanup EXIT

# run_load NAME RPC ACCOUNTS CHAIN_ID DENOM PREFIX -> writes $OUT/NAME.json
run_load() {
  local name="$1" rpc="$2" acc="$3" cid="$4" denom="$5" prefix="$6"
  say "load on $name: $LOAD_TXS txs from $N_ACCOUNTS accounts -> $rpc"
  # shellcheck disable=SC2086
  "$VE" bench load --node "$rpc" --accounts "$acc" --chain-id "$cid" --denom "$denom" --prefix "$prefix" \
      --gas-price "$MIN_GAS_PRICE" --txs "$LOAD_TXS" $LOAD_EXTRA_ARGS | tee "$OUT/$name.log"
  tail -1 "$OUT/$name.log" | jq -e . > "$OUT/$name.json" || die "load generator's last line on $name is not JSON"
}
field() { # file kind(tps|p50|p95)
  case "$2" in
    tps) jq -r '.committed_tps // .committed_tx_per_s // .tps // empty' "$1" ;;
    p50) jq -r '.p50_ms // .latency_p50_ms // .latency_ms.p50 // empty' "$1" ;;
    p95) jq -r '.p95_ms // .latency_p95_ms // .latency_ms.p95 // empty' "$1" ;;
  esac
}

say "settings: timeout_commit=$TIMEOUT_COMMIT mempool.size=$MEMPOOL_SIZE mempool.max_txs_bytes=$MEMPOOL_MAX_TXS_BYTES block.max_bytes=$BLOCK_MAX_BYTES min_gas_price=$MIN_GAS_PRICE"

# --- (1) baseline ----------------------------------------------------------------------
if [ "${SKIP_BASELINE:-0}" != 1 ]; then
  bash "$HERE/install-baseline.sh" >/dev/null
  BASE_HOME="$(mktemp -d /tmp/ve-bench-baseline.XXXXXX)"
  BASELINE_HOME="$BASE_HOME" LOG_LEVEL=error bash "$HERE/baseline-localnet.sh" start >/dev/null
  # shellcheck disable=SC1091
  . "$BASE_HOME/endpoints.env"
  run_load baseline "$RPC" "$ACCOUNTS" "$CHAIN_ID" "$DENOM" "$PREFIX"
  BASELINE_HOME="$BASE_HOME" bash "$HERE/baseline-localnet.sh" stop >/dev/null
fi

# --- (2) VirtEngine ----------------------------------------------------------------------
if [ "${SKIP_OURS:-0}" != 1 ]; then
  OURS_HOME="$(mktemp -d /tmp/ve-bench-ours.XXXXXX)"
  # mempool.max_txs_bytes is CometBFT's default (1 GiB) on our localnet, as in the settings;
  # the minimum gas price is a chain parameter here (0.025uve), so MIN_GAS_PRICE defaults to it.
  flags=(--timeout-commit "$TIMEOUT_COMMIT" --mempool-size "$MEMPOOL_SIZE" --block-max-bytes "$BLOCK_MAX_BYTES")
  start_ours() {
    "$VE" localnet start --home "$OURS_HOME" "$@" >"$OUT/virtengine-node.log" 2>&1 </dev/null &
    OURS_PID=$!
    for _ in $(seq 1 120); do
      # Ready once block 1 is committed: genesis state becomes queryable with it.
      h="$(curl -fsS --max-time 1 http://127.0.0.1:26657/status 2>/dev/null | jq -r '.result.sync_info.latest_block_height // 0' 2>/dev/null || echo 0)"
      [ "${h:-0}" -ge 2 ] && [ -s "$OURS_HOME/accounts.json" ] && return 0
      kill -0 "$OURS_PID" 2>/dev/null || return 1
      sleep 0.5
    done
    return 1
  }
  if ! start_ours "${flags[@]}"; then
    if kill -0 "$OURS_PID" 2>/dev/null; then tail -20 "$OUT/virtengine-node.log" >&2; die "VirtEngine localnet did not come up"; fi
    echo "WARNING: 'virtengine localnet start' refused the settings flags; starting it without them," \
         "so block/mempool settings may differ from the baseline:" >&2
    tail -3 "$OUT/virtengine-node.log" >&2
    rm -rf "$OURS_HOME"; mkdir -p "$OURS_HOME"
    start_ours || { tail -20 "$OUT/virtengine-node.log" >&2; die "VirtEngine localnet did not come up"; }
  fi
  cfg="$(find "$OURS_HOME" -name config.toml -path '*config*' | head -1)"
  [ -n "$cfg" ] && say "virtengine CometBFT config $cfg: $(grep -E '^(timeout_commit|size|max_txs_bytes) ' "$cfg" | tr '\n' ' ')"
  # The localnet funds 5 accounts; the generator funds the rest so both chains see N_ACCOUNTS senders.
  LOAD_EXTRA_ARGS="$LOAD_EXTRA_ARGS --extra-accounts $((N_ACCOUNTS > 5 ? N_ACCOUNTS - 5 : 0))" \
    run_load virtengine http://127.0.0.1:26657 "$OURS_HOME/accounts.json" virtengine-localnet-1 uve ve
fi

# --- report ------------------------------------------------------------------------------
echo
printf '%-12s %14s %10s %10s\n' chain "committed tx/s" "p50 ms" "p95 ms"
for n in virtengine baseline; do
  [ -f "$OUT/$n.json" ] || continue
  printf '%-12s %14s %10s %10s\n' "$n" "$(field "$OUT/$n.json" tps)" "$(field "$OUT/$n.json" p50)" "$(field "$OUT/$n.json" p95)"
done
if [ -f "$OUT/virtengine.json" ] && [ -f "$OUT/baseline.json" ]; then
  ours="$(field "$OUT/virtengine.json" tps)"; theirs="$(field "$OUT/baseline.json" tps)"
  echo "ratio ours/theirs (committed tx/s, baseline = Cosmos SDK v0.50.15 simd, bench/README.md): $(awk -v a="$ours" -v b="$theirs" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }')"
fi
