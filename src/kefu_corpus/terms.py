"""What counts as a term, in one place: the filter every analysis applies to ``tokens``.

A term is a canonical token of type ``word`` or ``latin`` that is not a stopword and has at least
``min_chars`` characters (trends, keyness, keywords, topics); collocations use the same filter with
``min_chars=1``. Tests of a column's values are made once per distinct value of a dictionary-encoded
column and spread to its rows by index.
"""

from __future__ import annotations

from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc

#: Token types that count as running text: the denominator of rates, and what a term may be.
RUNNING = pa.array(["word", "latin"])


def per_value(column: pa.Array | pa.ChunkedArray, test: Callable[[pa.Array], pa.Array]) -> pa.ChunkedArray:
    """``test`` applied to a column of strings: on the distinct values of a dictionary-encoded column
    (then taken by index), else on the values themselves."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    out = []
    for chunk in chunks:
        if pa.types.is_dictionary(chunk.type):
            out.append(test(chunk.dictionary).take(chunk.indices))
        else:
            out.append(test(chunk))
    return pa.chunked_array(out, type=pa.bool_())


def is_running(tokens: pa.Table) -> pa.ChunkedArray:
    """Rows whose token is a word or a Latin token (stopwords included)."""
    return per_value(tokens.column("token_type"), lambda v: pc.is_in(v, value_set=RUNNING))


def term_mask(tokens: pa.Table, min_chars: int, pos: tuple[str, ...] | None = None) -> pa.ChunkedArray:
    """Rows of ``tokens`` (token, token_type, is_stopword; pos when ``pos`` is given) that are terms."""
    keep = pc.and_(pc.and_(is_running(tokens), pc.invert(tokens.column("is_stopword"))),
                   per_value(tokens.column("token"), lambda v: pc.greater_equal(pc.utf8_length(v), min_chars)))
    if pos is not None:
        allowed = pa.array(list(pos), pa.string())
        keep = pc.and_(keep, per_value(tokens.column("pos"), lambda v: pc.is_in(v, value_set=allowed)))
    return keep


def distinct_count(column: pa.Array | pa.ChunkedArray) -> int:
    """How many distinct values a column holds (on the indices of a dictionary-encoded column)."""
    if isinstance(column, pa.ChunkedArray):
        if pa.types.is_dictionary(column.type) and column.num_chunks > 1:
            column = column.cast(pa.string())
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.indices
    return pc.count_distinct(column).as_py()
