#!/usr/bin/env bash
# End to end: the "Before upload" settings panel in the real app window, driven through
# WebDriver (tauri-driver + WebKitWebDriver) on a headless X server.
#
#   bash src-tauri/scripts/settings-panel.sh
#
# The app starts in sandbox mode with an empty config directory. The panel must show the
# defaults the core reports (metadata removed, captures fitted, files not, duplicates not sent
# again, 10 MB / 200 MB / 60 s); turning metadata removal off and duplicates on must reach the
# shared settings.json, as the CLI's `upshot config get` reads it; a bad limit must be refused
# with a message and leave the file alone. The app starts over a corrupt settings.json and
# watch.json: it must start anyway, set both aside, and say so in its "needs attention" banner.
# Needs Xvfb, dbus-run-session, tauri-driver, WebKitWebDriver, python3, and the debug builds of
# upshot-desktop and upshot.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
APP="$TARGET/upshot-desktop"
UPSHOT="$TARGET/upshot"

log() { printf '[settings-panel] %s\n' "$*"; }
for binary in "$APP" "$UPSHOT"; do
    [ -x "$binary" ] || { log "missing $binary (cargo build -p upshot-desktop -p upshot-cli)"; exit 1; }
done
command -v tauri-driver >/dev/null || { log "tauri-driver is missing (bash scripts/install-deps.sh)"; exit 1; }
command -v WebKitWebDriver >/dev/null || { log "WebKitWebDriver is missing (apt-get install webkit2gtk-driver)"; exit 1; }

WORK="$(mktemp -d)"
XVFB_PID=""
DRIVER_PID=""
cleanup() {
    [ -n "$DRIVER_PID" ] && { kill -TERM -- "-$DRIVER_PID" 2>/dev/null || true; }
    [ -n "$XVFB_PID" ] && { kill "$XVFB_PID" 2>/dev/null || true; }
    sleep 0.3
    [ -n "$DRIVER_PID" ] && { kill -KILL -- "-$DRIVER_PID" 2>/dev/null || true; }
    rm -rf "$WORK"
}
trap cleanup EXIT

Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$WORK/display" 2>"$WORK/xvfb.log" &
XVFB_PID=$!
for _ in $(seq 50); do
    [ -s "$WORK/display" ] && break
    sleep 0.1
done
[ -s "$WORK/display" ] || { log "Xvfb did not start"; cat "$WORK/xvfb.log" >&2; exit 1; }
export DISPLAY=":$(tr -d '[:space:]' <"$WORK/display")"

mkdir -p "$WORK/home/config/app.upshot.desktop" "$WORK/home/data" "$WORK/home/cache"
# Half-written files, as a crash or a bad hand edit leaves them.
printf '{"strip_metadata": fal' >"$WORK/home/config/app.upshot.desktop/settings.json"
printf '{"folders": [' >"$WORK/home/config/app.upshot.desktop/watch.json"
export XDG_CONFIG_HOME="$WORK/home/config" XDG_DATA_HOME="$WORK/home/data" XDG_CACHE_HOME="$WORK/home/cache"
export UPSHOT_LOG=info
PORT=$((20000 + RANDOM % 20000))
NATIVE_PORT=$((PORT + 1))
# tauri-driver starts the app (and WebKitWebDriver) for each session; all share this D-Bus.
setsid dbus-run-session -- tauri-driver --port "$PORT" --native-port "$NATIVE_PORT" \
    >"$WORK/driver.log" 2>&1 </dev/null &
DRIVER_PID=$!
log "tauri-driver on port $PORT (display $DISPLAY)"

if ! python3 - "$PORT" "$APP" "$UPSHOT" "$WORK/home/config/app.upshot.desktop/settings.json" <<'PY'
import http.client, json, os, subprocess, sys, time, urllib.error, urllib.request

port, app, upshot, settings_path = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
base = f"http://127.0.0.1:{port}"

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    # tauri-driver forwards each command over a kept-alive connection to WebKitWebDriver, which
    # may close that connection just as it is reused: tauri-driver then drops ours without an
    # answer ("Connection reset by peer" in its log), and the command never reached the app.
    # Such a command is sent again, at most twice; an answer, even an error, is never retried.
    for attempt in range(3):
        request = urllib.request.Request(base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.load(response)["value"]
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path}: {error.code} {error.read().decode()[:500]}")
        except (ConnectionResetError, http.client.RemoteDisconnected) as error:
            if attempt == 2:
                raise
            print(f"[settings-panel] {method} {path}: connection dropped ({error!r}); sent again")
            time.sleep(0.2)

def wait(what, check, timeout=30):
    deadline = time.time() + timeout
    last = None
    while True:
        try:
            value = check()
            if value:
                return value
            last = f"got {value!r}"
        except (ConnectionError, http.client.HTTPException):
            raise  # the WebDriver connection itself broke: not something to wait out
        except (AssertionError, OSError, KeyError) as error:
            last = f"{type(error).__name__}: {error}"
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what} ({last})")
        time.sleep(0.25)

