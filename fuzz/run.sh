#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 30) and exits non-zero if any
# of them found a crash (panic, abort, timeout or out-of-memory).
#
#   fuzz/run.sh [SECONDS]
#
# Environment:
#   FUZZ_TARGETS    space-separated targets (default: all of `cargo fuzz list`)
#   FUZZ_SANITIZER  none | address | ... (default none: our crates forbid unsafe code
#                   and panics are what we hunt; `address` finds memory errors in
#                   dependencies at about half the speed and needs its own full build)
#   FUZZ_JOBS       cargo build jobs (default: cargo's own choice)
#
#   FUZZ_TOOLCHAIN  rustup toolchain to build with (default: the one scripts/setup.sh pins)
#   FUZZ_REQUIRED   1 = a missing toolchain or cargo-fuzz is a failure (CI), not a skip
#
# Needs the nightly toolchain and cargo-fuzz that scripts/setup.sh installs. Without
# them it prints why fuzzing was skipped and exits 0 (or 1 with FUZZ_REQUIRED=1). Crashing inputs land in
# fuzz/artifacts/<target>/; reproduce one with
#   cargo +nightly-2026-10-30 fuzz run -s none <target> fuzz/artifacts/<target>/<file>
# and keep it as a regression case in crates/app/tests/decode_robustness.rs. (A direct
# run leaves the harness's chain behind as a .tmpXXXXXX directory in $TMPDIR.)
set -u

SECS="${1:-30}"
case "$SECS" in
'' | *[!0-9]*)
    echo "usage: $0 [SECONDS]" >&2
    exit 2
    ;;
esac

cd "$(dirname "$0")" || exit 2

TOOLCHAIN="${FUZZ_TOOLCHAIN:-$(sed -n 's/^FUZZ_TOOLCHAIN="\(.*\)"$/\1/p' ../scripts/setup.sh)}"
skip() {
    if [ "${FUZZ_REQUIRED:-0}" = 1 ]; then
        echo "FUZZING FAILED: $* (run scripts/setup.sh)" >&2
        exit 1
    fi
    echo "FUZZING SKIPPED: $*"
    exit 0
}
command -v cargo >/dev/null 2>&1 || skip "cargo is not installed"
cargo "+$TOOLCHAIN" --version >/dev/null 2>&1 ||
    skip "no $TOOLCHAIN toolchain (install it with: rustup toolchain install $TOOLCHAIN)"
cargo "+$TOOLCHAIN" fuzz --help >/dev/null 2>&1 ||
    skip "cargo-fuzz is not installed (install it with: cargo install cargo-fuzz --locked)"

# The harness's chain lives in a temporary directory that the fuzzer process never
# removes (it is held by a static). Give each run a private TMPDIR and delete it at
# the end; on tmpfs the per-block commit also costs no disk sync (the block target
# runs about 30% faster).
tmp_parent="${TMPDIR:-/tmp}"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then tmp_parent=/dev/shm; fi
RUN_TMP="$(mktemp -d "$tmp_parent/ve-fuzz.XXXXXX")" || exit 2
trap 'rm -rf "$RUN_TMP"' EXIT
export TMPDIR="$RUN_TMP"

SANITIZER="${FUZZ_SANITIZER:-none}"
TARGETS="${FUZZ_TARGETS:-$(cargo "+$TOOLCHAIN" fuzz list)}"
BUILD_ARGS=(-s "$SANITIZER")
if [ -n "${FUZZ_JOBS:-}" ]; then BUILD_ARGS+=(-j "$FUZZ_JOBS"); fi

echo "== building fuzz targets (sanitizer: $SANITIZER)"
if ! cargo "+$TOOLCHAIN" fuzz build "${BUILD_ARGS[@]}"; then
    echo "FUZZ BUILD FAILED" >&2
    exit 1
fi

status=0
summary=""
for t in $TARGETS; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log="artifacts/$t/last-run.log"
    echo "== fuzzing $t for ${SECS}s (log: fuzz/$log)"
    # The targets' init writes a few valid seeds into corpus/$t before libFuzzer reads it.
    cargo "+$TOOLCHAIN" fuzz run "${BUILD_ARGS[@]}" "$t" "corpus/$t" -- \
        -max_total_time="$SECS" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1)
    if [ "$rc" -eq 0 ]; then
        res="ok"
    else
        res="CRASH (exit $rc)"
        status=1
        echo "---- $t: crash; tail of the log:"
        tail -40 "$log"
        ls -1 "artifacts/$t" | grep -v last-run.log | sed "s|^|  artifact: fuzz/artifacts/$t/|"
    fi
    line=$(printf '%-16s %-16s runs=%-10s exec/s=%-8s %s' "$t" "$res" "${runs:-?}" "${eps:-?}" "${cov:-}")
    echo "$line"
    summary="$summary$line"$'\n'
done

echo "== summary (${SECS}s per target)"
printf '%s' "$summary"
exit "$status"
