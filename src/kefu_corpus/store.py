"""Atomic Parquet output: the one place tables are written.

A run commits as a whole. Its tables, manifest and model are written into a new run folder,
``OUT/.runs/<run id>/``, streaming batches into row groups. When every file is complete (and synced),
one ``os.replace`` of the symbolic link ``OUT/current`` switches readers from the previous run to the
new one. The names users read, ``OUT/<table>.parquet``, ``OUT/manifest.json`` and ``OUT/models``, are
symbolic links through ``current``, so they switch with it. A kill at any instant leaves either the
previous run or the new one, never a mix; the next run clears the unfinished folder. One run at a time
writes into a folder (:func:`lock_folder`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from kefu_corpus import tablefiles
from kefu_corpus.atomic import write_text_atomic
from kefu_corpus.errors import KefuError
from kefu_corpus.schemas import TABLES, TableSpec

MANIFEST = "manifest.json"
_BUFFER_BYTES = 16 * 1024 * 1024


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n")


def _statistics_columns(schema: pa.Schema) -> list[str]:
    """Columns whose row groups get min/max statistics: numbers, booleans and dates, where readers (DuckDB,
    polars, pyarrow datasets) skip row groups by them. Strings are left out: their statistics cost a third
    of the write time of ``tokens`` and, for hashed ids and free text, prune nothing."""
    return [f.name for f in schema
            if pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_boolean(f.type)
            or pa.types.is_temporal(f.type)]


def _delta_columns(schema: pa.Schema) -> list[str]:
    """Integer columns, written with Parquet's delta encoding (``DELTA_BINARY_PACKED``): offsets and
    positions rise within a passage, so their deltas are small. On the bench corpus this makes the
    ``start`` and ``end`` of ``tokens`` 9 times smaller than a dictionary does, and writes them twice
    as fast. Every reader the README names (pyarrow, DuckDB, polars) decodes it."""
    return [f.name for f in schema if pa.types.is_integer(f.type)]


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """Columns Parquet dictionary-encodes: all but free text and offset lists, whose values rarely
    repeat (the writer would build a dictionary for every page and then drop it: twice the write time
    of ``passages``, and a larger file), and the integers (:func:`_delta_columns`)."""
    delta = set(_delta_columns(schema))
    return [f.name for f in schema
            if not (f.name.startswith("text") or pa.types.is_list(f.type) or f.name in delta)]


class _TableSink:
    """One Parquet file of a table, streamed in row groups. It is written under a temporary name and
    appears at ``path`` complete, on :meth:`close`, or not at all."""

    def __init__(self, spec: TableSpec, path: Path, compression: str, row_group_size: int) -> None:
        self.spec = spec
        self.path = path
        self.row_group_size = row_group_size
        self.rows = 0
        self._buffer: list[pa.Table] = []
        self._buffered_rows = 0
        self._buffered_bytes = 0
        self._closed = False
        self._tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        self._writer = pq.ParquetWriter(self._tmp, spec.with_metadata(),
                                        compression=None if compression == "none" else compression,
                                        write_statistics=_statistics_columns(spec.schema),
                                        use_dictionary=_dictionary_columns(spec.schema),
                                        column_encoding=dict.fromkeys(_delta_columns(spec.schema),
                                                                      "DELTA_BINARY_PACKED"))

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if not table.schema.equals(self.spec.schema):
            raise TypeError(f"{self.spec.name}: batch schema does not match the declared schema")
        self._buffer.append(table)
        self._buffered_rows += table.num_rows
        self._buffered_bytes += table.nbytes
        self.rows += table.num_rows
        if self._buffered_rows >= self.row_group_size or self._buffered_bytes >= _BUFFER_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            combined = pa.concat_tables(self._buffer)
            if any(pa.types.is_dictionary(f.type) for f in self.spec.schema):
                # One dictionary per column, values in order of first appearance: the bytes written do
                # not depend on how the rows were batched.
                combined = combined.unify_dictionaries().combine_chunks()
            combined = combined.cast(self.spec.with_metadata())
            self._writer.write_table(combined, row_group_size=self.row_group_size)
            self._buffer, self._buffered_rows, self._buffered_bytes = [], 0, 0

    def close(self) -> None:
        if self._closed:
            return
        self._flush()
        self._writer.close()
        os.replace(self._tmp, self.path)
        self._closed = True

    def discard(self) -> None:
        """Give up the file (while failing): nothing appears at ``path``."""
        if not self._closed:
            try:
                self._writer.close()
            except Exception:  # noqa: BLE001 - best effort while failing
                pass
            self._tmp.unlink(missing_ok=True)
            self._closed = True


@dataclass(frozen=True)
class PartTarget:
    """Where a task writes part ``index`` of the parted tables of a run: picklable, so it travels with
    the task to any worker that sees the run folder (a shared filesystem on a cluster)."""

    folder: str
    index: int
    compression: str = "zstd"
    row_group_size: int = 65536
    #: Tables written with :data:`TRANSIENT_CODEC`: a later stage of the same run writes them again.
    transient: frozenset[str] = frozenset()


#: The codec of a part that a later stage of the same run replaces (:attr:`RunWriter.transient`): on the
#: bench corpus, LZ4 writes ``documents`` a third faster than zstd and reads it ten times faster, and such
#: a part is read once, by the next stage.
TRANSIENT_CODEC = "lz4"


class PartWriter:
    """Part ``target.index`` of the parted tables ``names``, written by the task that computed it.

    Each part file appears complete when the writer closes, or not at all; a part of no rows is still
    written, so that part *i* of every parted table exists. Use it as a context manager: it closes on
    success and leaves nothing on failure. :attr:`rows` counts the rows written per table.
    """

    def __init__(self, target: PartTarget, names: tuple[str, ...]) -> None:
        self.rows: dict[str, int] = {}
        self._sinks = {}
        for name in names:
            spec = TABLES[name]
            folder = Path(target.folder) / spec.filename
            folder.mkdir(parents=True, exist_ok=True)
            codec = TRANSIENT_CODEC if name in target.transient else target.compression
            self._sinks[name] = _TableSink(spec, folder / tablefiles.part_name(target.index), codec,
                                           target.row_group_size)

    def write(self, name: str, table: pa.Table) -> None:
        self._sinks[name].write(table)

    def __enter__(self) -> PartWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        for name, sink in self._sinks.items():
            if kind is None:
                sink.close()
                self.rows[name] = sink.rows
            else:
                sink.discard()


class _PartedTable:
    """A parted table as the driver sees it: the folder its tasks write their parts into
    (:meth:`RunWriter.part_target`). The driver writes no rows of its own there."""

    def __init__(self, spec: TableSpec, folder: Path, compression: str, row_group_size: int) -> None:
        self.spec = spec
        self.path = folder
        self._options = (compression, row_group_size)
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, table: pa.Table) -> None:
        raise TypeError(f"{self.spec.name} is written in parts by tasks (RunWriter.part_target), not by the driver")

    def close(self) -> None:
        if not tablefiles.exists(self.path):  # an empty table is one part of no rows
            _TableSink(self.spec, self.path / tablefiles.part_name(0), *self._options).close()

    def discard(self) -> None:
        pass

    @property
    def rows(self) -> int:
        return tablefiles.num_rows(self.path)


#: The lock file of an output folder: one run at a time writes into a folder.
LOCK = ".kefu.lock"


def lock_folder(out: Path, *, wait: bool = True, on_wait=None):
    """Hold an exclusive lock on output folder ``out`` (``fcntl.flock`` on its lock file, released when
    the returned file is closed or the process ends, kill -9 included). A second run waits for the
    first, calling ``on_wait(message)`` once, or with ``wait=False`` stops with a :class:`KefuError`."""
    import fcntl

    fh = open(out / LOCK, "a+", encoding="utf-8")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        message = f"Another kefu run ({holder}) is writing into {out}."
        if not wait:
            fh.close()
            raise KefuError(message, hint="wait for it to finish, or choose another --out") from None
        if on_wait:
            on_wait(message + " Waiting for it to finish.")
        fcntl.flock(fh, fcntl.LOCK_EX)
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}\n")
    fh.flush()
    return fh


#: Where the runs of an output folder live, and the link that names the committed one.
RUNS = ".runs"
CURRENT = "current"
_LEGACY_STAGING = ".kefu-staging-"


def run_folder(out: Path) -> Path:
    """The folder holding the committed run of output folder ``out``.

    Resolve it once and read every table of a run from it: a run that commits meanwhile then cannot
    give a reader tables from two runs. A folder written before runs were versioned is its own run.
    """
    current = out / CURRENT
    return current.resolve() if current.is_symlink() else out


def fault(point: str) -> None:
    """Fault injection for the kill tests: ``KEFU_KILL_AT=<point>`` kills this process there."""
    if os.environ.get("KEFU_KILL_AT") == point:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def fsync(path: Path) -> None:
    """Flush a file's (or a folder's) bytes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _link(target: str, link: Path) -> None:
    """Point ``link`` at ``target`` by one atomic rename (replacing a file or link already there)."""
    tmp = link.with_name(f".{link.name}.link-{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _carry(src: Path, dst: Path) -> None:
    """Put file ``src`` of the previous run into the new run: a hard link, or a copy where links fail."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


class RunWriter:
    """Stream the tables of one run into a new run folder; :meth:`commit` makes it the current run."""

    def __init__(self, out: Path, *, compression: str = "zstd", row_group_size: int = 65536,
                 wait: bool = True, on_wait=None) -> None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KefuError(f"Cannot create the output folder {out}: {exc.strerror}.",
                            hint="choose another --out") from exc
        self._lock = lock_folder(out, wait=wait, on_wait=on_wait)
        self.out = out
        self.previous = run_folder(out)
        self._clear_unfinished()
        self.run_id = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.staging = out / RUNS / self.run_id
        self.staging.mkdir(parents=True)
        self._compression = compression
        self._row_group_size = row_group_size
        self._sinks: dict[str, _TableSink | _PartedTable] = {}
        self._artifacts: list[str] = []
        self._caches: list = []
        #: Parted tables the stage now running writes and a later stage of this run writes again (the
        #: pipeline sets it): their parts use :data:`TRANSIENT_CODEC`, and the committed tables never do.
        self.transient: set[str] = set()

    def _clear_unfinished(self) -> None:
        """Remove what killed runs left: run folders that are not current, and temporary files. Ours to
        clear, as no other run holds the lock."""
        for stale in self.out.glob(f"{_LEGACY_STAGING}*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in self.out.glob(".*.link-*"):
            stale.unlink(missing_ok=True)
        for stale in self.out.glob(".*.tmp-*"):
            stale.unlink(missing_ok=True)
        for stale in self.out.glob(".parts/*/*.tmp-*"):  # parts of tasks killed while writing
            shutil.rmtree(stale, ignore_errors=True)
        runs = self.out / RUNS
        if runs.is_dir():
            for folder in runs.iterdir():
                if folder.resolve() != self.previous:
                    shutil.rmtree(folder, ignore_errors=True) if folder.is_dir() else folder.unlink()

    def artifact(self, relative: str) -> Path:
        """A path in the run folder for a file of this run that is not a table (a fitted model, say);
        readers find it at ``out / relative``."""
        path = self.staging / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self._artifacts.append(relative)
        return path

    def scratch(self, name: str) -> Path:
        """A folder in the run folder for files this run's tasks read (on a cluster, the run folder is on
        the shared filesystem): made when first written to, removed by :meth:`drop_scratch` or at commit."""
        return self.staging / ".scratch" / name

    def drop_scratch(self, name: str) -> None:
        shutil.rmtree(self.scratch(name), ignore_errors=True)

    def open(self, name: str) -> None:
        """Declare a table of this run; it is written (possibly empty) even if no batch arrives."""
        if name not in self._sinks:
            spec = TABLES[name]
            kind = _PartedTable if spec.parted else _TableSink
            self._sinks[name] = kind(spec, self.staging / spec.filename, self._compression, self._row_group_size)

    def write(self, name: str, table: pa.Table) -> None:
        """Write rows of table ``name`` (one that is not parted: parts are written by tasks)."""
        self.open(name)
        self._sinks[name].write(table)

    def part_cache(self, stage: str, context: Any, *, reuse: bool = True):
        """The finished parts of ``stage`` in this output folder (:mod:`kefu_corpus.partcache`); entries
        this run does not use are removed when it commits."""
        from kefu_corpus.partcache import PartCache, digest

        cache = PartCache(self.out, stage, digest(context), reuse=reuse)
        self._caches.append(cache)
        return cache

    def part_target(self, index: int) -> PartTarget:
        """Where a task writes part ``index`` of this run's parted tables (open them first)."""
        return PartTarget(str(self.staging), index, self._compression, self._row_group_size,
                          frozenset(self.transient))

    def take(self, name: str) -> Path:
        """Finish table ``name`` of this run and hand it over as the input of a later stage.

        The file moves aside in the run folder (it is not committed), and ``name`` can be opened
        again for the stage's output.
        """
        sink = self._sinks.pop(name)
        sink.close()
        moved = self.staging / f"input-{sink.spec.filename}"
        if moved.is_dir():  # the input of an earlier stage, read by now
            shutil.rmtree(moved)
        os.replace(sink.path, moved)  # a file, or a folder of parts
        return moved

    def has(self, name: str) -> bool:
        """Is table ``name`` written by this run (so far)?"""
        return name in self._sinks

    def finished(self, name: str) -> Path:
        """Finish table ``name`` of this run so a later stage can read it; it is still committed as an output."""
        sink = self._sinks[name]
        sink.close()
        return sink.path

    def commit(self, manifest: dict[str, Any], keep: dict[str, dict] | None = None) -> dict[str, int]:
        """Close every table, write the manifest, and make this run the current one. Returns rows per table.

        ``keep`` lists tables of the previous run that belong to this one too (a stage run alone), as in
        its manifest; they are carried over with the previous run's model, by hard link where possible.
        """
        counts = {}
        for name, sink in self._sinks.items():
            sink.close()
            counts[name] = sink.rows
        for taken in self.staging.glob("input-*"):
            shutil.rmtree(taken) if taken.is_dir() else taken.unlink()
        shutil.rmtree(self.staging / ".scratch", ignore_errors=True)
        tables = {}
        for name, entry in (keep or {}).items():
            src = self.previous / entry["file"]
            if name not in self._sinks and tablefiles.exists(src):
                for part in tablefiles.files(src):
                    _carry(part, self.staging / part.relative_to(self.previous))
                tables[name] = entry
        if keep:
            for src in sorted((self.previous / "models").rglob("*")):
                dst = self.staging / src.relative_to(self.previous)
                if src.is_file() and not dst.exists():
                    _carry(src, dst)
        tables.update({name: {"file": self._sinks[name].spec.filename, "rows": counts[name],
                              "schema_version": self._sinks[name].spec.version,
                              **({"parts": len(tablefiles.files(self._sinks[name].path))}
                                 if self._sinks[name].spec.parted else {})} for name in counts})
        manifest = {**manifest, "run_id": self.run_id, "tables": dict(sorted(tables.items()))}
        write_json_atomic(self.staging / MANIFEST, manifest)
        for cache in self._caches:  # under the lock: no other run reads the cache meanwhile
            cache.prune()
        for path in [*sorted(self.staging.rglob("*")), self.staging]:
            fsync(path)  # the run's bytes are on disk before any reader is pointed at them
        fault("commit:written")
        self._switch()
        self._lock.close()
        return counts

    def _switch(self) -> None:
        names = sorted(p.name for p in self.staging.iterdir())
        for name in names:  # names new to this folder: their links dangle until the switch
            link = self.out / name
            if not link.is_symlink() and not link.exists():
                _link(f"{CURRENT}/{name}", link)
        fault("commit:linked")
        _link(f"{RUNS}/{self.run_id}", self.out / CURRENT)  # the commit: one rename
        fsync(self.out)
        fault("commit:switched")
        for name in names:  # a folder written before runs were versioned: its files become links
            link = self.out / name
            if not link.is_symlink():
                if link.is_dir():
                    shutil.rmtree(link)
                _link(f"{CURRENT}/{name}", link)
        for link in self.out.iterdir():  # links to outputs this run does not have
            if link.is_symlink() and os.readlink(link).startswith(f"{CURRENT}/") and not link.exists():
                link.unlink()
        fault("commit:relinked")
        if self.previous != self.out:
            shutil.rmtree(self.previous, ignore_errors=True)

    def abort(self) -> None:
        for sink in self._sinks.values():
            sink.discard()
        shutil.rmtree(self.staging, ignore_errors=True)
        self._lock.close()


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256_or_none(path: Path) -> str | None:
    """:func:`file_sha256`, or None for a path that is not a readable file (its report row says why)."""
    try:
        return file_sha256(path) if path.is_file() else None
    except OSError:
        return None


