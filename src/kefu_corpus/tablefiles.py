"""Where a table's rows live on disk: one Parquet file, or a folder of parts.

A table is stored under its name, ``<table>.parquet``, in one of two layouts:

- **one file**, written by the driver (the small tables: reports, trends, topics ...);
- **a folder of parts**, ``<table>.parquet/part-00000.parquet``, ``part-00001.parquet`` ..., each part
  written by the worker that computed it (``documents``, ``passages`` and ``tokens``, the tables whose
  size grows with the corpus; :attr:`~kefu_corpus.schemas.TableSpec.parted`). Every part holds whole
  documents, in document order, and part *i* of ``documents``, ``passages`` and ``tokens`` holds the same
  documents. The table is the parts read in name order.

Every reader in the project goes through these functions and reads either layout. DuckDB
(``from 'out/tokens.parquet'``), pandas (``pd.read_parquet``), polars (``pl.read_parquet``) and
pyarrow (``pq.read_table``) read a folder of parts as one table too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

PART_GLOB = "part-*.parquet"


def part_name(index: int) -> str:
    """The file name of part ``index`` of a parted table."""
    return f"part-{index:05d}.parquet"


def exists(path: Path) -> bool:
    """Is there a table (either layout) at ``path``?"""
    return path.is_file() or (path.is_dir() and any(path.glob(PART_GLOB)))


def files(path: Path) -> list[Path]:
    """The Parquet files of the table at ``path``, in table order: the file itself, or its parts."""
    return sorted(path.glob(PART_GLOB)) if path.is_dir() else [path]


def metadata(path: Path) -> list[pq.FileMetaData]:
    """The footer of each file of the table (no rows are read)."""
    return [pq.read_metadata(f) for f in files(path)]


def num_rows(path: Path) -> int:
    return sum(m.num_rows for m in metadata(path))


def schema(path: Path) -> pa.Schema:
    """The stored Arrow schema (with the table's key-value metadata) of the table's first file."""
    return pq.read_schema(files(path)[0])


def nbytes(path: Path) -> int:
    """Bytes on disk of the table's files."""
    return sum(f.stat().st_size for f in files(path))


def read(path: Path, columns: list[str] | None = None, schema: pa.Schema | None = None) -> pa.Table:
    """The whole table (or ``columns`` of it), its files concatenated in order. The parts' dictionaries
    are unified, so a dictionary-encoded column of a folder of parts groups, sorts and compares as one
    column (each part file has a dictionary of its own)."""
    tables = [pq.read_table(f, columns=columns, schema=schema) for f in files(path)]
    return pa.concat_tables(tables).unify_dictionaries() if len(tables) > 1 else tables[0]


def read_where(path: Path, columns: list[str], key: str, values) -> pa.Table:
    """The rows whose ``key`` is one of ``values`` (``columns`` of them), read part file by part file with a
    filter, so only those rows are kept: the few documents or passages a view quotes, from a table of
    any size. ``key`` must be among ``columns``."""
    values = sorted(set(values))
    tables = [pq.read_table(f, columns=columns, filters=[(key, "in", values)]) if values else
              pq.read_table(f, columns=columns).slice(0, 0) for f in files(path)]
    return pa.concat_tables(tables).unify_dictionaries() if len(tables) > 1 else tables[0]


def iter_batches(path: Path, columns: list[str] | None = None, batch_size: int = 65536) -> Iterator[pa.RecordBatch]:
    """The rows of the table in batches of at most ``batch_size`` rows, file after file (a batch never
    spans two files)."""
    for f in files(path):
        yield from pq.ParquetFile(f).iter_batches(batch_size=batch_size, columns=columns)
