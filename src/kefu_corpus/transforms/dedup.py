"""The dedup stage: flag repeated passages and near-duplicate documents, keep one copy, record everything.

Requires: ``documents``, ``passages`` (normalised). Assigns: ``documents.near_duplicate_of``,
``documents.duplicate_cluster``, ``documents.n_duplicate_passages``, ``passages.is_duplicate``,
``passages.duplicate_spans``, ``duplicates``. Nothing is deleted: flags and the audit table say what
analysis should skip.

Three passes, none of which holds the corpus's text (the alignment of near copies reads only theirs):

1. **scan** (:func:`scan_batch`, per batch of whole documents): match keys of every passage; repeated
   blocks inside each document (:mod:`kefu_corpus.dedup.within`), already mapped to raw offsets; a
   128-bit digest of each passage's key; MinHash signatures of long passages and of each document body.
2. **decide** (:func:`decide`, on the signatures of the whole corpus): near-duplicate documents, each
   near copy then aligned with its kept document in jobs that read the two documents' passages
   (:mod:`kefu_corpus.dedup.align`: only what the kept copy holds is flagged), then exact passage groups
   (or boilerplate), then near-duplicate passages; LSH candidate pairs, verified, clustered
   (:mod:`kefu_corpus.dedup.near`).
3. **annotate** (:func:`annotate_passages`, :func:`annotate_documents`): the flags are joined back onto
   the tables batch by batch.

Which copy is kept: copies are ranked by their document, earliest ``date`` first (undated last), then
the longest body (letters and digits), then ``doc_id``; within a document the earlier passage wins. A
copy in a document that is itself a near duplicate, or inside a repeated block, is kept only when no
other copy is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu_corpus import schemas
from kefu_corpus.dedup.align import COPY, TEMPLATE, Aligned, Side, align
from kefu_corpus.dedup.near import near_pairs, clusters, signatures, similarity
from kefu_corpus.dedup.within import repeated_blocks
from kefu_corpus.text.fingerprint import gram_hashes, key_digest, match_keys
from kefu_corpus.text.offsets import OffsetMap

if TYPE_CHECKING:
    from kefu_corpus.stages.dedup import DedupParams

OUTPUTS = ("documents", "passages", "duplicates")
#: Columns of ``passages`` the scan reads.
SCAN_COLUMNS = ["doc_id", "passage_id", "passage_index", "start", "end", "text_normalised", "text_canonical",
                "normalised_map", "canonical_map"]
#: A passage is boilerplate only if every copy lies within this many passages of its document's start or end
#: (and no copy is a whole document).
BOILERPLATE_EDGE = 3


# -- pass 1: scan ---------------------------------------------------------------------------------------


@dataclass
class Scan:
    """What one batch of whole documents contributes to the corpus-wide decisions."""

    doc_ids: list[str]
    doc_key_len: np.ndarray  # letters and digits in the body
    doc_sigs: np.ndarray  # MinHash of each body (rows of uint32 max for bodies shorter than near_min_chars)
    passage_ids: list[str]
    p_doc: np.ndarray  # index into doc_ids
    p_index: np.ndarray
    p_start: np.ndarray
    p_end: np.ndarray
    p_canon_len: np.ndarray
    p_key_len: np.ndarray
    p_within: np.ndarray  # key characters flagged as within-document repeats
    p_digest: np.ndarray  # (n, 16) uint8: xxh3-128 of the key
    near: np.ndarray  # passages with a signature
    near_sigs: np.ndarray
    within_rows: dict[str, list] = field(default_factory=dict)
    n_bytes: int = 0  # UTF-8 bytes of canonical text scanned
    within_spans: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # passage -> canonical spans


def _raw_map(row: dict) -> OffsetMap:
    """Map from a passage's canonical text to its document's raw text (passage-relative offsets)."""
    n_raw, n_norm, n_canon = row["end"] - row["start"], len(row["text_normalised"]), len(row["text_canonical"])
    normalised = OffsetMap.from_edits([tuple(e.values()) for e in row["normalised_map"]], n_norm, n_raw)
    canonical = OffsetMap.from_edits([tuple(e.values()) for e in row["canonical_map"]], n_canon, n_norm)
    return normalised.then(canonical)


def scan_batch(table: pa.Table, params: DedupParams) -> Scan:
    """Pass 1 over a batch of passages holding whole documents, in document order."""
    canonical = table.column("text_canonical").to_pylist()
    keys = match_keys(canonical)
    key_len = keys.lengths()
    doc_col = np.array(table.column("doc_id").to_pylist(), dtype=object)
    change = np.r_[True, doc_col[1:] != doc_col[:-1]] if len(doc_col) else np.zeros(0, bool)
    p_doc = np.cumsum(change) - 1
    doc_ids = doc_col[change].tolist()
    doc_bounds = keys.bounds[np.r_[np.searchsorted(p_doc, np.arange(len(doc_ids))), len(p_doc)]]
    doc_key_len = np.diff(doc_bounds)

    canonical_len = pc.utf8_length(table.column("text_canonical")).to_numpy().astype(np.int64)
    p_start = table.column("start").to_numpy().astype(np.int64)
    p_end = table.column("end").to_numpy().astype(np.int64)
    passage_ids = table.column("passage_id").to_pylist()
    within_rows: dict[str, list] = {name: [] for name in schemas.DUPLICATES.schema.names}
    within_spans: dict[int, list[tuple[int, int]]] = {}
    p_within = np.zeros(len(passage_ids), np.int64)
    blocks = repeated_blocks(keys.codes, doc_bounds, params.within_min_chars, keys.breaks)
    if blocks:
        passage_ends = keys.bounds[1:]

        def owner(j: int) -> int:
            """The passage that key character ``j`` belongs to."""
            return int(np.searchsorted(passage_ends, j, side="right"))

        maps: dict[int, OffsetMap] = {}
        rows = table.select(["start", "end", "text_normalised", "text_canonical", "normalised_map",
                             "canonical_map"])

        def raw(j: int, end: bool = False) -> int:
            """Raw document offset where key character ``j`` starts (or ends); the first and last key
            characters of a passage stand for the passage's own start and end, punctuation included."""
            p = owner(j)
            if not end and j == keys.bounds[p]:
                return int(p_start[p])
            if end and j == keys.bounds[p + 1] - 1:
                return int(p_end[p])
            if p not in maps:
                maps[p] = _raw_map(rows.slice(p, 1).to_pylist()[0])
            m, q = maps[p], int(keys.positions[j])
            return int(p_start[p] + (m.ends[q] if end else m.starts[q]))

        def canonical_span(p: int, lo: int, hi: int) -> tuple[int, int]:
            start = 0 if lo == keys.bounds[p] else int(keys.positions[lo])
            end = int(canonical_len[p]) if hi == keys.bounds[p + 1] else int(keys.positions[hi - 1]) + 1
            return start, end

        for b in blocks:
            doc_id = doc_ids[b.doc]
            cluster = f"within_doc:{doc_id}@{raw(b.source_start)}-{raw(b.source_end - 1, end=True)}"
            for p in range(owner(b.start), owner(b.end - 1) + 1):
                lo, hi = max(b.start, int(keys.bounds[p])), min(b.end, int(keys.bounds[p + 1]))
                if lo >= hi:
                    continue
                src_lo, src_hi = b.source_start + (lo - b.start), b.source_start + (hi - b.start)
                p_within[p] += hi - lo
                within_spans.setdefault(p, []).append(canonical_span(p, lo, hi))
                _append(within_rows, doc_id=doc_id, passage_id=passage_ids[p], start=raw(lo),
                        end=raw(hi - 1, end=True), kind="within_doc", kept_doc_id=doc_id,
                        kept_passage_id=passage_ids[owner(src_lo)], kept_start=raw(src_lo),
                        kept_end=raw(src_hi - 1, end=True), cluster_id=cluster, similarity=1.0,
                        method="repeat-scan")

    digests = np.frombuffer(b"".join(key_digest(keys.key(i)) for i in range(len(passage_ids))),
                            dtype=np.uint8).reshape(len(passage_ids), 16)
    near = np.flatnonzero(key_len >= params.near_min_chars)
    shingles = gram_hashes(keys.codes, params.shingle)  # shared by passage and document signatures
    near_sigs = signatures(keys.codes, keys.bounds[near], keys.bounds[near + 1], params.shingle, params.num_perm,
                           params.seed, hashes=shingles)
    doc_sigs = signatures(keys.codes, doc_bounds[:-1], doc_bounds[1:], params.shingle, params.num_perm,
                          params.seed, hashes=shingles)
    doc_sigs[doc_key_len < params.near_min_chars] = np.iinfo(np.uint32).max
    return Scan(doc_ids=doc_ids, doc_key_len=doc_key_len, doc_sigs=doc_sigs, passage_ids=passage_ids,
                p_doc=p_doc.astype(np.int64), p_index=table.column("passage_index").to_numpy().astype(np.int64),
                p_start=p_start, p_end=p_end,
                p_canon_len=canonical_len,
                p_key_len=key_len, p_within=p_within, p_digest=digests, near=near, near_sigs=near_sigs,
                within_rows=within_rows, within_spans=within_spans,
                n_bytes=pc.sum(pc.binary_length(table.column("text_canonical"))).as_py() or 0)


