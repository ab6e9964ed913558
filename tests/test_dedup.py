"""Dedup: the doubled body of seed 002, constructed cases on seed text, the audit trail, the stage alone."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kefu_corpus.cli import app
from kefu_corpus.dedup.near import band_rows, near_pairs, signatures
from kefu_corpus.dedup.within import repeated_blocks
from kefu_corpus.store import read_passages
from kefu_corpus.text.convert import convert
from kefu_corpus.text.fingerprint import match_keys

from conftest import SEEDS, read, run_pipeline, seed_text


def by_source(out: Path) -> dict[str, dict]:
    return {row["source_path"]: row for row in read(out, "documents")}


def passages_of(out: Path, doc_id: str) -> list[dict]:
    return [p for p in read(out, "passages") if p["doc_id"] == doc_id]


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def check_audit_rows(out: Path) -> list[dict]:
    """Every duplicates row points at raw text: the flagged span, and the kept copy, which is not flagged."""
    docs = {d["doc_id"]: d for d in read(out, "documents")}
    passages = {p["passage_id"]: p for p in read(out, "passages")}
    rows = read(out, "duplicates")
    for row in rows:
        text = docs[row["doc_id"]]["text"]
        assert 0 <= row["start"] < row["end"] <= len(text)
        if row["passage_id"]:
            p = passages[row["passage_id"]]
            assert p["start"] <= row["start"] < row["end"] <= p["end"]
        if row["kind"] != "boilerplate":
            assert row["kept_start"] < row["kept_end"] <= len(docs[row["kept_doc_id"]]["text"])
            if row["kept_passage_id"]:
                assert not passages[row["kept_passage_id"]]["is_duplicate"]
    return rows


# -- the seeds ------------------------------------------------------------------------------------------


def test_the_doubled_body_of_002_is_flagged_once_and_the_first_copy_is_kept(seed_run, seed_docs):
    out, _ = seed_run
    doc = seed_docs["002"]
    text = doc["text"]
    passages = passages_of(out, doc["doc_id"])
    flagged = [p for p in passages if p["is_duplicate"]]
    kept = [p for p in passages if not p["is_duplicate"]]
    # The second copy is a run of passages that repeats, one for one, passages of the first copy.
    first_copy = [p["text"] for p in kept]
    assert flagged and all(p["text"] in first_copy for p in flagged)
    indices = [p["passage_index"] for p in flagged]
    assert indices == list(range(indices[0], indices[-1] + 1))
    # Nothing of the first copy is lost, and the closing paragraph (said once) stays.
    assert [p["text"] for p in kept[1:len(flagged) + 1]] == [p["text"] for p in flagged]
    assert passages[-1]["passage_index"] > indices[-1] and not passages[-1]["is_duplicate"]
    # The audit rows give the copy and the kept span in the raw text, and they read the same.
    rows = [r for r in check_audit_rows(out) if r["doc_id"] == doc["doc_id"]]
    assert {r["kind"] for r in rows} == {"within_doc"}
    assert len({r["cluster_id"] for r in rows}) == 1
    for r in rows:
        assert text[r["start"]:r["end"]] == text[r["kept_start"]:r["kept_end"]]
    copy_start, copy_end = min(r["start"] for r in rows), max(r["end"] for r in rows)
    assert copy_start == flagged[0]["start"] and copy_end == flagged[-1]["end"]
    assert doc["n_duplicate_passages"] == len(flagged)


def test_no_other_seed_passage_is_flagged(seed_run, seed_docs):
    out, _ = seed_run
    for seed, doc in seed_docs.items():
        if seed == "002":
            continue
        assert doc["n_duplicate_passages"] == 0, seed
        assert doc["near_duplicate_of"] is None and doc["duplicate_cluster"] is None
        assert not any(p["is_duplicate"] or p["duplicate_spans"] for p in passages_of(out, doc["doc_id"]))


# -- constructed cases on seed text ---------------------------------------------------------------------


def body_lines(text: str, n: int) -> list[str]:
    """The first ``n`` body paragraphs of a seed (long lines: headers and bylines are short)."""
    return [line for line in text.splitlines() if len(line) > 40 and not re.search("[|\xa0]", line)][:n]


def test_a_document_pasted_into_another_is_flagged_in_one_place(tmp_path):
    donor, host = seed_text("000"), seed_text("004")
    pasted = body_lines(donor, 4)
    lines = host.splitlines()
    host_pasted = "\n".join(lines[:8] + pasted + lines[8:]) + "\n"
    raw = write(tmp_path / "raw", {"000.txt": donor, "004_host.txt": host_pasted})
    out = tmp_path / "out"
    run_pipeline(raw, out, until="dedup")
    docs = by_source(out)
    rows = check_audit_rows(out)
    exact = [r for r in rows if r["kind"] == "exact"]
    # 000 is dated 2020-12-07 and 004 2021-05-01: the copies in the later document are the ones flagged.
    assert docs["000.txt"]["date"] < docs["004_host.txt"]["date"]
    assert len(exact) == len(pasted)
    assert {r["doc_id"] for r in exact} == {docs["004_host.txt"]["doc_id"]}
    assert {r["kept_doc_id"] for r in exact} == {docs["000.txt"]["doc_id"]}
    host_text = docs["004_host.txt"]["text"]
    assert sorted(host_text[r["start"]:r["end"]] for r in exact) == sorted(pasted)
    assert docs["000.txt"]["n_duplicate_passages"] == 0
    assert docs["004_host.txt"]["n_duplicate_passages"] == len(pasted)
    assert docs["004_host.txt"]["near_duplicate_of"] is None  # the host is mostly its own text


@pytest.mark.parametrize("to_traditional", ["s2t", "s2twp"])
def test_the_same_article_in_both_scripts_is_one_document(tmp_path, to_traditional):
    simplified = seed_text("000")
    traditional = convert(simplified, to_traditional).text
    raw = write(tmp_path / "raw", {"000_s.txt": simplified, "000_t.txt": traditional})
    out = tmp_path / "out"
    run_pipeline(raw, out, until="dedup")
    docs = by_source(out)
    assert docs["000_s.txt"]["script"] == "simplified" and docs["000_t.txt"]["script"] == "traditional"
    flagged = [d for d in docs.values() if d["near_duplicate_of"]]
    assert len(flagged) == 1
    copy, kept = flagged[0], next(d for d in docs.values() if not d["near_duplicate_of"])
    assert copy["near_duplicate_of"] == kept["doc_id"]
    assert copy["duplicate_cluster"] == kept["duplicate_cluster"] == f"near_document:{kept['doc_id']}"
    assert all(p["is_duplicate"] for p in passages_of(out, copy["doc_id"]))
    assert not any(p["is_duplicate"] for p in passages_of(out, kept["doc_id"]))
    rows = check_audit_rows(out)
    near = [r for r in rows if r["kind"] == "near_document"]
    assert near and all(r["similarity"] > 0.8 and r["kept_doc_id"] == kept["doc_id"] for r in near)
    # Converted character by character, passages also match exactly through the canonical text; with
    # Taiwan phrasing (s2twp: 软件 -> 軟體) many differ in words, and the alignment with the kept document
    # flags them. One decision per passage, either way.
    exact = [r for r in rows if r["kind"] == "exact"]
    if to_traditional == "s2t":
        assert len(exact) >= 0.9 * copy["n_passages"]
    flagged = [r["passage_id"] for r in near + exact]
    assert sorted(flagged) == sorted(p["passage_id"] for p in passages_of(out, copy["doc_id"]))


def edit_chars(text: str, share: float, seed: int) -> str:
    """``text`` with ``share`` of its Han characters replaced by other Han characters (deterministic)."""
    rng = random.Random(seed)
    chars = list(text)
    han = [i for i, ch in enumerate(chars) if "\u4e00" <= ch <= "\u9fff"]
    for i in rng.sample(han, int(len(han) * share)):
        chars[i] = chr(0x4E00 + rng.randrange(0x5000))
    return "".join(chars)


def test_an_article_with_five_percent_of_characters_edited_is_a_near_duplicate(tmp_path):
    original = seed_text("004")
    lines = original.splitlines()
    edited = "\n".join(lines[:2] + edit_chars("\n".join(lines[2:]), 0.05, seed=4).splitlines()) + "\n"
    raw = write(tmp_path / "raw", {"004.txt": original, "004_edited.txt": edited, "001.txt": seed_text("001")})
    out = tmp_path / "out"
    run_pipeline(raw, out, until="dedup")
    docs = by_source(out)
    copy = [d for d in docs.values() if d["near_duplicate_of"]]
    assert [d["source_path"] for d in copy] in (["004_edited.txt"], ["004.txt"])
    assert docs["001.txt"]["duplicate_cluster"] is None and docs["001.txt"]["n_duplicate_passages"] == 0
    # Edits throughout: a copy, every passage of its body flagged whole, pointing at the kept document.
    (copy,) = copy
    kept = next(d for d in docs.values() if d["doc_id"] == copy["near_duplicate_of"])
    assert copy["duplicate_cluster"] == f"near_document:{kept['doc_id']}"
    rows = [r for r in check_audit_rows(out) if r["doc_id"] == copy["doc_id"]]
    assert {r["kind"] for r in rows} <= {"near_document", "exact"}
    assert all(r["kept_doc_id"] == kept["doc_id"] and 0.5 <= r["similarity"] < 0.95 for r in rows
               if r["kind"] == "near_document")
    body = passages_of(out, copy["doc_id"])
    assert sum(p["is_duplicate"] for p in body) >= len(body) - 2  # the title and byline lines are its own
    assert sorted(r["passage_id"] for r in rows) == sorted(p["passage_id"] for p in body if p["is_duplicate"])


def _key(text: str) -> str:
    return re.sub(r"\W", "", text)


@pytest.mark.parametrize("own_first", [True, False], ids=["introduction", "commentary"])
def test_a_repost_with_text_of_its_own_keeps_that_text(tmp_path, own_first):
    original = seed_text("004")
    own = "\n".join(seed_text("001").splitlines()[4:7])  # paragraphs found nowhere else in this corpus
    body = "\n".join(original.splitlines()[2:])
    repost = f"{own}\n{body}\n" if own_first else f"{body}\n{own}\n"
    raw = write(tmp_path / "raw", {"004.txt": original, "repost.txt": repost, "002.txt": seed_text("002")})
    out = tmp_path / "out"
    run_pipeline(raw, out, until="dedup")
    docs = by_source(out)
    copy, kept = docs["repost.txt"], docs["004.txt"]
    assert copy["near_duplicate_of"] == kept["doc_id"] and kept["near_duplicate_of"] is None
    rows = [r for r in check_audit_rows(out) if r["doc_id"] == copy["doc_id"]]
    assert rows and all(r["kept_doc_id"] == kept["doc_id"] for r in rows)
    own_keys = {_key(line) for line in own.splitlines()}
    for p in passages_of(out, copy["doc_id"]):
        if _key(p["text_canonical"]) in own_keys:  # its own paragraphs: not flagged, not in part
            assert not p["is_duplicate"] and not p["duplicate_spans"], p["text_canonical"][:20]
        else:  # the reposted body: flagged, each pointing at the same text in the original
            assert p["is_duplicate"], p["text_canonical"][:20]
    for r in rows:
        assert _key(copy["text"][r["start"]:r["end"]]) in _key(kept["text"][r["kept_start"]:r["kept_end"]])


REPORT = ("{date}，{org}在{city}召开年度客户服务工作会议。{name}在会上作工作报告，过去一年热线中心共受理客户来电"
          "{calls}万通，一次解决率达到{rate}%，客户满意度较上年提升{gain}个百分点。\n"
          "会议总结了全年服务质量提升工作的成效，表彰了{teams}个优秀服务班组，并部署了新一年度的重点任务。"
          "会议要求各部门坚持以客户为中心，持续推进智能客服建设，完善坐席培训体系，优化投诉处理流程。\n"
          "与会代表围绕智能语音导航、工单流转效率和服务标准化建设等议题进行了深入交流，"
          "大家一致认为，要把客户体验放在首位，用数据驱动服务改进，切实提升一线员工的专业能力。\n")


def test_templated_reports_of_different_events_keep_their_own_facts(tmp_path):
    first = REPORT.format(date="2021年3月15日", org="华东电力公司", city="南京", name="总经理王建国",
                          calls="1250", rate="87.5", gain="3.2", teams="12")
    second = REPORT.format(date="2022年4月20日", org="西南燃气集团", city="成都", name="董事长李晓梅",
                           calls="980", rate="91.3", gain="1.8", teams="9")
    raw = write(tmp_path / "raw", {"a.txt": first, "b.txt": second, "002.txt": seed_text("002")})
    out = tmp_path / "out"
    run_pipeline(raw, out, until="segment")  # its tokens show what the deduplicated view keeps
    docs = by_source(out)
    (copy,) = [d for d in docs.values() if d["near_duplicate_of"]]
    kept = next(d for d in docs.values() if d["doc_id"] == copy["near_duplicate_of"])
    assert copy["duplicate_cluster"] == f"template:{kept['doc_id']}"
    rows = [r for r in check_audit_rows(out) if r["doc_id"] == copy["doc_id"]]
    assert {r["kind"] for r in rows} == {"template", "exact"}  # the paragraph they share word for word: exact
    # The formula is flagged; the copy's own facts are not, and reach the tokens of the deduplicated view.
    facts = ["西南燃气集团", "成都", "李晓梅", "980", "91.3", "2022"] if copy["source_path"] == "b.txt" else \
        ["华东电力公司", "南京", "王建国", "1250", "87.5", "2021"]
    flagged = "".join(copy["text"][r["start"]:r["end"]] for r in rows)
    assert "与会代表围绕智能语音导航" in flagged and not any(fact in flagged for fact in facts)
    tokens = "".join(t["token_original"] for t in read(out, "tokens") if t["doc_id"] == copy["doc_id"])
    assert all(fact in tokens for fact in facts), tokens
    assert "智能语音导航" not in tokens


def test_a_repeat_starting_mid_paragraph_is_flagged_from_where_it_starts(tmp_path):
    text = seed_text("001")
    lines = text.splitlines()
    source = max(range(3, 10), key=lambda i: len(lines[i]))
    sentences = re.findall(r"[^。]*。", lines[source])
    repeat = "".join(sentences[1:])  # the paragraph from its second sentence on
    assert len(repeat) > 40
    target = next(i for i in range(source + 2, len(lines)) if len(lines[i]) > 40 and lines[i].endswith("。"))
    lines[target] = lines[target] + repeat
    raw = write(tmp_path / "raw", {"001.txt": "\n".join(lines) + "\n"})
    out = tmp_path / "out"
    run_pipeline(raw, out, until="dedup")
    doc = next(iter(by_source(out).values()))
    rows = check_audit_rows(out)
    assert [r["kind"] for r in rows] == ["within_doc"]
    row = rows[0]
    raw_text = doc["text"]
    assert raw_text[row["start"]:row["end"]] == repeat
    assert raw_text[row["kept_start"]:row["kept_end"]] == repeat
    host = next(p for p in passages_of(out, doc["doc_id"]) if p["passage_id"] == row["passage_id"])
    assert host["start"] < row["start"] and not host["is_duplicate"]
    (span,) = host["duplicate_spans"]
    # In the canonical text the span is the same sentences, punctuation normalised (, -> ，).
    assert host["text_canonical"][span["start"]:span["end"]].replace("，", ",") == repeat


def test_a_footer_in_many_documents_is_boilerplate_and_a_repost_is_not(tmp_path):
    footer = "每周一篇客服管理实践笔记，与一线管理者一起复盘服务中的得失与成长。"
    files = {f"{s}.txt": seed_text(s).rstrip("\n") + "\n" + footer + "\n" for s in ("000", "002", "004")}
    raw = write(tmp_path / "raw", files)
    out = tmp_path / "out"
    run_pipeline(raw, out, until="dedup")
    rows = check_audit_rows(out)
    boiler = [r for r in rows if r["kind"] == "boilerplate"]
    assert len(boiler) == 3 and all(r["kept_doc_id"] is None for r in boiler)
    assert len({r["cluster_id"] for r in boiler}) == 1
    texts = {d["doc_id"]: d["text"] for d in read(out, "documents")}
    assert all(texts[r["doc_id"]][r["start"]:r["end"]] == footer for r in boiler)
    assert {r["kind"] for r in rows} == {"boilerplate", "within_doc"}  # 002's doubled body, as ever
    # The same article posted three times keeps one copy: its paragraphs are not boilerplate.
    raw2 = write(tmp_path / "raw2", {f"004_{i}.txt": seed_text("004") + ("\n" * i) for i in range(3)})
    out2 = tmp_path / "out2"
    run_pipeline(raw2, out2, until="dedup")
    kinds = {r["kind"] for r in check_audit_rows(out2)}
    assert kinds == {"exact"}  # every passage of the copies, each pointing at the kept one's
    assert sum(1 for d in read(out2, "documents") if d["near_duplicate_of"] is None) == 1


# -- the stage alone, determinism -----------------------------------------------------------------------


def test_kefu_dedup_alone_rewrites_its_tables_and_is_deterministic(raw, tmp_path):
    out = tmp_path / "out"
    for path in SEEDS:
        if not path.name.startswith("002"):
            (raw / path.name).unlink()
    run_pipeline(raw, out, until="dedup")
    before = pq.read_table(out / "duplicates.parquet")
    result = CliRunner().invoke(app, ["dedup", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "39 of 80 passage(s) flagged" in result.output
    assert pq.read_table(out / "duplicates.parquet").equals(before)
    assert (out / "repairs.parquet").is_file() and (out / "boilerplate.parquet").is_file()


def test_kefu_dedup_before_normalise_says_what_to_do(raw, tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(raw), "--out", str(out), "--workers", "1"]).exit_code == 0
    result = runner.invoke(app, ["dedup", str(out), "--workers", "1"])
    assert result.exit_code != 0
    output = result.output.replace("\n", "")
    assert "kefu normalise" in output and "passages.parquet" in output


# -- units ----------------------------------------------------------------------------------------------


def test_repeated_blocks_keep_the_first_copy_and_ignore_repeated_phrases():
    keys = match_keys(["甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳。午未申酉。", "其他的话。甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳。"])
    blocks = repeated_blocks(keys.codes, keys.bounds[[0, 2]], 16, keys.breaks)
    assert len(blocks) == 1
    b = blocks[0]
    assert (b.source_start, b.source_end) == (0, 16) and b.end - b.start == 16
    # The same 16 characters inside two different sentences are a phrase, not a repeated sentence.
    keys = match_keys(["前言甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳后语。", "别的甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳结尾。"])
    assert repeated_blocks(keys.codes, keys.bounds[[0, 2]], 16, keys.breaks) == []


def test_match_keys_fold_punctuation_spacing_and_case():
    keys = match_keys(["客服 AI，让服务更好！", "客服ai让服务更好"])
    assert np.array_equal(keys.key(0), keys.key(1))
    assert keys.positions[keys.bounds[0]:keys.bounds[1]].tolist() == [0, 1, 3, 4, 6, 7, 8, 9, 10]
    assert keys.breaks.tolist() == [0, 9, 18]


@pytest.mark.parametrize("run_chars", [7, 300, 5000])
def test_keys_and_repeats_do_not_depend_on_how_a_batch_is_cut_into_runs(monkeypatch, run_chars):
    """Both are computed in runs of texts (documents) for speed; any run size gives the same arrays."""
    from kefu_corpus.dedup import within
    from kefu_corpus.text import fingerprint

    texts = [path.read_text(encoding="utf-8") for path in SEEDS]
    sentences = "。".join(texts[0].split("。")[5:9]) + "。"
    texts += ["", "短。", sentences + sentences]  # 002 has its body twice, the last text its sentences
    expected = match_keys(texts)
    doc_bounds = expected.bounds  # one document per text
    blocks = repeated_blocks(expected.codes, doc_bounds, 16, expected.breaks)
    assert any(b.doc == 2 for b in blocks) and any(b.doc == len(texts) - 1 for b in blocks)
    monkeypatch.setattr(fingerprint, "_RUN_CHARS", run_chars)
    monkeypatch.setattr(within, "_GROUP_CHARS", run_chars)
    keys = match_keys(texts)
    for name in ("codes", "positions", "bounds", "breaks"):
        assert np.array_equal(getattr(keys, name), getattr(expected, name)), name
    assert repeated_blocks(keys.codes, keys.bounds, 16, keys.breaks) == blocks


def test_band_rows_make_the_threshold_a_candidate_with_high_probability():
    for threshold in (0.5, 0.8, 0.9):
        rows = band_rows(threshold, 128)
        assert 1 - (1 - threshold ** rows) ** (128 // rows) >= 0.99
        assert 1 - (1 - threshold ** (rows + 1)) ** (128 // (rows + 1)) < 0.99 or rows == 128


@pytest.mark.parametrize("share", [0.0, 0.02])
def test_signatures_find_near_copies_and_only_them(share):
    texts = [line for s in ("000", "001", "004") for line in body_lines(seed_text(s), 6)]
    texts.append(edit_chars(texts[0], share, seed=1))
    keys = match_keys(texts)
    sigs = signatures(keys.codes, keys.bounds[:-1], keys.bounds[1:], 5, 128, 7)
    pairs = near_pairs(sigs, 0.5)
    assert list(zip(pairs.left.tolist(), pairs.right.tolist())) == [(0, len(texts) - 1)]


def test_later_stages_read_the_deduplicated_view_unless_asked_for_everything(seed_run, seed_docs):
    out, _ = seed_run
    everything = read_passages(out, include_duplicates=True)
    view = read_passages(out, ["passage_id", "text_canonical"])
    assert everything.num_rows == len(read(out, "passages"))
    assert view.num_rows == everything.num_rows - seed_docs["002"]["n_duplicate_passages"]
    flagged = {p["passage_id"] for p in read(out, "passages") if p["is_duplicate"]}
    assert flagged and not flagged & set(view.column("passage_id").to_pylist())
