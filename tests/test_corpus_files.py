"""Corpus files: JSON Lines (plain and gzip), CSV and Parquet with a text column, and the bench corpus."""

from __future__ import annotations

import gzip
import json
from itertools import islice

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from conftest import SHARED, read, run_pipeline, seed_text

ARTICLES = [("a", seed_text("000")), ("b", seed_text("003")), ("c", seed_text("004"))]


def _rows():
    return [{"id": rid, "text": text, "author": "某作者" if rid == "b" else None} for rid, text in ARTICLES]


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz", "csv", "parquet"])
def test_each_corpus_format_gives_the_same_documents(tmp_path, fmt):
    raw = tmp_path / "raw"
    raw.mkdir()
    path = raw / f"corpus.{fmt}"
    rows = _rows()
    if fmt.startswith("jsonl"):
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
        path.write_bytes(gzip.compress(data) if fmt.endswith(".gz") else data)
    elif fmt == "csv":
        pacsv.write_csv(pa.Table.from_pylist(rows), path)
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)
    run_pipeline(raw, tmp_path / "out", until="ingest")
    docs = {d["source_record"]: d for d in read(tmp_path / "out", "documents")}
    assert sorted(docs) == ["a", "b", "c"]
    for rid, text in ARTICLES:
        assert docs[rid]["text"] == text
        assert docs[rid]["source_path"] == f"corpus.{fmt}"
        assert docs[rid]["encoding_method"] == "container"
    # Text metadata is read from record text just as from files; record fields take precedence.
    assert docs["a"]["title"] == "新世代客户服务岗位的价值发展与转型" and docs["a"]["title_source"] == "text"
    assert (docs["b"]["author"], docs["b"]["author_source"]) == ("某作者", "record")
    assert docs["c"]["year"] == 2021


def test_identical_content_is_kept_and_flagged_not_dropped(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text(seed_text("004"), encoding="utf-8")
    (raw / "b.txt").write_text(seed_text("004"), encoding="utf-8")
    result = run_pipeline(raw, tmp_path / "out", until="ingest")
    docs = read(tmp_path / "out", "documents")
    assert len(docs) == 2 and docs[0]["sha256"] == docs[1]["sha256"] and docs[0]["doc_id"] != docs[1]["doc_id"]
    assert docs[0]["duplicate_of"] is None and docs[1]["duplicate_of"] == docs[0]["doc_id"]
    assert result.status_counts == {"ok": 1, "duplicate": 1}
    passages = read(tmp_path / "out", "passages")
    assert {p["doc_id"] for p in passages} == {d["doc_id"] for d in docs}
    truncated = seed_text("000").encode("utf-8") + b"\xe3"
    (raw / "c.txt").write_bytes(truncated)
    (raw / "d.txt").write_bytes(truncated)
    run_pipeline(raw, tmp_path / "out", until="ingest")
    report = {r["source_path"]: r for r in read(tmp_path / "out", "ingest_report")}
    assert (report["c.txt"]["status"], report["c.txt"]["reason"]) == ("warning", "truncated_utf8")
    # A repeat never hides a warning: the row stays a warning and names both facts.
    assert (report["d.txt"]["status"], report["d.txt"]["reason"]) == ("warning", "truncated_utf8;duplicate_content")


BENCH = SHARED / "bench" / "tw_laws.jsonl.gz"


@pytest.mark.slow
@pytest.mark.skipif(not BENCH.exists(), reason="bench corpus not present beside the project")
def test_bench_corpus_sample(tmp_path):
    """200 real Traditional documents from the bench corpus: titles from records, long lines split."""
    raw = tmp_path / "raw"
    raw.mkdir()
    with gzip.open(BENCH, "rb") as fh:
        (raw / "laws.jsonl.gz").write_bytes(gzip.compress(b"".join(islice(fh, 200))))
    result = run_pipeline(raw, tmp_path / "out", until="ingest", **{"run.workers": 2, "run.batch_size": 16})
    assert result.status_counts.get("rejected", 0) == 0
    docs = read(tmp_path / "out", "documents")
    assert len(docs) == 200 and all(d["title_source"] == "record" for d in docs)
    passages = read(tmp_path / "out", "passages")
    assert max(p["end"] - p["start"] for p in passages) <= 1200
    text = {d["doc_id"]: d["text"] for d in docs}
    assert all(text[p["doc_id"]][p["start"]:p["end"]] == p["text"] for p in passages)
