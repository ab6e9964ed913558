"""Input discovery and readers: the one place raw inputs are read from disk.

A raw folder holds article files (``.txt``/``.md``: one article each), corpus files (JSON Lines, optionally
gzip-compressed; CSV; Parquet: one article per record) and optionally a metadata sidecar (``metadata.csv``).
Readers turn them into :class:`SourceItem` s in a deterministic order (sorted relative paths, then record
order). A record that cannot be read becomes an item carrying a ``problem`` instead of failing the run.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import re
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from kefu_corpus.errors import KefuError
from kefu_corpus.text import dates
from kefu_corpus.text.decode import DecodeError, decode_bytes

METADATA_FIELDS = ("title", "date", "author", "publication")
SIDECAR_COLUMNS = ("file", *METADATA_FIELDS, "encoding")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet",)


@dataclass(frozen=True)
class RecordAt:
    """Where a record lies in its corpus file: bytes ``[start, end)`` (rows, for Parquet), which hold the
    record and any blank lines before it, and ``line`` lines (CSV: rows) of the file before them.
    ``lines`` is a CSV file's physical lines before them, header included. ``raw`` keeps the bytes, for a
    compressed file, whose offsets no other process can seek to; ``header`` a CSV file's header row."""

    start: int
    end: int
    line: int
    lines: int = 0
    raw: bytes | None = None
    #: The header row of a CSV file (the one list, shared by its records).
    header: list[str] | None = None
    #: The file repeats the record's id: its id is made unique (see :func:`iter_items`).
    renamed: bool = False
    #: ``start`` and ``end`` count rows, not bytes (Parquet).
    in_rows: bool = False


@dataclass(frozen=True)
class SourceItem:
    """One unit of ingest work: an article file's bytes, or one record of a corpus file."""

    source_path: str
    source_record: str | None = None
    data: bytes | None = None
    text: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    sidecar: dict[str, str] = field(default_factory=dict)
    problem: tuple[str, str] | None = None  # (reason, message) when the item could not be read
    #: An article file not read yet: its path, size and SHA-256 (the worker reads it, :meth:`loaded`).
    path: str | None = None
    size: int | None = None
    sha256: str | None = None
    #: Where a record of a corpus file lies in it (set by the readers; :mod:`kefu_corpus.ranges`).
    at: RecordAt | None = None
    #: A range of a corpus file's records, for the worker to read (:mod:`kefu_corpus.ranges`).
    records: object | None = None

    @property
    def size_hint(self) -> int:
        """Bytes of raw text, for batching: exact for files and located records, an upper bound (3 per
        char) for other records."""
        if self.data is not None:
            return len(self.data)
        if self.path is not None:
            return self.size or 0
        if self.at is not None and not self.at.in_rows:
            return self.at.end - self.at.start
        return 3 * len(self.text) if self.text is not None else 0

    def loaded(self) -> SourceItem:
        """The item with its bytes: an article file named by path is read now (in the worker)."""
        if self.path is None or self.data is not None or self.problem is not None:
            return self
        return read_article(Path(self.path), self.source_path, self.sidecar)


@dataclass(frozen=True)
class Inventory:
    """What a raw folder holds."""

    root: Path
    articles: list[Path]
    corpora: list[Path]
    sidecar: Path | None
    ignored: list[tuple[Path, str, str]]  # (path, reason, message)

    def rel(self, path: Path) -> str:
        """The path relative to the raw folder (for a single-file input: its name), with '/'."""
        return path.relative_to(self.root).as_posix()

    @property
    def inputs(self) -> list[Path]:
        return sorted(self.articles + self.corpora, key=self.rel)


def _kind(path: Path, text_extensions: tuple[str, ...]) -> str | None:
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if path.suffix.lower() in text_extensions:
        return "article"
    return None


