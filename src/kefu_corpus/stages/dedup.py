"""The dedup stage: flag repeated passages and near-duplicate documents, keep one copy, record everything.

Requires: ``documents``, ``passages`` (normalised). Assigns: ``documents`` and ``passages`` (duplicate
flags), ``duplicates``. Nothing is deleted. Three passes (scan, decide, annotate), described in
:mod:`kefu_corpus.transforms.dedup`, which does the pure work.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, ClassVar

from kefu_corpus.config import Section, RunParams, borrowed, param, positive, fraction
from kefu_corpus.stage import Stage, StageRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DedupParams(Section):
    """``dedup.*``: what counts as a repeat, a near duplicate and boilerplate."""

    SECTION: ClassVar[str] = "dedup"

    within_min_chars: int = param(16, "an int >= 4", lambda v: v >= 4,
        "Shortest repeat inside a document that is flagged, in letters and digits "
        "(punctuation and spaces are not counted).")
    passage_min_chars: int = param(8, "an int >= 1", positive,
        "Shortest passage (letters and digits) that is matched exactly across "
        "documents; shorter ones, such as section numbers, never are.")
    near_threshold: float = param(0.5, "a float in [0, 1]", fraction,
        "Least estimated Jaccard similarity of character shingles for two documents to "
        "be near duplicates. 0.5 on 5-shingles catches a copy with about 5% of its "
        "characters edited.")
    near_passage_threshold: float = param(0.7, "a float in [0, 1]", fraction,
        "The same for single passages: higher, because a passage that "
        "merely contains much of another must keep its own text.")
    near_min_chars: int = param(50, "an int >= 1", positive,
        "Shortest passage or document (letters and digits) compared for near "
        "duplicates; shorter ones are matched exactly only.")
    near_edit_share: float = param(0.2, "a float in [0, 1)", lambda v: 0 <= v < 1,
        "In a near-duplicate document whose differences are edits (single "
        "characters), a passage with at most this share of its letters and digits "
        "not found in the kept copy is flagged whole; in a template (names, dates "
        "and figures differ), only the text the kept copy holds is flagged.")
    shingle: int = param(5, "an int >= 1", positive, "Characters per shingle for MinHash.")
    num_perm: int = param(128, "an int >= 8", lambda v: v >= 8, "MinHash permutations per signature.")
    boilerplate_min_docs: int = param(3, "an int >= 2", lambda v: v >= 2,
        "A passage found verbatim in this many documents is boilerplate: every "
        "copy is flagged and none is kept.")
    seed: int = borrowed(RunParams, "seed")


def run(ctx: StageRun) -> dict[str, Any]:
    """The dedup stage: each part's passages scanned by a task, the decision taken corpus-wide on the
    driver, each part annotated by a task that writes its own parts."""
    from kefu_corpus import partrun
    from kefu_corpus import tablefiles
    from kefu_corpus import tasks as tasks_mod
    from kefu_corpus.partcache import file_digest
    from kefu_corpus.transforms import dedup

    writer, config, progress, executor = ctx.writer, ctx.config, ctx.progress, ctx.executor
    documents, passages = ctx.input("documents"), ctx.input("passages")
    params = DedupParams.from_config(config)
    started = time.perf_counter()
    n_docs = tablefiles.num_rows(documents)
    dates = {}
    for batch in tablefiles.iter_batches(documents, columns=["doc_id", "date"]):
        dates.update(zip(batch.column("doc_id").to_pylist(), batch.column("date").to_pylist()))
    progress.start("dedup", n_docs)
    writer.open("duplicates")
    tasks = partrun.part_tasks(writer, ("documents", "passages"), documents=documents, passages=passages)
    scan_cache, cache = partrun.part_cache(writer, config, "dedup", "dedup-scan"), partrun.part_cache(writer, config, "dedup")
    scan_tasks = [replace(t, entry=scan_cache.entry(file_digest(t.inputs["passages"])), reuse=scan_cache.reuse)
                  for t in tasks]
    scans, n_bytes = [], 0
    for _, scan in partrun.map_parts(executor, partial(tasks_mod.dedup_scan_part, params=params), scan_tasks, scan_cache,
                              writer, ()):
        scans.append(scan)
        n_bytes += scan.n_bytes
        progress.advance(len(scan.doc_ids))
    scan_seconds = time.perf_counter() - started
    parts = [t.inputs["passages"] for t in tasks]
    align = partial(tasks_mod.dedup_align_job, parts=parts, params=params)
    decisions = dedup.decide(scans, dates, params, lambda jobs: executor.map(align, jobs))
    parts_of = [(s.doc_ids, len(s.passage_ids)) for s in scans]
    del scans
    decide_seconds = time.perf_counter() - started - scan_seconds
    writer.write("duplicates", decisions.duplicates)
    batch_rows = max(config["run.batch_size"] * 32, 1024)
    tasks = partrun.with_entries(tasks, cache, [dedup.part_decisions(decisions, t.passage_offset, n, ids)
                                         for t, (ids, n) in zip(tasks, parts_of)])
    for _ in partrun.map_parts(executor, partial(tasks_mod.dedup_annotate_part, batch_rows=batch_rows), tasks, cache,
                        writer, ("documents", "passages"), shared=decisions):
        pass
    progress.finish()
    seconds = time.perf_counter() - started
    log.info("dedup: %d of %d passage(s) flagged, %d near-duplicate document(s), %.2f s",
             decisions.counts.get("passages_flagged", 0), decisions.counts.get("passages", 0),
             decisions.counts.get("documents_flagged", 0), seconds)
    return {"seconds": round(seconds, 3), "scan_seconds": round(scan_seconds, 3),
            "decide_seconds": round(decide_seconds, 3), "bytes": n_bytes,
            "mb_per_s": round(n_bytes / 1e6 / seconds, 3) if seconds else None, "workers": executor.workers,
            "parts": len(tasks), "parts_reused": {"scan": scan_cache.reused, "annotate": cache.reused},
            **decisions.counts}


STAGE = Stage("dedup", "Flag repeated passages and near-duplicate documents.",
              requires=("documents", "passages"), assigns=("documents", "passages", "duplicates"), runner=run,
              params=(DedupParams,))
