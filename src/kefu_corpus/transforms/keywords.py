"""Keywords of every document: TF-IDF with the corpus's own IDF, and TextRank (part of the trends stage).

Pure: :func:`keywords` maps a batch of whole documents of ``tokens`` to rows of ``keywords``. Every
score depends on its own document and, for TF-IDF, on the corpus's document frequencies (:class:`Idf`,
counted in the trends stage's first pass), never on which other documents share the batch, so the
table is the same bytes however the corpus is cut into batches and whatever the number of workers.

Requires: ``tokens``. Assigns: ``keywords``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse

from kefu_corpus import schemas
from kefu_corpus.slices import Slice, tokens_of
from kefu_corpus.terms import distinct_count, term_mask

if TYPE_CHECKING:
    from kefu_corpus.stages.trends import KeywordParams

#: Columns of ``tokens`` the keywords read.
COLUMNS = ["doc_id", "passage_id", "position", "token", "token_original", "pos", "token_type", "is_stopword"]
DAMPING = 0.85
#: A document's PageRank iteration stops once no score moves by more than this (scores sum to 1).
TOLERANCE = 1e-13
MAX_ITERATIONS = 1000


@dataclass(frozen=True)
class Idf:
    """Smoothed inverse document frequencies of the corpus's terms, as scikit-learn's
    ``TfidfVectorizer`` computes them: ``ln((1 + n) / (1 + df)) + 1`` for ``n`` documents with terms."""

    terms: pa.Array  # sorted
    idf: np.ndarray

    @classmethod
    def from_frequencies(cls, terms: pa.Array, doc_freq: np.ndarray, documents: int) -> Idf:
        order = pc.sort_indices(terms).to_numpy()
        idf = np.log((1.0 + documents) / (1.0 + np.asarray(doc_freq, np.float64)[order])) + 1.0
        return cls(terms=terms.take(pa.array(order)), idf=idf)

    @classmethod
    def of(cls, terms: pa.Table) -> Idf:
        """The IDF of a table of terms (doc_id, token) itself: for a corpus that is one batch."""
        grouped = terms.group_by("token", use_threads=False).aggregate([("doc_id", "count_distinct")])
        return cls.from_frequencies(grouped.column("token").combine_chunks(),
                                    grouped.column("doc_id_count_distinct").to_numpy(),
                                    distinct_count(terms.column("doc_id")))

    def __call__(self, terms: pa.Array | pa.ChunkedArray) -> np.ndarray:
        index = pc.index_in(terms, value_set=self.terms)
        if index.null_count:
            raise ValueError("a term has no document frequency: the IDF was counted on other tokens")
        return self.idf[index.to_numpy()]


def _first_per_group(keys: list[np.ndarray]) -> np.ndarray:
    """Mask of the rows that start a run of equal ``keys`` (rows already sorted by them)."""
    start = np.zeros(len(keys[0]), bool)
    if len(start):
        start[0] = True
        for key in keys:
            start[1:] |= key[1:] != key[:-1]
    return start


def _codes(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Integer codes of a column's values, in order of first appearance (``pc.unique`` order)."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(pa.string())
    return pc.index_in(column, value_set=pc.unique(column)).to_numpy()


def _term_facts(terms: pa.Table) -> pa.Table:
    """Per (doc_id, term), sorted by both: its count in the document and its most frequent written form
    there (ties: the form that sorts first)."""
    forms = terms.group_by(["doc_id", "token", "token_original"], use_threads=False).aggregate(
        [("position", "count")])
    forms = forms.sort_by([("doc_id", "ascending"), ("token", "ascending"), ("position_count", "descending"),
                           ("token_original", "ascending")])
    first = _first_per_group([_codes(forms.column("doc_id")), _codes(forms.column("token"))])
    counts = np.add.reduceat(forms.column("position_count").to_numpy(), np.flatnonzero(first)) if len(first) else []
    best = forms.filter(pa.array(first))
    return pa.table({"doc_id": best.column("doc_id"), "term": best.column("token"),
                     "term_original": best.column("token_original"), "count": pa.array(counts, pa.int32())})


def _top(docs: np.ndarray, scores: np.ndarray, alphabetical: np.ndarray, top_n: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the ``top_n`` best-scored rows of every document (ties: alphabetical), with their
    rank, as ``(indices, ranks)``."""
    order = np.lexsort((alphabetical, -scores, docs))
    first = np.flatnonzero(_first_per_group([docs[order]]))
    rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    keep = rank < top_n
    return order[keep], rank[keep]