def _walk(root: Path, follow_symlinks: bool) -> tuple[list[Path], list[tuple[Path, str, str]]]:
    """Files to consider under ``root``, and the entries skipped there with a reason and a message.

    Symbolic links whose target lies outside ``root`` are skipped unless ``follow_symlinks``; a linked
    folder inside ``root`` is skipped (its files are read where they are); a link that points nowhere is
    kept, so reading it reports it. Sockets, pipes and devices are skipped.
    """
    real_root = root.resolve()
    files: list[Path] = []
    skipped: list[tuple[Path, str, str]] = []
    seen = {real_root}
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            skipped.append((folder, "unreadable_folder", f"the folder {folder.relative_to(root).as_posix()} cannot "
                            f"be listed ({exc.strerror}); its files are not read. Check its permissions."))
            continue
        for entry in entries:
            path = Path(entry.path)
            rel = path.relative_to(root).as_posix()
            link = entry.is_symlink()
            if link:
                target = Path(os.path.realpath(path))
                if not target.exists():
                    files.append(path)
                    continue
                if target != real_root and real_root not in target.parents and not follow_symlinks:
                    skipped.append((path, "symlink_outside", f"{rel} is a symbolic link to {target}, outside the "
                                    "raw folder; not read. Set ingest.follow_symlinks = true to read it."))
                    continue
            try:
                is_dir, is_file = entry.is_dir(), entry.is_file()
            except OSError:
                is_dir, is_file = False, True  # let the reader report it
            if is_dir:
                real = Path(os.path.realpath(path))
                if link and (real in seen or real == real_root or real_root in real.parents):
                    skipped.append((path, "symlink_folder", f"{rel} is a symbolic link to the folder {real}, "
                                    "which is read where it is (or already); not read twice."))
                elif real not in seen:
                    seen.add(real)
                    stack.append(path)
            elif is_file:
                files.append(path)
            else:
                skipped.append((path, "special_file", f"{rel} is not a regular file (a pipe, socket or device); "
                                "not read."))
    return files, skipped


def discover(raw: Path, *, text_extensions: tuple[str, ...], sidecar_name: str,
             follow_symlinks: bool = False) -> Inventory:
    """List the inputs under ``raw`` (a folder, or a single file), and what is skipped there and why."""
    if not raw.exists():
        raise KefuError(f"The raw input {raw} does not exist.", hint="pass a folder of articles or a corpus file")
    if raw.is_dir():
        root = raw
        paths, skipped = _walk(raw, follow_symlinks)
    else:
        root, paths, skipped = raw.parent, [raw], []
    order = lambda p: p.relative_to(root).as_posix()  # noqa: E731
    articles, corpora, ignored, sidecar = [], [], list(skipped), None
    for path in sorted(paths, key=order):
        rel_parts = path.relative_to(root).parts
        if sidecar_name and path.parent == root and path.name == sidecar_name:
            sidecar = path
        elif any(part.startswith(".") for part in rel_parts):
            ignored.append((path, "hidden_file", f"{path.name} is hidden (its name starts with '.'); not read."))
        elif (kind := _kind(path, text_extensions)) == "article":
            articles.append(path)
        elif kind is not None:
            corpora.append(path)
        else:
            ignored.append((path, "unsupported_type",
                            f"{path.name} is not an article ({', '.join(text_extensions)}) or corpus file "
                            "(.jsonl[.gz], .csv, .parquet); not read. Rename it if it is one."))
    return Inventory(root, articles, corpora, sidecar, sorted(ignored, key=lambda e: order(e[0])))


# ---- sidecar -------------------------------------------------------------------------------------------


@dataclass
class Sidecar:
    """Sidecar metadata by input path, plus one report row per problem found in the sidecar."""

    by_path: dict[str, dict[str, str]] = field(default_factory=dict)
    problems: list[tuple[str | None, str, str, str]] = field(default_factory=list)  # (record, status, reason, msg)


def _text_encoding(name: str) -> bool:
    """Whether ``name`` is a codec that decodes bytes to text (not hex, rot13, zlib and the like)."""
    try:
        return codecs.lookup(name)._is_text_encoding
    except LookupError:
        return False


