"""Run stages over a raw folder into an output folder: the library function behind ``kefu run``.

The pipeline owns I/O and ordering; stage functions are pure and run through an executor. The stages
(:data:`STAGES`: ingest, normalise, dedup, segment, trends, topics) run in order, each reading the tables the
earlier ones wrote, in this run or, for a stage run alone, in the output folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import platform
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from kefu_corpus import __version__, schemas
from kefu_corpus.config import Config
from kefu_corpus import freshness
from kefu_corpus.executor import Executor, open_executor
from kefu_corpus.memory import Budget, PeakRss
from kefu_corpus.progress import NoProgress, Progress
from kefu_corpus.slices import plan_slices
from kefu_corpus.text.script import majority_script
from kefu_corpus.years import documents_per_year, year_table
from kefu_corpus.ranges import describe_part
from kefu_corpus.sources import Inventory, Sidecar, content_parts, discover, iter_items, load_sidecar
from kefu_corpus.stages.ingest import OUTPUTS as INGEST_OUTPUTS
from kefu_corpus.stages.ingest import IngestParams
from kefu_corpus.stages import dedup
from kefu_corpus.stages import segment as segment_stage
from kefu_corpus.stages import keywords as keywords_stage
from kefu_corpus.stages import topics as topics_stage
from kefu_corpus.stages import trends as trends_stage
from kefu_corpus.text.segment import SegmentParams, dictionary_entries
from kefu_corpus.stages.normalise import NormaliseParams
from kefu_corpus.errors import KefuError
from kefu_corpus import tablefiles
from kefu_corpus import tasks as tasks_mod
from kefu_corpus.partcache import PartCache, digest, file_digest, run_cached
from kefu_corpus.tasks import PartTask, plan_parts
from kefu_corpus.store import (PartWriter, RunWriter, display_forms, fault, file_sha256, file_sha256_or_none,
                               read_manifest, read_table, run_folder)
from kefu_corpus.text.reference import reference_sha256, reference_text
from kefu_corpus.text.repair import clean_text, corpus_model, find_sites
from kefu_corpus.text.rules import load_patterns

log = logging.getLogger(__name__)

STAGES = ("ingest", "normalise", "dedup", "segment", "trends", "topics")
#: Distributions whose versions every manifest records.
RECORDED_LIBRARIES = ("pyarrow", "charset-normalizer", "typer", "rich", "tomli-w", "opencc", "jieba", "numpy",
                      "scipy", "rensa", "xxhash", "rjieba", "stopwordsiso", "gensim", "scikit-learn", "snownlp",
                      "tomotopy", "threadpoolctl", "psutil", "dask", "distributed")


@dataclass
class RunResult:
    """What a run did: rows written per table, input outcomes, the problems found, and timings."""

    out: Path
    tables: dict[str, int]
    status_counts: dict[str, int]
    problems: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    bytes_in: int = 0
    manifest: dict[str, Any] = field(default_factory=dict)
    stages: tuple[str, ...] = ()
    up_to_date: bool = False  # nothing was run: the folder already holds this run (run.skip_unchanged)

    @property
    def rejected(self) -> int:
        return self.status_counts.get("rejected", 0)

    @property
    def mb_per_s(self) -> float:
        return self.bytes_in / 1e6 / self.seconds if self.seconds else 0.0


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "kefu-corpus": __version__}
    for dist in RECORDED_LIBRARIES:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None  # unreadable: its report row says so


def _inventory(raw: Path, config: Config) -> Inventory:
    ingest = config.section("ingest")
    return discover(raw, text_extensions=tuple(ingest["text_extensions"]), sidecar_name=ingest["sidecar"],
                    follow_symlinks=ingest["follow_symlinks"])


def _input_entries(inventory: Inventory) -> list[dict]:
    """The manifest's list of inputs: path, SHA-256 and size of each."""
    return [{"path": inventory.rel(p), "sha256": file_sha256_or_none(p), "bytes": _size(p)} for p in inventory.inputs]


