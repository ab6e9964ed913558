"""Segmentation speed: engines compared on a sample, the segment stage on the bench corpus, and the
size of tokens.parquet by compression codec.

Engines, on the canonical (t2s) text of the first documents of ../shared/bench/tw_laws.jsonl.gz, in MB/s
of UTF-8 text on one core: jieba ``lcut`` (HMM off and on), ``jieba.posseg`` (on a smaller slice: it is
slow), rjieba ``cut`` and ``tag`` (the stage's engine), and the project's ``Segmenter`` with its layers. Then the pipeline builds the tables of the
whole bench corpus once (ingest, normalise, dedup), and ``kefu segment`` runs the stage alone with 1
and 2 workers. Finally the tokens table is written with each codec.

    python benchmarks/segment_throughput.py [--corpus PATH] [--sample-mb 5]
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench" / "tw_laws.jsonl.gz"


def sample(path: Path, mb: float) -> str:
    from kefu_corpus.text.convert import convert

    parts, size = [], 0
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line)["text"]
            parts.append(text)
            size += len(text.encode("utf-8"))
            if size >= mb * 1e6:
                break
    return convert("\n".join(parts), "t2s").text


def rate(fn, text: str) -> float:
    started = time.perf_counter()
    fn(text)
    return len(text.encode("utf-8")) / 1e6 / (time.perf_counter() - started)


def engines(text: str) -> None:
    import jieba
    import jieba.posseg
    import rjieba

    from kefu_corpus.stages.segment import SegmentParams
    from kefu_corpus.text.segment import Segmenter

    layered = Segmenter(SegmentParams())
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    engine = rjieba.Jieba()
    small = text[: len(text) // 20]
    print(f"engines on {len(text.encode('utf-8')) / 1e6:.1f} MB of canonical text (one core):")
    for name, fn, t in [("jieba lcut, HMM off", lambda s: jieba.lcut(s, HMM=False), text),
                        ("jieba lcut, HMM on", lambda s: jieba.lcut(s, HMM=True), text),
                        ("jieba.posseg, HMM off (1/20 of the text)", lambda s: list(jieba.posseg.cut(s, HMM=False)), small),
                        ("rjieba cut, HMM off", lambda s: engine.cut(s, hmm=False), text),
                        ("rjieba tag, HMM off", lambda s: engine.tag(s, hmm=False), text),
                        ("Segmenter.cut, default layers, Simplified",
                         lambda s: [layered.cut(line, "simplified", fine=False) for line in s.splitlines()], text),
                        ("Segmenter.cut, default layers, Traditional",
                         lambda s: [layered.cut(line, "traditional", fine=False) for line in s.splitlines()], text),
                        ("Segmenter.tag, default layers, Simplified",
                         lambda s: [layered.tag(line, "simplified") for line in s.splitlines()], text),
                        ("Segmenter.tag, default layers, Traditional",
                         lambda s: [layered.tag(line, "traditional") for line in s.splitlines()], text)]:
        print(f"  {name:<42} {rate(fn, t):7.2f} MB/s")
    print("  (the stage calls Segmenter.cut per passage, then cuts compounds and tags each distinct word of a "
          "batch at once; kefu tokenize calls Segmenter.tag per line)")


def kefu(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "kefu_corpus", *args, "--quiet"], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=BENCH)
    parser.add_argument("--sample-mb", type=float, default=5.0)
    args = parser.parse_args()
    if not args.corpus.is_file():
        sys.exit(f"{args.corpus} not found: pass --corpus PATH (a JSON Lines file with a 'text' field)")
    engines(sample(args.corpus, args.sample_mb))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        kefu("ingest", str(args.corpus), "--out", str(out))  # the stages before segment, not the analyses
        kefu("normalise", str(out))
        kefu("dedup", str(out))
        for workers in (1, 2):
            kefu("segment", str(out), "--workers", str(workers), "--set", "run.reuse_parts=false")  # every part again
            stage = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stages"]["segment"]
            print(f"segment stage, {args.corpus.name} ({stage['bytes'] / 1e6:.1f} MB canonical text, "
                  f"{stage['tokens']:,} tokens), {workers} worker(s): {stage['mb_per_s']:.2f} MB/s "
                  f"({stage['seconds']:.1f} s)")
        table = pq.read_table(out / "tokens.parquet")
        print(f"tokens.parquet by codec ({table.num_rows:,} rows, dictionary-encoded strings):")
        for codec in ("zstd", "snappy", "gzip", "none"):
            path = Path(tmp) / f"tokens-{codec}.parquet"
            started = time.perf_counter()
            pq.write_table(table, path, compression=None if codec == "none" else codec)
            written = time.perf_counter() - started
            started = time.perf_counter()
            pq.read_table(path)
            print(f"  {codec:<7} {path.stat().st_size / 1e6:8.1f} MB  write {written:5.2f} s  "
                  f"read {time.perf_counter() - started:5.2f} s")


if __name__ == "__main__":
    main()
