"""Align a near-duplicate document with the copy that is kept, so that only what the kept copy holds is
flagged.

Two documents whose MinHash signatures are similar share most of their shingles; that is evidence, not
a decision. A document may repost another after an introduction of its own, or follow it with
commentary; two reports may be written from one formula with other names, dates and figures. Each
passage of the near copy is therefore compared with the kept document's text.

**Coverage.** A character of the near copy's match key is *covered* when a window of ``k`` key
characters around it (the stage's shingle) occurs in the kept document's key at the same offset as a
matched window near it (a lone window is a coincidence: a year, an article number the kept document
has elsewhere): a lookup of window hashes, linear in the two documents' lengths, that
follows text moved, split or merged across passages. An edited character breaks only the windows that
hold it, so it alone is uncovered.

**Gaps.** A run of uncovered characters is either an *edit* (one character, not a digit: a typo, a
variant character) or *text of its own* (two or more characters, or any digit: a name, a date, a
figure, a sentence). The pair is a **copy** when the passages it mostly covers hold at least as many
edits as short gaps of their own (light edits throughout, as a republished copy has: two edits closer
than a window make one longer gap, but most stand alone), or when
the two documents are in different scripts (a converted copy's words differ by region: 软件 and 軟體),
and a **template** otherwise (the same formula, other facts).

**Flags.**

- copy: a passage covered to at least ``1 - edit_share`` (after its short gaps are filled) is flagged
  whole, as near-duplicate documents always were; in another passage, each covered run of at least
  ``min_chars`` key characters is flagged and the rest stays (an introduction, commentary);
- template: only edits are filled; each covered run of at least ``min_chars`` key characters (the
  formula) is flagged, and the text of its own (names, dates, figures, sentences) stays in the
  deduplicated view, so counts of terms keep the second event's facts;
- a passage without such a run (an introduction of its own, commentary) is not flagged.

Each flagged span is one row of ``duplicates`` (kind ``near_document`` or ``template``), pointing at
the kept document's passage and raw span that hold the same text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kefu_corpus.text.fingerprint import Keys, gram_hashes, match_keys
from kefu_corpus.text.offsets import OffsetMap

COPY, TEMPLATE = "near_document", "template"
_DIGITS = (ord("0"), ord("9"))


@dataclass
class Side:
    """The passages of one document: their rows (``passage_id``, ``start``, ``end``, ``script``,
    ``text_normalised``, ``text_canonical``, ``normalised_map``, ``canonical_map``) and match keys."""

    rows: list[dict]
    keys: Keys = field(init=False)

    def __post_init__(self) -> None:
        self.keys = match_keys([row["text_canonical"] for row in self.rows])
        self._maps: dict[int, OffsetMap] = {}

    @property
    def script(self) -> str | None:
        """The script most of the document's letters are in ('simplified' or 'traditional'), if any."""
        weight: dict[str, int] = {}
        for row, n in zip(self.rows, np.diff(self.keys.bounds).tolist()):
            if row.get("script") in ("simplified", "traditional"):
                weight[row["script"]] = weight.get(row["script"], 0) + n
        return max(weight, key=weight.get) if weight else None

    def passage_of(self, j: int) -> int:
        return int(np.searchsorted(self.keys.bounds[1:], j, side="right"))

    def canonical_span(self, p: int, lo: int, hi: int) -> tuple[int, int]:
        """Canonical offsets (in passage ``p``) of key characters ``[lo, hi)`` (document key offsets); a
        span from the passage's first key character starts at the passage's start, punctuation
        included, and one to its last ends at the passage's end."""
        first, last = int(self.keys.bounds[p]), int(self.keys.bounds[p + 1])
        start = 0 if lo == first else int(self.keys.positions[lo])
        end = len(self.rows[p]["text_canonical"]) if hi == last else int(self.keys.positions[hi - 1]) + 1
        return start, end

    def raw_span(self, p: int, start: int, end: int) -> tuple[int, int]:
        """Raw document offsets of canonical ``[start, end)`` of passage ``p``."""
        row = self.rows[p]
        if start == 0 and end == len(row["text_canonical"]):
            return row["start"], row["end"]
        if p not in self._maps:
            n_raw, n_norm, n_canon = row["end"] - row["start"], len(row["text_normalised"]), len(row["text_canonical"])
            normalised = OffsetMap.from_edits([tuple(e.values()) for e in row["normalised_map"] or ()], n_norm, n_raw)
            canonical = OffsetMap.from_edits([tuple(e.values()) for e in row["canonical_map"] or ()], n_canon, n_norm)
            self._maps[p] = normalised.then(canonical)
        m = self._maps[p]
        return row["start"] + int(m.starts[start]), row["start"] + int(m.ends[end - 1])


