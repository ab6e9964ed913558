"""What a worker does with one part: read its input part, run a stage's pure batch function over it,
and write its output part into the run folder.

The driver sends each task a :class:`PartTask`, a work description of a few hundred bytes (the paths of
the input part files, or the article files, and where to write), not the text. Rows travel between
processes as files, so the driver's cost does not grow with the corpus, and a task runs the same on the
local pool and on a Dask worker that sees the same filesystem. Ingest's records of a corpus file (JSON
Lines, CSV, Parquet) travel as ranges of the file (:mod:`kefu_corpus.ranges`). Each task returns a
small summary (counts, and the rows of the small tables such as ``repairs``), which the driver gathers
in task order.

Part *i* of ``documents``, ``passages`` and ``tokens`` holds the same documents
(:mod:`kefu_corpus.tablefiles`); a stage's task *i* reads input part *i* and writes output part *i*,
so the parts, and therefore the bytes of every table, do not depend on the number of workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kefu_corpus import schemas, tablefiles
from kefu_corpus.errors import KefuError
from kefu_corpus.store import PartTarget, PartWriter


@dataclass(frozen=True)
class PartTask:
    """Part ``target.index``: input part files by table name, where to write, and the global position
    of the part's first passage (``passage_offset``, for tasks that index passages corpus-wide)."""

    inputs: dict[str, str]
    target: PartTarget
    passage_offset: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    entry: str | None = None  # its folder in the part cache (:mod:`kefu_corpus.partcache`)
    reuse: bool = True

    @property
    def index(self) -> int:
        return self.target.index


def plan_parts(tables: dict[str, Path], make_target) -> list[PartTask]:
    """One task per part of the input ``tables`` (name -> table path), pairing parts by name.

    A table stored as one file (written before tables were parted) is one part. ``make_target(index)``
    gives the output target of part ``index``.
    """
    listed = {name: tablefiles.files(path) for name, path in tables.items()}
    counts = {name: len(parts) for name, parts in listed.items()}
    names = [[p.name for p in parts] for name, parts in listed.items() if tables[name].is_dir()]
    if len(set(counts.values())) > 1 or any(n != names[0] for n in names):
        described = ", ".join(f"{name} {n}" for name, n in counts.items())
        raise KefuError(f"The parts of the input tables do not match ({described}).",
                        hint="rerun `kefu run` to rebuild the tables together")
    tasks, offset = [], 0
    n = next(iter(counts.values()))
    for i in range(n):
        inputs = {name: str(parts[i]) for name, parts in listed.items()}
        tasks.append(PartTask(inputs, make_target(i), passage_offset=offset))
        if "passages" in listed:
            offset += pq.read_metadata(listed["passages"][i]).num_rows
    return tasks


def ingest_part(task: PartTask, params, batch_size: int, batch_bytes: int) -> dict[str, pa.Table]:
    """The ingest stage on one part, its inputs described in ``task.extra["items"]`` (article files by
    path, records of corpus files as ranges of their files, :mod:`kefu_corpus.ranges`), which this worker
    reads: writes ``documents`` and ``passages``; returns ``boilerplate``, ``ingest_report`` and ``keys``
    (each document's ``doc_id``, ``sha256``, ``source_path`` and ``source_record``, for the driver's
    corpus-wide check of repeated content)."""
    from kefu_corpus.ranges import expand
    from kefu_corpus.sources import batched
    from kefu_corpus.transforms.ingest import ingest_batch

    small: dict[str, list[pa.Table]] = {"boilerplate": [], "ingest_report": [], "keys": []}
    with PartWriter(task.target, ("documents", "passages")) as parts:
        for batch in batched(expand(task.extra["items"]), size=batch_size, max_bytes=batch_bytes):
            tables = ingest_batch(batch, params)
            parts.write("documents", tables["documents"])
            parts.write("passages", tables["passages"])
            small["boilerplate"].append(tables["boilerplate"])
            small["ingest_report"].append(tables["ingest_report"])
            small["keys"].append(tables["documents"].select(["doc_id", "sha256", "source_path", "source_record"]))
    empty = {"boilerplate": schemas.BOILERPLATE.schema.empty_table(),
             "ingest_report": schemas.INGEST_REPORT.schema.empty_table(),
             "keys": schemas.DOCUMENTS.schema.empty_table().select(["doc_id", "sha256", "source_path", "source_record"])}
    return {name: pa.concat_tables(tables) if tables else empty[name] for name, tables in small.items()}


