#!/usr/bin/env bash
# Ctrl+V in the real app window (real key events through XTEST, with what xclip puts on the
# CLIPBOARD):
#   (a) two copied PNG files (text/uri-list): the shared fake Imgur server receives each once,
#       the app takes the CLIPBOARD over and writes their two links, one a line in the copied
#       order, and shows exactly one notification, "2 uploaded";
#   (b) a copied picture (image/png): one upload of its pixel size, its link on the CLIPBOARD,
#       one notification;
#   (c) text that is no link and no path: nothing is uploaded, and the app's status line says
#       what to copy instead;
#   (d) with "Copy the links to the clipboard" turned off in Settings (desktop.json through
#       tauri-plugin-store), a pasted picture is uploaded, the app leaves the clipboard alone and
#       its one notification does not say "copied".
#
#   bash tests/e2e/run.sh paste
#
# The app is started by tauri-driver (WebDriver reads its status line) with the fake server's
# Client ID and its own config and data directories.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_begin paste
e2e_use_fake_server
export UPSHOT_LOG=info
WAIT=60

mkdir -p "$WORK/files"
# Each its own size: the fake server's record of an upload says which it was.
FILES=("$WORK/files/copied first.png" "$WORK/files/copied-second.png")
write_png "${FILES[0]}" 11 7
write_png "${FILES[1]}" 9 13
PICTURE="$WORK/files/picture.png"
write_png "$PICTURE" 37 23
# text/uri-list: file:// URIs (a space percent-encoded), CRLF line ends (RFC 2483).
"$PY" -c '
import pathlib, sys
print("".join(pathlib.Path(p).as_uri() + "\r\n" for p in sys.argv[2:]), end="", file=open(sys.argv[1], "w"))
' "$WORK/uri-list" "${FILES[@]}"
printf 'just some words, neither a link nor a path' >"$WORK/text"

check() { PYTHONPATH="$E2E_DIR" "$PY" "$E2E_DIR/batch_check.py" "$@"; }
status_line() {
    PYTHONPATH="$E2E_DIR" "$PY" -c '
import sys
from webdriver import attach
print(attach(sys.argv[1], sys.argv[2]).text(".status-bar .status"))' "$DRIVER_PORT" "$SESSION"
}

start_driver
SESSION="$(PYTHONPATH="$E2E_DIR" "$PY" "$E2E_DIR/webdriver.py" open "$DRIVER_PORT" "$APP")" \
    || fail "no WebDriver session on the app"
export E2E_DRIVER_PORT="$DRIVER_PORT" E2E_SESSION="$SESSION"
log "app up (WebDriver session $SESSION) against $E2E_API"
APP_WINDOW="$(window_of '^Upshot$')"

# (a) Two copied files.
check snapshot "$WORK/state-files"
clipboard_offer text/uri-list "$WORK/uri-list"
press_ctrl_v "$APP_WINDOW"
log "(a) pressed Ctrl+V with 2 copied files on the clipboard"
check batch "$WORK/state-files" "$WAIT" 11x7 9x13 || fail "(a) the 2 copied files did not arrive as expected (above)"
clipboard_release

# (b) A copied picture.
check snapshot "$WORK/state-picture"
clipboard_offer image/png "$PICTURE"
press_ctrl_v "$APP_WINDOW"
log "(b) pressed Ctrl+V with a picture on the clipboard"
check batch "$WORK/state-picture" "$WAIT" 37x23 || fail "(b) the copied picture did not arrive as expected (above)"
clipboard_release

# (c) Text that is neither a link nor a path.
check snapshot "$WORK/state-text"
clipboard_offer UTF8_STRING "$WORK/text"
press_ctrl_v "$APP_WINDOW"
log "(c) pressed Ctrl+V with plain text on the clipboard"
REFUSAL="The clipboard holds no image, no link to one and no copied files"
deadline=$((SECONDS + WAIT))
until shown="$(status_line)" && [[ "$shown" == "$REFUSAL"* ]]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        log "the status line: [${shown:-}]"
        check nothing "$WORK/state-text" || true
        fail "(c) the status line did not say \"$REFUSAL…\" after ${WAIT}s"
    fi
    sleep 0.3
done
log "(c) the status line: $shown"
# The refusal is the command's answer: by now nothing was queued, or it would have been said.
check nothing "$WORK/state-text" || fail "(c) plain text was not refused cleanly (above)"
kill -0 "$XCLIP_PID" 2>/dev/null || fail "(c) the app took the clipboard over after a refused paste"
clipboard_release

# (d) Copying turned off in the app's own preferences.
PYTHONPATH="$E2E_DIR" "$PY" -c '
import sys
from webdriver import attach, wait
s = attach(sys.argv[1], sys.argv[2])
s.click("#view-button-settings")
# The panel shows its checkbox once the app has answered with the preferences.
wait("the copy-on-upload checkbox", lambda: s.find_all("#copy-on-upload"), 30)
s.click("#copy-on-upload")
' "$DRIVER_PORT" "$SESSION" || fail "(d) could not turn copying off in Settings"
deadline=$((SECONDS + WAIT))
until grep -q '"copy_on_upload": *false' "$UPSHOT_CONFIG_DIR/desktop.json" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "(d) desktop.json never said copy_on_upload false: $(cat "$UPSHOT_CONFIG_DIR/desktop.json" 2>&1)"
    sleep 0.3
done
log "(d) copying is off in desktop.json"
SECOND_PICTURE="$WORK/files/second-picture.png"
write_png "$SECOND_PICTURE" 29 31
check snapshot "$WORK/state-uncopied"
clipboard_offer image/png "$SECOND_PICTURE"
press_ctrl_v "$APP_WINDOW"
log "(d) pressed Ctrl+V with a picture on the clipboard"
check uncopied "$WORK/state-uncopied" "$WAIT" 29x31 || fail "(d) the paste with copying off did not go as expected (above)"
kill -0 "$XCLIP_PID" 2>/dev/null || fail "(d) the app took the clipboard over with copying off"
clipboard_release
log "ok"
