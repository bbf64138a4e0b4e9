#!/usr/bin/python3
"""The drop benchmark's helpers (tests/e2e/bench-drop.sh runs them).

    bench_drop.py pngs DIR COUNT BYTES          COUNT distinct real PNGs of about BYTES each
    bench_drop.py memory APP                    the app's processes and their memory, as JSON
    bench_drop.py probe-start PORT SESSION      starts the stall probe in the app's page
    bench_drop.py probe-read PORT SESSION       stops it and prints what it saw, as JSON
    bench_drop.py clipboard COUNT API TIMEOUT   waits for COUNT links of API on the CLIPBOARD
    bench_drop.py uploads API CLIENT_ID         the uploads the fake server accepted, as JSON
    bench_drop.py report ...                    checks a run and prints its figures

Standard library only; run with Debian's /usr/bin/python3 like the other e2e helpers.
"""

import json
import os
import sqlite3
import struct
import subprocess
import sys
import time
import urllib.request
import zlib

# --- inputs ---------------------------------------------------------------------------------


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pngs(folder, count, size):
    """Real PNGs as crates/upshot-bench makes them (measure.rs `random_png`): random RGB pixels,
    1024 wide, no filter, the fastest deflate; random, so every file is distinct and none
    compresses."""
    width = 1024
    height = max(1, size // (3 * width))
    for index in range(count):
        pixels = os.urandom(3 * width * height)
        rows = b"".join(b"\x00" + pixels[row * 3 * width:(row + 1) * 3 * width]
                        for row in range(height))
        png = (b"\x89PNG\r\n\x1a\n"
               + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
               + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))
        path = os.path.join(folder, f"file-{index:04}.png")
        with open(path, "wb") as f:
            f.write(png)
        print(path)


# --- memory ---------------------------------------------------------------------------------