def point_at_firsts(job: tuple[str, PartTarget, dict[str, str]]) -> None:
    """Rewrite one part of ``documents`` (``job``: its path, its target, and ``{doc_id: first doc_id}``)
    with ``duplicate_of`` set for documents whose bytes repeat an earlier input's. The part is replaced
    whole, atomically."""
    path, target, firsts = job
    table = tablefiles.read(Path(path), schema=schemas.DOCUMENTS.schema)
    column = table.schema.get_field_index("duplicate_of")
    values = pa.array([firsts.get(d) for d in table.column("doc_id").to_pylist()], pa.string())
    with PartWriter(target, ("documents",)) as part:
        part.write("documents", table.set_column(column, table.schema.field(column), values))


class _RowStream:
    """The rows of a Parquet file, taken in order, any number at a time."""

    def __init__(self, path: str | Path, batch_rows: int = 4096) -> None:
        file = pq.ParquetFile(path)
        self._schema = file.schema_arrow
        self._batches = file.iter_batches(batch_size=batch_rows)
        self._held: list[pa.RecordBatch] = []
        self._rows = 0

    def take(self, n: int) -> pa.Table:
        """The next ``n`` rows (fewer at the end of the file)."""
        while self._rows < n:
            batch = next(self._batches, None)
            if batch is None:
                break
            self._held.append(batch)
            self._rows += batch.num_rows
        table = pa.Table.from_batches(self._held, schema=self._schema)
        rest = table.slice(n)
        self._held, self._rows = rest.to_batches(), rest.num_rows
        return table.slice(0, n)


def documents_with_passages(documents: str | Path, passages: str | Path, batch_size: int,
                            batch_bytes: int) -> Iterator[tuple[pa.Table, pa.Table]]:
    """Batches of documents (at most ``batch_size`` of them, and about ``batch_bytes`` of text) with
    their passages, read in step from one part of each table (both in document order)."""
    rows = _RowStream(passages)
    for record_batch in pq.ParquetFile(documents).iter_batches(batch_size=max(batch_size, 1)):
        lo, size = 0, 0
        for i, n in enumerate(pc.utf8_length(record_batch.column("text")).to_pylist()):
            size += n
            if size >= batch_bytes or i + 1 == record_batch.num_rows:
                docs = pa.Table.from_batches([record_batch.slice(lo, i + 1 - lo)])
                counts = docs.column("n_passages").to_numpy()
                mine = rows.take(int(counts.sum()))
                owners = docs.column("doc_id").take(pa.array(np.repeat(np.arange(docs.num_rows), counts)))
                if not mine.column("doc_id").equals(owners):
                    raise KefuError(f"{passages} does not hold the passages of {documents} in document order.",
                                    hint="rerun `kefu run` to rebuild the tables together")
                yield docs, mine
                lo, size = i + 1, 0
    if rows.take(1).num_rows:
        raise KefuError(f"{passages} has passages that follow the last document of {documents}.",
                        hint="rerun `kefu run` to rebuild the tables together")


def normalise_part(task: PartTask, model: Any, params, batch_size: int, batch_bytes: int) -> dict[str, Any]:
    """The normalise stage on one part: writes ``documents`` and ``passages``; returns the ``repairs``
    rows and counts."""
    from kefu_corpus.transforms.normalise import normalise_batch

    repairs, n_docs, n_passages, n_chars = [], 0, 0, 0
    with PartWriter(task.target, ("documents", "passages")) as parts:
        for batch in documents_with_passages(task.inputs["documents"], task.inputs["passages"], batch_size,
                                             batch_bytes):
            tables = normalise_batch(*batch, model, params)
            parts.write("documents", tables["documents"])
            parts.write("passages", tables["passages"])
            repairs.append(tables["repairs"])
            n_docs += tables["documents"].num_rows
            n_passages += tables["passages"].num_rows
            n_chars += pc.sum(tables["documents"].column("n_chars")).as_py() or 0
    return {"repairs": pa.concat_tables(repairs) if repairs else schemas.REPAIRS.schema.empty_table(),
            "documents": n_docs, "passages": n_passages, "chars": n_chars}


