"""Queries over an output folder for analysts: keyword in context and collocations.

Reads the tables of a run; writes nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu_corpus.store import read_passages, read_table, run_folder
from kefu_corpus.terms import term_mask
from kefu_corpus.text.convert import convert
from kefu_corpus.text.offsets import OffsetMap


def kwic(out: Path, term: str, *, window: int = 12, canonical: str = "t2s",
         include_duplicates: bool = False) -> list[dict]:
    """Every occurrence of ``term`` (either script) in the passages of ``out``, with ``window`` characters
    of context on each side, in the passage's own script (``text_normalised``), in corpus order.

    Each hit is a dict: ``doc_id``, ``passage_id``, ``year``, the document's ``title``, ``date`` (a
    ``datetime.date``) and ``date_precision`` (as in ``documents``; null when unknown), then ``left``,
    ``match`` and ``right``.
    """
    query = convert(term, canonical).text
    out = run_folder(Path(out))  # one run, even if another commits meanwhile
    passages = read_passages(out, ["doc_id", "passage_id", "text_normalised", "text_canonical", "canonical_map"],
                             include_duplicates=include_duplicates)
    passages = passages.filter(pc.match_substring(passages.column("text_canonical"), query))
    # The matching passages' documents, joined in Arrow on the keys alone (a join carries no list column
    # such as canonical_map, and does not keep row order: sorted back, row i is passage i's document).
    docs = read_table(out, "documents", columns=["doc_id", "year", "title", "date", "date_precision"])
    keys = pa.table({"doc_id": passages.column("doc_id"),
                     "_order": pa.array(np.arange(passages.num_rows, dtype=np.int64))})
    joined = keys.join(docs, "doc_id", join_type="left outer").sort_by("_order")
    for name in ("year", "title", "date", "date_precision"):
        passages = passages.append_column(name, joined.column(name))
    hits = []
    for row in passages.to_pylist():
        text, shown = row["text_canonical"], row["text_normalised"]
        back = OffsetMap.from_edits([tuple(e.values()) for e in row["canonical_map"]], len(text), len(shown))
        start = text.find(query)
        while start >= 0:
            a, b = back.source_span(start, start + len(query))
            hits.append({"doc_id": row["doc_id"], "passage_id": row["passage_id"], "year": row["year"],
                         "title": row["title"], "date": row["date"], "date_precision": row["date_precision"],
                         "left": shown[max(0, a - window):a].replace("\n", " "), "match": shown[a:b],
                         "right": shown[b:b + window].replace("\n", " ")})
            start = text.find(query, start + len(query))
    return hits


COLLOCATION_MEASURES = ("g2", "pmi")


def collocations(tokens: pa.Table, *, term: str | None = None, window: int = 2, min_count: int = 3,
                 measure: str = "g2", top: int | None = 50) -> pa.Table:
    """Word pairs that occur together more often than chance, as NLTK's ``BigramCollocationFinder``.

    ``tokens`` is a ``tokens`` table (doc_id, passage_id, position, token, token_type, is_stopword) in
    table order. Pairs are ordered: ``first`` comes before ``second`` at most ``window - 1`` tokens later,
    within one passage, with no token left out as a duplicate between them (``window=2``: adjacent
    tokens). Whitespace tokens are skipped; punctuation counts as a token, so a pair never spans it
    unless the window is wider. Only pairs of two words or Latin tokens that are not stopwords are
    reported, at least ``min_count`` times; ``term`` (canonical) keeps the pairs that contain it.

    Statistics, for ``n`` counted tokens, a pair count ``c12`` (divided by ``window - 1``, as NLTK) and
    the marginal counts ``c1``, ``c2``:

    - ``pmi``: log2(c12 * n / (c1 * c2));
    - ``g2``: the log-likelihood ratio of the 2x2 table (scipy's ``power_divergence``), with its
      p-value (1 degree of freedom).

    Sorted by ``measure`` (descending), then by pair.
    """
    from kefu_corpus.transforms.trends import g2 as log_likelihood

    if measure not in COLLOCATION_MEASURES:
        raise ValueError(f"measure must be one of {COLLOCATION_MEASURES}, not {measure!r}")
    if window < 2:
        raise ValueError(f"window must be at least 2 (adjacent tokens), not {window}")
    # A run is a stretch of one passage with no token left out as a duplicate; pairs stay inside runs.
    passage = pc.index_in(tokens.column("passage_id").cast(pa.string()),
                          value_set=pc.unique(tokens.column("passage_id").cast(pa.string()))).to_numpy()
    position = tokens.column("position").to_numpy()
    run = np.cumsum(np.r_[True, (passage[1:] != passage[:-1]) | (position[1:] - position[:-1] != 1)])
    kept = pc.not_equal(tokens.column("token_type").cast(pa.string()), "whitespace").to_numpy(zero_copy_only=False)
    tokens, run = tokens.filter(pa.array(kept)), run[kept]
    words = tokens.column("token").cast(pa.string())
    vocabulary = pc.unique(words)
    code = pc.index_in(words, value_set=vocabulary).to_numpy()
    content = term_mask(tokens, min_chars=1).to_numpy(zero_copy_only=False)
    n_codes = len(vocabulary)
    keys = [np.zeros(0, np.int64)]
    for d in range(1, window):
        i = np.flatnonzero(run[:-d] == run[d:])
        i = i[content[i] & content[i + d]]
        keys.append(code[i].astype(np.int64) * n_codes + code[i + d])
    pairs, counts = np.unique(np.concatenate(keys), return_counts=True)
    word_count = np.bincount(code, minlength=n_codes).astype(np.float64)
    first, second = np.divmod(pairs, n_codes)
    keep = counts >= min_count
    if term is not None:
        target = vocabulary.index(term).as_py()  # -1 when absent: nothing matches
        keep &= (first == target) | (second == target)
    first, second, counts = first[keep], second[keep], counts[keep]
    n = float(len(code))
    c12 = counts / (window - 1.0)
    c1, c2 = word_count[first], word_count[second]
    with np.errstate(divide="ignore"):
        pmi = np.log2(c12 * n) - np.log2(c1 * c2)
    if len(c12):
        g2, p = log_likelihood(c12, c2 - c12, c1, n - c1)
    else:
        g2, p = np.zeros(0), np.zeros(0)
    names = vocabulary.to_pylist()
    table = pa.table({
        "first": pa.array([names[i] for i in first.tolist()], pa.string()),
        "second": pa.array([names[i] for i in second.tolist()], pa.string()),
        "count": pa.array(counts, pa.int64()),
        "count_first": pa.array(c1.astype(np.int64), pa.int64()),
        "count_second": pa.array(c2.astype(np.int64), pa.int64()),
        "pmi": pa.array(pmi, pa.float64()),
        "g2": pa.array(g2, pa.float64()),
        "p_value": pa.array(p, pa.float64()),
    })
    table = table.sort_by([(measure, "descending"), ("first", "ascending"), ("second", "ascending")])
    return table.slice(0, top) if top is not None else table
