# shellcheck shell=bash
# The end-to-end tests' shared set-up and helpers. Sourced by tests/e2e/run.sh (which starts
# the shared pieces once) and by each test script (which the runner starts with the shared
# pieces in its environment).
#
# Shared by every test of one run (started by `e2e_start_shared`):
#   one Xvfb (DISPLAY), one D-Bus session bus (DBUS_SESSION_BUS_ADDRESS), a recording
#   org.freedesktop.Notifications server (E2E_NOTIFICATIONS: one JSON line per notification)
#   and one fake Imgur server with its test controls (E2E_API, E2E_CLIENT_ID, E2E_CLIENT_SECRET).
# Each test's own (set up by `e2e_begin`):
#   a throwaway HOME and XDG directories under $WORK, and the app instances or tauri-driver it
#   starts, each in its own process group, stopped (WebKit children included) when it ends.
#   A test is in sandbox mode (no UPSHOT_* variables) unless it calls `e2e_use_fake_server`.

E2E_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
E2E_DIR="$E2E_ROOT/tests/e2e"
# E2E_PROFILE=release runs the release builds (the drop benchmark, scripts/bench.sh); the tests
# run the debug ones.
E2E_PROFILE="${E2E_PROFILE:-debug}"
E2E_TARGET="${CARGO_TARGET_DIR:-$E2E_ROOT/target}/$E2E_PROFILE"
APP="$E2E_TARGET/upshot-desktop"
# shellcheck disable=SC2034 # used by the tests that source this file
UPSHOT="$E2E_TARGET/upshot"
FAKE="$E2E_TARGET/fake-imgur"
# Debian's Python: the helpers that use GTK or Gio need its python3-gi, which a python3 first
# on PATH (pyenv, a virtualenv) does not have.
PY=/usr/bin/python3
# No __pycache__ in the source tree (the tests import tests/e2e/webdriver.py).
export PYTHONDONTWRITEBYTECODE=1
E2E_TIMEOUT="${E2E_TIMEOUT:-40}"
E2E_NAME="${E2E_NAME:-e2e}"

log() { printf '[%s] %s\n' "$E2E_NAME" "$*"; }

# --- the shared pieces (the runner) -------------------------------------------------------

E2E_SHARED_PIDS=()
E2E_DBUS_PID=""

# e2e_start_shared RUN_DIR: starts Xvfb, the session bus, the notification server and the fake
# Imgur server, and exports what the tests need to reach them.
e2e_start_shared() {
    local run="$1"
    export E2E_RUN="$run"

    # Xvfb picks a free display number itself and writes it to fd 3.
    Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$run/display" 2>"$run/xvfb.log" &
    E2E_SHARED_PIDS+=($!)
    local _
    for _ in $(seq 50); do [ -s "$run/display" ] && break; sleep 0.1; done
    if [ ! -s "$run/display" ]; then
        log "Xvfb did not start:"
        sed 's/^/    /' "$run/xvfb.log" >&2
        return 1
    fi
    DISPLAY=":$(tr -d '[:space:]' <"$run/display")"
    export DISPLAY

    # One session bus: the single-instance plugin meets on it, notifications go over it.
    local bus
    bus="$(dbus-daemon --session --fork --print-address=1 --print-pid=1)" || {
        log "dbus-daemon did not start"
        return 1
    }
    DBUS_SESSION_BUS_ADDRESS="$(sed -n 1p <<<"$bus")"
    E2E_DBUS_PID="$(sed -n 2p <<<"$bus")"
    export DBUS_SESSION_BUS_ADDRESS

    # The notification server, before any app asks for it.
    export E2E_NOTIFICATIONS="$run/notifications.jsonl"
    : >"$E2E_NOTIFICATIONS"
    "$PY" "$E2E_DIR/notifications.py" "$E2E_NOTIFICATIONS" >"$run/notifications.out" 2>"$run/notifications.log" &
    E2E_SHARED_PIDS+=($!)
    for _ in $(seq 100); do grep -qx ready "$run/notifications.out" 2>/dev/null && break; sleep 0.1; done
    if ! grep -qx ready "$run/notifications.out"; then
        log "the notification server did not take org.freedesktop.Notifications:"
        sed 's/^/    /' "$run/notifications.log" >&2
        return 1
    fi

    # The fake Imgur server, with an application whose callback is the deep link;
    # E2E_FAKE_ARGS (words) are added to its command line (the drop benchmark lifts its limits).
    export E2E_CLIENT_ID=e2e-client E2E_CLIENT_SECRET=e2e-secret
    local extra=()
    read -ra extra <<<"${E2E_FAKE_ARGS:-}"
    "$FAKE" --test-controls --port 0 --client-id "$E2E_CLIENT_ID" --client-secret "$E2E_CLIENT_SECRET" \
        "${extra[@]}" >"$run/fake.out" 2>"$run/fake.log" &
    E2E_SHARED_PIDS+=($!)
    for _ in $(seq 100); do [ -s "$run/fake.out" ] && break; sleep 0.1; done
    E2E_API="$(head -n1 "$run/fake.out")"
    if [ -z "$E2E_API" ]; then
        log "fake-imgur printed no address:"
        sed 's/^/    /' "$run/fake.log" >&2
        return 1
    fi
    export E2E_API
    log "display $DISPLAY, session bus up, notifications recorded, fake Imgur at $E2E_API"
}

