"""Dedup: precision and recall on duplicates injected into real text, and throughput on the bench corpus.

Quality. A sample of ../shared/bench/tw_laws.jsonl.gz (Traditional legal text) is run through the
pipeline (ingest, normalise, dedup) once as it is, for a baseline of the duplicates it holds already,
and once with known duplicates injected, each into its own documents:

- exact: a short document A pasted, as a paragraph of its own, into a long document B;
- near: a copy of document A with 5% of its Han characters replaced, as a new document;
- cross-script: a copy of document A converted to Simplified (OpenCC t2s), as a new document;
- within: sentences of a document repeated later in the same document, appended to a paragraph
  (so the repeat starts mid-paragraph).

Recall is per injection kind: the share of injections for which the expected row is in duplicates.parquet
(exact: the pasted paragraph and its source in one 'exact' group; near and cross-script: the
copy and its original in one near-duplicate cluster; within: 'within_doc' rows covering at least 90%
of the repeated text). Precision is per row kind: of the rows that are not in the baseline run, the
share that links true copies (see :func:`score`).

Throughput. MinHash signature methods compared on the sample (the stage's numpy shingles with rensa's
flat-buffer call; rensa from Python strings; datasketch, when installed); then the dedup stage alone
on the whole bench corpus, after ingest and normalise, with 1 and 2 workers: MB/s of canonical text.

    python benchmarks/dedup_quality.py [--corpus PATH] [--docs N] [--per-kind K] [--skip-throughput]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

from kefu_corpus.config import Config
from kefu_corpus.pipeline import run
from kefu_corpus.text.convert import convert

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench" / "tw_laws.jsonl.gz"
SENTENCE = re.compile(r"[^。；]*[。；]")


def load(path: Path, n: int) -> list[dict]:
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            out.append({"id": record["id"], "text": record["text"]})
            if len(out) >= n:
                break
    return out


def edit(text: str, share: float, rng: random.Random) -> str:
    chars = list(text)
    han = [i for i, ch in enumerate(chars) if "\u4e00" <= ch <= "\u9fff"]
    for i in rng.sample(han, int(len(han) * share)):
        chars[i] = chr(0x4E00 + rng.randrange(0x5000))
    return "".join(chars)


def inject(records: list[dict], per_kind: int, seed: int) -> tuple[list[dict], list[dict]]:
    """The records with duplicates injected, and one dict per injection saying what was done."""
    rng = random.Random(seed)
    records = [dict(r) for r in records]
    by_id = {r["id"]: r for r in records}
    long_docs = [r["id"] for r in records if len(r["text"]) >= 600 and len(SENTENCE.findall(r["text"])) >= 6]
    short_docs = [r["id"] for r in records if 60 <= len(r["text"]) <= 500 and "\n" not in r["text"]]
    rng.shuffle(long_docs)
    rng.shuffle(short_docs)
    pool, short = iter(long_docs), iter(short_docs)
    injections: list[dict] = []
    for i in range(per_kind):  # a short document pasted into a long one, as a paragraph of its own
        a, b = by_id[next(short)], by_id[next(pool)]
        cut = _sentence_cut(b["text"], rng)
        b["text"] = b["text"][:cut] + "\n" + a["text"] + "\n" + b["text"][cut:]
        injections.append({"kind": "exact", "source": a["id"], "copy": b["id"], "text": a["text"]})
    for kind in ("near", "cross-script"):
        for i in range(per_kind):
            a = by_id[next(pool)]
            text = edit(a["text"], 0.05, rng) if kind == "near" else convert(a["text"], "t2s").text
            copy = {"id": f"{a['id']}-{kind}", "text": text}
            records.append(copy)
            injections.append({"kind": kind, "source": a["id"], "copy": copy["id"]})
    for i in range(per_kind):  # sentences repeated at the end of a later paragraph
        c = by_id[next(pool)]
        sentences = SENTENCE.findall(c["text"])
        start = end = rng.randrange(0, len(sentences) // 2)
        while end < len(sentences) and (end - start < 2 or len(_key("".join(sentences[start:end]))) < 20):
            end += 1
        repeat = "".join(sentences[start:end])
        where = c["text"].rfind("。") + 1
        c["text"] = c["text"][:where] + repeat + c["text"][where:]
        injections.append({"kind": "within", "source": c["id"], "copy": c["id"], "text": repeat})
    return records, injections


def _sentence_cut(text: str, rng: random.Random) -> int:
    ends = [m.end() for m in SENTENCE.finditer(text)]
    return rng.choice(ends[1:-1]) if len(ends) > 2 else len(text)


def pipeline_run(records: list[dict], folder: Path, workers: int) -> Path:
    raw, out = folder / "raw", folder / "out"
    raw.mkdir(parents=True)
    with (raw / "sample.jsonl").open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    run(raw, out, Config().with_overrides({"run.workers": workers}))
    return out


def rows_by_record(out: Path) -> tuple[list[dict], dict[str, str], dict[str, str]]:
    """duplicates rows with the source records of both sides and the flagged text; each record's
    near-duplicate cluster; each record's raw text."""
    docs = {d["doc_id"]: d for d in pq.read_table(out / "documents.parquet", columns=[
        "doc_id", "source_record", "text", "duplicate_cluster"]).to_pylist()}
    rows = pq.read_table(out / "duplicates.parquet").to_pylist()
    for row in rows:
        row["record"] = docs[row["doc_id"]]["source_record"]
        row["kept_record"] = docs[row["kept_doc_id"]]["source_record"] if row["kept_doc_id"] else None
        row["span"] = docs[row["doc_id"]]["text"][row["start"]:row["end"]]
    return (rows, {d["source_record"]: d["duplicate_cluster"] for d in docs.values()},
            {d["source_record"]: d["text"] for d in docs.values()})


