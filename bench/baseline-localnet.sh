#!/usr/bin/env bash
# Single-validator Cosmos SDK baseline chain for the load benchmark and the CosmJS test.
#
#   bench/baseline-localnet.sh start    init a fresh chain in $BASELINE_HOME and start it in the background
#   bench/baseline-localnet.sh stop     stop the node started from $BASELINE_HOME
#   bench/baseline-localnet.sh status   print height if running
#
# Env (defaults in brackets):
#   BASELINE_HOME   chain home [a new mktemp dir under /tmp]; wiped and re-initialised by `start`
#   BASELINE_BIN    node binary [installed by bench/install-baseline.sh]
#   CHAIN_ID [baseline-1]  DENOM [stake]  N_ACCOUNTS [20]  ACCOUNT_COINS [1000000000000]
#   PORT_BASE [36000]: RPC +657 (36657), P2P +656, REST +317, gRPC +90, Prometheus +660; or RPC_PORT etc. directly
#   block/mempool settings: bench/chain-settings.env (TIMEOUT_COMMIT, MEMPOOL_SIZE, MEMPOOL_MAX_TXS_BYTES, ...)
#
# Writes <home>/accounts.json as [{"name","address","mnemonic"}] (names alice bob charlie provider
# operator, then load5, load6, ...; bech32 prefix cosmos, coin type 118, HD path m/44'/118'/0'/0/0),
# <home>/endpoints.env (RPC, REST, GRPC, CHAIN_ID, DENOM, PREFIX, HOME), <home>/node.log, <home>/node.pid.
# The last line printed by `start` is the CometBFT RPC URL.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=chain-settings.env
. "$HERE/chain-settings.env"

CHAIN_ID="${CHAIN_ID:-baseline-1}"
DENOM="${DENOM:-stake}"
N_ACCOUNTS="${N_ACCOUNTS:-20}"
ACCOUNT_COINS="${ACCOUNT_COINS:-1000000000000}"
VALIDATOR_COINS="${VALIDATOR_COINS:-1000000000000}"
SELF_DELEGATION="${SELF_DELEGATION:-100000000000}"
PORT_BASE="${PORT_BASE:-36000}"
RPC_PORT="${RPC_PORT:-$((PORT_BASE + 657))}"     # 36657
P2P_PORT="${P2P_PORT:-$((PORT_BASE + 656))}"     # 36656
REST_PORT="${REST_PORT:-$((PORT_BASE + 317))}"   # 36317
GRPC_PORT="${GRPC_PORT:-$((PORT_BASE + 90))}"    # 36090
PROM_PORT="${PROM_PORT:-$((PORT_BASE + 660))}"   # 36660
NAMES=(alice bob charlie provider operator)

say() { echo "==> $*" >&2; }
die() { echo "baseline-localnet.sh: error: $*" >&2; exit 1; }
command -v jq >/dev/null || die "jq not found (run scripts/setup.sh)"
command -v curl >/dev/null || die "curl not found (run scripts/setup.sh)"

cmd="${1:-start}"
if [ "$cmd" != start ] && [ -z "${BASELINE_HOME:-}" ]; then die "set BASELINE_HOME for '$cmd'"; fi

stop_node() {
  local pidf="$BASELINE_HOME/node.pid"
  [ -f "$pidf" ] || { say "no node.pid in $BASELINE_HOME"; return 0; }
  local pid; pid="$(cat "$pidf")"
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping baseline node (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidf"
}

case "$cmd" in
  stop) stop_node; exit 0 ;;
  status)
    # shellcheck disable=SC1091
    . "$BASELINE_HOME/endpoints.env"
    curl -fsS --max-time 2 "$RPC/status" | jq -r '.result.sync_info | "height \(.latest_block_height) at \(.latest_block_time)"'
    exit 0 ;;
  start) ;;
  *) die "usage: $0 start|stop|status" ;;
