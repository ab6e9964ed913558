"""End to end: `kefu run` on the bench corpus and on its first half, stage by stage.

Runs the whole pipeline as a user would (`kefu run CORPUS --out DIR --workers N`, in a subprocess under
`/usr/bin/time -v` where it exists) on ../shared/bench/tw_laws.jsonl.gz and on a file of its first half,
and prints for each: seconds, peak memory and throughput of every stage (from the run's manifest), MB/s
of ingest through segment together and of the whole run, and the run's peak memory two ways:

- the manifest's per-stage peak: proportional set size (PSS) of the driver and its workers summed,
  sampled every second (shared pages count once);
- `/usr/bin/time`'s maximum resident set size: the largest single process of the run.

Then the same run again, which finds the folder up to date (`run.skip_unchanged`), and how time and
memory grow from half the corpus to the whole.

    python benchmarks/run_end_to_end.py [--corpus PATH] [--workers 2] [--no-half] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import gzip
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
FRONT = ("ingest", "normalise", "dedup", "segment")


def first_half(corpus: Path, folder: Path) -> Path:
    opener = gzip.open if corpus.suffix == ".gz" else open
    with opener(corpus, "rt", encoding="utf-8") as fh:
        lines = fh.readlines()
    half = folder / "first_half.jsonl"
    half.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    return half


def kefu(*args: str) -> tuple[float, float | None]:
    """Run ``kefu ARGS`` (under `/usr/bin/time -v` where it exists): its wall time and peak RSS in MB."""
    command = [str(Path(sys.executable).with_name("kefu")), *args]
    timer = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    if timer:
        command = [timer, "-v", *command]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"kefu {args[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    max_rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return wall, int(max_rss.group(1)) / 1e3 if max_rss else None


def run(corpus: Path, out: Path, workers: int, sets: list[str]) -> dict:
    wall, max_rss_mb = kefu("run", str(corpus), "--out", str(out), "--workers", str(workers), "--quiet",
                            *[arg for s in sets for arg in ("--set", s)])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {"wall": wall, "max_rss_mb": max_rss_mb, "manifest": manifest}


def report(label: str, result: dict) -> dict:
    stages = result["manifest"]["stages"]
    n_bytes = stages["ingest"]["bytes"]
    print(f"\n{label}: {n_bytes / 1e6:.1f} MB of text, {result['manifest']['tables']['documents']['rows']:,} documents")
    print(f"  {'stage':<10} {'seconds':>8} {'peak MB':>8} {'MB/s':>7}")
    for name, info in stages.items():
        rate = n_bytes / 1e6 / info["seconds"] if info.get("seconds") else float("nan")
        print(f"  {name:<10} {info['seconds']:8.2f} {info.get('peak_rss_mb', float('nan')):8.0f} {rate:7.2f}")
    front = sum(stages[s]["seconds"] for s in FRONT)
    total = result["manifest"]["seconds"]
    peak = max(info.get("peak_rss_mb", 0) for info in stages.values())
    print(f"  ingest..segment {front:7.2f} s = {n_bytes / 1e6 / front:.2f} MB/s")
    print(f"  whole run       {total:7.2f} s = {n_bytes / 1e6 / total:.2f} MB/s (process wall {result['wall']:.1f} s)")
    print(f"  peak memory: {peak:,.0f} MB (PSS of driver + workers, sampled); "
          f"largest process {result['max_rss_mb'] or float('nan'):,.0f} MB (/usr/bin/time)")
    topics = stages.get("topics", {})
    if topics.get("k"):
        print(f"  topics: {topics['engine']} k={topics['k']} NPMI {topics['coherence']:.3f} on a sample of "
              f"{topics['sample_units']:,} of {topics['units']:,} units")
    return {"seconds": total, "peak": peak, "max_rss": result["max_rss_mb"] or 0.0, "front": front,
            "wall": result["wall"], "started_at": result["manifest"]["started_at"]}


def print_report_cost(out: Path) -> None:
    """`kefu report` on the run: wall time, peak RSS and the size of the HTML (a summary: its cost must
    depend on the caps it shows, not on the corpus)."""
    wall, max_rss_mb = kefu("report", str(out), "-o", str(out / "report.html"))
    size = (out / "report.html").stat().st_size / 1e6
    print(f"  kefu report: {wall:.1f} s, " + (f"peak RSS {max_rss_mb:,.0f} MB, " if max_rss_mb else "")
          + f"{size:.1f} MB of HTML")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=BENCH)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-half", action="store_true", help="skip the run on the first half")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    if not args.corpus.exists():
        sys.exit(f"{args.corpus} not found: pass --corpus PATH")
    print(f"kefu run {args.corpus.name} --workers {args.workers}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        whole = report("whole corpus", run(args.corpus, tmp / "whole", args.workers, args.sets))
        again = run(args.corpus, tmp / "whole", args.workers, args.sets)
        print(f"  the same run again (inputs, config and code unchanged): {again['wall']:.2f} s of process wall, "
              f"{100 * again['wall'] / whole['wall']:.1f}% of the first run's "
              f"({'up to date' if again['manifest']['started_at'] == whole['started_at'] else 'RAN AGAIN'})")
        print_report_cost(tmp / "whole")
        if args.no_half:
            return
        half = report("first half", run(first_half(args.corpus, tmp), tmp / "half", args.workers, args.sets))
        print_report_cost(tmp / "half")
    print(f"\nfrom half to whole: time x{whole['seconds'] / half['seconds']:.2f}, "
          f"peak memory (PSS) {100 * (whole['peak'] / half['peak'] - 1):+.0f}%, "
          f"largest process {100 * (whole['max_rss'] / half['max_rss'] - 1):+.0f}%")


if __name__ == "__main__":
    main()
