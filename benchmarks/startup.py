"""Start-up time of the ``kefu`` command: what every small command pays before it does any work.

Wall time, median of ``--runs`` runs each (5 by default), of ``kefu --version``, ``kefu --help``, a
one-line ``kefu convert`` (OpenCC t2s) and a one-line ``kefu tokenize`` (rjieba and its dictionary; the
line has compounds and a number, so every layer of the segmenter works on it), each run as a fresh
process with the ``kefu`` of this interpreter's environment. The runs use a cache folder of their own
(``KEFU_CACHE_DIR``, see :func:`kefu_corpus.text.lexicon.cache_folder`): the first ``kefu tokenize``,
which fills it, is timed on its own. They run as a default Python does, caching the bytecode of the
modules they import: ``PYTHONDONTWRITEBYTECODE`` is left out of their environment (with it set, every
run compiles kefu's own modules again, about 0.05 s more). Then the imports that cost ``kefu --version``
most, cumulative, from ``python -X importtime``.

    python benchmarks/startup.py [--runs 5] [--top 10]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KEFU = Path(sys.executable).with_name("kefu")

#: name, arguments, stdin
COMMANDS: list[tuple[str, list[str], str | None]] = [
    ("kefu --version", ["--version"], None),
    ("kefu --help", ["--help"], None),
    ("echo 客服中心的服務品質 | kefu convert", ["convert"], "客服中心的服務品質\n"),
    ("echo 国有企业的客服中心去年接听了8.5万通电话 | kefu tokenize", ["tokenize"], "国有企业的客服中心去年接听了8.5万通电话\n"),
]


def wall_times(args: list[str], stdin: str | None, runs: int) -> list[float]:
    """Seconds of each of ``runs`` runs of ``kefu args``, stdin fed from ``stdin``; a failed run raises."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(KEFU), *args], input=stdin, capture_output=True, text=True, encoding="utf-8",
                       check=True)
        times.append(time.perf_counter() - start)
    return times


def import_times(args: list[str]) -> list[tuple[float, str]]:
    """(cumulative seconds, module) of every import ``kefu args`` makes, from ``-X importtime``, costliest first.

    The ``kefu`` script's own interpreter runs it, so the environment's ``sys.path`` is the one measured.
    """
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([sys.executable, "-X", "importtime", str(KEFU), *args], capture_output=True, text=True,
                          env=env, check=True)
    rows = []
    for line in proc.stderr.splitlines():  # import time: self [us] | cumulative | imported package
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (.*)$", line)
        if m:
            rows.append((int(m.group(2)) / 1e6, m.group(3).rstrip()))
    return sorted(rows, key=lambda r: -r[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="Runs of each command (the median is printed).")
    parser.add_argument("--top", type=int, default=10, help="Imports to list.")
    args = parser.parse_args()
    if not KEFU.exists():
        sys.exit(f"{KEFU} does not exist: install the package (make install) and run this with its Python")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory(prefix="kefu-startup-cache-") as cache:
        os.environ["KEFU_CACHE_DIR"] = cache
        name, argv, stdin = COMMANDS[-1]
        print(f"first run, empty cache folder: {wall_times(argv, stdin, 1)[0]:.3f} s  {name}\n")
        print(f"wall time, median of {args.runs} runs ({KEFU})")
        for name, argv, stdin in COMMANDS:
            times = wall_times(argv, stdin, args.runs)
            print(f"  {statistics.median(times):6.3f} s  {name}   (min {min(times):.3f}, max {max(times):.3f})")
    print("\nslowest imports of kefu --version (cumulative, -X importtime; the tree is nested, so they overlap)")
    for seconds, module in import_times(["--version"])[: args.top]:
        print(f"  {seconds:6.3f} s  {module}")


if __name__ == "__main__":
    main()
