"""Ingest throughput and peak memory on the bench corpus, for 1 and 2 workers.

Reads ../shared/bench/tw_laws.jsonl.gz in place (85 MB of Traditional text, 11,547 documents) and the
seed folder data/raw. Each run is a separate `kefu ingest` process, so peak memory is that process's
own (plus its workers'). Prints one line per run: MB/s of raw text (UTF-8 bytes), documents/s, peak RSS.

    python benchmarks/ingest_throughput.py [--corpus PATH] [--workers 1 2] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench" / "tw_laws.jsonl.gz"


def run_once(raw: Path, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "kefu_corpus", "ingest", str(raw), "--out", out, "--workers", str(workers), "-q"]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if status != 0:
            raise SystemExit(f"{' '.join(cmd)} failed with status {status}")
        manifest = json.loads((Path(out) / "manifest.json").read_text(encoding="utf-8"))
    stage = manifest["stages"]["ingest"]
    docs = manifest["tables"]["documents"]["rows"]
    # ru_maxrss of the waited process covers it alone; workers are its children and report separately.
    return {"workers": workers, "mb": stage["bytes"] / 1e6, "stage_s": stage["seconds"], "wall_s": wall,
            "mb_per_s": stage["bytes"] / 1e6 / stage["seconds"], "docs_per_s": docs / stage["seconds"],
            "peak_rss_mb": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=BENCH)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=2, help="runs per setting; the best is reported")
    args = parser.parse_args()
    targets = [("seeds (data/raw)", ROOT / "data" / "raw")]
    if args.corpus.exists():
        targets.append((args.corpus.name, args.corpus))
    else:
        print(f"note: {args.corpus} not found; only the seeds are measured")
    print(f"{'input':<22} {'workers':>7} {'MB':>8} {'stage s':>8} {'wall s':>7} {'MB/s':>7} {'docs/s':>8} {'peak RSS MB':>11}")
    for label, raw in targets:
        for workers in args.workers:
            best = min((run_once(raw, workers) for _ in range(args.repeat)), key=lambda r: r["stage_s"])
            print(f"{label:<22} {workers:>7} {best['mb']:>8.1f} {best['stage_s']:>8.2f} {best['wall_s']:>7.2f} "
                  f"{best['mb_per_s']:>7.1f} {best['docs_per_s']:>8.0f} {best['peak_rss_mb']:>11.0f}")


if __name__ == "__main__":
    main()