esac

[ "$N_ACCOUNTS" -ge 2 ] || die "N_ACCOUNTS must be >= 2 (alice and bob)"
BASELINE_BIN="${BASELINE_BIN:-$(bash "$HERE/install-baseline.sh" | tail -1)}"
[ -x "$BASELINE_BIN" ] || die "baseline binary $BASELINE_BIN missing"
BASELINE_HOME="${BASELINE_HOME:-$(mktemp -d /tmp/ve-baseline.XXXXXX)}"
if [ -f "$BASELINE_HOME/node.pid" ]; then stop_node; fi
if curl -fsS --max-time 1 "http://127.0.0.1:$RPC_PORT/status" >/dev/null 2>&1; then
  die "something already answers on RPC port $RPC_PORT (set PORT_BASE or stop it)"
fi
rm -rf "$BASELINE_HOME"; mkdir -p "$BASELINE_HOME"
H="$BASELINE_HOME"
S() { "$BASELINE_BIN" --home "$H" "$@"; }
KR=(--keyring-backend test)

say "init $CHAIN_ID in $H ($("$BASELINE_BIN" version 2>/dev/null || true) $BASELINE_BIN)"
S init baseline-validator --chain-id "$CHAIN_ID" --default-denom "$DENOM" >/dev/null 2>&1

