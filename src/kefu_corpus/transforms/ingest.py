"""The ingest stage: raw items in, rows of documents, passages, boilerplate and the ingest report out.

Pure: :func:`ingest_batch` reads nothing from disk and writes nothing; it maps a batch of
:class:`~kefu_corpus.sources.SourceItem` to one Arrow table per output, with the declared schemas.

Requires: raw items (``sources.iter_items``). Assigns: ``documents``, ``passages``, ``boilerplate``,
``ingest_report``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import hashlib
from dataclasses import dataclass, field

import pyarrow as pa

from kefu_corpus import schemas
from kefu_corpus.sources import METADATA_FIELDS, SourceItem
from kefu_corpus.text import dates
from kefu_corpus.text.decode import DecodeError, Decoded, decode_bytes
from kefu_corpus.text.layout import analyse_layout, split_passages
from kefu_corpus.text.rules import load_patterns

if TYPE_CHECKING:
    from kefu_corpus.stages.ingest import IngestParams

OUTPUTS = ("documents", "passages", "boilerplate", "ingest_report")


@dataclass
class IngestRows:
    """Row dicts for each output table."""

    documents: list[dict] = field(default_factory=list)
    passages: list[dict] = field(default_factory=list)
    boilerplate: list[dict] = field(default_factory=list)
    ingest_report: list[dict] = field(default_factory=list)

    def tables(self) -> dict[str, pa.Table]:
        return {name: schemas.table_from_rows(schemas.TABLES[name], getattr(self, name)) for name in OUTPUTS}


def make_doc_id(source_path: str, source_record: str | None, sha256: str) -> str:
    """16 hex digits of SHA-256 over provenance and the content's SHA-256: stable while neither changes."""
    key = f"{source_path}\0{source_record or ''}\0{sha256}".encode("utf-8")
    return hashlib.sha256(key).hexdigest()[:16]


def _report(item: SourceItem, status: str, *, doc_id=None, reason=None, message=None, encoding=None, n_bytes=None):
    return {"source_path": item.source_path, "source_record": item.source_record, "doc_id": doc_id,
            "status": status, "reason": reason, "message": message, "encoding": encoding, "n_bytes": n_bytes}


def _decode(item: SourceItem, params: IngestParams) -> tuple[bytes, Decoded]:
    if item.text is not None:
        return item.text.encode("utf-8"), Decoded(item.text, "utf-8", "container")
    name = item.source_path
    return item.data, decode_bytes(item.data, name=name, encoding=item.sidecar.get("encoding"),
                                   on_error=params.on_decode_error, min_plausibility=params.min_plausibility)


def _resolve(name: str, item: SourceItem, found: dict) -> tuple[object, str, object]:
    """(value, provenance, evidence) for one metadata field: sidecar > record > text > none."""
    if name in item.sidecar:
        return item.sidecar[name], "sidecar", None
    if name in item.fields:
        return item.fields[name], "record", None
    if name in found:
        return found[name].value, "text", found[name]
    return None, "none", None


