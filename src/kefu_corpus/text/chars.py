"""Characters as code points, and which of them are Han: the bottom layer of :mod:`kefu_corpus.text`.

Han characters are the code points of the CJK ideograph blocks (:data:`HAN_RANGES`), the one definition
every module of the package uses:

* CJK Unified Ideographs (U+4E00-U+9FFF) and Extension A (U+3400-U+4DBF);
* CJK Compatibility Ideographs (U+F900-U+FAFF): duplicates of unified ideographs, some of which legacy
  encodings (GBK among them) and Korean sources produce;
* the Supplementary Ideographic Plane's blocks: Extensions B to F and I (rare, historical and
  name characters, among them Hong Kong's), and the CJK Compatibility Ideographs Supplement;
* the Tertiary Ideographic Plane's Extensions G and H.

A block counts whole, its few unassigned code points included, so a character the installed Python's
Unicode tables do not know yet (Extensions H and I are newer than Python 3.11's) is still Han. Symbols of
the Han script outside these blocks are not Han characters here: the numeral 〇 (U+3007), the iteration
marks 々 and 〻, and the Kangxi and CJK radicals.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache

import numpy as np

#: The Han blocks as inclusive ``(first, last)`` code points, in order (see the module docstring).
HAN_RANGES: tuple[tuple[int, int], ...] = (
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x20000, 0x2A6DF),  # Extension B
    (0x2A700, 0x2EE5F),  # Extensions C, D, E, F and I, back to back
    (0x2F800, 0x2FA1F),  # CJK Compatibility Ideographs Supplement
    (0x30000, 0x323AF),  # Extensions G and H
)
#: The Han blocks as the body of a regular-expression character class: ``rf"[{HAN_CLASS}]"``.
HAN_CLASS = "".join(f"{chr(first)}-{chr(last)}" for first, last in HAN_RANGES)

_STARTS = [first for first, _ in HAN_RANGES]


def code_points(text: str) -> np.ndarray:
    """The code points of ``text`` as a read-only ``uint32`` array (no copy of the encoded text)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def from_code_points(codes: np.ndarray) -> str:
    """The text of an array of code points: the inverse of :func:`code_points`."""
    return np.asarray(codes).astype("<u4").tobytes().decode("utf-32-le")


def is_han(ch: str) -> bool:
    """Whether the character ``ch`` is Han (in one of :data:`HAN_RANGES`)."""
    cp = ord(ch)
    i = bisect_right(_STARTS, cp) - 1
    return i >= 0 and cp <= HAN_RANGES[i][1]


@lru_cache(maxsize=1)
def _han_table() -> np.ndarray:
    """``table[code]``: whether the code point is Han, for every code point (1.1 MB)."""
    table = np.zeros(0x110000, bool)
    for first, last in HAN_RANGES:
        table[first:last + 1] = True
    table.flags.writeable = False
    return table


def han_mask(codes: np.ndarray) -> np.ndarray:
    """:func:`is_han` of every code point of the integer array ``codes`` (one table lookup each)."""
    return _han_table()[codes]
