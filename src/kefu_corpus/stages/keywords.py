"""Per-document keywords: TF-IDF with the corpus's own IDF, and TextRank over a co-occurrence graph.

Pure: :func:`keywords` maps the tokens of the deduplicated view to rows of ``keywords``. Part of the
trends stage (it reads the same tokens).

Terms are those of the trends stage: canonical tokens of type ``word`` or ``latin``, not stopwords, at
least ``trends.min_chars`` characters long. Each keyword is also given in the document's own script
(``term_original``: the most frequent written form of the term in that document).

- **TF-IDF**: scikit-learn's ``TfidfVectorizer`` over the documents' terms (smoothed IDF, l2-normalised
  rows), so a term's IDF is its rarity across this corpus, not across some other one.
- **TextRank** (Mihalcea and Tarau 2004, as in ``jieba.analyse.textrank``): an undirected graph whose
  nodes are the terms of a document with a part of speech in ``keywords.textrank_pos``, and whose edge
  weights count how often two such terms occur within ``keywords.textrank_window`` tokens of each other
  in a passage (the window runs over every token, punctuation included, as jieba's does). Scores are
  igraph's PageRank (PRPACK, damping 0.85; the same values as networkx's). All documents go through
  one PageRank call over the union of their graphs; the graphs share no node and have no dangling
  node, so each document's scores, renormalised to sum to 1, are exactly its own graph's PageRank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu_corpus import schemas
from kefu_corpus.config import section_params

RUNNING = pa.array(["word", "latin"])


@dataclass(frozen=True)
class KeywordParams:
    """The ``keywords.*`` configuration (and the term filter of ``trends``)."""

    top_n: int = 10
    textrank_window: int = 5
    textrank_pos: tuple[str, ...] = ("n", "nr", "ns", "nt", "nz", "vn", "v", "eng")
    min_chars: int = 2

    @classmethod
    def from_config(cls, config) -> KeywordParams:
        return section_params(cls, config, "keywords", min_chars=config["trends.min_chars"])


def _terms_mask(tokens: pa.Table, params: KeywordParams) -> pa.ChunkedArray:
    token = tokens.column("token").cast(pa.string())
    return pc.and_(pc.and_(pc.is_in(tokens.column("token_type").cast(pa.string()), value_set=RUNNING),
                           pc.invert(tokens.column("is_stopword"))),
                   pc.greater_equal(pc.utf8_length(token), params.min_chars))


def _first_per_group(keys: list[np.ndarray]) -> np.ndarray:
    """Mask of the rows that start a run of equal ``keys`` (rows already sorted by them)."""
    start = np.zeros(len(keys[0]), bool)
    if len(start):
        start[0] = True
        for key in keys:
            start[1:] |= key[1:] != key[:-1]
    return start


def _term_facts(terms: pa.Table) -> pa.Table:
    """Per (doc_id, term): its count in the document and its most frequent written form there (ties: the
    form that sorts first)."""
    forms = terms.group_by(["doc_id", "token", "token_original"], use_threads=False).aggregate(
        [("position", "count")])
    forms = forms.sort_by([("doc_id", "ascending"), ("token", "ascending"), ("position_count", "descending"),
                           ("token_original", "ascending")])
    docs, words = _codes(forms.column("doc_id")), _codes(forms.column("token"))
    first = _first_per_group([docs, words])
    counts = np.add.reduceat(forms.column("position_count").to_numpy(), np.flatnonzero(first)) if len(first) else []
    best = forms.filter(pa.array(first))
    return pa.table({"doc_id": best.column("doc_id"), "term": best.column("token"),
                     "term_original": best.column("token_original"), "count": pa.array(counts, pa.int32())})


def _top(docs: np.ndarray, scores: np.ndarray, alphabetical: np.ndarray, top_n: int) -> np.ndarray:
    """Indices of the ``top_n`` best-scored rows of every document (ties: alphabetical), with their
    rank, as ``(indices, ranks)``."""
    order = np.lexsort((alphabetical, -scores, docs))
    first = np.flatnonzero(_first_per_group([docs[order]]))
    rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    keep = rank < top_n
    return order[keep], rank[keep]


def tfidf_scores(doc_terms: list[list[str]]):
    """A (documents x terms) TF-IDF matrix with the corpus IDF, and its vocabulary in column order."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=lambda terms: terms, lowercase=False, norm="l2", smooth_idf=True)
    matrix = vectorizer.fit_transform(doc_terms)
    return matrix.tocsr(), vectorizer.get_feature_names_out()


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    """Integer codes of a column's values, in order of first appearance (``pc.unique`` order)."""
    values = column.cast(pa.string())
    return pc.index_in(values, value_set=pc.unique(values)).to_numpy()


