"""Mojibake repair: recovery on synthetic damage, and false repairs on clean text.

Recovery: each clean seed (every seed with no possible damage site) is converted to Traditional with
OpenCC ``s2t``, damaged exactly as seed 003 was (``kefu_corpus.text.cp936.damage``: GBK, lost bytes,
misaligned lenient decoding, full-width folding), and repaired with a model trained the way the
pipeline trains it: the other seeds' text plus the damaged document's own clean part (leave one out).
Character accuracy counts the original characters of the damaged runs that come back exactly; it is
also broken down by how each character was damaged: its first byte was lost at the trigger, a byte
went with an unassigned pair the decoder dropped, or both bytes are visible in the garbage.

The same measure on a corpus: documents spread over ../shared/bench/tw_laws.jsonl.gz (real
Traditional text) are damaged the same way and repaired with a model trained, as the pipeline trains
it, on the clean text of other documents of the same corpus, for several amounts of that text;
training and test documents never overlap. It shows how recovery grows with the clean text a corpus
supplies, and, for each amount, how many repairs are exact at each level of their ``confidence``.

False repairs: the repair runs over every document of ../shared/bench/tw_laws.jsonl.gz and the clean
seeds (neither has a possible site), and over the clean seeds and a sample of tw_laws with
legitimate ``??`` and ``?!`` written in after sentences (the sequences a damaged run starts with).
Every changed character counts; where there are sites, the seconds of search each one costs are
printed too, apart from the time spent building each document's model.

Legitimate marks at speed: the normalise stage (`kefu normalise --workers 2`, after `kefu ingest`) on
the bench corpus as it is, and with ``??``, ``?!``, ``？？`` and ``???`` written in at 1% of its
sentences (at the sentence's end, or after its first comma), plus the customer complaints of
``benchmarks/data/complaints.txt``: the stage's MB/s on both, the seconds each legitimate site adds,
how many sites the site test sends to the search, and the repairs made (all false). Then the site
test itself (``normalise.repair_site_threshold``): the scores of the sites of synthetically damaged
bench documents and of seed 003, against those of legitimate marks, and how many of each a threshold
searches; the threshold is where no damaged site is left unsearched, with a margin.

Every model is built as the pipeline builds it: with ``--reference auto`` (the default, as
``normalise.repair_reference``), the reference text of general Chinese is added when it makes
held-out text of the training corpus more probable; each pass prints what that test found.

    python benchmarks/repair_quality.py [--corpus PATH] [--skip-corpus] [--train-chars 100000,1000000,5000000]
                                        [--test-docs 40] [--legit-chars 20000] [--reference auto|always|never]
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import json
import re
import time
from pathlib import Path

from kefu_corpus.text import cp936
from kefu_corpus.text.convert import convert
from kefu_corpus.text.reference_choice import MODES, choose_reference
from kefu_corpus.text.repair import RepairParams, build_model, clean_text, find_sites, repair

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
BENCH = ROOT.parent / "shared" / "bench" / "tw_laws.jsonl.gz"


def clean_seeds() -> dict[str, str]:
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(RAW.glob("*.txt"))}
    return {name: text for name, text in texts.items() if not find_sites(text)}


def to_traditional(text: str) -> str:
    """``s2t``, keeping the source character wherever the Traditional one has no GBK code."""
    converted = convert(text, "s2t").text
    if len(converted) != len(text):
        converted = text
    out = []
    for src, ch in zip(text, converted):
        try:
            ch.encode("gbk")
            out.append(ch)
        except UnicodeEncodeError:
            out.append(src if _gbk(src) else " ")
    return "".join(out)


def _gbk(ch: str) -> bool:
    try:
        ch.encode("gbk")
        return True
    except UnicodeEncodeError:
        return False


def loss_classes(text: str) -> dict[int, str]:
    """For each damaged character of ``text``: ``trigger`` (its first byte was lost), ``dropped`` (a
    byte went with an unassigned pair) or ``visible`` (both bytes show in the damaged text)."""
    chars = cp936.encode_chars(text)
    out = {i: "visible" for i in cp936.damaged_chars(text)}
    owner = [i for i, b in enumerate(chars) for _ in b]
    data, pair = cp936.lose_bytes(chars), cp936.table().pair
    i = 0
    while i < len(data):
        b = data[i]
        if cp936.is_lead(b) and i + 1 < len(data) and cp936.is_trail(data[i + 1]):
            if pair[b][data[i + 1]] == "":
                out.update({owner[i]: "dropped", owner[i + 1]: "dropped"})
            i += 2
        else:
            i += 1
    for i, b in enumerate(chars):  # the trigger rule of cp936.lose_bytes
        if len(b) == 2 and b[1] == cp936.TRIGGER_BYTE and i + 1 < len(chars) \
                and chars[i + 1][0] in cp936.TRIGGER_LEAD.values():
            out[i] = "trigger"
    return out


def model_for(texts: list[str], reference: str):
    """A repair model as the pipeline builds it, and a note of what the reference test found."""
    use, test = choose_reference(texts, reference)
    note = f"reference {reference}" if test is None else f"reference {'used' if use else 'not used'}: {test.describe()}"
    return build_model(texts, reference=use), note


def recovery(seeds: dict[str, str], params: RepairParams = RepairParams(), verbose: bool = True,
             reference: str = "auto") -> dict:
    runs = damaged_total = restored = collateral = exact_runs = n_runs = 0
    by_class: dict[str, list[int]] = {}
    seconds = 0.0
    for name, text in seeds.items():
        original = to_traditional(text)
        damaged = cp936.damage(original)
        truth = "".join(cp936.fold(ch) for ch in original)
        bad = cp936.damaged_chars(original)
        others = [t for n, t in seeds.items() if n != name]
        started = time.perf_counter()
        model, note = model_for(others + [clean_text(damaged)], reference)
        result = repair(damaged, model, params)
        seconds += time.perf_counter() - started
        ok = _correct(truth, result.text)
        bad_set = set(bad)
        damaged_total += len(bad)
        for i, kind in loss_classes(original).items():
            counts = by_class.setdefault(kind, [0, 0])
            counts[0] += ok[i]
            counts[1] += 1
        restored += sum(1 for i in bad if ok[i])
        collateral += sum(1 for i in range(len(truth)) if i not in bad_set and not ok[i])
        doc_runs = _runs(bad)
        n_runs += len(doc_runs)
        exact_runs += sum(1 for lo, hi in doc_runs if all(ok[lo:hi]))
        runs += len(result.repairs)
        if verbose:
            print(f"  {name}: {len(doc_runs)} runs, {len(bad)} damaged chars, "
                  f"{sum(1 for i in bad if ok[i])} restored, {len(result.repairs)} repairs; {note}")
    return {"runs": n_runs, "runs_exact": exact_runs, "repairs": runs, "damaged_chars": damaged_total,
            "restored": restored, "accuracy": restored / damaged_total if damaged_total else 1.0,
            "collateral": collateral, "seconds": seconds, "by_class": by_class}


def _correct(truth: str, got: str) -> list[bool]:
    """For each character of ``truth``: is it in a block that ``got`` reproduces exactly?"""
    ok = [False] * len(truth)
    matcher = difflib.SequenceMatcher(None, truth, got, autojunk=False)
    for a, _b, size in matcher.get_matching_blocks():
        ok[a:a + size] = [True] * size
    return ok


def _exact_repairs(truth: str, result) -> list[tuple[float, bool]]:
    """``(confidence, exact)`` for each repair in ``result``: exact when every character it wrote is
    in a block of ``truth`` that the repaired text reproduces."""
    ok = _correct(result.text, truth)  # for each character of the repaired text
    out, shift = [], 0
    for r in result.repairs:
        lo = r.start + shift
        out.append((r.confidence, all(ok[lo: lo + len(r.repaired)])))
        shift += len(r.repaired) - (r.end - r.start)
    return out


CONFIDENCE_BINS = (0.99, 0.9, 0.5, 0.0)


def calibration(pairs: list[tuple[float, bool]]) -> str:
    """Repairs and the share of them that are exact, by confidence."""
    parts, upper = [], None
    for lower in CONFIDENCE_BINS:
        hits = [exact for conf, exact in pairs if conf >= lower and (upper is None or conf < upper)]
        label = f">= {lower}" if upper is None else f"{lower}-{upper}"
        if hits:
            parts.append(f"{label}: {sum(hits)}/{len(hits)} exact")
        upper = lower
    return "; ".join(parts)


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs


def recovery_on_corpus(path: Path, train_chars: list[int], test_docs: int,
                       params: RepairParams = RepairParams(), reference: str = "auto") -> list[dict]:
    """Damage ``test_docs`` documents spread evenly over the corpus (those up to 20,000 characters with
    a place the damage fires and no ``?`` site of their own) and repair them with models trained on the
    other documents, in corpus order, up to each amount in ``train_chars``."""
    docs = list(corpus_texts(path))
    step = max(len(docs) // test_docs, 1)
    tests: dict[int, str] = {}
    for start in range(0, len(docs), step):
        for i in range(start, min(start + step, len(docs))):
            original = to_traditional(docs[i])
            if len(original) <= 20_000 and not find_sites(original) and cp936.damaged_chars(original):
                tests[i] = original
                break
        if len(tests) == test_docs:
            break
    rows = []
    for budget in train_chars:
        train, used = [], 0
        for i, text in enumerate(docs):
            if used >= budget:
                break
            if i not in tests:
                train.append(text[: budget - used])
                used += len(train[-1])
        started = time.perf_counter()
        model, note = model_for(train, reference)
        restored = total = runs = exact = 0
        confidence: list[tuple[float, bool]] = []
        for original in tests.values():
            truth = "".join(cp936.fold(ch) for ch in original)
            bad = cp936.damaged_chars(original)
            result = repair(cp936.damage(original), model, params)
            confidence += _exact_repairs(truth, result)
            ok = _correct(truth, result.text)
            restored += sum(1 for i in bad if ok[i])
            total += len(bad)
            for lo, hi in _runs(bad):
                runs += 1
                exact += all(ok[lo:hi])
        rows.append({"train_chars": used, "docs": len(tests), "runs": runs, "runs_exact": exact,
                     "damaged_chars": total, "restored": restored, "accuracy": restored / total if total else 1.0,
                     "seconds": time.perf_counter() - started, "calibration": calibration(confidence),
                     "reference": note})
    return rows


def false_repairs(texts, label: str, reference: str = "auto") -> dict:
    """Repair each text with a model of its own clean part (built only where it has a site, as
    ``repair`` does); the seconds spent building models are counted apart from the search's."""
    n_bytes = changed = docs = sites = 0
    model_seconds = 0.0
    started = time.perf_counter()
    for text in texts:
        docs += 1
        n_bytes += len(text.encode("utf-8"))
        sites += len(find_sites(text))
        model = None
        if find_sites(text):
            built = time.perf_counter()
            model = model_for([clean_text(text)], reference)[0]
            model_seconds += time.perf_counter() - built
        result = repair(text, model)
        changed += sum(len(r.damaged) for r in result.repairs)
    seconds = time.perf_counter() - started
    mb = n_bytes / 1e6
    return {"label": label, "docs": docs, "mb": mb, "sites": sites, "changed_chars": changed,
            "changed_per_mb": changed / mb if mb else 0.0, "seconds": seconds, "model_seconds": model_seconds,
            "mb_per_s": mb / seconds if seconds else 0.0}