say "creating $N_ACCOUNTS funded accounts"
accounts="[]"
bulk="[]"
for i in $(seq 0 $((N_ACCOUNTS - 1))); do
  if [ "$i" -lt ${#NAMES[@]} ]; then name="${NAMES[$i]}"; else name="load$i"; fi
  k="$(S keys add "$name" "${KR[@]}" --output json 2>&1 | grep '^{')"
  accounts="$(jq -c --argjson k "$k" '. + [{name: $k.name, address: $k.address, mnemonic: $k.mnemonic}]' <<<"$accounts")"
  bulk="$(jq -c --arg a "$(jq -r .address <<<"$k")" --arg d "$DENOM" --arg n "$ACCOUNT_COINS" \
    '. + [{address: $a, coins: [{denom: $d, amount: $n}]}]' <<<"$bulk")"
done
jq . <<<"$accounts" > "$H/accounts.json"
jq . <<<"$bulk" > "$H/genesis-accounts.json"
S genesis bulk-add-genesis-account "$H/genesis-accounts.json" >/dev/null

say "validator gentx"
S keys add validator "${KR[@]}" --output json >/dev/null 2>&1
S genesis add-genesis-account validator "$VALIDATOR_COINS$DENOM" "${KR[@]}" >/dev/null
S genesis gentx validator "$SELF_DELEGATION$DENOM" --chain-id "$CHAIN_ID" "${KR[@]}" >/dev/null 2>&1
S genesis collect-gentxs >/dev/null 2>&1

# Consensus params in genesis (SDK v0.50 genesis layout: .consensus.params).
tmp="$(mktemp)"
jq --arg mb "$BLOCK_MAX_BYTES" --arg mg "$BLOCK_MAX_GAS" \
  '.consensus.params.block.max_bytes = $mb | .consensus.params.block.max_gas = $mg' "$H/config/genesis.json" > "$tmp"
mv "$tmp" "$H/config/genesis.json"
S genesis validate >/dev/null 2>&1 || S genesis validate

# config.toml: set `key = value` inside [section].
toml_set() { # file section key value(raw toml)
  local f="$1" sec="$2" key="$3" val="$4"
  awk -v sec="[$sec]" -v key="$key" -v val="$val" '
    /^\[.*\]$/ { cur = $0 }
    cur == sec && $1 == key && $2 == "=" && !done { print key " = " val; done = 1; next }
    { print }
    END { if (!done) { exit 3 } }' "$f" > "$f.new" || die "no key $key in [$sec] of $f"
  mv "$f.new" "$f"
}
toml_top() { # top-level key (before the first section)
  local f="$1" key="$2" val="$3"
  awk -v key="$key" -v val="$val" '
    /^\[.*\]$/ { insec = 1 }
    !insec && $1 == key && $2 == "=" && !done { print key " = " val; done = 1; next }
    { print }
    END { if (!done) { exit 3 } }' "$f" > "$f.new" || die "no top-level key $key in $f"
  mv "$f.new" "$f"
}
C="$H/config/config.toml"; A="$H/config/app.toml"
toml_top "$C" moniker '"baseline-validator"'
toml_set "$C" rpc laddr "\"tcp://127.0.0.1:$RPC_PORT\""
toml_set "$C" rpc pprof_laddr '""'
toml_set "$C" p2p laddr "\"tcp://127.0.0.1:$P2P_PORT\""
toml_set "$C" p2p addr_book_strict false
toml_set "$C" p2p pex false
toml_set "$C" consensus timeout_commit "\"$TIMEOUT_COMMIT\""
toml_set "$C" consensus timeout_propose "\"$TIMEOUT_PROPOSE\""
toml_set "$C" mempool size "$MEMPOOL_SIZE"
toml_set "$C" mempool max_txs_bytes "$MEMPOOL_MAX_TXS_BYTES"
toml_set "$C" mempool cache_size "$MEMPOOL_CACHE_SIZE"
toml_set "$C" mempool max_tx_bytes "$MAX_TX_BYTES"
toml_set "$C" instrumentation prometheus_listen_addr "\"127.0.0.1:$PROM_PORT\""
toml_top "$A" minimum-gas-prices "\"$MIN_GAS_PRICE$DENOM\""
toml_set "$A" api enable true
toml_set "$A" api address "\"tcp://127.0.0.1:$REST_PORT\""
toml_set "$A" grpc enable true
toml_set "$A" grpc address "\"127.0.0.1:$GRPC_PORT\""
# client.toml so `simd tx/query --home H` talk to this node.
toml_top "$H/config/client.toml" chain-id "\"$CHAIN_ID\""
toml_top "$H/config/client.toml" keyring-backend '"test"'
toml_top "$H/config/client.toml" node "\"tcp://127.0.0.1:$RPC_PORT\""

RPC="http://127.0.0.1:$RPC_PORT"
cat > "$H/endpoints.env" <<ENV
RPC=$RPC
REST=http://127.0.0.1:$REST_PORT
GRPC=127.0.0.1:$GRPC_PORT
CHAIN_ID=$CHAIN_ID
DENOM=$DENOM
PREFIX=cosmos
BASELINE_HOME=$H
BASELINE_BIN=$BASELINE_BIN
ACCOUNTS=$H/accounts.json
ENV

say "starting node (log: $H/node.log)"
nohup "$BASELINE_BIN" start --home "$H" --log_level "${LOG_LEVEL:-info}" >"$H/node.log" 2>&1 </dev/null &
echo $! > "$H/node.pid"
for _ in $(seq 1 120); do
  h="$(curl -fsS --max-time 1 "$RPC/status" 2>/dev/null | jq -r '.result.sync_info.latest_block_height' 2>/dev/null || echo 0)"
  [ "${h:-0}" -ge 1 ] 2>/dev/null && break
  kill -0 "$(cat "$H/node.pid")" 2>/dev/null || { tail -30 "$H/node.log" >&2; die "node exited during startup"; }
  sleep 0.5
done
[ "${h:-0}" -ge 1 ] 2>/dev/null || { tail -30 "$H/node.log" >&2; die "no block after 60 s"; }
say "baseline up: chain $CHAIN_ID height $h; REST http://127.0.0.1:$REST_PORT gRPC 127.0.0.1:$GRPC_PORT"
say "accounts: $H/accounts.json   endpoints: $H/endpoints.env   stop: BASELINE_HOME=$H $0 stop"
echo "$RPC"
