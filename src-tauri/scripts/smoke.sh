#!/usr/bin/env bash
# Starts the built desktop app on a private headless X server and checks that its "Upshot"
# window appears and the app is still running a few seconds later; then stops it.
#
#   bash src-tauri/scripts/smoke.sh [--screenshot FILE.png] [--binary PATH] [--timeout SECONDS]
#
# Needs Xvfb, dbus-run-session and xwininfo (scripts/install-deps.sh installs them);
# --screenshot also needs ImageMagick's `import`. The app gets throwaway XDG directories, so
# it never touches the real user's config or data.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BINARY="${CARGO_TARGET_DIR:-$ROOT/target}/debug/upshot-desktop"
SCREENSHOT=""
TIMEOUT=30

while [ $# -gt 0 ]; do
    case "$1" in
        --screenshot) SCREENSHOT="$2"; shift 2 ;;
        --binary) BINARY="$2"; shift 2 ;;
        --timeout) TIMEOUT="$2"; shift 2 ;;
        *) echo "smoke: unknown argument $1" >&2; exit 2 ;;
    esac
done

log() { printf '[smoke] %s\n' "$*"; }

if [ ! -x "$BINARY" ]; then
    log "no binary at $BINARY (build it with: cargo build -p upshot-desktop)"
    exit 1
fi

WORK="$(mktemp -d)"
XVFB_PID=""
APP_PID=""
cleanup() {
    # The app runs in its own process group (setsid): stop the app, its WebKit helper
    # processes and the session bus together.
    if [ -n "$APP_PID" ]; then
        kill -TERM -- "-$APP_PID" 2>/dev/null || true
        sleep 0.5
        kill -KILL -- "-$APP_PID" 2>/dev/null || true
    fi
    if [ -n "$XVFB_PID" ]; then
        kill "$XVFB_PID" 2>/dev/null || true
        wait "$XVFB_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Xvfb picks a free display number itself and writes it to fd 3.
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$WORK/display" 2>"$WORK/xvfb.log" &
XVFB_PID=$!
for _ in $(seq 50); do
    [ -s "$WORK/display" ] && break
    sleep 0.1
done
if [ ! -s "$WORK/display" ]; then
    log "Xvfb did not start:"
    cat "$WORK/xvfb.log" >&2
    exit 1
fi
export DISPLAY=":$(tr -d '[:space:]' <"$WORK/display")"

mkdir -p "$WORK/home/config" "$WORK/home/data" "$WORK/home/cache"
XDG_CONFIG_HOME="$WORK/home/config" XDG_DATA_HOME="$WORK/home/data" \
    XDG_CACHE_HOME="$WORK/home/cache" \
    setsid dbus-run-session -- "$BINARY" >"$WORK/app.log" 2>&1 </dev/null &
APP_PID=$!
log "started $(basename "$BINARY") (pid $APP_PID) on $DISPLAY"

fail() {
    log "$*"
    log "app output:"
    sed 's/^/    /' "$WORK/app.log" >&2
    exit 1
}

window_up() { xwininfo -root -tree 2>/dev/null | grep -q '"Upshot"'; }

deadline=$((SECONDS + TIMEOUT))
until window_up; do
    kill -0 "$APP_PID" 2>/dev/null || fail "the app exited before its window appeared"
    [ "$SECONDS" -lt "$deadline" ] || fail "no \"Upshot\" window after ${TIMEOUT}s"
    sleep 0.5
done
log "window \"Upshot\" is up"

# Give the webview time to load and paint the UI, and a crash on start-up time to happen.
sleep 4
kill -0 "$APP_PID" 2>/dev/null || fail "the app exited after its window appeared"

# WebKit keeps its storage and caches in a subdirectory, away from upshot-core's data.
DATA="$WORK/home/data/app.upshot.desktop"
[ -d "$DATA/webview" ] || fail "no webview data directory at $DATA/webview"
for leaked in hsts-storage.sqlite WebKitCache storage CacheStorage mediakeys; do
    [ ! -e "$DATA/$leaked" ] || fail "WebKit wrote $leaked into the app's data directory"
done

if [ -n "$SCREENSHOT" ]; then
    import -window root "$SCREENSHOT"
    log "screenshot: $SCREENSHOT"
fi
log "ok"