e2e_stop_shared() {
    local pid
    for pid in "${E2E_SHARED_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -n "$E2E_DBUS_PID" ] && { kill "$E2E_DBUS_PID" 2>/dev/null || true; }
    for pid in "${E2E_SHARED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    E2E_SHARED_PIDS=()
    E2E_DBUS_PID=""
}

# --- one test -----------------------------------------------------------------------------

WORK=""
E2E_GROUPS=()

# e2e_begin NAME: a test's start. Makes its throwaway directories, points HOME and XDG there,
# clears any UPSHOT_* variable from the caller (sandbox mode unless the test opts in), and
# stops what the test started when it exits.
e2e_begin() {
    E2E_NAME="$1"
    if [ -z "${E2E_RUN:-}" ] || [ -z "${DISPLAY:-}" ] || [ -z "${E2E_API:-}" ]; then
        log "run this test through the runner: bash tests/e2e/run.sh $E2E_NAME"
        exit 2
    fi
    WORK="$(mktemp -d "$E2E_RUN/$E2E_NAME.XXXXXX")"
    mkdir -p "$WORK/home" "$WORK/xdg/config" "$WORK/xdg/data" "$WORK/xdg/cache"
    export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/xdg/config" XDG_DATA_HOME="$WORK/xdg/data" \
        XDG_CACHE_HOME="$WORK/xdg/cache"
    local name
    while read -r name; do unset "$name"; done < <(compgen -e | grep '^UPSHOT_' || true)
    trap e2e_end EXIT
}

# The app talks to the shared fake server, with its own config and data directories.
e2e_use_fake_server() {
    export UPSHOT_API_BASE="$E2E_API" UPSHOT_CLIENT_ID="$E2E_CLIENT_ID" \
        UPSHOT_CLIENT_SECRET="$E2E_CLIENT_SECRET" UPSHOT_SECRET_STORE=file \
        UPSHOT_CONFIG_DIR="$WORK/config" UPSHOT_DATA_DIR="$WORK/data"
}

# e2e_spawn LOG COMMAND...: starts COMMAND in its own process group (setsid); sets SPAWNED.
SPAWNED=""
e2e_spawn() {
    local out="$1"
    shift
    setsid "$@" >"$out" 2>&1 </dev/null &
    SPAWNED=$!
    E2E_GROUPS+=("$SPAWNED")
}

# e2e_kill_group PID: stops a process group started by e2e_spawn, politely then not.
e2e_kill_group() {
    local pid="$1" _
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    # WebKit's helpers can outlive their parent for a moment; the group goes with them.
    for _ in $(seq 20); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
    wait "$pid" 2>/dev/null || true
}

app_window_up() { xwininfo -root -tree 2>/dev/null | grep -q '"Upshot"'; }

# Waits until no "Upshot" window is left on the shared display (the next test looks for one).
e2e_wait_no_window() {
    local _
    for _ in $(seq 50); do app_window_up || return 0; sleep 0.1; done
    log "an \"Upshot\" window is still on the display"
    return 1
}