def tfidf_scores(facts: pa.Table, idf: Idf) -> np.ndarray:
    """TF-IDF weight of each (doc_id, term, count) row of ``facts`` (sorted by document), rows
    l2-normalised per document."""
    raw = facts.column("count").to_numpy().astype(np.float64) * idf(facts.column("term"))
    starts = np.flatnonzero(_first_per_group([_codes(facts.column("doc_id"))]))
    norm = np.sqrt(np.add.reduceat(raw * raw, starts)) if len(starts) else np.zeros(0)
    return raw / np.repeat(norm, np.diff(np.r_[starts, len(raw)]))


def _pagerank(weights: sparse.csr_matrix, group: np.ndarray) -> np.ndarray:
    """PageRank (damping 0.85, uniform teleport) of every group of nodes, groups being disjoint
    components of the undirected ``weights`` given as contiguous node ranges (``group`` sorted).

    Power iteration, each group stopped on its own once no score moves by more than TOLERANCE: a
    group's scores depend only on its own edges, never on the other groups iterated beside it."""
    n = weights.shape[0]
    size = np.bincount(group).astype(np.float64)[group]
    strength = np.asarray(weights.sum(axis=1)).ravel()
    x = 1.0 / size
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    active = np.ones(n, bool)
    for _ in range(MAX_ITERATIONS):
        new = (1.0 - DAMPING) / size + DAMPING * (weights @ (x / strength))
        change = np.maximum.reduceat(np.abs(new - x), starts)
        x = np.where(active, new, x)
        still = np.repeat(change > TOLERANCE, np.diff(np.r_[starts, n]))
        active &= still
        if not active.any():
            break
    return x


def textrank_scores(tokens: pa.Table, params: KeywordParams) -> pa.Table:
    """TextRank scores (doc_id, term, score) of the candidate terms of every document with at least one
    co-occurrence edge; a document's scores sum to 1."""
    ok = term_mask(tokens, params.min_chars, params.textrank_pos).to_numpy(zero_copy_only=False)
    passage = _codes(tokens.column("passage_id"))
    position = tokens.column("position").to_numpy()
    doc_column = tokens.column("doc_id").cast(pa.string())
    doc_values = pc.unique(doc_column)
    doc = pc.index_in(doc_column, value_set=doc_values).to_numpy().astype(np.int64)
    word_values = pc.unique(tokens.column("token")).cast(pa.string()).sort()  # codes in alphabetical order
    word = pc.index_in(tokens.column("token").cast(pa.string()), value_set=word_values).to_numpy().astype(np.int64)
    node = doc * len(word_values) + word
    left, right = [], []
    for d in range(1, params.textrank_window):
        i = np.flatnonzero(ok[:-d] & ok[d:] & (passage[:-d] == passage[d:]) & (position[d:] - position[:-d] == d))
        i = i[word[i] != word[i + d]]
        left.append(node[i])
        right.append(node[i + d])
    a, b = (np.concatenate(left), np.concatenate(right)) if left else (np.zeros(0, np.int64),) * 2
    if not len(a):
        return pa.table({"doc_id": pa.array([], pa.string()), "term": pa.array([], pa.string()),
                         "score": pa.array([], pa.float64())})
    nodes, index = np.unique(np.concatenate([a, b]), return_inverse=True)  # by document, then term
    i, j = index[:len(a)].astype(np.int64), index[len(a):].astype(np.int64)
    pairs, weight = np.unique(np.minimum(i, j) * len(nodes) + np.maximum(i, j), return_counts=True)
    lo, hi = np.divmod(pairs, len(nodes))
    weights = sparse.coo_matrix((np.r_[weight, weight].astype(np.float64), (np.r_[lo, hi], np.r_[hi, lo])),
                                shape=(len(nodes), len(nodes))).tocsr()
    weights.sort_indices()
    docs_of, words_of = np.divmod(nodes, len(word_values))
    values = _pagerank(weights, docs_of)
    return pa.table({"doc_id": pc.take(doc_values, pa.array(docs_of)), "term": pc.take(word_values, pa.array(words_of)),
                     "score": values})


