#!/usr/bin/env bash
# Fuzzes the login callback parser for a bounded time (default 60 s; FUZZ_SECONDS changes it).
# cargo-fuzz is installed when missing. Runs on the stable toolchain without a sanitizer
# (libFuzzer's coverage guidance still applies); a crash or panic fails the run and leaves the
# input in fuzz/artifacts/callback/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
seconds="${FUZZ_SECONDS:-60}"
# New inputs go to a scratch corpus; the committed seeds stay as they are.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cargo fuzz run callback --sanitizer none "$scratch" corpus/callback -- \
    -max_total_time="$seconds" -print_final_stats=1
