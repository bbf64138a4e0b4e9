"""Checks one batch's outcome for the end-to-end tests: the uploads at the shared fake server,
the links on the CLIPBOARD and the one notification.

    python3 batch_check.py snapshot STATE                 what is there now (before the batch)
    python3 batch_check.py batch STATE TIMEOUT WxH...     one batch of these images, in order
    python3 batch_check.py uncopied STATE TIMEOUT WxH...  a batch uploaded with "copy the links"
                                                          off: the clipboard is left alone
    python3 batch_check.py nothing STATE                  nothing came of it (no upload, no note)

STATE is a file that `snapshot` writes: the fake server's upload ids and the notification count
(the fake server and the notification server are shared by the run). `batch` waits (at most
TIMEOUT seconds for each step) until the fake server has one new upload of each size given (each
its own), checks that no other arrives, that the CLIPBOARD holds their direct links one a line in
the order given, and that exactly one new notification says "N uploaded". On a failure it prints
what the server, the clipboard, the notifications and the app's status line hold, and exits 1.

Environment: E2E_API, E2E_NOTIFICATIONS, UPSHOT_CLIENT_ID (the app's), and, to show the app's
status line on a failure, E2E_DRIVER_PORT and E2E_SESSION. Standard library only.
"""

import collections
import json
import os
import subprocess
import sys
import time
import urllib.request

from webdriver import attach, log, wait

API = os.environ["E2E_API"]
NOTES = os.environ["E2E_NOTIFICATIONS"]


def server_uploads():
    with urllib.request.urlopen(API + "/_fake/state", timeout=10) as answer:
        return json.load(answer)["uploads"]


def notes():
    with open(NOTES) as f:
        return [json.loads(line) for line in f.read().splitlines()]


def clipboard():
    """The CLIPBOARD's text, or None when nobody holds it (or it has no text). Bytes that are not
    UTF-8 (a picture xclip serves whatever target is asked) are replaced, not an error."""
    run = subprocess.run(["xclip", "-selection", "clipboard", "-o", "-t", "UTF8_STRING"],
                         capture_output=True, timeout=10)
    return run.stdout.decode("utf-8", "replace") if run.returncode == 0 else None


def status_line():
    port, session = os.environ.get("E2E_DRIVER_PORT"), os.environ.get("E2E_SESSION")
    if not port or not session:
        return None
    try:
        return attach(port, session).text(".status-bar .status")
    except Exception as error:  # only for a diagnosis
        return f"(could not read it: {error})"


def link_of(upload):
    return f"{API}/{upload['id']}.{upload['ext']}"


class State:
    def __init__(self, path):
        with open(path) as f:
            saved = json.load(f)
        self.ids = set(saved["uploads"])
        self.notes = saved["notes"]

    def new_uploads(self):
        return [u for u in server_uploads() if u["id"] not in self.ids]

    def new_notes(self):
        return notes()[self.notes:]

    def diagnose(self):
        log("uploads at the fake server since the snapshot:")
        for u in self.new_uploads():
            print("    ", {k: u.get(k) for k in ("id", "ext", "width", "height", "size", "client_id")})
        log(f"clipboard: {clipboard()!r}")
        log("notifications since the snapshot:")
        for note in self.new_notes():
            print("    ", note)
        shown = status_line()
        if shown is not None:
            log(f"the app's status line: {shown!r}")


def snapshot(path):
    with open(path, "w") as f:
        json.dump({"uploads": [u["id"] for u in server_uploads()], "notes": len(notes())}, f)


def batch(state, timeout, sizes, copied=True):
    want = collections.Counter(sizes)
    n = len(sizes)

    # 1. The fake server receives each image once (a late duplicate gets time to show).
    wait(f"{n} upload(s) at the fake server", lambda: len(state.new_uploads()) >= n, timeout)
    time.sleep(2)
    uploads = state.new_uploads()
    assert len(uploads) == n, f"{len(uploads)} uploads, expected {n}"
    got = collections.Counter((u["width"], u["height"]) for u in uploads)
    assert got == want, f"uploaded sizes {dict(got)}, expected {dict(want)}"
    client = os.environ["UPSHOT_CLIENT_ID"]
    assert all(u["client_id"] == client for u in uploads), f"not all from Client ID {client}"
    log(f"the fake server received {n} upload(s) of the expected size(s), each once")

    # 2. The clipboard holds their direct links, one a line, in the order given (or, with
    # copying off, none of them).
    by_size = {(u["width"], u["height"]): u for u in uploads}
    if not copied:
        wait("a notification", state.new_notes, timeout)
        time.sleep(2)
        held = clipboard() or ""
        assert not any(link_of(u) in held for u in uploads), f"a link reached the clipboard: {held!r}"
        shown = state.new_notes()
        assert len(shown) == 1, f"{len(shown)} notifications, expected 1"
        text = f"{shown[0]['summary']}\n{shown[0]['body']}"
        assert f"{n} uploaded" in text and "copied" not in text, f"the notification: {shown[0]}"
        log(f"the clipboard was left alone; one notification: {shown[0]['summary']!r}")
        return
    expected = "\n".join(link_of(by_size[size]) for size in sizes)
    try:
        wait("the links on the clipboard",
             lambda: (clipboard() or "").removesuffix("\n") == expected, timeout)
    except AssertionError:
        log(f"expected clipboard: {expected!r}")
        raise
    log(f"the clipboard holds the {n} link(s) in order")

    # 3. Exactly one notification, which says "N uploaded" (one more gets time to come).
    wait("a notification", state.new_notes, timeout)
    time.sleep(2)
    shown = state.new_notes()
    assert len(shown) == 1, f"{len(shown)} notifications, expected 1"
    text = f"{shown[0]['summary']}\n{shown[0]['body']}"
    assert f"{n} uploaded" in text, f"the notification does not say \"{n} uploaded\": {shown[0]}"
    log(f"one notification: {shown[0]['summary']!r} / {shown[0]['body']!r}")


def nothing(state):
    uploads, shown = state.new_uploads(), state.new_notes()
    assert not uploads, f"{len(uploads)} upload(s) arrived, expected none"
    assert not shown, f"{len(shown)} notification(s), expected none"
    log("no upload and no notification")


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command == "snapshot" and len(argv) == 3:
        snapshot(argv[2])
        return 0
    if command == "batch" and len(argv) >= 5:
        state, timeout = State(argv[2]), int(argv[3])
        sizes = [tuple(int(v) for v in size.split("x")) for size in argv[4:]]
        check = lambda: batch(state, timeout, sizes)  # noqa: E731
    elif command == "uncopied" and len(argv) >= 5:
        state, timeout = State(argv[2]), int(argv[3])
        sizes = [tuple(int(v) for v in size.split("x")) for size in argv[4:]]
        check = lambda: batch(state, timeout, sizes, copied=False)  # noqa: E731
    elif command == "nothing" and len(argv) == 3:
        state = State(argv[2])
        check = lambda: nothing(state)  # noqa: E731
    else:
        sys.exit(__doc__)
    try:
        check()
    except AssertionError as error:
        log(f"FAILED: {error}")
        state.diagnose()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