def _append(rows: dict[str, list], **values) -> None:
    for name, value in values.items():
        rows[name].append(value)


# -- pass 2: decide -------------------------------------------------------------------------------------


@dataclass
class Decisions:
    """Every flag of the corpus: rows of ``duplicates`` and what annotates the other tables."""

    duplicates: pa.Table
    passage_spans: dict[int, list[tuple[int, int]]]  # global passage ordinal -> canonical spans
    passage_flagged: np.ndarray  # bool per global passage ordinal
    doc_near_of: dict[str, str]
    doc_cluster: dict[str, str]
    doc_flagged_passages: dict[str, int]
    counts: dict[str, int]


def _concat(scans: list[Scan]) -> dict[str, object]:
    doc_offset = np.cumsum([0] + [len(s.doc_ids) for s in scans])
    passage_offset = np.cumsum([0] + [len(s.passage_ids) for s in scans])
    cat = {
        "doc_ids": [d for s in scans for d in s.doc_ids],
        "passage_ids": [p for s in scans for p in s.passage_ids],
        "doc_key_len": np.concatenate([s.doc_key_len for s in scans]),
        "doc_sigs": np.concatenate([s.doc_sigs for s in scans]),
        "p_doc": np.concatenate([s.p_doc + doc_offset[i] for i, s in enumerate(scans)]),
        "near": np.concatenate([s.near + passage_offset[i] for i, s in enumerate(scans)]).astype(np.int64),
        "near_sigs": np.concatenate([s.near_sigs for s in scans]),
        "within_spans": {int(p + passage_offset[i]): spans for i, s in enumerate(scans)
                         for p, spans in s.within_spans.items()},
    }
    for name in ("p_index", "p_start", "p_end", "p_canon_len", "p_key_len", "p_within", "p_digest"):
        cat[name] = np.concatenate([getattr(s, name) for s in scans])
    return cat


