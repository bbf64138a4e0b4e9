#!/usr/bin/env bash
# The app starts in sandbox mode (no Client ID: its built-in server, never the shared fake
# one), its "Upshot" window appears and the app is still running a few seconds later, and
# WebKit keeps its storage in the webview subdirectory, away from upshot-core's data.
#
#   bash tests/e2e/run.sh smoke
#   E2E_SCREENSHOT=FILE.png bash tests/e2e/run.sh smoke   also photographs the screen
#                                                          (ImageMagick's `import`)
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_begin smoke
# No e2e_use_fake_server: e2e_begin cleared every UPSHOT_* variable.

start_app sandbox
log "window \"Upshot\" is up on $DISPLAY"

# Give the webview time to load and paint the UI, and a crash on start-up time to happen.
sleep 4
kill -0 "$APP_PID" 2>/dev/null || fail "the app exited after its window appeared"

# Sandbox mode: the app served itself; nothing reached the shared fake server.
grep -q "no Client ID configured: sandbox mode" "$WORK/app-sandbox.log" \
    || fail "the app did not say it runs in sandbox mode"
if grep -qF "$E2E_API" "$WORK/app-sandbox.log"; then fail "the sandbox app was pointed at the shared fake server"; fi

# WebKit keeps its storage and caches in a subdirectory, away from upshot-core's data.
DATA="$XDG_DATA_HOME/app.upshot.desktop"
[ -d "$DATA/webview" ] || fail "no webview data directory at $DATA/webview"
for leaked in hsts-storage.sqlite WebKitCache storage CacheStorage mediakeys; do
    [ ! -e "$DATA/$leaked" ] || fail "WebKit wrote $leaked into the app's data directory"
done

if [ -n "${E2E_SCREENSHOT:-}" ]; then
    import -window root "$E2E_SCREENSHOT"
    log "screenshot: $E2E_SCREENSHOT"
fi
log "ok"
