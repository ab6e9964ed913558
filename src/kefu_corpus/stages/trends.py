"""The trends stage: per-year term statistics, trends, and keyness of each year against the rest.

Pure: :func:`term_trends` and :func:`keyness` map a table of counted terms to rows of
``term_trends`` and ``keyness``; the pipeline reads ``tokens`` and ``documents``.

Requires: ``tokens`` (the deduplicated view), ``documents`` (``year``). Assigns: ``term_trends``,
``keyness``.

Terms are canonical tokens of type ``word`` or ``latin`` that are not stopwords and have at least
``trends.min_chars`` characters. Rates are per 10,000 word and Latin tokens of the year, stopwords
included (the running-text denominator). Undated documents are a group of their own (``year`` null):
reported in ``term_trends``, never a target in ``keyness`` but part of every year's reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from kefu_corpus.config import section_params
from kefu_corpus import schemas


@dataclass(frozen=True)
class TrendParams:
    """The ``trends.*`` configuration."""

    min_chars: int = 2
    min_count: int = 2
    min_years: int = 3
    min_docs_per_year: int = 2

    @classmethod
    def from_config(cls, config) -> TrendParams:
        return section_params(cls, config, "trends")


@dataclass
class Counts:
    """Term counts per year, with the size of each year (year -1 stands for undated)."""

    terms: np.ndarray  # object array of terms
    years: np.ndarray  # int64, one per (term, year) row
    count: np.ndarray
    doc_freq: np.ndarray
    year_tokens: dict[int, int]
    year_docs: dict[int, int]


UNDATED = -1


def count_terms(tokens: pa.Table, years: dict[str, int | None], params: TrendParams) -> Counts:
    """Count terms per year from ``tokens`` (doc_id, token, token_type, is_stopword) and doc_id -> year."""
    doc_ids = tokens.column("doc_id").cast(pa.string())
    year_of = pa.array([UNDATED if years.get(d) is None else years[d] for d in
                        pc.unique(doc_ids).to_pylist()], pa.int64())
    index = pc.index_in(doc_ids, value_set=pc.unique(doc_ids))
    year = pc.take(year_of, index)
    token = tokens.column("token").cast(pa.string())
    running = pc.is_in(tokens.column("token_type").cast(pa.string()), value_set=pa.array(["word", "latin"]))
    table = pa.table({"doc_id": doc_ids, "year": year, "token": token})
    base = table.filter(running)
    totals = base.group_by("year").aggregate([("token", "count")])
    year_tokens = dict(zip(totals.column("year").to_pylist(), totals.column("token_count").to_pylist()))
    docs = pa.table({"doc_id": list(years), "year": [UNDATED if y is None else y for y in years.values()]})
    per_year = docs.group_by("year").aggregate([("doc_id", "count_distinct")])
    year_docs = dict(zip(per_year.column("year").to_pylist(), per_year.column("doc_id_count_distinct").to_pylist()))
    keep = pc.and_(pc.and_(running, pc.invert(tokens.column("is_stopword"))),
                   pc.greater_equal(pc.utf8_length(token), params.min_chars))
    grouped = table.filter(keep).group_by(["token", "year"]).aggregate([("doc_id", "count"),
                                                                         ("doc_id", "count_distinct")])
    grouped = grouped.sort_by([("token", "ascending"), ("year", "ascending")])
    return Counts(terms=np.array(grouped.column("token").to_pylist(), dtype=object),
                  years=grouped.column("year").to_numpy(), count=grouped.column("doc_id_count").to_numpy(),
                  doc_freq=grouped.column("doc_id_count_distinct").to_numpy(),
                  year_tokens=year_tokens, year_docs=year_docs)


def _year_value(y: int) -> int | None:
    return None if y == UNDATED else int(y)


def term_trends(c: Counts, params: TrendParams) -> pa.Table:
    """One row per term and year with counts and rates, and each term's trend over the dated years."""
    dated_years = sorted(y for y in c.year_docs if y != UNDATED)
    thin_years = len(dated_years) < params.min_years
    thin_docs = any(c.year_docs.get(y, 0) < params.min_docs_per_year for y in dated_years)
    evidence = "thin" if thin_years or thin_docs else "ok"
    rows: dict[str, list] = {name: [] for name in schemas.TERM_TRENDS.schema.names}
    terms, starts = np.unique(c.terms, return_index=True)
    bounds = np.r_[starts, len(c.terms)]
    for term, lo, hi in zip(terms.tolist(), bounds[:-1].tolist(), bounds[1:].tolist()):
        counts = dict(zip(c.years[lo:hi].tolist(), c.count[lo:hi].tolist()))
        dfs = dict(zip(c.years[lo:hi].tolist(), c.doc_freq[lo:hi].tolist()))
        if sum(counts.values()) < params.min_count:
            continue
        rates = [1e4 * counts.get(y, 0) / c.year_tokens[y] if c.year_tokens.get(y) else 0.0 for y in dated_years]
        slope = p_value = None
        if len(dated_years) >= 2:
            fit = stats.linregress(dated_years, rates)
            slope = float(fit.slope)
            p_value = float(fit.pvalue) if len(dated_years) >= 3 and np.isfinite(fit.pvalue) else None
        for y in sorted(set(dated_years) | ({UNDATED} if UNDATED in c.year_docs else set())):
            n = c.year_tokens.get(y, 0)
            rows["term"].append(term)
            rows["year"].append(_year_value(y))
            rows["count"].append(int(counts.get(y, 0)))
            rows["doc_freq"].append(int(dfs.get(y, 0)))
            rows["rate_per_10k"].append(1e4 * counts.get(y, 0) / n if n else 0.0)
            rows["year_tokens"].append(int(n))
            rows["year_docs"].append(int(c.year_docs.get(y, 0)))
            rows["slope"].append(slope)
            rows["p_value"].append(p_value)
            rows["evidence"].append(evidence)
    return schemas.table_from_columns(schemas.TERM_TRENDS, rows)


