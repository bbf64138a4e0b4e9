#!/usr/bin/env bash
# The drag harness on its own: tests/e2e/drag_source.py's source, dragged with xdotool onto its
# own GTK drop target, hands over every file's URI, in order (names with spaces and non-ASCII
# letters percent-encoded). When `drop` fails, this says whether the harness or the app is at
# fault.
#
#   bash tests/e2e/run.sh drag
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_begin drag

mkdir -p "$WORK/files"
FILES=("$WORK/files/first one.png" "$WORK/files/zweite-größe.png" "$WORK/files/third.png")
for file in "${FILES[@]}"; do printf 'x' >"$file"; done

e2e_spawn "$WORK/drop-target.log" "$PY" "$E2E_DIR/drag_source.py" --target --at 600,400
for _ in $(seq 100); do grep -qx ready "$WORK/drop-target.log" && break; sleep 0.1; done
drag_files "$(window_of '^e2e drop target$')" "${FILES[@]}"
for _ in $(seq 50); do [ "$(wc -l <"$WORK/drop-target.log")" -ge 2 ] && break; sleep 0.1; done

"$PY" - "$WORK/drop-target.log" "${FILES[@]}" <<'PY' || fail "the drop target did not get the files"
import json, pathlib, sys
lines = pathlib.Path(sys.argv[1]).read_text().splitlines()
assert lines[0] == "ready" and len(lines) == 2, lines
expected = [pathlib.Path(path).as_uri() for path in sys.argv[2:]]
got = json.loads(lines[1])
assert got == expected, f"got {got}, expected {expected}"
PY
log "the target received the ${#FILES[@]} URIs in order"
log "ok"
