"""Script conversion: OpenCC's own test cases through `kefu convert`, offset maps, script detection."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import SHARED, seed_text
from kefu_corpus.cli import app
from kefu_corpus.text.convert import char_mapping, convert, convert_all
from kefu_corpus.text.offsets import OffsetMap
from kefu_corpus.text.script import detect_script, detect_scripts, script_profile

runner = CliRunner()
CASES = SHARED / "eval" / "opencc" / "testcases.json"


@pytest.mark.skipif(not CASES.exists(), reason="OpenCC test cases not present beside the project")
def test_every_opencc_test_case_passes_through_kefu_convert():
    by_config: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for case in json.loads(CASES.read_text(encoding="utf-8"))["cases"]:
        for config, expected in case["expected"].items():
            by_config[config].append((case["id"], case["input"], expected))
    checked = 0
    for config, cases in sorted(by_config.items()):
        result = runner.invoke(app, ["convert", "--opencc", config], input="".join(c[1] + "\n" for c in cases))
        assert result.exit_code == 0, result.output
        got = result.output.split("\n")[:-1]
        for (case_id, _, expected), output in zip(cases, got, strict=True):
            assert output == expected, (config, case_id)
            checked += 1
    assert checked == 543


def test_convert_reads_a_file_in_any_encoding(tmp_path):
    path = tmp_path / "big5.txt"
    path.write_bytes("客戶服務節盛況空前。\n".encode("big5"))
    result = runner.invoke(app, ["convert", str(path)])
    assert result.exit_code == 0 and result.output == "客户服务节盛况空前。\n"


def test_unknown_config_names_the_choices():
    result = runner.invoke(app, ["convert", "--config", "t2x"], input="客戶")
    assert result.exit_code == 1 and "Unknown OpenCC config 't2x'" in result.output and "s2twp" in result.output
    assert "tw2sp" in runner.invoke(app, ["convert", "--list"]).output


def test_length_preserving_conversion_has_the_identity_map():
    text = seed_text("003")
    converted = convert(text, "t2s")
    assert converted.offsets.is_identity()
    assert "客戶服務" not in converted.text and converted.text.count("客户") == text.count("客戶")


def test_phrase_conversion_maps_changed_phrases_as_blocks():
    text = "我的U盘和鼠标软件，信息很多。"
    converted = convert(text, "s2twp")
    assert converted.text == "我的隨身碟和滑鼠軟體，資訊很多。"
    start = converted.text.index("滑鼠")
    s, e = converted.offsets.source_span(start, start + 2)
    assert s <= text.index("鼠标") and e >= text.index("鼠标") + 2  # the span never misses its source
    info = converted.text.index("資訊")
    assert converted.offsets.source_span(info, info + 2) == (text.index("信息"), text.index("信息") + 2)
    assert converted.offsets.source_span(0, 2) == (0, 2)


# Characters that exercise phrase conversion, both scripts, punctuation, ASCII and whitespace.
ALPHABET = list("U盘鼠标软件信息网络打印机内存服务客户戶體軟隨身碟資訊後后里裡于於，。！？、 \n\u3000abc123")


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=ALPHABET, max_size=40), config=st.sampled_from(["t2s", "s2t", "s2twp", "tw2sp", "s2hk"]))
def test_offset_maps_are_monotone_complete_and_exact_on_pieces(text, config):
    converted = convert(text, config)
    m = converted.offsets
    assert len(m) == len(converted.text) and m.source_len == len(text)
    if text:
        assert m.source_span(0, len(m)) == (0, len(text))  # the whole output maps to the whole input
    assert (m.starts[1:] >= m.starts[:-1]).all() and (m.ends[1:] >= m.ends[:-1]).all()
    assert (m.ends >= m.starts).all() and (m.ends <= len(text)).all()
    # Separators map exactly to themselves, so a span between them maps to the matching source piece.
    for i, ch in enumerate(converted.text):
        if ch in "，。！？、 \n\u3000":
            s, e = m.source_span(i, i + 1)
            assert text[s:e] == ch


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=ALPHABET, max_size=30))
def test_composed_maps_equal_direct_maps(text):
    first = convert(text, "s2twp")
    second = convert(first.text, "tw2sp")
    composed = first.offsets.then(second.offsets)
    assert composed.source_len == len(text) and len(composed) == len(second.text)
    for i in range(len(second.text)):
        mid = second.offsets.source_span(i, i + 1)
        expected = first.offsets.source_span(*mid)
        assert composed.source_span(i, i + 1) == expected
    assert OffsetMap.identity(len(text)).then(first.offsets).source_span(0, len(first.text)) == \
        first.offsets.source_span(0, len(first.text))


def test_seed_scripts():
    assert detect_script(seed_text("003")) == "traditional"
    for seed in ("000", "001", "002", "004"):
        assert detect_script(seed_text(seed)) == "simplified"
    assert detect_script("ROI 5G APP 2023") == "none"
    assert detect_script("客服中心") == "undetermined"  # shared by both scripts
    assert detect_script("客户服务。客戶服務。") == "mixed"
    assert script_profile(seed_text("003")).n_traditional > 900


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="客户戶服务務中心與与ab 𠀀。", max_size=12), max_size=8))
def test_the_scripts_of_many_texts_at_once_are_each_texts_script(texts):
    assert detect_scripts(texts) == [detect_script(t) for t in texts]
    for text in texts:  # the counts, against a character-by-character reading of the conversion tables
        han = [c for c in text if "\u3400" <= c <= "\u4dbf" or "\u4e00" <= c <= "\u9fff" or c >= "\U00020000"]
        profile = script_profile(text)
        assert profile.n_han == len(han)
        if han:
            assert profile.n_traditional == sum(char_mapping("t2s")[ord(c)] != ord(c) for c in text)
            assert profile.n_simplified == sum(char_mapping("s2t")[ord(c)] != ord(c) for c in text)


@pytest.mark.parametrize("config", ["t2s", "s2t", "s2twp", "tw2sp", "hk2s"])
def test_texts_converted_together_convert_as_each_would_alone(config):
    """One OpenCC call for a batch of passages: the same text and offset map as a call for each (phrase
    configs such as s2twp change lengths, which sends the batch through the one-by-one path)."""
    texts = [line for s in ("000", "002", "004") for line in seed_text(s).splitlines()[:40]]
    texts += ["", "U盘和软件", "多行\n文字", "鼠标里面的硅二极管坏了"]
    if CASES.exists():
        texts += [case["input"] for case in json.loads(CASES.read_text(encoding="utf-8"))["cases"]]
    together = convert_all(texts, config)
    alone = [convert(text, config) for text in texts]
    assert [c.text for c in together] == [c.text for c in alone]
    assert [c.offsets.to_edits() for c in together] == [c.offsets.to_edits() for c in alone]
