#!/usr/bin/env bash
# The "Before upload" settings panel in the real app window, driven through WebDriver
# (tauri-driver + WebKitWebDriver).
#
#   bash tests/e2e/run.sh settings-panel
#
# The app starts in sandbox mode with an empty config directory. The panel must show the
# defaults the core reports (metadata removed, captures fitted, files not, duplicates not sent
# again, 10 MB / 200 MB / 60 s); turning metadata removal off and duplicates on must reach the
# shared settings.json, as the CLI's `upshot config get` reads it; a bad limit must be refused
# with a message and leave the file alone. The app starts over a corrupt settings.json and
# watch.json: it must start anyway, set both aside, and say so in its "needs attention" banner.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_begin settings-panel

CONFIG="$XDG_CONFIG_HOME/app.upshot.desktop"
mkdir -p "$CONFIG"
# Half-written files, as a crash or a bad hand edit leaves them.
printf '{"strip_metadata": fal' >"$CONFIG/settings.json"
printf '{"folders": [' >"$CONFIG/watch.json"
export UPSHOT_LOG=info
# tauri-driver starts the app (and WebKitWebDriver) for each session, with this environment.
start_driver

PYTHONPATH="$E2E_DIR" "$PY" - "$DRIVER_PORT" "$APP" "$UPSHOT" "$CONFIG/settings.json" <<'PY' \
    || fail "the settings panel checks failed (above); tauri-driver and app output follow"
import json, os, subprocess, sys, time
from webdriver import log, session, wait

port, app, upshot, settings_path = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]

def settings_file():
    try:
        with open(settings_path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}

def run_checks(s):
    find, prop, text = s.find, s.prop, s.text

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
        s.click("#attention .attention-dismiss")
    wait("the banner dismissed", lambda: prop(find("#attention"), "hidden"))
    time.sleep(6)  # past the next refresh
    assert prop(find("#attention"), "hidden"), "a dismissed notice came back"
    log("corrupt settings.json and watch.json set aside, shown and dismissed")

    # The panel is in the Settings view; it shows once the shell answered, with the core's
    # defaults.
    s.click("#view-button-settings")
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
    log("defaults shown")

    # Turn metadata removal off and duplicates on: saved to the shared settings file.
    s.click("#strip-metadata")
    try:
        wait("strip_metadata saved", lambda: settings_file().get("strip_metadata") is False)
    except AssertionError:
        log(f"checkbox: {prop(find('#strip-metadata'), 'checked')} "
            f"message: {text('#preflight-message')} file: {settings_file()}")
        raise
    s.click("#upload-duplicates")
    wait("upload_duplicates saved", lambda: settings_file().get("upload_duplicates") is True)
    wait("the confirmation", lambda: "Saved" in text("#preflight-message"))
    summary = text("#preflight-summary")
    assert "sent with their metadata" in summary and "sent again" in summary, summary
    for key, expected in [("strip-metadata", "false"), ("upload-duplicates", "true")]:
        out = subprocess.run([upshot, "config", "get", key], capture_output=True, text=True,
                             check=True).stdout.strip()
        assert out == expected, f"upshot config get {key}: {out!r}"
    log("changes saved where the CLI reads them")

    # A bad limit is refused with a message, and the file keeps the last good value.
    before = settings_file()
    limit = find("#max-video-seconds")
    s.call("POST", f"/element/{limit}/clear", {})
    s.call("POST", f"/element/{limit}/value", {"text": "0"})
    s.click("#preflight-title")
    wait("the error", lambda: "above 0" in text("#preflight-message"))
    assert settings_file() == before, "a refused value reached the file"
    # A good one is saved.
    s.call("POST", f"/element/{limit}/clear", {})
    s.call("POST", f"/element/{limit}/value", {"text": "45"})
    s.click("#preflight-title")
    wait("max_video_seconds saved", lambda: settings_file().get("max_video_seconds") == 45)
    log("limits checked and saved")

with session(port, app) as s:
    run_checks(s)
PY
log "ok"
