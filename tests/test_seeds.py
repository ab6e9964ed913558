"""Ingest of the real seed corpus: metadata, boilerplate, passages and their offsets (the ingest stage
alone), and a whole run that leaves its raw folder as it was."""

from __future__ import annotations

import datetime as dt
import hashlib

from conftest import RAW, folder_state, read


def test_five_documents_one_per_seed(seed_ingest, seed_ingest_docs):
    _, result = seed_ingest
    assert sorted(seed_ingest_docs) == ["000", "001", "002", "003", "004"]
    assert result.status_counts == {"ok": 5}
    for row in seed_ingest_docs.values():
        raw = (RAW / row["source_path"]).read_bytes()
        assert row["sha256"] == hashlib.sha256(raw).hexdigest()
        assert row["encoding"] == "utf-8" and row["encoding_method"] == "utf-8"
        assert row["text"] == raw.decode("utf-8")
        assert row["n_chars"] == len(row["text"])


def test_dates_and_years(seed_ingest_docs):
    expected = {
        "000": (dt.date(2020, 12, 7), None, "day", "2020年12月7日"),
        "002": (dt.date(2023, 3, 2), None, "day", "2023-03-02"),
        "003": (dt.date(2023, 5, 18), dt.date(2023, 5, 19), "day", "2023年5月18日-19日"),
        "004": (dt.date(2021, 5, 1), None, "month", "2021年5月"),
    }
    for seed, (date, end, precision, text) in expected.items():
        row = seed_ingest_docs[seed]
        assert (row["date"], row["date_end"], row["date_precision"], row["date_text"]) == (date, end, precision, text)
        assert row["year"] == date.year and row["date_source"] == "text"
        start = row["text"].index(text)
        assert row["text"][start:start + len(text)] == text


def test_undated_article_has_null_date(seed_ingest_docs):
    row = seed_ingest_docs["001"]
    assert row["date"] is None and row["year"] is None and row["date_precision"] is None
    assert row["date_source"] == "none"


def test_authors(seed_ingest_docs):
    assert seed_ingest_docs["000"]["author"] == "赵孟季"
    assert seed_ingest_docs["004"]["author"] == "牛健喜"
    assert seed_ingest_docs["000"]["author_source"] == seed_ingest_docs["004"]["author_source"] == "text"
    for seed in ("001", "002", "003"):
        assert seed_ingest_docs[seed]["author"] is None and seed_ingest_docs[seed]["author_source"] == "none"


def test_publications(seed_ingest_docs):
    # 000 and 004 name the magazine in a publication note. 002 has a source field that is empty
    # ("来源: 时间:2023-03-02") and 003 names no source: they stay null rather than guessed.
    assert seed_ingest_docs["000"]["publication"] == seed_ingest_docs["004"]["publication"] == "客户世界"
    assert seed_ingest_docs["002"]["publication"] is None and seed_ingest_docs["002"]["publication_source"] == "none"
    assert seed_ingest_docs["003"]["publication"] is None


def test_titles(seed_ingest_docs):
    assert seed_ingest_docs["000"]["title"] == "新世代客户服务岗位的价值发展与转型"
    assert seed_ingest_docs["002"]["title"] == "客服人说 | 新年启示录——写给2023年的客服工作者"
    assert seed_ingest_docs["004"]["title"] == "谈谈客户中心从业者的中年危机"
    # 001 opens with a reading-time banner then a long quotation, 003 with its first paragraph: no title.
    assert seed_ingest_docs["001"]["title"] is None and seed_ingest_docs["003"]["title"] is None


def test_boilerplate_is_recorded_with_offsets(seed_ingest, seed_ingest_docs):
    out, _ = seed_ingest
    spans = read(out, "boilerplate")
    by_doc = {}
    for span in spans:
        by_doc.setdefault(span["doc_id"], []).append(span)
        text = next(r["text"] for r in seed_ingest_docs.values() if r["doc_id"] == span["doc_id"])
        assert text[span["start"]:span["end"]] == span["text"]
    kinds = {seed: {s["kind"] for s in by_doc.get(row["doc_id"], [])} for seed, row in seed_ingest_docs.items()}
    assert {"title", "info_bar", "byline", "publication_note", "reprint_notice", "related_links",
            "comments_closed"} <= kinds["000"]
    assert {"reading_time", "photo_caption", "end_mark", "trailer", "share_prompt"} <= kinds["001"]
    assert {"title", "source_line"} <= kinds["002"]
    assert kinds["003"] == set()
    captions = [s["text"] for s in by_doc[seed_ingest_docs["001"]["doc_id"]] if s["kind"] == "photo_caption"]
    assert captions.count("在沙龙现场做分享") == 2 and "沙龙现场" in captions


def test_passages_and_boilerplate_cover_every_visible_character(seed_ingest, seed_ingest_docs):
    """Nothing is lost: each non-whitespace character is in exactly one passage or boilerplate span."""
    out, _ = seed_ingest
    passages, spans = read(out, "passages"), read(out, "boilerplate")
    for row in seed_ingest_docs.values():
        owner = [0] * len(row["text"])
        for item in [p for p in passages if p["doc_id"] == row["doc_id"]] + \
                    [s for s in spans if s["doc_id"] == row["doc_id"]]:
            assert row["text"][item["start"]:item["end"]] == item["text"]
            for i in range(item["start"], item["end"]):
                owner[i] += 1
        for i, ch in enumerate(row["text"]):
            assert owner[i] <= 1
            if not ch.isspace():
                assert owner[i] == 1, (row["source_path"], i, ch)


def test_passages_are_ordered_and_identified(seed_ingest, seed_ingest_docs):
    out, _ = seed_ingest
    passages = read(out, "passages")
    for row in seed_ingest_docs.values():
        mine = [p for p in passages if p["doc_id"] == row["doc_id"]]
        assert len(mine) == row["n_passages"]
        assert [p["passage_index"] for p in mine] == list(range(len(mine)))
        assert all(a["end"] <= b["start"] for a, b in zip(mine, mine[1:]))
        assert len({p["passage_id"] for p in mine}) == len(mine)
    # 003's opening paragraph, with the dateline, is body text; 002's doubled body is still all there.
    first_003 = next(p for p in passages if p["doc_id"] == seed_ingest_docs["003"]["doc_id"])
    assert first_003["text"].startswith("2023年5月18日-19日")
    n_002 = seed_ingest_docs["002"]["n_passages"]
    assert n_002 == 80


def test_raw_folder_is_left_exactly_as_it_was(seed_run_raw):
    raw, before = seed_run_raw  # a copy of the seeds, and its state before the whole pipeline ran over it
    after = folder_state(raw)
    assert after == before