def _run_key(raw: Path, config: Config) -> tuple[str, list[dict]]:
    """The run key of a full run over ``raw`` (:mod:`kefu_corpus.freshness`), and its input entries."""
    inventory = _inventory(raw, config)
    inputs = _input_entries(inventory)
    skipped = [[inventory.rel(p), reason, _size(p)] for p, reason, _ in inventory.ignored]
    sidecar = file_sha256_or_none(inventory.sidecar) if inventory.sidecar is not None else None
    key = freshness.run_key(raw, inputs, sidecar, skipped, config, library_versions(),
                            {name: spec.version for name, spec in schemas.TABLES.items()})
    return key, inputs


def _up_to_date(out: Path, key: str, stages: tuple[str, ...]) -> dict[str, Any] | None:
    """The manifest of the run in ``out`` if it has key ``key``, ran ``stages`` and its tables are intact."""
    from kefu_corpus.info import describe

    try:
        previous = read_manifest(run_folder(out))
    except KefuError:
        return None
    if previous.get("run_key") != key or not set(stages) <= set(previous.get("stages", {})):
        return None
    return previous if not describe(out)["warnings"] else None


def _preamble_rows(inventory: Inventory, sidecar: Sidecar) -> list[dict]:
    """Report rows for what is not ingested as documents: ignored files, the sidecar and its problems."""
    rows = []
    blank = {"doc_id": None, "encoding": None}
    for path, reason, message in inventory.ignored:
        rows.append({**blank, "source_path": inventory.rel(path), "source_record": None, "status": "ignored",
                     "reason": reason, "message": message, "n_bytes": _size(path)})
    if inventory.sidecar is not None:
        rel = inventory.rel(inventory.sidecar)
        rows.append({**blank, "source_path": rel, "source_record": None, "status": "sidecar", "reason": None,
                     "message": f"metadata for {len(sidecar.by_path)} input(s)",
                     "n_bytes": _size(inventory.sidecar)})
        for record, status, reason, message in sidecar.problems:
            rows.append({**blank, "source_path": rel, "source_record": record, "status": status,
                         "reason": reason, "message": message, "n_bytes": None})
    return rows


