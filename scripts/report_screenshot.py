"""Write the HTML report of a run, open it in headless Chromium and check the screenshot is not blank.

A check of what a reader sees: the report is rendered by a real browser (Debian's ``chromium``
package: ``apt-get install chromium``), and the screenshot must show text and charts, not a blank page.
Look at the PNG too: Chinese text must show glyphs, not empty boxes.

    python scripts/report_screenshot.py [OUT_DIR] [--png FILE] [--report FILE]
        [--display-script simplified|traditional] [--window-size 1280,4000]

Exits 1 with a message when Chromium is missing or the screenshot is blank.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from kefu_corpus.errors import KefuError
from kefu_corpus.report import write_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def screenshot(html: Path, png: Path, *, window_size: str = "1280,4000", browser: str | None = None) -> Path:
    """Render ``html`` in headless Chromium into ``png``."""
    browser = browser or find_browser()
    if browser is None:
        raise KefuError("Chromium is not installed.", hint="apt-get install chromium")
    with tempfile.TemporaryDirectory() as profile:
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                   "--no-first-run", f"--user-data-dir={profile}", f"--window-size={window_size}",
                   f"--screenshot={png.resolve()}", html.resolve().as_uri()]
        done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if done.returncode != 0 or not png.is_file():
        raise KefuError(f"Chromium could not take the screenshot (exit {done.returncode}).",
                        hint=done.stderr.strip()[-500:] or "run the command by hand to see why")
    return png


def blank_check(png: Path, *, min_ink: float = 0.02, min_colours: int = 16) -> dict:
    """Share of non-white pixels and number of distinct colours; raises KefuError when the page is blank."""
    image = Image.open(png).convert("RGB")
    pixels = np.asarray(image).reshape(-1, 3)
    ink = float((pixels.min(axis=1) < 235).mean())
    colours = len(np.unique(pixels[::7], axis=0))
    stats = {"size": image.size, "ink": round(ink, 4), "colours": colours}
    if ink < min_ink or colours < min_colours:
        raise KefuError(f"The screenshot {png} looks blank ({stats}).", hint="open the report and look")
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", type=Path, default=Path("data/processed"), help="output folder of a run")
    parser.add_argument("--png", type=Path, default=Path("report.png"), help="screenshot to write")
    parser.add_argument("--report", type=Path, help="HTML file to write (default: a temporary file)")
    parser.add_argument("--display-script", default="simplified", choices=("simplified", "traditional"))
    parser.add_argument("--window-size", default="1280,4000", help="WIDTH,HEIGHT in pixels")
    args = parser.parse_args()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            html = write_report(args.out, args.report or Path(tmp) / "report.html",
                                display_script=args.display_script)
            screenshot(html, args.png, window_size=args.window_size)
        stats = blank_check(args.png)
    except KefuError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.png}: {stats['size'][0]}x{stats['size'][1]}, {stats['ink']:.1%} ink, {stats['colours']} colours")
    return 0


if __name__ == "__main__":
    sys.exit(main())
