"""The topics stage: topic models over passages (or documents), k chosen by coherence, prevalence per year.

The stage streams ``tokens`` in four passes, none of which holds more than one batch of tokens:

1. **vocabulary**: per batch, the units each term occurs in, and the batch's candidates for the sample
   (the units with the lowest hash of their id and ``run.seed``); merged into the vocabulary
   (``topics.min_df``, ``topics.max_df``) and a deterministic sample of ``topics.sample`` units;
2. **sample**: the sample's terms, as a compact :class:`~kefu_corpus.topicmodels.corpus.UnitCorpus`;
3. **k grid**: one model per candidate k, fitted on the sample in parallel across workers, each on
   ``topics.threads`` threads; the one with the highest NPMI coherence on the sample is kept
   (:mod:`kefu_corpus.topicmodels.coherence`). With ``topics.fit = "all"`` the chosen k is fitted
   again on every unit;
4. **weights**: every unit's topic weights, inferred batch by batch through the executor, written to
   ``doc_topics`` and summed per year into ``topic_trends``.

Every pass's result depends only on the corpus and the configuration, never on the batch size or the
number of workers: the tables are the same bytes with one worker or many.

Requires: ``tokens`` (with ``year``). Assigns: ``topics``, ``doc_topics``, ``topic_trends``,
``topic_model_selection``, and the chosen model in ``models/topics.npz`` (see :func:`load_model`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu_corpus import schemas
from kefu_corpus.partials import merge_as_they_come
from kefu_corpus.slices import Slice, tokens_of
from kefu_corpus.terms import term_mask
from kefu_corpus.topicmodels.coherence import npmi
from kefu_corpus.topicmodels.corpus import UnitCorpus, stable_hash, units_from_terms
from kefu_corpus.topicmodels.engines import fit
from kefu_corpus.topicmodels.model import TopicModel
from kefu_corpus.years import UNDATED

if TYPE_CHECKING:
    from kefu_corpus.stages.topics import TopicParams

#: Columns of ``tokens`` the stage reads.
COLUMNS = ["doc_id", "passage_id", "year", "token", "token_type", "is_stopword"]
#: Where a run keeps its chosen topic model, relative to the output folder.
MODEL_FILE = "models/topics.npz"
#: Topic weights are summed per year in fixed point (integers add up in any order): 2**-32 per unit.
_FIXED = float(2 ** 32)


def _terms(source: Slice | pa.Table, params: TopicParams) -> pa.Table:
    tokens = tokens_of(source, COLUMNS)
    return tokens.filter(term_mask(tokens, params.min_chars))


# -- pass 1: vocabulary and sample candidates ---------------------------------------------------------------


@dataclass
class UnitStats:
    """Units per term, units and terms counted, and the units with the lowest hashes (the sample's
    candidates) of a batch or, merged, of the corpus."""

    term_units: pa.Table  # term, units
    units: int
    terms: int
    candidates: pa.Table  # unit_id, hash


_TERM_UNITS = pa.schema([("term", pa.string()), ("units", pa.int64())])
_CANDIDATES = pa.schema([("unit_id", pa.string()), ("hash", pa.uint64())])


def _lowest(candidates: pa.Table, n: int) -> pa.Table:
    return candidates.sort_by([("hash", "ascending"), ("unit_id", "ascending")]).slice(0, n)


def unit_stats(source: Slice | pa.Table, params: TopicParams) -> UnitStats:
    """Pass 1 over one batch of whole documents."""
    terms = _terms(source, params)
    grouped = terms.group_by("token", use_threads=False).aggregate([(params.key, "count_distinct")])
    term_units = pa.table({"term": grouped.column("token").cast(pa.string()),
                           "units": grouped.column(f"{params.key}_count_distinct")}, schema=_TERM_UNITS)
    units = pc.unique(terms.column(params.key).cast(pa.string())) if terms.num_rows else pa.array([], pa.string())
    candidates = pa.table({"unit_id": units, "hash": pa.array(stable_hash(units, params.seed), pa.uint64())},
                          schema=_CANDIDATES)
    return UnitStats(term_units, len(units), terms.num_rows, _lowest(candidates, params.sample))


def merge_unit_stats(parts: list[UnitStats], sample: int) -> UnitStats:
    """One :class:`UnitStats` from those of disjoint batches."""
    if not parts:
        return UnitStats(_TERM_UNITS.empty_table(), 0, 0, _CANDIDATES.empty_table())
    grouped = pa.concat_tables([p.term_units for p in parts]).group_by("term", use_threads=False).aggregate(
        [("units", "sum")])
    term_units = pa.table({"term": grouped.column("term"), "units": grouped.column("units_sum")}, schema=_TERM_UNITS)
    return UnitStats(term_units, sum(p.units for p in parts), sum(p.terms for p in parts),
                     _lowest(pa.concat_tables([p.candidates for p in parts]), sample))


def vocabulary(stats: UnitStats, params: TopicParams) -> pa.Array:
    """The modelled terms, sorted: in at least ``min_df`` units and at most ``max_df`` of them."""
    units = stats.term_units.column("units")
    keep = pc.and_(pc.greater_equal(units, params.min_df), pc.less_equal(units, params.max_df * stats.units))
    return stats.term_units.column("term").filter(keep).combine_chunks().sort()


# -- pass 2: the sample ----------------------------------------------------------------------------------------


def sample_units(source: Slice | pa.Table, chosen: tuple[pa.Array, pa.Array | None], params: TopicParams) -> UnitCorpus:
    """Pass 2 over one batch: the units of the sample (all units when the id set is None), their terms
    coded into the vocabulary. ``chosen`` is ``(vocabulary, unit ids)``."""
    words, ids = chosen
    terms = _terms(source, params)
    if ids is not None:
        terms = terms.filter(pc.is_in(terms.column(params.key).cast(pa.string()), value_set=ids))
    return units_from_terms(terms, params.key, words)


# -- pass 3: the k grid ---------------------------------------------------------------------------------------


@dataclass
class Candidate:
    """One fitted candidate: its model and its NPMI coherence on the sample."""

    k: int
    model: TopicModel
    coherence: float
    per_topic: list[float] = field(default_factory=list)


def fit_candidate(k: int, sample: UnitCorpus, params: TopicParams) -> Candidate:
    """A model with ``k`` topics fitted on ``sample``, scored by NPMI coherence on it."""
    model = fit(sample, k, params.settings())
    top = [[t for t, _ in topic] for topic in model.top_terms(params.top_terms)]
    ids = [pc.index_in(pa.array(t, pa.string()), value_set=sample.vocabulary).to_numpy() for t in top]
    scores = npmi(sample, ids)
    score = float(np.mean(scores)) if scores and np.all(np.isfinite(scores)) else float("nan")
    return Candidate(k, model, score, scores)


def grid(params: TopicParams, vocabulary_size: int) -> list[int]:
    """The candidate numbers of topics: ``topics.k``, or the grid's values below the vocabulary size."""
    return [params.k] if params.k else [k for k in params.k_grid if k < max(vocabulary_size, 2)]


