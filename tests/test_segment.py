"""Segmentation: jieba's tokens, the domain dictionary, both scripts, offsets, stopwords, kefu tokenize."""

from __future__ import annotations

import gzip
import json
import logging
from itertools import accumulate

import jieba
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kefu_corpus.cli import app
from kefu_corpus.errors import KefuError
from kefu_corpus.text.convert import convert
from kefu_corpus.stages.segment import SegmentParams
from kefu_corpus.text.segment import Segmenter, number_pattern, read_dictionary

from conftest import SHARED, read, run_pipeline, seed_text

jieba.setLogLevel(logging.WARNING)
BENCH = SHARED / "bench" / "tw_laws.jsonl.gz"


@pytest.fixture(scope="module")
def tokens(seed_run):
    out, _ = seed_run
    return pq.read_table(out / "tokens.parquet").to_pylist()


JIEBA_ONLY = SegmentParams(numbers=False, granularity="jieba")


def _engine_texts() -> list[str]:
    texts = [convert(seed_text(s), "t2s").text for s in ("000", "001", "002", "003", "004")]
    if BENCH.is_file():
        with gzip.open(BENCH, "rt", encoding="utf-8") as fh:
            texts += [convert(json.loads(next(fh))["text"], "t2s").text for _ in range(200)]
    return texts


def _bounds(tokens: list[str]) -> set[int]:
    out, pos = {0}, 0
    for t in tokens:
        pos += len(t)
        out.add(pos)
    return out


def test_the_engine_cuts_exactly_like_jieba_on_the_seeds_and_the_bench_sample():
    plain = Segmenter(JIEBA_ONLY)
    plain.engine = __import__("rjieba").Jieba()  # jieba's own dictionary only, as jieba.lcut has it
    for text in _engine_texts():
        assert plain.cut(text) == jieba.lcut(text, HMM=False)


def test_the_layers_only_cut_jiebas_words_finer_outside_number_expressions():
    layered = Segmenter(SegmentParams())
    layered.engine = __import__("rjieba").Jieba()
    numbers = number_pattern(layered.params.date_units)
    for text in _engine_texts():
        tokens = layered.cut(text)
        assert "".join(tokens) == text
        inside = {i for m in numbers.finditer(text) for i in range(m.start(), m.end() + 1)}
        assert _bounds(jieba.lcut(text, HMM=False)) - inside <= _bounds(tokens)


def test_numbers_that_are_tokens_already_keep_the_cut_that_rejoining_would_give():
    seg = Segmenter(SegmentParams(granularity="jieba"))
    for text in _engine_texts():
        tokens = seg.engine.cut(text, hmm=True)
        fast = seg._join_numbers(text, tokens, True)
        found = [m.span() for m in seg._numbers.finditer(text) if m.end() - m.start() > 1]
        # the general path, forced: a number span that is one token already is kept; and rebuilding
        # only the tokens the spans touch gives the cut of rebuilding the whole text
        whole = seg._rebuild(text, tokens, True, found)
        assert fast == whole
        assert seg._rejoin(text, tokens, list(accumulate(map(len, tokens))), True, found) == whole
        assert "".join(fast) == text


@pytest.mark.parametrize("hmm", [False, True])
def test_each_token_has_the_tag_the_engine_gives_it_in_its_text(hmm):
    """Tokens are cut without tags and each distinct word is tagged once: the tags are the ones the
    engine's own tagging gives every occurrence, words it guesses in context included (并应 is one HMM
    word in its text, two dictionary words alone)."""
    seg = Segmenter(SegmentParams(granularity="jieba", numbers=False, hmm=hmm))
    texts = _engine_texts() + ["有关机关并应于三日内通知。"]
    guessed = 0
    for text in texts:
        assert seg.tag(text) == seg.engine.tag(text, hmm=hmm)
        guessed += sum(len(seg.engine.tag(word, hmm=True)) > 1 for word, _ in seg.engine.tag(text, hmm=hmm)
                       if not seg.engine.has_word(word))
    assert guessed or not hmm  # the test reaches words that only their context tags


@pytest.mark.parametrize("text, expected", [
    ("7月有2.5万吨", ["7月", "有", "2.5万", "吨"]),
    ("以6﹕4取胜", ["以", "6﹕4", "取胜"]),
    ("1,000元", ["1,000", "元"]),
    ("他说——好……", ["他", "说", "——", "好", "……"]),
    ("一九八○年代", ["一九八○", "年代"]),
])
def test_number_expressions_are_one_token(text, expected):
    seg = Segmenter(SegmentParams(granularity="jieba"))
    assert seg.cut(text) == expected
    assert Segmenter(SegmentParams(granularity="jieba", date_units="年月日")).cut("2004年") == ["2004年"]