def g2(a: np.ndarray, b: np.ndarray, total_a: np.ndarray, total_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihood G² of a 2x2 table per term (term in target ``a`` of ``total_a``, in reference
    ``b`` of ``total_b``) and its p-value (1 degree of freedom), through scipy's power divergence."""
    observed = np.stack([a, total_a - a, b, total_b - b], axis=1).astype(np.float64)
    n = total_a + total_b
    term_total, rest = a + b, n - a - b
    expected = np.stack([term_total * total_a / n, rest * total_a / n,
                         term_total * total_b / n, rest * total_b / n], axis=1).astype(np.float64)
    result = stats.power_divergence(observed, expected, ddof=2, axis=1, lambda_="log-likelihood")
    return result.statistic, result.pvalue


def keyness(c: Counts, params: TrendParams) -> pa.Table:
    """Each dated year against every other token of the corpus: signed G², p-value, log ratio."""
    total = sum(c.year_tokens.values())
    term_total: dict[str, int] = {}
    for term, count in zip(c.terms.tolist(), c.count.tolist()):
        term_total[term] = term_total.get(term, 0) + int(count)
    rows: dict[str, list] = {name: [] for name in schemas.KEYNESS.schema.names}
    for year in sorted(y for y in c.year_tokens if y != UNDATED):
        in_year = c.years == year
        here = dict(zip(c.terms[in_year].tolist(), c.count[in_year].tolist()))
        terms = sorted(t for t, n in term_total.items() if n >= params.min_count)
        a = np.array([here.get(t, 0) for t in terms], np.float64)
        b = np.array([term_total[t] for t in terms], np.float64) - a
        total_a = float(c.year_tokens[year])
        total_b = float(total - total_a)
        if not terms or not total_b:
            continue
        stat, p = g2(a, b, np.full(len(a), total_a), np.full(len(a), total_b))
        log_ratio = np.log2(((a + 0.5) / (total_a + 0.5)) / ((b + 0.5) / (total_b + 0.5)))
        sign = np.where(a / total_a >= b / total_b, 1.0, -1.0)
        rows["year"] += [year] * len(terms)
        rows["term"] += terms
        rows["count_target"] += a.astype(np.int64).tolist()
        rows["count_reference"] += b.astype(np.int64).tolist()
        rows["tokens_target"] += [int(total_a)] * len(terms)
        rows["tokens_reference"] += [int(total_b)] * len(terms)
        rows["g2"] += (sign * stat).tolist()
        rows["p_value"] += p.tolist()
        rows["log_ratio"] += log_ratio.tolist()
    table = schemas.table_from_columns(schemas.KEYNESS, rows)
    return table.sort_by([("year", "ascending"), ("g2", "descending"), ("term", "ascending")])