def _signature(row: dict) -> tuple:
    return (row["record"], row["kept_record"], row["kind"], _key(row["span"]))


class _Components:
    """Union-find over record ids."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def score(baseline: list[dict], rows: list[dict], clusters: dict[str, str], texts: dict[str, str],
          injections: list[dict]) -> dict:
    """Recall per injected kind; precision per row kind over the rows the baseline run did not have.

    A new near-duplicate row is correct when it links records that are copies of each other: joined by
    an injection or by a duplicate relation the baseline already had (a copy of A also duplicates
    whatever A duplicates). An exact row is correct when its span and the kept span read the same once
    script, punctuation and spacing are folded. A new within-document row is correct inside an injected
    repeat, when it repeats in a copy a row its source had in the baseline, or when it flags whole
    sentences that read the same as its kept span (an injection can make a sentence boundary).
    """
    known = {_signature(r) for r in baseline}
    same = _Components()
    for r in baseline:
        if r["kept_record"]:
            same.union(r["record"], r["kept_record"])
    source_of = {}
    for inj in injections:
        same.union(inj["source"], inj["copy"])
        if inj["kind"] in ("near", "cross-script"):
            source_of[inj["copy"]] = inj["source"]
    within = {inj["copy"]: _key(inj["text"]) for inj in injections if inj["kind"] == "within"}
    base_within = {(r["record"], _key(convert(r["span"], "t2s").text)) for r in baseline if r["kind"] == "within_doc"}
    base_spans = {_fold(r["span"]) for r in baseline}
    precision: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        if _signature(r) in known:
            continue
        if r["kind"] == "within_doc":
            key = _key(r["span"])
            ok = (key in within.get(r["record"], "")
                  or (source_of.get(r["record"], r["record"]), _key(convert(r["span"], "t2s").text)) in base_within
                  or _is_whole_sentence_copy(r, texts))
        elif r["kind"] == "exact":
            ok = _fold(r["span"]) == _fold(texts[r["kept_record"]][r["kept_start"]:r["kept_end"]])
        elif r["kind"] == "boilerplate":
            ok = _fold(r["span"]) in base_spans
        else:
            ok = same.find(r["record"]) == same.find(r["kept_record"])
        precision[r["kind"]][0] += ok
        precision[r["kind"]][1] += 1
    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for inj in injections:
        recall[inj["kind"]][1] += 1
        recall[inj["kind"]][0] += _found(inj, rows, clusters)
    return {"precision": dict(precision), "recall": dict(recall)}


def _fold(text: str) -> str:
    return _key(convert(text, "t2s").text)


def _is_whole_sentence_copy(row: dict, texts: dict[str, str]) -> bool:
    """A within-document row flags whole sentences that read the same as its kept span."""
    text = texts[row["record"]]
    before, after = text[:row["start"]].rstrip(), text[row["end"]:]
    starts_sentence = not before or before[-1] in "。；！？\n"
    ends_sentence = row["span"].rstrip()[-1:] in "。；！？" or not after.strip() or after.lstrip()[:1] in "。；！？\n"
    kept = texts[row["kept_record"]][row["kept_start"]:row["kept_end"]]
    return starts_sentence and ends_sentence and _fold(row["span"]) == _fold(kept)


def _found(inj: dict, rows: list[dict], clusters: dict[str, str]) -> bool:
    if inj["kind"] == "exact":  # both copies in one exact group (the kept copy may be a third document's)
        groups: dict[str, set] = defaultdict(set)
        for r in rows:
            if r["kind"] == "exact" and _key(r["span"]) == _key(inj["text"]):
                groups[r["cluster_id"]] |= {r["record"], r["kept_record"]}
        return any({inj["source"], inj["copy"]} <= members for members in groups.values())
    if inj["kind"] in ("near", "cross-script"):
        return clusters.get(inj["copy"]) is not None and clusters.get(inj["copy"]) == clusters.get(inj["source"])
    covered = sum(len(_key(r["span"])) for r in rows if r["kind"] == "within_doc" and r["record"] == inj["copy"]
                  and _key(r["span"]) in _key(inj["text"]))
    return covered >= 0.9 * len(_key(inj["text"]))


def _key(text: str) -> str:
    return re.sub(r"\W", "", text)


def throughput(corpus: Path, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        subprocess.run([sys.executable, "-m", "kefu_corpus", "run", str(corpus), "--out", str(out), "--quiet",
                        "--workers", str(workers)], check=True)
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        return manifest["stages"]["dedup"]


def compare_minhash(records: list[dict], shingle: int = 5, num_perm: int = 128) -> list[tuple[str, float]]:
    """MB/s of MinHash signatures over the documents' match keys, by method (the choice the stage makes)."""
    from rensa import RMinHash

    from kefu_corpus.dedup.near import signatures
    from kefu_corpus.text.fingerprint import match_keys

    texts = [r["text"] for r in records]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    results = []
    started = time.perf_counter()
    keys = match_keys(texts)
    signatures(keys.codes, keys.bounds[:-1], keys.bounds[1:], shingle, num_perm, 1)
    results.append(("numpy shingle hashes + rensa flat buffer (the stage)", mb / (time.perf_counter() - started)))
    started = time.perf_counter()
    keys = match_keys(texts)
    sets = []
    for i in range(len(texts)):
        key = keys.key(i).tobytes().decode("utf-32-le")
        sets.append([key[j:j + shingle] for j in range(len(key) - shingle + 1)])
    RMinHash.digests_from_token_sets(sets, num_perm, 1)
    results.append(("rensa from Python shingle strings", mb / (time.perf_counter() - started)))
    try:
        from datasketch import MinHash
    except ImportError:
        results.append(("datasketch (not installed: pip install datasketch)", float("nan")))
        return results
    started = time.perf_counter()
    template = MinHash(num_perm=num_perm, seed=1)
    for tokens in sets:
        m = MinHash(num_perm=num_perm, seed=1, permutations=template.permutations, scheme=template.scheme)
        m.update_batch([t.encode("utf-8") for t in tokens])
    results.append(("datasketch, permutations reused", mb / (time.perf_counter() - started)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=BENCH)
    parser.add_argument("--docs", type=int, default=2000, help="documents in the quality sample")
    parser.add_argument("--per-kind", type=int, default=100, help="injections of each kind")
    parser.add_argument("--seed", type=int, default=20200101)
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    if not args.corpus.is_file():
        sys.exit(f"{args.corpus} not found: pass --corpus PATH (a JSON Lines file with 'id' and 'text')")
    records = load(args.corpus, args.docs)
    injected, injections = inject(records, args.per_kind, args.seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        baseline, _, _ = rows_by_record(pipeline_run(records, Path(tmp) / "base", workers=2))
        rows, clusters, texts = rows_by_record(pipeline_run(injected, Path(tmp) / "injected", workers=2))
    result = score(baseline, rows, clusters, texts, injections)
    print(f"dedup quality: {len(records)} documents of {args.corpus.name}, {args.per_kind} injections per kind, "
          f"{len(baseline)} duplicate rows in the baseline ({time.perf_counter() - started:.0f} s)")
    print(f"  {'injected kind':<14} {'recall':>16}")
    for kind, (hit, total) in result["recall"].items():
        print(f"  {kind:<14} {hit:>5}/{total:<5} {hit / total:6.3f}")
    print(f"  {'row kind':<14} {'precision':>16}   (rows not in the baseline)")
    for kind, (ok, total) in sorted(result["precision"].items()):
        print(f"  {kind:<14} {ok:>5}/{total:<5} {ok / total:6.3f}")
    if args.skip_throughput:
        return
    print(f"MinHash signatures (5-shingles, 128 permutations) of the sample's {len(records)} documents:")
    for method, rate in compare_minhash(records):
        print(f"  {method:<55} {rate:6.2f} MB/s")
    for workers in (1, 2):
        stage = throughput(args.corpus, workers)
        print(f"dedup throughput, {args.corpus.name} ({stage['bytes'] / 1e6:.1f} MB canonical text, "
              f"{stage['documents']} documents, {stage['passages']} passages), {workers} worker(s): "
              f"{stage['mb_per_s']:.1f} MB/s ({stage['seconds']:.1f} s: scan {stage['scan_seconds']:.1f}, "
              f"decide {stage['decide_seconds']:.1f})")


if __name__ == "__main__":
    main()
