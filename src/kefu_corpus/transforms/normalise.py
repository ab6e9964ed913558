"""The normalise stage: repair, script detection, character normalisation and canonical conversion.

Pure: :func:`normalise_batch` maps documents (with their passages) to rows of ``documents``,
``passages`` and ``repairs``; the pipeline does the I/O. The repair model is corpus-wide (it learns
from the clean text of every document), so the pipeline builds it in one pass before this stage
runs, and hands it to each worker once (the executor's ``shared`` object).

Requires: ``documents``, ``passages``. Assigns: ``documents.script``, ``documents.n_repairs``,
``passages.script``, ``passages.text_normalised``, ``passages.text_canonical``, ``passages.normalised_map``,
``passages.canonical_map``, ``repairs``.

For each document:

1. damaged runs in the raw text are repaired (:func:`kefu_corpus.text.repair.repair`);
2. its script is detected on the repaired text;
3. each passage's span is mapped into the repaired text, normalised (:func:`~kefu_corpus.text.normalize.normalize`)
   and converted to the canonical script (:func:`~kefu_corpus.text.convert.convert`); both offset maps
   are stored as edit lists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bisect import bisect_left

import numpy as np
import pyarrow as pa

from kefu_corpus import schemas
from kefu_corpus.text.convert import convert
from kefu_corpus.text.normalize import normalize
from kefu_corpus.text.offsets import OffsetMap
from kefu_corpus.text.repair import Repaired, find_sites, repair
from kefu_corpus.text.script import detect_script, detect_scripts

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


def normalise_document(doc: dict, passages: list[dict], params: NormaliseParams, model=None) -> dict[str, list]:
    """Rows of ``documents``, ``passages`` and ``repairs`` for one document."""
    text = doc["text"]
    if params.repair and find_sites(text):
        if model is None:
            raise ValueError("normalise_document: repair is on and the text has possible damage, but no repair "
                             "model was given (build it once with kefu_corpus.stages.normalise.repair_model)")
        repaired = repair(text, model, params.repair_params)
    else:
        repaired = Repaired(text, OffsetMap.identity(len(text)), ())
    index = _RepairIndex(repaired)
    options = params.normalize_options()
    out_passages, owner = [], {}
    for row in passages:
        start, end = row["start"], row["end"]
        rstart, rend = index.to_repaired(start), index.to_repaired(end)
        piece = repaired.text[rstart:rend]
        normal = normalize(piece, **options)
        back = index.passage_map(start, end, rstart, rend).then(normal.offsets)
        canonical = convert(normal.text, params.canonical)
        out_passages.append({**row, "text_normalised": normal.text, "text_canonical": canonical.text,
                             "normalised_map": _edits(back), "canonical_map": _edits(canonical.offsets)})
        for r in repaired.repairs:
            if start <= r.start < end:
                owner[r.start] = row["passage_id"]
    for row, script in zip(out_passages, detect_scripts([row["text_normalised"] for row in out_passages])):
        row["script"] = script
    repairs = [{"doc_id": doc["doc_id"], "passage_id": owner.get(r.start), "start": r.start, "end": r.end,
                "damaged": r.damaged, "repaired": r.repaired, "confidence": r.confidence, "gain": r.gain,
                "method": r.method} for r in repaired.repairs]
    document = {**doc, "script": detect_script(repaired.text), "n_repairs": len(repairs)}
    return {"documents": [document], "passages": out_passages, "repairs": repairs}


def normalise_batch(batch: list[tuple[dict, list[dict]]], model, params: NormaliseParams) -> dict[str, pa.Table]:
    """Normalise a batch of ``(document row, its passage rows)`` into one Arrow table per output, with the
    corpus's repair ``model`` (the executor's ``shared`` object: it reaches each worker once)."""
    rows: dict[str, list] = {name: [] for name in OUTPUTS}
    for doc, passages in batch:
        for name, got in normalise_document(doc, passages, params, model).items():
            rows[name].extend(got)
    return {name: schemas.table_from_rows(schemas.TABLES[name], rows[name]) for name in OUTPUTS}
