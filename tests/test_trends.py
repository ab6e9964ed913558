"""Trends and keyness: statistics against hand computation, the seeds' years, KWIC in both scripts."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from kefu_corpus.analysis import kwic
from kefu_corpus.cli import app
from kefu_corpus.stages.trends import TrendParams, count_terms, g2, keyness, term_trends

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


def tiny():
    """Three documents: 2020 (二), 2021, undated. Words counted by hand below."""
    rows = [("d1", "客服", "word", False), ("d1", "客服", "word", False), ("d1", "的", "word", True),
            ("d1", "转型", "word", False), ("d1", "，", "punctuation", True),
            ("d2", "客服", "word", False), ("d2", "转型", "word", False), ("d2", "转型", "word", False),
            ("d2", "AI", "latin", False),
            ("d3", "客服", "word", False)]
    table = pa.table({name: [r[i] for r in rows] for i, name in enumerate(["doc_id", "token", "token_type", "is_stopword"])})
    return count_terms(table, {"d1": 2020, "d2": 2021, "d3": None}, TrendParams(min_chars=2, min_count=1))


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
