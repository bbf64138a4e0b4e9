#!/usr/bin/env bash
# Three image files dragged onto the real app window (a real XDND drag from
# tests/e2e/drag_source.py, moved with xdotool) are uploaded to the shared fake Imgur server,
# each exactly once; their direct links land on the CLIPBOARD, one per line in drop order;
# exactly one notification says "3 uploaded"; `upshot history list` and the app's History view
# list the three.
#
#   bash tests/e2e/run.sh drop          (bash tests/e2e/run.sh drag checks the harness alone)
#
# The app is started by tauri-driver (so WebDriver can read its History view) with the fake
# server's Client ID, its own config and data directories, and the shared session bus, where
# tests/e2e/notifications.py records every notification.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_begin drop
e2e_use_fake_server
export UPSHOT_LOG=info
WAIT=60

# Three valid PNGs, each with its own size and colour: the fake server reports every upload's
# dimensions, which survive metadata removal, so each file is recognised there.
mkdir -p "$WORK/files"
FILES=("$WORK/files/first drop.png" "$WORK/files/second.png" "$WORK/files/third.png")
"$PY" - "${FILES[@]}" <<'PY'
import struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
for n, path in enumerate(sys.argv[1:]):
    width, height, colour = 3 + 2 * n, 2 + 2 * n, bytes([40 * n, 200 - 50 * n, 90])
    rows = b"".join(b"\x00" + colour * width for _ in range(height))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)
PY

fake_state() { curl -fsS "$E2E_API/_fake/state"; }
# What the fake server, the clipboard and the notification server hold, for a failure.
diagnose() {
    log "uploads at the fake server since the drop:"
    fake_state | "$PY" -c '
import json, sys
before = set(open(sys.argv[1]).read().split())
for u in json.load(sys.stdin)["uploads"]:
    if u["id"] not in before:
        print("    ", {k: u[k] for k in ("id", "ext", "width", "height", "size", "client_id", "account")})
' "$WORK/uploads-before" || true
    log "clipboard: [$(xclip -selection clipboard -o -t UTF8_STRING 2>&1 | head -c 2000 || true)]"
    log "notifications since the drop:"
    tail -n +"$((NOTES_BEFORE + 1))" "$E2E_NOTIFICATIONS" | sed 's/^/    /'
    log "upshot history list --json:"
    "$UPSHOT" history list --json 2>&1 | sed 's/^/    /' || true
}

# What was there before: the fake server and the notification server are shared by the run.
fake_state | "$PY" -c 'import json,sys; print("\n".join(u["id"] for u in json.load(sys.stdin)["uploads"]))' \
    >"$WORK/uploads-before"
NOTES_BEFORE="$(wc -l <"$E2E_NOTIFICATIONS")"

start_driver
SESSION="$(PYTHONPATH="$E2E_DIR" "$PY" "$E2E_DIR/webdriver.py" open "$DRIVER_PORT" "$APP")" \
    || fail "no WebDriver session on the app"
log "app up (WebDriver session $SESSION) against $E2E_API"
APP_WINDOW="$(window_of '^Upshot$')"

# The UI subscribes to the window's drop events in onMount, over IPC: give it a moment.
sleep 1
drag_files "$APP_WINDOW" "${FILES[@]}"

if ! PYTHONPATH="$E2E_DIR" "$PY" - "$DRIVER_PORT" "$SESSION" "$WAIT" "$E2E_API" "$UPSHOT" \
    "$WORK/uploads-before" "$E2E_NOTIFICATIONS" "$NOTES_BEFORE" "${FILES[@]}" <<'PY'; then
import collections, json, os, struct, subprocess, sys, time, urllib.request
from webdriver import attach, log, wait

port, session_id, timeout, api, upshot, before_path, notes_path, notes_before = sys.argv[1:9]
timeout, notes_before = int(timeout), int(notes_before)
files = sys.argv[9:]
names = [os.path.basename(path) for path in files]
before = set(open(before_path).read().split())

