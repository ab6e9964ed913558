"""Offset maps: where each character of a transformed string came from in its source.

Every text transformation in kefu-corpus (script conversion, width and punctuation folding) returns
its output together with an :class:`OffsetMap`, so any span found in the transformed text (a token, a
duplicate passage, a keyword hit) can be reported as a span of the original.
"""

from __future__ import annotations

from dataclasses import dataclass

from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class OffsetMap:
    """For output character ``i``, the source span ``[starts[i], ends[i])`` it was made from.

    Characters made from one source block (a phrase converted to a phrase of another length) all
    carry the whole block's span, so a span of the output maps back to the smallest source span that
    produced it.
    """

    starts: np.ndarray
    ends: np.ndarray
    source_len: int
    one_to_one: bool = False  # set by :meth:`identity`, so the common case is known in O(1)

    def __len__(self) -> int:
        return len(self.starts)

    @classmethod
    def identity(cls, n: int) -> OffsetMap:
        return _identity(n)

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The source span of output span ``[start, end)`` (an empty span maps to an empty span)."""
        if not 0 <= start <= end <= len(self):
            raise ValueError(f"span [{start}, {end}) is outside an output of length {len(self)}")
        if start == end:
            pos = int(self.starts[start]) if start < len(self) else self.source_len
            return pos, pos
        return int(self.starts[start:end].min()), int(self.ends[start:end].max())

    def is_identity(self) -> bool:
        if self.one_to_one:
            return True
        n = len(self)
        return n == self.source_len and bool((self.starts == np.arange(n)).all() and (self.ends == self.starts + 1).all())

    def then(self, outer: OffsetMap) -> OffsetMap:
        """Compose: ``self`` maps mid -> source, ``outer`` maps output -> mid; the result maps output -> source.

        Maps built left to right have non-decreasing starts and ends, so the source span of a mid span
        ``[a, b)`` is ``[starts[a], ends[b - 1])``: two gathers, no per-character Python.
        """
        if outer.source_len != len(self):
            raise ValueError("maps do not chain: outer's source is not this map's output")
        if outer.one_to_one:
            return self
        if self.one_to_one:
            return OffsetMap(outer.starts, outer.ends, self.source_len)
        pad_starts = np.append(self.starts, self.source_len)
        pad_ends = np.append(self.ends, self.source_len)
        starts = pad_starts[outer.starts]
        ends = np.where(outer.ends > outer.starts, pad_ends[np.maximum(outer.ends - 1, 0)], starts)
        return OffsetMap(starts, ends, self.source_len)


    def to_edits(self) -> list[tuple[int, int, int, int]]:
        """The map as a canonical edit list of ``(start, end, source_start, source_end)`` tuples.

        Each edit says output ``[start, end)`` came from source ``[source_start, source_end)`` and lists a
        region that is not a 1:1 continuation: a block (every character carries the whole source span), an
        insertion (``source_start == source_end``) or a deletion (``start == end``, including a deleted
        prefix or suffix of the source). An output position ``p`` outside every edit maps to
        ``[p + shift, p + shift + 1)``, where ``shift`` is ``source_end - end`` of the last edit with
        ``end <= p`` (0 if none). Edits are sorted by output position; consecutive characters with one span
        form one edit. A deletion next to a block stays a separate edit: merging them would widen the
        block's span and change :meth:`source_span`. The identity map gives ``[]``.

        Raises
        ------
        ValueError
            If the map is not monotone (``0 <= starts <= ends <= source_len``, ``starts`` and ``ends``
            non-decreasing), as every map built left to right with :class:`OffsetMapBuilder` is.
        """
        if self.one_to_one:
            return []
        n, starts, ends = len(self), self.starts, self.ends
        if n and not (starts[0] >= 0 and ends[-1] <= self.source_len and (starts <= ends).all()
                      and (np.diff(starts) >= 0).all() and (np.diff(ends) >= 0).all()):
            raise ValueError("only a monotone map (0 <= starts <= ends <= source_len, starts and ends "
                             "non-decreasing) can be written as edits")
        if n == 0:
            return [(0, 0, 0, self.source_len)] if self.source_len else []
        # Groups: runs of consecutive characters with one span.
        first = np.flatnonzero(np.r_[True, (starts[1:] != starts[:-1]) | (ends[1:] != ends[:-1])])
        size = np.diff(np.r_[first, n])
        g_start, g_end = starts[first], ends[first]
        cursor = np.r_[0, g_end[:-1]]  # where a plain character would start: the previous group's end
        deleted = g_start > cursor
        edited = (size != 1) | (g_end - g_start != 1) | (g_start < cursor)
        tail = ends[-1] < self.source_len
        # Slot 2k holds the deletion before group k, slot 2k + 1 the group itself; keep the used slots.
        rows = np.empty((2 * len(first) + 1, 4), dtype=np.int64)
        rows[0:-1:2] = np.c_[first, first, cursor, g_start]
        rows[1:-1:2] = np.c_[first, first + size, g_start, g_end]
        rows[-1] = (n, n, ends[-1], self.source_len)
        keep = np.r_[np.c_[deleted, edited].ravel(), tail]
        return [tuple(r) for r in rows[keep].tolist()]

    @classmethod
    def from_edits(cls, edits, length: int, source_len: int) -> OffsetMap:
        """Rebuild a map of ``length`` output characters over ``source_len`` source characters from an edit list.

        The inverse of :meth:`to_edits`: ``from_edits(m.to_edits(), len(m), m.source_len)`` has the same
        ``starts`` and ``ends`` as ``m`` (hence the same :meth:`source_span` for every span). An empty list
        with ``length == source_len`` gives the identity (``one_to_one=True``).

        Raises
        ------
        ValueError
            If the edits are unsorted or overlap, fall outside ``length`` or ``source_len``, are empty, leave
            a source gap that is not an explicit deletion, or do not end exactly at ``source_len``.
        """
        arr = np.asarray(edits, dtype=np.int64) if len(edits) else np.zeros((0, 4), np.int64)
        if arr.ndim != 2 or arr.shape[1] != 4:
            raise ValueError("edits must be (start, end, source_start, source_end) tuples")
        s, e, ss, se = arr.T
        shift = se - e
        cursor = s + np.r_[0, shift[:-1]]  # where the 1:1 run before each edit ends in the source
        last = int(shift[-1]) if len(arr) else 0
        checks = [
            ((s < 0) | (e < s) | (e > length), f"edit outside an output of length {length} or with end < start"),
            ((ss < 0) | (se < ss) | (se > source_len),
             f"edit outside a source of length {source_len} or with source_end < source_start"),
            (s < np.r_[0, e[:-1]], "edits are not sorted by output position or overlap"),
            ((e == s) & (se == ss), "empty edit (no output and no source characters)"),
            ((e == s) & (ss != cursor), "deletion does not start where the preceding 1:1 run ends"),
            ((e > s) & ((ss > cursor) | (se < cursor)), "block source span does not cover the position where "
                                                        "the preceding 1:1 run ends (gaps need a deletion)"),
        ]
        for bad, message in checks:
            if bad.any():
                raise ValueError(f"{message}: {tuple(arr[np.argmax(bad)].tolist())}")
        if length + last != source_len:
            raise ValueError(f"edits map {length} output characters onto {length + last} source characters, "
                             f"not {source_len}")
        if not len(arr):
            return cls.identity(length)
        delta = np.zeros(length + 1, dtype=np.int64)
        np.add.at(delta, e, shift - np.r_[0, shift[:-1]])
        starts = np.arange(length, dtype=np.int64) + np.cumsum(delta)[:length]
        ends = starts + 1
        sizes = e - s
        idx = np.arange(int(sizes.sum()), dtype=np.int64) + np.repeat(s - np.r_[0, np.cumsum(sizes)[:-1]], sizes)
        starts[idx], ends[idx] = np.repeat(ss, sizes), np.repeat(se, sizes)
        if (np.diff(starts) < 0).any():
            raise ValueError("edits give decreasing source starts (a block starts before the previous block)")
        return cls(starts, ends, source_len)


class OffsetMapBuilder:
    """Build a map block by block, left to right over the source."""

    def __init__(self) -> None:
        self._starts: list[np.ndarray] = []
        self._ends: list[np.ndarray] = []

    def same(self, src_start: int, n: int) -> None:
        """``n`` output characters, each from the source character at the same step."""
        idx = np.arange(src_start, src_start + n, dtype=np.int64)
        self._starts.append(idx)
        self._ends.append(idx + 1)

    def block(self, src_start: int, src_end: int, n: int) -> None:
        """``n`` output characters made together from the source block ``[src_start, src_end)``."""
        self._starts.append(np.full(n, src_start, dtype=np.int64))
        self._ends.append(np.full(n, src_end, dtype=np.int64))

    def build(self, source_len: int) -> OffsetMap:
        if not self._starts:
            return OffsetMap(np.zeros(0, np.int64), np.zeros(0, np.int64), source_len)
        return OffsetMap(np.concatenate(self._starts), np.concatenate(self._ends), source_len)


@lru_cache(maxsize=256)
def _identity(n: int) -> OffsetMap:
    """The identity map of length ``n``, shared (its arrays are read-only): a normaliser step that
    changes nothing returns one, many times per passage."""
    idx = np.arange(n, dtype=np.int64)
    ends = idx + 1
    idx.flags.writeable = False
    ends.flags.writeable = False
    return OffsetMap(idx, ends, n, one_to_one=True)