def load_sidecar(path: Path, rel_name: str, known: list[str]) -> Sidecar:
    """Read a CSV sidecar keyed by ``file``: a path relative to the raw folder, or a bare file name.

    Every problem becomes a report entry naming the row and the fix; bad rows are skipped whole, and
    an unreadable sidecar is skipped with one entry, so the run goes on.
    """
    out = Sidecar()
    try:
        decoded = decode_bytes(path.read_bytes(), name=rel_name)
    except (OSError, DecodeError) as exc:
        msg = getattr(exc, "message", str(exc))
        out.problems.append((None, "rejected", "sidecar_unreadable",
                             f"Metadata sidecar {rel_name} cannot be read: {msg} It was not used; fix it and rerun."))
        return out
    try:
        rows = list(csv.DictReader(io.StringIO(decoded.text, newline="")))
    except csv.Error as exc:
        out.problems.append((None, "rejected", "sidecar_unreadable",
                             f"Metadata sidecar {rel_name} is not valid CSV ({exc}). It was not used; fix it."))
        return out
    header = [h.strip() for h in (rows[0].keys() if rows else []) if h is not None]
    if rows and "file" not in header:
        out.problems.append((None, "rejected", "sidecar_unreadable",
                             f"Metadata sidecar {rel_name} has no 'file' column (it has: {', '.join(header)}). "
                             f"It was not used; add a 'file' column naming each input."))
        return out
    for extra in sorted(set(header) - set(SIDECAR_COLUMNS)):
        out.problems.append((None, "warning", "sidecar_unknown_column",
                             f"Metadata sidecar {rel_name} has an unknown column '{extra}', ignored. "
                             f"Known columns: {', '.join(SIDECAR_COLUMNS)}."))
    by_name: dict[str, list[str]] = {}
    for rel in known:
        by_name.setdefault(rel.rsplit("/", 1)[-1], []).append(rel)
    for lineno, row in enumerate(rows, start=2):
        record = f"#{lineno}"
        extra = None in row  # DictReader keeps cells beyond the header under the key None
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        key = row.get("file", "")
        problem = None
        if extra:
            problem = "has more cells than the header"
        elif not key:
            problem = "has an empty 'file' cell"
        elif key not in known and len(by_name.get(key, [])) != 1:
            problem = (f"names '{key}', which matches no input" if key not in by_name
                       else f"names '{key}', which matches several inputs; give the path relative to the raw folder")
        elif row.get("encoding") and not _text_encoding(row["encoding"]):
            problem = (f"has the encoding '{row['encoding']}', which is not a text encoding Python knows "
                       "(for example utf-8, gb18030, big5)")
        elif row.get("date") and dates.parse_iso(row["date"]) is None:
            problem = f"has the date '{row['date']}', which is not YYYY, YYYY-MM or YYYY-MM-DD"
        target = key if key in known else (by_name.get(key) or [key])[0]
        if problem is None and target in out.by_path:
            problem = f"repeats '{key}', already given on an earlier row"
        if problem:
            out.problems.append((record, "rejected", "sidecar_bad_row",
                                 f"Metadata sidecar {rel_name} line {lineno} {problem}. The row was not used; fix it."))
            continue
        out.by_path[target] = {k: v for k, v in row.items() if k in SIDECAR_COLUMNS and k != "file" and v}
    return out


# ---- readers -------------------------------------------------------------------------------------------


def read_article(path: Path, rel: str, sidecar: dict[str, str]) -> SourceItem:
    try:
        return SourceItem(rel, data=path.read_bytes(), sidecar=sidecar)
    except OSError as exc:
        return SourceItem(rel, problem=("unreadable_file", unreadable_message(path, rel, exc)))


def unreadable_message(path: Path, rel: str, exc: OSError) -> str:
    """Why ``path`` cannot be read, and what to do about it."""
    if path.is_symlink() and not path.exists():
        return f"{rel} is a symbolic link to {os.readlink(path)}, which does not exist. Fix or remove the link."
    if isinstance(exc, PermissionError):
        return f"{rel} cannot be read (permission denied). Make it readable (chmod a+r) or move it out of the folder."
    return f"{rel} cannot be read ({exc.strerror or exc}). Check that it is a complete, readable file."


def _record_item(rel: str, record: str, values: dict, text_column: str, id_column: str,
                 sidecar: dict[str, str], at: RecordAt | None = None) -> SourceItem:
    rid = values.get(id_column)
    if rid not in (None, ""):
        record = str(rid)
    text = values.get(text_column)
    if text is None:
        return SourceItem(rel, record, problem=("missing_text", f"{rel} record {record} has no '{text_column}' "
                                                               "field. Add it, or set ingest.text_column."), at=at)
    if not isinstance(text, str):
        return SourceItem(rel, record, problem=("bad_record", f"{rel} record {record}: '{text_column}' is a "
                                                             f"{type(text).__name__}, not a string. Fix the record."), at=at)
    fields = {k: str(values[k]).strip() for k in METADATA_FIELDS
              if values.get(k) not in (None, "") and k != text_column}
    return SourceItem(rel, record, text=text, fields=fields, sidecar=sidecar, at=at)


def _short(exc: BaseException, limit: int = 200) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."