def with_legit_marks(text: str) -> str:
    """Clean text with emphatic ``??`` and ``?!`` after sentences, as informal writing has them."""
    text = re.sub(r"。(?=[\u4e00-\u9fff])", lambda m: "??" if m.start() % 2 else "?!", text)
    return text.replace("？", "??").replace("！", "?!")


def legit_sample(path: Path, chars: int):
    """About ``chars`` characters of the corpus, from documents spread over it, with legitimate ``??``
    and ``?!`` written in (:func:`with_legit_marks`)."""
    docs = list(corpus_texts(path))
    step = max(len(docs) // 200, 1)
    used = 0
    for text in docs[::step]:
        if used >= chars:
            break
        piece = text[: min(2_000, chars - used)]
        used += len(piece)
        yield with_legit_marks(piece)


MARKS = ("??", "?!", "？？", "???")


def with_marks_at(text: str, share: int = 100) -> str:
    """``text`` with a legitimate mark in one sentence of every ``share``: the marks of :data:`MARKS` in
    turn, at the sentence's end (instead of its 。) or after its first comma, alternately."""
    sentences = text.split("。")
    for i in range(0, len(sentences) - 1, share):
        mark = MARKS[i // share % len(MARKS)]
        if i // share % 2 and "，" in sentences[i]:
            sentences[i] = sentences[i].replace("，", mark, 1)
        else:
            sentences[i] += mark + "\u0000"  # joined below without the 。 it replaces
    return "。".join(sentences).replace("\u0000。", "").replace("\u0000", "")


def complaints() -> list[str]:
    path = ROOT / "benchmarks" / "data" / "complaints.txt"
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]


def normalise_throughput(path: Path, workers: int = 2) -> list[dict]:
    """The normalise stage's seconds on the corpus as it is and with legitimate marks written in."""
    import shutil
    import subprocess
    import sys
    import tempfile

    kefu = str(Path(sys.executable).with_name("kefu"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, marked in (("as it is", False), ("marks in 1% of sentences, and complaints", True)):
            corpus = Path(tmp) / "corpus.jsonl"
            sites = 0
            with corpus.open("w", encoding="utf-8") as dst:
                texts = list(corpus_texts(path)) + (complaints() if marked else [])
                for i, text in enumerate(texts):
                    text = with_marks_at(text) if marked else text
                    sites += len(find_sites(text))
                    dst.write(json.dumps({"id": f"r{i}", "text": text}, ensure_ascii=False) + "\n")
            out = Path(tmp) / "out"
            shutil.rmtree(out, ignore_errors=True)
            for command in (["ingest", str(corpus), "--out", str(out)], ["normalise", str(out)]):
                subprocess.run([kefu, *command, "--workers", str(workers), "--quiet", "--set", "run.reuse_parts=false"],
                               check=True)
            manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            stage = manifest["stages"]["normalise"]
            n_bytes = manifest["stages"]["ingest"]["bytes"]
            rows.append({"label": label, "mb": n_bytes / 1e6, "seconds": stage["seconds"], "sites": sites,
                         "peak_mb": stage.get("peak_rss_mb"),
                         "model_seconds": stage.get("model_seconds") or 0.0,
                         "repairs": manifest["tables"].get("repairs", {}).get("rows", 0),
                         "mb_per_s": n_bytes / 1e6 / stage["seconds"]})
    return rows


def site_test(path: Path, reference: str = "auto") -> tuple[list[float], list[float]]:
    """Scores of the site test (:func:`kefu_corpus.text.repair.site_scores`) at the sites of damaged
    documents (synthetic damage of the corpus, and seed 003) and at legitimate marks, with a model of
    1,000,000 characters of the corpus's clean text."""
    import numpy as np

    from kefu_corpus.text.repair import script_prior, site_scores

    docs = list(corpus_texts(path))
    train, used = [], 0
    for text in docs[::3]:
        if used > 1_000_000:
            break
        train.append(text)
        used += len(text)
    model, _ = model_for(train, reference)
    damaged = []
    for text in docs[1::60][:190]:
        original = to_traditional(text[:20_000])
        if not find_sites(original) and cp936.damaged_chars(original):
            damaged.append(cp936.damage(original))
    damaged.append((RAW / "003_5d7497af4c1b7a39.txt").read_text(encoding="utf-8"))
    legit = [with_legit_marks(t) for t in clean_seeds().values()] + list(legit_sample(path, 300_000)) + complaints()

    def scores(texts):
        found = []
        for text in texts:
            sites = [s for s in find_sites(text) if s + 2 < len(text) and not text[s + 2].isspace()]
            if sites:
                values = site_scores(text, sites, model, script_prior(clean_text(text)))
                found += [v for v in values.tolist() if np.isfinite(v)]
        return found

    return scores(damaged), scores(legit)


def corpus_texts(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)["text"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=BENCH)
    parser.add_argument("--skip-corpus", action="store_true", help="skip the passes over --corpus")
    parser.add_argument("--train-chars", default="100000,1000000,5000000",
                        help="amounts of the corpus's clean text the models for recovery on --corpus learn from")
    parser.add_argument("--test-docs", type=int, default=40, help="documents of --corpus damaged and repaired")
    parser.add_argument("--legit-chars", type=int, default=20_000,
                        help="characters of --corpus, spread over it, given legitimate ?? and ?! for the false-repair pass")
    parser.add_argument("--reference", choices=MODES, default="auto",
                        help="when models add the reference text of general Chinese (normalise.repair_reference)")
    args = parser.parse_args()
    seeds = clean_seeds()
    print(f"recovery on synthetic damage ({len(seeds)} clean seeds, s2t, GBK misaligned):")
    rec = recovery(seeds, reference=args.reference)
    print(f"  {rec['runs']} runs, {rec['damaged_chars']} damaged characters: {rec['restored']} restored "
          f"= {rec['accuracy']:.1%}; {rec['runs_exact']}/{rec['runs']} runs exact; "
          f"{rec['collateral']} undamaged characters changed; {rec['seconds']:.1f} s")
    print("  restored by how the character was damaged: " + "; ".join(
        f"{kind} {ok}/{n}" for kind, (ok, n) in sorted(rec["by_class"].items())))
    if not args.skip_corpus and args.corpus.exists():
        budgets = [int(x) for x in args.train_chars.split(",") if x]
        print(f"recovery on synthetic damage in {args.corpus.name} ({args.test_docs} documents spread over it; "
              "the model learns from the others):")
        for r in recovery_on_corpus(args.corpus, budgets, args.test_docs, reference=args.reference):
            print(f"  model from {r['train_chars']:,} characters: {r['runs']} runs, {r['damaged_chars']} damaged "
                  f"characters: {r['restored']} restored = {r['accuracy']:.1%}; {r['runs_exact']}/{r['runs']} runs "
                  f"exact; {r['seconds']:.1f} s")
            print(f"    {r['reference']}")
            print(f"    repairs by confidence: {r['calibration']}")
    rows = [false_repairs(seeds.values(), "clean seeds", args.reference),
            false_repairs((with_legit_marks(t) for t in seeds.values()), "clean seeds with legit ?? and ?!",
                          args.reference)]
    if not args.skip_corpus and args.corpus.exists():
        rows.append(false_repairs(corpus_texts(args.corpus), args.corpus.name, args.reference))
        rows.append(false_repairs(legit_sample(args.corpus, args.legit_chars),
                                  f"{args.corpus.name} sample with legit ?? and ?!", args.reference))
    if not args.skip_corpus and args.corpus.exists():
        from kefu_corpus.text.repair import RepairParams as Params

        threshold = Params().site_threshold
        damaged, legit = site_test(args.corpus, args.reference)
        print(f"the site test (normalise.repair_site_threshold = {threshold}): mean log-probability of the 3 "
              "characters after the mark")
        print(f"  {len(damaged)} damaged sites (synthetic damage in {args.corpus.name}, and seed 003): highest "
              + ", ".join(f"{v:.2f}" for v in sorted(damaged, reverse=True)[:3]))
        print(f"  {len(legit)} legitimate marks (seeds, a sample of {args.corpus.name}, complaints): median "
              f"{sorted(legit)[len(legit) // 2]:.2f}")
        for t in (-8.0, -8.5, -9.0, -9.5, -10.0, -10.5):
            print(f"  threshold {t:6.1f}: searches {sum(v < t for v in damaged) / len(damaged):6.1%} of damaged sites, "
                  f"{sum(v < t for v in legit) / len(legit):6.2%} of legitimate ones" + ("  <- default" if t == threshold
                                                                                         else ""))
        print("the normalise stage with legitimate marks (kefu ingest, then kefu normalise --workers 2):")
        base, marked = normalise_throughput(args.corpus)
        for r in (base, marked):
            print(f"  {r['label']}: {r['mb']:.1f} MB, {r['sites']:,} possible sites, {r['seconds']:.1f} s = "
                  f"{r['mb_per_s']:.2f} MB/s, peak {r['peak_mb'] or float('nan'):,.0f} MB (PSS, driver and workers), "
                  f"{r['repairs']} repairs")
        added = max(marked["sites"] - base["sites"], 1)
        extra = (marked["seconds"] - base["seconds"]) / added
        search = (marked["seconds"] - marked["model_seconds"] - base["seconds"]) / added
        print(f"  {extra * 1000:.2f} ms per legitimate site (the stage's extra seconds over the sites added), of which "
              f"{search * 1000:.2f} ms testing and searching sites and the rest building the repair model once "
              f"({marked['model_seconds']:.1f} s; a corpus without sites needs none)")
    print("false repairs on clean text:")
    for r in rows:
        print(f"  {r['label']}: {r['docs']} docs, {r['mb']:.2f} MB, {r['sites']} possible sites, "
              f"{r['changed_chars']} characters changed ({r['changed_per_mb']:.2f}/MB), "
              f"{r['mb_per_s']:.3g} MB/s" + (f", {(r['seconds'] - r['model_seconds']) / r['sites']:.2f} s of search "
                                             f"per site (and {r['model_seconds']:.1f} s building models)"
                                             if r["sites"] else ""))


if __name__ == "__main__":
    main()
