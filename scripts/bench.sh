#!/usr/bin/env bash
# Runs Upshot's benchmarks and prints their figures; exits non-zero if one fails to run.
#
#   scripts/bench.sh [BENCHMARK] [OPTIONS]      release builds, full size (minutes; the figures)
#   scripts/bench.sh --quick [BENCHMARK]        debug builds, a few small files, one round
#                                               (seconds; what scripts/test.sh runs)
#
# BENCHMARK is throughput, memory, enqueue, simulate, preflight or watch (default: all);
# `scripts/bench.sh help` lists them and their options. Full runs use release builds: figures
# from debug builds would say nothing about what users run. The quick form only shows that every
# benchmark still runs and every upload in it succeeds; its figures are not asserted.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
for arg in "$@"; do
    if [ "$arg" = "--quick" ]; then
        profile=debug
    fi
done
if [ "$profile" = "release" ]; then
    cargo build --release --locked -p upshot-cli -p fake-imgur -p upshot-bench
else
    cargo build --locked -p upshot-cli -p fake-imgur -p upshot-bench
fi
# Run as a child of this shell, not `exec`: an exec'd process keeps the shell's children's
# rusage, cargo's included. The benchmarks measure each process they start on its own anyway
# (crates/upshot-bench/src/child.rs).
"${CARGO_TARGET_DIR:-target}/$profile/upshot-bench" "$@"
