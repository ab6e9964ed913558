"""Topic models: coherence-based k, determinism, prevalence per year, both display scripts, both engines."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from kefu_corpus.errors import KefuError
from kefu_corpus.stages.topics import MODEL_FILE, TopicParams, fit_topics, load_model, units
from kefu_corpus.text.convert import convert

from conftest import read


@pytest.fixture(scope="module")
def seed_units(seed_run):
    out, _ = seed_run
    tokens = pq.read_table(out / "tokens.parquet")
    docs = read(out, "documents")
    return units(tokens, TopicParams()), {d["doc_id"]: d["year"] for d in docs}


def test_the_run_keeps_the_most_coherent_k_and_stores_the_grid(seed_run):
    out, _ = seed_run
    grid = read(out, "topic_model_selection")
    assert sorted(r["k"] for r in grid) == [3, 5, 8, 10]
    chosen = [r for r in grid if r["chosen"]]
    assert len(chosen) == 1 and chosen[0]["coherence"] == max(r["coherence"] for r in grid)
    topics = read(out, "topics")
    assert {r["k"] for r in topics} == {chosen[0]["k"]}
    assert len({r["topic_id"] for r in topics}) == chosen[0]["k"]


def test_prevalence_per_year_reports_the_undated_article(seed_run):
    out, _ = seed_run
    trends = read(out, "topic_trends")
    assert {r["year"] for r in trends} == {2020, 2021, 2023, None}
    for year in {r["year"] for r in trends}:
        assert sum(r["mean_weight"] for r in trends if r["year"] == year) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("engine", ["lda", "nmf"])
def test_the_same_seed_gives_the_same_topics(seed_units, engine):
    (ids, docs, texts), years = seed_units
    params = TopicParams(engine=engine, k=4)
    first, second = fit_topics(ids, docs, texts, years, params).tables, fit_topics(ids, docs, texts, years, params).tables
    for name in first:
        assert first[name].equals(second[name]), name


def test_terms_are_displayed_in_the_script_asked_for(seed_units):
    (ids, docs, texts), years = seed_units
    simplified = fit_topics(ids, docs, texts, years, TopicParams(engine="nmf", k=3)).tables["topics"].to_pylist()
    traditional = fit_topics(ids, docs, texts, years, TopicParams(engine="nmf", k=3,
                                                                  display_script="traditional")).tables["topics"].to_pylist()
    assert [r["term"] for r in simplified] == [r["term"] for r in traditional]
    assert all(r["term_display"] == r["term"] for r in simplified)
    assert all(r["term_display"] == convert(r["term"], "s2t").text for r in traditional)
    assert any(r["term_display"] != r["term"] for r in traditional)


def test_the_saved_model_reloads_from_the_run_and_reproduces_its_weights(seed_run, seed_units):
    out, _ = seed_run
    (ids, docs, texts), _ = seed_units
    model = load_model(out)
    stored = read(out, "doc_topics")
    k = read(out, "topic_model_selection")
    assert model.k == next(r["k"] for r in k if r["chosen"])
    weights = model.transform_tokens(texts[:5])
    for unit, row in zip(ids[:5], weights):
        expected = sorted((r["topic_id"], r["weight"]) for r in stored if r["unit_id"] == unit)
        # LDA inference starts from a random draw of the model's random state, which the run advanced.
        assert [w for _, w in expected] == pytest.approx(row.tolist(), abs=1e-3)


def test_a_model_file_that_does_not_match_the_manifest_is_refused(seed_run, tmp_path):
    import shutil

    out, _ = seed_run
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    with open(copy / MODEL_FILE, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(KefuError, match="SHA-256"):
        load_model(copy)
    (copy / "manifest.json").unlink()
    with pytest.raises(KefuError, match="manifest"):
        load_model(copy)
