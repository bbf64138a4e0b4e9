"""Prints a digest of what an X window shows now, or "blank" when it is one colour (not painted
yet), for the end-to-end tests to wait on a window's drawing.

    python3 window_image.py WINDOW_ID

Reads the window's pixels through GDK (XGetImage: Xvfb has no compositor, a mapped window's
pixels are on the screen). Exits 1 when the window is gone or not viewable.
"""

import hashlib
import sys

import gi

gi.require_version("Gdk", "3.0")
gi.require_version("GdkX11", "3.0")
from gi.repository import Gdk, GdkX11  # noqa: E402


def main(xid):
    display = GdkX11.X11Display.get_default()
    if display is None:
        sys.exit("no X display (DISPLAY)")
    window = GdkX11.X11Window.foreign_new_for_display(display, xid)
    if window is None:
        sys.exit(f"no window {xid:#x}")
    width, height = window.get_width(), window.get_height()
    pixbuf = Gdk.pixbuf_get_from_window(window, 0, 0, width, height)
    if pixbuf is None:
        sys.exit(f"window {xid:#x} is not viewable")
    pixels = pixbuf.get_pixels()
    step = pixbuf.get_n_channels()
    first = pixels[:step]
    blank = all(pixels[i:i + step] == first for i in range(0, len(pixels), step * 97))
    print("blank" if blank else hashlib.sha256(pixels).hexdigest()[:16])


if __name__ == "__main__":
    main(int(sys.argv[1], 0))
