"""Trends and keyness: statistics against hand computation, the seeds' years, KWIC in both scripts."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from kefu_corpus.analysis import kwic
from kefu_corpus.cli import app
from kefu_corpus.stages.trends import TrendParams
from kefu_corpus.transforms.trends import count_terms, g2, keyness, linear_trends, merge_counts, term_trends

from conftest import read


def g2_by_hand(a, b, ta, tb):
    """Dunning's log-likelihood for a term seen a times in ta tokens and b times in tb tokens."""
    n = ta + tb
    cells = [(a, ta * (a + b) / n), (ta - a, ta * (n - a - b) / n), (b, tb * (a + b) / n),
             (tb - b, tb * (n - a - b) / n)]
    return 2 * sum(o * math.log(o / e) for o, e in cells if o)


def test_g2_matches_the_textbook_formula():
    a, b, ta, tb = np.array([10.0, 0.0, 3.0]), np.array([5.0, 7.0, 30.0]), np.full(3, 100.0), np.full(3, 200.0)
    stat, p = g2(a, b, ta, tb)
    for i in range(3):
        assert stat[i] == pytest.approx(g2_by_hand(a[i], b[i], ta[i], tb[i]), rel=1e-9)
    assert p[0] < 0.01 and 0 < p[2] <= 1


TINY_ROWS = [("d1", 2020, "客服", "word", False), ("d1", 2020, "客服", "word", False), ("d1", 2020, "的", "word", True),
             ("d1", 2020, "转型", "word", False), ("d1", 2020, "，", "punctuation", True),
             ("d2", 2021, "客服", "word", False), ("d2", 2021, "转型", "word", False), ("d2", 2021, "转型", "word", False),
             ("d2", 2021, "AI", "latin", False),
             ("d3", None, "客服", "word", False)]
TINY_DOCS = {2020: 1, 2021: 1, -1: 1}


def tokens(rows):
    names = ["doc_id", "year", "token", "token_type", "is_stopword"]
    return pa.table({name: [r[i] for r in rows] for i, name in enumerate(names)},
                    schema=pa.schema([("doc_id", pa.string()), ("year", pa.int16()), ("token", pa.string()),
                                      ("token_type", pa.string()), ("is_stopword", pa.bool_())]))


def tiny():
    """Three documents: 2020, 2021, undated. Words counted by hand below."""
    counts = count_terms(tokens(TINY_ROWS), TrendParams(min_chars=2, min_count=1))
    counts.year_docs = TINY_DOCS
    return counts


def test_counts_of_batches_of_whole_documents_merge_into_the_counts_of_the_whole():
    params = TrendParams(min_chars=2, min_count=1)
    whole = tiny()
    parts = [count_terms(tokens([r for r in TINY_ROWS if r[0] in docs]), params) for docs in (("d1",), ("d2", "d3"))]
    merged = merge_counts(parts)
    merged.year_docs = TINY_DOCS
    assert merged.terms.equals(merge_counts([whole]).terms)
    assert merged.year_tokens == whole.year_tokens and merged.documents == whole.documents == 3
    assert term_trends(merged, params).equals(term_trends(whole, params))
    assert keyness(merged, params).equals(keyness(whole, params))


def test_trend_slopes_and_p_values_match_scipy_linregress():
    from scipy import stats

    rng = np.random.default_rng(7)
    x = np.array([2019.0, 2020.0, 2021.0, 2023.0])
    y = np.vstack([rng.poisson(20, size=(30, 4)).astype(float), [[1, 2, 3, 5], [5, 5, 5, 5], [0, 0, 0, 0]]])
    slope, p = linear_trends(x, y)
    for i, row in enumerate(y):
        fit = stats.linregress(x, row)
        assert slope[i] == pytest.approx(fit.slope, rel=1e-9, abs=1e-12)
        assert p[i] == pytest.approx(fit.pvalue, rel=1e-7, abs=1e-12, nan_ok=True)


def test_rates_and_counts_per_year_by_hand():
    c = tiny()
    # Running tokens (word + latin, stopwords included): 2020 has 4, 2021 has 4, undated 1.
    assert c.year_tokens == {2020: 4, 2021: 4, -1: 1}
    rows = term_trends(c, TrendParams(min_chars=2, min_count=1)).to_pylist()
    kefu = {r["year"]: r for r in rows if r["term"] == "客服"}
    assert kefu[2020]["count"] == 2 and kefu[2020]["rate_per_10k"] == pytest.approx(5000.0)
    assert kefu[2021]["rate_per_10k"] == pytest.approx(2500.0) and kefu[None]["count"] == 1
    assert kefu[2020]["slope"] == pytest.approx(-2500.0)  # two dated years: the line through both
    assert kefu[2020]["p_value"] is None and kefu[2020]["evidence"] == "thin"
    assert "的" not in {r["term"] for r in rows}


def test_keyness_sign_and_effect_size():
    c = tiny()
    rows = {(r["year"], r["term"]): r for r in keyness(c, TrendParams(min_chars=2, min_count=1)).to_pylist()}
    up, down = rows[(2021, "转型")], rows[(2020, "转型")]
    assert up["count_target"] == 2 and up["count_reference"] == 1 and up["tokens_reference"] == 5
    assert up["g2"] > 0 and up["log_ratio"] > 0
    assert down["g2"] < 0 and down["log_ratio"] < 0
    assert abs(up["g2"]) == pytest.approx(g2_by_hand(2, 1, 4, 5))


def test_seeds_report_every_year_and_the_undated_article(seed_run):
    out, _ = seed_run
    rows = read(out, "term_trends")
    assert {r["year"] for r in rows} == {2020, 2021, 2023, None}
    assert {r["evidence"] for r in rows} == {"thin"}  # one or two documents a year: said in the data
    key = [r for r in read(out, "keyness") if r["year"] == 2023]
    top = [r["term"] for r in sorted(key, key=lambda r: -r["g2"])[:10]]
    assert "数字化" in top


def test_kwic_finds_a_word_in_either_script_and_shows_the_original(seed_run):
    out, _ = seed_run
    simplified = kwic(out, "数字化", window=6)
    traditional = kwic(out, "數字化", window=6)
    assert simplified == traditional and len(simplified) >= 3
    shown = {h["match"] for h in simplified}
    assert shown == {"数字化", "數字化"}  # Simplified articles and the Traditional 003
    result = CliRunner().invoke(app, ["kwic", "客戶服務", str(out)])
    assert result.exit_code == 0 and "[客户服务]" in result.output and "[客戶服務]" in result.output