#: A lone surrogate, as a JSON escape such as \ud800 can make: not text, and not encodable.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _checked_record(rel: str, record: str, values: dict, text_column: str, id_column: str,
                    sidecar: dict[str, str], at: RecordAt | None = None) -> SourceItem:
    """:func:`_record_item`, with the text and fields checked, and any failure a problem of this record."""
    try:
        item = _record_item(rel, record, values, text_column, id_column, sidecar, at)
        strings = [item.source_record or "", item.text or "", *item.fields.values()]
        if any(_SURROGATE.search(v) for v in strings):
            return SourceItem(rel, record, problem=("bad_record",
                f"{rel} record {record} holds a lone surrogate (an escape such as \\ud800 that is half of a "
                "character pair); it is not text. Fix the record."), at=at)
        return item
    except Exception as exc:  # one record never sinks its file
        return SourceItem(rel, record, problem=("bad_record",
            f"{rel} record {record} could not be read ({type(exc).__name__}: {_short(exc)}). Fix the record."), at=at)


def _read_span(path: Path, span: RecordAt) -> io.BytesIO:
    """Bytes ``[span.start, span.end)`` of an uncompressed file."""
    with open(path, "rb") as fh:
        fh.seek(span.start)
        return io.BytesIO(fh.read(span.end - span.start))


def iter_jsonl(path: Path, rel: str, *, text_column: str, id_column: str,
               sidecar: dict[str, str], span: RecordAt | None = None) -> Iterator[SourceItem]:
    """Records of a JSON Lines file (gzip-compressed when its name ends in .gz), each located in the file
    (:class:`RecordAt`). ``span``: read only those bytes of ``path``, as the records after ``span.line``
    lines of the file (a worker's range, :mod:`kefu_corpus.ranges`)."""
    compressed = span is None and path.name.lower().endswith(".gz")
    lineno = before = span.line if span is not None else 0
    pos = start = span.start if span is not None else 0
    blank = b""  # blank lines before the next record, kept with it (compressed files)
    try:
        with (gzip.open(path, "rb") if compressed else open(path, "rb")) as fh:
            for lineno, line in enumerate(fh if span is None else _read_span(path, span), start=lineno + 1):
                pos += len(line)
                if not line.strip():
                    if compressed:
                        blank += line
                    continue
                record = f"#{lineno}"
                at = RecordAt(start, pos, before, raw=blank + line if compressed else None)
                start, before, blank = pos, lineno, b""
                try:
                    values = json.loads(line)
                except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, too deep, an integer too long
                    yield SourceItem(rel, record, problem=("broken_record",
                        f"{rel} line {lineno} is not valid JSON ({type(exc).__name__}: {_short(exc)}). "
                        "Fix or remove the line."), at=at)
                    continue
                if not isinstance(values, dict):
                    yield SourceItem(rel, record, problem=("broken_record",
                        f"{rel} line {lineno} is a JSON {type(values).__name__}, not an object. "
                        "Each line must be an object with a text field."), at=at)
                    continue
                yield _checked_record(rel, record, values, text_column, id_column, sidecar, at)
    except (OSError, EOFError, zlib.error) as exc:
        yield SourceItem(rel, f"#{lineno + 1}", problem=("broken_file",
            f"{rel} could not be read past line {lineno} ({exc}): the file is damaged or truncated. "
            "The records before it were ingested; replace the file to ingest the rest."))


def _column_problem(rel: str, names: list[str], text_column: str, id_column: str) -> SourceItem | None:
    """The problem of a corpus file whose columns ``names`` lack the text column or repeat one it needs."""
    repeated = sorted({n for n in names if names.count(n) > 1} & {text_column, id_column, *METADATA_FIELDS})
    if repeated:
        return SourceItem(rel, problem=("ambiguous_column", f"{rel} has more than one column named "
                                        f"{', '.join(map(repr, repeated))}; rename all but one."))
    if text_column not in names:
        shown = ", ".join(n[:40] for n in names[:20])
        return SourceItem(rel, problem=("missing_text", f"{rel} has no '{text_column}' column (it has: "
                                                        f"{shown}). Set ingest.text_column."))
    return None


#: Where a line holds a CR that ends a line of its own (not one of a CRLF).
_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")


class _Lines:
    """The lines of a binary stream as text, for the csv module: CRLF, LF or a lone CR ends a line and is
    kept (what ``open(..., newline="")`` gives), UTF-8 (a BOM at the start of the file dropped), with a
    count of the bytes read and, when ``keep``, the bytes themselves."""

    def __init__(self, fh, *, pos: int = 0, at_file_start: bool = True, keep: bool = False) -> None:
        self._lines = iter(fh)
        self._pending: list[bytes] = []
        self._bom = at_file_start
        self.pos = pos
        self.keep = keep
        self.kept: list[bytes] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if not self._pending:
            line = next(self._lines)
            body = line[:-2] if line.endswith(b"\r\n") else line[:-1] if line.endswith(b"\n") else line
            if b"\r" in body:
                self._pending = [piece for piece in _LONE_CR.split(line) if piece][::-1]
            else:
                self._pending = [line]
        raw = self._pending.pop()
        self.pos += len(raw)
        if self.keep:
            self.kept.append(raw)
        if self._bom:
            self._bom = False
            return raw.decode("utf-8-sig")
        return raw.decode("utf-8")


