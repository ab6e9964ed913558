"""The segment stage: tokens of every passage, in the canonical script and in the passage's own.

Requires: ``documents``, ``passages`` (normalised; deduplicated unless ``segment.include_duplicates``).
Assigns: ``tokens``, ``term_forms``. The pure work on a batch of passages is
:func:`kefu_corpus.transforms.segment.segment_batch`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from kefu_corpus.config import Section, anything, borrowed, non_negative, one_of, param, paths
from kefu_corpus.stage import Stage, StageRun
from kefu_corpus.stages.normalise import NormaliseParams

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SegmentParams(Section):
    """``segment.*``, with the canonical script (``normalise.canonical``): what a segmenter is built with
    (:class:`kefu_corpus.text.segment.SegmenterOptions`). Hashable and picklable: one segmenter per
    process and configuration."""

    SECTION: ClassVar[str] = "segment"

    hmm: bool = param(False, "true or false", anything,
        "jieba's HMM for words not in the dictionary, on Simplified (and undetermined) text. Off by "
        "default: on the SIGHAN 2005 PKU and MSR sets it lowers F1 (see docs/segment.md).")
    hmm_traditional: bool = param(True, "true or false", anything,
        "jieba's HMM on passages detected Traditional or mixed: their words reach jieba's "
        "Simplified dictionary through conversion, so more are missing from it (Hong Kong "
        "and Taiwan names and terms). On by default: +0.014 F1 on SIGHAN CityU.")
    numbers: bool = param(True, "true or false", anything,
        "Number expressions as one token: 2.5, 1,000, 6:4, 8万, 7月, ——, 一九八○ (jieba splits "
        "them).")
    date_units: str = param("月", "a string of characters, or ''", anything,
        "Characters that join a preceding Arabic number as one token. '月' is the convention "
        "the SIGHAN standards share; '年月日' suits PKU and MSR but not CityU.")
    granularity: str = param("fine", "one of 'jieba', 'fine'", one_of("jieba", "fine"),
        "'fine': compounds of jieba's dictionary (国有企业, 特区政府) are cut into their words "
        "when the parts are nearly as probable as the whole; idioms and entries of the domain "
        "and user dictionaries stay whole. 'jieba': jieba's cut as it is.")
    split_margin: float = param(6.0, "a float >= 0", non_negative,
        "With granularity 'fine': nats by which a compound's unigram log-probability may "
        "exceed its parts' and still be cut. Larger cuts more; 0 cuts nothing.")
    mode: str = param("default", "one of 'default', 'search'", one_of("default", "search"),
        "'default': jieba's cut, tokens tile the text (what counts should use). 'search': also "
        "the dictionary words inside long words (客服中心 gives 客服 and 中心 too), with "
        "overlapping spans, for recall-oriented lookups.")
    user_dicts: tuple[str, ...] = param((), "a list of paths", paths,
        "Extra dictionaries in jieba's format ('word [freq] [tag]' per line), in either "
        "script; converted to the canonical script on load.")
    stopwords: tuple[str, ...] = param((), "a list of paths", paths,
        "Extra stopword lists (one word per line), added to stopwords-iso's Chinese list.")
    include_duplicates: bool = param(False, "true or false", anything,
        "Segment the passages the dedup stage flagged too (by default only the "
        "deduplicated view is segmented).")
    canonical: str = borrowed(NormaliseParams, "canonical")


def run(ctx: StageRun) -> dict[str, Any]:
    """The segment stage: one task per part of the (deduplicated) passages, each writing its part of
    ``tokens``."""
    from kefu_corpus import partrun
    from kefu_corpus import tablefiles
    from kefu_corpus import tasks as tasks_mod
    from kefu_corpus.store import fault
    from kefu_corpus.text.segment import dictionary_entries
    from kefu_corpus.transforms import segment as segment_stage
    from kefu_corpus.years import year_table

    writer, config, progress, executor = ctx.writer, ctx.config, ctx.progress, ctx.executor
    documents, passages = ctx.input("documents"), ctx.input("passages")
    params = SegmentParams.from_config(config)
    entries = dictionary_entries(params)  # fail early, in this process, on a bad dictionary or stopword file
    started = time.perf_counter()
    cache = partrun.part_cache(writer, config, "segment")
    tasks = partrun.with_entries(partrun.part_tasks(writer, ("tokens",), documents=documents, passages=passages), cache)
    batch_rows = max(config["run.batch_size"] * 8, 256)
    progress.start("segment", tablefiles.num_rows(passages))
    n_tokens = n_bytes = 0
    forms = []
    fn = partial(tasks_mod.segment_part, params=params, batch_rows=batch_rows)
    for _, done in partrun.map_parts(executor, fn, tasks, cache, writer, ("tokens",), shared=year_table(documents),
                              initializer=partial(segment_stage.segmenter, params)):
        fault("segment:part")
        n_tokens += done["tokens"]
        n_bytes += done["bytes"]
        forms.append(done["forms"])
        progress.advance(done["passages"])
    writer.write("term_forms", segment_stage.term_forms_table(forms))
    progress.finish()
    seconds = time.perf_counter() - started
    log.info("segment: %d token(s) from %.1f MB of canonical text, %.2f s", n_tokens, n_bytes / 1e6, seconds)
    return {"seconds": round(seconds, 3), "tokens": n_tokens, "bytes": n_bytes, "workers": executor.workers,
            "parts": len(tasks), "parts_reused": cache.reused,
            "mb_per_s": round(n_bytes / 1e6 / seconds, 3) if seconds else None,
            "hmm": params.hmm, "include_duplicates": params.include_duplicates, "dictionary_entries": entries}


STAGE = Stage("segment", "Segment the (deduplicated) passages: tokens in both scripts, with POS tags.",
              requires=("documents", "passages"), assigns=("tokens", "term_forms"), runner=run,
              params=(SegmentParams,))
