"""Word segmentation quality on the SIGHAN 2005 bakeoff test sets, through ``kefu tokenize``.

Reads ../shared/eval/sighan2005 in place (research use only; nothing is copied into the project): PKU
and MSR (Simplified) and CityU (Traditional). Each test file is piped through ``kefu tokenize`` with HMM
off and on, and scored the bakeoff's way: words as character spans of each line, precision, recall
and F1 over spans, and OOV recall (recall on gold words absent from the set's training word list).

    python benchmarks/sighan.py [--eval DIR] [--sets pku,msr,cityu]
"""

from __future__ import annotations

import argparse
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


def tokenize(path: Path, hmm: bool) -> tuple[list[str], float]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "kefu_corpus", "tokenize", "--set", f"segment.hmm={str(hmm).lower()}"],
                            input=path.read_text(encoding="utf-8"), capture_output=True, text=True, check=True)
    return result.stdout.splitlines(), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval", type=Path, default=EVAL)
    parser.add_argument("--sets", default="pku,msr,cityu")
    args = parser.parse_args()
    if not args.eval.is_dir():
        sys.exit(f"{args.eval} not found: pass --eval DIR holding the SIGHAN 2005 test, gold and word-list files")
    print(f"{'set':<6} {'HMM':<4} {'P':>6} {'R':>6} {'F1':>6} {'OOV rate':>9} {'OOV R':>6} {'seconds':>8}")
    for name in args.sets.split(","):
        gold = (args.eval / f"{name}.gold.txt").read_text(encoding="utf-8").splitlines()
        training = set((args.eval / f"{name}.training_words.txt").read_text(encoding="utf-8").split())
        for hmm in (False, True):
            pred, seconds = tokenize(args.eval / f"{name}.test.txt", hmm)
            s = score(gold, pred, training)
            print(f"{name:<6} {'on' if hmm else 'off':<4} {s['p']:6.3f} {s['r']:6.3f} {s['f']:6.3f} "
                  f"{s['oov_rate']:9.3f} {s['oov_recall']:6.3f} {seconds:8.1f}")


if __name__ == "__main__":
    main()
