"""Publication years: joined onto rows by ``doc_id``, and documents counted per year.

Undated documents are a group of their own: ``year`` null in every table, :data:`UNDATED` (-1) where a
plain integer key is needed for grouping.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from kefu_corpus import tablefiles

UNDATED = -1
YEAR_TYPE = pa.int16()


def year_table(documents: Path) -> pa.Table:
    """``doc_id`` and ``year`` of every document (two columns only, read from the Parquet file)."""
    table = tablefiles.read(documents, columns=["doc_id", "year"])
    return pa.table({"doc_id": table.column("doc_id").cast(pa.string()),
                     "year": table.column("year").cast(YEAR_TYPE)})


def attach_years(doc_ids: pa.Array | pa.ChunkedArray, years: pa.Table) -> pa.Array:
    """The year of each row's document (null when undated or unknown), from a :func:`year_table`."""
    ids, year = years.column("doc_id").combine_chunks(), years.column("year").combine_chunks()
    if isinstance(doc_ids, pa.ChunkedArray):
        if pa.types.is_dictionary(doc_ids.type) and doc_ids.num_chunks > 1:
            doc_ids = doc_ids.cast(pa.string())
        doc_ids = doc_ids.combine_chunks()
    if pa.types.is_dictionary(doc_ids.type):  # look each distinct document up once
        return year.take(pc.index_in(doc_ids.dictionary, value_set=ids)).take(doc_ids.indices)
    return year.take(pc.index_in(doc_ids, value_set=ids))


def documents_per_year(documents: Path) -> dict[int, int]:
    """Documents per year (:data:`UNDATED` for undated ones), read batch by batch."""
    counts: Counter = Counter()
    for batch in tablefiles.iter_batches(documents, columns=["year"]):
        grouped = pa.table({"year": pc.fill_null(batch.column(0).cast(pa.int32()), UNDATED)}).group_by(
            "year").aggregate([("year", "count")])
        counts.update(dict(zip(grouped.column("year").to_pylist(), grouped.column("year_count").to_pylist())))
    return dict(counts)
