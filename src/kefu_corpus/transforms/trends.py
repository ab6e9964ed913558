"""The trends stage: per-year term statistics, trends, and keyness of each year against the rest.

Pure: :func:`count_terms` counts one batch of whole documents, :func:`merge_counts` adds batches up, and
:func:`term_trends` and :func:`keyness` map the merged counts to rows of ``term_trends`` and
``keyness``. The pipeline streams ``tokens`` through the executor slice by slice, so no process holds
more than one slice of tokens; the merged counts grow with the vocabulary, not with the corpus.

Requires: ``tokens`` (the deduplicated view, with ``year``), ``documents`` (``year``). Assigns:
``term_trends``, ``keyness``.

Terms are canonical tokens of type ``word`` or ``latin`` that are not stopwords and have at least
``trends.min_chars`` characters. Rates are per 10,000 word and Latin tokens of the year, stopwords
included (the running-text denominator). Undated documents are a group of their own (``year`` null):
reported in ``term_trends``, never a target in ``keyness`` but part of every year's reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu_corpus import schemas
from kefu_corpus.partials import merge_as_they_come
from kefu_corpus.slices import Slice, tokens_of
from kefu_corpus.terms import distinct_count, is_running, term_mask
from kefu_corpus.years import UNDATED

if TYPE_CHECKING:
    from kefu_corpus.stages.trends import TrendParams

#: Columns of ``tokens`` the counts read.
COLUMNS = ["doc_id", "year", "token", "token_type", "is_stopword"]


_TERM_COUNTS = pa.schema([("term", pa.string()), ("year", pa.int32()), ("count", pa.int64()),
                          ("doc_freq", pa.int64())])


@dataclass
class Counts:
    """Term counts per year (year :data:`~kefu_corpus.years.UNDATED` stands for undated), with the size of
    each year.

    ``terms`` has one row per (term, year): term, year, count, doc_freq (documents of the year with the
    term). ``documents`` counts documents with at least one term (the n of TF-IDF's IDF).
    ``year_docs`` (documents per year, from ``documents``) is set by whoever knows the documents.
    """

    terms: pa.Table
    year_tokens: dict[int, int]
    documents: int = 0
    year_docs: dict[int, int] = field(default_factory=dict)


def count_terms(tokens: pa.Table, params: TrendParams) -> Counts:
    """Count terms per year in ``tokens`` (doc_id, year, token, token_type, is_stopword), a batch of
    whole documents (so documents per term add up across batches)."""
    year = pc.fill_null(tokens.column("year").cast(pa.int32()), UNDATED)
    table = pa.table({"doc_id": tokens.column("doc_id"), "year": year, "token": tokens.column("token")})
    running = table.filter(is_running(tokens))
    totals = running.group_by("year", use_threads=False).aggregate([("year", "count")])
    year_tokens = dict(zip(totals.column("year").to_pylist(), totals.column("year_count").to_pylist()))
    terms = table.filter(term_mask(tokens, params.min_chars))
    grouped = terms.group_by(["token", "year"], use_threads=False).aggregate(
        [("doc_id", "count"), ("doc_id", "count_distinct")])
    counted = pa.table({"term": grouped.column("token").cast(pa.string()), "year": grouped.column("year"),
                        "count": grouped.column("doc_id_count"), "doc_freq": grouped.column("doc_id_count_distinct")},
                       schema=_TERM_COUNTS)
    documents = distinct_count(terms.column("doc_id")) if terms.num_rows else 0
    return Counts(terms=counted, year_tokens=year_tokens, documents=documents)


def count_batch(source: Slice | pa.Table, params: TrendParams) -> Counts:
    """:func:`count_terms` of a batch of whole documents (a slice, read by the worker): one worker task."""
    return count_terms(tokens_of(source, COLUMNS), params)


def merge_counts(parts: list[Counts]) -> Counts:
    """One :class:`Counts` from several (of disjoint sets of documents): counts added up, sorted by
    term and year."""
    terms = pa.concat_tables([p.terms for p in parts]) if parts else _TERM_COUNTS.empty_table()
    merged = terms.group_by(["term", "year"], use_threads=False).aggregate([("count", "sum"), ("doc_freq", "sum")])
    merged = pa.table({"term": merged.column("term"), "year": merged.column("year"),
                       "count": merged.column("count_sum"), "doc_freq": merged.column("doc_freq_sum")},
                      schema=_TERM_COUNTS).sort_by([("term", "ascending"), ("year", "ascending")])
    year_tokens: dict[int, int] = {}
    for p in parts:
        for y, n in p.year_tokens.items():
            year_tokens[y] = year_tokens.get(y, 0) + n
    return Counts(terms=merged, year_tokens=year_tokens, documents=sum(p.documents for p in parts),
                  year_docs={k: v for p in parts for k, v in p.year_docs.items()})


def _year_value(y: int) -> int | None:
    return None if y == UNDATED else int(y)


def _matrix(c: Counts, years: list[int]) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Distinct terms (sorted), and their counts and document frequencies as (terms x years) matrices."""
    terms = pc.unique(c.terms.column("term")).sort()
    row = pc.index_in(c.terms.column("term"), value_set=terms).to_numpy()
    col = pc.fill_null(pc.index_in(c.terms.column("year"), value_set=pa.array(years, pa.int32())), -1).to_numpy()
    count = np.zeros((len(terms), len(years)), np.int64)
    doc_freq = np.zeros((len(terms), len(years)), np.int64)
    known = col >= 0  # rows of years not asked for are left out
    r, k = row[known], col[known]
    count[r, k] = c.terms.column("count").to_numpy()[known]
    doc_freq[r, k] = c.terms.column("doc_freq").to_numpy()[known]
    return terms, count, doc_freq


def linear_trends(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope of every row of ``y`` over ``x`` and its two-sided p-value, as
    ``scipy.stats.linregress`` computes them one row at a time (NaN p-values with fewer than three x, or
    for a constant row)."""
    n = len(x)
    xm = x - x.mean()
    ym = y - y.mean(axis=1, keepdims=True)
    ssxm = (xm * xm).mean()
    ssym = (ym * ym).mean(axis=1)
    ssxym = (ym * xm).mean(axis=1)
    slope = ssxym / ssxm
    den = np.sqrt(ssxm * ssym)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.clip(np.where(den > 0, ssxym / np.where(den > 0, den, 1.0), np.nan), -1.0, 1.0)  # constant: NaN
        if n < 3:
            return slope, np.full(len(y), np.nan)
        df = n - 2
        t = r * np.sqrt(df / ((1.0 - r + 1e-20) * (1.0 + r + 1e-20)))
    from scipy import stats  # here, not at the top: the workers that count terms never load scipy.stats

    return slope, 2 * stats.t.sf(np.abs(t), df)


def term_trends(c: Counts, params: TrendParams) -> pa.Table:
    """One row per term and year with counts and rates, and each term's trend over the dated years."""
    dated = sorted(y for y in c.year_docs if y != UNDATED)
    thin_years = len(dated) < params.min_years
    thin_docs = any(c.year_docs.get(y, 0) < params.min_docs_per_year for y in dated)
    evidence = "thin" if thin_years or thin_docs else "ok"
    years = ([UNDATED] if UNDATED in c.year_docs else []) + dated
    if not c.terms.num_rows or not years:
        return schemas.TERM_TRENDS.schema.empty_table()
    terms, count, doc_freq = _matrix(c, years)
    keep = count.sum(axis=1) >= params.min_count
    terms, count, doc_freq = terms.filter(pa.array(keep)), count[keep], doc_freq[keep]
    year_tokens = np.array([c.year_tokens.get(y, 0) for y in years], np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(year_tokens > 0, 1e4 * count / np.where(year_tokens > 0, year_tokens, 1.0), 0.0)
    n_terms, n_years = count.shape
    slope = p_value = np.full(n_terms, np.nan)
    if len(dated) >= 2:
        slope, p_value = linear_trends(np.array(dated, np.float64), rate[:, len(years) - len(dated):])
    def spread(values: np.ndarray, kind: pa.DataType) -> pa.Array:
        return pa.array(np.repeat(values, n_years), kind, mask=np.repeat(~np.isfinite(values), n_years))
    table = pa.table({
        "term": pc.take(terms, pa.array(np.repeat(np.arange(n_terms), n_years))),
        "year": pa.array(np.tile(np.array(years), n_terms), pa.int16(), mask=np.tile(np.array(years) == UNDATED, n_terms)),
        "count": pa.array(count.ravel(), pa.int64()),
        "doc_freq": pa.array(doc_freq.ravel(), pa.int32()),
        "rate_per_10k": pa.array(rate.ravel(), pa.float64()),
        "year_tokens": pa.array(np.tile(year_tokens.astype(np.int64), n_terms), pa.int64()),
        "year_docs": pa.array(np.tile(np.array([c.year_docs.get(y, 0) for y in years]), n_terms), pa.int32()),
        "slope": spread(slope, pa.float64()),
        "p_value": spread(p_value, pa.float64()),
        "evidence": pa.array([evidence] * (n_terms * n_years), pa.string()),
    })
    return table.cast(schemas.TERM_TRENDS.schema)


def g2(a: np.ndarray, b: np.ndarray, total_a: np.ndarray, total_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihood G² of a 2x2 table per term (term in target ``a`` of ``total_a``, in reference
    ``b`` of ``total_b``) and its p-value (1 degree of freedom), through scipy's power divergence."""
    observed = np.stack([a, total_a - a, b, total_b - b], axis=1).astype(np.float64)
    n = total_a + total_b
    term_total, rest = a + b, n - a - b
    expected = np.stack([term_total * total_a / n, rest * total_a / n,
                         term_total * total_b / n, rest * total_b / n], axis=1).astype(np.float64)
    from scipy import stats

    result = stats.power_divergence(observed, expected, ddof=2, axis=1, lambda_="log-likelihood")
    return result.statistic, result.pvalue


def keyness(c: Counts, params: TrendParams) -> pa.Table:
    """Each dated year against every other token of the corpus: signed G², p-value, log ratio."""
    targets = sorted(y for y in c.year_tokens if y != UNDATED)
    total = float(sum(c.year_tokens.values()))
    if not c.terms.num_rows or not targets:
        return schemas.KEYNESS.schema.empty_table()
    terms, count, _ = _matrix(c, targets)
    term_total = np.zeros(len(terms), np.int64)
    np.add.at(term_total, pc.index_in(c.terms.column("term"), value_set=terms).to_numpy(),
              c.terms.column("count").to_numpy())
    keep = term_total >= params.min_count
    terms, count, term_total = terms.filter(pa.array(keep)), count[keep], term_total[keep]
    parts = []
    for i, year in enumerate(targets):
        total_a = float(c.year_tokens[year])
        total_b = total - total_a
        if not len(terms) or not total_b:
            continue
        a = count[:, i].astype(np.float64)
        b = term_total - a
        stat, p = g2(a, b, np.full(len(a), total_a), np.full(len(a), total_b))
        log_ratio = np.log2(((a + 0.5) / (total_a + 0.5)) / ((b + 0.5) / (total_b + 0.5)))
        sign = np.where(a / total_a >= b / total_b, 1.0, -1.0)
        parts.append(pa.table({
            "year": pa.array(np.full(len(a), year), pa.int16()), "term": terms,
            "count_target": pa.array(a.astype(np.int64)), "count_reference": pa.array(b.astype(np.int64)),
            "tokens_target": pa.array(np.full(len(a), int(total_a)), pa.int64()),
            "tokens_reference": pa.array(np.full(len(a), int(total_b)), pa.int64()),
            "g2": pa.array(sign * stat, pa.float64()), "p_value": pa.array(p, pa.float64()),
            "log_ratio": pa.array(log_ratio, pa.float64())}, schema=schemas.KEYNESS.schema))
    if not parts:
        return schemas.KEYNESS.schema.empty_table()
    table = pa.concat_tables(parts)
    return table.sort_by([("year", "ascending"), ("g2", "descending"), ("term", "ascending")])


def run_trends(sources: list[Slice | pa.Table], year_docs: dict[int, int], params: TrendParams, keyword_params,
               executor, write: Callable[[str, pa.Table], None], progress, *, merge_rows: int = 1_000_000
               ) -> dict[str, Any]:
    """The whole stage over batches of whole documents (slices of ``tokens.parquet``, or tables): counts
    through ``executor`` and merged, trends and keyness from them, then keywords batch by batch with the
    corpus's IDF. Every output row goes to ``write(table_name, table)``; returns the manifest entry's
    figures."""
    from kefu_corpus.transforms.keywords import Idf, keywords_batch

    progress.start("trends: counts", len(sources))
    counts = merge_as_they_come(executor.map(partial(count_batch, params=params), sources), merge_counts,
                                lambda c: c.terms.num_rows, merge_rows, progress)
    progress.finish()
    counts.year_docs = year_docs
    trends, key = term_trends(counts, params), keyness(counts, params)
    write("term_trends", trends)
    write("keyness", key)
    per_term = counts.terms.group_by("term", use_threads=False).aggregate([("doc_freq", "sum")])
    idf = Idf.from_frequencies(per_term.column("term").combine_chunks(), per_term.column("doc_freq_sum").to_numpy(),
                               counts.documents)
    progress.start("trends: keywords", len(sources))
    n_keywords = 0
    for table in executor.map(partial(keywords_batch, params=keyword_params), sources, shared=idf):
        write("keywords", table)
        n_keywords += table.num_rows
        progress.advance(1)
    progress.finish()
    evidence = trends.column("evidence")[0].as_py() if trends.num_rows else None
    return {"terms": distinct_count(trends.column("term")) if trends.num_rows else 0, "term_trend_rows": trends.num_rows, "keyness_rows": key.num_rows,
            "keywords": n_keywords, "evidence": evidence,
            "years": {("undated" if y == UNDATED else str(y)): n for y, n in sorted(year_docs.items())}}
