#!/usr/bin/env bash
# Interoperability with libsodium: PyNaCl reproduces docs/envelope.md's vectors and
# exchanges envelopes with the virtengine CLI in both directions.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
python3 -c "import nacl" 2>/dev/null || python3 -m pip install --quiet pynacl
# The binary under test: $VIRTENGINE_BIN, else the release build that scripts/setup.sh
# makes, else a debug build made here.
target="${CARGO_TARGET_DIR:-$root/target}"
bin="${VIRTENGINE_BIN:-$target/release/virtengine}"
if [ ! -x "$bin" ]; then
  cargo build --quiet -p virtengine --manifest-path "$root/Cargo.toml"
  bin="$target/debug/virtengine"
fi
bin="$(realpath "$bin")"
echo "==> libsodium interop (PyNaCl) against $bin"
python3 "$root/tests/envelope_libsodium/check.py" "$root/docs/envelope.md" "$bin"