def choose(candidates: list[Candidate]) -> Candidate:
    """The most coherent candidate (the first of the grid on a tie; NaN scores lose)."""
    best = candidates[0]
    for c in candidates[1:]:
        if np.isfinite(c.coherence) and (not np.isfinite(best.coherence) or c.coherence > best.coherence):
            best = c
    return best


# -- pass 4: weights ------------------------------------------------------------------------------------------


@dataclass
class YearSums:
    """Topic weights summed per year in fixed point, and the units behind each sum."""

    sums: dict[int, np.ndarray] = field(default_factory=dict)
    units: dict[int, int] = field(default_factory=dict)

    def add(self, other: YearSums) -> None:
        for year, values in other.sums.items():
            self.sums[year] = self.sums.get(year, 0) + values
            self.units[year] = self.units.get(year, 0) + other.units[year]


def unit_weights(source: Slice | pa.Table, model: TopicModel, params: TopicParams) -> tuple[pa.Table, YearSums]:
    """Pass 4 over one batch: rows of ``doc_topics`` for its units, and their weights summed per year."""
    corpus = units_from_terms(_terms(source, params), params.key, model.vocabulary)
    weights = model.transform(corpus.counts()).astype(np.float32)
    n, k = weights.shape
    at = pa.array(np.repeat(np.arange(n), k))
    doc_topics = pa.table({
        "model": pa.array([model.engine] * (n * k), pa.string()),
        "unit": pa.array([params.unit] * (n * k), pa.string()),
        "unit_id": corpus.unit_ids.take(at), "doc_id": corpus.doc_ids.take(at), "year": corpus.years.take(at),
        "topic_id": pa.array(np.tile(np.arange(k), n), pa.int32()),
        "weight": pa.array(weights.ravel(), pa.float32()),
    }, schema=schemas.DOC_TOPICS.schema)
    years = pc.fill_null(corpus.years.cast(pa.int32()), UNDATED).to_numpy()
    fixed = np.rint(weights.astype(np.float64) * _FIXED).astype(np.int64)
    sums = YearSums()
    for year in np.unique(years).tolist():
        rows = years == year
        sums.sums[year] = fixed[rows].sum(axis=0)
        sums.units[year] = int(rows.sum())
    return doc_topics, sums