def test_fine_granularity_cuts_compounds_but_not_idioms_or_domain_terms():
    fine, coarse = Segmenter(SegmentParams()), Segmenter(SegmentParams(granularity="jieba"))
    assert coarse.cut("国有企业") == ["国有企业"] and fine.cut("国有企业") == ["国有", "企业"]
    assert fine.cut("习以为常") == ["习以为常"]
    assert fine.cut("客服中心") == ["客服中心"]  # a domain dictionary word
    assert fine.tag("国有企业") == [("国有", "b"), ("企业", "n")]
    with pytest.raises(KefuError, match="granularity"):
        Segmenter(SegmentParams(granularity="finest"))


def test_search_mode_keeps_the_default_cut_and_adds_the_compound():
    found = Segmenter(SegmentParams()).search("国有企业改革")
    assert ("国有企业", 0, 4) in {(t, s, e) for t, _, s, e in found}
    assert {(t, s, e) for t, _, s, e in found} >= {("国有", 0, 2), ("企业", 2, 4)}


def test_domain_terms_come_out_whole(tokens, seed_docs):
    words = {t["token"] for t in tokens}
    for term in ("客服中心", "人工智能", "数字化转型", "客户体验", "共情力", "中年危机", "居理新房"):
        assert term in words, term


def test_traditional_tokens_are_reported_in_both_scripts_and_slice_the_raw_text(tokens, seed_docs):
    doc = seed_docs["003"]
    mine = [t for t in tokens if t["doc_id"] == doc["doc_id"]]
    assert mine
    pairs = {(t["token"], t["token_original"]) for t in mine}
    assert ("客户服务", "客戶服務") in pairs and ("举行", "舉行") in pairs
    text = doc["text"]
    for t in mine:
        raw = text[t["start"]:t["end"]]
        if "?" in raw:  # a token of a repaired run maps to the whole damaged run
            continue
        if t["token_type"] == "word":
            assert raw == t["token_original"] and convert(raw, "t2s").text == t["token"]


def test_simplified_tokens_slice_the_raw_text_exactly(tokens, seed_docs):
    doc = seed_docs["004"]
    mine = [t for t in tokens if t["doc_id"] == doc["doc_id"]]
    words = [t for t in mine if t["token_type"] == "word"]
    assert words and all(doc["text"][t["start"]:t["end"]] == t["token_original"] == t["token"] for t in words)


def test_stopwords_punctuation_and_latin_are_flagged(tokens):
    by_token = {t["token"]: t for t in tokens}
    assert by_token["的"]["is_stopword"] and not by_token["客服中心"]["is_stopword"]
    assert by_token["，"]["token_type"] == "punctuation"
    assert any(t["token_type"] == "number" for t in tokens)
    assert all(t["token"] == t["token"].upper() for t in tokens if t["token_type"] == "latin")


def test_duplicates_are_left_out_unless_asked_for(seed_run, tokens, seed_docs):
    out, _ = seed_run
    flagged = {p["passage_id"] for p in read(out, "passages") if p["is_duplicate"]}
    assert flagged and not flagged & {t["passage_id"] for t in tokens}


def test_kefu_tokenize_prints_tokens_in_the_input_script():
    result = CliRunner().invoke(app, ["tokenize"], input="客服中心正在進行數字化轉型，ＲＯＩ很高。\n我们的共情力很强\n")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["客服中心", "正在", "進行", "數字化轉型", "，", "ＲＯＩ", "很", "高", "。"]
    assert lines[1].split() == ["我们", "的", "共情力", "很", "强"]


@pytest.mark.parametrize("command", ["tokenize", "convert"])
def test_stdin_that_is_not_utf8_names_the_line_and_the_fix(command):
    gbk = "客服中心\n".encode("utf-8") + "客户服务\n".encode("gbk")
    result = CliRunner().invoke(app, [command], input=gbk)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # a message, not a crash
    assert "stdin, line 2: not UTF-8" in result.output and "FILE" in result.output
    assert "Traceback" not in result.output


def test_stdin_lines_may_end_in_crlf():
    result = CliRunner().invoke(app, ["tokenize"], input="國有企業\r\n客服中心\r\n".encode("utf-8"))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["國有 企業", "客服中心"]