def keywords(tokens: pa.Table, params: KeywordParams, idf: Idf | None = None) -> pa.Table:
    """The top ``params.top_n`` keywords of every document of ``tokens`` by TF-IDF and by TextRank.

    ``tokens`` holds whole documents, with doc_id, passage_id, position, token, token_original, pos,
    token_type, is_stopword, in table order (passages in order, tokens by position). ``idf`` is the
    corpus's (:meth:`Idf.from_frequencies`); without it, the IDF of ``tokens`` itself.
    """
    terms = tokens.filter(term_mask(tokens, params.min_chars)).select(["doc_id", "token", "token_original",
                                                                      "position"])
    terms = terms.cast(pa.schema([(f.name, pa.string() if f.name != "position" else f.type) for f in terms.schema]))
    if not terms.num_rows:
        return schemas.KEYWORDS.schema.empty_table()
    idf = idf if idf is not None else Idf.of(terms)
    doc_values = pc.unique(terms.column("doc_id"))  # documents in order of first appearance
    facts = _term_facts(terms)
    scores = tfidf_scores(facts, idf)
    picked, rank = _top(_codes(facts.column("doc_id")), scores, np.arange(len(scores)), params.top_n)
    tfidf = pa.table({"doc_id": facts.column("doc_id").take(pa.array(picked)),
                      "method": pa.array(["tfidf"] * len(picked), pa.string()), "rank": pa.array(rank, pa.int16()),
                      "term": facts.column("term").take(pa.array(picked)),
                      "score": pa.array(scores[picked], pa.float64())})
    ranked = textrank_scores(tokens, params)
    words = ranked.column("term")
    alphabetical = pc.rank(words, sort_keys="ascending", tiebreaker="dense").to_numpy()
    picked, rank = _top(_codes(ranked.column("doc_id")), ranked.column("score").to_numpy(), alphabetical,
                        params.top_n)
    textrank = pa.table({"doc_id": pc.take(ranked.column("doc_id"), pa.array(picked)),
                         "method": pa.array(["textrank"] * len(picked), pa.string()),
                         "rank": pa.array(rank, pa.int16()), "term": pc.take(words, pa.array(picked)),
                         "score": pc.take(ranked.column("score"), pa.array(picked))})
    chosen = pa.concat_tables([tfidf, textrank]).join(facts, ["doc_id", "term"], use_threads=False)
    chosen = chosen.append_column("doc_order", pc.index_in(chosen.column("doc_id"), value_set=doc_values))
    chosen = chosen.sort_by([("doc_order", "ascending"), ("method", "descending"), ("rank", "ascending")])
    return chosen.select(schemas.KEYWORDS.schema.names).cast(schemas.KEYWORDS.schema)


def keywords_batch(source: Slice | pa.Table, idf: Idf, params: KeywordParams) -> pa.Table:
    """:func:`keywords` of a batch of whole documents (a slice, read by the worker), with the corpus's IDF
    (one worker task)."""
    return keywords(tokens_of(source, COLUMNS), params, idf)
