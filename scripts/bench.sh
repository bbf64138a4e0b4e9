#!/usr/bin/env bash
# Runs Upshot's benchmarks and prints their figures; exits non-zero if one fails to run.
#
#   scripts/bench.sh [BENCHMARK] [OPTIONS]      release builds, full size (minutes; the figures)
#   scripts/bench.sh --quick [BENCHMARK]        debug builds, a few small files, one round
#                                               (seconds; what scripts/test.sh runs)
#
# BENCHMARK is throughput, memory, enqueue, simulate, preflight, watch or drop (default: all);
# `scripts/bench.sh help` lists them and their options. Full runs use release builds: figures
# from debug builds would say nothing about what users run. The quick form only shows that every
# benchmark still runs and every upload in it succeeds; its figures are not asserted.
#
# `drop` (tests/e2e/bench-drop.sh) drags 200 PNGs onto the release desktop app under Xvfb,
# beside `upshot upload` of the same files; it needs the release desktop build (ui/dist first)
# and what the end-to-end tests need (Xvfb, tauri-driver, WebKitWebDriver, xdotool, xclip).
# BENCH_DROP_FILES and BENCH_DROP_KB change its file count and size. It has no quick form: the
# end-to-end test `drop` (tests/e2e/run.sh) covers the same path on the debug build.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
which=""
for arg in "$@"; do
    if [ "$arg" = "--quick" ]; then
        profile=debug
    elif [ -z "$which" ] && [ "${arg#-}" = "$arg" ]; then
        which="$arg" # the first word that is not an option names the benchmark
    fi
done
target="${CARGO_TARGET_DIR:-target}"

drop_skipped() {
    echo "drop: skipped in --quick (it needs the release desktop build; the end-to-end test \`drop\` covers the same path on the debug build)"
}

# The drop benchmark against the release builds, through the end-to-end runner (which starts
# Xvfb, a session bus, a notification server and a fake Imgur server whose limits are lifted so
# the quota governor holds nothing back).
run_drop() {
    E2E_PROFILE=release E2E_TEST_TIMEOUT="${E2E_TEST_TIMEOUT:-1200}" \
        E2E_FAKE_ARGS="--client-credits 100000000 --user-credits 100000000 --post-limit 100000000" \
        bash tests/e2e/run.sh bench-drop
}

drop_help() {
    echo "drop: 200 PNGs of 200 KB dragged at once onto the release desktop app (a real XDND drag"
    echo "      under Xvfb), beside \`upshot upload\` of the same files; drop-to-clipboard time, the"
    echo "      webview's worst stall, the app's memory (tests/e2e/bench-drop.sh). Options: the"
    echo "      environment variables BENCH_DROP_FILES and BENCH_DROP_KB. No --quick form."
}

if [ "$which" = "help" ] && [[ " $* " == *" drop "* ]]; then
    drop_help
    exit 0
fi
if [ "$which" = "drop" ] && [ "$profile" = "debug" ]; then
    drop_skipped
    exit 0
fi

packages=(-p upshot-cli -p fake-imgur -p upshot-bench)
with_drop=0
if [ "$profile" = "release" ] && { [ -z "$which" ] || [ "$which" = "drop" ]; }; then
    with_drop=1
    # `tauri::generate_context!` embeds ui/dist when upshot-desktop compiles: built when missing
    # or older than a file of the UI's (a fresh ui/dist makes cargo build the app again).
    if [ ! -f ui/dist/index.html ] || [ -n "$(find ui \( -path ui/node_modules -o -path ui/dist \) -prune \
        -o -type f -newer ui/dist/index.html -print -quit)" ]; then
        (cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
    fi
    packages+=(-p upshot-desktop)
fi
if [ "$profile" = "release" ]; then
    cargo build --release --locked "${packages[@]}"
else
    cargo build --locked "${packages[@]}"
fi

if [ "$which" = "drop" ]; then
    started=$SECONDS
    echo "== drop"
    run_drop
    echo "(drop took $((SECONDS - started)) s)"
    exit 0
fi

# Run as a child of this shell, not `exec`: an exec'd process keeps the shell's children's
# rusage, cargo's included. The benchmarks measure each process they start on its own anyway
# (crates/upshot-bench/src/child.rs).
"$target/$profile/upshot-bench" "$@"

if [ "$which" = "help" ]; then
    echo
    drop_help
elif [ -z "$which" ]; then
    echo
    if [ "$with_drop" = 1 ]; then
        echo "== drop"
        started=$SECONDS
        run_drop
        echo "(drop took $((SECONDS - started)) s)"
    else
        echo "== drop (quick)"
        drop_skipped
    fi
fi