# -- tables ---------------------------------------------------------------------------------------------------


def topic_trends(sums: YearSums, engine: str) -> pa.Table:
    """``topic_trends`` from the summed weights: mean weight per year and topic, undated first."""
    rows: dict[str, list] = {name: [] for name in schemas.TOPIC_TRENDS.schema.names}
    for year in sorted(sums.sums):
        values = sums.sums[year]
        for topic, total in enumerate(values.tolist()):
            rows["model"].append(engine)
            rows["year"].append(None if year == UNDATED else year)
            rows["topic_id"].append(topic)
            rows["mean_weight"].append(total / _FIXED / sums.units[year])
            rows["n_units"].append(sums.units[year])
    return schemas.table_from_columns(schemas.TOPIC_TRENDS, rows)


def topics_table(model: TopicModel, params: TopicParams, forms: dict[str, str] | None = None) -> pa.Table:
    """``topics``: each topic's top terms, in the canonical script and the display script: as the corpus
    writes them there (``forms``, ``{term: form}``), else converted."""
    from kefu_corpus.text.convert import convert

    forms = forms or {}
    display = "s2t" if params.display_script == "traditional" else None
    rows: dict[str, list] = {name: [] for name in schemas.TOPICS.schema.names}
    for topic_id, terms in enumerate(model.top_terms(params.top_terms)):
        for rank, (term, weight) in enumerate(terms):
            for name, value in (("model", model.engine), ("k", model.k), ("topic_id", topic_id), ("rank", rank),
                                ("term", term), ("term_display", forms.get(term) or (convert(term, display).text if display else term)),
                                ("weight", weight)):
                rows[name].append(value)
    return schemas.table_from_columns(schemas.TOPICS, rows)


def selection_table(candidates: list[Candidate], chosen: Candidate, engine: str) -> pa.Table:
    """``topic_model_selection``: every candidate k, its coherence, and which was kept."""
    return schemas.table_from_columns(schemas.TOPIC_MODEL_SELECTION, {
        "model": [engine] * len(candidates), "k": [c.k for c in candidates],
        "coherence": [c.coherence for c in candidates], "measure": ["c_npmi"] * len(candidates),
        "chosen": [c is chosen for c in candidates]})


# -- the stage ------------------------------------------------------------------------------------------------


@dataclass
class TopicsResult:
    """What the stage did: the chosen model (None when there was nothing to model) and its figures."""

    model: TopicModel | None
    info: dict[str, Any]