def ingest_item(item: SourceItem, params: IngestParams, rows: IngestRows) -> None:
    """Ingest one item, appending its rows to ``rows``."""
    if item.problem is not None:
        reason, message = item.problem
        rows.ingest_report.append(_report(item, "rejected", reason=reason, message=message))
        return
    try:
        raw, decoded = _decode(item, params)
    except DecodeError as exc:
        rows.ingest_report.append(_report(item, "rejected", reason=exc.reason, message=exc.message,
                                          n_bytes=len(item.data or b"")))
        return
    text = decoded.text
    if not text.strip():
        what = "record" if item.source_record else "file"
        rows.ingest_report.append(_report(item, "rejected", reason="empty_text",
            message=f"{item.source_path}{' record ' + item.source_record if item.source_record else ''} has no "
                    f"text: nothing to ingest. Remove the {what} or fill it.",
            encoding=decoded.encoding, n_bytes=len(raw)))
        return

    sha = hashlib.sha256(raw).hexdigest()
    doc_id = make_doc_id(item.source_path, item.source_record, sha)
    patterns = load_patterns(params.patterns)
    known_title = item.sidecar.get("title") or item.fields.get("title")
    layout = analyse_layout(text, patterns, header_lines=params.header_lines, footer_lines=params.footer_lines,
                            max_title_chars=params.max_title_chars, known_title=known_title)

    meta = {name: _resolve(name, item, layout.found) for name in METADATA_FIELDS}
    notes: list[tuple[str, str]] = list(decoded.warnings)
    date_value, date_source, date_evidence = meta["date"]
    if isinstance(date_value, str):  # sidecar (validated on load) or record field
        date_text, date_value = date_value, dates.parse_iso(date_value)
        if date_value is None:
            notes.append(("bad_record_date", f"{item.source_path} record {item.source_record}: the date field "
                          f"{date_text!r} is not YYYY, YYYY-MM or YYYY-MM-DD; the text's own date was used instead."))
            found = layout.found.get("date")
            date_value, date_source = (found.value, "text") if found else (None, "none")
            date_text = found.text if found else None
    else:
        date_text = date_evidence.text if date_evidence else None

    passage_spans = split_passages(text, layout.body(), patterns, max_chars=params.max_passage_chars)
    for index, (start, end) in enumerate(passage_spans):
        rows.passages.append({"doc_id": doc_id, "passage_id": f"{doc_id}-{index:05d}", "passage_index": index,
                              "start": start, "end": end, "text": text[start:end]})
    separated = layout.separated()
    for block in separated:
        rows.boilerplate.append({"doc_id": doc_id, "start": block.start, "end": block.end,
                                 "text": text[block.start:block.end], "category": block.category,
                                 "kind": block.kind, "rule": block.rule})

    rows.documents.append({
        "doc_id": doc_id, "source_path": item.source_path, "source_record": item.source_record,
        "sha256": sha, "n_bytes": len(raw), "encoding": decoded.encoding,
        "encoding_method": decoded.method, "encoding_confidence": decoded.confidence,
        "title": meta["title"][0], "title_source": meta["title"][1],
        "date": date_value.value if date_value else None,
        "date_end": date_value.end if date_value else None,
        "date_precision": date_value.precision if date_value else None,
        "date_text": date_text if date_value else None,
        "date_source": date_source,
        "year": date_value.year if date_value else None,
        "author": meta["author"][0], "author_source": meta["author"][1],
        "publication": meta["publication"][0], "publication_source": meta["publication"][1],
        "duplicate_of": None, "n_chars": len(text), "n_passages": len(passage_spans), "n_boilerplate": len(separated),
        "text": text,
    })
    if notes:
        rows.ingest_report.append(_report(item, "warning", doc_id=doc_id, reason=";".join(r for r, _ in notes),
                                          message=" ".join(m for _, m in notes),
                                          encoding=decoded.encoding, n_bytes=len(raw)))
    else:
        rows.ingest_report.append(_report(item, "ok", doc_id=doc_id, encoding=decoded.encoding, n_bytes=len(raw)))


def ingest_batch(items: list[SourceItem], params: IngestParams) -> dict[str, pa.Table]:
    """Ingest a batch of items into one Arrow table per output (the unit of work sent to a worker)."""
    rows = IngestRows()
    for item in items:
        item = item.loaded()
        sizes = {name: len(getattr(rows, name)) for name in OUTPUTS}
        try:
            ingest_item(item, params, rows)
        except Exception as exc:  # one input never sinks the batch: its partial rows go, a report row stays
            for name, n in sizes.items():
                del getattr(rows, name)[n:]
            message = str(exc) if len(str(exc)) <= 200 else str(exc)[:200] + "..."
            where = item.source_path + (f" record {item.source_record}" if item.source_record else "")
            rows.ingest_report.append(_report(item, "rejected", reason="unreadable", message=(
                f"{where} could not be ingested ({type(exc).__name__}: {message}). Check the input and, "
                "for a file, the sidecar's encoding for it.")))
    return rows.tables()
