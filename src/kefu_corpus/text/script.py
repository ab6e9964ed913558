"""Which script a text is written in: simplified, traditional, mixed, undetermined, or none (no Chinese).

A character is *traditional-specific* when OpenCC's ``t2s`` changes it and *simplified-specific* when
``s2t`` changes it; characters both scripts share (客, 中, 心...) say nothing. The share of
traditional-specific characters among the specific ones decides. Each character is looked up on its own
in the two configs' character tables (:func:`~kefu_corpus.text.convert.char_mapping`), as an array of
code points: no conversion runs, and no per-character Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kefu_corpus.text.convert import char_mapping

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


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def script_profile(text: str) -> ScriptProfile:
    """Count Han characters and the script-specific ones in ``text``."""
    codes = _codes(text)
    han = ((codes >= 0x4E00) & (codes <= 0x9FFF)) | ((codes >= 0x3400) & (codes <= 0x4DBF)) | \
          ((codes >= 0x20000) & (codes <= 0x3134F)) | ((codes >= 0xF900) & (codes <= 0xFAFF))
    if not han.any():
        return ScriptProfile(0, 0, 0)
    return ScriptProfile(int(han.sum()), int((char_mapping("t2s")[codes] != codes).sum()),
                         int((char_mapping("s2t")[codes] != codes).sum()))


def detect_script(text: str) -> str:
    """One of :data:`SCRIPTS` for ``text``."""
    return script_profile(text).script


def detect_scripts(texts: list[str]) -> list[str]:
    """:func:`detect_script` of each text, in one pass over them all (for many short texts, such as the
    passages of a document, where the per-call cost of the array operations would dominate)."""
    if not texts:
        return []
    codes = _codes("".join(texts))
    lengths = np.fromiter(map(len, texts), np.int64, count=len(texts))
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    han = ((codes >= 0x4E00) & (codes <= 0x9FFF)) | ((codes >= 0x3400) & (codes <= 0x4DBF)) | \
          ((codes >= 0x20000) & (codes <= 0x3134F)) | ((codes >= 0xF900) & (codes <= 0xFAFF))
    flags = np.stack([han, char_mapping("t2s")[codes] != codes, char_mapping("s2t")[codes] != codes])
    running = np.concatenate([np.zeros((3, 1), np.int64), np.cumsum(flags, axis=1)], axis=1)
    counts = running[:, starts + lengths] - running[:, starts]
    return [ScriptProfile(int(h), int(t), int(s)).script if h else "none" for h, t, s in counts.T.tolist()]
