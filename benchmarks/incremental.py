"""Incremental reruns: what a rerun costs after adding 1% new documents, after a kill, and with nothing new.

On the bench corpus (../shared/bench/tw_laws.jsonl.gz), in a raw folder holding its first 99% of
records as one file:

1. a full run into OUT;
2. the last 1% of records added as a second file, and `kefu run` into the same OUT: ingest, normalise,
   dedup and segment redo only the parts the new documents fall in (the part cache, OUT/.parts), and
   the corpus-wide steps run again;
3. a full run of the same raw folder into a fresh folder, to compare: every table and the model must be
   the same bytes as the incremental run's;
4. the same run into OUT again, which finds it up to date;
5. a run killed (kill -9) during segment, and the rerun that resumes it.

Prints seconds per stage and parts reused for each, and peak memory (PSS of driver and workers).

    python benchmarks/incremental.py [--corpus PATH] [--workers 2] [--front]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench" / "tw_laws.jsonl.gz"
FRONT = "ingest,normalise,dedup,segment"


def kefu(raw: Path, out: Path, args, env=None) -> tuple[float, int]:
    command = [str(Path(sys.executable).with_name("kefu")), "run", str(raw), "--out", str(out), "--workers",
               str(args.workers), "--quiet"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if done.returncode not in (0, -9):
        sys.exit(done.stderr[-3000:])
    return time.perf_counter() - started, done.returncode


def front_run(raw: Path, out: Path, workers: int, env=None) -> tuple[float, int]:
    script = ("import sys; from pathlib import Path; from kefu_corpus import pipeline; "
              "from kefu_corpus.config import Config; "
              f"pipeline.run(Path(sys.argv[1]), Path(sys.argv[2]), Config().with_overrides({{'run.workers': {workers}}}), "
              f"stages=tuple('{FRONT}'.split(',')))")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, str(raw), str(out)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    if done.returncode not in (0, -9):
        sys.exit(done.stderr[-3000:])
    return time.perf_counter() - started, done.returncode


def files(out: Path) -> dict[str, bytes]:
    from kefu_corpus import tablefiles
    from kefu_corpus.schemas import TABLES

    found = {}
    for spec in TABLES.values():
        for path in tablefiles.files(out / spec.filename):
            if path.exists():
                found[str(path.relative_to(out))] = path.read_bytes()
    model = out / "models" / "topics.npz"
    if model.exists():
        found["models/topics.npz"] = model.read_bytes()
    return found


def show(label: str, out: Path, wall: float) -> float:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    stages = manifest["stages"]
    total = sum(info["seconds"] for info in stages.values())
    peak = max(info.get("peak_rss_mb", 0) for info in stages.values())
    print(f"\n{label}: stages {total:.1f} s (process wall {wall:.1f} s), peak {peak:,.0f} MB")
    for name, info in stages.items():
        reused = info.get("parts_reused")
        parts = f"  parts {info['parts']}, reused {reused}" if reused is not None else ""
        print(f"  {name:<10} {info['seconds']:8.2f} s{parts}")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=BENCH)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--front", action="store_true", help="ingest through segment only (faster)")
    args = parser.parse_args()
    if not args.corpus.exists():
        sys.exit(f"{args.corpus} not found: pass --corpus")
    run = (lambda raw, out, env=None: front_run(raw, out, args.workers, env)) if args.front else \
        (lambda raw, out, env=None: kefu(raw, out, args, env))
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        opener = gzip.open if args.corpus.suffix == ".gz" else open
        with opener(args.corpus, "rt", encoding="utf-8") as fh:
            lines = fh.readlines()
        cut = len(lines) * 99 // 100
        raw = folder / "raw"
        raw.mkdir()
        (raw / "corpus.jsonl").write_text("".join(lines[:cut]), encoding="utf-8")
        out = folder / "out"
        wall, _ = run(raw, out)
        full = show(f"full run, {cut:,} documents", out, wall)
        (raw / "new.jsonl").write_text("".join(lines[cut:]), encoding="utf-8")
        wall, _ = run(raw, out)
        incremental = show(f"after adding {len(lines) - cut:,} documents (1%)", out, wall)
        wall, _ = run(raw, folder / "fresh")
        fresh = show("full run of the same folder, into a fresh output folder", folder / "fresh", wall)
        same = files(out) == files(folder / "fresh")
        wall, _ = run(raw, out)
        print(f"\nunchanged rerun: {wall:.1f} s (process wall, up to date)")
        killed = folder / "killed"
        wall_kill, code = run(raw, killed, {"KEFU_KILL_AT": "segment:part"})
        wall, _ = run(raw, killed)
        resumed = show(f"rerun after a kill -9 during segment (killed at {wall_kill:.1f} s, exit {code})", killed, wall)
        print(f"\nincremental rerun: {incremental:.1f} s = {100 * incremental / fresh:.0f}% of a full run ({fresh:.1f} s); "
              f"first run {full:.1f} s")
        print(f"resumed after a kill: {resumed:.1f} s")
        print(f"incremental tables byte-identical to the full run's: {same}")


if __name__ == "__main__":
    main()
