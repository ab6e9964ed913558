"""The per-document stages on Dask against the local pool: the same run, two engines.

Runs ingest, normalise, dedup and segment on the bench corpus (../shared/bench/tw_laws.jsonl.gz) with
`--workers 2`, once with the local process pool and once with Dask through a LocalCluster of two worker
processes on 127.0.0.1, and prints the seconds and MB/s of each stage and of the four together, the
ratio Dask/local, and whether the tables are the same bytes.

    python benchmarks/dask_throughput.py [--corpus PATH] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from kefu_corpus import pipeline, tablefiles
from kefu_corpus.config import Config

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench" / "tw_laws.jsonl.gz"
FRONT = ("ingest", "normalise", "dedup", "segment")


def front(corpus: Path, out: Path, workers: int, executor: str) -> dict:
    config = Config().with_overrides({"run.workers": workers, "run.executor": executor})
    result = pipeline.run(corpus, out, config, stages=FRONT)
    return {**{s: result.manifest["stages"][s]["seconds"] for s in FRONT}, "bytes": result.bytes_in}


def _files(table: Path) -> dict[str, bytes]:
    """The bytes of a table's files (one file, or the parts of a folder)."""
    return {p.name: p.read_bytes() for p in tablefiles.files(table)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=BENCH)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not args.corpus.exists():
        sys.exit(f"{args.corpus} not found: pass --corpus")
    with tempfile.TemporaryDirectory() as folder:
        times = {kind: front(args.corpus, Path(folder) / kind, args.workers, kind) for kind in ("local", "dask")}
        same = all(_files(Path(folder) / "local" / f"{t}.parquet") == _files(Path(folder) / "dask" / f"{t}.parquet")
                   for t in ("documents", "passages", "duplicates", "tokens"))
    mb = times["local"].pop("bytes") / 1e6
    times["dask"].pop("bytes")
    print(f"{args.corpus.name}: {mb:.1f} MB of text, {args.workers} workers")
    print(f"{'stage':10} {'local s':>9} {'dask s':>9} {'dask/local':>11}")
    for stage in FRONT:
        local, dask = times["local"][stage], times["dask"][stage]
        print(f"{stage:10} {local:9.2f} {dask:9.2f} {local / dask:11.2f}")
    local, dask = sum(times["local"].values()), sum(times["dask"].values())
    print(f"{'together':10} {local:9.2f} {dask:9.2f} {local / dask:11.2f}   (throughput ratio, >= 0.8 is the goal)")
    print(f"MB/s: local {mb / local:.2f}, dask {mb / dask:.2f}")
    print(f"tables byte-identical: {same}")


if __name__ == "__main__":
    main()
