"""NPMI topic coherence over boolean sliding windows, vectorised.

The measure is gensim's ``c_npmi`` (Röder et al. 2015): every window of ``window`` consecutive terms
of a unit (the whole unit when it is shorter) is a virtual document; ``P(w)`` is the share of windows
that contain ``w``, ``P(w, v)`` the share that contain both, and a topic's coherence is the mean over
pairs of its top terms of ``log(P(w, v) / (P(w) P(v))) / -log(P(w, v))`` (with gensim's epsilon of
1e-12 inside the logarithms). A model's coherence is the mean over its topics.

Window membership is counted exactly from each occurrence's span of windows, with one sparse product
over only the top terms' occurrences. gensim's ``WordOccurrenceAccumulator`` instead slides a set of
words and drops a word when one of its occurrences leaves the window even if another remains, so its
counts are a little lower; ``benchmarks/topics_fit.py`` prints both figures on the same topics.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from kefu_corpus.topicmodels.corpus import UnitCorpus

EPSILON = 1e-12
WINDOW = 10


def npmi(corpus: UnitCorpus, topics: list[list[int]], window: int = WINDOW) -> list[float]:
    """NPMI coherence of each topic (a list of term ids into ``corpus.vocabulary``) on ``corpus``."""
    relevant = np.unique(np.concatenate([np.asarray(t, np.int64) for t in topics])) if topics else np.zeros(0, np.int64)
    column = np.full(len(corpus.vocabulary), -1, np.int64)
    column[relevant] = np.arange(len(relevant))
    lengths = corpus.lengths()
    n_windows = np.maximum(lengths - window + 1, 1)  # a short unit is one window
    first_window = np.r_[0, np.cumsum(n_windows)[:-1]]
    total = float(n_windows.sum())
    hit = np.flatnonzero(column[corpus.term_ids] >= 0)
    unit = np.searchsorted(corpus.offsets, hit, side="right") - 1
    position = hit - corpus.offsets[unit]
    # an occurrence at p lies in the windows starting at max(0, p - window + 1) .. min(p, last start)
    lo = np.maximum(position - window + 1, 0)
    hi = np.minimum(position, n_windows[unit] - 1)
    span = hi - lo + 1
    rows = np.repeat(first_window[unit] + lo, span) + (np.arange(span.sum()) - np.repeat(np.r_[0, np.cumsum(span)[:-1]], span))
    cols = np.repeat(column[corpus.term_ids[hit]], span)
    member = sparse.csr_matrix((np.ones(len(rows), np.float64), (rows, cols)), shape=(int(total), len(relevant)))
    member.sum_duplicates()
    member.data[:] = 1.0  # a window contains a term or not
    together = (member.T @ member).toarray()
    scores = []
    for topic in topics:
        index = column[np.asarray(topic, np.int64)]
        joint = together[np.ix_(index, index)] / total
        single = np.diag(joint)
        off = ~np.eye(len(index), dtype=bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            pmi = np.log((joint + EPSILON) / np.outer(single, single))
            values = (pmi / -np.log(joint + EPSILON))[off]
        scores.append(float(values.mean()) if len(values) else float("nan"))
    return scores
