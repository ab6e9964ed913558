"""Word segmentation quality on the SIGHAN 2005 bakeoff test sets, through ``kefu tokenize``.

Reads ../shared/eval/sighan2005 in place (research use only; nothing is copied into the project): PKU
and MSR (Simplified) and CityU (Traditional). Each test file is segmented and scored the bakeoff's way:
words as character spans of each line, precision, recall and F1 over spans, and OOV recall (recall on
gold words absent from the set's training word list). Nothing in the project learns from these files.

Rows, each adding one layer of :mod:`kefu_corpus.text.segment` to the one above:

``jieba``        the engine alone, HMM off (jieba's tokens; the domain dictionary included)
``jieba+HMM``    the engine alone, HMM on for every text
``+HMM trad``    HMM on for Traditional (and mixed) text only (``segment.hmm_traditional``)
``+numbers``     number expressions as one token (``segment.numbers``, ``segment.date_units``)
``default``      compounds cut into their words (``segment.granularity = 'fine'``): the project's
                 defaults, run through the ``kefu tokenize`` command itself

The other rows call :func:`kefu_corpus.text.segment.tokenize_text`, the function ``kefu tokenize``
calls for each line, with the layers set as shown.

    python benchmarks/segment_quality.py [--eval DIR] [--sets pku,msr,cityu] [--margins 2,4,6,8]

``--margins`` adds rows for other values of ``segment.split_margin``.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval" / "sighan2005"


def spans(words: list[str]) -> set[tuple[int, int]]:
    out, pos = set(), 0
    for w in words:
        out.add((pos, pos + len(w)))
        pos += len(w)
    return out


def _realign(pred: set[tuple[int, int]], pred_text: str, gold_text: str) -> set[tuple[int, int]]:
    """Predicted spans moved onto the gold line's characters where the two texts agree."""
    import difflib

    where: dict[int, int] = {}
    for a, b, size in difflib.SequenceMatcher(None, pred_text, gold_text, autojunk=False).get_matching_blocks():
        for k in range(size + 1):
            where.setdefault(a + k, b + k)
    return {(where[s], where[e]) for s, e in pred if s in where and e in where}


def score(gold_lines: list[str], pred_lines: list[str], training: set[str]) -> dict:
    tp = n_gold = n_pred = oov = oov_hit = 0
    for gold_line, pred_line in zip(gold_lines, pred_lines, strict=True):
        gold, pred = gold_line.split(), pred_line.split()
        g, p = spans(gold), spans(pred)
        if "".join(gold) != "".join(pred):  # a few gold lines differ from their test line (MSR: a stray quote)
            p = _realign(p, "".join(pred), "".join(gold))
        tp += len(g & p)
        n_gold += len(g)
        n_pred += len(p)
        pos = 0
        for w in gold:
            if w not in training:
                oov += 1
                oov_hit += (pos, pos + len(w)) in p
            pos += len(w)
    precision, recall = tp / n_pred, tp / n_gold
    return {"p": precision, "r": recall, "f": 2 * precision * recall / (precision + recall),
            "oov_rate": oov / n_gold, "oov_recall": oov_hit / oov if oov else float("nan")}


def cli_tokenize(path: Path) -> list[str]:
    """Lines of ``kefu tokenize`` on ``path`` with the project's defaults."""
    result = subprocess.run([sys.executable, "-m", "kefu_corpus", "tokenize"], cwd=ROOT,
                            input=path.read_text(encoding="utf-8"), capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def library_tokenize(path: Path, changes: dict) -> list[str]:
    """Lines as ``kefu tokenize`` prints them, with ``changes`` to the default ``segment.*`` parameters."""
    from kefu_corpus.config import Config
    from kefu_corpus.stages.normalise import NormaliseParams
    from kefu_corpus.stages.segment import SegmentParams
    from kefu_corpus.text.segment import segmenter, tokenize_text

    config = Config()
    seg = segmenter(dataclasses.replace(SegmentParams.from_config(config), **changes))
    options = NormaliseParams.from_config(config).normalize_options()
    return [" ".join(line[a:b] for a, b, _ in tokenize_text(line, seg, options))
            for line in path.read_text(encoding="utf-8").splitlines()]


BASE = {"hmm": False, "hmm_traditional": False, "numbers": False, "granularity": "jieba"}
ROWS = [
    ("jieba", BASE),
    ("jieba+HMM", {**BASE, "hmm": True, "hmm_traditional": True}),
    ("+HMM trad", {**BASE, "hmm_traditional": True}),
    ("+numbers", {**BASE, "hmm_traditional": True, "numbers": True}),
    ("default", None),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval", type=Path, default=EVAL)
    parser.add_argument("--sets", default="pku,msr,cityu")
    parser.add_argument("--margins", default="", help="extra rows: segment.split_margin values, comma-separated")
    args = parser.parse_args()
    if not args.eval.is_dir():
        sys.exit(f"{args.eval} not found: pass --eval DIR holding the SIGHAN 2005 test, gold and word-list files")
    rows = ROWS + [(f"margin {m}", {"split_margin": float(m)}) for m in args.margins.split(",") if m]
    print(f"{'set':<6} {'layers':<10} {'P':>6} {'R':>6} {'F1':>6} {'OOV rate':>9} {'OOV R':>6} {'seconds':>8}")
    for name in args.sets.split(","):
        path = args.eval / f"{name}.test.txt"
        gold = (args.eval / f"{name}.gold.txt").read_text(encoding="utf-8").splitlines()
        training = set((args.eval / f"{name}.training_words.txt").read_text(encoding="utf-8").split())
        for label, changes in rows:
            started = time.perf_counter()
            pred = cli_tokenize(path) if changes is None else library_tokenize(path, changes)
            seconds = time.perf_counter() - started
            s = score(gold, pred, training)
            print(f"{name:<6} {label:<10} {s['p']:6.3f} {s['r']:6.3f} {s['f']:6.3f} "
                  f"{s['oov_rate']:9.3f} {s['oov_recall']:6.3f} {seconds:8.1f}", flush=True)


if __name__ == "__main__":
    main()
