#!/usr/bin/env bash
# One-step setup for VirtEngine on a fresh Debian 12 machine (and a fast no-op when done).
#   - CometBFT (pinned below) via `go install` into $(go env GOPATH)/bin
#   - Debian packages the scripts and tests need
#   - Node deps of tests/cosmjs
#   - cargo build --release -p virtengine  (-> ${CARGO_TARGET_DIR:-target}/release/virtengine)
#   - the pinned nightly toolchain and cargo-fuzz for fuzz/run.sh
# Env: SKIP_CARGO_BUILD=1 skips the Rust build; SKIP_NPM=1 skips Node deps;
#      SKIP_FUZZ_TOOLS=1 skips the fuzzing toolchain.
set -euo pipefail

COMETBFT_VERSION="v0.38.21"
# Fuzzing (fuzz/run.sh, a CI step) needs a nightly toolchain and cargo-fuzz; both pinned.
FUZZ_TOOLCHAIN="nightly-2026-10-30"
CARGO_FUZZ_VERSION="0.13.2"
COMETBFT_PKG="github.com/cometbft/cometbft/cmd/cometbft"
APT_PACKAGES=(iproute2 jq curl procps psmisc tesseract-ocr tesseract-ocr-eng)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { echo "==> $*"; }
die() { echo "setup.sh: error: $*" >&2; exit 1; }

# Toolchains live outside the default PATH of non-login shells.
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$PATH"

# --- toolchains present? --------------------------------------------------------------
command -v go >/dev/null    || die "go not found (need Go >= 1.22 at /usr/local/go/bin or on PATH)"
command -v cargo >/dev/null || die "cargo not found (install Rust with rustup; expected ~/.cargo/bin)"
command -v npm >/dev/null   || die "npm not found (need Node >= 20 and npm)"
command -v node >/dev/null  || die "node not found (need Node >= 20)"

GOBIN_DIR="$(go env GOBIN)"; [ -n "$GOBIN_DIR" ] || GOBIN_DIR="$(go env GOPATH)/bin"
export PATH="$GOBIN_DIR:$PATH"

# --- Debian packages --------------------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  say "installing Debian packages: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "Debian packages present (${APT_PACKAGES[*]})"
fi

# --- single-node SLURM cluster (controller + compute + slurmdbd accounting) for the HPC tests ---
bash "$ROOT/scripts/slurm.sh" setup start || die "SLURM setup failed (see above; logs in /var/log/slurm)"
bash "$ROOT/scripts/build-images.sh" || die "building the process back end's local images failed (crates/backend, docs/backend.md)"

# --- CometBFT ---------------------------------------------------------------------------
# Check the module version the binary was built from: `cometbft version` is not reliable
# (v0.38.21 still reports "0.38.19" because upstream did not bump its version constant).
cometbft_module_version() {
  [ -x "$GOBIN_DIR/cometbft" ] || return 0
  go version -m "$GOBIN_DIR/cometbft" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/cometbft/cometbft" { print $3 }'
}
if [ "$(cometbft_module_version)" = "$COMETBFT_VERSION" ]; then
  say "cometbft $COMETBFT_VERSION present ($GOBIN_DIR/cometbft)"
else
  say "installing cometbft $COMETBFT_VERSION (go install, ~1 min)"
  go install "$COMETBFT_PKG@$COMETBFT_VERSION" \
    || die "go install $COMETBFT_PKG@$COMETBFT_VERSION failed (the node depends on it)"
  got="$(cometbft_module_version)"
  [ "$got" = "$COMETBFT_VERSION" ] || die "$GOBIN_DIR/cometbft was built from cometbft ${got:-?}, expected $COMETBFT_VERSION"
fi

# --- Node deps for tests/cosmjs --------------------------------------------------------
COSMJS="$ROOT/tests/cosmjs"
if [ "${SKIP_NPM:-0}" != 1 ] && [ -f "$COSMJS/package.json" ]; then
  lock="$COSMJS/package-lock.json"
  stamp="$COSMJS/node_modules/.setup-stamp"
  want="$( (cat "$COSMJS/package.json"; [ -f "$lock" ] && cat "$lock") | sha256sum | cut -d' ' -f1)"
  if [ -d "$COSMJS/node_modules" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "tests/cosmjs node_modules up to date"
  else
    if [ -f "$lock" ]; then
      say "installing tests/cosmjs deps (npm ci)"
      (cd "$COSMJS" && npm ci --no-audit --no-fund --loglevel=error)
    else
      say "installing tests/cosmjs deps (npm install)"
      (cd "$COSMJS" && npm install --no-audit --no-fund --loglevel=error)
      want="$( (cat "$COSMJS/package.json"; cat "$lock") | sha256sum | cut -d' ' -f1)"
    fi
    echo "$want" > "$stamp"
  fi
fi

# --- Python deps for the libsodium interop test (PyNaCl binds libsodium) ----------------
if python3 -c "import nacl" 2>/dev/null; then
  say "pynacl present"
else
  say "installing pynacl (pip)"
  python3 -m pip install --quiet --disable-pip-version-check pynacl || die "pip install pynacl failed"
fi

# --- Fuzzing toolchain ------------------------------------------------------------------
if [ "${SKIP_FUZZ_TOOLS:-0}" != 1 ]; then
  if rustup run "$FUZZ_TOOLCHAIN" rustc --version >/dev/null 2>&1; then
    say "rust $FUZZ_TOOLCHAIN present (fuzzing)"
  else
    say "installing rust $FUZZ_TOOLCHAIN for fuzzing (rustup, ~1 min)"
    rustup toolchain install "$FUZZ_TOOLCHAIN" --profile minimal \
      || die "rustup toolchain install $FUZZ_TOOLCHAIN failed (fuzz/run.sh needs it)"
  fi
  if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" = "$CARGO_FUZZ_VERSION" ]; then
    say "cargo-fuzz $CARGO_FUZZ_VERSION present"
  else
    say "installing cargo-fuzz $CARGO_FUZZ_VERSION (cargo install, ~2 min)"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked \
      || die "cargo install cargo-fuzz failed (fuzz/run.sh needs it)"
  fi
fi

# --- Python SMTP server for the email-OTP tests (a real SMTP server, aiosmtpd) ---------
if python3 -c "import aiosmtpd" 2>/dev/null; then
  say "aiosmtpd present"
else
  say "installing aiosmtpd (pip)"
  python3 -m pip install --quiet --disable-pip-version-check "aiosmtpd==1.4.6" || die "pip install aiosmtpd failed"
fi

bash "$ROOT/ml/fetch_face_embedding.sh" || die "ml/fetch_face_embedding.sh failed (the VEID scorer needs crates/scoring/models/face_embedding.onnx)"
# --- Rust build -------------------------------------------------------------------------
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
if [ "${SKIP_CARGO_BUILD:-0}" != 1 ]; then
  say "building virtengine (cargo build --release -p virtengine)"
  (cd "$ROOT" && cargo build --release -p virtengine) || die "cargo build --release -p virtengine failed"
  [ -x "$TARGET_DIR/release/virtengine" ] || die "cargo build did not produce $TARGET_DIR/release/virtengine"
  say "built $TARGET_DIR/release/virtengine"
fi

say "setup done. For your shell: export PATH=\"$GOBIN_DIR:\$HOME/.cargo/bin:\$PATH\""
