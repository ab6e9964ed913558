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
    # Texts are keyed in runs of about _RUN_CHARS characters: the arrays of a run are small enough to be
    # reused from the heap and to stay in cache, which a whole batch's arrays are not.
    spans = runs(np.r_[0, np.cumsum(lengths)], _RUN_CHARS)
    keyed = [_run_keys(texts[lo:hi], lengths[lo:hi]) for lo, hi in spans]
    counts = np.concatenate([r[2] for r in keyed]) if keyed else np.zeros(0, np.int64)
    bounds = np.r_[0, np.cumsum(counts)].astype(np.int64)
    run_base = bounds[[lo for lo, _ in spans]].tolist()
    ends = np.concatenate([np.zeros(0, np.int64), *(r[3] + base for r, base in zip(keyed, run_base))])
    codes = np.concatenate([np.zeros(0, np.uint32), *(r[0] for r in keyed)])
    positions = np.concatenate([np.zeros(0, np.int32), *(r[1] for r in keyed)])
    breaks = np.unique(np.r_[bounds, ends]).astype(np.int64)
    return Keys(codes, positions, bounds, breaks)


def runs(bounds: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Runs of consecutive texts ``[lo, hi)`` of about ``size`` characters each (``bounds``: where each
    text starts, and the end; a longer text is a run of its own)."""
    n = len(bounds) - 1
    cuts = np.unique(np.searchsorted(bounds, np.arange(size, int(bounds[-1]), size), side="right") - 1)
    edges = np.unique(np.r_[0, cuts[(cuts > 0) & (cuts < n)], n])
    return list(zip(edges[:-1].tolist(), edges[1:].tolist()))


#: Characters of text :func:`match_keys` keys at once (whole texts; a longer text is a run of its own).
_RUN_CHARS = 1 << 16


def _run_keys(texts: list[str], lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One run of :func:`match_keys`: the key characters, their positions, each text's key length, and
    the key offsets (from the run's start) where sentences end."""
    codes = code_points("".join(texts))
    kind = _kind_table()[codes]
    keep = (kind & _KEEP).astype(bool)
    kept = codes[keep]
    kept = np.where((kept >= 0x41) & (kept <= 0x5A), kept + 32, kept).astype(np.uint32)
    starts = np.r_[0, np.cumsum(lengths)]
    owner = np.repeat(np.arange(len(texts)), lengths)[keep]
    positions = (np.flatnonzero(keep) - starts[owner]).astype(np.int32)
    counts = np.bincount(owner, minlength=len(texts))
    before = np.cumsum(keep) - keep  # key characters before each character
    return kept, positions, counts, before[(kind & _END).astype(bool)]


_KEEP, _END = np.uint8(1), np.uint8(2)


@lru_cache(maxsize=1)
def _kind_table() -> np.ndarray:
    """For every code point: :data:`_KEEP` where :func:`_keep_table` keeps it, :data:`_END` where it ends a
    sentence (:data:`SENTENCE_ENDS`)."""
    kind = _keep_table().astype(np.uint8)
    kind[SENTENCE_ENDS] |= _END
    return kind


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
    owner_end = np.repeat(bounds[1:], np.diff(bounds))[:n]
    return np.arange(n) + k <= owner_end


def key_digest(codes: np.ndarray) -> bytes:
    """A 128-bit digest of one key (xxh3): equal keys give equal digests."""
    return xxhash.xxh3_128_digest(codes.tobytes())
