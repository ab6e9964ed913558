"""Write the HTML report of a run, open it in headless Chromium and take a screenshot of the whole page.

A check of what a reader sees: the report is rendered by a real browser (Debian's ``chromium``
package: ``apt-get install chromium``, driven by playwright, which downloads no browser of its own),
every chart is drawn, and the screenshot covers the page's whole height. It must show text and
charts, not a blank page. Look at the PNG too: Chinese text must show glyphs, not empty boxes.

    python scripts/report_screenshot.py [OUT_DIR] [--png FILE] [--report FILE]
        [--display-script simplified|traditional] [--width 1280] [--static]

Prints the PNG's size and how it took; exits 1 with a message when Chromium is missing, the page
reports a script error or the screenshot is blank.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from kefu_corpus.errors import KefuError
from kefu_corpus.report import write_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
#: As root, with no sandbox; no background connections (this machine's network is closed).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]


def find_browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def screenshot(html: Path, png: Path, *, width: int = 1280, browser: str | None = None) -> dict:
    """Render ``html`` in headless Chromium, wait until every chart is drawn, and write a screenshot of
    the whole page to ``png``. Returns the seconds to the first paint and to the last chart drawn."""
    from playwright.sync_api import sync_playwright

    browser = browser or find_browser()
    if browser is None:
        raise KefuError("Chromium is not installed.", hint="apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=browser, args=FLAGS)
        try:
            page = chromium.new_page(viewport={"width": width, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            started = time.perf_counter()
            page.goto(html.resolve().as_uri())
            page.wait_for_selector("body[data-charts=drawn]", timeout=120_000)
            drawn = time.perf_counter() - started
            paint = page.evaluate("(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || 0")
            if errors:
                raise KefuError(f"The page reported {len(errors)} script error(s): {errors[0]}",
                                hint="open the report in a browser's developer tools")
            page.screenshot(path=str(png), full_page=True)
        finally:
            chromium.close()
    return {"first_paint": paint / 1000, "charts_drawn": drawn}


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
    parser.add_argument("--display-script", default=None, choices=("simplified", "traditional"))
    parser.add_argument("--width", type=int, default=1280, help="viewport width in pixels")
    parser.add_argument("--static", action="store_true", help="the report with PNG charts")
    args = parser.parse_args()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            html = write_report(args.out, args.report or Path(tmp) / "report.html",
                                display_script=args.display_script, static=args.static)
            timing = screenshot(html, args.png, width=args.width)
        stats = blank_check(args.png)
    except KefuError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.png}: {stats['size'][0]}x{stats['size'][1]}, {stats['ink']:.1%} ink, {stats['colours']} colours; "
          f"first paint {timing['first_paint']:.2f} s, every chart drawn {timing['charts_drawn']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
