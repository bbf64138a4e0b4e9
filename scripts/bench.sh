#!/usr/bin/env bash
# Runs Upshot's benchmarks and prints their figures. Release builds: figures from debug builds
# would say nothing about what users run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p upshot-cli -p fake-imgur -p upshot-bench
exec target/release/upshot-bench "$@"
