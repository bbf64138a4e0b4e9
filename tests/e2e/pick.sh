#!/usr/bin/env bash
# The "Files…" button of the real app window opens the GTK file chooser ("Upload to Imgur", a
# second X window of the app); a PNG picked there by typing its absolute path (Ctrl+L, the path,
# Return: real key events through XTEST) is uploaded to the shared fake Imgur server once, its
# link lands on the CLIPBOARD and exactly one notification says "1 uploaded".
#
#   bash tests/e2e/run.sh pick
#
# The app is started by tauri-driver (WebDriver clicks the button) with the fake server's
# Client ID and its own config and data directories.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_begin pick
e2e_use_fake_server
export UPSHOT_LOG=info
WAIT=60
CHOOSER='^Upload to Imgur$'

# In a folder of its own: the chooser's location field completes names inline as they are typed,
# and no other name here can start like this one.
mkdir -p "$WORK/pick"
PICKED="$WORK/pick/picked image.png"
write_png "$PICKED" 17 19

# No blinking caret in the chooser: the test waits on the chooser's drawing changing.
mkdir -p "$XDG_CONFIG_HOME/gtk-3.0"
printf '[Settings]\ngtk-cursor-blink=false\n' >"$XDG_CONFIG_HOME/gtk-3.0/settings.ini"

check() { PYTHONPATH="$E2E_DIR" "$PY" "$E2E_DIR/batch_check.py" "$@"; }
chooser_up() { xdotool search --onlyvisible --name "$CHOOSER" >/dev/null 2>&1; }
visible_windows() {
    local id
    for id in $(xdotool search --onlyvisible --name . 2>/dev/null); do
        printf '    %s "%s"\n' "$id" "$(xdotool getwindowname "$id" 2>/dev/null || true)"
    done
}

start_driver
SESSION="$(PYTHONPATH="$E2E_DIR" "$PY" "$E2E_DIR/webdriver.py" open "$DRIVER_PORT" "$APP")" \
    || fail "no WebDriver session on the app"
export E2E_DRIVER_PORT="$DRIVER_PORT" E2E_SESSION="$SESSION"
log "app up (WebDriver session $SESSION) against $E2E_API"
window_of '^Upshot$' >/dev/null
chooser_up && fail "a window titled /$CHOOSER/ is up before \"Files…\" was clicked"

check snapshot "$WORK/state"
PYTHONPATH="$E2E_DIR" "$PY" -c '
import sys
from webdriver import attach
attach(sys.argv[1], sys.argv[2]).click_button("Files…")' "$DRIVER_PORT" "$SESSION" \
    || fail "could not click the \"Files…\" button"
CHOOSER_WINDOW="$(window_of "$CHOOSER")"
log "clicked \"Files…\": the file chooser is window $CHOOSER_WINDOW"

# Keys sent before GTK has realized the chooser's widgets are lost ("gtk_widget_event: assertion
# 'WIDGET_REALIZED_FOR_EVENT (widget, event)' failed" in the app's log): wait until it has drawn
# itself and its drawing holds still.
image() { "$PY" "$E2E_DIR/window_image.py" "$CHOOSER_WINDOW" 2>/dev/null || echo gone; }
# wait_image WHAT TEST: polls the chooser's drawing (in $SHOWN) until TEST (a command) holds.
SHOWN=""
wait_image() {
    local what="$1" deadline=$((SECONDS + WAIT))
    shift
    SHOWN="$(image)"
    until "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "visible windows:"
            visible_windows
            fail "the file chooser: no $what after ${WAIT}s (its drawing: $SHOWN)"
        fi
        sleep 0.3
        SHOWN="$(image)"
    done
}
painted() { [ "$SHOWN" != blank ] && [ "$SHOWN" != gone ]; }
changed() { painted && [ "$SHOWN" != "$BEFORE" ]; }
# The same drawing twice in a row (BEFORE: the one before).
settled() {
    if painted && [ "$SHOWN" = "$BEFORE" ]; then return 0; fi
    BEFORE="$SHOWN"
    return 1
}
BEFORE=""
wait_image "finished drawing" settled

timeout 10 xdotool windowfocus --sync "$CHOOSER_WINDOW" \
    || fail "could not give the file chooser the input focus"
# Ctrl+L opens the chooser's location field (its drawing changes); the typed path (drawn, then
# unchanged for a moment) and Return pick the file.
BEFORE="$SHOWN"
xdotool key --clearmodifiers ctrl+l
wait_image "location field after Ctrl+L" changed
xdotool type --clearmodifiers --delay 30 "$PICKED"
BEFORE=""
wait_image "still drawing after typing the path" settled
xdotool key --clearmodifiers Return
log "typed \"$PICKED\" into the chooser's location field and pressed Return"

deadline=$((SECONDS + WAIT))
while chooser_up; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        log "visible windows:"
        visible_windows
        fail "the file chooser was still open ${WAIT}s after Return (was the path typed into its location field?)"
    fi
    sleep 0.3
done
log "the file chooser closed"

check batch "$WORK/state" "$WAIT" 17x19 || fail "the picked file did not arrive as expected (above)"
log "ok"
