#!/usr/bin/env bash
# A login completed through the deep link, in the real app.
#
#   bash tests/e2e/run.sh deep-link
#
# 1. The app runs (first instance) against the shared fake Imgur server. `upshot login --json`
#    starts a login; the fake authorize page is approved as a browser would, which sends the
#    browser to upshot://oauth/callback#…; the desktop hands that URL to a second launch of the
#    app, which must pass it to the running one (single instance + deep link, over the shared
#    session bus) and exit. The login must then be complete (`upshot whoami`), with the state
#    checked by the core. The same callback again is refused.
# 2. A callback URL that *starts* the app must not be lost either.
# 3. Imgur revokes the login while the app's workers upload for the account: the upload waits
#    for a new login (nothing lost) and the app tells its UI. No token reaches the app's logs.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_begin deep-link
e2e_use_fake_server
API="$E2E_API"

# Starts a login with the CLI and approves it on the fake authorize page; prints the callback.
approved_callback() {
    local url
    url="$("$UPSHOT" login --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["url"])')"
    "$PY" - "$url" "$API" <<'PY'
import sys, urllib.parse, urllib.request
url, api = sys.argv[1], sys.argv[2]
form = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
form.update(username="e2e-user", action="allow")
class Keep(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
opener = urllib.request.build_opener(Keep)
try:
    opener.open(api + "/oauth2/authorize", urllib.parse.urlencode(form).encode())
    sys.exit("the authorize page did not redirect")
except urllib.error.HTTPError as answer:
    print(answer.headers["Location"])
PY
}

logged_in_as() {
    "$UPSHOT" whoami --json | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["account"]["username"] if d.get("logged_in") else "")'
}

wait_for_login() {
    local deadline=$((SECONDS + E2E_TIMEOUT))
    until [ "$(logged_in_as)" = "e2e-user" ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "not logged in ${E2E_TIMEOUT}s after $1"
        sleep 0.3
    done
}

# 1. A second launch hands the callback to the running app.
start_app first
log "app running on $DISPLAY against $API"
# The scheme was registered with the desktop at run time.
grep -ls 'x-scheme-handler/upshot' "$XDG_DATA_HOME"/applications/*.desktop >/dev/null \
    || fail "no .desktop entry for upshot:// in $XDG_DATA_HOME/applications"
handler="$(xdg-mime query default x-scheme-handler/upshot 2>/dev/null || true)"
[ -n "$handler" ] || fail "upshot:// has no default handler"
log "upshot:// is registered ($handler)"
[ -z "$(logged_in_as)" ] || fail "logged in before the test began"
CALLBACK="$(approved_callback)"
case "$CALLBACK" in upshot://oauth/callback\#*) ;; *) fail "unexpected callback: $CALLBACK" ;; esac
timeout 30 "$APP" "$CALLBACK" >"$WORK/app-second.log" 2>&1 </dev/null \
    || fail "the second launch did not hand over its URL and exit"
wait_for_login "the second launch"
kill -0 "$APP_PID" 2>/dev/null || fail "the first instance is gone"
log "a second launch's deep link completed the login in the running app"

# The same callback again is refused (single use) and the login stays.
timeout 30 "$APP" "$CALLBACK" >"$WORK/app-replay.log" 2>&1 </dev/null || true
sleep 1
[ "$(logged_in_as)" = "e2e-user" ] || fail "a replayed callback changed the login"
grep -q "a login callback was refused" "$WORK/app-first.log" || fail "the replay was not refused"

# 2. A callback that starts the app is not lost.
stop_app
"$UPSHOT" logout >/dev/null 2>&1
[ -z "$(logged_in_as)" ] || fail "still logged in after logout"
CALLBACK="$(approved_callback)"
start_app started "$CALLBACK"
wait_for_login "starting the app with the callback"
log "a callback that started the app completed the login"

# 3. Imgur revokes the login while the app's workers upload for the account: the upload waits
#    for a new login (nothing lost) and the app tells its UI.
"$PY" - "$API" <<'PY'
import json, sys, urllib.request
request = urllib.request.Request(sys.argv[1] + "/_fake/revoke", json.dumps({"account": "e2e-user"}).encode(),
                                 {"Content-Type": "application/json"})
assert json.load(urllib.request.urlopen(request))["revoked"] > 0
PY
"$UPSHOT" queue pause >/dev/null 2>&1
"$PY" -c 'import base64,sys; sys.stdout.buffer.write(base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="))' >"$WORK/pixel.png"
"$UPSHOT" upload --no-wait --json "$WORK/pixel.png" >"$WORK/queued.json" 2>/dev/null
grep -q '"status":"queued"' "$WORK/queued.json" || fail "the upload was not queued: $(cat "$WORK/queued.json")"
"$UPSHOT" queue resume >/dev/null 2>&1
deadline=$((SECONDS + E2E_TIMEOUT))
until grep -q "an upload waits for a new login; the UI was told" "$WORK/app-started.log"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "the app's workers did not hold the upload for a login"
    sleep 0.3
done
"$UPSHOT" queue list --json | grep -q '"log_in_again"' || fail "the upload is not waiting for a login"
[ -z "$(logged_in_as)" ] || fail "still shown as logged in after Imgur revoked the login"
log "a revoked login holds the app's upload and the app tells its UI"

# No token in the app's logs.
TOKEN="$("$PY" -c 'import sys,urllib.parse; print(dict(urllib.parse.parse_qsl(sys.argv[1].split("#",1)[1]))["access_token"])' "$CALLBACK")"
if grep -qF "$TOKEN" "$WORK"/app*.log; then fail "a token reached the app's log"; fi
log "ok"
