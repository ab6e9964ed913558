"""The normalise stage: repair, script detection, character normalisation and canonical conversion.

Pure: :func:`normalise_batch` maps a batch of documents with their passages (Arrow tables) to the
``documents``, ``passages`` and ``repairs`` tables; the pipeline does the I/O. Only the columns the
stage computes pass through Python: the rest of each row is carried over in Arrow. The repair model
is corpus-wide (it learns from the clean text of every document), so the pipeline builds it in one
pass before this stage runs, and hands it to each worker once (the executor's ``shared`` object).

Requires: ``documents``, ``passages``. Assigns: ``documents.script``, ``documents.n_repairs``,
``passages.script``, ``passages.text_normalised``, ``passages.text_canonical``, ``passages.normalised_map``,
``passages.canonical_map``, ``repairs``.

For each document:

1. damaged runs in the raw text are repaired (:func:`kefu_corpus.text.repair.repair`);
2. its script is detected on the repaired text;
3. each passage's span is mapped into the repaired text, normalised (:func:`~kefu_corpus.text.normalize.normalize`)
   and converted to the canonical script (:func:`~kefu_corpus.text.convert.convert_all`, a batch's passages
   at once); both offset maps are stored as edit lists.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from kefu_corpus import schemas
from kefu_corpus.text.convert import convert_all
from kefu_corpus.text.normalize import normalize
from kefu_corpus.text.offsets import OffsetMap
from kefu_corpus.text.repair import Repaired, find_sites, repair
from kefu_corpus.text.script import detect_scripts

if TYPE_CHECKING:
    from kefu_corpus.stages.normalise import NormaliseParams

OUTPUTS = ("documents", "passages", "repairs")

def _edits(offsets: OffsetMap) -> list[dict]:
    return [{"start": a, "end": b, "source_start": c, "source_end": d} for a, b, c, d in offsets.to_edits()]


class _RepairIndex:
    """Maps raw-text spans into the repaired text (a repair straddling a boundary goes wholly inside)."""

    def __init__(self, repaired: Repaired) -> None:
        self.repaired = repaired
        self.starts = [r.start for r in repaired.repairs]
        shifts, total = [], 0
        for r in repaired.repairs:
            total += len(r.repaired) - (r.end - r.start)
            shifts.append(total)
        self.shifts = shifts

    def to_repaired(self, pos: int) -> int:
        """Position ``pos`` of the raw text in the repaired text; inside a run, the end of its repair
        (so a run belongs wholly to the passage its start is in)."""
        i = bisect_left(self.starts, pos) - 1  # the last repair starting before pos
        if i < 0:
            return pos
        r = self.repaired.repairs[i]
        if pos < r.end:
            return r.start + (self.shifts[i - 1] if i else 0) + len(r.repaired)
        return pos + self.shifts[i]

    def passage_map(self, start: int, end: int, rstart: int, rend: int) -> OffsetMap:
        """Map from repaired passage text ``[rstart, rend)`` back to raw passage text ``[start, end)``."""
        if not self.repaired.repairs:
            return OffsetMap.identity(end - start)
        full = self.repaired.offsets
        starts = np.clip(full.starts[rstart:rend] - start, 0, end - start)
        ends = np.clip(full.ends[rstart:rend] - start, 0, end - start)
        return OffsetMap(starts, ends, end - start)


@dataclass
class _Columns:
    """The columns the stage computes for a batch, filled document by document."""

    normalised: list[str] = field(default_factory=list)
    normalised_maps: list[list[dict]] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # each document's repaired text
    n_repairs: list[int] = field(default_factory=list)
    repairs: list[dict] = field(default_factory=list)


def _normalise_document(doc_id: str, text: str, passages: list[tuple[str, int, int]], params: NormaliseParams,
                        model, out: _Columns) -> None:
    """One document's columns, added to ``out``: ``passages`` are its ``(passage_id, start, end)``."""
    if params.repair and find_sites(text):
        if model is None:
            raise ValueError("normalise_batch: repair is on and the text has possible damage, but no repair "
                             "model was given (build it once with kefu_corpus.stages.normalise.repair_model)")
        repaired = repair(text, model, params.repair_params)
    else:
        repaired = Repaired(text, OffsetMap.identity(len(text)), ())
    index = _RepairIndex(repaired)
    options = params.normalize_options()
    owner = {}
    for passage_id, start, end in passages:
        rstart, rend = index.to_repaired(start), index.to_repaired(end)
        normal = normalize(repaired.text[rstart:rend], **options)
        back = index.passage_map(start, end, rstart, rend).then(normal.offsets)
        out.normalised.append(normal.text)
        out.normalised_maps.append(_edits(back))
        for r in repaired.repairs:
            if start <= r.start < end:
                owner[r.start] = passage_id
    out.repaired.append(repaired.text)
    out.n_repairs.append(len(repaired.repairs))
    out.repairs += [{"doc_id": doc_id, "passage_id": owner.get(r.start), "start": r.start, "end": r.end,
                     "damaged": r.damaged, "repaired": r.repaired, "confidence": r.confidence, "gain": r.gain,
                     "method": r.method} for r in repaired.repairs]


def _with_columns(table: pa.Table, spec: schemas.TableSpec, columns: dict[str, pa.Array]) -> pa.Table:
    """``table`` (of ``spec``'s columns) with ``columns`` replaced."""
    schema = spec.schema
    return pa.Table.from_arrays([columns[f.name] if f.name in columns else table.column(f.name).cast(f.type)
                                 for f in schema], schema=schema)


def normalise_batch(documents: pa.Table, passages: pa.Table, model, params: NormaliseParams) -> dict[str, pa.Table]:
    """Normalise a batch of ``documents`` and their ``passages`` (``documents.n_passages`` of each, in
    document order) into one Arrow table per output, with the corpus's repair ``model`` (the executor's
    ``shared`` object: it reaches each worker once). The tables come back with the stage's columns set;
    the rest of each row is carried over as it is, in Arrow."""
    doc_ids = documents.column("doc_id").to_pylist()
    counts = documents.column("n_passages").to_numpy().astype(np.int64)
    if int(counts.sum()) != passages.num_rows:
        raise ValueError("normalise_batch: the passages are not those of the documents (documents.n_passages)")
    ids = passages.column("passage_id").to_pylist()
    starts, ends = passages.column("start").to_pylist(), passages.column("end").to_pylist()
    out, first = _Columns(), 0
    for doc_id, text, n in zip(doc_ids, documents.column("text").to_pylist(), counts.tolist()):
        _normalise_document(doc_id, text, list(zip(ids[first:first + n], starts[first:first + n],
                                                   ends[first:first + n])), params, model, out)
        first += n
    canonical = convert_all(out.normalised, params.canonical)  # the batch's passages in one conversion
    return {
        "documents": _with_columns(documents, schemas.DOCUMENTS, {
            "script": pa.array(detect_scripts(out.repaired), pa.string()),
            "n_repairs": pa.array(out.n_repairs, pa.int32())}),
        "passages": _with_columns(passages, schemas.PASSAGES, {
            "script": pa.array(detect_scripts(out.normalised), pa.string()),
            "text_normalised": pa.array(out.normalised, pa.string()),
            "text_canonical": pa.array([c.text for c in canonical], pa.string()),
            "normalised_map": pa.array(out.normalised_maps, schemas.EDITS),
            "canonical_map": pa.array([_edits(c.offsets) for c in canonical], schemas.EDITS)}),
        "repairs": schemas.table_from_rows(schemas.REPAIRS, out.repairs),
    }
