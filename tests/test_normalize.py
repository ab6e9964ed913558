"""Character normalisation: each step on real seed text, and offset maps proven by property tests."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import seed_text
from kefu_corpus.text.normalize import (
    cjk_punctuation, fold_width, normalize, normalize_whitespace, remove_invisible, unify_quotes,
)


def test_half_width_punctuation_between_cjk_becomes_full_width_on_the_seeds():
    text = seed_text("000")
    out = cjk_punctuation(text).text
    assert "时,触动" in text and "时，触动" in out
    assert "作者：赵孟季；为" in out
    assert len(out) == len(text)
    assert "ROI(投入产出比)" in cjk_punctuation(seed_text("001")).text  # not in the list: untouched


def test_punctuation_outside_cjk_context_is_left_alone():
    assert cjk_punctuation("Hello, world: ok? 5,000").text == "Hello, world: ok? 5,000"
    assert cjk_punctuation("结语:\n").text == "结语:\n"  # not between two CJK characters


def test_width_folding_keeps_chinese_punctuation():
    assert fold_width("２０２３年ＡＰＰ，Ｚ世代！").text == "2023年APP，Z世代！"


def test_nbsp_runs_and_crlf_in_the_seed_info_bar():
    text = seed_text("000")
    bar = text.splitlines()[2]
    out = normalize_whitespace(bar).text
    assert "\u00a0" in bar and "\u00a0" not in out and "  " not in out
    assert normalize_whitespace("甲\r\n乙\r丙").text == "甲\n乙\n丙"
    assert normalize_whitespace("甲\u3000乙").text == "甲\u3000乙"
    assert normalize_whitespace("甲\u3000乙", ideographic_space=True).text == "甲 乙"


def test_invisible_characters_are_removed_and_spans_still_map_back():
    text = "客\u200b服\ufeff中心\x07。"
    result = remove_invisible(text)
    assert result.text == "客服中心。"
    start = result.text.index("中心")
    s, e = result.offsets.source_span(start, start + 2)
    assert text[s:e] == "中心"


def test_quote_styles():
    assert unify_quotes("「客户至上」", style="curly").text == "“客户至上”"
    assert unify_quotes("“客户至上”", style="corner").text == "「客户至上」"
    assert unify_quotes("“客户至上”").text == "“客户至上”"


def test_normalising_leaves_the_mojibake_markers_for_the_repair_stage():
    # A damaged run starts '?' + a folded mark: never between two CJK characters, so never rewritten.
    text = seed_text("003")
    out = normalize(text).text
    markers = re.findall(r".\?[?!;,].", text)
    assert len(markers) >= 15 and "行??头" in markers
    assert re.findall(r".\?[?!;,].", out) == markers


ALPHABET = list("客服中心ＡＢ１２ab12,:;?!。，“”「」 \u00a0\u3000\t\r\n\u200b\ufeff\x07")


INVISIBLE = "\u200b\ufeff\x07"
SINGLE = {**{",": "，", ":": "：", ";": "；", "?": "？", "!": "！"},
          **{f: chr(ord(f) - 0xFEE0) for f in "ＡＢ１２"},
          **{"「": "“", "」": "”", "“": "「", "”": "」"}}


def _allowed(source: str, ch: str) -> bool:
    """Could ``ch`` be the normal form of ``source``? Unchanged, a one-character mapping, or a space run."""
    visible = "".join(c for c in source if c not in INVISIBLE)
    if visible == ch or SINGLE.get(visible) == ch:
        return True
    if ch == "\n":
        return visible in ("\r\n", "\r")
    return ch == " " and visible != "" and all(c in " \t\u00a0\u3000" for c in visible)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=ALPHABET, max_size=50), quotes=st.sampled_from(["keep", "curly", "corner"]))
def test_normalize_maps_every_output_character_back_into_the_raw_text(text, quotes):
    result = normalize(text, quotes=quotes, ideographic_space=True)
    m = result.offsets
    assert len(m) == len(result.text) and m.source_len == len(text)
    assert (m.starts[1:] >= m.starts[:-1]).all() and (m.ends[1:] >= m.ends[:-1]).all()
    for i, ch in enumerate(result.text):
        s, e = m.source_span(i, i + 1)
        assert e > s and _allowed(text[s:e], ch), (text[s:e], ch)
    # Nothing visible is lost: what no output character maps to is invisible.
    covered = set()
    for i in range(len(m)):
        covered.update(range(*m.source_span(i, i + 1)))
    assert all(text[j] in INVISIBLE for j in range(len(text)) if j not in covered)


def test_normalize_is_idempotent_on_the_seeds():
    for seed in ("000", "001", "002", "003", "004"):
        once = normalize(seed_text(seed)).text
        assert normalize(once).text == once


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="客服,:;?!ＡＢ１ \u00a0\u2003\u3000\t\r\n\u200b\x7f", max_size=10),
       ideographic=st.booleans())
def test_normalize_gives_what_its_steps_give_one_after_another(text, ideographic):
    # normalize() returns a text none of its steps would change after one scan; this checks that scan
    # never skips a step that had work to do (short texts of the characters the steps change, so that
    # each one often stands alone). The seeds are checked below.
    _check_steps(text, ideographic)


def test_normalize_gives_what_its_steps_give_on_the_seeds():
    for seed in ("000", "001", "002", "003", "004"):
        for line in seed_text(seed).splitlines(keepends=True):
            _check_steps(line, False)


def _check_steps(text: str, ideographic: bool) -> None:
    steps = [remove_invisible, fold_width, cjk_punctuation,
             lambda t: normalize_whitespace(t, ideographic_space=ideographic)]
    current, offsets = text, None
    for step in steps:
        result = step(current)
        offsets = result.offsets if offsets is None else offsets.then(result.offsets)
        current = result.text
    got = normalize(text, ideographic_space=ideographic)
    assert got.text == current
    assert [got.offsets.source_span(i, i + 1) for i in range(len(got.text))] == \
        [offsets.source_span(i, i + 1) for i in range(len(current))]
