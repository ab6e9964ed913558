"""Work descriptions over a Parquet table: row-group ranges that own whole groups of rows.

A corpus-wide stage does not send text to its workers; it sends a :class:`Slice`, and each worker reads
its own rows (:func:`read_slice`). A table such as ``tokens`` is stored in document order, but its row
groups are cut by row count, so a document may straddle two of them. A slice therefore *owns the groups
that start in its row groups*: it skips the leading rows of a group that began in the previous row
group, and reads on into the following row groups to the end of its last group. Every group is read
by exactly one slice, whole, however the table was cut into row groups and whatever the slice size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kefu_corpus import tablefiles


@dataclass(frozen=True)
class Slice:
    """Row groups ``[start, stop)`` of the Parquet file ``path``, owning the groups of ``key`` that
    start in them."""

    path: str
    start: int
    stop: int
    key: str
    rows: int  # rows of the row groups (an estimate of the slice's size)


def plan_slices(path: Path, key: str, max_rows: int) -> list[Slice]:
    """Consecutive slices of the table at ``path`` (one file, or a folder of parts that each hold whole
    groups: :mod:`kefu_corpus.tablefiles`) of at most ``max_rows`` rows each, at least one row group each.
    A slice never spans two files."""
    slices = []
    for file in tablefiles.files(path):
        meta = pq.read_metadata(file)
        start, rows = 0, 0
        for i in range(meta.num_row_groups):
            n = meta.row_group(i).num_rows
            if i > start and rows + n > max_rows:
                slices.append(Slice(str(file), start, i, key, rows))
                start, rows = i, 0
            rows += n
        if start < meta.num_row_groups:
            slices.append(Slice(str(file), start, meta.num_row_groups, key, rows))
    return slices


def _last_key(file: pq.ParquetFile, group: int, key: str) -> pa.Scalar:
    column = file.read_row_group(group, columns=[key]).column(0)
    return column[len(column) - 1]


def _leading(column: pa.ChunkedArray, value: pa.Scalar) -> int:
    """How many rows at the start of ``column`` equal ``value`` (the column is grouped, so the run is
    short: it is looked for in prefixes of doubling length)."""
    wanted = value.cast(pa.string()) if pa.types.is_dictionary(value.type) else value
    n = 1024
    while True:
        prefix = column.slice(0, n)
        if pa.types.is_dictionary(prefix.type):
            prefix = prefix.cast(pa.string())
        first = pc.index(pc.not_equal(prefix, wanted), True).as_py()
        if first >= 0:
            return first
        if n >= len(column):
            return len(column)
        n *= 2


def read_slice(piece: Slice, columns: list[str] | None = None) -> pa.Table:
    """The rows of every group that ``piece`` owns, with ``columns`` (all when None), in table order.

    Dictionary-encoded columns come back with one dictionary per column (unified across row groups).
    """
    file = pq.ParquetFile(piece.path)
    wanted = None if columns is None else list(dict.fromkeys([*columns, piece.key]))
    table = file.read_row_groups(list(range(piece.start, piece.stop)), columns=wanted)
    if piece.start > 0 and table.num_rows:
        skip = _leading(table.column(piece.key), _last_key(file, piece.start - 1, piece.key))
        table = table.slice(skip)
    if table.num_rows:
        last = table.column(piece.key)[table.num_rows - 1]
        extra, group = [], piece.stop
        while group < file.metadata.num_row_groups:
            following = file.read_row_groups([group], columns=wanted)
            n = _leading(following.column(piece.key), last)
            extra.append(following.slice(0, n))
            if n < following.num_rows:
                break
            group += 1
        if extra:
            table = pa.concat_tables([table, *extra])
    if columns is not None:
        table = table.select(columns)
    return table.unify_dictionaries().combine_chunks()


def tokens_of(source: Slice | pa.Table, columns: list[str]) -> pa.Table:
    """The rows of a batch with ``columns``: a slice read from its file (in the worker), or a table already
    in memory (its dictionary columns unified across chunks, as a slice's are)."""
    return read_slice(source, columns) if isinstance(source, Slice) else source.select(columns).unify_dictionaries()
