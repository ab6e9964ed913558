"""Record ranges: the work descriptions of ingest's parts that hold records of corpus files.

The driver reads a corpus file (JSON Lines, CSV, Parquet) once, to know where its records lie and to cut
the parts of the corpus at content-defined places (:func:`kefu_corpus.sources.content_parts`). It does
not send the records' text to a worker: :func:`describe_part` folds each run of a part's records of one
file into a :class:`RecordRange`, the file's path and the bytes (Parquet: the rows) that hold them, and
the worker reads and parses those records itself (:func:`expand`), with the same reader
(:mod:`kefu_corpus.sources`) and so with the same ids, problems and messages.

A compressed file (``.jsonl.gz``, ``.csv.gz``) is one stream that no worker can seek into: the driver
writes the bytes of each range, as it decompressed them, to a file in the run folder's scratch space,
and the range names that file. On a cluster the run folder is on the shared filesystem, so every worker
reads it; the scratch space is removed when the stage ends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator

from kefu_corpus.sources import RecordAt, SourceItem, iter_csv, iter_jsonl, iter_parquet

KINDS = ("jsonl", "csv", "parquet")


@dataclass(frozen=True)
class RecordRange:
    """Records of one corpus file for a worker to read: ``span`` of the file at ``path`` (bytes; rows for
    Parquet). ``header`` is a CSV file's header row; ``renames`` gives the records whose id the file
    repeats the id they get (``(index in the range, id)``, see :func:`kefu_corpus.sources.iter_items`)."""

    kind: str
    path: str
    span: RecordAt
    text_column: str
    id_column: str
    header: tuple[str, ...] | None = None
    renames: tuple[tuple[int, str], ...] = ()


def kind_of(name: str) -> str:
    """The reader of a corpus file, from its name."""
    from kefu_corpus.sources import CSV_SUFFIXES, JSONL_SUFFIXES

    name = name.lower()
    return "jsonl" if name.endswith(JSONL_SUFFIXES) else "csv" if name.endswith(CSV_SUFFIXES) else "parquet"


def describe_part(items: list[SourceItem], *, files: dict[str, Path], scratch: Path, index: int,
                  text_column: str, id_column: str) -> list[SourceItem]:
    """The part ``items`` as work descriptions: each run of located records of one corpus file becomes
    one item holding a :class:`RecordRange`; other items (article files named by path, problems) stay.
    ``files`` maps a corpus file's relative path to its path. The bytes of
    a range of a compressed file are written to ``scratch`` (a folder every worker sees), as part
    ``index``'s files."""
    out: list[SourceItem] = []
    run: list[SourceItem] = []

    def flush() -> None:
        if not run:
            return
        first, last = run[0], run[-1]
        rel = first.source_path
        kind = kind_of(rel)
        span = RecordAt(first.at.start, last.at.end, first.at.line, first.at.lines, in_rows=first.at.in_rows)
        path = files[rel]
        if first.at.raw is not None:  # a compressed file: the worker reads the driver's copy of the range
            scratch.mkdir(parents=True, exist_ok=True)
            path = scratch / f"part-{index:05d}-{len(out):05d}.{kind}"
            data = b"".join(item.at.raw for item in run)
            _write(path, data)
            span = RecordAt(0, len(data), first.at.line, first.at.lines)
        renames = tuple((k, item.source_record) for k, item in enumerate(run) if item.at.renamed)
        out.append(SourceItem(rel, sidecar=first.sidecar, records=RecordRange(
            kind, str(path), span, text_column, id_column,
            tuple(first.at.header) if kind == "csv" else None, renames)))
        run.clear()

    for item in items:
        if item.at is None:
            flush()
            out.append(item)
            continue
        if run and (item.source_path != run[-1].source_path or item.at.start != run[-1].at.end):
            flush()
        run.append(item)
    flush()
    return out


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def expand(items: Iterable[SourceItem]) -> Iterator[SourceItem]:
    """The items of a part, each record range read into its records (in the worker)."""
    for item in items:
        if not isinstance(item.records, RecordRange):
            yield item
            continue
        r = item.records
        reader = {"jsonl": iter_jsonl, "csv": iter_csv, "parquet": iter_parquet}[r.kind]
        extra = {"header": list(r.header)} if r.kind == "csv" else {}
        renames = dict(r.renames)
        for k, got in enumerate(reader(Path(r.path), item.source_path, text_column=r.text_column,
                                       id_column=r.id_column, sidecar=item.sidecar, span=r.span, **extra)):
            yield replace(got, source_record=renames[k]) if k in renames else got