def iter_csv(path: Path, rel: str, *, text_column: str, id_column: str,
             sidecar: dict[str, str], span: RecordAt | None = None,
             header: list[str] | None = None) -> Iterator[SourceItem]:
    """Records of a UTF-8 CSV file with a header row, streamed: a damaged or truncated file keeps the
    records before the damage, and a row with the wrong number of cells is rejected alone. Each record is
    located in the file (:class:`RecordAt`). ``span`` and ``header``: read only those bytes of ``path``,
    as the rows after ``span.line`` rows and ``span.lines`` lines of a file with that header (a worker's
    range, :mod:`kefu_corpus.ranges`)."""
    csv.field_size_limit(2**31 - 1)  # an article is one cell, and may be long
    compressed = span is None and path.name.lower().endswith(".gz")
    row = span.line if span is not None else 0
    lines_before = span.lines if span is not None else 0
    try:
        with (gzip.open(path, "rb") if compressed else open(path, "rb")) as fh:
            lines = _Lines(fh if span is None else _read_span(path, span), keep=compressed,
                           pos=span.start if span is not None else 0, at_file_start=span is None)
            reader = csv.reader(lines, strict=False)
            if header is None:
                header = next(reader, [])
                problem = _column_problem(rel, header, text_column, id_column)
                if problem is not None:
                    yield problem
                    return
            start, lines_at_start = lines.pos, lines_before + reader.line_num
            lines.kept.clear()
            for cells in reader:
                if not cells:
                    continue
                row += 1
                at = RecordAt(start, lines.pos, row - 1, lines_at_start,
                              b"".join(lines.kept) if compressed else None, header)
                start, lines_at_start = lines.pos, lines_before + reader.line_num
                lines.kept.clear()
                if len(cells) != len(header):
                    yield SourceItem(rel, f"#{row}", problem=("broken_record",
                        f"{rel} row {row} (line {lines_before + reader.line_num}): expected {len(header)} columns, "
                        f"found {len(cells)}. Fix the quoting of that row."), at=at)
                    continue
                yield _checked_record(rel, f"#{row}", dict(zip(header, cells)), text_column, id_column, sidecar, at)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as exc:
        yield SourceItem(rel, f"#{row + 1}", problem=("broken_file",
            f"{rel} could not be read as UTF-8 CSV past row {row} ({type(exc).__name__}: {_short(exc)}). "
            + ("The rows before it were ingested; re-save" if row else "Re-save") + " it as UTF-8 CSV with a header row."))


def _row_batches(pf: pq.ParquetFile, columns: list[str], span: RecordAt | None) -> Iterator[pa.RecordBatch]:
    """Batches of a Parquet file's rows, all of them or rows ``[span.start, span.end)`` (only the row
    groups that hold them are read)."""
    if span is None:
        yield from pf.iter_batches(batch_size=1024, columns=columns)
        return
    first = 0
    for group in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(group).num_rows
        lo, hi = max(span.start - first, 0), min(span.end - first, n)
        if lo < hi:
            yield from pf.read_row_group(group, columns=columns).slice(lo, hi - lo).to_batches(max_chunksize=1024)
        first += n
        if first >= span.end:
            return


def iter_parquet(path: Path, rel: str, *, text_column: str, id_column: str,
                 sidecar: dict[str, str], span: RecordAt | None = None) -> Iterator[SourceItem]:
    """Records of a Parquet file, a batch at a time: a damaged file keeps the records before the damage.
    Each record is located by its row (:class:`RecordAt`); ``span``: read only rows ``[span.start,
    span.end)`` (a worker's range, :mod:`kefu_corpus.ranges`)."""
    row = span.start if span is not None else 0
    try:
        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
        problem = _column_problem(rel, names, text_column, id_column)
        if problem is not None:
            yield problem
            return
        wanted = [c for c in (id_column, text_column, *METADATA_FIELDS) if c in names]
        for batch in _row_batches(pf, list(dict.fromkeys(wanted)), span):
            for values in batch.to_pylist():
                row += 1
                yield _checked_record(rel, f"#{row}", values, text_column, id_column, sidecar,
                                      RecordAt(row - 1, row, row - 1, in_rows=True))
    except (OSError, pa.ArrowException, ValueError, IndexError, UnicodeDecodeError) as exc:
        # pyarrow reports a damaged file in many ways: bad metadata, a bad page, bytes that are not UTF-8
        yield SourceItem(rel, f"#{row + 1}", problem=("broken_file",
            f"{rel} could not be read as Parquet past row {row} ({type(exc).__name__}: {_short(exc)}). "
            + ("The rows before it were ingested; replace" if row else "Replace") + " the file."))