def size_of(path):
    with open(path, "rb") as f:
        return struct.unpack(">II", f.read(24)[16:24])

def new_uploads():
    with urllib.request.urlopen(api + "/_fake/state", timeout=10) as answer:
        return [u for u in json.load(answer)["uploads"] if u["id"] not in before]

def history():
    out = subprocess.run([upshot, "history", "list", "--json"], capture_output=True, text=True,
                         check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]

def clipboard():
    run = subprocess.run(["xclip", "-selection", "clipboard", "-o", "-t", "UTF8_STRING"], capture_output=True,
                         text=True, timeout=10)
    return run.stdout if run.returncode == 0 else None

def notes():
    with open(notes_path) as f:
        return [json.loads(line) for line in f.read().splitlines()[notes_before:]]

s = attach(port, session_id)
def status():
    return s.text(".status-bar .status")

# 1. The fake server receives each file exactly once (a late duplicate gets time to show).
def arrived():
    shown = status()
    if "cannot upload from the window yet" in shown:
        # The drop reached the UI, which called a command the shell does not have.
        raise RuntimeError(f"the app has no upload command for drops; its status line: {shown!r}")
    return len(new_uploads()) >= 3
try:
    wait("3 uploads at the fake server", arrived, timeout)
except AssertionError:
    log(f"the app's status line: {status()!r}")
    raise
time.sleep(2)
uploads = new_uploads()
assert len(uploads) == 3, f"{len(uploads)} uploads, expected 3: {uploads}"
got = collections.Counter((u["width"], u["height"]) for u in uploads)
want = collections.Counter(size_of(path) for path in files)
assert got == want, f"uploaded sizes {dict(got)}, the files' {dict(want)}"
assert all(u["client_id"] == os.environ["UPSHOT_CLIENT_ID"] for u in uploads), uploads
log("the fake server received each file once")

# 2. `upshot history list` lists the three, with the links the server gave.
def ours():
    entries = [e for e in history() if e.get("source_path") in files]
    return entries if len(entries) >= 3 else None
entries = wait("the 3 files in `upshot history list --json`", ours, timeout)
assert sorted(e["source_path"] for e in entries) == sorted(files), entries
server_links = {u["id"]: f"{api}/{u['id']}.{u['ext']}" for u in uploads}
link_of = {}
for entry in entries:
    assert entry["imgur_id"] in server_links, f"{entry} is not one of the server's {server_links}"
    assert entry["link"] == server_links[entry["imgur_id"]], (entry["link"], server_links)
    link_of[entry["source_path"]] = entry["link"]
log("upshot history list lists the 3 files with their links")

# 3. The clipboard holds the three direct links, one per line, in drop order.
expected = "\n".join(link_of[path] for path in files)
try:
    wait("the links on the clipboard",
         lambda: (clipboard() or "").removesuffix("\n") == expected, timeout)
except AssertionError:
    log(f"expected clipboard: {expected!r}")
    raise
log("the clipboard holds the 3 links in drop order")

# 4. Exactly one notification, which says "3 uploaded" (one more gets time to come).
wait("a notification", notes, timeout)
time.sleep(2)
shown = notes()
assert len(shown) == 1, f"{len(shown)} notifications, expected 1: {shown}"
text = f"{shown[0]['summary']}\n{shown[0]['body']}"
assert "3 uploaded" in text, f"the notification does not say \"3 uploaded\": {shown[0]}"
log(f"one notification: {shown[0]['summary']!r} / {shown[0]['body']!r}")

# 5. The app's History view shows the three files.
s.click("#view-button-history")
def listed():
    shown = s.texts(".history-list .entry .job-name")
    return shown if all(name in shown for name in names) else None
try:
    wait("the 3 files in the History view", listed, timeout)
except AssertionError:
    log(f"History view: {s.text('#view-history')!r}")
    raise
log("the History view lists the 3 files")
PY
    diagnose
    fail "the dropped files did not arrive as expected (above)"
fi
log "ok"
