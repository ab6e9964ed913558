"""Whether the repair model learns from the reference text: a held-out test, per corpus.

News is not every corpus's register: for statutes, say, the reference text of
:mod:`kefu_corpus.text.reference` makes the repair model worse. It is therefore used when a character
model with it makes held-out text of the corpus more probable than a model of the corpus alone
(:func:`reference_helps`), unless the configuration says always or never (:func:`choose_reference`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from kefu_corpus.text.charlm import CharNgramModel, NgramCounts, count_ngrams, dictionary_unigram, shape_text
from kefu_corpus.text.reference import reference_text

#: The held-out test: the corpus's clean text in blocks, every ``HELD_OUT_EVERY``-th block held out.
BLOCK_CHARS = 500
HELD_OUT_EVERY = 5
#: Below this much held-out text the test is too noisy, and a corpus too small to stand alone.
MIN_HELD_OUT = 1_000
#: When to use the reference text: decided by :func:`reference_helps`, or always, or never.
MODES = ("auto", "always", "never")


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


def reference_helps(clean_texts: Sequence[str], order: int = 4, counts: NgramCounts | None = None) -> ReferenceTest:
    """Compare character models of the corpus with and without the reference text on held-out blocks
    of the corpus (deterministic: every ``HELD_OUT_EVERY``-th block of ``BLOCK_CHARS`` characters).
    ``counts``: the n-gram counts of ``clean_texts`` (:func:`~kefu_corpus.text.charlm.count_ngrams`), when
    the caller has them (the final model needs them too)."""
    train, held = [], []
    blocks = (t[i: i + BLOCK_CHARS] for t in clean_texts for i in range(0, len(t), BLOCK_CHARS))
    for k, block in enumerate(blocks):
        (held if k % HELD_OUT_EVERY == HELD_OUT_EVERY - 1 else train).append(block)
    n_held = sum(map(len, held))
    if n_held < MIN_HELD_OUT:
        return ReferenceTest(n_held, None, None)
    # The training blocks' counts: those of the whole texts, less the held-out blocks' and those of the
    # n-grams that cutting the texts into blocks breaks (whole counts: exactly what counting the
    # training blocks gives).
    whole = [(t, 1.0) for t in clean_texts]
    if counts is None:
        counts = count_ngrams(whole, order)
    train_counts = (counts - count_ngrams([(b, 1.0) for b in held], order)
                    - count_ngrams(whole, order, across=BLOCK_CHARS))
    text = "\n".join(held)
    base = dictionary_unigram()

    def entropy(extra: NgramCounts | None) -> float:
        model = CharNgramModel(order=order).from_counts(train_counts if extra is None else train_counts + extra,
                                                        base=base)
        return float(-np.mean(model.text_logprob(text)))

    # The two models are independent and mostly NumPy sorting and lookups, which run outside the GIL: two
    # threads.
    with ThreadPoolExecutor(max_workers=2) as pool:
        without, with_reference = pool.map(entropy, (None, reference_counts(order)))
    return ReferenceTest(n_held, without, with_reference)


@lru_cache(maxsize=2)
def reference_counts(order: int = 4, shapes: bool = False) -> NgramCounts:
    """The n-gram counts of the reference text (of its shapes, :func:`~kefu_corpus.text.charlm.shape_text`,
    with ``shapes``), counted once per process."""
    text = reference_text()
    return count_ngrams([(shape_text(text) if shapes else text, 1.0)], order)


def choose_reference(clean_texts: Sequence[str], mode: str = "auto", order: int = 4,
                     counts: NgramCounts | None = None) -> tuple[bool, ReferenceTest | None]:
    """Whether a repair model of ``clean_texts`` uses the reference text, and the test that decided
    (None unless ``mode`` is ``"auto"``); ``counts`` as for :func:`reference_helps`."""
    if mode not in MODES:
        raise ValueError("The 'mode' parameter of choose_reference must be one of "
                         f"{', '.join(map(repr, MODES))}. Got {mode!r} instead.")
    if mode != "auto":
        return mode == "always", None
    test = reference_helps(clean_texts, order, counts)
    return test.helps, test
