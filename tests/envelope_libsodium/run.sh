#!/usr/bin/env bash
# Interoperability with libsodium: PyNaCl reproduces docs/envelope.md's vectors and
# exchanges envelopes with the virtengine CLI in both directions.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
python3 -c "import nacl" 2>/dev/null || python3 -m pip install --quiet pynacl
cargo build --quiet -p virtengine --manifest-path "$root/Cargo.toml"
bin="${CARGO_TARGET_DIR:-$root/target}/debug/virtengine"
python3 "$root/tests/envelope_libsodium/check.py" "$root/docs/envelope.md" "$bin"
