"""Every kind of bad input gets a clear recorded outcome, and the run goes on with the rest.

Each case runs the ingest stage alone (the outcomes are ingest's); one test runs every stage over the
bad inputs together."""

from __future__ import annotations

import pytest

import gzip
import json
from pathlib import Path

from conftest import read, run_pipeline, seed_text
from kefu_corpus.store import read_manifest

GOOD = "004_c7ffe32ab0825615.txt"


def make_raw(tmp_path: Path, files: dict[str, bytes]) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir(parents=True)
    (raw / GOOD).write_text(seed_text("004"), encoding="utf-8")
    for name, data in files.items():
        (raw / name).write_bytes(data)
    return raw


def outcome(tmp_path: Path, files: dict[str, bytes], until: str = "ingest",
            **overrides) -> tuple[dict[str, dict], list[dict]]:
    """Run the pipeline up to ``until``; return report rows by (path, record) and the documents."""
    out = tmp_path / "out"
    run_pipeline(make_raw(tmp_path, files), out, until=until, **overrides)
    report = {(r["source_path"], r["source_record"]): r for r in read(out, "ingest_report")}
    docs = read(out, "documents")
    assert report[(GOOD, None)]["status"] == "ok", "the good file must survive its bad neighbours"
    assert any(d["source_path"] == GOOD for d in docs)
    return report, docs


def doc_of(docs: list[dict], name: str) -> dict:
    return next(d for d in docs if d["source_path"] == name)


def test_empty_file(tmp_path):
    report, docs = outcome(tmp_path, {"empty.txt": b"", "blank.txt": b" \n\t\n"})
    for name in ("empty.txt", "blank.txt"):
        row = report[(name, None)]
        assert (row["status"], row["reason"]) == ("rejected", "empty_file")
        assert name in row["message"] and "Remove the file" in row["message"]
    assert len(docs) == 1


def test_binary_file(tmp_path):
    png_like = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    report, docs = outcome(tmp_path, {"photo.txt": png_like})
    row = report[("photo.txt", None)]
    assert (row["status"], row["reason"]) == ("rejected", "binary_file")
    assert "photo.txt" in row["message"] and "binary" in row["message"]
    assert len(docs) == 1


def test_gbk_file_is_detected_and_decoded(tmp_path):
    text = seed_text("002")
    report, docs = outcome(tmp_path, {"gbk.txt": text.encode("gbk")})
    doc = doc_of(docs, "gbk.txt")
    assert doc["text"] == text
    assert (doc["encoding"], doc["encoding_method"]) == ("gb18030", "detector")
    assert doc["encoding_confidence"] > 0.95
    assert doc["date"].isoformat() == "2023-03-02"
    assert report[("gbk.txt", None)]["encoding"] == "gb18030"


def test_short_gbk_file_is_not_mistaken_for_korean(tmp_path):
    # A byte-level detector alone calls these bytes cp949; the CJK plausibility check must not.
    text = "客户服务节在北京举行。\n客服人的身份正在转变。\n"
    _, docs = outcome(tmp_path, {"short.txt": text.encode("gbk")})
    assert doc_of(docs, "short.txt")["text"] == text


def test_big5_file_is_detected_and_decoded(tmp_path):
    lines = [line for line in seed_text("003").splitlines() if "?" not in line and len(line) > 50][:4]
    text = "\n".join(lines) + "\n"
    report, docs = outcome(tmp_path, {"big5.txt": text.encode("big5")})
    doc = doc_of(docs, "big5.txt")
    assert doc["text"] == text
    assert (doc["encoding"], doc["encoding_method"]) == ("big5", "detector")


def test_utf16_file_with_bom(tmp_path):
    text = seed_text("003")
    for codec, name in (("utf-16", "le.txt"), ("utf-16-be", "be.txt")):
        data = text.encode(codec) if codec == "utf-16" else b"\xfe\xff" + text.encode(codec)
        _, docs = outcome(tmp_path / name, {name: data})
        doc = doc_of(docs, name)
        assert doc["text"] == text and doc["encoding_method"] == "bom"
        assert doc["encoding"].startswith("utf-16")
        assert doc["date"].isoformat() == "2023-05-18"


