"""The ingest stage: raw files in; documents, passages, boilerplate and the ingest report out.

Requires: the raw folder (article files, corpus files, a metadata sidecar). Assigns: ``documents``,
``passages``, ``boilerplate``, ``ingest_report``. The pure work on a batch of items is
:func:`kefu_corpus.transforms.ingest.ingest_batch`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from kefu_corpus.config import (Section, Config, anything, extensions, non_negative, one_of, param, positive,
                                fraction)
from kefu_corpus.stage import Stage, StageRun

if TYPE_CHECKING:
    import pyarrow as pa

    from kefu_corpus.sources import Inventory, Sidecar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestParams(Section):
    """``ingest.*``: how raw files are found, decoded and cut into documents and passages."""

    SECTION: ClassVar[str] = "ingest"

    text_extensions: tuple[str, ...] = param((".txt", ".md"), "a list of extensions starting with '.'", extensions,
        "Files read as one article each.")
    sidecar: str = param("metadata.csv", "a file name", anything,
        "Metadata sidecar in the raw folder, keyed by file; '' disables it.")
    text_column: str = param("text", "a column name", anything,
        "Text field of JSON Lines, CSV and Parquet corpus files.")
    id_column: str = param("id", "a column name", anything,
        "Record id field of corpus files (optional in the data).")
    on_decode_error: str = param("reject", "one of 'reject', 'replace'", one_of("reject", "replace"),
        "A file with invalid bytes in its detected encoding is rejected, or decoded "
        "with U+FFFD replacements and a warning.")
    min_plausibility: float = param(0.6, "a float in [0, 1]", fraction,
        "Least share of frequent Chinese characters for a legacy-encoding guess "
        "(GB18030, Big5) to be trusted over the detector's other candidates.")
    max_title_chars: int = param(60, "an int >= 1", positive,
        "A first line longer than this is body text, not a title.")
    max_passage_chars: int = param(1200, "an int >= 1", positive,
        "A paragraph longer than this is split at sentence ends into passages.")
    header_lines: int = param(4, "an int >= 0", non_negative,
        "Non-blank lines at the top searched for title, dateline and site furniture.")
    footer_lines: int = param(8, "an int >= 0", non_negative,
        "Non-blank lines at the bottom searched for bylines, notices and site furniture.")
    patterns: str = param("", "a path to a TOML file, or ''", anything,
        "Extra boilerplate and metadata rules, added to the shipped ones.")
    follow_symlinks: bool = param(False, "true or false", anything,
        "Read files and folders that symbolic links in the raw folder point to outside "
        "it (false: each such link is skipped with a row in ingest_report).")


def run(ctx: StageRun) -> dict[str, Any]:
    """The ingest stage over the raw folder, written through the run's writer. Returns the stage's
    manifest entry. ``ctx.inputs``: the manifest's list of input files with their SHA-256, if the driver
    has hashed them already.

    The driver reads the inputs once and groups them into parts of about ``run.part_bytes`` raw bytes,
    cut at content-defined places; each part is one task, described by where its inputs lie (article
    files by path, records as ranges of their file, :mod:`kefu_corpus.ranges`), which reads them, writes
    its parts of ``documents`` and ``passages`` and returns the small tables. A part whose items, config
    and code are those of a finished part in the output folder's part cache is reused."""
    import pyarrow.compute as pc

    from kefu_corpus import partrun, schemas, tablefiles
    from kefu_corpus import tasks as tasks_mod
    from kefu_corpus.tasks import PartTask
    from kefu_corpus.ranges import describe_part
    from kefu_corpus.sources import Sidecar, content_parts, iter_items, load_sidecar
    from kefu_corpus.text.rules import load_patterns

    raw, writer, config, progress, executor = ctx.raw, ctx.writer, ctx.config, ctx.progress, ctx.executor
    inputs = ctx.inputs
    ingest = config.section("ingest")
    load_patterns(ingest["patterns"])  # fail early, in this process, on a bad patterns file
    found = inventory(raw, config)
    rels = [found.rel(p) for p in found.inputs]
    sidecar = (load_sidecar(found.sidecar, found.rel(found.sidecar), rels)
               if found.sidecar is not None else Sidecar())
    for name in STAGE.assigns:
        writer.open(name)
    writer.write("ingest_report", schemas.table_from_rows(schemas.INGEST_REPORT, _preamble_rows(found, sidecar)))

    if inputs is None:
        inputs = input_entries(found)
    items = iter_items(found, sidecar, text_column=ingest["text_column"], id_column=ingest["id_column"],
                       known={entry["path"]: entry for entry in inputs})
    cache = partrun.part_cache(writer, config, "ingest")
    files = {found.rel(path): path for path in found.corpora}
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
             len(found.articles), len(found.corpora),
             found.rel(found.sidecar) if found.sidecar else "none", len(found.ignored),
             executor.workers)

    progress.start("ingest", None if found.corpora else len(found.articles))
    seen: dict[str, tuple[str, str]] = {}
    repeated: list[tuple[int, dict[str, str]]] = []  # parts whose documents repeat an earlier input's
    text_bytes = n_parts = 0
    started = time.perf_counter()
    for task, result in partrun.map_parts(executor, fn, tasks(), cache, writer, ("documents", "passages")):
        done = dict(result)
        firsts = _flag_repeated_content(done, seen)
        if firsts:
            repeated.append((task.index, firsts))
        text_bytes += pc.sum(done["ingest_report"].column("n_bytes")).as_py() or 0
        writer.write("boilerplate", done["boilerplate"])
        writer.write("ingest_report", done["ingest_report"])
        progress.advance(done["ingest_report"].num_rows)
        n_parts += 1
    # Those parts get documents.duplicate_of, rewritten in parallel once every part is written (rare in
    # article folders; hundreds of records in a corpus file that repeats itself)
    jobs = [(str(writer.staging / schemas.DOCUMENTS.filename / tablefiles.part_name(index)), writer.part_target(index),
             firsts) for index, firsts in repeated]
    for _ in executor.map(tasks_mod.point_at_firsts, jobs):
        pass
    seconds = time.perf_counter() - started
    writer.drop_scratch("ingest")
    progress.finish()
    log.info("ingest: %.1f MB of text in %.2f s", text_bytes / 1e6, seconds)
    return {"seconds": round(seconds, 3), "bytes": text_bytes, "workers": executor.workers, "parts": n_parts,
            "parts_reused": cache.reused, "mb_per_s": round(text_bytes / 1e6 / seconds, 3) if seconds else None, "inputs": inputs}