def iter_items(inventory: Inventory, sidecar: Sidecar, *, text_column: str, id_column: str,
               known: dict[str, dict] | None = None) -> Iterator[SourceItem]:
    """Every input as items, in a deterministic order.

    ``known`` maps input paths to their manifest entries (``sha256``, ``bytes``): an article file found
    there is not read here but named by path, size and SHA-256, and read by the worker that ingests it
    (:meth:`SourceItem.loaded`), so the driver sends work descriptions, not text."""
    articles = set(inventory.articles)
    for path in inventory.inputs:
        rel = inventory.rel(path)
        meta = sidecar.by_path.get(rel, {})
        if path in articles:
            entry = (known or {}).get(rel)
            if entry and entry.get("sha256"):
                yield SourceItem(rel, sidecar=meta, path=str(path), size=entry["bytes"], sha256=entry["sha256"])
            else:
                yield read_article(path, rel, meta)
            continue
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            yield SourceItem(rel, problem=("unreadable_file", unreadable_message(path, rel, exc)))
            continue
        name = path.name.lower()
        reader = iter_jsonl if name.endswith(JSONL_SUFFIXES) else iter_csv if name.endswith(CSV_SUFFIXES) else iter_parquet
        records, seen = 0, set()
        try:
            for item in reader(path, rel, text_column=text_column, id_column=id_column, sidecar=meta):
                records += 1
                if item.source_record in seen:  # a repeated id: the record's place in the file keeps it unique
                    item = replace(item, source_record=f"{item.source_record}@{records}",
                                   at=None if item.at is None else replace(item.at, renamed=True))
                seen.add(item.source_record)
                yield item
        except Exception as exc:  # one input never sinks the run: what came before is kept, the rest reported
            yield SourceItem(rel, f"#{records + 1}", problem=("broken_file",
                f"{rel} could not be read past its first {records} record(s) ({type(exc).__name__}: "
                f"{_short(exc)}). The records before were ingested; fix the file to ingest the rest."))


def batched(items: Iterator[SourceItem], *, size: int, max_bytes: int) -> Iterator[list[SourceItem]]:
    """Group items into batches of at most ``size`` items or about ``max_bytes`` bytes."""
    batch: list[SourceItem] = []
    nbytes = 0
    for item in items:
        batch.append(item)
        nbytes += item.size_hint
        if len(batch) >= size or nbytes >= max_bytes:
            yield batch
            batch, nbytes = [], 0
    if batch:
        yield batch


def content_parts(items: Iterator[SourceItem], part_bytes: int) -> Iterator[list[SourceItem]]:
    """Group items into parts of about ``part_bytes`` raw bytes, cut at *content-defined* places.

    A part ends after an item with a probability proportional to the item's size, drawn from a hash of
    the item's name (its path and record id), so parts average ``part_bytes`` and a cut depends only on
    the items since the last cut. Adding, removing or editing an input therefore changes only the part it falls in
    (and, rarely, the next); every other part keeps its items, and a rerun reuses it
    (:mod:`kefu_corpus.partcache`). A part holds at least ``part_bytes / 2`` bytes (but the last), then
    ends after each item with a probability of twice the item's share of ``part_bytes``, and at
    ``2 * part_bytes`` at the latest: parts stay close in size, so that the workers finish together.
    """
    import xxhash

    part: list[SourceItem] = []
    nbytes = 0
    for item in items:
        part.append(item)
        size = item.size_hint
        nbytes += size
        draw = xxhash.xxh3_64_intdigest(f"{item.source_path}\0{item.source_record}".encode("utf-8", "surrogatepass"))
        if nbytes >= 2 * part_bytes or (nbytes >= part_bytes // 2 and draw < min(2 * size / part_bytes, 1.0) * 2.0**64):
            yield part
            part, nbytes = [], 0
    if part:
        yield part