e2e_end() {
    local status=$? pid
    for pid in "${E2E_GROUPS[@]}"; do e2e_kill_group "$pid"; done
    E2E_GROUPS=()
    e2e_wait_no_window || true
    if [ "$status" -eq 0 ] && [ -z "${E2E_KEEP:-}" ]; then rm -rf "$WORK"; fi
    exit "$status"
}

# fail MESSAGE: prints MESSAGE and every log of the test, and fails it.
fail() {
    log "FAILED: $*"
    local file
    # driver.log has the output of tauri-driver and of the app it started; app-*.log the app's.
    for file in "$WORK"/*.log; do
        [ -f "$file" ] || continue
        log "$(basename "$file") (last 60 lines):"
        tail -n 60 "$file" | sed -e $'s/\x1b\\[[0-9;]*m//g' -e 's/^/    /' >&2
    done
    exit 1
}

# e2e_need COMMAND HINT: fails the test with HINT when COMMAND is missing.
e2e_need() {
    command -v "$1" >/dev/null 2>&1 || fail "$1 is missing ($2)"
}

# start_app NAME [ARGS...]: starts the app (log $WORK/app-NAME.log) and waits for its window.
APP_PID=""
start_app() {
    local name="$1"
    shift
    e2e_spawn "$WORK/app-$name.log" "$APP" "$@"
    APP_PID=$SPAWNED
    local deadline=$((SECONDS + E2E_TIMEOUT))
    until app_window_up; do
        kill -0 "$APP_PID" 2>/dev/null || fail "the app exited before its window appeared"
        [ "$SECONDS" -lt "$deadline" ] || fail "no \"Upshot\" window after ${E2E_TIMEOUT}s"
        sleep 0.3
    done
}

stop_app() {
    [ -n "$APP_PID" ] || return 0
    e2e_kill_group "$APP_PID"
    APP_PID=""
    e2e_wait_no_window || fail "the app's window stayed after it was stopped"
}

# start_driver: tauri-driver (which starts the app, with this environment, for each WebDriver
# session) on free ports; sets DRIVER_PORT. Its output, the app's included, goes to driver.log.
DRIVER_PORT=""
start_driver() {
    e2e_need tauri-driver "bash scripts/install-deps.sh"
    e2e_need WebKitWebDriver "apt-get install webkit2gtk-driver"
    local ports
    ports="$("$PY" -c '
import socket
held = [socket.socket() for _ in range(2)]
for s in held:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))')"
    DRIVER_PORT="${ports% *}"
    e2e_spawn "$WORK/driver.log" tauri-driver --port "$DRIVER_PORT" --native-port "${ports#* }"
    log "tauri-driver on port $DRIVER_PORT (display $DISPLAY)"
}

# --- dragging files (a real XDND drag from tests/e2e/drag_source.py) -----------------------

# window_of TITLE_REGEX: the id of the one visible window whose title matches; waits for it.
window_of() {
    local deadline=$((SECONDS + E2E_TIMEOUT)) ids
    while :; do
        ids="$(xdotool search --onlyvisible --name "$1" 2>/dev/null || true)"
        if [ "$(grep -c . <<<"$ids")" -eq 1 ]; then
            printf '%s\n' "$ids"
            return 0
        fi
        [ "$SECONDS" -lt "$deadline" ] || fail "not exactly one visible window titled /$1/: [${ids//$'\n'/ }]"
        sleep 0.2
    done
}

# window_center WINDOW_ID: prints "X Y", the middle of the window on the screen.
window_center() {
    local WINDOW X Y WIDTH HEIGHT SCREEN
    eval "$(xdotool getwindowgeometry --shell "$1")"
    : "$WINDOW" "$SCREEN"
    printf '%s %s\n' $((X + WIDTH / 2)) $((Y + HEIGHT / 2))
}

# drag_files TARGET_WINDOW_ID FILE...: shows drag_source.py (top left, log $WORK/drag-source.log)
# offering FILE... as text/uri-list, presses on it, moves the pointer in steps onto the middle of
# the target window and releases there. Fails unless the source reports a completed drop.
# Sets DRAG_PRESSED_AT and DRAG_RELEASED_AT: $EPOCHREALTIME just before the press and the release.
# shellcheck disable=SC2034 # read by tests/e2e/bench-drop.sh
DRAG_PRESSED_AT=""
# shellcheck disable=SC2034
DRAG_RELEASED_AT=""
drag_files() {
    local target="$1"
    shift
    local out="$WORK/drag-source.log" _
    : >"$out"
    e2e_spawn "$out" "$PY" "$E2E_DIR/drag_source.py" --at 10,10 "$@"
    local source_pid=$SPAWNED
    for _ in $(seq 100); do grep -qx ready "$out" && break; sleep 0.1; done
    grep -qx ready "$out" || fail "the drag source did not show its window"
    local from to
    from="$(window_center "$(window_of '^e2e drag source$')")"
    to="$(window_center "$target")"
    local fx="${from% *}" fy="${from#* }" tx="${to% *}" ty="${to#* }"
    xdotool mousemove "$fx" "$fy"
    sleep 0.2
    # shellcheck disable=SC2034
    DRAG_PRESSED_AT=$EPOCHREALTIME
    xdotool mousedown 1
    # Past GTK's drag threshold while still over the source, then across in steps: the target
    # sees enter and motion (XdndPosition) before the drop, as with a hand on a mouse.
    xdotool mousemove $((fx + 10)) $((fy + 10))
    sleep 0.1
    local step steps=25
    for step in $(seq 1 "$steps"); do
        xdotool mousemove $((fx + (tx - fx) * step / steps)) $((fy + (ty - fy) * step / steps))
        sleep 0.03
    done
    sleep 0.5
    # shellcheck disable=SC2034
    DRAG_RELEASED_AT=$EPOCHREALTIME
    xdotool mouseup 1
    for _ in $(seq 100); do kill -0 "$source_pid" 2>/dev/null || break; sleep 0.1; done
    grep -qx drag-end "$out" || fail "the drop was not completed: $(tr '\n' ' ' <"$out")"
    log "dragged $# file(s) from ($fx, $fy) onto window $target at ($tx, $ty)"
}

# --- images and the clipboard --------------------------------------------------------------

# write_png FILE WIDTH HEIGHT: a valid PNG of one colour (picked from the size). The fake server
# reports each upload's dimensions, which survive metadata removal: give each image of a test
# its own size and the server's record tells which it was.
write_png() {
    "$PY" - "$@" <<'PY'
import struct, sys, zlib
path, width, height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
colour = bytes([(37 * width) % 256, (91 * height) % 256, 120])
rows = b"".join(b"\x00" + colour * width for _ in range(height))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
with open(path, "wb") as f:
    f.write(png)
PY
}

# clipboard_offer TARGET FILE: xclip holds the CLIPBOARD, offering FILE's bytes as TARGET
# (text/uri-list, image/png, UTF8_STRING), in the foreground (-quiet: its log counts the reads)
# in its own process group until another client takes the selection, or clipboard_release or
# the test's end stops it; waits until the selection serves exactly those bytes. Sets XCLIP_PID.
XCLIP_PID=""
clipboard_offer() {
    local target="$1" file="$2"
    clipboard_release
    e2e_spawn "$WORK/xclip.log" xclip -quiet -selection clipboard -t "$target" -i "$file"
    XCLIP_PID=$SPAWNED
    local deadline=$((SECONDS + E2E_TIMEOUT))
    until xclip -selection clipboard -o -t "$target" 2>/dev/null | cmp -s - "$file"; do
        kill -0 "$XCLIP_PID" 2>/dev/null || fail "xclip exited before it served the clipboard"
        [ "$SECONDS" -lt "$deadline" ] || fail "the clipboard did not serve $file as $target after ${E2E_TIMEOUT}s"
        sleep 0.2
    done
}

# clipboard_release: stops the xclip of clipboard_offer (gone already when the app took the
# clipboard over to write its links).
clipboard_release() {
    [ -n "$XCLIP_PID" ] || return 0
    e2e_kill_group "$XCLIP_PID"
    XCLIP_PID=""
}

# press_ctrl_v WINDOW_ID: gives WINDOW_ID the X input focus and presses Ctrl+V there (XTEST:
# real key events, through GTK to the web view's keydown listener).
press_ctrl_v() {
    timeout 10 xdotool windowfocus --sync "$1" || fail "could not give window $1 the input focus"
    xdotool key --clearmodifiers ctrl+v
}