# tauri-driver listens once it is up.
wait("tauri-driver", lambda: urllib.request.urlopen(base + "/status", timeout=2).status == 200)
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C element reference key

def settings_file():
    try:
        with open(settings_path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}

def run_checks(s):
    def find(css):
        return call("POST", f"{s}/element", {"using": "css selector", "value": css})[ELEMENT]

    def prop(element, name):
        return call("GET", f"{s}/element/{element}/property/{name}")

    def text(css):
        return call("GET", f"{s}/element/{find(css)}/text")

    # The corrupt files were set aside and the banner says so; the app started from defaults.
    wait("the attention banner", lambda: not prop(find("#attention"), "hidden"))
    banner = text("#attention")
    for name in ("settings.json", "watch.json"):
        assert f"{name} could not be read" in banner, banner
        folder = os.path.dirname(settings_path)
        kept = [f for f in os.listdir(folder) if f.startswith(name + ".corrupt-")]
        assert kept, f"{name} was not set aside: {os.listdir(folder)}"
    assert "/" not in banner, f"the banner names files, not paths: {banner}"
    # Read and dismissed, as a user would: the banner goes and stays gone.
    # Each click redraws the list, so the next button is looked up afresh.
    for _ in range(2):
        call("POST", f"{s}/element/{find('#attention .attention-dismiss')}/click", {})
    wait("the banner dismissed", lambda: prop(find("#attention"), "hidden"))
    time.sleep(6)  # past the next refresh
    assert prop(find("#attention"), "hidden"), "a dismissed notice came back"
    print("[settings-panel] corrupt settings.json and watch.json set aside, shown and dismissed")

    # The panel is in the Settings view; it shows once the shell answered, with the core's
    # defaults.
    call("POST", f"{s}/element/{find('#view-button-settings')}/click", {})
    wait("the panel", lambda: not prop(find("#preflight"), "hidden"))
    wait("the limits", lambda: prop(find("#max-image-mb"), "value") == "10")
    assert prop(find("#strip-metadata"), "checked") is True
    assert prop(find("#fit-captures"), "checked") is True
    assert prop(find("#fit-files"), "checked") is False
    assert prop(find("#upload-duplicates"), "checked") is False
    assert prop(find("#max-video-mb"), "value") == "200"
    assert prop(find("#max-video-seconds"), "value") == "60"
    panel = text("#preflight")
    assert "Videos are sent as they are" in panel, panel
    assert "removed from photos" in text("#preflight-summary")
    print("[settings-panel] defaults shown")

    # Turn metadata removal off and duplicates on: saved to the shared settings file.
    call("POST", f"{s}/element/{find('#strip-metadata')}/click", {})
    try:
        wait("strip_metadata saved", lambda: settings_file().get("strip_metadata") is False)
    except AssertionError:
        print("[settings-panel] checkbox:", prop(find("#strip-metadata"), "checked"),
              "message:", text("#preflight-message"), "file:", settings_file())
        raise
    call("POST", f"{s}/element/{find('#upload-duplicates')}/click", {})
    wait("upload_duplicates saved", lambda: settings_file().get("upload_duplicates") is True)
    wait("the confirmation", lambda: "Saved" in text("#preflight-message"))
    summary = text("#preflight-summary")
    assert "sent with their metadata" in summary and "sent again" in summary, summary
    for key, expected in [("strip-metadata", "false"), ("upload-duplicates", "true")]:
        out = subprocess.run([upshot, "config", "get", key], capture_output=True, text=True,
                             check=True).stdout.strip()
        assert out == expected, f"upshot config get {key}: {out!r}"
    print("[settings-panel] changes saved where the CLI reads them")

    # A bad limit is refused with a message, and the file keeps the last good value.
    before = settings_file()
    limit = find("#max-video-seconds")
    call("POST", f"{s}/element/{limit}/clear", {})
    call("POST", f"{s}/element/{limit}/value", {"text": "0"})
    call("POST", f"{s}/element/{find('#preflight-title')}/click", {})
    wait("the error", lambda: "above 0" in text("#preflight-message"))
    assert settings_file() == before, "a refused value reached the file"
    # A good one is saved.
    call("POST", f"{s}/element/{limit}/clear", {})
    call("POST", f"{s}/element/{limit}/value", {"text": "45"})
    call("POST", f"{s}/element/{find('#preflight-title')}/click", {})
    wait("max_video_seconds saved", lambda: settings_file().get("max_video_seconds") == 45)
    print("[settings-panel] limits checked and saved")

session = call("POST", "/session", {"capabilities": {"alwaysMatch": {
    "tauri:options": {"application": app}}}})["sessionId"]
try:
    run_checks(f"/session/{session}")
finally:
    try:
        call("DELETE", f"/session/{session}")
    except (AssertionError, OSError, http.client.HTTPException):
        pass
PY
then
    log "FAILED; tauri-driver and app output:"
    sed 's/^/    /' "$WORK/driver.log" >&2
    exit 1
fi
log "ok"
