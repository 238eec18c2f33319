#!/usr/bin/env bash
# Install the Cosmos SDK baseline node used by the load benchmark.
#
# What it is: a stock Cosmos SDK v0.50.15 application ("simd" reduced to auth, bank,
# staking, genutil, consensus + the SDK ante handler, tx service and REST/gRPC), built
# from the released SDK modules in bench/simd/ (see bench/README.md for why not
# `go install cosmossdk.io/simapp/simd`: the module proxy reachable here refuses it).
#
# Installs into $BASELINE_BIN (default: $(go env GOPATH)/bin/simd) and prints that path
# on the last line of stdout. Idempotent: skips the build when the sources are unchanged.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "install-baseline.sh: go not found (need Go >= 1.22)" >&2; exit 1; }

GOBIN_DIR="$(go env GOBIN)"; [ -n "$GOBIN_DIR" ] || GOBIN_DIR="$(go env GOPATH)/bin"
BASELINE_BIN="${BASELINE_BIN:-$GOBIN_DIR/simd}"
STAMP="$BASELINE_BIN.source-sha256"

want="$(cd "$HERE/simd" && cat go.mod go.sum *.go | sha256sum | cut -d' ' -f1)"
if [ -x "$BASELINE_BIN" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  echo "==> baseline simd (Cosmos SDK v0.50.15) present: $BASELINE_BIN" >&2
else
  echo "==> building baseline simd (Cosmos SDK v0.50.15, bench/simd; ~3 min cold on 2 cores)" >&2
  mkdir -p "$(dirname "$BASELINE_BIN")"
  (cd "$HERE/simd" && GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -trimpath -o "$BASELINE_BIN.tmp" .) \
    || { echo "install-baseline.sh: go build of bench/simd failed" >&2; exit 1; }
  mv -f "$BASELINE_BIN.tmp" "$BASELINE_BIN"
  echo "$want" > "$STAMP"
fi
echo "$BASELINE_BIN"