@dataclass
class Aligned:
    """The flags of one near copy: its passages flagged whole, the canonical spans flagged in the others
    (by passage index in the document), one ``duplicates`` row per flagged span (with ``passage``, the
    passage's index, and ``whole``), and the pair's kind."""

    kind: str
    whole: list[int]
    partial: dict[int, list[tuple[int, int]]]
    rows: list[dict]


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of the runs of True in ``mask``."""
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def align(copy: Side, kept: Side, *, k: int, min_chars: int, edit_share: float) -> Aligned:
    """Flag what of ``copy``'s passages ``kept`` holds (see the module docstring)."""
    codes, bounds = copy.keys.codes, copy.keys.bounds
    n = len(codes)
    windows = gram_hashes(codes, k)
    theirs = gram_hashes(kept.keys.codes, k)
    values, first = np.unique(theirs, return_index=True)
    at = np.minimum(np.searchsorted(values, windows), max(len(values) - 1, 0))
    matched = (values[at] == windows) if len(values) else np.zeros(len(windows), bool)
    source = np.where(matched, first[at] if len(values) else 0, -1)  # where each matched window is in kept
    # A window counts only if the matched window before or after it (within two windows' length) lies
    # in the kept text at the same offset: text that follows the kept copy in order. A window alone is a
    # coincidence (a year, an article number that the kept document has elsewhere); one after an edit
    # still lines up with the text before the edit.
    at_ = np.flatnonzero(matched)
    offset = source[at_] - at_
    agree = (offset[1:] == offset[:-1]) & (np.diff(at_) <= 2 * k)
    keep = np.zeros(len(at_), bool)
    keep[1:] |= agree
    keep[:-1] |= agree
    matched[at_[~keep]] = False
    source = np.where(matched, source, -1)
    depth = np.zeros(n + 1, np.int64)
    np.add.at(depth, np.flatnonzero(matched), 1)
    np.add.at(depth, np.flatnonzero(matched) + k, -1)
    covered = np.cumsum(depth)[:n] > 0
    # A number that differs anywhere differs as a whole: 1998 and 1999 share the windows that end in 199.
    is_digit = (codes >= _DIGITS[0]) & (codes <= _DIGITS[1])
    run_starts, run_ends = _runs(is_digit)
    open_count = np.r_[0, np.cumsum(~covered)]
    for s, e in zip(run_starts.tolist(), run_ends.tolist()):
        if open_count[e] > open_count[s]:
            covered[s:e] = False

    # Gaps: edits (one character, not a digit) and text of its own, in the passages mostly covered.
    owner = np.repeat(np.arange(len(bounds) - 1), np.diff(bounds))
    share = np.bincount(owner, weights=covered, minlength=len(bounds) - 1) / np.maximum(np.diff(bounds), 1)
    gap_starts, gap_ends = _runs(~covered)
    gap_len = gap_ends - gap_starts
    digits = np.r_[0, np.cumsum(is_digit)]
    edit = (gap_len == 1) & (digits[gap_ends] == digits[gap_starts])
    # Facts are short: a gap of min_chars or more is a sentence or passage of its own, and says nothing
    # about whether the rest is a copy or a template.
    mostly = (share[owner[gap_starts]] >= 0.5) & (gap_len < min_chars)
    kind = COPY if (mostly & edit).sum() >= (mostly & ~edit).sum() else TEMPLATE
    if copy.script and kept.script and copy.script != kept.script:
        kind = COPY  # the same text in the other script: its words differ by region (软件, 软体), not by fact

    filled = covered.copy()
    if kind == COPY:  # short gaps in a copy are its edits (two edits closer than k leave a longer gap)
        fill = gap_len < k
    else:
        fill = edit
    for s, e in zip(gap_starts[fill].tolist(), gap_ends[fill].tolist()):
        filled[s:e] = True

    whole: list[int] = []
    partial: dict[int, list[tuple[int, int]]] = {}
    rows: list[dict] = []
    for p in range(len(bounds) - 1):
        lo, hi = int(bounds[p]), int(bounds[p + 1])
        if hi == lo:
            continue
        inside = filled[lo:hi]
        if kind == COPY and inside.mean() >= 1 - edit_share:
            spans = [(lo, hi)]
        else:  # a template's formula runs between its facts: a run of one window is already shared text
            starts, ends = _runs(inside)
            least = k if kind == TEMPLATE and share[p] >= 0.5 else min_chars
            spans = [(lo + int(s), lo + int(e)) for s, e in zip(starts, ends) if e - s >= least]
        if not spans:
            continue
        if spans == [(lo, hi)]:
            whole.append(p)
        else:
            partial[p] = [copy.canonical_span(p, s, e) for s, e in spans]
        for s, e in spans:
            rows.append({"passage": p, "whole": spans == [(lo, hi)],
                         **_row(copy, kept, p, s, e, source, k, kind, whole=spans == [(lo, hi)])})
    return Aligned(kind, whole, partial, rows)


def _row(copy: Side, kept: Side, p: int, lo: int, hi: int, source: np.ndarray, k: int, kind: str,
         whole: bool) -> dict:
    """The ``duplicates`` row of key span ``[lo, hi)`` of passage ``p``: the raw span it covers in the
    copy, and where the same text lies in the kept document (from its first to its last matched window)."""
    start, end = copy.canonical_span(p, lo, hi) if not whole else (0, len(copy.rows[p]["text_canonical"]))
    raw_start, raw_end = copy.raw_span(p, start, end)
    found = source[lo:max(hi - k + 1, lo)]
    found = found[found >= 0]
    if len(found):
        k_lo, k_hi = int(found.min()), int(found.max()) + k
    else:  # too short for a window of its own: the kept text of the nearest matched window
        near = np.flatnonzero(source >= 0)
        j = int(source[near[np.argmin(np.abs(near - lo))]]) if len(near) else 0
        k_lo, k_hi = j, j + k
    kp, kq = kept.passage_of(k_lo), kept.passage_of(k_hi - 1)
    kept_start = kept.raw_span(kp, *kept.canonical_span(kp, k_lo, min(k_hi, int(kept.keys.bounds[kp + 1]))))[0]
    kept_end = kept.raw_span(kq, *kept.canonical_span(kq, max(k_lo, int(kept.keys.bounds[kq])), k_hi))[1]
    return {"passage_id": copy.rows[p]["passage_id"], "start": raw_start, "end": raw_end, "kind": kind,
            "kept_passage_id": kept.rows[kp]["passage_id"], "kept_start": kept_start, "kept_end": kept_end}
