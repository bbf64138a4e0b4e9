#!/usr/bin/env python3
"""Draw Upshot's app icon: a white upload arrow in a rounded square.

Run once by hand (`pip install pillow && python3 icons/generate.py`); the outputs are
committed, so neither CI nor a normal build needs Python or Pillow.

Tauri wants RGBA PNGs (it embeds one as the window icon on Linux), `icon.ico` for Windows
resources and `icon.icns` for the macOS bundle.
"""

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent

# Drawn large and scaled down so edges come out antialiased at every size.
CANVAS = 2048
TOP = (99, 102, 241)  # indigo
BOTTOM = (14, 165, 233)  # sky blue
ARROW = (255, 255, 255, 255)


def master() -> Image.Image:
    size = CANVAS
    margin = round(size * 0.06)
    radius = round(size * 0.22)

    # Vertical gradient, cut to a rounded square by a mask.
    gradient = Image.new("RGBA", (size, size))
    draw = ImageDraw.Draw(gradient)
    for y in range(size):
        t = y / (size - 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(TOP, BOTTOM))
        draw.line([(0, y), (size, y)], fill=colour + (255,))
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        [margin, margin, size - margin, size - margin], radius=radius, fill=255
    )
    icon = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    icon.paste(gradient, (0, 0), mask)

    # Upward arrow: a triangle head over a rounded shaft, and a tray line below it.
    draw = ImageDraw.Draw(icon)
    cx = size / 2
    u = size / 100  # one percent of the canvas
    head_top, head_bottom, head_half = 20 * u, 50 * u, 22 * u
    draw.polygon(
        [(cx, head_top), (cx + head_half, head_bottom), (cx - head_half, head_bottom)],
        fill=ARROW,
    )
    shaft_half = 7 * u
    draw.rounded_rectangle(
        [cx - shaft_half, head_bottom - 2 * u, cx + shaft_half, 68 * u],
        radius=3 * u,
        fill=ARROW,
    )
    tray_half = 26 * u
    draw.rounded_rectangle(
        [cx - tray_half, 74 * u, cx + tray_half, 82 * u], radius=4 * u, fill=ARROW
    )
    return icon


def main() -> None:
    big = master()

    def sized(px: int) -> Image.Image:
        return big.resize((px, px), Image.LANCZOS)

    for name, px in {
        "32x32.png": 32,
        "128x128.png": 128,
        "128x128@2x.png": 256,
        "icon.png": 512,
    }.items():
        sized(px).save(HERE / name, optimize=True)

    sized(256).save(
        HERE / "icon.ico",
        sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)],
    )
    sized(1024).save(HERE / "icon.icns")


if __name__ == "__main__":
    main()
