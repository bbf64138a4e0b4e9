#!/usr/bin/env bash
# The drop benchmark: BENCH_DROP_FILES (default 200) distinct PNGs of BENCH_DROP_KB (default
# 200) KB dragged at once onto the app (a real XDND drag, as tests/e2e/drop.sh does with 3)
# against the shared fake Imgur server, beside `upshot upload` of the same files in the same
# run. Prints:
#   - the time from the drop's mouse release until `xclip -selection clipboard -o` holds all
#     the links (polled every 50 ms), and `upshot upload` of the same files (run once before
#     and once after the drop, each with a fresh data directory, timed by
#     `upshot-bench measure-child`), and their ratio (goal: at most 1.10);
#   - the webview's worst stall during the drop: an in-page probe (a 16 ms setTimeout chain,
#     started through WebDriver) records each tick's lateness; the worst from the drag's press
#     until all links are on the clipboard (goal: under 50 ms);
#   - the app's memory, the PSS of the app and every process under it (WebKit's), before the
#     drop and once all links are on the clipboard.
# Fails (no figures) unless the server received each file exactly once from the drop and from
# each CLI run, and the clipboard holds exactly the drop's links in drop order.
#
#   scripts/bench.sh drop                   release builds (what the figures are quoted from)
#   E2E_PROFILE=release bash tests/e2e/run.sh bench-drop      the same, without building
#
# Wants the fake server's limits lifted (E2E_FAKE_ARGS, as scripts/bench.sh sets them) so the
# quota governor holds nothing back; and upshot-bench beside the other binaries.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_begin bench-drop
e2e_use_fake_server
COUNT="${BENCH_DROP_FILES:-200}"
KB="${BENCH_DROP_KB:-200}"
WAIT=600
BENCH="$E2E_TARGET/upshot-bench"
HELP="$E2E_DIR/bench_drop.py"
[ -x "$BENCH" ] || fail "missing $BENCH (cargo build --release -p upshot-bench)"
e2e_need WebKitWebDriver "apt-get install webkit2gtk-driver"

mkdir -p "$WORK/files"
mapfile -t FILES < <("$PY" "$HELP" pngs "$WORK/files" "$COUNT" $((KB * 1024)))
[ "${#FILES[@]}" -eq "$COUNT" ] || fail "made ${#FILES[@]} PNGs, wanted $COUNT"
log "$COUNT PNGs of $(du -sh "$WORK/files" | cut -f1) in all, $E2E_PROFILE binaries"

uploads() { "$PY" "$HELP" uploads "$E2E_API" "$E2E_CLIENT_ID"; }
count_new() { # count_new BEFORE.json AFTER.json: uploads in AFTER not in BEFORE
    "$PY" -c 'import json,sys
before = {u["id"] for u in json.load(open(sys.argv[1]))}
print(sum(1 for u in json.load(open(sys.argv[2])) if u["id"] not in before))' "$1" "$2"
}

# cli_run NAME: `upshot upload` of the files with its own fresh data and config directories,
# measured alone; the number of uploads the server accepted goes to NAME.received.json.
cli_run() {
    local name="$1"
    uploads >"$WORK/$name.before.json"
    UPSHOT_DATA_DIR="$WORK/$name-data" UPSHOT_CONFIG_DIR="$WORK/$name-config" \
        "$BENCH" measure-child --report "$WORK/$name.usage.json" -- \
        "$UPSHOT" upload --jobs 2 --api-base "$E2E_API" --client-id "$E2E_CLIENT_ID" "${FILES[@]}" \
        >"$WORK/$name.out" 2>"$WORK/$name.log" </dev/null \
        || fail "upshot-bench measure-child could not measure upshot upload ($name)"
    uploads >"$WORK/$name.after.json"
    count_new "$WORK/$name.before.json" "$WORK/$name.after.json" >"$WORK/$name.received.json"
    log "upshot upload ($name): $("$PY" -c 'import json,sys; u=json.load(open(sys.argv[1])); print("%.2f s, %s" % (u["wall_secs"], u["status"]))' "$WORK/$name.usage.json"), $(cat "$WORK/$name.received.json") uploads received"
}

start_driver
SESSION="$(PYTHONPATH="$E2E_DIR" "$PY" "$E2E_DIR/webdriver.py" open "$DRIVER_PORT" "$APP")" \
    || fail "no WebDriver session on the app"
log "app up (WebDriver session $SESSION) against $E2E_API"
APP_WINDOW="$(window_of '^Upshot$')"

cli_run cli-1

# The app settles (its UI subscribes to drop events in onMount), then: its memory, the probe
# (a second of idle ticks first), a clipboard watcher, and the drag.
sleep 2
"$PY" "$HELP" memory "$APP" >"$WORK/memory-before.json" || fail "cannot read the app's memory"
"$PY" "$HELP" probe-start "$DRIVER_PORT" "$SESSION" || fail "cannot start the probe in the page"
uploads >"$WORK/uploads-before-drop.json"
e2e_spawn "$WORK/clipboard-poll.log" "$PY" "$HELP" clipboard "$COUNT" "$E2E_API" "$WAIT"
POLLER=$SPAWNED
sleep 1

drag_files "$APP_WINDOW" "${FILES[@]}"
while kill -0 "$POLLER" 2>/dev/null; do sleep 0.05; done
wait "$POLLER" 2>/dev/null || true
grep -q '^done ' "$WORK/clipboard-poll.log" \
    || fail "the clipboard never held the $COUNT links: $(tr '\n' ' ' <"$WORK/clipboard-poll.log")"
# Right away: the memory with all links on the clipboard, then the probe's ticks.
"$PY" "$HELP" memory "$APP" >"$WORK/memory-after.json" || fail "cannot read the app's memory"
"$PY" "$HELP" probe-read "$DRIVER_PORT" "$SESSION" >"$WORK/probe.json" || fail "cannot read the probe"
xclip -selection clipboard -o -t UTF8_STRING >"$WORK/clipboard.txt"
# A late duplicate gets a moment to show at the server.
sleep 2
uploads >"$WORK/uploads-after-drop.json"
"$UPSHOT" history list --json --limit $((COUNT + 10)) >"$WORK/history.jsonl" || fail "upshot history list failed"
log "drop: $(count_new "$WORK/uploads-before-drop.json" "$WORK/uploads-after-drop.json") uploads received"

cli_run cli-2

"$PY" "$HELP" report "$WORK" "$COUNT" "$KB" "$E2E_API" "$DRAG_PRESSED_AT" "$DRAG_RELEASED_AT" \
    "${FILES[@]}" || fail "the drop benchmark's run did not check out (above)"