def run_topics(sources: list[Slice | pa.Table], params: TopicParams, executor, write: Callable[[str, pa.Table], None],
               progress, *, merge_rows: int = 1_000_000, sample_terms: int | None = None,
               forms: dict[str, str] | None = None) -> TopicsResult:
    """The whole stage over batches of whole documents (slices of ``tokens.parquet``, or tables), each
    pass through ``executor``; every output row goes to ``write(table_name, table)``.

    ``merge_rows`` bounds the partial counts held before a merge; ``sample_terms`` the terms of the
    sample (a larger sample is cut to its lowest hashes, and the cut is reported).
    """
    progress.start("topics: vocabulary", len(sources))
    stats = merge_as_they_come(executor.map(partial(unit_stats, params=params), sources),
                               partial(merge_unit_stats, sample=params.sample), lambda s: s.term_units.num_rows,
                               merge_rows, progress)
    progress.finish()
    words = vocabulary(stats, params)
    info: dict[str, Any] = {"engine": params.engine, "unit": params.unit, "units": stats.units,
                            "vocabulary": len(words), "threads_per_fit": params.threads}
    if not stats.units or not len(words):
        return TopicsResult(None, {**info, "k": None})
    n_sample = min(params.sample, stats.units)
    if sample_terms and stats.terms and n_sample * stats.terms / stats.units > sample_terms:
        n_sample = max(1, int(sample_terms * stats.units / stats.terms))
        info["sample_cut_by_memory"] = True
    everything = n_sample >= stats.units
    ids = None if everything else stats.candidates.column("unit_id").slice(0, n_sample).combine_chunks()
    progress.start("topics: sample", len(sources))
    parts = []
    for part in executor.map(partial(sample_units, params=params), sources, shared=(words, ids)):
        parts.append(part)
        progress.advance(1)
    progress.finish()
    sample = UnitCorpus.concat(parts, words)
    sample = sample.with_vocabulary(words.take(pa.array(np.unique(sample.term_ids))))  # the terms it uses
    ks = grid(params, len(sample.vocabulary))
    progress.start("topics: k grid", len(ks))
    candidates = []
    for candidate in executor.map(partial(fit_candidate, params=params), ks, shared=sample):
        candidates.append(candidate)
        progress.advance(1)
    progress.finish()
    chosen = choose(candidates)
    model = chosen.model
    if params.fit == "all" and not everything:
        progress.start("topics: fit on all units", 1)
        parts = list(executor.map(partial(sample_units, params=params), sources, shared=(words, None)))
        whole = UnitCorpus.concat(parts, words)
        model = fit(whole, chosen.k, params.settings())
        progress.advance(1)
        progress.finish()
    progress.start("topics: weights", len(sources))
    sums = YearSums()
    for doc_topics, part_sums in executor.map(partial(unit_weights, params=params), sources, shared=model):
        write("doc_topics", doc_topics)
        sums.add(part_sums)
        progress.advance(1)
    progress.finish()
    write("topics", topics_table(model, params, forms))
    write("topic_trends", topic_trends(sums, model.engine))
    write("topic_model_selection", selection_table(candidates, chosen, params.engine))
    info.update({"k": chosen.k, "coherence": chosen.coherence, "sample_units": len(sample),
                 "sample_terms": sample.n_terms, "fitted_on": "all" if params.fit == "all" or everything else "sample",
                 "model_info": model.info})
    return TopicsResult(model, info)


@dataclass
class TopicFit:
    """The stage's tables and chosen model, for a corpus held in memory (:func:`fit_topics`)."""

    tables: dict[str, pa.Table]
    model: TopicModel | None
    info: dict[str, Any]


def fit_topics(tokens: pa.Table, params: TopicParams, executor=None) -> TopicFit:
    """The topics stage on a tokens table in memory (one batch): the same passes as a run."""
    from kefu_corpus.executor import SerialExecutor
    from kefu_corpus.progress import NoProgress

    out: dict[str, list[pa.Table]] = {}
    result = run_topics([tokens], params, executor or SerialExecutor(), lambda name, t: out.setdefault(name, []).append(t),
                        NoProgress())
    tables = {name: pa.concat_tables(out.get(name, []) or [schemas.TABLES[name].schema.empty_table()])
              for name in ("topics", "doc_topics", "topic_trends", "topic_model_selection")}
    return TopicFit(tables, result.model, result.info)


def save_model(model: TopicModel, path: Path) -> dict[str, Any]:
    """Write ``model`` to ``path``; returns its manifest entry (without the file's hash, which the caller
    takes once the file is in place)."""
    model.save(path)
    return {"file": MODEL_FILE, "engine": model.engine, "k": model.k, "format": "npz"}


def load_model(out: Path) -> TopicModel:
    """The topic model of the run in ``out``, ready for :meth:`~TopicModel.transform_tokens`.

    The file holds NumPy arrays and a JSON header only and is read without unpickling, so loading a
    model never runs code; it is also checked against the SHA-256 in the run's manifest, so a model
    file changed since the run (or copied in) is refused.
    """
    from kefu_corpus.errors import KefuError
    from kefu_corpus.store import file_sha256, read_manifest, run_folder

    out = run_folder(Path(out))
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
    try:
        return TopicModel.load(path)
    except (OSError, ValueError, KeyError) as exc:
        raise KefuError(f"{path} is not a readable topic model ({exc}).",
                        hint="rerun `kefu topics` on the output folder") from exc
