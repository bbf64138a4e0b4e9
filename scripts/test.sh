#!/usr/bin/env bash
# The one command that runs every check and test of Upshot, locally and in CI (.ci/run).
#
#   bash scripts/test.sh            from any directory; needs no stdin; honours CI=true
#
# Each check is one named `step`. A failing step is recorded and the rest still run, so one
# CI run reports every failure; steps marked `--fatal` stop the run, because nothing after
# them can work. The exit status is non-zero if any step failed.
#
# Order matters for build time on a cold cache: the UI is built before cargo because
# `tauri::generate_context!` embeds ui/dist when upshot-desktop compiles; clippy runs before
# the test and desktop builds so build scripts and proc macros (which check and build share)
# are compiled once.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1

if [ "${CI:-}" = "true" ]; then
    # A cold CI build never reuses incremental state; writing it only costs time and disk.
    export CARGO_INCREMENTAL=0
    export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
fi
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

STEP_NAMES=()
STEP_RESULTS=()
STEP_SECONDS=()
FAILED=0

# step [--fatal] NAME COMMAND [ARGS...]
step() {
    local fatal=0
    if [ "$1" = "--fatal" ]; then
        fatal=1
        shift
    fi
    local name="$1"
    shift
    printf '\n==> [%s] %s\n' "$name" "$*"
    local start=$SECONDS status=0
    "$@" </dev/null || status=$?
    local took=$((SECONDS - start))
    STEP_NAMES+=("$name")
    STEP_SECONDS+=("$took")
    if [ "$status" -eq 0 ]; then
        STEP_RESULTS+=("ok")
        printf '<== [%s] ok (%ss)\n' "$name" "$took"
    else
        STEP_RESULTS+=("FAILED ($status)")
        FAILED=1
        printf '<== [%s] FAILED with status %s (%ss)\n' "$name" "$status" "$took"
        if [ "$fatal" -eq 1 ]; then
            printf 'stopping: later steps need [%s]\n' "$name"
            summary
            exit 1
        fi
    fi
}

summary() {
    printf '\n==== summary (%ss in all) ====\n' "$SECONDS"
    local i
    for i in "${!STEP_NAMES[@]}"; do
        printf '  %-16s %-12s %5ss\n' "${STEP_NAMES[$i]}" "${STEP_RESULTS[$i]}" "${STEP_SECONDS[$i]}"
    done
    if [ "$FAILED" -eq 0 ]; then
        printf 'all steps passed\n'
    else
        printf 'SOME STEPS FAILED\n'
    fi
}

in_ui() { (cd "$ROOT/ui" && "$@"); }

# --- set-up -------------------------------------------------------------------------------
step --fatal deps bash scripts/install-deps.sh

# --- UI (TypeScript) ----------------------------------------------------------------------
step --fatal ui-build in_ui npm run build
step ui-test in_ui npm test
# Every view in Debian's Chromium (playwright-core; no browser is downloaded) with Tauri's IPC
# mocked: the panels react, axe-core light and dark, keyboard only, 200% zoom; it rewrites the
# screenshots in docs/screenshots.
step ui-browser in_ui npm run test:browser

# --- Rust: whole workspace ----------------------------------------------------------------
step fmt cargo fmt --all -- --check
# No dependency that no crate uses (a false positive is listed, with why, under
# `[package.metadata.cargo-machete] ignored` in that crate's Cargo.toml).
step machete cargo machete --skip-target-dir
step clippy cargo clippy --workspace --all-targets --locked -- -D warnings
# The faces reach the core only through its service: the CLI checked on its own, without the
# core's `testing` feature that the workspace build unifies in through the bench (the desktop
# shell is checked the same way by its own steps below).
step faces-boundary cargo check -p upshot-cli --bin upshot --locked

# --- Rust: the crates (everything but the desktop shell) ----------------------------------
step crates-test cargo test --workspace --exclude upshot-desktop --locked
# Every benchmark once in its quick form (debug builds, a few small files): a benchmark that no
# longer runs, or whose uploads fail, fails here. Its figures are printed, never asserted.
step bench-quick bash scripts/bench.sh --quick

# --- Desktop shell (Tauri; needs WebKitGTK and the built UI) ------------------------------
step desktop-test cargo test -p upshot-desktop --locked
step desktop-build cargo build -p upshot-desktop --locked
# The real app end to end (tests/e2e/run.sh: one Xvfb, session bus, notification server and
# fake Imgur server for all of them; each test its own app and directories): smoke run in sandbox
# mode, deep-link logins, the settings panel through WebDriver (tauri-driver), the drag harness,
# and three files dropped onto the window. Needs the CLI and the fake server's debug builds too.
# The runner prints which of its tests failed.
step desktop-e2e bash -c 'cargo build -p upshot-cli -p fake-imgur --locked && bash tests/e2e/run.sh'

# --- Fuzzing: the login callback parser, for a bounded time -------------------------------
step fuzz-callback env FUZZ_SECONDS="${FUZZ_SECONDS:-60}" bash scripts/fuzz.sh

summary
exit "$FAILED"
