#!/usr/bin/env bash
# Run the CosmJS interoperability test (send.test.mjs) against a running chain.
#
#   tests/cosmjs/run.sh [--rpc URL] [--accounts FILE] [--chain-id ID] [--denom D] [--prefix P]
#
# Same settings may come from env: RPC ACCOUNTS CHAIN_ID DENOM PREFIX.
# Defaults target VirtEngine's localnet: RPC http://127.0.0.1:26657, DENOM uve, PREFIX ve,
# ACCOUNTS = first of $LOCALNET_HOME/accounts.json, ./.localnet/accounts.json, ~/.virtengine-localnet/accounts.json.
#
# If nothing answers at RPC and no --no-start is given, the script starts its own
# `virtengine localnet start --home <tmp>` (binary: $VIRTENGINE_BIN, default
# target/release/virtengine, or $CARGO_TARGET_DIR/release/virtengine), runs the test, and stops it.
#
# Against the Cosmos SDK baseline (bench/baseline-localnet.sh):
#   tests/cosmjs/run.sh --rpc http://127.0.0.1:36657 --accounts /tmp/baseline/accounts.json \
#       --chain-id baseline-1 --denom stake --prefix cosmos
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
START=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rpc) RPC="$2"; shift 2 ;;
    --accounts) ACCOUNTS="$2"; shift 2 ;;
    --chain-id) CHAIN_ID="$2"; shift 2 ;;
    --denom) DENOM="$2"; shift 2 ;;
    --prefix) PREFIX="$2"; shift 2 ;;
    --no-start) START=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
export RPC="${RPC:-http://127.0.0.1:26657}" DENOM="${DENOM:-uve}" PREFIX="${PREFIX:-ve}" CHAIN_ID="${CHAIN_ID:-}"

command -v node >/dev/null || { echo "run.sh: node not found (Node >= 20 needed; run scripts/setup.sh)" >&2; exit 1; }
command -v curl >/dev/null || { echo "run.sh: curl not found (run scripts/setup.sh)" >&2; exit 1; }

# Node deps (normally installed by scripts/setup.sh).
if [ ! -d "$HERE/node_modules/@cosmjs/stargate" ]; then
  echo "==> installing CosmJS test deps (npm ci)"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi

rpc_up() { curl -fsS --max-time 2 "$RPC/status" >/dev/null 2>&1; }

LOCALNET_PID=""
TMP_HOME=""
cleanup() {
  [ -n "$TMP_HOME" ] && [ -f "$TMP_HOME/localnet.json" ] && "$BIN" localnet stop --home "$TMP_HOME" >/dev/null 2>&1
  if [ -n "$LOCALNET_PID" ] && kill -0 "$LOCALNET_PID" 2>/dev/null; then
    echo "==> stopping test localnet (pid $LOCALNET_PID)"
    kill -TERM "$LOCALNET_PID" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$LOCALNET_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$LOCALNET_PID" 2>/dev/null || true
  fi
  [ -n "${TMP_DIR:-}" ] && rm -rf "$TMP_DIR"
  return 0
}
trap cleanup EXIT

if ! rpc_up; then
  if [ "$START" = 0 ]; then echo "run.sh: no chain answers at $RPC/status" >&2; exit 1; fi
  BIN="${VIRTENGINE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/virtengine}"
  [ -x "$BIN" ] || { echo "run.sh: no chain at $RPC and no virtengine binary at $BIN (run scripts/setup.sh)" >&2; exit 1; }
  TMP_DIR="$(mktemp -d /tmp/ve-cosmjs.XXXXXX)"
  # The localnet refuses to wipe a non-empty folder that is not a localnet home, so its home
  # is a fresh subfolder and the log sits beside it.
  TMP_HOME="$TMP_DIR/localnet"
  LOG="$TMP_DIR/localnet.log"
  echo "==> no chain at $RPC: starting '$BIN localnet start --home $TMP_HOME' (log: $LOG)"
  "$BIN" localnet start --home "$TMP_HOME" >"$LOG" 2>&1 </dev/null &
  LOCALNET_PID=$!
  for _ in $(seq 1 120); do
    if rpc_up && [ -s "$TMP_HOME/accounts.json" ]; then break; fi
    kill -0 "$LOCALNET_PID" 2>/dev/null || { echo "run.sh: localnet exited early; log:" >&2; tail -40 "$LOG" >&2; exit 1; }
    sleep 1
  done
  rpc_up || { echo "run.sh: localnet RPC did not come up in 120 s; log:" >&2; tail -40 "$LOG" >&2; exit 1; }
  ACCOUNTS="${ACCOUNTS:-$TMP_HOME/accounts.json}"
  CHAIN_ID="${CHAIN_ID:-virtengine-localnet-1}"
fi

if [ -z "${ACCOUNTS:-}" ]; then
  for f in "${LOCALNET_HOME:+$LOCALNET_HOME/accounts.json}" "$ROOT/.localnet/accounts.json" "$HOME/.virtengine-localnet/accounts.json"; do
    [ -n "$f" ] && [ -f "$f" ] && { ACCOUNTS="$f"; break; }
  done
fi
[ -n "${ACCOUNTS:-}" ] && [ -f "$ACCOUNTS" ] || { echo "run.sh: accounts.json not found; pass --accounts FILE" >&2; exit 1; }
export ACCOUNTS CHAIN_ID

# Wait for two committed blocks: the first query needs state, and CosmJS's status decoder
# refuses an empty latest_app_hash, which block 1's header carries (our InitChain reports
# an empty genesis app hash; the first non-empty one is in block 2's header).
for _ in $(seq 1 60); do
  h="$(curl -fsS --max-time 2 "$RPC/status" | sed -n 's/.*"latest_block_height": *"\([0-9]*\)".*/\1/p')"
  [ "${h:-0}" -ge 2 ] && break
  sleep 1
done

echo "==> CosmJS test: RPC=$RPC ACCOUNTS=$ACCOUNTS CHAIN_ID=${CHAIN_ID:-<any>} DENOM=$DENOM PREFIX=$PREFIX"
cd "$HERE"
node --test --test-reporter=spec send.test.mjs
