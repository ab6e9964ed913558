"""Edit-list encoding of offset maps: exact round trips, the documented semantics, and input checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kefu_corpus.text.convert import convert
from kefu_corpus.text.normalize import normalize
from kefu_corpus.text.offsets import OffsetMap, OffsetMapBuilder

ALPHABET = "客户服务U盘鼠标软件，。 　ＡＢ１２\u200b\t\r\n"
STEPS = st.lists(st.one_of(
    st.tuples(st.just("same"), st.integers(1, 4)),
    st.tuples(st.just("block"), st.integers(1, 4), st.integers(1, 4)),
    st.tuples(st.just("delete"), st.integers(1, 3)),
    st.tuples(st.just("insert"), st.integers(1, 3))), max_size=12)


def build(steps, tail: int = 0, insertions: bool = True) -> OffsetMap:
    builder, pos = OffsetMapBuilder(), 0
    for kind, *args in steps:
        if kind == "same":
            builder.same(pos, args[0])
            pos += args[0]
        elif kind == "block":
            builder.block(pos, pos + args[0], args[1])
            pos += args[0]
        elif kind == "delete":
            builder.block(pos, pos + args[0], 0)
            pos += args[0]
        elif insertions:
            builder.block(pos, pos, args[0])
    return builder.build(pos + tail)


def decode(edits, length: int) -> tuple[list[int], list[int]]:
    """A naive reading of the documented semantics, one character at a time."""
    starts, ends, shift, edits = [], [], 0, sorted(edits)
    for p in range(length):
        for start, end, src_start, src_end in edits:
            if end <= p:
                shift = src_end - end
        inside = [(a, b) for start, end, a, b in edits if start <= p < end]
        starts.append(inside[0][0] if inside else p + shift)
        ends.append(inside[0][1] if inside else p + shift + 1)
    return starts, ends


def check_round_trip(m: OffsetMap, data=None) -> None:
    edits = m.to_edits()
    back = OffsetMap.from_edits(edits, len(m), m.source_len)
    assert np.array_equal(back.starts, m.starts) and np.array_equal(back.ends, m.ends)
    assert back.source_len == m.source_len and back.to_edits() == edits
    assert decode(edits, len(m)) == (m.starts.tolist(), m.ends.tolist())
    assert all(e[1] > e[0] or e[3] > e[2] for e in edits)  # deletions are never empty
    if data is not None:
        a = data.draw(st.integers(0, len(m)))
        b = data.draw(st.integers(a, len(m)))
        assert back.source_span(a, b) == m.source_span(a, b)


@settings(deadline=None)
@given(STEPS, st.integers(0, 3), st.data())
def test_builder_maps_round_trip(steps, tail, data):
    check_round_trip(build(steps, tail), data)


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), max_size=20), st.integers(0, 2), st.data())
def test_any_monotone_map_round_trips(steps, tail, data):
    """Hand-made monotone maps, including overlapping spans that no left-to-right builder makes."""
    starts = np.cumsum([step for step, _ in steps], dtype=np.int64)
    ends = np.maximum.accumulate(starts + [width for _, width in steps]) if steps else starts
    check_round_trip(OffsetMap(starts, ends, int(ends.max(initial=0)) + tail), data)


@settings(deadline=None)
@given(STEPS, STEPS)
def test_composed_maps_round_trip(inner_steps, outer_steps):
    inner = build(inner_steps)
    outer = build(outer_steps, insertions=False)
    assume(outer.source_len <= len(inner))
    outer = build(outer_steps + [("same", len(inner) - outer.source_len)], insertions=False)
    check_round_trip(inner.then(outer))


@settings(deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=30), st.data())
def test_normalize_and_convert_maps_round_trip(text, data):
    converted = convert(text, "s2twp")
    normalized = normalize(converted.text, ideographic_space=data.draw(st.booleans()))
    for m in (normalize(text).offsets, converted.offsets, converted.offsets.then(normalized.offsets)):
        check_round_trip(m, data)


def test_identity_is_empty():
    assert OffsetMap.identity(5).to_edits() == []
    assert OffsetMap(np.arange(3), np.arange(1, 4), 3).to_edits() == []
    assert OffsetMap.from_edits([], 4, 4).one_to_one
    assert OffsetMap.from_edits([], 0, 0).is_identity()


def test_known_edit_lists():
    assert convert("U盘", "s2twp").offsets.to_edits() == [(0, 3, 0, 2)]
    assert convert("我的U盘坏了", "s2twp").offsets.to_edits() == [(2, 5, 2, 4)]
    result = normalize("\u200bＡ  b\u200b")  # deleted prefix, a two-space block, deleted suffix
    assert result.text == "A b"
    assert result.offsets.to_edits() == [(0, 0, 0, 1), (1, 2, 2, 4), (3, 3, 5, 6)]
    builder = OffsetMapBuilder()
    builder.block(0, 2, 3)
    builder.block(2, 3, 0)  # a deletion right after a block stays separate: merging would widen the block
    builder.block(3, 3, 2)
    builder.same(3, 1)
    assert builder.build(4).to_edits() == [(0, 3, 0, 2), (3, 3, 2, 3), (3, 5, 3, 3)]
    assert OffsetMapBuilder().build(3).to_edits() == [(0, 0, 0, 3)]
    overlapping = OffsetMap(np.array([0, 1, 2]), np.array([2, 2, 3]), 3)
    assert overlapping.to_edits() == [(0, 1, 0, 2), (1, 2, 1, 2)]


@pytest.mark.parametrize(("edits", "length", "source_len", "message"), [
    ([(2, 3, 2, 4), (0, 1, 0, 2)], 4, 6, "not sorted"),
    ([(0, 2, 0, 1), (1, 3, 1, 2)], 4, 3, "not sorted"),
    ([(3, 5, 3, 4)], 4, 4, "outside an output"),
    ([(1, 2, 1, 9)], 4, 5, "outside a source"),
    ([(1, 1, 1, 1)], 4, 4, "empty edit"),
    ([(1, 1, 2, 3)], 4, 5, "deletion does not start"),
    ([(1, 2, 3, 4)], 4, 6, "gaps need a deletion"),
    ([(0, 2, 0, 1)], 4, 9, "not 9"),
    ([(0, 0, 0, 1), (0, 1, 1, 3), (1, 2, 0, 3)], 2, 3, "decreasing source starts"),
    ([(0, 1, 0)], 4, 4, "tuples"),
])
def test_from_edits_rejects_bad_input(edits, length, source_len, message):
    with pytest.raises(ValueError, match=message):
        OffsetMap.from_edits(edits, length, source_len)


def test_to_edits_rejects_non_monotone_map():
    with pytest.raises(ValueError, match="monotone"):
        OffsetMap(np.array([1, 0]), np.array([2, 1]), 2).to_edits()
