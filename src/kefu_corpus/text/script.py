"""Which script a text is written in: simplified, traditional, mixed, undetermined, or none (no Chinese).

A character is *traditional-specific* when OpenCC's ``t2s`` changes it and *simplified-specific* when
``s2t`` changes it; characters both scripts share (客, 中, 心...) say nothing. The share of
traditional-specific characters among the specific ones decides. Each character is looked up on its own
in the two configs' character tables (:func:`~kefu_corpus.text.convert.char_mapping`), as an array of
code points: no conversion runs, and no per-character Python. Han characters are those of
:func:`kefu_corpus.text.chars.is_han`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from kefu_corpus.text.chars import code_points, han_mask
from kefu_corpus.text.convert import char_mapping, map_chars

SCRIPTS = ("simplified", "traditional", "mixed", "undetermined", "none")
#: A text is one script when at least this share of its script-specific characters belongs to it.
DOMINANCE = 0.9


@dataclass(frozen=True)
class ScriptProfile:
    n_han: int
    n_traditional: int
    n_simplified: int

    @property
    def script(self) -> str:
        if self.n_han == 0:
            return "none"
        specific = self.n_traditional + self.n_simplified
        if specific == 0:
            return "undetermined"
        share = self.n_traditional / specific
        return "traditional" if share >= DOMINANCE else "simplified" if share <= 1 - DOMINANCE else "mixed"


_HAN, _TRADITIONAL, _SIMPLIFIED = 1, 2, 4


@lru_cache(maxsize=None)
def _classes() -> np.ndarray:
    """``table[code]``: the flags of a code point, Han (1), changed by ``t2s`` (2), changed by ``s2t`` (4).
    One lookup in a 1 MB table per character, instead of eight range tests and two lookups in the
    4 MB conversion tables."""
    codes = np.arange(0x110000, dtype=np.uint32)
    table = han_mask(codes).astype(np.uint8) * _HAN
    table |= (char_mapping("t2s") != codes).astype(np.uint8) * _TRADITIONAL
    table |= (char_mapping("s2t") != codes).astype(np.uint8) * _SIMPLIFIED
    return table


#: Below this many characters, a text's classes are worked out for its own characters: a process that
#: looks at a few short texts (a line given to ``kefu tokenize``) does not pay for the whole table. After
#: :data:`_SMALL_CALLS` of them, the table is built.
_SMALL, _SMALL_CALLS = 4096, 8
_small_calls = 0


def _classes_of(codes: np.ndarray) -> np.ndarray:
    """The flags of each code point of ``codes`` (see :func:`_classes`)."""
    global _small_calls
    _small_calls += 1
    if len(codes) > _SMALL or _small_calls > _SMALL_CALLS or _classes.cache_info().currsize:
        return _classes()[codes]
    distinct, inverse = np.unique(codes, return_inverse=True)
    flags = han_mask(distinct).astype(np.uint8) * _HAN
    flags |= (map_chars(distinct, "t2s") != distinct).astype(np.uint8) * _TRADITIONAL
    flags |= (map_chars(distinct, "s2t") != distinct).astype(np.uint8) * _SIMPLIFIED
    return flags[inverse]


def _profiles(counts: np.ndarray) -> list[ScriptProfile]:
    """Profiles from counts of each flag combination, one row of eight per text."""
    flags = np.arange(8)
    han = counts[:, (flags & _HAN) > 0].sum(axis=1)
    traditional = counts[:, (flags & _TRADITIONAL) > 0].sum(axis=1)
    simplified = counts[:, (flags & _SIMPLIFIED) > 0].sum(axis=1)
    return [ScriptProfile(h, t, s) if h else ScriptProfile(0, 0, 0)
            for h, t, s in zip(han.tolist(), traditional.tolist(), simplified.tolist())]


def script_profile(text: str) -> ScriptProfile:
    """Count Han characters and the script-specific ones in ``text``."""
    return _profiles(np.bincount(_classes_of(code_points(text)), minlength=8)[None, :])[0]


def detect_script(text: str) -> str:
    """One of :data:`SCRIPTS` for ``text``."""
    return script_profile(text).script


def detect_scripts(texts: list[str]) -> list[str]:
    """:func:`detect_script` of each text, in one pass over them all (for many short texts, such as the
    passages of a document, where the per-call cost of the array operations would dominate)."""
    if not texts:
        return []
    classes = _classes_of(code_points("".join(texts)))
    lengths = np.fromiter(map(len, texts), np.int64, count=len(texts))
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    counts = np.bincount(owner * 8 + classes, minlength=8 * len(texts)).reshape(len(texts), 8)
    return [profile.script for profile in _profiles(counts)]


def majority_script(scripts: list[str | None], weights: list[int]) -> str:
    """The script most of a corpus is written in: 'traditional' when its Traditional documents hold more
    characters (``weights``) than its Simplified ones, else 'simplified' (mixed, undetermined and
    unknown documents do not vote)."""
    votes = {"simplified": 0, "traditional": 0}
    for script, weight in zip(scripts, weights):
        if script in votes:
            votes[script] += weight or 0
    return "traditional" if votes["traditional"] > votes["simplified"] else "simplified"
