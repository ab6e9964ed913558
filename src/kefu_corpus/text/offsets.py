"""Offset maps: where each character of a transformed string came from in its source.

Every text transformation in kefu-corpus (script conversion, width and punctuation folding) returns
its output together with an :class:`OffsetMap`, so any span found in the transformed text (a token, a
duplicate passage, a keyword hit) can be reported as a span of the original.
"""

from __future__ import annotations

from dataclasses import dataclass

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
        idx = np.arange(n, dtype=np.int64)
        return cls(idx, idx + 1, n, one_to_one=True)

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
