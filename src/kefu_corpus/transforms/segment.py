"""The segment stage: tokens of every passage, in the canonical script and the original one.

Pure: :func:`segment_batch` maps a batch of passages to rows of ``tokens``; the pipeline does the I/O
and each worker builds its segmenter once (:func:`~kefu_corpus.text.segment.segmenter`, cached per process).

Requires: ``passages`` (normalised; deduplicated unless ``segment.include_duplicates``). Assigns:
``tokens``.

For each passage the canonical text is segmented (:class:`~kefu_corpus.text.segment.Segmenter`), and
each token's span is mapped back through ``canonical_map`` (to the passage in its own script, which
gives ``token_original``) and ``normalised_map`` (to the raw text, which gives ``start``/``end``).
Tokens inside a passage's ``duplicate_spans`` are left out with the rest of the duplicates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from itertools import chain
from operator import itemgetter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu_corpus import schemas
from kefu_corpus.text.offsets import OffsetMap
from kefu_corpus.text.segment import fold_latin, is_stopword, segmenter, token_types
from kefu_corpus.years import attach_years

if TYPE_CHECKING:
    from kefu_corpus.stages.segment import SegmentParams

OUTPUTS = ("tokens",)
#: Columns of ``passages`` the stage reads.
COLUMNS = ["doc_id", "passage_id", "start", "end", "script", "text_normalised", "text_canonical", "normalised_map",
           "canonical_map", "is_duplicate", "duplicate_spans"]



def _map(edits: list[dict], length: int, source_len: int) -> OffsetMap:
    return OffsetMap.from_edits([tuple(e.values()) for e in edits], length, source_len)


def _gather_strings(strings: pa.Array | pa.ChunkedArray, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """``joined[starts[i]:ends[i]]`` for every i, ``joined`` being ``strings`` end to end (offsets in
    characters), as one Arrow string array cut from the column's own UTF-8 bytes: no Python string, no
    re-encoding, no Python loop."""
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    strings = strings.cast(pa.string())
    bounds = np.frombuffer(strings.buffers()[1], np.int32)[strings.offset: strings.offset + len(strings) + 1]
    buffer = strings.buffers()[2]
    data = (np.frombuffer(buffer, np.uint8)[bounds[0]:bounds[-1]] if buffer is not None and len(strings)
            else np.zeros(0, np.uint8))
    byte_at = np.append(np.flatnonzero((data & 0xC0) != 0x80), len(data))  # where each character starts
    b0, b1 = byte_at[starts], byte_at[ends]
    if not len(starts):
        return pa.array([], pa.string())
    if np.all(b0[1:] >= b1[:-1]):
        # The spans in order, none overlapping (the common case: they tile the text, or do but for the
        # repeats left out): the text's own bytes, less the few gaps between spans, cut at the spans.
        breaks = np.flatnonzero(b0[1:] != b1[:-1]) + 1
        runs = zip(b0[np.r_[0, breaks]].tolist(), b1[np.r_[breaks - 1, len(starts) - 1]].tolist())
        pieces = [data[start:end] for start, end in runs]
        kept = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
        offsets = np.r_[0, np.cumsum(b1 - b0)].astype(np.int32)
        return pa.StringArray.from_buffers(len(starts), pa.py_buffer(offsets.tobytes()), pa.py_buffer(kept))
    sizes = b1 - b0
    offsets = np.r_[0, np.cumsum(sizes)].astype(np.int32)
    index = np.arange(int(offsets[-1]), dtype=np.int64) + np.repeat(b0 - offsets[:-1], sizes)
    return pa.StringArray.from_buffers(len(starts), pa.py_buffer(offsets.tobytes()),
                                       pa.py_buffer(data[index].tobytes()))


def segment_batch(table: pa.Table, years: pa.Table, params: SegmentParams) -> pa.Table:
    """Rows of ``tokens`` for a batch of passages; ``years`` (:func:`~kefu_corpus.years.year_table`)
    gives each token its document's year."""
    seg = segmenter(params)  # built once per process and params (the executor's initializer warms it)
    if not params.include_duplicates:
        table = table.filter(pc.invert(pc.fill_null(table.column("is_duplicate"), False)))
    if table.column("text_canonical").null_count:
        raise ValueError("passages without text_canonical: the normalise stage has not run")
    texts = table.column("text_canonical").to_pylist()
    scripts = table.column("script").to_pylist()
    if params.mode == "search":
        found = [seg.search(text, script) for text, script in zip(texts, scripts)]
        counts = np.fromiter(map(len, found), np.int64, count=len(texts))
        flat = list(chain.from_iterable(found))
        encoded = pc.dictionary_encode(pa.array(list(map(itemgetter(0), flat)), pa.string()))
        values, index = encoded.dictionary, encoded.indices.to_numpy()
        tags = pc.dictionary_encode(pa.array(list(map(itemgetter(1), flat)), pa.string()))
        tag_names, tag_index = tags.dictionary, tags.indices.to_numpy()
        starts_c = np.fromiter(map(itemgetter(2), flat), np.int64, count=len(flat))
        ends_c = np.fromiter(map(itemgetter(3), flat), np.int64, count=len(flat))
    else:
        cut = [seg.cut(text, script, fine=False) for text, script in zip(texts, scripts)]
        counts = np.fromiter(map(len, cut), np.int64, count=len(texts))
        # The tokens tile each passage's text, so their lengths cut the batch's text into them (no
        # conversion of a million Python strings), and each distinct token is tagged once.
        lengths = np.fromiter(map(len, chain.from_iterable(cut)), np.int64, count=int(counts.sum()))
        ends = np.cumsum(lengths)
        encoded = pc.dictionary_encode(_gather_strings(table.column("text_canonical"), ends - lengths, ends))
        values, index, parts = seg.split_compounds(encoded.dictionary, encoded.indices.to_numpy())
        counts = np.bincount(np.repeat(np.arange(len(texts)), counts), weights=parts, minlength=len(texts)).astype(np.int64)
        if (parts > 1).any():
            lengths = pc.utf8_length(values).to_numpy().astype(np.int64)[index]
        first = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
        ends_c = np.cumsum(lengths) - np.repeat(np.r_[0, np.cumsum(lengths)][first], counts)
        starts_c = ends_c - lengths
        tag_names = tag_index = None
    owner = np.repeat(np.arange(len(texts)), counts)
    first = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
    position = np.arange(len(index)) - np.repeat(first, counts)
    if tag_index is None:

        def context(value: int) -> tuple[str, bool]:
            passage = owner[np.argmax(index == value)]  # where the token first occurs
            return texts[passage], seg.hmm_for(scripts[passage])

        tags = pc.dictionary_encode(pa.array(seg.word_tags(values.to_pylist(), context), pa.string()))
        tag_names, tag_index = tags.dictionary, tags.indices.to_numpy()[index]

    keep = np.ones(len(index), bool)
    norm_start, norm_end = starts_c.copy(), ends_c.copy()
    raw_start, raw_end = starts_c.copy(), ends_c.copy()
    # Only passages whose text changed length, or that hold a repeat, need their offsets mapped.
    mapped = pc.or_(pc.or_(pc.greater(pc.fill_null(pc.list_value_length(table.column("canonical_map")), 0), 0),
                           pc.greater(pc.fill_null(pc.list_value_length(table.column("normalised_map")), 0), 0)),
                    pc.greater(pc.fill_null(pc.list_value_length(table.column("duplicate_spans")), 0), 0))
    which = np.flatnonzero(mapped.to_numpy(zero_copy_only=False))
    normalised_len = pc.utf8_length(table.column("text_normalised")).to_numpy().astype(np.int64)
    canonical_len = pc.utf8_length(table.column("text_canonical")).to_numpy().astype(np.int64)
    raw_len = (pc.subtract(table.column("end"), table.column("start"))).to_numpy().astype(np.int64)
    rows = table.select(["normalised_map", "canonical_map", "duplicate_spans"]).take(
        pa.array(which, pa.int64())).to_pylist()  # the texts stay in Arrow: only their lengths are needed
    for i, row in zip(which.tolist(), rows):
        sl = slice(first[i], first[i] + counts[i])
        if row["canonical_map"]:
            m = _map(row["canonical_map"], int(canonical_len[i]), int(normalised_len[i]))
            norm_start[sl], norm_end[sl] = m.starts[starts_c[sl]], m.ends[ends_c[sl] - 1]
            raw_start[sl], raw_end[sl] = norm_start[sl], norm_end[sl]
        if row["normalised_map"]:
            m = _map(row["normalised_map"], int(normalised_len[i]), int(raw_len[i]))
            raw_start[sl], raw_end[sl] = m.starts[norm_start[sl]], m.ends[norm_end[sl] - 1]
        for span in row["duplicate_spans"] or ():
            keep[sl] &= ~((starts_c[sl] >= span["start"]) & (ends_c[sl] <= span["end"]))
    passage_start = np.repeat(table.column("start").to_numpy().astype(np.int64), counts)
    raw_start += passage_start
    raw_end += passage_start
    normalised_base = np.r_[0, np.cumsum(normalised_len)[:-1]].astype(np.int64)
    base = np.repeat(normalised_base, counts)
    if not keep.all():  # tokens inside a passage's repeats are left out, before anything is built of them
        index, tag_index, owner, position = index[keep], tag_index[keep], owner[keep], position[keep]
        raw_start, raw_end, norm_start, norm_end, base = (raw_start[keep], raw_end[keep], norm_start[keep],
                                                          norm_end[keep], base[keep])
    original = pc.dictionary_encode(_gather_strings(table.column("text_normalised"), norm_start + base,
                                                    norm_end + base))

    # Classify, fold and look up each distinct token once, then spread the answers by index.
    value_types = token_types(values)
    folded = pc.dictionary_encode(fold_latin(values, value_types))
    fold_index = folded.indices.to_numpy()
    type_codes = pc.dictionary_encode(value_types)  # a handful of types: spread indices, not strings
    stop = is_stopword(folded.dictionary, seg.stopwords).to_numpy(zero_copy_only=False)[fold_index]
    owner_index = pa.array(owner, pa.int32())
    doc_ids = pc.dictionary_encode(table.column("doc_id").combine_chunks())
    token_docs = pa.DictionaryArray.from_arrays(doc_ids.indices.take(owner_index), doc_ids.dictionary)
    out = pa.table({
        "doc_id": token_docs,
        "passage_id": pa.DictionaryArray.from_arrays(owner_index, table.column("passage_id").combine_chunks()),
        "year": attach_years(token_docs, years),
        "position": pa.array(position, pa.int32()),
        "token": pa.DictionaryArray.from_arrays(pa.array(fold_index[index], pa.int32()), folded.dictionary),
        "token_original": original,
        "pos": pa.DictionaryArray.from_arrays(pa.array(tag_index, pa.int32()), tag_names),
        "token_type": pa.DictionaryArray.from_arrays(pa.array(type_codes.indices.to_numpy()[index], pa.int32()),
                                                     type_codes.dictionary),
        "is_stopword": pa.array(stop[index], pa.bool_()),
        "start": pa.array(raw_start, pa.int32()),
        "end": pa.array(raw_end, pa.int32()),
    })
    return _encode(out)