def test_user_dictionaries_in_either_script_are_read_in_canonical_form(tmp_path):
    assert read_dictionary("# comment\n客戶聯絡 500 n\n坐席助手\n", "test", "t2s") == [
        ("客户联络", 500, "n"), ("坐席助手", 1000, "n")]
    with pytest.raises(KefuError, match="line 1"):
        read_dictionary("a b c d\n", "bad.txt", "t2s")
    user = tmp_path / "user.txt"
    user.write_text("智慧話務台 800 n\n", encoding="utf-8")
    seg = Segmenter(SegmentParams(user_dicts=(str(user),)))
    assert "智慧话务台" in seg.cut("我们上线了智慧话务台")


def test_a_missing_dictionary_names_the_file_and_the_fix():
    result = CliRunner().invoke(app, ["tokenize", "--set", 'segment.user_dicts=["/nonexistent/dict.txt"]'],
                                input="客服\n")
    assert result.exit_code == 1
    assert "/nonexistent/dict.txt" in result.output and "segment.user_dicts" in result.output


def test_search_mode_adds_the_words_inside_long_words(tmp_path):
    from conftest import run_pipeline

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "004.txt").write_text(seed_text("004"), encoding="utf-8")
    run_pipeline(raw, tmp_path / "default", until="segment")
    run_pipeline(raw, tmp_path / "search", until="segment", **{"segment.mode": "search"})
    default, search = read(tmp_path / "default", "tokens"), read(tmp_path / "search", "tokens")
    assert len(search) > len(default)
    whole = next(t for t in search if t["token"] == "客户中心")
    inside = {t["token"] for t in search if t["passage_id"] == whole["passage_id"]
              and whole["start"] <= t["start"] and t["end"] <= whole["end"] and t is not whole}
    assert {"客户", "中心"} <= inside
    # The default cut tiles each passage: spans follow one another without overlap.
    for a, b in zip(default, default[1:]):
        if a["passage_id"] == b["passage_id"]:
            assert a["end"] <= b["start"]


def test_tokens_are_cut_from_the_columns_own_bytes_in_any_script_and_layout():
    """Token strings come from the passages' UTF-8 bytes by character offsets: chunked or sliced
    columns, empty texts, and characters of one to four bytes all cut where Python would."""
    import numpy as np
    import pyarrow as pa

    from kefu_corpus.transforms.segment import _gather_strings

    texts = ["客服a", "", "é中", "𠀀x"]
    joined = "".join(texts)
    column = pa.chunked_array([pa.array(texts[:3]), pa.array(texts[3:])])
    for starts, ends in (([0, 2, 3, 5, 6], [2, 3, 5, 6, 7]), ([1, 4], [3, 7])):  # a tiling cut, and spans
        got = _gather_strings(column, np.array(starts), np.array(ends)).to_pylist()
        assert got == [joined[a:b] for a, b in zip(starts, ends)]
    assert _gather_strings(pa.array(["abc", "def"]).slice(1), np.array([0]), np.array([2])).to_pylist() == ["de"]
    assert _gather_strings(pa.chunked_array([], pa.string()), np.zeros(0, int), np.zeros(0, int)).to_pylist() == []


def test_tokens_of_a_conversion_that_changes_length_map_back_to_the_text_as_written(tmp_path):
    """With a phrase config (tw2sp: 隨身碟 -> U盘) the canonical text is shorter than the passage, and each
    token's original form and raw offsets come through the passage's canonical_map."""
    raw = tmp_path / "raw"
    raw.mkdir()
    text = "標題：隨身碟\n\n我的隨身碟壞了，軟體也打不開。請客服幫忙處理隨身碟的問題。\n"
    (raw / "2021-01-05-usb.txt").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    run_pipeline(raw, out, until="segment", **{"normalise.canonical": "tw2sp"})
    passages = read(out, "passages")
    assert any(p["canonical_map"] for p in passages)
    tokens = read(out, "tokens")
    usb = [t for t in tokens if t["token_original"] == "隨身碟"]
    assert len(usb) == 2 and all(t["token"] == "U盘" for t in usb)
    for t in tokens:
        if t["token_type"] != "whitespace":
            assert text[t["start"]:t["end"]] == t["token_original"], t


def test_the_guessed_tags_a_segmenter_keeps_are_bounded(monkeypatch):
    import kefu_corpus.text.segment as segment_module

    monkeypatch.setattr(segment_module, "_GUESSES", 3)
    seg = Segmenter(SegmentParams(granularity="jieba", numbers=False, hmm=True))
    for text in _engine_texts()[:5]:
        assert seg.tag(text) == seg.engine.tag(text, hmm=True)
        kept = [w for w in seg._tags if seg._jieba.get(w) is None and w not in seg._own_tags]
        assert 0 < len(kept) <= 3
