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


def _original_forms(terms: pa.Table) -> dict[tuple[str, str], str]:
    """(doc_id, term) -> the term's most frequent written form in that document (ties: first in order)."""
    forms = terms.group_by(["doc_id", "token", "token_original"], use_threads=False).aggregate(
        [("position", "count")])
    forms = forms.sort_by([("doc_id", "ascending"), ("token", "ascending"), ("position_count", "descending"),
                           ("token_original", "ascending")])
    best: dict[tuple[str, str], str] = {}
    for doc, term, original in zip(forms.column("doc_id").to_pylist(), forms.column("token").to_pylist(),
                                   forms.column("token_original").to_pylist()):
        best.setdefault((doc, term), original)
    return best


def tfidf_scores(doc_ids: list[str], doc_terms: list[list[str]]):
    """A (documents x terms) TF-IDF matrix with the corpus IDF, and its vocabulary in column order."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=lambda terms: terms, lowercase=False, norm="l2", smooth_idf=True)
    matrix = vectorizer.fit_transform(doc_terms)
    return matrix.tocsr(), vectorizer.get_feature_names_out()


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    """Integer codes of a column's values, in order of first appearance (``pc.unique`` order)."""
    values = column.cast(pa.string())
    return pc.index_in(values, value_set=pc.unique(values)).to_numpy()


def textrank_scores(tokens: pa.Table, params: KeywordParams) -> dict[str, dict[str, float]]:
    """doc_id -> {term: TextRank score} for every document with at least one co-occurrence edge."""
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
        return {}
    nodes, index = np.unique(np.concatenate([a, b]), return_inverse=True)
    graph = ig.Graph(n=len(nodes), edges=index.reshape(2, -1).T, directed=False)
    graph.es["weight"] = np.ones(len(a))  # parallel edges add up: the weight is the co-occurrence count
    values = np.asarray(graph.pagerank(weights="weight", damping=0.85))
    docs_of, words_of = np.divmod(nodes, len(word_values))
    totals = np.bincount(docs_of, weights=values, minlength=len(doc_values))
    doc_names, word_names = doc_values.to_pylist(), word_values.to_pylist()
    scores: dict[str, dict[str, float]] = {}
    for d, w, v in zip(docs_of.tolist(), words_of.tolist(), (values / totals[docs_of]).tolist()):
        scores.setdefault(doc_names[d], {})[word_names[w]] = v
    return scores


def keywords(tokens: pa.Table, params: KeywordParams) -> pa.Table:
    """The top ``params.top_n`` keywords of every document by TF-IDF and by TextRank.

    ``tokens`` needs doc_id, passage_id, position, token, token_original, pos, token_type, is_stopword,
    in table order (passages in order, tokens by position).
    """
    rows: dict[str, list] = {name: [] for name in schemas.KEYWORDS.schema.names}
    terms = tokens.filter(_terms_mask(tokens, params)).select(["doc_id", "token", "token_original", "position"])
    terms = terms.cast(pa.schema([(f.name, pa.string() if f.name != "position" else f.type) for f in terms.schema]))
    if not terms.num_rows:
        return schemas.table_from_columns(schemas.KEYWORDS, rows)
    original = _original_forms(terms)
    order = np.argsort(_codes(terms.column("doc_id")), kind="stable")
    doc_col = terms.column("doc_id").to_numpy(zero_copy_only=False)[order]
    word_col = terms.column("token").to_numpy(zero_copy_only=False)[order]
    cuts = np.flatnonzero(doc_col[1:] != doc_col[:-1]) + 1
    doc_ids = [str(doc_col[s]) for s in np.r_[0, cuts]]
    doc_terms = [list(chunk) for chunk in np.split(word_col, cuts)]
    matrix, vocabulary = tfidf_scores(doc_ids, doc_terms)
    ranked = textrank_scores(tokens, params)

    def emit(doc: str, method: str, scored: list[tuple[str, float]], counts: dict[str, int]) -> None:
        scored.sort(key=lambda item: (-item[1], item[0]))
        for rank, (term, score) in enumerate(scored[:params.top_n]):
            for name, value in (("doc_id", doc), ("method", method), ("rank", rank), ("term", term),
                                ("term_original", original[(doc, term)]), ("score", float(score)),
                                ("count", counts[term])):
                rows[name].append(value)

    for row, (doc, words) in enumerate(zip(doc_ids, doc_terms)):
        counts: dict[str, int] = {}
        for word in words:
            counts[word] = counts.get(word, 0) + 1
        line = matrix.getrow(row)
        emit(doc, "tfidf", [(str(vocabulary[c]), v) for c, v in zip(line.indices.tolist(), line.data.tolist())],
             counts)
        emit(doc, "textrank", list(ranked.get(doc, {}).items()), counts)
    return schemas.table_from_columns(schemas.KEYWORDS, rows)
