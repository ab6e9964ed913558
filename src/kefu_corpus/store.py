"""Atomic Parquet output: the one place tables are written.

A run writes every table into a staging folder inside the output folder, streaming batches into
row groups, and only when every table is complete moves them into place (``os.replace``, atomic on one
file system), then writes ``manifest.json`` last, also through a temporary file. A crash leaves the
previous outputs untouched and at most a ``.kefu-staging-*`` folder, which the next run removes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from kefu_corpus.errors import KefuError
from kefu_corpus.schemas import TABLES, TableSpec

MANIFEST = "manifest.json"
_STAGING_PREFIX = ".kefu-staging-"
_BUFFER_BYTES = 64 * 1024 * 1024


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)


class _TableSink:
    def __init__(self, spec: TableSpec, path: Path, compression: str, row_group_size: int) -> None:
        self.spec = spec
        self.path = path
        self.row_group_size = row_group_size
        self.rows = 0
        self._buffer: list[pa.Table] = []
        self._buffered_rows = 0
        self._buffered_bytes = 0
        self._closed = False
        self._writer = pq.ParquetWriter(path, spec.with_metadata(),
                                        compression=None if compression == "none" else compression)

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
        self._closed = True


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


class RunWriter:
    """Stream the tables of one run into a staging folder; :meth:`commit` moves them into ``out``."""

    def __init__(self, out: Path, *, compression: str = "zstd", row_group_size: int = 65536,
                 wait: bool = True, on_wait=None) -> None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KefuError(f"Cannot create the output folder {out}: {exc.strerror}.",
                            hint="choose another --out") from exc
        self._lock = lock_folder(out, wait=wait, on_wait=on_wait)
        for stale in out.glob(f"{_STAGING_PREFIX}*"):  # ours to clear: no other run holds the lock
            shutil.rmtree(stale, ignore_errors=True)
        self.out = out
        self.staging = out / f"{_STAGING_PREFIX}{os.getpid()}"
        self.staging.mkdir()
        self._compression = compression
        self._row_group_size = row_group_size
        self._sinks: dict[str, _TableSink] = {}
        self._artifacts: list[str] = []

    def artifact(self, relative: str) -> Path:
        """A path in the staging folder for a file of this run that is not a table (a fitted model, say);
        :meth:`commit` moves it to ``out / relative``."""
        path = self.staging / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self._artifacts.append(relative)
        return path

    def open(self, name: str) -> None:
        """Declare a table of this run; it is written (possibly empty) even if no batch arrives."""
        if name not in self._sinks:
            spec = TABLES[name]
            self._sinks[name] = _TableSink(spec, self.staging / spec.filename, self._compression,
                                           self._row_group_size)

    def write(self, name: str, table: pa.Table) -> None:
        self.open(name)
        self._sinks[name].write(table)

    def take(self, name: str) -> Path:
        """Finish table ``name`` of this run and hand it over as the input of a later stage.

        The file moves aside in the staging folder (it is not committed), and ``name`` can be opened
        again for the stage's output.
        """
        sink = self._sinks.pop(name)
        sink.close()
        moved = self.staging / f"input-{sink.spec.filename}"
        os.replace(sink.path, moved)
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
        """Close every table, move it into place, then write the manifest. Returns rows per table.

        ``keep`` lists tables of an earlier run that stay in place (a stage run alone), as in its manifest.
        """
        counts = {}
        for name, sink in self._sinks.items():
            sink.close()
            counts[name] = sink.rows
        for name, sink in self._sinks.items():
            os.replace(sink.path, self.out / sink.spec.filename)
        for relative in self._artifacts:
            (self.out / relative).parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.staging / relative, self.out / relative)
        tables = dict(keep or {})
        tables.update({name: {"file": self._sinks[name].spec.filename, "rows": counts[name],
                              "schema_version": self._sinks[name].spec.version} for name in counts})
        manifest = {**manifest, "tables": dict(sorted(tables.items()))}
        write_json_atomic(self.out / MANIFEST, manifest)
        shutil.rmtree(self.staging, ignore_errors=True)
        self._lock.close()
        return counts

    def abort(self) -> None:
        for sink in self._sinks.values():
            try:
                sink._writer.close()
            except Exception:  # noqa: BLE001 - best effort while failing
                pass
        shutil.rmtree(self.staging, ignore_errors=True)
        self._lock.close()


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
    """Read one output table with its declared schema."""
    spec = TABLES[name]
    path = out / spec.filename
    if not path.is_file():
        raise KefuError(f"{path} does not exist.", hint="run the stage that writes it, or `kefu run`")
    return pq.read_table(path, columns=columns, schema=spec.schema if columns is None else None)


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