def test_utf8_with_bom_has_the_bom_removed(tmp_path):
    text = seed_text("000")
    _, docs = outcome(tmp_path, {"bom.txt": b"\xef\xbb\xbf" + text.encode("utf-8")})
    doc = doc_of(docs, "bom.txt")
    assert doc["text"] == text and doc["encoding_method"] == "bom"
    assert doc["title"] == "新世代客户服务岗位的价值发展与转型"


def test_truncated_utf8_is_ingested_with_a_warning(tmp_path):
    data = seed_text("004").encode("utf-8")
    cut = data[: data.index("中年危机".encode()) + 2]  # ends inside 年
    report, docs = outcome(tmp_path, {"cut.txt": cut})
    row = report[("cut.txt", None)]
    assert (row["status"], row["reason"]) == ("warning", "truncated_utf8")
    assert "truncated" in row["message"] and "cut.txt" in row["message"]
    assert doc_of(docs, "cut.txt")["text"] == cut[:-2].decode("utf-8")


def test_damaged_utf8_is_rejected_or_replaced_by_choice(tmp_path):
    data = seed_text("004").encode("utf-8")
    at = len(seed_text("004")[:100].encode("utf-8"))  # a character boundary
    damaged = data[:at] + b"\xff\xfe" + data[at:]
    report, docs = outcome(tmp_path / "reject", {"bad.txt": damaged})
    row = report[("bad.txt", None)]
    assert (row["status"], row["reason"]) == ("rejected", "undecodable")
    assert f"byte offsets {at}-{at + 1}." in row["message"] and "on_decode_error" in row["message"]
    report, docs = outcome(tmp_path / "replace", {"bad.txt": damaged}, **{"ingest.on_decode_error": "replace"})
    assert report[("bad.txt", None)]["status"] == "warning"
    assert "\ufffd" in doc_of(docs, "bad.txt")["text"]


def test_broken_jsonl_line(tmp_path):
    lines = [json.dumps({"id": "a1", "text": "客服中心正在转型。", "title": "转型"}, ensure_ascii=False),
             '{"id": "a2", "text": "没有结束的引号}',
             "[1, 2, 3]",
             json.dumps({"id": "a4", "body": "没有 text 字段"}, ensure_ascii=False),
             json.dumps({"id": "a5", "text": "呼叫中心的座席。", "date": "2022-07"}, ensure_ascii=False)]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    report, docs = outcome(tmp_path, {"corpus.jsonl": data})
    assert report[("corpus.jsonl", "#2")]["reason"] == "broken_record"
    assert "line 2" in report[("corpus.jsonl", "#2")]["message"]
    assert report[("corpus.jsonl", "#3")]["reason"] == "broken_record"
    assert report[("corpus.jsonl", "a4")]["reason"] == "missing_text"
    kept = {d["source_record"]: d for d in docs if d["source_path"] == "corpus.jsonl"}
    assert set(kept) == {"a1", "a5"}
    assert (kept["a1"]["title"], kept["a1"]["title_source"]) == ("转型", "record")
    assert (kept["a5"]["year"], kept["a5"]["date_precision"], kept["a5"]["date_source"]) == (2022, "month", "record")