def _doc_rank(doc_ids: list[str], key_len: np.ndarray, dates: dict[str, object]) -> np.ndarray:
    """Rank of each document in the keep order: earliest date (undated last), longest body, doc_id."""
    days = np.array([dates[d].toordinal() if dates.get(d) is not None else np.iinfo(np.int32).max
                     for d in doc_ids], np.int64)
    order = np.lexsort((np.array(doc_ids, dtype=object).astype(str), -key_len, days))
    rank = np.empty(len(doc_ids), np.int64)
    rank[order] = np.arange(len(doc_ids))
    return rank


def decide(scans: list[Scan], dates: dict[str, object], params: DedupParams,
           align_each: Callable[[list[AlignJob]], Iterable[dict[int, Aligned]]]) -> Decisions:
    """Pass 2: every duplicate decision of the corpus, from the scans of all its parts.

    ``dates`` maps doc_id to the document's date (or None) for the keep rule. ``align_each(jobs)`` runs
    :func:`align_job` on each job (through the executor: a job reads the text of its near-duplicate
    documents and their kept copies from the part files, the parts ``scans`` scanned, and aligns them,
    :mod:`kefu_corpus.dedup.align`).
    """
    locations = _locations(scans)
    scans = [s for s in scans if s.passage_ids]
    if not scans:
        return Decisions(schemas.DUPLICATES.schema.empty_table(), {}, np.zeros(0, bool), {}, {}, {},
                         {**{kind: 0 for kind in schemas.DUPLICATE_KINDS}, "passages_flagged": 0, "passages": 0,
                          "documents": len(dates), "documents_flagged": 0})
    c = _concat(scans)
    doc_ids, passage_ids = c["doc_ids"], c["passage_ids"]
    p_doc, p_key, p_start, p_end = c["p_doc"], c["p_key_len"], c["p_start"], c["p_end"]
    n_docs, n_pass = len(doc_ids), len(passage_ids)
    rank = _doc_rank(doc_ids, c["doc_key_len"], dates)
    rows: dict[str, list] = {name: [] for name in schemas.DUPLICATES.schema.names}
    for scan in scans:
        for name, values in scan.within_rows.items():
            rows[name] += values
    whole = np.zeros(n_pass, bool)  # flagged as a whole passage

    # Near-duplicate documents: the pairs (each near copy and its cluster's kept document), then what
    # of each copy the kept document holds, by aligning their text.
    doc_near_of: dict[str, str] = {}
    doc_cluster: dict[str, str] = {}
    doc_flagged = np.zeros(n_docs, bool)
    eligible = np.flatnonzero(c["doc_key_len"] >= params.near_min_chars)
    pairs = near_pairs(c["doc_sigs"][eligible], params.near_threshold)
    labels = clusters(len(eligible), pairs)
    near_docs: list[tuple[int, int, float]] = []
    for members in _groups(labels):
        docs = eligible[members]
        rep = int(docs[np.argmin(rank[docs])])
        others = docs[docs != rep]
        sims = similarity(c["doc_sigs"], np.full(len(others), rep), others)
        for d, sim in zip(others.tolist(), sims.tolist()):
            doc_flagged[d] = True
            doc_near_of[doc_ids[d]] = doc_ids[rep]
            near_docs.append((d, rep, sim))
    aligned: dict[int, Aligned] = {}
    for done in align_each(align_jobs(near_docs, locations, c["doc_key_len"])):
        aligned.update(done)
    # One id per cluster: 'template:<kept>' when every near copy in it is a template, else
    # 'near_document:<kept>'.
    kinds: dict[int, set[str]] = {}
    for d, rep, _ in near_docs:
        kinds.setdefault(rep, set()).add(aligned[d].kind)
    cluster_of = {rep: f"{TEMPLATE if found == {TEMPLATE} else COPY}:{doc_ids[rep]}" for rep, found in kinds.items()}
    for d, rep, _ in near_docs:
        doc_cluster[doc_ids[d]] = doc_cluster[doc_ids[rep]] = cluster_of[rep]

    # Keep priority of each passage: documents that are not near duplicates first, then copies outside
    # repeated blocks, then document rank, then position.
    within_full = (c["p_within"] >= p_key) & (p_key > 0)
    priority = np.lexsort((np.arange(n_pass), rank[p_doc], within_full, doc_flagged[p_doc]))
    prio = np.empty(n_pass, np.int64)
    prio[priority] = np.arange(n_pass)

    # Exact passages, and boilerplate.
    exact_flagged = np.zeros(n_pass, bool)
    eligible = np.flatnonzero(p_key >= params.passage_min_chars)
    if len(eligible):
        keys = c["p_digest"][eligible].view(np.dtype((np.void, 16))).ravel()
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        multi = counts[inverse] >= 2
        members_all = eligible[multi]
        labels = inverse[multi]
        n_in_doc = np.bincount(p_doc, minlength=n_docs)
        ordinal = {d: i for i, d in enumerate(doc_ids)}
        doc_label = np.arange(n_docs)  # a cluster of near-duplicate documents counts once
        for d in np.flatnonzero(doc_flagged).tolist():
            doc_label[d] = ordinal[doc_near_of[doc_ids[d]]]
        for members in _groups(labels):
            group = members_all[members]
            group = group[np.argsort(prio[group])]
            kept = int(group[0])
            at_edge = (c["p_index"][group] < BOILERPLATE_EDGE) | (
                c["p_index"][group] >= n_in_doc[p_doc[group]] - BOILERPLATE_EDGE)
            distinct = len(np.unique(doc_label[p_doc[group]]))
            whole_doc = (n_in_doc[p_doc[group]] == 1).any()  # a document of one passage is content, not furniture
            if distinct >= params.boilerplate_min_docs and at_edge.all() and not whole_doc:
                cluster = f"boilerplate:{passage_ids[kept]}"
                for p in group.tolist():
                    exact_flagged[p] = True
                    _append(rows, doc_id=doc_ids[p_doc[p]], passage_id=passage_ids[p], start=int(p_start[p]),
                            end=int(p_end[p]), kind="boilerplate", kept_doc_id=None, kept_passage_id=None,
                            kept_start=None, kept_end=None, cluster_id=cluster, similarity=1.0,
                            method="exact-key")
                continue
            cluster = f"exact:{passage_ids[kept]}"
            for p in group[1:].tolist():
                same_doc = p_doc[p] == p_doc[kept]
                if same_doc and within_full[p]:
                    continue  # the repeat scan has flagged it already, with its exact span
                exact_flagged[p] = True
                _append(rows, doc_id=doc_ids[p_doc[p]], passage_id=passage_ids[p], start=int(p_start[p]),
                        end=int(p_end[p]), kind="within_doc" if same_doc else "exact",
                        kept_doc_id=doc_ids[p_doc[kept]], kept_passage_id=passage_ids[kept],
                        kept_start=int(p_start[kept]), kept_end=int(p_end[kept]), cluster_id=cluster,
                        similarity=1.0, method="exact-key")
    whole |= exact_flagged

    # What the alignment of each near copy flags, in passages exact matching has not flagged already.
    first_passage = np.searchsorted(p_doc, np.arange(n_docs))
    aligned_spans: dict[int, list[tuple[int, int]]] = {}
    for d, rep, sim in near_docs:
        got = aligned[d]
        for row in got.rows:
            p = int(first_passage[d] + row["passage"])
            if exact_flagged[p]:
                continue
            if row["whole"]:
                whole[p] = True
            _append(rows, doc_id=doc_ids[d], passage_id=passage_ids[p], start=row["start"], end=row["end"],
                    kind=row["kind"], kept_doc_id=doc_ids[rep], kept_passage_id=row["kept_passage_id"],
                    kept_start=row["kept_start"], kept_end=row["kept_end"], cluster_id=cluster_of[rep],
                    similarity=sim, method="minhash-align")
        for local, spans in got.partial.items():
            p = int(first_passage[d] + local)
            if not exact_flagged[p]:
                aligned_spans[p] = spans

    # Near-duplicate passages, among passages not flagged so far (nor in part, by an alignment).
    near = c["near"]
    partly = np.zeros(n_pass, bool)
    partly[list(aligned_spans)] = True
    open_ = ~whole[near] & (c["p_within"][near] == 0) & ~partly[near]  # those have flags of their own
    candidates = near[open_]
    sigs = c["near_sigs"][open_]
    pairs = near_pairs(sigs, params.near_passage_threshold)
    labels = clusters(len(candidates), pairs)
    near_flagged = 0
    for members in _groups(labels):
        group = members[np.argsort(prio[candidates[members]])]
        kept_i = int(group[0])
        kept = int(candidates[kept_i])
        sims = similarity(sigs, np.full(len(group) - 1, kept_i), group[1:])
        cluster = f"near_passage:{passage_ids[kept]}"
        for i, sim in zip(group[1:].tolist(), sims.tolist()):
            p = int(candidates[i])
            whole[p] = True
            near_flagged += 1
            _append(rows, doc_id=doc_ids[p_doc[p]], passage_id=passage_ids[p], start=int(p_start[p]),
                    end=int(p_end[p]), kind="near_passage", kept_doc_id=doc_ids[p_doc[kept]],
                    kept_passage_id=passage_ids[kept], kept_start=int(p_start[kept]), kept_end=int(p_end[kept]),
                    cluster_id=cluster, similarity=sim, method="minhash-lsh")

    spans: dict[int, list[tuple[int, int]]] = {}
    for p in np.flatnonzero(whole).tolist():
        spans[p] = [(0, int(c["p_canon_len"][p]))]
    for p in set(c["within_spans"]) | set(aligned_spans):
        if p not in spans:
            spans[p] = _merge_spans(c["within_spans"].get(p, []) + aligned_spans.get(p, []))
    flagged = whole | within_full
    flagged_per_doc = np.bincount(p_doc[flagged], minlength=n_docs)
    table = schemas.table_from_columns(schemas.DUPLICATES, rows)
    table = table.take(pc.sort_indices(table, [("doc_id", "ascending"), ("start", "ascending"),
                                               ("kind", "ascending")]))
    kinds = table.column("kind").to_pylist()
    counts = {kind: kinds.count(kind) for kind in schemas.DUPLICATE_KINDS}
    return Decisions(duplicates=table, passage_spans=spans, passage_flagged=flagged, doc_near_of=doc_near_of,
                     doc_cluster=doc_cluster,
                     doc_flagged_passages={doc_ids[d]: int(n) for d, n in enumerate(flagged_per_doc.tolist())},
                     counts={**counts, "passages_flagged": int(flagged.sum()), "passages": n_pass,
                             "documents": n_docs, "documents_flagged": int(doc_flagged.sum())})