def read_manifest(out: Path) -> dict[str, Any]:
    path = out / MANIFEST
    if not path.is_file():
        raise KefuError(f"{out} holds no {MANIFEST}: it is not the output folder of a kefu run.",
                        hint="run `kefu run` first, or point at the folder given to --out")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise KefuError(f"{path} is not valid JSON ({exc}).", hint="rerun `kefu run` to rewrite it") from exc


def read_table(out: Path, name: str, columns: list[str] | None = None) -> pa.Table:
    """Read one output table (either layout, :mod:`kefu_corpus.tablefiles`) with its declared schema."""
    spec = TABLES[name]
    path = out / spec.filename
    if not tablefiles.exists(path):
        raise KefuError(f"{path} does not exist.", hint="run the stage that writes it, or `kefu run`")
    return tablefiles.read(path, columns=columns, schema=spec.schema if columns is None else None)


def read_passages(out: Path, columns: list[str] | None = None, *, include_duplicates: bool = False) -> pa.Table:
    """``passages`` of an output folder, deduplicated by default: what later stages and analyses read.

    Passages flagged ``is_duplicate`` by the dedup stage are left out unless ``include_duplicates``;
    before the dedup stage has run (``is_duplicate`` null) every passage is kept. A passage only partly
    repeated is kept, with the repeated part in ``duplicate_spans``.
    """
    import pyarrow.compute as pc

    table = read_table(out, "passages")
    if not include_duplicates:
        table = table.filter(pc.invert(pc.fill_null(table.column("is_duplicate"), False)))
    return table.select(columns) if columns is not None else table


def display_forms(path: Path, script: str) -> dict[str, str]:
    """``{term: form}`` from the ``term_forms`` table at ``path``: the form the corpus writes most often for
    each term in ``script`` (empty when there is no such table)."""
    import pyarrow.compute as pc

    if not tablefiles.exists(path):
        return {}
    table = tablefiles.read(path, columns=["term", "script", "form", "is_display"])
    table = table.filter(pc.and_(table["is_display"], pc.equal(table["script"], script)))
    return dict(zip(table["term"].to_pylist(), table["form"].to_pylist()))
