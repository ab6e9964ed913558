"""Queries over an output folder for analysts: keyword in context.

Reads the tables of a run; writes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc

from kefu_corpus.store import read_passages, read_table
from kefu_corpus.text.convert import convert
from kefu_corpus.text.offsets import OffsetMap


def kwic(out: Path, term: str, *, window: int = 12, canonical: str = "t2s",
         include_duplicates: bool = False) -> list[dict]:
    """Every occurrence of ``term`` (either script) in the passages of ``out``, with ``window`` characters
    of context on each side, in the passage's own script (``text_normalised``), in corpus order."""
    query = convert(term, canonical).text
    passages = read_passages(out, ["doc_id", "passage_id", "text_normalised", "text_canonical", "canonical_map"],
                             include_duplicates=include_duplicates)
    passages = passages.filter(pc.match_substring(passages.column("text_canonical"), query))
    docs = read_table(out, "documents", columns=["doc_id", "year"])
    years = dict(zip(docs.column("doc_id").to_pylist(), docs.column("year").to_pylist()))
    hits = []
    for row in passages.to_pylist():
        text, shown = row["text_canonical"], row["text_normalised"]
        back = OffsetMap.from_edits([tuple(e.values()) for e in row["canonical_map"]], len(text), len(shown))
        start = text.find(query)
        while start >= 0:
            a, b = back.source_span(start, start + len(query))
            hits.append({"doc_id": row["doc_id"], "passage_id": row["passage_id"], "year": years.get(row["doc_id"]),
                         "left": shown[max(0, a - window):a].replace("\n", " "), "match": shown[a:b],
                         "right": shown[b:b + window].replace("\n", " ")})
            start = text.find(query, start + len(query))
    return hits