def file_size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None  # unreadable: its report row says so


def inventory(raw: Path, config: Config) -> Inventory:
    from kefu_corpus.sources import discover

    ingest = config.section("ingest")
    return discover(raw, text_extensions=tuple(ingest["text_extensions"]), sidecar_name=ingest["sidecar"],
                    follow_symlinks=ingest["follow_symlinks"])


def input_entries(inventory: Inventory) -> list[dict]:
    """The manifest's list of inputs: path, SHA-256 and size of each."""
    from kefu_corpus.store import file_sha256_or_none

    return [{"path": inventory.rel(p), "sha256": file_sha256_or_none(p), "bytes": file_size(p)} for p in inventory.inputs]


def _preamble_rows(inventory: Inventory, sidecar: Sidecar) -> list[dict]:
    """Report rows for what is not ingested as documents: ignored files, the sidecar and its problems."""
    rows = []
    blank = {"doc_id": None, "encoding": None}
    for path, reason, message in inventory.ignored:
        rows.append({**blank, "source_path": inventory.rel(path), "source_record": None, "status": "ignored",
                     "reason": reason, "message": message, "n_bytes": file_size(path)})
    if inventory.sidecar is not None:
        rel = inventory.rel(inventory.sidecar)
        rows.append({**blank, "source_path": rel, "source_record": None, "status": "sidecar", "reason": None,
                     "message": f"metadata for {len(sidecar.by_path)} input(s)",
                     "n_bytes": file_size(inventory.sidecar)})
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
    from kefu_corpus import schemas

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


def _items_digest(items) -> str:
    """What an ingest part is computed from: its items' names, bytes, fields and sidecar metadata."""
    import xxhash

    from kefu_corpus.partcache import digest

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



STAGE = Stage("ingest", "Decode, read metadata, separate boilerplate, split passages.",
              requires=(), assigns=("documents", "passages", "boilerplate", "ingest_report"), runner=run,
              params=(IngestParams,), reads_raw=True)
