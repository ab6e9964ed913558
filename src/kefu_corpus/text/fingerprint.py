"""Match keys and shingle hashes: the text that duplicate detection compares, as arrays.

A *match key* is a canonical text (one script, folded width) with everything but letters and digits
removed and Latin letters lower-cased, so two copies of a passage that differ only in script,
punctuation, spacing or case have the same key. Keys are kept as arrays of code points together with
the position of each key character in the text it came from, so a span found in a key maps back to
the canonical text (and from there, through the stored offset maps, to the raw text).

Everything here works on a whole batch of texts at once: one concatenated code-point array and the
texts' boundaries. No per-character Python.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xxhash

from kefu_corpus.text.chars import code_points, han_mask

_BASE = np.uint64(0x100000001B3)  # an odd multiplier wider than any code point


@lru_cache(maxsize=1)
def _keep_table() -> np.ndarray:
    """For every code point: is it a letter or a digit (Unicode categories L* and N*), or Han
    (:func:`~kefu_corpus.text.chars.is_han`, which also knows the ideographs newer than Python's tables)?"""
    keep = han_mask(np.arange(0x110000))
    for cp in range(0x30000):  # every assigned letter and digit but the Han ones lies below U+30000
        if unicodedata.category(chr(cp))[0] in "LN":
            keep[cp] = True
    return keep


@dataclass(frozen=True)
class Keys:
    """The match keys of a batch of texts.

    ``codes[bounds[i]:bounds[i + 1]]`` is text ``i``'s key and ``positions`` the same slice's offsets
    in text ``i``.
    """

    codes: np.ndarray  # uint32 code points, every key back to back
    positions: np.ndarray  # int32 offset of each key character in its own text
    bounds: np.ndarray  # int64, len(texts) + 1
    breaks: np.ndarray  # int64, sorted: key offsets where a sentence ends (text bounds included)

    def lengths(self) -> np.ndarray:
        return np.diff(self.bounds)

    def key(self, i: int) -> np.ndarray:
        return self.codes[self.bounds[i]:self.bounds[i + 1]]


#: Characters that end a sentence (after width folding, both forms occur).
SENTENCE_ENDS = np.array([ord(c) for c in "。！？；!?;…\n"], dtype=np.uint32)


def match_keys(texts: list[str]) -> Keys:
    """Match keys of ``texts`` (letters and digits only, Latin lower-cased), with positions and
    sentence breaks."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    codes = code_points("".join(texts))
    starts = np.r_[0, np.cumsum(lengths)]
    owner = np.repeat(np.arange(len(texts)), lengths)
    keep = _keep_table()[codes]
    kept = codes[keep]
    upper = (kept >= 0x41) & (kept <= 0x5A)
    kept = np.where(upper, kept + 32, kept).astype(np.uint32)
    positions = (np.flatnonzero(keep) - starts[owner[keep]]).astype(np.int32)
    counts = np.bincount(owner[keep], minlength=len(texts)) if len(texts) else np.zeros(0, np.int64)
    bounds = np.r_[0, np.cumsum(counts)].astype(np.int64)
    before = np.cumsum(keep) - keep  # key characters before each character
    ends = before[np.isin(codes, SENTENCE_ENDS)]
    breaks = np.unique(np.r_[bounds, ends]).astype(np.int64)
    return Keys(kept, positions, bounds, breaks)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the bits of ``h`` (uint64) evenly."""
    with np.errstate(over="ignore"):
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def gram_hashes(codes: np.ndarray, k: int) -> np.ndarray:
    """64-bit hash of every ``k``-character window of ``codes``: ``len(codes) - k + 1`` values (none if
    ``codes`` is shorter than ``k``). Windows may cross text boundaries; callers mask those."""
    n = len(codes) - k + 1
    if n <= 0:
        return np.zeros(0, np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    c = codes.astype(np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):  # a polynomial hash mod 2**64, Horner's rule over the window
            h *= _BASE
            h += c[j:j + n]
    return _mix(h)


def windows_within(bounds: np.ndarray, k: int) -> np.ndarray:
    """For each window start of a concatenated array, does the ``k``-window stay inside one text?"""
    total = int(bounds[-1])
    n = max(total - k + 1, 0)
    if n == 0:
        return np.zeros(0, bool)
    ends = bounds[1:]
    owner_end = ends[np.searchsorted(ends, np.arange(n), side="right")]
    return np.arange(n) + k <= owner_end


def key_digest(codes: np.ndarray) -> bytes:
    """A 128-bit digest of one key (xxh3): equal keys give equal digests."""
    return xxhash.xxh3_128_digest(codes.tobytes())