#: Scripts whose written forms :func:`written_forms` counts.
FORM_SCRIPTS = ("simplified", "traditional")


def written_forms(tokens: pa.Table, passages: pa.Table) -> pa.Table:
    """Counts of ``(term, script, form)`` in a batch of ``tokens`` (words, Latin and numbers), the script
    being that of the token's passage (``passages``: ``passage_id`` and ``script``): how the corpus itself
    writes each term in each script. Grouped on dictionary indices, not strings."""
    empty = pa.table({"term": pa.array([], pa.string()), "script": pa.array([], pa.string()),
                      "form": pa.array([], pa.string()), "count": pa.array([], pa.int64())})
    if not tokens.num_rows:
        return empty
    types = tokens.column("token_type").combine_chunks()  # the few types, looked up once each
    wanted = pc.is_in(types.dictionary, pa.array(["word", "latin", "number"])).take(types.indices)
    tokens = tokens.select(["passage_id", "token", "token_original"]).filter(wanted)
    passage = tokens.column("passage_id").combine_chunks()
    script_of = passages.column("script").combine_chunks().take(
        pc.index_in(passage.dictionary, passages.column("passage_id").combine_chunks()))
    script = pc.index_in(script_of.take(passage.indices), pa.array(FORM_SCRIPTS))
    term = tokens.column("token").combine_chunks()
    form = tokens.column("token_original").combine_chunks()
    keys = pa.table({"t": term.indices, "s": script, "f": form.indices}).filter(pc.is_valid(script))
    if not keys.num_rows:
        return empty
    counted = keys.group_by(["t", "s", "f"]).aggregate([([], "count_all")])
    return pa.table({"term": term.dictionary.take(counted.column("t")).cast(pa.string()),
                     "script": pa.array(FORM_SCRIPTS).take(counted.column("s")),
                     "form": form.dictionary.take(counted.column("f")).cast(pa.string()),
                     "count": counted.column("count_all").cast(pa.int64())})


