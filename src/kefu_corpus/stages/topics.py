"""The topics stage: topic models over passages (or documents), k chosen by coherence, prevalence per year.

Requires: ``documents``, ``tokens``; ``term_forms`` when there is one (the display terms as the corpus
writes them). Assigns: ``topics``, ``doc_topics``, ``topic_trends``, ``topic_model_selection``, and the
chosen model in ``models/topics.npz``. The passes are described in :mod:`kefu_corpus.transforms.topics`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

from typing import TYPE_CHECKING, Any, ClassVar

from kefu_corpus.config import Section, RunParams, borrowed, non_negative, one_of, param, positive, fraction
from kefu_corpus.stage import Stage, StageRun
from kefu_corpus.stages.trends import TrendParams

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from pathlib import Path

    from kefu_corpus.topicmodels.engines import FitSettings


@dataclass(frozen=True)
class TopicParams(Section):
    """``topics.*``, with the term filter (``trends.min_chars``) and the seed (``run.seed``)."""

    SECTION: ClassVar[str] = "topics"

    engine: str = param("tomotopy", "one of 'tomotopy', 'lda', 'nmf'", one_of("tomotopy", "lda", "nmf"),
        "Topic model: tomotopy's LDA (Gibbs sampling, the fastest), gensim's LDA (variational "
        "Bayes), or scikit-learn's NMF on TF-IDF.")
    unit: str = param("passage", "one of 'passage', 'document'", one_of("passage", "document"),
        "What one modelled text is: passages (the default: the corpus has few, long documents) "
        "or whole documents.")
    k: int = param(0, "an int >= 0", non_negative,
        "Number of topics; 0 chooses it from topics.k_grid by coherence.")
    k_grid: tuple[int, ...] = param((3, 5, 8, 10), "a list of ints >= 2", lambda v: all(isinstance(x, int) and x >= 2 for x in v),
        "Candidate numbers of topics when topics.k is 0.")
    min_df: int = param(2, "an int >= 1", positive, "A term must occur in this many units to be modelled.")
    max_df: float = param(0.5, "a float in [0, 1]", fraction,
        "A term in more than this share of units is too common to be modelled.")
    top_terms: int = param(10, "an int >= 1", positive, "Terms listed per topic in topics.parquet.")
    sample: int = param(10000, "an int >= 1", positive,
        "Units of the deterministic sample (lowest hashes of unit id and run.seed) the candidate "
        "models are fitted and scored on; cut further when run.memory_gb cannot hold it.")
    fit: str = param("sample", "one of 'sample', 'all'", one_of("sample", "all"),
        "The chosen model is the one fitted on the sample, or is fitted again on every unit "
        "(memory and time then grow with the corpus).")
    iterations: int = param(100, "an int >= 1", positive,
        "Gibbs sampling iterations (tomotopy); on the bench corpus coherence is the same within "
        "0.005 from 50 to 200.")
    passes: int = param(10, "an int >= 1", positive, "Passes over the corpus (gensim LDA).")
    threads: int = param(1, "an int >= 1", positive,
        "Threads each model fit uses (BLAS included), whatever run.workers is, so the tables are "
        "the same with any number of workers; candidate fits run in parallel across workers.")
    display_script: str = param("auto", "one of 'auto', 'simplified', 'traditional'",
        one_of("auto", "simplified", "traditional"),
        "Script of topics.term_display; 'auto': the corpus's own majority script (by "
        "characters of its documents), which the manifest records as display_script.")
    min_chars: int = borrowed(TrendParams, "min_chars")
    seed: int = borrowed(RunParams, "seed")

    @property
    def key(self) -> str:
        """The tokens column that names a unit."""
        return "passage_id" if self.unit == "passage" else "doc_id"

    def settings(self) -> FitSettings:
        from kefu_corpus.topicmodels.engines import FitSettings

        return FitSettings(engine=self.engine, seed=self.seed, iterations=self.iterations, passes=self.passes,
                           threads=self.threads)


def run(ctx: StageRun) -> dict[str, Any]:
    """The topics stage: vocabulary and sample from slices of ``tokens``, candidate models fitted in
    parallel, the most coherent kept, every unit's weights inferred slice by slice."""
    from kefu_corpus import partrun
    from kefu_corpus.slices import plan_slices
    from kefu_corpus.store import display_forms, file_sha256
    from kefu_corpus.transforms import topics as topics_stage

    writer, config, progress, executor = ctx.writer, ctx.config, ctx.progress, ctx.executor
    documents, tokens, term_forms = ctx.input("documents"), ctx.input("tokens"), ctx.optional("term_forms")
    params = TopicParams.from_config(config)
    if params.display_script == "auto":
        params = replace(params, display_script=corpus_script(documents))
    started = time.perf_counter()
    budget = partrun.budget(config, executor)
    for name in ("topics", "doc_topics", "topic_trends", "topic_model_selection"):
        writer.open(name)
    slices = plan_slices(tokens, "doc_id", budget.slice_rows())
    # the display terms as the corpus writes them
    forms = display_forms(term_forms, params.display_script) if term_forms is not None else {}
    result = topics_stage.run_topics(slices, params, executor, writer.write, progress,
                                     merge_rows=budget.merge_rows(), sample_terms=budget.sample_terms(),
                                     forms=forms)
    info = {"workers": executor.workers, "slices": len(slices), **result.info}
    if result.model is not None:
        model_path = writer.artifact(topics_stage.MODEL_FILE)
        info["model"] = {**topics_stage.save_model(result.model, model_path), "sha256": file_sha256(model_path)}
    seconds = time.perf_counter() - started
    log.info("topics: %s, k=%s over %d %s unit(s), %.2f s", params.engine, info.get("k"), info.get("units", 0),
             params.unit, seconds)
    return {"seconds": round(seconds, 3), **info}


def corpus_script(documents: Path) -> str:
    """The corpus's majority script, by characters of its documents (their ``script`` is set by normalise;
    'simplified' before it has run)."""
    from kefu_corpus import tablefiles
    from kefu_corpus.text.script import majority_script

    sums = tablefiles.read(documents, columns=["script", "n_chars"]).group_by("script", use_threads=False).aggregate(
        [("n_chars", "sum")])  # a few rows, one per script
    return majority_script(sums["script"].to_pylist(), sums["n_chars_sum"].to_pylist())


STAGE = Stage("topics", "Topic models over the tokens, k chosen by coherence.",
              requires=("documents", "tokens"), assigns=("topics", "doc_topics", "topic_trends", "topic_model_selection"),
              runner=run, params=(TopicParams,), optional=("term_forms",),
              options=(("--display-script", "topics.display_script",
                        "Script of term_display: simplified or traditional (topics.display_script)."),))