def _locations(scans: list[Scan]) -> list[tuple[int, int, int]]:
    """For each document, in corpus order: the part that holds it and its passages' rows in that part."""
    out = []
    for i, scan in enumerate(scans):
        starts = np.searchsorted(scan.p_doc, np.arange(len(scan.doc_ids) + 1))
        out += [(i, int(a), int(b)) for a, b in zip(starts[:-1].tolist(), starts[1:].tolist())]
    return out


#: Columns of ``passages`` an alignment reads.
ALIGN_COLUMNS = ["passage_id", "start", "end", "script", "text_normalised", "text_canonical", "normalised_map",
                 "canonical_map"]
#: Letters and digits of the documents one alignment job reads (near copies and kept documents).
ALIGN_JOB_CHARS = 500_000


@dataclass(frozen=True)
class AlignJob:
    """Near copies to align with their kept documents: the pairs ``(copy, kept)`` (corpus document
    indices) and where each document's passages are (``{doc: (part index, first row, end row)}``). A
    work description: the job reads the rows from the part files itself."""

    pairs: tuple[tuple[int, int], ...]
    where: dict[int, tuple[int, int, int]]


def align_jobs(near_docs: list[tuple[int, int, float]], locations: list[tuple[int, int, int]],
               key_len: np.ndarray) -> list[AlignJob]:
    """The pairs in jobs of about :data:`ALIGN_JOB_CHARS` key characters, ordered by the copy's part
    (so that a job reads few parts)."""
    jobs, batch, size = [], [], 0
    for d, kept, _ in sorted(near_docs, key=lambda t: (locations[t[0]][0], t[0])):
        batch.append((d, kept))
        size += int(key_len[d] + key_len[kept])
        if size >= ALIGN_JOB_CHARS:
            jobs.append(batch)
            batch, size = [], 0
    if batch:
        jobs.append(batch)
    return [AlignJob(tuple(b), {g: locations[g] for pair in b for g in pair}) for b in jobs]


