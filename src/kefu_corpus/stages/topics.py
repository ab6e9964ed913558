"""The topics stage: topic models over passages (or documents), k chosen by coherence, prevalence per year.

Two engines behind one scikit-learn-style interface (parameters in ``__init__``, then ``fit`` and
``transform``): :class:`LdaTopics` (gensim LDA, the default) and :class:`NmfTopics` (scikit-learn NMF on
TF-IDF). Both are seeded, so the same tokens and config give the same topics.

Requires: ``tokens``, ``documents`` (``year``). Assigns: ``topics``, ``doc_topics``, ``topic_trends``,
``topic_model_selection``, and the chosen model in ``models/topics.pickle`` (see :func:`load_model`).

When ``topics.k`` is 0, a model is fitted for every k of ``topics.k_grid`` and the one with the highest
NPMI coherence (gensim's ``CoherenceModel``, on the modelled units themselves) is kept; the grid and its
scores are stored.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu_corpus.config import section_params
from kefu_corpus import schemas


@dataclass(frozen=True)
class TopicParams:
    """The ``topics.*`` configuration."""

    engine: str = "lda"
    unit: str = "passage"
    k: int = 0
    k_grid: tuple[int, ...] = (3, 5, 8, 10)
    min_df: int = 2
    max_df: float = 0.5
    min_chars: int = 2
    top_terms: int = 10
    passes: int = 10
    display_script: str = "simplified"
    seed: int = 20200101

    @classmethod
    def from_config(cls, config) -> TopicParams:
        return section_params(cls, config, "topics", min_chars=config["trends.min_chars"], seed=config["run.seed"])


class LdaTopics:
    """gensim LDA (batch variational Bayes, seeded)."""

    name = "lda"

    def __init__(self, k: int, *, passes: int = 10, seed: int = 0) -> None:
        self.k, self.passes, self.seed = k, passes, seed

    def fit(self, corpus: list, dictionary) -> LdaTopics:
        from gensim.models import LdaModel

        self.dictionary_ = dictionary
        self.model_ = LdaModel(corpus=corpus, id2word=dictionary, num_topics=self.k, passes=self.passes,
                               random_state=self.seed, alpha="symmetric", eta=None, update_every=0,
                               chunksize=max(len(corpus), 1), iterations=100)
        return self

    def transform(self, corpus: list) -> np.ndarray:
        out = np.zeros((len(corpus), self.k))
        for i, bow in enumerate(corpus):
            for topic, weight in self.model_.get_document_topics(bow, minimum_probability=0.0):
                out[i, topic] = weight
        return out

    def transform_tokens(self, texts: list[list[str]]) -> np.ndarray:
        """Topic weights of new units given as lists of canonical terms."""
        return self.transform([self.dictionary_.doc2bow(t) for t in texts])

    def top_terms(self, n: int) -> list[list[tuple[str, float]]]:
        return [[(self.dictionary_[t], float(w)) for t, w in self.model_.get_topic_terms(i, topn=n)]
                for i in range(self.k)]


class NmfTopics:
    """scikit-learn NMF on TF-IDF (NNDSVDA initialisation, seeded)."""

    name = "nmf"

    def __init__(self, k: int, *, seed: int = 0) -> None:
        self.k, self.seed = k, seed

    def fit(self, corpus: list, dictionary) -> NmfTopics:
        from sklearn.decomposition import NMF

        self.dictionary_ = dictionary
        self.model_ = NMF(n_components=self.k, init="nndsvda", random_state=self.seed, max_iter=500)
        self.model_.fit(self._tfidf(corpus, fit=True))
        return self

    def _tfidf(self, corpus: list, fit: bool = False):
        from gensim.matutils import corpus2csc
        from sklearn.feature_extraction.text import TfidfTransformer

        counts = corpus2csc(corpus, num_terms=len(self.dictionary_), num_docs=len(corpus)).T.tocsr()
        if fit:
            self.tfidf_ = TfidfTransformer().fit(counts)
        return self.tfidf_.transform(counts)

    def transform(self, corpus: list) -> np.ndarray:
        w = self.model_.transform(self._tfidf(corpus))
        total = w.sum(axis=1, keepdims=True)
        return np.divide(w, total, out=np.zeros_like(w), where=total > 0)

    def transform_tokens(self, texts: list[list[str]]) -> np.ndarray:
        """Topic weights of new units given as lists of canonical terms."""
        return self.transform([self.dictionary_.doc2bow(t) for t in texts])

    def top_terms(self, n: int) -> list[list[tuple[str, float]]]:
        out = []
        for row in self.model_.components_:
            top = np.argsort(-row, kind="stable")[:n]
            out.append([(self.dictionary_[int(t)], float(row[t] / row.sum())) for t in top])
        return out


def make_model(engine: str, k: int, params: TopicParams):
    return LdaTopics(k, passes=params.passes, seed=params.seed) if engine == "lda" else NmfTopics(k, seed=params.seed)


def units(tokens: pa.Table, params: TopicParams) -> tuple[list[str], list[str], list[list[str]]]:
    """The modelled units: (unit ids, their doc_ids, their terms), passages or documents in table order."""
    keep = pc.and_(pc.and_(pc.is_in(tokens.column("token_type").cast(pa.string()), value_set=pa.array(["word", "latin"])),
                           pc.invert(tokens.column("is_stopword"))),
                   pc.greater_equal(pc.utf8_length(tokens.column("token").cast(pa.string())), params.min_chars))
    t = tokens.filter(keep)
    key = "passage_id" if params.unit == "passage" else "doc_id"
    ids = t.column(key).cast(pa.string()).to_numpy(zero_copy_only=False)
    docs = t.column("doc_id").cast(pa.string()).to_numpy(zero_copy_only=False)
    words = t.column("token").cast(pa.string()).to_numpy(zero_copy_only=False)
    if not len(ids):
        return [], [], []
    cuts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    starts = np.r_[0, cuts]
    return ([str(ids[s]) for s in starts], [str(docs[s]) for s in starts],
            [list(chunk) for chunk in np.split(words, cuts)])


@dataclass
class TopicFit:
    """What the stage produces: its tables, and the chosen model (fitted, with its dictionary)."""

    tables: dict[str, pa.Table]
    model: LdaTopics | NmfTopics


def fit_topics(unit_ids: list[str], unit_docs: list[str], texts: list[list[str]], years: dict[str, int | None],
               params: TopicParams) -> TopicFit:
    """Every output table of the stage, and the chosen model, from the units' terms."""
    from gensim.corpora import Dictionary
    from gensim.models import CoherenceModel

    from kefu_corpus.text.convert import convert

    dictionary = Dictionary(texts)
    dictionary.filter_extremes(no_below=params.min_df, no_above=params.max_df, keep_n=None)
    corpus = [dictionary.doc2bow(t) for t in texts]
    grid = [params.k] if params.k else [k for k in params.k_grid if k < max(len(dictionary), 2)]
    selection: dict[str, list] = {name: [] for name in schemas.TOPIC_MODEL_SELECTION.schema.names}
    best, best_score = None, -np.inf
    for k in grid:
        model = make_model(params.engine, k, params).fit(corpus, dictionary)
        terms = [[w for w, _ in topic] for topic in model.top_terms(params.top_terms)]
        score = CoherenceModel(topics=terms, texts=texts, dictionary=dictionary, coherence="c_npmi",
                               processes=1).get_coherence()
        score = float(score) if np.isfinite(score) else float("nan")
        for name, value in (("model", params.engine), ("k", k), ("coherence", score), ("measure", "c_npmi")):
            selection[name].append(value)
        if best is None or score > best_score:
            best, best_score = model, score
    selection["chosen"] = [k == best.k for k in selection["k"]]

    display = "s2t" if params.display_script == "traditional" else None
    topics: dict[str, list] = {name: [] for name in schemas.TOPICS.schema.names}
    for topic_id, terms in enumerate(best.top_terms(params.top_terms)):
        for rank, (term, weight) in enumerate(terms):
            for name, value in (("model", params.engine), ("k", best.k), ("topic_id", topic_id), ("rank", rank),
                                ("term", term), ("term_display", convert(term, display).text if display else term),
                                ("weight", weight)):
                topics[name].append(value)

    weights = best.transform(corpus)
    n, k = weights.shape
    unit_years = np.array([years.get(d) for d in unit_docs], dtype=object)
    doc_topics = pa.table({
        "model": pa.array([params.engine] * (n * k), pa.string()),
        "unit": pa.array([params.unit] * (n * k), pa.string()),
        "unit_id": pa.array(np.repeat(np.array(unit_ids, dtype=object), k), pa.string()),
        "doc_id": pa.array(np.repeat(np.array(unit_docs, dtype=object), k), pa.string()),
        "year": pa.array(np.repeat(unit_years, k), pa.int16()),
        "topic_id": pa.array(np.tile(np.arange(k), n), pa.int32()),
        "weight": pa.array(weights.ravel(), pa.float32()),
    }, schema=schemas.DOC_TOPICS.schema)
    trends = doc_topics.group_by(["year", "topic_id"], use_threads=False).aggregate(
        [("weight", "mean"), ("unit_id", "count")])
    trend_table = pa.table({
        "model": pa.array([params.engine] * trends.num_rows, pa.string()),
        "year": trends.column("year"),
        "topic_id": trends.column("topic_id"),
        "mean_weight": trends.column("weight_mean").cast(pa.float64()),
        "n_units": trends.column("unit_id_count").cast(pa.int32()),
    }, schema=schemas.TOPIC_TRENDS.schema).sort_by([("year", "ascending"), ("topic_id", "ascending")])
    return TopicFit(tables={"topics": schemas.table_from_columns(schemas.TOPICS, topics), "doc_topics": doc_topics,
                            "topic_trends": trend_table,
                            "topic_model_selection": schemas.table_from_columns(schemas.TOPIC_MODEL_SELECTION,
                                                                                 selection)},
                    model=best)


