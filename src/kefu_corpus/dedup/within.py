"""Repeated blocks inside a document: a pasted-twice body, a repeated paragraph or sentence.

Works on match keys (:mod:`kefu_corpus.text.fingerprint`), so a repeat is found whatever its
punctuation and spacing, and wherever it starts: mid-paragraph repeats are found as well as whole
paragraphs. The method is a greedy long-match parse, vectorised over a batch of documents:

1. hash every ``k``-character window of each document's key (``k`` = the shortest repeat reported);
2. a window is *repeated* when the same window occurs earlier in the same document and the two do not
   overlap; its *source* is the earliest occurrence;
3. consecutive repeated windows whose sources are consecutive too form one block, a copy of the source
   block; every block is checked character by character (no hash collision survives) and grown while
   it and its source still agree;
4. a block is trimmed to the sentences it holds whole (sentence ends and passage bounds), and kept when
   those still make ``min_chars``: a long phrase that recurs inside other sentences, as formulae do in
   legal and technical text, is not a repeated passage.

The first occurrence is always the one kept, so nothing of it is ever flagged.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from kefu_corpus.text.fingerprint import gram_hashes, runs, windows_within

_DOC_SALT = np.uint64(0x9E3779B97F4A7C15)
#: Documents are searched in runs of about this many key characters: each run's hash tables stay in the
#: processor's cache, and no allocation is large (documents never share a repeat, so the runs are
#: independent and the blocks found are the same whatever the run size).
_GROUP_CHARS = 1 << 16


class Block(NamedTuple):
    """``key[start:end]`` of document ``doc`` repeats ``key[source_start:source_end]`` of the same document
    (offsets into the batch's concatenated key array)."""

    doc: int
    start: int
    end: int
    source_start: int
    source_end: int


def repeated_blocks(codes: np.ndarray, doc_bounds: np.ndarray, min_chars: int,
                    breaks: np.ndarray | None = None) -> list[Block]:
    """Every repeated block of whole sentences, at least ``min_chars`` key characters long, in each document.

    Parameters
    ----------
    codes
        Keys of a batch of documents, back to back (uint32 code points).
    doc_bounds
        ``codes[doc_bounds[d]:doc_bounds[d + 1]]`` is document ``d``'s key.
    min_chars
        The shortest repeat reported, in key characters.
    breaks
        Sorted key offsets where sentences end (:attr:`~kefu_corpus.text.fingerprint.Keys.breaks`); blocks
        are trimmed to them. None reports blocks untrimmed.
    """
    blocks: list[Block] = []
    for lo_doc, hi_doc in runs(doc_bounds, _GROUP_CHARS):
        lo, hi = int(doc_bounds[lo_doc]), int(doc_bounds[hi_doc])
        found = _blocks(codes[lo:hi], doc_bounds[lo_doc:hi_doc + 1] - lo, min_chars)
        if breaks is not None:  # trimmed in the run's own offsets: most blocks go, and are never moved
            found = _trim(found, breaks[np.searchsorted(breaks, lo):np.searchsorted(breaks, hi, "right")] - lo,
                          min_chars)
        blocks += [Block(b.doc + lo_doc, b.start + lo, b.end + lo, b.source_start + lo, b.source_end + lo)
                   for b in found]
    return blocks


def _blocks(codes: np.ndarray, doc_bounds: np.ndarray, k: int) -> list[Block]:
    """:func:`repeated_blocks` of one run of documents, untrimmed (offsets into ``codes``)."""
    hashes = gram_hashes(codes, k)
    if not len(hashes):
        return []
    inside = windows_within(doc_bounds, k)
    doc = np.repeat(np.arange(len(doc_bounds) - 1), np.diff(doc_bounds))[:len(hashes)]
    with np.errstate(over="ignore"):
        salted = hashes ^ (doc.astype(np.uint64) * _DOC_SALT)
    positions = np.flatnonzero(inside)
    if not len(positions):
        return []
    values = salted[positions]
    # Only windows whose hash falls in a bucket with another window's can repeat: a counting pass over
    # 2-4 buckets per window rules out most of them before the sort.
    n_buckets = 1 << (2 * len(values)).bit_length()
    bucket = (values & np.uint64(n_buckets - 1)).astype(np.intp)
    shared = np.bincount(bucket, minlength=n_buckets)[bucket] > 1
    positions, values = positions[shared], values[shared]
    if not len(positions):
        return []
    _, first_index, inverse = np.unique(values, return_index=True, return_inverse=True)
    first = positions[first_index][inverse]  # earliest window with the same hash in the same document
    repeated = first + k <= positions
    pos, src = positions[repeated], first[repeated]
    if not len(pos):
        return []
    # A block continues while both the window and its source advance by one.
    new_block = np.r_[True, (np.diff(pos) != 1) | (np.diff(src) != 1)]
    starts = np.flatnonzero(new_block)
    ends = np.r_[starts[1:], len(pos)] - 1
    a, c = pos[starts], src[starts]
    length = pos[ends] - a + k
    # Each block's characters against its source's, all blocks at once: a hash collision (vanishingly
    # rare) is never reported.
    first = np.cumsum(length) - length
    offset = np.arange(int(length.sum())) - np.repeat(first, length)
    same = codes[np.repeat(a, length) + offset] == codes[np.repeat(c, length) + offset]
    ok = np.flatnonzero(np.logical_and.reduceat(same, first))
    blocks = [Block(d, x, x + n, y, y + n) for d, x, n, y in
              zip(doc[a[ok]].tolist(), a[ok].tolist(), length[ok].tolist(), c[ok].tolist())]
    # Where the next block touches this one, its windows' earliest occurrences jumped elsewhere; this
    # block's own source may still go on, so grow it (and likewise backwards).
    grown = []
    for i, b in enumerate(blocks):
        forward = i + 1 < len(blocks) and blocks[i + 1].doc == b.doc and blocks[i + 1].start <= b.end
        backward = i > 0 and blocks[i - 1].doc == b.doc and blocks[i - 1].end >= b.start
        grown.append(_extend(codes, b, int(doc_bounds[b.doc]), int(doc_bounds[b.doc + 1]), forward, backward)
                     if forward or backward else b)
    return _merge(grown)


def _trim(blocks: list[Block], breaks: np.ndarray, min_chars: int) -> list[Block]:
    """Each block cut to the whole sentences it holds; blocks left shorter than ``min_chars`` go."""
    if not blocks:
        return []
    starts = np.array([b.start for b in blocks])
    ends = np.array([b.end for b in blocks])
    lo = breaks[np.minimum(np.searchsorted(breaks, starts, side="left"), len(breaks) - 1)]
    hi = breaks[np.maximum(np.searchsorted(breaks, ends, side="right") - 1, 0)]
    out = []
    for b, a, z in zip(blocks, lo.tolist(), hi.tolist()):
        if z - a >= min_chars:
            shift = a - b.start
            out.append(Block(b.doc, a, z, b.source_start + shift, b.source_start + shift + (z - a)))
    return out


def _extend(codes: np.ndarray, b: Block, doc_start: int, doc_end: int, forward: bool = True,
            backward: bool = True) -> Block:
    """``b`` grown both ways while the copy and its source still agree (the earliest occurrence of a
    window may lie elsewhere when the source text repeats itself; the block's own source may still go
    on). The source never grows into the copy."""
    room = min(doc_end - b.end, b.start - b.source_end) if forward else 0
    grow = 0
    if room > 0:
        same = codes[b.end:b.end + room] == codes[b.source_end:b.source_end + room]
        grow = room if same.all() else int(np.argmin(same))
    back_room = b.source_start - doc_start if backward else 0
    shrink = 0
    if back_room > 0:
        same = codes[b.start - back_room:b.start][::-1] == codes[b.source_start - back_room:b.source_start][::-1]
        shrink = back_room if same.all() else int(np.argmin(same))
    return Block(b.doc, b.start - shrink, b.end + grow, b.source_start - shrink, b.source_end + grow)


def _merge(blocks: list[Block]) -> list[Block]:
    """Join blocks that touch in both the copy and the source (a copy split where the source repeats
    itself inside); where a block overlaps the previous one with another source, keep only its part
    beyond it."""
    out: list[Block] = []
    for b in blocks:
        last = out[-1] if out and out[-1].doc == b.doc else None
        if last is not None and last.end >= b.start and last.source_start + (b.start - last.start) == b.source_start:
            out[-1] = Block(b.doc, last.start, max(last.end, b.end), last.source_start,
                            max(last.source_end, b.source_end))
        elif last is not None and b.start < last.end:
            cut = last.end - b.start
            if b.end > last.end:
                out.append(Block(b.doc, last.end, b.end, b.source_start + cut, b.source_end))
        else:
            out.append(b)
    return out