def test_truncated_gzip_corpus_keeps_the_records_before_the_damage(tmp_path):
    lines = "".join(json.dumps({"id": f"r{i}", "text": f"第{i}篇客服评论。" * 50}, ensure_ascii=False) + "\n"
                    for i in range(200))
    packed = gzip.compress(lines.encode("utf-8"))
    report, docs = outcome(tmp_path, {"cut.jsonl.gz": packed[: len(packed) // 2]})
    broken = [r for r in report.values() if r["reason"] == "broken_file"]
    assert len(broken) == 1 and "truncated" in broken[0]["message"]
    assert 0 < sum(d["source_path"] == "cut.jsonl.gz" for d in docs) < 200


def test_bad_sidecar_row(tmp_path):
    sidecar = ("file,title,date,publication\n"
               f"{GOOD},,2021-05-18,客户世界\n"
               "missing.txt,无此文件,,\n"
               f"gbk.txt,,2021-13-40,\n").encode("utf-8")
    report, docs = outcome(tmp_path, {"metadata.csv": sidecar, "gbk.txt": seed_text("001").encode("utf-8")})
    rows = {r["source_record"]: r for (path, _), r in report.items() if path == "metadata.csv"}
    assert rows[None]["status"] == "sidecar"
    assert rows["#3"]["reason"] == "sidecar_bad_row" and "missing.txt" in rows["#3"]["message"]
    assert rows["#4"]["reason"] == "sidecar_bad_row" and "2021-13-40" in rows["#4"]["message"]
    good = doc_of(docs, GOOD)
    assert (good["date"].isoformat(), good["date_precision"], good["date_source"]) == ("2021-05-18", "day", "sidecar")
    assert good["author_source"] == "text"  # sidecar cells left empty do not override
    untouched = doc_of(docs, "gbk.txt")
    assert untouched["date"] is None and untouched["date_source"] == "none"


def test_unreadable_sidecar_is_reported_and_skipped(tmp_path):
    report, docs = outcome(tmp_path, {"metadata.csv": b"name,title\nx.txt,t\n"})
    row = report[("metadata.csv", None)]
    assert (row["status"], row["reason"]) == ("rejected", "sidecar_unreadable")
    assert "'file' column" in row["message"]


def test_sidecar_encoding_column_fixes_a_misdetected_file(tmp_path):
    text = "客服\n"  # too short for any detector to be sure
    sidecar = "file,encoding\nshort.txt,big5\n".encode("utf-8")
    _, docs = outcome(tmp_path, {"metadata.csv": sidecar, "short.txt": text.encode("big5")})
    doc = doc_of(docs, "short.txt")
    assert doc["text"] == text and doc["encoding_method"] == "sidecar"


def test_unsupported_and_hidden_files_are_listed_as_ignored(tmp_path):
    report, _ = outcome(tmp_path, {"notes.docx": b"PK\x03\x04", ".DS_Store": b"\x00\x01"})
    assert report[("notes.docx", None)]["status"] == "ignored"
    assert report[(".DS_Store", None)]["reason"] == "hidden_file"


def test_csv_row_with_wrong_cell_count_is_rejected_alone(tmp_path):
    data = "id,text,title\nc1,客服中心的价值。,价值\nc2,多,了,一格\nc3,座席的转型。,转型\n".encode("utf-8")
    report, docs = outcome(tmp_path, {"corpus.csv": data})
    rows = {r["source_record"]: r for (path, _), r in report.items() if path == "corpus.csv"}
    assert {rows["c1"]["status"], rows["c3"]["status"]} == {"ok"}
    bad = [r for r in rows.values() if r["status"] == "rejected"]
    assert len(bad) == 1 and bad[0]["reason"] == "broken_record" and bad[0]["source_record"] == "#2"
    assert "row 2 (line 3): expected 3 columns, found 4" in bad[0]["message"]
    assert {d["title"] for d in docs if d["source_path"] == "corpus.csv"} == {"价值", "转型"}


def test_csv_that_is_not_utf8_is_reported(tmp_path):
    report, _ = outcome(tmp_path, {"corpus.csv": "id,text\n1,客服\n".encode("utf-16")})
    rows = [r for (path, _), r in report.items() if path == "corpus.csv"]
    assert [(r["status"], r["reason"]) for r in rows] == [("rejected", "broken_file")]


def test_unparseable_record_date_falls_back_to_the_text_with_a_warning(tmp_path):
    line = json.dumps({"id": "x", "text": seed_text("000"), "date": "Dec 2020"}, ensure_ascii=False) + "\n"
    report, docs = outcome(tmp_path, {"c.jsonl": line.encode("utf-8")})
    row = report[("c.jsonl", "x")]
    assert (row["status"], row["reason"]) == ("warning", "bad_record_date") and "'Dec 2020'" in row["message"]
    doc = doc_of(docs, "c.jsonl")
    assert (doc["date"].isoformat(), doc["date_source"], doc["date_precision"]) == ("2020-12-07", "text", "day")


@pytest.mark.parametrize("line, why", [
    (b'{"id":"s","text":"a\\ud800b"}', "lone surrogate"),
    (b"[" * 100_000 + b"]" * 100_000, "RecursionError"),
    (b'{"id":' + b"9" * 5000 + b',"text":"abc"}', "ValueError"),
], ids=["lone-surrogate", "nested-100000-deep", "5000-digit-id"])
def test_a_hostile_jsonl_record_is_rejected_alone(tmp_path, line, why):
    good = json.dumps({"id": "after", "text": seed_text("001")[:300]}, ensure_ascii=False).encode("utf-8")
    report, docs = outcome(tmp_path, {"corpus.jsonl": line + b"\n" + good + b"\n"})
    rows = [r for (path, _), r in report.items() if path == "corpus.jsonl"]
    bad = [r for r in rows if r["status"] == "rejected"]
    assert len(bad) == 1 and why in bad[0]["message"] and bad[0]["source_record"] == "#1"
    assert any(d["source_path"] == "corpus.jsonl" and d["source_record"] == "after" for d in docs)


def test_a_sidecar_encoding_that_is_not_a_text_encoding_is_a_bad_row(tmp_path):
    for codec in ("hex", "rot13", "zlib", "no-such-codec"):
        folder = tmp_path / codec
        sidecar = f"file,encoding\n{GOOD},{codec}\n".encode("utf-8")
        report, _ = outcome(folder, {"metadata.csv": sidecar})
        row = report[("metadata.csv", "#2")]
        assert row["reason"] == "sidecar_bad_row" and f"'{codec}'" in row["message"], codec
        assert "not a text encoding" in row["message"]


def test_a_sidecar_row_with_more_cells_than_the_header_is_a_bad_row(tmp_path):
    sidecar = f"file,title\n{GOOD},a title,one cell too many\nother.txt,t\n".encode("utf-8")
    report, docs = outcome(tmp_path, {"metadata.csv": sidecar, "other.txt": seed_text("001").encode("utf-8")})
    row = report[("metadata.csv", "#2")]
    assert row["reason"] == "sidecar_bad_row" and "more cells than the header" in row["message"]
    assert doc_of(docs, "other.txt")["title"] == "t"  # the rows after it are still read


def test_the_same_record_twice_gives_two_distinct_doc_ids(tmp_path):
    line = json.dumps({"id": "s", "text": seed_text("001")[:300]}, ensure_ascii=False).encode("utf-8")
    _, docs = outcome(tmp_path, {"corpus.jsonl": line + b"\n" + line + b"\n"})
    twins = [d for d in docs if d["source_path"] == "corpus.jsonl"]
    assert len(twins) == 2 and len({d["doc_id"] for d in twins}) == 2
    assert sorted(d["source_record"] for d in twins) == ["s", "s@2"]


def test_a_reader_that_fails_mid_file_keeps_the_records_before_and_reports_the_rest(tmp_path, monkeypatch):
    from kefu_corpus import sources

    def failing(*args, **kwargs):
        yield from original(*args, **kwargs)
        raise MemoryError("the reader ran out of memory")

    original = sources.iter_jsonl
    monkeypatch.setattr(sources, "iter_jsonl", failing)
    line = json.dumps({"id": "kept", "text": seed_text("001")[:300]}, ensure_ascii=False).encode("utf-8")
    report, docs = outcome(tmp_path, {"corpus.jsonl": line + b"\n"})
    broken = report[("corpus.jsonl", "#2")]
    assert broken["reason"] == "broken_file" and "MemoryError" in broken["message"]
    assert any(d["source_record"] == "kept" for d in docs)


def test_a_text_encoding_that_cannot_decode_the_file_rejects_that_file_alone(tmp_path):
    # 'undefined' and 'punycode' are text encodings to Python, but decode no Chinese article
    for codec in ("undefined", "punycode"):
        raw = make_raw(tmp_path / codec, {"other.txt": seed_text("001").encode("utf-8"),
                                          "metadata.csv": f"file,encoding\n{GOOD},{codec}\n".encode("utf-8")})
        run_pipeline(raw, tmp_path / codec / "out", until="ingest")
        report = {r["source_path"]: r for r in read(tmp_path / codec / "out", "ingest_report") if r["source_record"] is None}
        assert report[GOOD]["status"] == "rejected" and GOOD in report[GOOD]["message"], codec
        assert report["other.txt"]["status"] == "ok"


def test_a_file_the_user_cannot_read_is_rejected_alone(tmp_path, monkeypatch):
    import builtins
    import os
    import pathlib

    raw = make_raw(tmp_path, {"locked.txt": seed_text("001").encode(), "locked.jsonl": b'{"text": "x"}\n'})
    for name in ("locked.txt", "locked.jsonl"):
        (raw / name).chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the two files refuse it as they refuse a user
        def refusing(real):
            def opener(target, *args, **kwargs):
                if isinstance(target, (str, os.PathLike)) and os.path.basename(target).startswith("locked."):
                    raise PermissionError(13, "Permission denied", str(target))
                return real(target, *args, **kwargs)
            return opener
        monkeypatch.setattr(builtins, "open", refusing(builtins.open))
        monkeypatch.setattr(pathlib.Path, "open", refusing(pathlib.Path.open))
        monkeypatch.setattr(pathlib.Path, "read_bytes", refusing(pathlib.Path.read_bytes))
    out = tmp_path / "out"
    try:
        run_pipeline(raw, out, until="ingest")
    finally:
        monkeypatch.undo()
        for name in ("locked.txt", "locked.jsonl"):
            (raw / name).chmod(0o644)
    report = {r["source_path"]: r for r in read(out, "ingest_report")}
    for name in ("locked.txt", "locked.jsonl"):
        assert report[name]["status"] == "rejected" and "permission denied" in report[name]["message"], name
    assert [d["source_path"] for d in read(out, "documents")] == [GOOD]
    assert {i["path"]: i["sha256"] for i in read_manifest(out)["inputs"]}["locked.txt"] is None


def test_symbolic_links_out_of_the_folder_and_special_files_are_skipped_with_a_row(tmp_path):
    import os

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.txt").write_text(seed_text("001"), encoding="utf-8")
    raw = make_raw(tmp_path, {})
    (raw / "sub").mkdir()
    os.symlink(outside / "secret.txt", raw / "secret.txt")
    os.symlink(outside, raw / "linked")
    os.symlink(tmp_path / "missing.txt", raw / "dangling.txt")
    os.symlink("..", raw / "sub" / "up")  # a loop
    os.symlink(GOOD, raw / "inside.txt")  # a link within the folder is read
    os.mkfifo(raw / "pipe.txt")
    out = tmp_path / "out"
    run_pipeline(raw, out, until="ingest")
    report = {r["source_path"]: r for r in read(out, "ingest_report")}
    assert report["secret.txt"]["reason"] == report["linked"]["reason"] == "symlink_outside"
    assert "ingest.follow_symlinks" in report["secret.txt"]["message"]
    assert report["sub/up"]["reason"] == "symlink_folder"
    assert report["pipe.txt"]["reason"] == "special_file"
    assert report["dangling.txt"]["status"] == "rejected" and "does not exist" in report["dangling.txt"]["message"]
    assert report["inside.txt"]["status"] == "duplicate"  # read, and its bytes are those of the file it names
    assert {d["source_path"] for d in read(out, "documents")} == {GOOD, "inside.txt"}
    # allowed, the links outside are read like the files they point to
    run_pipeline(raw, out, until="ingest", **{"ingest.follow_symlinks": True})
    paths = {d["source_path"] for d in read(out, "documents")}
    assert paths == {GOOD, "inside.txt", "secret.txt", "linked/secret.txt"}


def test_valid_utf8_with_a_stray_nul_is_text_and_with_many_controls_is_binary(tmp_path):
    text = seed_text("001")
    stray = (text[:300] + "\x00" + text[300:]).encode("utf-8")
    report, docs = outcome(tmp_path, {"stray.txt": stray, "controls.txt": bytes(range(32)) * 20}, until="normalise")
    assert report[("stray.txt", None)]["status"] == "warning"
    assert report[("stray.txt", None)]["reason"] == "nul_characters"
    assert report[("controls.txt", None)]["reason"] == "binary_file"
    assert "\x00" in doc_of(docs, "stray.txt")["text"]  # the document keeps the text as read
    passages = "".join(p["text_normalised"] for p in read(tmp_path / "out", "passages")
                       if p["doc_id"] == doc_of(docs, "stray.txt")["doc_id"])
    assert "\x00" not in passages and "客服" in passages


def test_a_file_in_a_single_byte_encoding_is_decoded_with_a_warning_naming_the_guess(tmp_path):
    latin = "Le café était très apprécié à Zürich, où les clients sont fidèles. Déjà vu, garçon.".encode("latin-1")
    report, docs = outcome(tmp_path, {"latin.txt": latin})
    row = report[("latin.txt", None)]
    assert row["status"] == "warning" and row["reason"] == "encoding_guessed"
    assert row["encoding"] in row["message"] and "sidecar" in row["message"]


def test_a_truncated_csv_gz_keeps_the_rows_before_the_damage(tmp_path):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "text"])
    for i in range(150):
        writer.writerow([f"r{i}", f"第{i}篇：客服中心的转型与价值，座席与智能客服。" * 3])
    whole = gzip.compress(buffer.getvalue().encode("utf-8"))
    report, docs = outcome(tmp_path, {"corpus.csv.gz": whole[: len(whole) * 2 // 3]})
    kept = [d for d in docs if d["source_path"] == "corpus.csv.gz"]
    assert 80 <= len(kept) < 150
    assert [d["source_record"] for d in kept] == [f"r{i}" for i in range(len(kept))]
    broken = [r for (path, _), r in report.items() if path == "corpus.csv.gz" and r["status"] == "rejected"]
    assert len(broken) == 1 and broken[0]["reason"] == "broken_file"
    assert f"past row {len(kept)}" in broken[0]["message"]


def test_a_csv_with_two_text_columns_is_rejected_not_guessed(tmp_path):
    data = "id,text,text\nc1,客服中心的价值。,座席的转型。\n".encode("utf-8")
    report, docs = outcome(tmp_path, {"corpus.csv": data})
    row = report[("corpus.csv", None)]
    assert row["status"] == "rejected" and row["reason"] == "ambiguous_column" and "'text'" in row["message"]
    assert not [d for d in docs if d["source_path"] == "corpus.csv"]


def test_every_stage_runs_over_the_bad_inputs_together_and_ingests_them_as_ingest_alone_does(tmp_path):
    """The cases above ingest alone; here many of them share one folder and every stage runs. Ingest's
    outcomes are the same as when it runs alone, and the later stages take what it kept."""
    from kefu_corpus import tablefiles
    from kefu_corpus.schemas import TABLES

    text = seed_text("001")
    records = [b'{"id":"s","text":"a\\ud800b"}', b"[" * 100_000 + b"]" * 100_000, b'{"id": "a2", "text": "no end}',
               json.dumps({"id": "kept", "text": text[:300], "date": "Dec 2020"}, ensure_ascii=False).encode("utf-8")]
    files = {
        "empty.txt": b"", "photo.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        "gbk.txt": seed_text("002").encode("gbk"), "bom.txt": b"\xef\xbb\xbf" + seed_text("000").encode("utf-8"),
        "cut.txt": seed_text("004").encode("utf-8")[:301], "controls.txt": bytes(range(32)) * 20,
        "stray.txt": (text[:300] + "\x00" + text[300:]).encode("utf-8"),
        "latin.txt": "Le café était très apprécié à Zürich, où les clients sont fidèles.".encode("latin-1"),
        "corpus.jsonl": b"\n".join(records) + b"\n",
        "corpus.csv": "id,text,title\nc1,客服中心的价值。,价值\nc2,多,了,一格\nc3,座席的转型。,转型\n".encode("utf-8"),
        "metadata.csv": f"file,title,encoding\n{GOOD},,hex\nmissing.txt,t,\n".encode("utf-8"),
        "notes.docx": b"PK\x03\x04", ".DS_Store": b"\x00\x01",
    }
    raw = make_raw(tmp_path, files)
    run_pipeline(raw, tmp_path / "ingested", until="ingest")
    out = tmp_path / "out"
    run_pipeline(raw, out)
    report = read(out, "ingest_report")
    assert report == read(tmp_path / "ingested", "ingest_report")
    assert {r["status"] for r in report} >= {"ok", "warning", "rejected", "ignored", "sidecar"}
    docs = {d["doc_id"]: d["source_path"] for d in read(out, "documents")}
    assert docs == {d["doc_id"]: d["source_path"] for d in read(tmp_path / "ingested", "documents")}
    assert {GOOD, "gbk.txt", "stray.txt", "latin.txt", "corpus.jsonl", "corpus.csv"} <= set(docs.values())
    assert all(tablefiles.exists(out / spec.filename) for spec in TABLES.values())
    assert {t["doc_id"] for t in read(out, "tokens")} <= set(docs)