def align_job(job: AlignJob, read_part: Callable[[int], pa.Table], params: DedupParams) -> dict[int, Aligned]:
    """Align the near copies of ``job`` (each part it needs read once, :data:`ALIGN_COLUMNS`)."""
    sides: dict[int, Side] = {}
    for part in sorted({where[0] for where in job.where.values()}):
        table = read_part(part)
        for g, (p, a, b) in job.where.items():
            if p == part:
                sides[g] = Side(table.slice(a, b - a).to_pylist())
    return {d: align(sides[d], sides[kept], k=params.shingle, min_chars=params.within_min_chars,
                     edit_share=params.near_edit_share) for d, kept in job.pairs}


def _groups(labels: np.ndarray) -> list[np.ndarray]:
    """Indices of each label that occurs more than once, label by label."""
    if not len(labels):
        return []
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    return [g for g in np.split(order, cuts) if len(g) > 1]


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


# -- pass 3: annotate -----------------------------------------------------------------------------------


def part_decisions(decisions: Decisions, first_ordinal: int, n_passages: int, doc_ids: list[str]) -> str:
    """A digest of what :func:`annotate_passages` and :func:`annotate_documents` set on one part (passages
    ``first_ordinal`` onwards, documents ``doc_ids``): a part whose digest and input are unchanged is
    annotated the same, whatever changed elsewhere in the corpus."""
    import hashlib
    import json

    ordinals = range(first_ordinal, first_ordinal + n_passages)
    state = {
        "flagged": np.flatnonzero(decisions.passage_flagged[first_ordinal:first_ordinal + n_passages]).tolist(),
        "spans": [[o - first_ordinal, decisions.passage_spans[o]] for o in ordinals if o in decisions.passage_spans],
        "documents": [[d, decisions.doc_near_of.get(d), decisions.doc_cluster.get(d),
                       decisions.doc_flagged_passages.get(d, 0)] for d in doc_ids],
    }
    return hashlib.sha256(json.dumps(state, default=int).encode()).hexdigest()


