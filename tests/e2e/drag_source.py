#!/usr/bin/python3
"""A real X11 drag source (and, for checking it, a drop target) for the end-to-end tests.

    /usr/bin/python3 tests/e2e/drag_source.py [--at X,Y] FILE...
    /usr/bin/python3 tests/e2e/drag_source.py --target [--at X,Y]

Source mode: a small GTK 3 window titled "e2e drag source" that offers `text/uri-list` (the
file:// URIs of FILE..., in order) when dragged. The test drives the pointer with xdotool
(press on this window, move onto the drop target, release); GTK does the XDND exchange, which
works under Xvfb without a window manager. Prints "ready" once the window is mapped, then
"drag-end" (after a drop the target accepted) or "drag-failed REASON", and exits: 0 after a
drop, 1 when the drag failed.

Target mode: a window titled "e2e drop target" that accepts `text/uri-list`, prints the URIs
it received as one JSON list, and exits. It exists to prove the source works on its own.

Needs python3-gi and gir1.2-gtk-3.0: run it with Debian's /usr/bin/python3.
"""

import argparse
import json
import sys

import gi

gi.require_version("Gdk", "3.0")
gi.require_version("Gtk", "3.0")
from gi.repository import Gdk, Gio, GLib, Gtk  # noqa: E402

SOURCE_TITLE = "e2e drag source"
TARGET_TITLE = "e2e drop target"


def say(line):
    print(line, flush=True)


def place(window, at):
    x, y = at
    window.move(x, y)
    window.set_default_size(180, 120)
    window.set_resizable(False)


def mapped(window, *_):
    # Without a window manager the window is where it asked to be once it is mapped.
    GLib.idle_add(lambda: say("ready") or False)
    window.disconnect_by_func(mapped)


def run_source(paths, at):
    uris = [Gio.File.new_for_path(path).get_uri() for path in paths]
    window = Gtk.Window(title=SOURCE_TITLE)
    place(window, at)
    area = Gtk.EventBox()
    area.add(Gtk.Label(label=f"drag {len(uris)} file(s)"))
    window.add(area)

    targets = Gtk.TargetList.new([])
    targets.add_uri_targets(0)  # text/uri-list
    area.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
    area.drag_source_set_target_list(targets)

    outcome = {"failed": None}

    def data_get(_widget, _context, data, _info, _time):
        data.set_uris(uris)

    def failed(_widget, _context, result):
        outcome["failed"] = result.value_nick
        return False

    def ended(*_):
        # drag-failed comes before drag-end when the drop did not happen.
        if outcome["failed"]:
            say(f"drag-failed {outcome['failed']}")
        else:
            say("drag-end")
        Gtk.main_quit()

    area.connect("drag-data-get", data_get)
    area.connect("drag-failed", failed)
    area.connect("drag-end", ended)
    window.connect("destroy", Gtk.main_quit)
    window.connect("map-event", mapped)
    window.show_all()
    Gtk.main()
    return 1 if outcome["failed"] else 0


def run_target(at):
    window = Gtk.Window(title=TARGET_TITLE)
    place(window, at)
    area = Gtk.EventBox()
    area.add(Gtk.Label(label="drop here"))
    window.add(area)
    area.drag_dest_set(Gtk.DestDefaults.ALL, [], Gdk.DragAction.COPY)
    area.drag_dest_add_uri_targets()

    def received(_widget, _context, _x, _y, data, _info, _time):
        say(json.dumps(list(data.get_uris())))
        # Let GTK finish the exchange (drag_finish) before leaving.
        GLib.timeout_add(200, Gtk.main_quit)

    area.connect("drag-data-received", received)
    window.connect("destroy", Gtk.main_quit)
    window.connect("map-event", mapped)
    window.show_all()
    Gtk.main()
    return 0


def point(text):
    x, _, y = text.partition(",")
    return int(x), int(y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="store_true", help="be a drop target instead")
    parser.add_argument("--at", type=point, default=(10, 10), help="window position X,Y")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    if args.target:
        return run_target(args.at)
    if not args.files:
        parser.error("give the files to offer")
    return run_source(args.files, args.at)


if __name__ == "__main__":
    sys.exit(main())
