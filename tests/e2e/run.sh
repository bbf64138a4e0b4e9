#!/usr/bin/env bash
# Runs the desktop app's end-to-end tests against one shared set-up.
#
#   bash tests/e2e/run.sh [TEST...]        default: every test, in the order below
#   E2E_KEEP=1 bash tests/e2e/run.sh drop  keep the run's directory (logs, files) afterwards
#   E2E_TEST_TIMEOUT=SECONDS                each test's limit (default 300; status 124 when hit)
#
# Tests (tests/e2e/NAME.sh):
#   smoke           the window comes up in sandbox mode and WebKit keeps to its own directory
#   deep-link       logins completed through upshot:// (second launch, and a URL that starts
#                   the app); a revoked login holds the app's uploads
#   settings-panel  the "Before upload" panel through WebDriver; corrupt settings set aside
#   drag            the drag harness on its own: drag_source.py onto its own GTK drop target
#   drop            three files dragged onto the window (real XDND) are uploaded, their links
#                   copied, one notification shown, and listed in the history
#   paste           Ctrl+V with copied files, a copied picture (each uploaded once, links on the
#                   clipboard, one notification) and plain text (refused, said in the status line)
#   pick            "Files…" opens the GTK file chooser; a PNG picked there (its path typed) is
#                   uploaded once, its link copied, one notification shown
# Not run by default: bench-drop, the drop benchmark (200 files dragged onto the release app),
# which scripts/bench.sh runs as `E2E_PROFILE=release bash tests/e2e/run.sh bench-drop`.
#
# Started once for all of them (tests/e2e/lib.sh): Xvfb, a D-Bus session bus, a recording
# notification server (tests/e2e/notifications.py) and a fake Imgur server. Each test has its
# own throwaway HOME, XDG and Upshot directories and starts and stops its own app.
# Needs the debug builds of upshot-desktop, upshot and fake-imgur
# (cargo build -p upshot-desktop -p upshot-cli -p fake-imgur) and what scripts/install-deps.sh
# installs. A failing test does not stop the others; the exit status is 1 if any failed.
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
E2E_NAME=e2e
ALL_TESTS=(smoke deep-link settings-panel drag drop paste pick)

TESTS=("$@")
[ "${#TESTS[@]}" -gt 0 ] || TESTS=("${ALL_TESTS[@]}")
for name in "${TESTS[@]}"; do
    [ -f "$E2E_DIR/$name.sh" ] || { log "no test named $name (have: ${ALL_TESTS[*]})"; exit 2; }
done

missing=()
for binary in "$APP" "$UPSHOT" "$FAKE"; do [ -x "$binary" ] || missing+=("$binary"); done
if [ "${#missing[@]}" -gt 0 ]; then
    log "missing ${missing[*]}"
    if [ "$E2E_PROFILE" = release ]; then
        log "build them with: cargo build --release -p upshot-desktop -p upshot-cli -p fake-imgur"
    else
        log "build them with: cargo build -p upshot-desktop -p upshot-cli -p fake-imgur"
    fi
    exit 1
fi
for tool in Xvfb dbus-daemon xwininfo xdotool xclip; do
    command -v "$tool" >/dev/null 2>&1 || { log "$tool is missing (bash scripts/install-deps.sh)"; exit 1; }
done
if ! "$PY" -c 'import gi; gi.require_version("Gtk", "3.0"); from gi.repository import Gio, Gtk' 2>/dev/null; then
    log "$PY cannot load GTK 3 through gi (apt-get install python3-gi gir1.2-gtk-3.0)"
    exit 1
fi

RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/upshot-e2e.XXXXXX")"
finish() {
    e2e_stop_shared
    if [ -n "${E2E_KEEP:-}" ]; then log "kept $RUN_DIR"; else rm -rf "$RUN_DIR"; fi
}
trap finish EXIT
# Whatever UPSHOT_* the caller has must not reach the shared pieces or the tests.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^UPSHOT_' || true)
e2e_start_shared "$RUN_DIR"

results=()
failed=0
for name in "${TESTS[@]}"; do
    printf '\n--> %s\n' "$name"
    start=$SECONDS
    status=0
    # A hung test is stopped (its EXIT trap still stops its app) and the others still run.
    E2E_NAME="$name" timeout --kill-after=15 "${E2E_TEST_TIMEOUT:-300}" bash "$E2E_DIR/$name.sh" </dev/null \
        || status=$?
    if [ "$status" -eq 0 ]; then
        results+=("$(printf '%-16s ok      %4ss' "$name" $((SECONDS - start)))")
    else
        results+=("$(printf '%-16s FAILED  %4ss (status %s)' "$name" $((SECONDS - start)) "$status")")
        failed=1
        # A failed test's directory is kept for its logs only while the run is kept.
    fi
    # Nothing a test started may be left on the shared display for the next one.
    if app_window_up; then
        log "an \"Upshot\" window outlived test $name"
        failed=1
    fi
done

printf '\n==== end-to-end (%ss) ====\n' "$SECONDS"
printf '  %s\n' "${results[@]}"
exit "$failed"