def read_part(task: PartTask, name: str, columns: list[str] | None = None) -> pa.Table:
    spec = schemas.TABLES[name]
    table = pq.read_table(task.inputs[name], columns=columns)
    return table if columns is not None else table.cast(spec.schema)


def dedup_scan_part(task: PartTask, params) -> Any:
    """Pass 1 of the dedup stage on one part of ``passages`` (whole documents)."""
    from kefu_corpus.transforms import dedup

    table = read_part(task, "passages", dedup.SCAN_COLUMNS)
    if table.column("text_canonical").null_count:
        raise KefuError(f"{task.inputs['passages']} has passages without text_canonical: the normalise stage "
                        "has not run on it.", hint="run `kefu normalise` (or `kefu run`) on this output folder first")
    return dedup.scan_batch(table, params)


def dedup_align_job(job, parts: list[str], params) -> dict:
    """Align near-duplicate documents with their kept copies (:func:`kefu_corpus.transforms.dedup.align_job`),
    reading their passages from the part files ``parts`` of the stage's input."""
    from kefu_corpus.transforms import dedup

    return dedup.align_job(job, lambda i: pq.read_table(parts[i], columns=dedup.ALIGN_COLUMNS), params)


def dedup_annotate_part(task: PartTask, decisions, batch_rows: int) -> dict[str, int]:
    """Pass 3 of the dedup stage on one part: writes ``documents`` and ``passages`` with the dedup columns."""
    from kefu_corpus.transforms import dedup

    with PartWriter(task.target, ("documents", "passages")) as parts:
        ordinal = task.passage_offset
        for batch in pq.ParquetFile(task.inputs["passages"]).iter_batches(batch_size=batch_rows):
            table = pa.Table.from_batches([batch]).cast(schemas.PASSAGES.schema)
            parts.write("passages", dedup.annotate_passages(table, ordinal, decisions))
            ordinal += table.num_rows
        for batch in pq.ParquetFile(task.inputs["documents"]).iter_batches(batch_size=batch_rows):
            table = pa.Table.from_batches([batch]).cast(schemas.DOCUMENTS.schema)
            parts.write("documents", dedup.annotate_documents(table, decisions))
    return parts.rows


def segment_part(task: PartTask, years: pa.Table, params, batch_rows: int) -> dict[str, int]:
    """The segment stage on one part of ``passages``: writes ``tokens``; returns counts, and how the part
    writes each term in each script (:func:`~kefu_corpus.transforms.segment.written_forms`)."""
    from kefu_corpus.transforms.segment import COLUMNS, segment_batch, term_forms_table, written_forms

    n_bytes = n_passages = 0
    forms = []
    with PartWriter(task.target, ("tokens",)) as parts:
        for batch in pq.ParquetFile(task.inputs["passages"]).iter_batches(batch_size=batch_rows, columns=COLUMNS):
            table = pa.Table.from_batches([batch])
            if table.column("text_canonical").null_count:
                raise KefuError(f"{task.inputs['passages']} has passages without text_canonical: the normalise "
                                "stage has not run on it.",
                                hint="run `kefu normalise` (or `kefu run`) on this output folder first")
            tokens = segment_batch(table, years, params)
            parts.write("tokens", tokens)
            forms.append(written_forms(tokens, table))
            kept = table if params.include_duplicates else table.filter(
                pc.invert(pc.fill_null(table.column("is_duplicate"), False)))
            n_bytes += pc.sum(pc.binary_length(kept.column("text_canonical"))).as_py() or 0
            n_passages += table.num_rows
    return {"tokens": parts.rows["tokens"], "bytes": n_bytes, "passages": n_passages,
            "forms": term_forms_table(forms).drop_columns(["is_display"])}
