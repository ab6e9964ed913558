"""Hostile files, generated: whatever a reader is given, ingest finishes, every good record comes out,
and every bad one gets its own report row with a specific reason (never the catch-all of an unexpected
exception).

Each test writes one generated folder (a good article beside the hostile file) and ingests it the way
a run does: discover, sidecar, readers, then the ingest stage. The suite runs ``FUZZ_EXAMPLES`` cases
per test (500: more than 2,000 files in all); ``make fuzz`` runs 20,000 per test (100,000 in all).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu_corpus.sources import discover, iter_items, load_sidecar, Sidecar
from kefu_corpus.stages.ingest import IngestParams
from kefu_corpus.transforms.ingest import ingest_batch

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("FUZZ_RANDOM"),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

GOOD = "good.txt"
GOOD_TEXT = "客服中心的转型\n\n2021年3月5日\n\n智能客服正在改变呼叫中心的工作方式，座席的价值在于解决复杂问题。\n"
SENTENCES = ["客服中心的价值。", "座席的转型与培训。", "智能客服與人工客服的分工。", "呼叫中心的外包市场在增长。"]
#: What an unexpected exception looks like in the report: the catch-alls of iter_items and ingest_batch.
CATCH_ALL = ("could not be read past its first", "could not be ingested (")


def ingest(files: dict[str, bytes], sidecar_name: str = "metadata.csv") -> tuple[list[dict], list[dict]]:
    """Documents and report rows of a folder holding ``files`` and the good article."""
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder)
        (raw / GOOD).write_text(GOOD_TEXT, encoding="utf-8")
        for name, data in files.items():
            (raw / name).write_bytes(data)
        inventory = discover(raw, text_extensions=(".txt", ".md"), sidecar_name=sidecar_name)
        rels = [inventory.rel(p) for p in inventory.inputs]
        sidecar = (load_sidecar(inventory.sidecar, inventory.rel(inventory.sidecar), rels)
                   if inventory.sidecar is not None else Sidecar())
        items = list(iter_items(inventory, sidecar, text_column="text", id_column="id"))
        tables = ingest_batch(items, IngestParams())
    docs, report = tables["documents"].to_pylist(), tables["ingest_report"].to_pylist()
    assert [d["source_path"] for d in docs].count(GOOD) == 1, "the good article must come out"
    assert not [r for r in report if any(c in (r["message"] or "") for c in CATCH_ALL)], report
    assert all(r["reason"] for r in report if r["status"] == "rejected")
    ids = [d["doc_id"] for d in docs]
    assert len(ids) == len(set(ids)), "doc_id must stay unique"
    return docs, report


def records_of(docs: list[dict], path: str) -> set[str]:
    return {d["source_record"] for d in docs if d["source_path"] == path}


# ---- strategies ----------------------------------------------------------------------------------------

good_record = st.builds(lambda i, s: {"id": f"g{i}", "text": s}, st.integers(0, 10**6), st.sampled_from(SENTENCES))

junk_value = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
                       st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))

hostile_json_line = st.one_of(
    st.binary(max_size=120),
    st.integers(10, 50_000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(10, 50_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.integers(4_000, 12_000).map(lambda n: b'{"id": ' + b"9" * n + b', "text": "x"}'),
    st.sampled_from(["text", "id", "title", "date", "author", "publication"]).map(
        lambda f: ('{"id": "s", "text": "ok", "%s": "a\\ud800b"}' % f).encode()),
    st.builds(lambda f, v: json.dumps({"id": "j", "text": "客服", f: v}).encode(),
              st.sampled_from(["text", "id", "title", "date", "author", "publication"]), junk_value),
    junk_value.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b'{"text": "\xff\xfe"}', b'\xef\xbb\xbf{"text": "x"}', b'{"text": "a\x00b"}',
                     b'{"text": "' + b"x" * 100_000 + b'"}', b'{"text": ""}', b'{"id": "e"}', b"{", b"}", b"null"]),
).map(lambda line: line.replace(b"\n", b" ").replace(b"\r", b" "))


@FUZZ
@given(lines=st.lists(st.one_of(good_record, hostile_json_line), max_size=12), compress=st.booleans())
def test_jsonl(lines, compress):
    body = b"".join((json.dumps(x, ensure_ascii=False).encode() if isinstance(x, dict) else x) + b"\n" for x in lines)
    name = "corpus.jsonl.gz" if compress else "corpus.jsonl"
    docs, _ = ingest({name: gzip.compress(body, mtime=0) if compress else body})
    kept = {r.split("@")[0] for r in records_of(docs, name)}  # a repeated id has its place appended
    assert {x["id"] for x in lines if isinstance(x, dict)} <= kept


@FUZZ
@given(data=st.binary(min_size=1, max_size=400), cut=st.floats(0.05, 0.95))
def test_truncated_or_random_gzip(data, cut):
    whole = gzip.compress(b"".join(json.dumps({"id": f"r{i}", "text": SENTENCES[i % 4]}).encode() + b"\n"
                                   for i in range(40)), mtime=0)
    damaged = whole[: int(len(whole) * cut)]
    ingest({"cut.jsonl.gz": damaged, "noise.jsonl.gz": data, "noise.csv.gz": data})


csv_cell = st.one_of(st.sampled_from(SENTENCES), st.text(max_size=30), st.sampled_from(['"', '""', "a,b", "\r", "\n", "\x00"]))
csv_row = st.one_of(st.lists(csv_cell, min_size=0, max_size=5).map(lambda cells: ",".join(cells)),
                    st.binary(max_size=60).map(lambda b: b.decode("latin-1")))


@FUZZ
@given(header=st.sampled_from(["id,text", "text", "id,text,title", "id,text,text", "id,body", "", "text,id,date"]),
       good=st.integers(0, 6), hostile=st.lists(csv_row, max_size=6), encoding=st.sampled_from(["utf-8", "utf-16", "gbk"]))
def test_csv(header, good, hostile, encoding):
    columns = header.split(",")
    rows = [",".join({"id": f"c{i}", "text": SENTENCES[i % 4]}.get(c, "") for c in columns) for i in range(good)]
    body = "\n".join([header, *rows, *hostile]) + "\n"
    docs, report = ingest({"corpus.csv": body.encode(encoding, errors="replace")})
    if encoding == "utf-8" and columns.count("text") == 1 and columns.count("id") <= 1:
        # the good rows come before any hostile one: every one of them comes out
        assert len(records_of(docs, "corpus.csv")) >= good


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


parquet_column = st.one_of(
    st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=5).map(pa.array),
    st.lists(st.one_of(st.none(), st.text(max_size=10)), min_size=1, max_size=5).map(pa.array),
    st.lists(st.integers(-10, 10), min_size=1, max_size=5).map(pa.array),
    st.lists(st.binary(max_size=10), min_size=1, max_size=5).map(lambda v: pa.array(v, pa.binary())),
    st.lists(st.lists(st.integers(-2**31, 2**31), max_size=2), min_size=1, max_size=5).map(pa.array),
    st.lists(st.floats(allow_nan=True), min_size=1, max_size=5).map(pa.array),
)


@FUZZ
@given(text=parquet_column, other=parquet_column, other_name=st.sampled_from(["id", "title", "date", "author", "x"]),
       damage=st.one_of(st.none(), st.floats(0.0, 1.0)), flip=st.one_of(st.none(), st.integers(0, 10**6)))
def test_parquet(text, other, other_name, damage, flip):
    n = min(len(text), len(other))
    data = _parquet(pa.table({"text": text.slice(0, n), other_name: other.slice(0, n)}))
    if damage is not None:
        data = data[: int(len(data) * damage)]
    if flip is not None and data:
        at = flip % len(data)
        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]
    ingest({"corpus.parquet": data})


sidecar_cell = st.one_of(st.sampled_from(["a.txt", "missing.txt", "sub/../a.txt", "/etc/passwd", "../x.txt", ""]),
                         st.sampled_from(["hex", "rot13", "utf-16", "big5", "nosuch", "zlib", "undefined", "gbk"]),
                         st.sampled_from(["2021-02-30", "2021", "9999-99", "昨天", "2020-01-01"]), st.text(max_size=15))
sidecar_row = st.lists(sidecar_cell, min_size=0, max_size=8).map(lambda cells: ",".join(cells))


@FUZZ
@given(header=st.sampled_from(["file,title,date,author,publication,encoding", "file,encoding", "file", "title",
                               "file,file", ""]),
       rows=st.lists(sidecar_row, max_size=6), noise=st.one_of(st.none(), st.binary(max_size=80)),
       article=st.binary(max_size=200))
def test_sidecar_and_articles(header, rows, noise, article):
    body = noise if noise is not None else ("\n".join([header, *rows]) + "\n").encode("utf-8", errors="replace")
    docs, report = ingest({"metadata.csv": body, "a.txt": article})
    assert any(r["source_path"] == "a.txt" for r in report), "every input has its row"
