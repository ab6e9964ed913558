"""Topic models: coherence-based k, determinism however the corpus is cut, prevalence per year, both
display scripts, every engine, the saved model, and coherence against gensim's."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from kefu_corpus.errors import KefuError
from kefu_corpus.stages.topics import TopicParams
from kefu_corpus.transforms.topics import MODEL_FILE, COLUMNS, fit_topics, load_model, run_topics
from kefu_corpus.terms import term_mask
from kefu_corpus.text.convert import convert
from kefu_corpus.topicmodels.coherence import npmi
from kefu_corpus.topicmodels.corpus import UnitCorpus, stable_hash, units_from_terms
from kefu_corpus.topicmodels.model import TopicModel

from conftest import read


@pytest.fixture(scope="module")
def seed_tokens(seed_run):
    out, _ = seed_run
    return pq.read_table(out / "tokens.parquet", columns=COLUMNS)


def by_documents(tokens: pa.Table, n: int) -> list[pa.Table]:
    """``tokens`` cut into ``n`` batches of whole documents."""
    docs = pc.unique(tokens.column("doc_id").cast(pa.string())).to_pylist()
    groups = np.array_split(np.arange(len(docs)), n)
    return [tokens.filter(pc.is_in(tokens.column("doc_id").cast(pa.string()), pa.array([docs[i] for i in g])))
            for g in groups if len(g)]


def collect(sources, params):
    from kefu_corpus.executor import SerialExecutor
    from kefu_corpus.progress import NoProgress

    out: dict[str, list] = {}
    result = run_topics(sources, params, SerialExecutor(), lambda name, t: out.setdefault(name, []).append(t),
                        NoProgress(), merge_rows=10)
    return {name: pa.concat_tables(parts) for name, parts in out.items()}, result


def test_the_run_keeps_the_most_coherent_k_and_stores_the_grid(seed_run):
    out, _ = seed_run
    grid = read(out, "topic_model_selection")
    assert sorted(r["k"] for r in grid) == [3, 5, 8, 10]
    assert {r["model"] for r in grid} == {"tomotopy"}
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
    weights = read(out, "doc_topics")
    for year in (2020, None):
        rows = [r for r in trends if r["year"] == year]
        units = {r["unit_id"] for r in weights if r["year"] == year}
        assert rows[0]["n_units"] == len(units)
        mean = np.mean([r["weight"] for r in weights if r["year"] == year and r["topic_id"] == 0])
        assert rows[0]["mean_weight"] == pytest.approx(mean, abs=1e-6)


@pytest.mark.parametrize("engine", ["tomotopy", "lda", "nmf"])
def test_tables_do_not_depend_on_how_the_corpus_is_cut_into_batches(seed_tokens, engine):
    params = TopicParams(engine=engine, k_grid=(3, 4), passes=2, iterations=50)
    whole, _ = collect([seed_tokens], params)
    cut, result = collect(by_documents(seed_tokens, 3), params)
    assert set(whole) == {"topics", "doc_topics", "topic_trends", "topic_model_selection"}
    for name in whole:
        assert whole[name].equals(cut[name]), name
    assert result.model.engine == engine


def test_a_sample_smaller_than_the_corpus_chooses_k_and_every_unit_gets_weights(seed_tokens):
    params = TopicParams(k=4, sample=60, iterations=50)
    tables, result = collect(by_documents(seed_tokens, 2), params)
    assert result.info["sample_units"] == 60 and result.info["units"] > 60
    assert result.info["fitted_on"] == "sample"
    assert len(set(tables["doc_topics"].column("unit_id").to_pylist())) == result.info["units"]
    again, _ = collect([seed_tokens], params)  # the same sample, whatever the batches
    assert again["doc_topics"].equals(tables["doc_topics"])
    everything, result_all = collect([seed_tokens], TopicParams(k=4, sample=60, iterations=50, fit="all"))
    assert result_all.info["fitted_on"] == "all" and everything["doc_topics"].num_rows == tables["doc_topics"].num_rows


def test_whole_documents_can_be_the_units(seed_tokens):
    fitted = fit_topics(seed_tokens, TopicParams(k=3, unit="document", iterations=50))
    rows = fitted.tables["doc_topics"].to_pylist()
    assert {r["unit"] for r in rows} == {"document"} and len({r["unit_id"] for r in rows}) == 5
    assert all(r["unit_id"] == r["doc_id"] for r in rows)


def test_terms_are_displayed_in_the_script_asked_for(seed_tokens):
    simplified = fit_topics(seed_tokens, TopicParams(engine="nmf", k=3)).tables["topics"].to_pylist()
    traditional = fit_topics(seed_tokens, TopicParams(engine="nmf", k=3,
                                                      display_script="traditional")).tables["topics"].to_pylist()
    assert [r["term"] for r in simplified] == [r["term"] for r in traditional]
    assert all(r["term_display"] == r["term"] for r in simplified)
    assert all(r["term_display"] == convert(r["term"], "s2t").text for r in traditional)
    assert any(r["term_display"] != r["term"] for r in traditional)


def test_the_saved_model_reloads_and_reproduces_the_runs_weights_exactly(seed_run, seed_tokens):
    out, _ = seed_run
    model = load_model(out)
    assert model.k == next(r["k"] for r in read(out, "topic_model_selection") if r["chosen"])
    terms = seed_tokens.filter(term_mask(seed_tokens, 2))
    units = units_from_terms(terms, "passage_id", model.vocabulary)
    texts = [model.vocabulary.take(pa.array(units.term_ids[a:b])).to_pylist()
             for a, b in zip(units.offsets[:5], units.offsets[1:6])]
    weights = model.transform_tokens(texts).astype(np.float32)
    stored = read(out, "doc_topics")
    for unit, row in zip(units.unit_ids.to_pylist()[:5], weights):
        expected = [r["weight"] for r in sorted((r for r in stored if r["unit_id"] == unit), key=lambda r: r["topic_id"])]
        assert expected == row.tolist()  # inference is deterministic: bit for bit


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


def test_a_model_file_never_unpickles(tmp_path):
    """A crafted archive with a pickled object array is refused, not executed."""
    import pickle
    import zipfile

    class Boom:
        def __reduce__(self):
            return (print, ("pickle ran",))

    path = tmp_path / "model.npz"
    with zipfile.ZipFile(path, "w") as archive:
        buffer = __import__("io").BytesIO()
        np.lib.format.write_array(buffer, np.array([Boom()], dtype=object), allow_pickle=True)
        archive.writestr("header.npy", buffer.getvalue())
        archive.writestr("payload.pkl", pickle.dumps(Boom()))
    with pytest.raises(ValueError):
        TopicModel.load(path)


def test_the_same_model_is_saved_as_the_same_bytes(tmp_path, seed_tokens):
    fitted = fit_topics(seed_tokens, TopicParams(k=3, iterations=30))
    fitted.model.save(tmp_path / "a.npz")
    fitted.model.save(tmp_path / "b.npz")
    again = TopicModel.load(tmp_path / "a.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert np.array_equal(again.topic_term, fitted.model.topic_term) and again.vocabulary.equals(fitted.model.vocabulary)


def corpus_of(texts: list[list[str]]) -> UnitCorpus:
    vocabulary = pa.array(sorted({w for t in texts for w in t}), pa.string())
    flat = pa.array([w for t in texts for w in t], pa.string())
    return UnitCorpus(vocabulary, pa.array([str(i) for i in range(len(texts))]), pa.array(["d"] * len(texts)),
                      pa.nulls(len(texts), pa.int16()), np.r_[0, np.cumsum([len(t) for t in texts])].astype(np.int64),
                      pc.index_in(flat, value_set=vocabulary).to_numpy().astype(np.int32))


def test_npmi_counts_windows_by_hand():
    # Window 3 over a b c a (two windows: abc, bca) and d a (one window): a in 3 windows, b in 2, c in 2,
    # d in 1; ab together in 2, ad in 1.
    corpus = corpus_of([list("abca"), list("da")])
    ids = {w: i for i, w in enumerate(corpus.vocabulary.to_pylist())}
    got = npmi(corpus, [[ids["a"], ids["b"]], [ids["a"], ids["d"]]], window=3)
    n = 3.0
    expected_ab = np.log((2 / n + 1e-12) / ((3 / n) * (2 / n))) / -np.log(2 / n + 1e-12)
    expected_ad = np.log((1 / n + 1e-12) / ((3 / n) * (1 / n))) / -np.log(1 / n + 1e-12)
    assert got == pytest.approx([expected_ab, expected_ad], rel=1e-12)


def test_npmi_equals_gensims_where_no_term_repeats_inside_a_window():
    """gensim's sliding accumulator is exact when no window holds a term twice; then the two agree."""
    from gensim.corpora import Dictionary
    from gensim.models import CoherenceModel

    rng = np.random.default_rng(3)
    words = [f"w{i:02d}" for i in range(40)]
    texts = [list(rng.permutation(words)[:rng.integers(5, 30)]) for _ in range(60)]
    corpus = corpus_of(texts)
    topics = [list(rng.choice(words, 6, replace=False)) for _ in range(4)]
    ids = [pc.index_in(pa.array(t), value_set=corpus.vocabulary).to_numpy() for t in topics]
    ours = npmi(corpus, ids)
    theirs = CoherenceModel(topics=topics, texts=texts, dictionary=Dictionary(texts), coherence="c_npmi",
                            processes=1).get_coherence_per_topic()
    assert ours == pytest.approx(theirs, abs=1e-9)


def test_the_sample_hash_depends_only_on_the_id_and_the_seed():
    ids = pa.array(["a", "bb", "", "客服-00001", "a"])
    h = stable_hash(ids, 7)
    assert h[0] == h[4] and len(set(h.tolist())) == 4
    assert np.array_equal(stable_hash(ids.slice(1, 3), 7), h[1:4])
    assert not np.array_equal(stable_hash(ids, 8), h)


def test_a_table_read_from_several_row_groups_is_modelled_like_one(seed_tokens):
    # Parquet written in row groups reads back with one dictionary per group; fit_topics on such a
    # table (as a notebook reads tokens.parquet) must not trip over the differing dictionaries.
    params = TopicParams(k_grid=(3,), iterations=30)
    half = seed_tokens.num_rows // 2
    chunked = pa.concat_tables([seed_tokens.slice(0, half).unify_dictionaries(),
                                pa.table(seed_tokens.slice(half).combine_chunks().to_pydict(),
                                         schema=seed_tokens.schema)])
    assert chunked.column("token").num_chunks == 2
    whole, chunks = fit_topics(seed_tokens.combine_chunks(), params), fit_topics(chunked, params)
    for name, table in whole.tables.items():
        assert table.equals(chunks.tables[name]), name