#: Where a run keeps its chosen topic model, relative to the output folder.
MODEL_FILE = "models/topics.pickle"


def save_model(model: LdaTopics | NmfTopics, path: Path) -> dict[str, str | int]:
    """Write the fitted ``model`` (with its dictionary) to ``path``; returns its manifest entry (without
    the file's hash, which the caller takes once the file is in place)."""
    with path.open("wb") as fh:
        pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return {"file": MODEL_FILE, "engine": model.name, "k": model.k}


def load_model(out: Path) -> LdaTopics | NmfTopics:
    """The topic model of the run in ``out``, ready for :meth:`transform_tokens`.

    The file is a pickle, so it is only read when the run's manifest lists it and its SHA-256 matches
    the manifest: a model file copied in from elsewhere, or changed since the run, is refused.
    """
    from kefu_corpus.errors import KefuError
    from kefu_corpus.store import file_sha256, read_manifest

    entry = read_manifest(out).get("stages", {}).get("topics", {}).get("model")
    if not entry:
        raise KefuError(f"The run in {out} saved no topic model.", hint="run `kefu topics` on it first")
    path = (out / entry["file"]).resolve()
    if out.resolve() not in path.parents or not path.is_file():
        raise KefuError(f"The topic model {path} listed in {out}'s manifest is missing.",
                        hint="rerun `kefu topics` on the output folder")
    if file_sha256(path) != entry.get("sha256"):
        raise KefuError(f"{path} does not match the SHA-256 in {out}'s manifest; it is not the model that run "
                        "saved, and it is not loaded.", hint="rerun `kefu topics` on the output folder")
    with path.open("rb") as fh:
        return pickle.load(fh)
