#!/usr/bin/env bash
# End-to-end tests on a real localnet (tests/e2e, crate ve-e2e): CLI sends, kill -9 of
# the node under load, restart, and checks that committed txs and app hashes survive.
#
#   bash tests/run-e2e.sh [extra args for the test harness, e.g. a test name]
#
# Needs the release binary (scripts/setup.sh builds it) and cometbft (setup installs it
# into the Go bin dir). Binary: $VIRTENGINE_BIN, else <target>/release/virtengine. The
# tests use their own temporary homes and ports (offsets 3000-5900), so a running
# developer localnet is left alone. Builds only the test crate (in release, sharing the
# target dir of the setup build).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

GOBIN_DIR="$(PATH="/usr/local/go/bin:$PATH" go env GOBIN 2>/dev/null || true)"
if [ -z "$GOBIN_DIR" ]; then
  GOBIN_DIR="$(PATH="/usr/local/go/bin:$PATH" go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
fi
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$GOBIN_DIR:$PATH"

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export VIRTENGINE_BIN="${VIRTENGINE_BIN:-$TARGET_DIR/release/virtengine}"
if [ ! -x "$VIRTENGINE_BIN" ]; then
  echo "run-e2e.sh: $VIRTENGINE_BIN not found: run \`bash scripts/setup.sh\` (or \`cargo build --release -p virtengine\`) first, or set VIRTENGINE_BIN" >&2
  exit 1
fi
COMETBFT="${COMETBFT_BIN:-$(command -v cometbft || true)}"
if [ -z "$COMETBFT" ]; then
  echo "run-e2e.sh: cometbft not found on PATH ($GOBIN_DIR included): run \`bash scripts/setup.sh\`" >&2
  exit 1
fi
echo "==> end-to-end tests"
echo "    virtengine: $VIRTENGINE_BIN ($("$VIRTENGINE_BIN" --version 2>/dev/null || echo '?'), built $(date -r "$VIRTENGINE_BIN" '+%F %T'))"
echo "    cometbft:   $COMETBFT ($("$COMETBFT" version 2>/dev/null || echo '?'))"
start=$SECONDS
cargo test -p ve-e2e --release -- --test-threads=1 --nocapture "$@"
echo "==> end-to-end tests passed in $((SECONDS - start)) s"