def processes():
    """pid -> (parent pid, name, CPU seconds used) of every process."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        try:  # the comm name is cut at 15 characters; the command's own is not
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                name = os.path.basename(f.read().split(b"\0")[0].decode()) or name
        except (OSError, UnicodeDecodeError):
            pass
        parent = int(stat[stat.rindex(")") + 2:].split()[1])
        found[int(entry)] = (parent, name, cpu)
    return found


def field_kib(path, field):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def memory(app):
    """The app's process (whose executable is APP; exactly one) and every process under it (its
    WebKit web and network processes, and whatever they start): each one's PSS from
    /proc/PID/smaps_rollup (shared pages split between the processes sharing them, so the sum
    counts each page once), or its RSS where that file is missing."""
    app = os.path.realpath(app)
    table = processes()
    roots = []
    for pid in table:
        try:
            if os.readlink(f"/proc/{pid}/exe") == app:
                roots.append(pid)
        except OSError:
            pass
    if len(roots) != 1:
        raise SystemExit(f"expected one process running {app}, found {roots}")
    members, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        members.append(pid)
        todo.extend(child for child, (parent, _, _) in table.items() if parent == pid)
    listed, kinds = [], set()
    for pid in sorted(members):
        pss = field_kib(f"/proc/{pid}/smaps_rollup", "Pss")
        if pss is not None:
            kib, kind = pss, "PSS"
        else:
            kib, kind = field_kib(f"/proc/{pid}/status", "VmRSS") or 0, "RSS"
        kinds.add(kind)
        listed.append({"pid": pid, "name": table[pid][1], "kib": kib, "kind": kind,
                       "cpu": table[pid][2]})
    print(json.dumps({"mb": sum(p["kib"] for p in listed) / 1024,
                      "kind": "+".join(sorted(kinds)), "processes": listed}))


# --- the stall probe ------------------------------------------------------------------------

# A 16 ms setTimeout chain: each tick's lateness is the time it ran minus the time it was due
# (when it was set, plus 16 ms). WebKitGTK has no Long Tasks API; a task that holds the page's
# main thread delays the next tick by about its length. Every tick is kept, with Date.now()
# (the same clock as the shell's $EPOCHREALTIME), so the worst can be taken over any interval.
PROBE_START = """
const probe = window.__probe = {ticks: [], stopped: false};
let due = performance.now() + 16;
function tick() {
  const now = performance.now();
  if (probe.ticks.length < 200000) probe.ticks.push([Date.now(), now - due]);
  if (probe.stopped) return;
  due = performance.now() + 16;
  setTimeout(tick, 16);
}
setTimeout(tick, 16);
return true;
"""

PROBE_READ = """
const probe = window.__probe;
if (!probe) return null;
probe.stopped = true;
return probe.ticks;
"""


def probe(command, port, session_id):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from webdriver import attach
    s = attach(port, session_id)
    if command == "probe-start":
        assert s.execute(PROBE_START) is True, "the probe did not start in the page"
    else:
        ticks = s.execute(PROBE_READ)
        assert ticks, "the page has no probe (it was reloaded?) or it never ticked"
        print(json.dumps(ticks))


# --- the clipboard and the server -----------------------------------------------------------


def links_on_clipboard(api):
    run = subprocess.run(["xclip", "-selection", "clipboard", "-o", "-t", "UTF8_STRING"],
                         capture_output=True, text=True, timeout=10)
    if run.returncode != 0:
        return []
    return [line for line in run.stdout.splitlines() if line.startswith(api + "/")]


def clipboard(count, api, timeout):
    """Polls the CLIPBOARD every 50 ms; prints "first TIME N" when links first show there and
    "done TIME" (time.time(), the same clock as $EPOCHREALTIME) when it holds COUNT distinct
    links of the fake server; "timeout N" if it never does."""
    deadline = time.time() + timeout
    seen = 0
    while time.time() < deadline:
        links = links_on_clipboard(api)
        now = time.time()
        if links and not seen:
            print(f"first {now:.6f} {len(links)}", flush=True)
        seen = max(seen, len(links))
        if len(links) == count and len(set(links)) == count:
            print(f"done {now:.6f}", flush=True)
            return 0
        time.sleep(0.05)
    print(f"timeout {seen}", flush=True)
    return 1


def uploads(api, client_id):
    with urllib.request.urlopen(api + "/_fake/state", timeout=30) as answer:
        state = json.load(answer)
    print(json.dumps([u for u in state["uploads"] if u.get("client_id") == client_id]))


# --- the report -----------------------------------------------------------------------------


def load(path):
    with open(path) as f:
        return json.load(f)


def timeline(data_dir):
    """From a data directory's database (times in ms since the epoch): when its jobs were
    queued (first, last) and their uploads recorded (first, last)."""
    db = sqlite3.connect(f"file:{data_dir}/upshot.db?mode=ro", uri=True)
    try:
        queued = db.execute("SELECT min(created_at), max(created_at), count(*) FROM jobs").fetchone()
        done = db.execute("SELECT min(uploaded_at), max(uploaded_at), count(*) FROM history").fetchone()
    finally:
        db.close()
    return {"queued": queued[:2], "jobs": queued[2], "uploaded": done[:2], "uploads": done[2]}


def report(argv):
    """report WORK COUNT KB API PRESSED RELEASED FILE...: checks the run (what the server
    received, the clipboard's links, the CLI runs) and prints the figures."""
    work, count, kb, api, pressed, released = argv[:6]
    count, pressed, released = int(count), float(pressed), float(released)
    files = argv[6:]
    assert len(files) == count

    # The drop: exactly COUNT uploads reached the server between the drop's snapshots, and the
    # clipboard holds exactly their links, in drop order (per the app's history).
    before = {u["id"] for u in load(f"{work}/uploads-before-drop.json")}
    after = [u for u in load(f"{work}/uploads-after-drop.json") if u["id"] not in before]
    if len(after) != count:
        raise SystemExit(f"the fake server received {len(after)} uploads from the drop, "
                         f"expected {count}")
    server_links = {f"{api}/{u['id']}.{u['ext']}" for u in after}
    with open(f"{work}/clipboard.txt") as f:
        clip = [line for line in f.read().splitlines() if line]
    if sorted(clip) != sorted(server_links):
        raise SystemExit("the clipboard's links are not the links of the drop's uploads")
    history = [json.loads(line) for line in open(f"{work}/history.jsonl") if line.strip()]
    link_of = {e["source_path"]: e["link"] for e in history if e.get("source_path") in files}
    if [link_of.get(path) for path in files] != clip:
        raise SystemExit("the clipboard's links are not in drop order (per `upshot history list`)")

    poll = dict(line.split(" ", 1) for line in open(f"{work}/clipboard-poll.log").read().splitlines()
                if line.startswith(("first ", "done ")))
    done = float(poll["done"])
    first = float(poll["first"].split()[0])
    drop_secs = done - released

    # The CLI runs: each accepted by the server COUNT times and printed COUNT links.
    cli = []
    for name in ("cli-1", "cli-2"):
        usage = load(f"{work}/{name}.usage.json")
        if not usage["success"]:
            raise SystemExit(f"upshot upload ({name}) failed: {usage['status']}")
        received = load(f"{work}/{name}.received.json")
        if received != count:
            raise SystemExit(f"upshot upload ({name}): the fake server accepted {received} "
                             f"uploads, expected {count}")
        cli.append(usage)
    cli_mean = sum(u["wall_secs"] for u in cli) / len(cli)

    # The probe: the worst lateness from the press that started the drag until the links were
    # all on the clipboard (the probe was read right after), and before the drag (idle).
    ticks = load(f"{work}/probe.json")
    during = [late for at, late in ticks if at >= pressed * 1000]
    idle = [late for at, late in ticks if at < pressed * 1000]
    if not during or not idle:
        raise SystemExit(f"the probe has {len(idle)} ticks before the drag and {len(during)} "
                         "during it; it should have many of both")
    # A tick `late` ms late ran at `at`: the page's main thread was held from about its due
    # time (at - late) until then.
    stalls = [(late, at) for at, late in ticks if at >= pressed * 1000 and late >= 50]
    stalls_said = ", ".join(f"{late:.0f} ms ({(at - late) / 1000 - released:+.2f} to "
                            f"{at / 1000 - released:+.2f} s)" for late, at in stalls) or "none"

    mem_before, mem_after = load(f"{work}/memory-before.json"), load(f"{work}/memory-after.json")

    # Where the time goes, from the app's and the CLI's own databases.
    app = timeline(f"{work}/data")
    clis = [timeline(f"{work}/{name}-data") for name in ("cli-1", "cli-2")]
    since = lambda ms: ms / 1000 - released  # noqa: E731

    def names(mem):
        return ", ".join(sorted({p["name"] for p in mem["processes"]}))

    print(f"drop: {count} PNGs of {kb} KB dragged at once onto the app (real XDND drag, Xvfb), "
          "fake Imgur on loopback, 2 uploads at a time in both")
    print(f"  upshot upload of the same files: {cli[0]['wall_secs']:.2f} s before the drop, "
          f"{cli[1]['wall_secs']:.2f} s after (mean {cli_mean:.2f} s; "
          + ", ".join(f"{u['user_secs'] + u['sys_secs']:.2f}" for u in cli)
          + f" s CPU); the server received all {count} of each")
    print(f"  drop -> all {count} links on the clipboard: {drop_secs:.2f} s from the mouse release "
          f"(first links seen {first - released:.2f} s after it); the server received each file "
          "once, the clipboard holds their links in drop order")
    print(f"  ratio drop/upshot upload {drop_secs / cli_mean:.3f} (goal: at most 1.10)")
    print(f"  where the drop's time goes, from the mouse release: {app['jobs']} jobs queued "
          f"{since(app['queued'][0]):.2f}-{since(app['queued'][1]):.2f} s, uploads recorded "
          f"{since(app['uploaded'][0]):.2f}-{since(app['uploaded'][1]):.2f} s, all links on the "
          f"clipboard {drop_secs:.2f} s; upshot upload's first job queued to last upload recorded "
          + ", ".join(f"{(c['uploaded'][1] - c['queued'][0]) / 1000:.2f} s" for c in clis)
          + f" (the app's {(app['uploaded'][1] - app['queued'][0]) / 1000:.2f} s)")
    print(f"  webview's worst stall (16 ms timer's worst lateness) {max(during):.0f} ms from the "
          f"drag's press until the links were read off the clipboard (goal: under 50 ms); idle "
          f"before the drag {max(idle):.0f} ms; each stall of 50 ms or more, from the mouse release "
          f"({len(during)} ticks from the press, the last {ticks[-1][0] / 1000 - released:+.2f} s "
          f"after the release): {stalls_said}")
    cpu_before = {p["pid"]: p["cpu"] for p in mem_before["processes"]}
    print("  CPU the app's processes used from before the drop until all links were on the "
          "clipboard: " + ", ".join(f"{p['name']} {p['cpu'] - cpu_before.get(p['pid'], 0):.2f} s"
                                    for p in mem_after["processes"]))
    print(f"  app memory ({mem_before['kind']}, the app and every process under it: "
          f"{names(mem_after)}): {mem_before['mb']:.1f} MB before the drop, "
          f"{mem_after['mb']:.1f} MB with all links on the clipboard")


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "pngs":
        pngs(args[0], int(args[1]), int(args[2]))
    elif command == "memory":
        memory(args[0])
    elif command in ("probe-start", "probe-read"):
        probe(command, args[0], args[1])
    elif command == "clipboard":
        return clipboard(int(args[0]), args[1], float(args[2]))
    elif command == "uploads":
        uploads(args[0], args[1])
    elif command == "report":
        report(args)
    else:
        raise SystemExit(f"unknown command {command}; see {__file__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
