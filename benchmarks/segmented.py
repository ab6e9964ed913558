"""The segmented bench corpus for the analysis benchmarks: an earlier run's folder, or one built now.

    with segmented_corpus(args) as out: ...   # args from add_arguments(parser)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from kefu_corpus import pipeline
from kefu_corpus.config import Config

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench" / "tw_laws.jsonl.gz"
#: The stages a tokens table needs; the analyses themselves are what the benchmarks time.
STAGES = ("ingest", "normalise", "dedup", "segment")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, default=BENCH)
    parser.add_argument("--out", type=Path, help="output folder of an earlier run (with tokens.parquet)")


@contextmanager
def segmented_corpus(args: argparse.Namespace) -> Iterator[Path]:
    """``args.out`` when given, else a temporary folder with ``args.corpus`` run through :data:`STAGES`."""
    if args.out is not None:
        yield args.out
        return
    if not args.corpus.exists():
        sys.exit(f"{args.corpus} not found: pass --corpus PATH or --out DIR")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        pipeline.run(args.corpus, out, Config(), stages=STAGES)
        yield out