def term_forms_table(parts: list[pa.Table]) -> pa.Table:
    """``term_forms`` from the counts of every part: summed, sorted, the most frequent form of each term in
    each script marked for display."""
    table = pa.concat_tables(parts) if parts else written_forms(pa.table({}), pa.table({}))
    table = table.group_by(["term", "script", "form"]).aggregate([("count", "sum")]).rename_columns(
        ["term", "script", "form", "count"])
    table = table.sort_by([("term", "ascending"), ("script", "ascending"), ("count", "descending"),
                           ("form", "ascending")])
    n = table.num_rows
    term, script = table.column("term").combine_chunks(), table.column("script").combine_chunks()
    changed = pc.or_(pc.not_equal(term.slice(1), term.slice(0, max(n - 1, 0))),
                     pc.not_equal(script.slice(1), script.slice(0, max(n - 1, 0))))
    first = pa.concat_arrays([pa.array([True] * min(n, 1), pa.bool_()), changed])  # the first row of each (term, script)
    return pa.Table.from_arrays([table.column("term"), table.column("script"), table.column("form"),
                                 table.column("count"), first], schema=schemas.TERM_FORMS.schema)


def _encode(table: pa.Table) -> pa.Table:
    """The declared schema: repeated strings dictionary-encoded."""
    columns = []
    for field in schemas.TOKENS.schema:
        column = table.column(field.name)
        if pa.types.is_dictionary(field.type) and not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(column)
        columns.append(column.cast(field.type))
    return pa.Table.from_arrays(columns, schema=schemas.TOKENS.schema)
