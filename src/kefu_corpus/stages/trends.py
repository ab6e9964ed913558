"""The trends stage: term counts per year, trends, keyness of each year, and keywords of each document.

Requires: ``documents``, ``tokens``. Assigns: ``term_trends``, ``keyness``, ``keywords``. Tokens are
streamed in slices through the executor (:mod:`kefu_corpus.transforms.trends`,
:mod:`kefu_corpus.transforms.keywords`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from typing import Any, ClassVar

from kefu_corpus.config import Section, borrowed, param, positive
from kefu_corpus.stage import Stage, StageRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrendParams(Section):
    """``trends.*``: which terms are counted, and when a trend has too little evidence."""

    SECTION: ClassVar[str] = "trends"

    min_chars: int = param(2, "an int >= 1", positive,
        "Shortest term counted in trends and keyness (single characters are mostly "
        "function words).")
    min_count: int = param(2, "an int >= 1", positive, "Least corpus count for a term to be reported.")
    min_years: int = param(3, "an int >= 2", lambda v: v >= 2,
        "Fewer dated years than this marks every trend 'thin'.")
    min_docs_per_year: int = param(2, "an int >= 1", positive,
        "A dated year with fewer documents than this marks every trend 'thin'.")


@dataclass(frozen=True)
class KeywordParams(Section):
    """``keywords.*`` (and the term filter of ``trends``): keywords per document."""

    SECTION: ClassVar[str] = "keywords"

    top_n: int = param(10, "an int >= 1", positive, "Keywords kept per document and method.")
    textrank_window: int = param(5, "an int >= 2", lambda v: v >= 2,
        "TextRank links two terms that occur within this many tokens of each other "
        "(jieba's default span).")
    textrank_pos: tuple[str, ...] = param(("n", "nr", "ns", "nt", "nz", "vn", "v", "eng"), "a list of POS tags",
        lambda v: bool(v) and all(isinstance(x, str) and x for x in v),
        "Parts of speech (jieba's tag set) that are TextRank candidates.")
    min_chars: int = borrowed(TrendParams, "min_chars")


def run(ctx: StageRun) -> dict[str, Any]:
    """The trends stage: term counts per year merged from slices of ``tokens``, trends and keyness, then
    per-document keywords slice by slice (corpus-wide, streamed through the executor)."""
    from kefu_corpus import partrun
    from kefu_corpus.slices import plan_slices
    from kefu_corpus.transforms import trends as trends_stage
    from kefu_corpus.years import documents_per_year

    writer, config, progress, executor = ctx.writer, ctx.config, ctx.progress, ctx.executor
    documents, tokens = ctx.input("documents"), ctx.input("tokens")
    started = time.perf_counter()
    budget = partrun.budget(config, executor)
    for name in ("term_trends", "keyness", "keywords"):
        writer.open(name)
    slices = plan_slices(tokens, "doc_id", budget.slice_rows())
    info = trends_stage.run_trends(slices, documents_per_year(documents), TrendParams.from_config(config),
                                   KeywordParams.from_config(config), executor, writer.write, progress,
                                   merge_rows=budget.merge_rows())
    seconds = time.perf_counter() - started
    log.info("trends: %d term-year row(s), %d keyness row(s), %d keyword(s), %.2f s", info["term_trend_rows"],
             info["keyness_rows"], info["keywords"], seconds)
    return {"seconds": round(seconds, 3), "workers": executor.workers, "slices": len(slices), **info}


STAGE = Stage("trends", "Term trends, keyness and keywords from the tokens.",
              requires=("documents", "tokens"), assigns=("term_trends", "keyness", "keywords"), runner=run,
              params=(TrendParams, KeywordParams))