def _flag_repeated_content(done: dict[str, pa.Table], seen: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Documents of one part whose bytes repeat an earlier input's, with a note for each: ``duplicate_of``
    points them at the first; nothing is dropped. ``done["keys"]`` has the part's documents' ``doc_id``,
    ``sha256``, ``source_path`` and ``source_record``; ``done["ingest_report"]`` is updated in place.

    ``seen`` maps sha256 to (doc_id, where) of the first input with that content, across parts.
    """
    keys = done["keys"]
    firsts: dict[str, str] = {}
    notes: dict[str, str] = {}
    for doc_id, sha, path, record in zip(*(keys.column(c).to_pylist()
                                            for c in ("doc_id", "sha256", "source_path", "source_record"))):
        first = seen.setdefault(sha, (doc_id, path if record is None else f"{path} record {record}"))
        if first[0] != doc_id:
            firsts[doc_id] = first[0]
            notes[doc_id] = f"same content as {first[1]} (doc_id {first[0]}); kept, and flagged in documents.duplicate_of."
    if notes:
        report = done["ingest_report"].to_pylist()
        for row in report:
            note = notes.get(row["doc_id"])
            if note is None:
                continue
            if row["status"] == "ok":
                row.update(status="duplicate", reason="duplicate_content", message=note)
            else:  # keep the warning visible; the duplicate is also in documents.duplicate_of
                row.update(reason=f"{row['reason']};duplicate_content", message=f"{row['message']} Also: {note}")
        done["ingest_report"] = schemas.table_from_rows(schemas.INGEST_REPORT, report)
    return firsts


def _point_at_firsts(writer: RunWriter, index: int, firsts: dict[str, str]) -> None:
    """Rewrite part ``index`` of ``documents`` with ``duplicate_of`` set (rare: a part holding an input
    whose bytes repeat an earlier one's). The part is replaced whole, atomically."""
    path = writer.staging / schemas.DOCUMENTS.filename / tablefiles.part_name(index)
    table = tablefiles.read(path, schema=schemas.DOCUMENTS.schema)
    column = table.schema.get_field_index("duplicate_of")
    values = pa.array([firsts.get(d) for d in table.column("doc_id").to_pylist()], pa.string())
    with PartWriter(writer.part_target(index), ("documents",)) as part:
        part.write("documents", table.set_column(column, table.schema.field(column), values))


def run_ingest(raw: Path, writer: RunWriter, config: Config, progress: Progress, executor: Executor,
               inputs: list[dict] | None = None) -> dict[str, Any]:
    """The ingest stage over ``raw``, written through ``writer``. Returns the stage's manifest entry.
    ``inputs``: the manifest's list of input files with their SHA-256, if already computed.

    The driver reads the inputs once and groups them into parts of about ``run.part_bytes`` raw bytes,
    cut at content-defined places; each part is one task, described by where its inputs lie (article
    files by path, records as ranges of their file, :mod:`kefu_corpus.ranges`), which reads them, writes
    its parts of ``documents`` and ``passages`` and returns the small tables. A part whose items, config
    and code are those of a finished part in the output folder's part cache is reused."""
    ingest = config.section("ingest")
    load_patterns(ingest["patterns"])  # fail early, in this process, on a bad patterns file
    inventory = _inventory(raw, config)
    rels = [inventory.rel(p) for p in inventory.inputs]
    sidecar = (load_sidecar(inventory.sidecar, inventory.rel(inventory.sidecar), rels)
               if inventory.sidecar is not None else Sidecar())
    for name in INGEST_OUTPUTS:
        writer.open(name)
    writer.write("ingest_report", schemas.table_from_rows(schemas.INGEST_REPORT, _preamble_rows(inventory, sidecar)))

    if inputs is None:
        inputs = _input_entries(inventory)
    items = iter_items(inventory, sidecar, text_column=ingest["text_column"], id_column=ingest["id_column"],
                       known={entry["path"]: entry for entry in inputs})
    cache = _cache(writer, config, "ingest")
    files = {inventory.rel(path): path for path in inventory.corpora}
    scratch = writer.scratch("ingest")

    def tasks():
        for i, part in enumerate(content_parts(items, config["run.part_bytes"])):
            entry = cache.entry(_items_digest(part))
            if cache.complete(entry):  # finished by an earlier run: the worker needs no records
                yield PartTask({}, writer.part_target(i), extra={"items": [], "checked": True}, entry=entry)
            else:
                described = describe_part(part, files=files, scratch=scratch, index=i,
                                          text_column=ingest["text_column"], id_column=ingest["id_column"])
                yield PartTask({}, writer.part_target(i), extra={"items": described}, entry=entry,
                               reuse=cache.reuse)

    fn = partial(tasks_mod.ingest_part, params=IngestParams.from_config(config),
                 batch_size=config["run.batch_size"], batch_bytes=config["run.batch_bytes"])
    log.info("ingest: %d article file(s), %d corpus file(s), sidecar %s, %d ignored; %d worker(s)",
             len(inventory.articles), len(inventory.corpora),
             inventory.rel(inventory.sidecar) if inventory.sidecar else "none", len(inventory.ignored),
             executor.workers)

    progress.start("ingest", None if inventory.corpora else len(inventory.articles))
    seen: dict[str, tuple[str, str]] = {}
    text_bytes = n_parts = 0
    started = time.perf_counter()
    for task, result in _map_parts(executor, fn, tasks(), cache, writer, ("documents", "passages")):
        done = dict(result)
        firsts = _flag_repeated_content(done, seen)
        if firsts:
            _point_at_firsts(writer, task.index, firsts)
        text_bytes += pc.sum(done["ingest_report"].column("n_bytes")).as_py() or 0
        writer.write("boilerplate", done["boilerplate"])
        writer.write("ingest_report", done["ingest_report"])
        progress.advance(done["ingest_report"].num_rows)
        n_parts += 1
    seconds = time.perf_counter() - started
    writer.drop_scratch("ingest")
    progress.finish()
    log.info("ingest: %.1f MB of text in %.2f s", text_bytes / 1e6, seconds)
    return {"seconds": round(seconds, 3), "bytes": text_bytes, "workers": executor.workers, "parts": n_parts,
            "parts_reused": cache.reused, "mb_per_s": round(text_bytes / 1e6 / seconds, 3) if seconds else None, "inputs": inputs}


def _stage_input(out: Path, name: str) -> Path:
    """A table of an earlier run that a stage run alone reads; it must have the current schema."""
    spec = schemas.TABLES[name]
    path = out / spec.filename
    if not tablefiles.exists(path):
        raise KefuError(f"{path} does not exist, so this stage has nothing to read.",
                        hint=f"run `kefu run` (or `kefu ingest`) with --out {out} first")
    version = (tablefiles.schema(path).metadata or {}).get(b"kefu.schema_version", b"?").decode()
    if version != str(spec.version):
        raise KefuError(f"{path} has schema version {version}; this kefu-corpus reads version {spec.version}.",
                        hint=f"rerun `kefu run --out {out}` to rebuild every table")
    return path


def _part_tasks(writer: RunWriter, outputs: tuple[str, ...], **tables: Path) -> list[PartTask]:
    """One task per part of the input ``tables``, writing the parted ``outputs`` of this run."""
    for name in outputs:
        writer.open(name)
    return plan_parts(tables, writer.part_target)


#: The parted tables each stage writes.
_PARTED_OUTPUTS = {"ingest": ("documents", "passages"), "normalise": ("documents", "passages"),
                   "dedup": ("documents", "passages"), "segment": ("tokens",)}


def _cache(writer: RunWriter, config: Config, stage: str, name: str | None = None) -> PartCache:
    """The part cache of ``stage`` (under ``name``, for a stage with two kinds of task); its entries
    depend on which of the stage's tables are transient (their codec)."""
    context = freshness.stage_context(config, stage, library_versions(),
                                      {n: spec.version for n, spec in schemas.TABLES.items()})
    return writer.part_cache(name or stage, {"stage": context, "transient": sorted(writer.transient)},
                             reuse=config["run.reuse_parts"])


def _with_entries(tasks: list[PartTask], cache: PartCache, *pieces) -> list[PartTask]:
    """``tasks`` with their cache entries: the digests of their input part files and ``pieces[i]``."""
    return [replace(task, entry=cache.entry(*(file_digest(p) for _, p in sorted(task.inputs.items())),
                                            *(piece[i] for piece in pieces)), reuse=cache.reuse)
            for i, task in enumerate(tasks)]


def _map_parts(executor: Executor, fn, tasks, cache: PartCache, writer: RunWriter, outputs: tuple[str, ...],
               **kwargs):
    """``(task, result)`` of ``fn`` over part ``tasks``, in order, through the part cache: each finished
    part's files (tables ``outputs``) are linked into the run folder as they arrive.

    A list of tasks is sent largest input first (parts differ up to fourfold in size), so that no worker
    is left with a large part while the others have finished the stage; the results still come back in
    the tasks' order, each as soon as it and those before it are done."""
    if isinstance(tasks, list):
        order = sorted(range(len(tasks)), key=lambda i: -_input_bytes(tasks[i]))
    else:
        order = None
    sent: deque[PartTask] = deque()

    def remember():
        for task in (tasks if order is None else (tasks[i] for i in order)):
            sent.append(task)
            yield task

    waiting: dict[int, tuple[PartTask, Any]] = {}
    next_index = 0
    for cached in executor.map(partial(run_cached, fn), remember(), **kwargs):
        task = sent.popleft()
        cache.adopt(task.entry, writer.staging, task.index, outputs, cached["reused"])
        if order is None:
            yield task, cached["result"]
            continue
        waiting[task.index] = (task, cached["result"])
        while next_index < len(tasks) and tasks[next_index].index in waiting:
            yield waiting.pop(tasks[next_index].index)
            next_index += 1


def _input_bytes(task: PartTask) -> int:
    """Bytes of a part task's input files (0 where one cannot be read: the task reports it)."""
    total = 0
    for path in task.inputs.values():
        try:
            total += os.path.getsize(path)
        except OSError:
            pass
    return total


def _items_digest(items) -> str:
    """What an ingest part is computed from: its items' names, bytes, fields and sidecar metadata."""
    h = hashlib.sha256()
    for item in items:
        if item.sha256 is not None:  # an article file, hashed for the manifest already
            content_digest = item.sha256
        else:
            content = item.data if item.data is not None else (item.text or "").encode("utf-8", "surrogatepass")
            content_digest = xxhash.xxh3_128_hexdigest(content)
        h.update(digest(item.source_path, item.source_record, item.fields, item.sidecar, item.problem,
                        content_digest).encode())
    return h.hexdigest()


def repair_model(documents: Path, config: Config) -> tuple[Any, dict[str, Any], set[str]]:
    """The corpus's repair model, learnt from the clean text of its documents and, as
    ``normalise.repair_reference`` decides, the reference text; None when no document shows a
    possible damaged run (then nothing needs it). Also returns its manifest entry (with the model's
    fingerprint, ``model_sha256``) and the part files of ``documents`` that hold a possible damaged run
    (only their parts depend on the model)."""
    section = config.section("normalise")
    budget = section["repair_train_chars"]
    texts, used, flagged = [], 0, 0
    no_model = {"train_chars": 0, "reference_chars": 0, "reference_sha256": None, "reference_test": None}
    if not section["repair"]:
        return None, {"documents_with_sites": None, **no_model}, set()
    with_sites: set[str] = set()
    training = hashlib.sha256()
    for part in tablefiles.files(documents):
        for batch in tablefiles.iter_batches(part, columns=["text"]):
            for text in batch.column("text").to_pylist():
                if find_sites(text):
                    flagged += 1
                    with_sites.add(str(part))
                if used < budget:
                    clean = clean_text(text)[: budget - used]
                    texts.append(clean)
                    training.update(clean.encode("utf-8", "surrogatepass") + b"\0")
                    used += len(clean)
    if not flagged:
        return None, {"documents_with_sites": 0, **no_model}, set()
    model, reference, test = corpus_model(texts, section["repair_reference"])
    info = {"documents_with_sites": flagged, "train_chars": used,
            "reference_chars": len(reference_text()) if reference else 0,
            "reference_sha256": reference_sha256() if reference else None,
            "reference_test": asdict(test) if test else None,
            "model_sha256": digest(training.hexdigest(), reference_sha256() if reference else None)}
    return model, info, with_sites


def run_normalise(documents: Path, passages: Path, writer: RunWriter, config: Config,
                  progress: Progress, executor: Executor) -> dict[str, Any]:
    """The normalise stage over the given input tables: one task per part, each writing its own parts of
    ``documents`` and ``passages``; the driver writes the few ``repairs`` rows."""
    started = time.perf_counter()
    model, model_info, with_sites = repair_model(documents, config)
    model_seconds = time.perf_counter() - started
    writer.open("repairs")
    cache = _cache(writer, config, "normalise")
    tasks = _part_tasks(writer, ("documents", "passages"), documents=documents, passages=passages)
    tasks = _with_entries(tasks, cache, [model_info.get("model_sha256") if t.inputs["documents"] in with_sites else None
                                         for t in tasks])
    fn = partial(tasks_mod.normalise_part, params=NormaliseParams.from_config(config),
                 batch_size=config["run.batch_size"], batch_bytes=config["run.batch_bytes"])
    progress.start("normalise", tablefiles.num_rows(documents))
    counts: Counter = Counter()
    for _, done in _map_parts(executor, fn, tasks, cache, writer, ("documents", "passages"), shared=model):
        writer.write("repairs", done["repairs"])
        counts.update(documents=done["documents"], passages=done["passages"], chars=done["chars"],
                      repairs=done["repairs"].num_rows)
        progress.advance(done["documents"])
    progress.finish()
    seconds = time.perf_counter() - started
    log.info("normalise: %d document(s), %d repair(s), %.2f s (model %.2f s)", counts["documents"],
             counts["repairs"], seconds, model_seconds)
    return {"seconds": round(seconds, 3), "model_seconds": round(model_seconds, 3), "chars": counts["chars"],
            "chars_per_s": round(counts["chars"] / seconds) if seconds else None, "workers": executor.workers,
            "parts": len(tasks), "parts_reused": cache.reused, "documents": counts["documents"], "passages": counts["passages"],
            "repairs": counts["repairs"], **model_info}


def run_dedup(documents: Path, passages: Path, writer: RunWriter, config: Config, progress: Progress,
              executor: Executor) -> dict[str, Any]:
    """The dedup stage: each part's passages scanned by a task, the decision taken corpus-wide on the
    driver, each part annotated by a task that writes its own parts."""
    params = dedup.DedupParams.from_config(config)
    started = time.perf_counter()
    n_docs = tablefiles.num_rows(documents)
    dates = {}
    for batch in tablefiles.iter_batches(documents, columns=["doc_id", "date"]):
        dates.update(zip(batch.column("doc_id").to_pylist(), batch.column("date").to_pylist()))
    progress.start("dedup", n_docs)
    writer.open("duplicates")
    tasks = _part_tasks(writer, ("documents", "passages"), documents=documents, passages=passages)
    scan_cache, cache = _cache(writer, config, "dedup", "dedup-scan"), _cache(writer, config, "dedup")
    scan_tasks = [replace(t, entry=scan_cache.entry(file_digest(t.inputs["passages"])), reuse=scan_cache.reuse)
                  for t in tasks]
    scans, n_bytes = [], 0
    for _, scan in _map_parts(executor, partial(tasks_mod.dedup_scan_part, params=params), scan_tasks, scan_cache,
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
    tasks = _with_entries(tasks, cache, [dedup.part_decisions(decisions, t.passage_offset, n, ids)
                                         for t, (ids, n) in zip(tasks, parts_of)])
    for _ in _map_parts(executor, partial(tasks_mod.dedup_annotate_part, batch_rows=batch_rows), tasks, cache,
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


def run_segment(documents: Path, passages: Path, writer: RunWriter, config: Config, progress: Progress,
                executor: Executor) -> dict[str, Any]:
    """The segment stage: one task per part of the (deduplicated) passages, each writing its part of
    ``tokens``."""
    params = SegmentParams.from_config(config)
    entries = dictionary_entries(params)  # fail early, in this process, on a bad dictionary or stopword file
    started = time.perf_counter()
    cache = _cache(writer, config, "segment")
    tasks = _with_entries(_part_tasks(writer, ("tokens",), documents=documents, passages=passages), cache)
    batch_rows = max(config["run.batch_size"] * 8, 256)
    progress.start("segment", tablefiles.num_rows(passages))
    n_tokens = n_bytes = 0
    forms = []
    fn = partial(tasks_mod.segment_part, params=params, batch_rows=batch_rows)
    for _, done in _map_parts(executor, fn, tasks, cache, writer, ("tokens",), shared=year_table(documents),
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


def corpus_script(documents: Path) -> str:
    """The corpus's majority script, by characters of its documents (their ``script`` is set by normalise;
    'simplified' before it has run)."""
    sums = tablefiles.read(documents, columns=["script", "n_chars"]).group_by("script", use_threads=False).aggregate(
        [("n_chars", "sum")])  # a few rows, one per script
    return majority_script(sums["script"].to_pylist(), sums["n_chars_sum"].to_pylist())


def _budget(config: Config, executor: Executor) -> Budget:
    return Budget(config["run.memory_gb"], executor.workers)


def run_trends(documents: Path, tokens: Path, writer: RunWriter, config: Config, progress: Progress,
               executor: Executor) -> dict[str, Any]:
    """The trends stage: term counts per year merged from slices of ``tokens``, trends and keyness, then
    per-document keywords slice by slice (corpus-wide, streamed through the executor)."""
    started = time.perf_counter()
    budget = _budget(config, executor)
    for name in ("term_trends", "keyness", "keywords"):
        writer.open(name)
    slices = plan_slices(tokens, "doc_id", budget.slice_rows())
    info = trends_stage.run_trends(slices, documents_per_year(documents), trends_stage.TrendParams.from_config(config),
                                   keywords_stage.KeywordParams.from_config(config), executor, writer.write, progress,
                                   merge_rows=budget.merge_rows())
    seconds = time.perf_counter() - started
    log.info("trends: %d term-year row(s), %d keyness row(s), %d keyword(s), %.2f s", info["term_trend_rows"],
             info["keyness_rows"], info["keywords"], seconds)
    return {"seconds": round(seconds, 3), "workers": executor.workers, "slices": len(slices), **info}


def run_topics(documents: Path, tokens: Path, writer: RunWriter, config: Config, progress: Progress,
               executor: Executor, term_forms: Path | None = None) -> dict[str, Any]:
    """The topics stage: vocabulary and sample from slices of ``tokens``, candidate models fitted in
    parallel, the most coherent kept, every unit's weights inferred slice by slice."""
    params = topics_stage.TopicParams.from_config(config)
    if params.display_script == "auto":
        params = replace(params, display_script=corpus_script(documents))
    started = time.perf_counter()
    budget = _budget(config, executor)
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


def _current(out: Path, writer: RunWriter, name: str) -> Path:
    """Table ``name`` as it stands: written by an earlier stage of this run, else the one in ``out``."""
    return writer.finished(name) if writer.has(name) else _stage_input(out, name)


def _stage_inputs(out: Path, writer: RunWriter, stages: tuple[str, ...], stage: str) -> tuple[Path, Path]:
    """``documents`` and ``passages`` for ``stage``: from an earlier stage of this run, else from ``out``."""
    if stages.index(stage) > 0:
        return writer.take("documents"), writer.take("passages")
    return _stage_input(out, "documents"), _stage_input(out, "passages")


def run(raw: Path, out: Path, config: Config, *, stages: tuple[str, ...] = STAGES,
        progress: Progress | None = None, command: str = "run") -> RunResult:
    """Run ``stages`` on the raw folder (or corpus file) ``raw``, writing every table into ``out``.

    Parameters
    ----------
    raw
        A folder of article and corpus files, or a single file.
    out
        The output folder; created if needed. Tables are replaced atomically at the end of the run.
    config
        A validated :class:`~kefu_corpus.config.Config`.
    stages
        Stages to run, in order. A run without ``ingest`` reads its inputs from the tables of an earlier
        run in ``out`` (``raw`` is then unused) and keeps that run's other tables.
    progress
        Receives progress events; nothing is shown by default.

    Returns
    -------
    RunResult
    """
    import multiprocessing

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # A worker re-imports the main script; without a guard that script would start a run of its own
        # and wait forever for the output folder its parent holds.
        raise KefuError("kefu_corpus.pipeline.run was called while a worker process was starting: the script "
                        "that calls it runs again in every worker.",
                        hint='put the call under `if __name__ == "__main__":`')
    progress = progress or NoProgress()
    started_at = dt.datetime.now(dt.timezone.utc)
    started = time.perf_counter()
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise KefuError(f"Unknown stage(s): {', '.join(unknown)}.", hint=f"choose from {', '.join(STAGES)}")
    writer = RunWriter(out, compression=config["output.compression"], row_group_size=config["output.row_group_size"],
                       wait=config["run.wait_for_lock"], on_wait=log.warning)
    stage_info: dict[str, Any] = {}
    key = inputs = None
    try:
        previous = read_manifest(out) if "ingest" not in stages else {}
        if "ingest" in stages:
            key, inputs = _run_key(raw, config)
            done = _up_to_date(out, key, stages) if config["run.skip_unchanged"] else None
            if done is not None:
                writer.abort()
                log.info("%s is up to date: the run of %s had the same inputs, config and code", out,
                         done.get("started_at"))
                return _result(out, {n: e["rows"] for n, e in done["tables"].items()}, done,
                               time.perf_counter() - started, done.get("stages", {}).get("ingest", {}).get("bytes", 0),
                               stages, up_to_date=True)
        executor = open_executor(config["run.executor"], config["run.workers"], config["run.scheduler"])
    except BaseException:
        writer.abort()
        raise
    try:
        for i, stage in enumerate(stages):
            writer.transient = {name for name in _PARTED_OUTPUTS.get(stage, ())
                                if any(name in _PARTED_OUTPUTS.get(later, ()) for later in stages[i + 1:])}
            with PeakRss() as peak:
                if stage == "ingest":
                    info = run_ingest(raw, writer, config, progress, executor, inputs)
                elif stage == "normalise":
                    docs_in, passages_in = _stage_inputs(out, writer, stages, stage)
                    info = run_normalise(docs_in, passages_in, writer, config, progress, executor)
                elif stage == "dedup":
                    docs_in, passages_in = _stage_inputs(out, writer, stages, stage)
                    info = run_dedup(docs_in, passages_in, writer, config, progress, executor)
                elif stage == "segment":
                    info = run_segment(_current(out, writer, "documents"), _current(out, writer, "passages"), writer,
                                       config, progress, executor)
                elif stage == "trends":
                    info = run_trends(_current(out, writer, "documents"), _current(out, writer, "tokens"), writer,
                                      config, progress, executor)
                elif stage == "topics":
                    forms = (_current(out, writer, "term_forms") if writer.has("term_forms")
                             or tablefiles.exists(out / schemas.TERM_FORMS.filename) else None)
                    info = run_topics(_current(out, writer, "documents"), _current(out, writer, "tokens"), writer,
                                      config, progress, executor, forms)
            stage_info[stage] = {**info, "peak_rss_mb": peak.peak_mb}
        inputs = stage_info.get("ingest", {}).pop("inputs", None)
        if inputs is None:
            inputs = previous.get("inputs", [])
        manifest = {
            "kefu_corpus": __version__,
            "command": command,
            "raw": str(raw) if "ingest" in stages else previous.get("raw"),
            "stages": {**previous.get("stages", {}), **stage_info},
            "config": config.as_dict(),
            "config_source": config.source,
            "seed": config["run.seed"],
            "versions": library_versions(),
            "inputs": inputs,
            "schema_versions": {name: spec.version for name, spec in schemas.TABLES.items()},
            "started_at": started_at.isoformat(timespec="seconds"),
            "run_key": key,  # a full run's key: a later run with the same key has nothing to do
            # the script the corpus itself is mostly written in: what the report and plots show by default
            "display_script": (corpus_script(_current(out, writer, "documents"))
                               if writer.has("documents") or previous.get("tables", {}).get("documents")
                               else previous.get("display_script", "simplified")),
        }
        seconds = time.perf_counter() - started
        manifest["seconds"] = round(seconds, 3)
        counts = writer.commit(manifest, keep=previous.get("tables"))
    except BaseException:
        writer.abort()
        raise
    finally:
        executor.close()
    return _result(out, counts, manifest, seconds, stage_info.get("ingest", {}).get("bytes", 0), stages)


def _result(out: Path, counts: dict[str, int], manifest: dict[str, Any], seconds: float, bytes_in: int,
            stages: tuple[str, ...], up_to_date: bool = False) -> RunResult:
    report = _read_report(out) if counts.get("ingest_report") else None
    status_counts = dict(Counter(report.column("status").to_pylist())) if report is not None else {}
    problems = (report.filter(pc.is_in(report.column("status"), pa.array(["rejected", "warning"]))).to_pylist()
                if report is not None else [])
    return RunResult(out=out, tables=counts, status_counts=status_counts, problems=problems, seconds=seconds,
                     bytes_in=bytes_in, manifest=manifest, stages=tuple(stages), up_to_date=up_to_date)


def _read_report(out: Path) -> pa.Table:
    return read_table(out, "ingest_report", columns=["source_path", "source_record", "status", "reason", "message"])