def textrank_scores(tokens: pa.Table, params: KeywordParams) -> pa.Table:
    """TextRank scores (doc_id, term, score) of the candidate terms of every document with at least one
    co-occurrence edge; a document's scores sum to 1."""
    import igraph as ig

    eligible = pc.and_(_terms_mask(tokens, params),
                       pc.is_in(tokens.column("pos").cast(pa.string()), value_set=pa.array(list(params.textrank_pos))))
    passage = _codes(tokens.column("passage_id"))
    position = tokens.column("position").to_numpy()
    ok = eligible.to_numpy(zero_copy_only=False)
    doc_values, doc = pc.unique(tokens.column("doc_id").cast(pa.string())), _codes(tokens.column("doc_id"))
    word_values, word = pc.unique(tokens.column("token").cast(pa.string())), _codes(tokens.column("token"))
    node = doc.astype(np.int64) * len(word_values) + word
    left, right = [], []
    for d in range(1, params.textrank_window):
        i = np.flatnonzero(ok[:-d] & ok[d:] & (passage[:-d] == passage[d:]) & (position[d:] - position[:-d] == d))
        i = i[word[i] != word[i + d]]
        left.append(node[i])
        right.append(node[i + d])
    a, b = np.concatenate(left), np.concatenate(right)
    if not len(a):
        return pa.table({"doc_id": pa.array([], pa.string()), "term": pa.array([], pa.string()),
                         "score": pa.array([], pa.float64())})
    nodes, index = np.unique(np.concatenate([a, b]), return_inverse=True)
    i, j = index[:len(a)].astype(np.int64), index[len(a):].astype(np.int64)
    pairs, weight = np.unique(np.minimum(i, j) * len(nodes) + np.maximum(i, j), return_counts=True)
    graph = ig.Graph(n=len(nodes), directed=False)
    graph.add_edges(np.stack(np.divmod(pairs, len(nodes)), axis=1))
    graph.es["weight"] = weight.astype(np.float64)  # the co-occurrence count of the pair
    values = np.asarray(graph.pagerank(weights="weight", damping=0.85))
    docs_of, words_of = np.divmod(nodes, len(word_values))
    totals = np.bincount(docs_of, weights=values, minlength=len(doc_values))
    return pa.table({"doc_id": pc.take(doc_values, docs_of), "term": pc.take(word_values, words_of),
                     "score": values / totals[docs_of]})


def keywords(tokens: pa.Table, params: KeywordParams) -> pa.Table:
    """The top ``params.top_n`` keywords of every document by TF-IDF and by TextRank.

    ``tokens`` needs doc_id, passage_id, position, token, token_original, pos, token_type, is_stopword,
    in table order (passages in order, tokens by position).
    """
    terms = tokens.filter(_terms_mask(tokens, params)).select(["doc_id", "token", "token_original", "position"])
    terms = terms.cast(pa.schema([(f.name, pa.string() if f.name != "position" else f.type) for f in terms.schema]))
    if not terms.num_rows:
        return schemas.table_from_columns(schemas.KEYWORDS, {name: [] for name in schemas.KEYWORDS.schema.names})
    doc_values = pc.unique(terms.column("doc_id"))  # documents in order of first appearance
    order = np.argsort(_codes(terms.column("doc_id")), kind="stable")
    doc_col = terms.column("doc_id").to_numpy(zero_copy_only=False)[order]
    word_col = terms.column("token").to_numpy(zero_copy_only=False)[order]
    cuts = np.flatnonzero(doc_col[1:] != doc_col[:-1]) + 1
    doc_ids = [str(doc_col[s]) for s in np.r_[0, cuts]]
    matrix, vocabulary = tfidf_scores([list(chunk) for chunk in np.split(word_col, cuts)])
    # Vocabulary columns are in alphabetical order, so the column index breaks ties alphabetically.
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    picked, rank = _top(rows, matrix.data, matrix.indices, params.top_n)
    tfidf = pa.table({"doc_id": pa.array(np.array(doc_ids, dtype=object)[rows[picked]], pa.string()),
                      "method": pa.array(["tfidf"] * len(picked), pa.string()), "rank": pa.array(rank, pa.int16()),
                      "term": pa.array(vocabulary[matrix.indices[picked]], pa.string()),
                      "score": pa.array(matrix.data[picked], pa.float64())})
    ranked = textrank_scores(tokens, params)
    words = ranked.column("term")
    alphabetical = pc.rank(words, sort_keys="ascending", tiebreaker="dense").to_numpy()
    picked, rank = _top(_codes(ranked.column("doc_id")), ranked.column("score").to_numpy(), alphabetical,
                        params.top_n)
    textrank = pa.table({"doc_id": pc.take(ranked.column("doc_id"), pa.array(picked)),
                         "method": pa.array(["textrank"] * len(picked), pa.string()),
                         "rank": pa.array(rank, pa.int16()), "term": pc.take(words, pa.array(picked)),
                         "score": pc.take(ranked.column("score"), pa.array(picked))})
    chosen = pa.concat_tables([tfidf, textrank]).join(_term_facts(terms), ["doc_id", "term"], use_threads=False)
    chosen = chosen.append_column("doc_order", pc.index_in(chosen.column("doc_id"), value_set=doc_values))
    chosen = chosen.sort_by([("doc_order", "ascending"), ("method", "descending"), ("rank", "ascending")])
    return chosen.select(schemas.KEYWORDS.schema.names).cast(schemas.KEYWORDS.schema)