def annotate_passages(table: pa.Table, first_ordinal: int, decisions: Decisions) -> pa.Table:
    """``table`` (a batch of passages, global ordinals from ``first_ordinal``) with the dedup columns set."""
    n = table.num_rows
    ordinals = range(first_ordinal, first_ordinal + n)
    flagged = decisions.passage_flagged[first_ordinal:first_ordinal + n]
    per_row = [decisions.passage_spans.get(o, ()) for o in ordinals]
    lengths = np.fromiter((len(s) for s in per_row), np.int32, count=n)
    flat = [span for spans in per_row for span in spans]
    values = pa.StructArray.from_arrays(
        [pa.array([s for s, _ in flat], pa.int32()), pa.array([e for _, e in flat], pa.int32())],
        fields=list(schemas.SPANS.value_type))
    spans = pa.ListArray.from_arrays(pa.array(np.r_[0, np.cumsum(lengths)], pa.int32()), values,
                                     type=schemas.SPANS)
    table = table.set_column(table.schema.get_field_index("is_duplicate"),
                             schemas.PASSAGES.schema.field("is_duplicate"), pa.array(flagged, pa.bool_()))
    return table.set_column(table.schema.get_field_index("duplicate_spans"),
                            schemas.PASSAGES.schema.field("duplicate_spans"), spans)


def annotate_documents(table: pa.Table, decisions: Decisions) -> pa.Table:
    """``table`` (a batch of documents) with the dedup columns set."""
    ids = table.column("doc_id").to_pylist()
    columns = {
        "near_duplicate_of": pa.array([decisions.doc_near_of.get(d) for d in ids], pa.string()),
        "duplicate_cluster": pa.array([decisions.doc_cluster.get(d) for d in ids], pa.string()),
        "n_duplicate_passages": pa.array([decisions.doc_flagged_passages.get(d, 0) for d in ids], pa.int32()),
    }
    for name, values in columns.items():
        index = table.schema.get_field_index(name)
        table = table.set_column(index, schemas.DOCUMENTS.schema.field(name), values)
    return table
