"""Near duplicates: MinHash signatures, LSH candidate pairs, verified pairs, clusters.

Signatures are MinHash digests over character ``n``-shingles of match keys. The shingles are hashed
with numpy (:func:`~kefu_corpus.text.fingerprint.gram_hashes`) and the digests are computed by rensa
(Rust) from that flat buffer in one call per batch; ``benchmarks/dedup_quality.py`` prints the
throughput. Candidate pairs come from LSH banding done here with numpy sorts, so the three passes
(signatures, candidate pairs, clusters) each hold only signatures, never text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rensa import RMinHash
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from kefu_corpus.text.fingerprint import gram_hashes


def signatures(codes: np.ndarray, starts: np.ndarray, ends: np.ndarray, shingle: int, num_perm: int, seed: int,
               hashes: np.ndarray | None = None) -> np.ndarray:
    """MinHash digests (one row of ``num_perm`` uint32 per key) of the ``shingle``-grams of each key
    ``codes[starts[i]:ends[i]]``. Keys are sorted and do not overlap; they may leave gaps.

    ``hashes`` may pass ``gram_hashes(codes, shingle)`` when the caller has it already. A key shorter than
    ``shingle`` is one shingle: itself; an empty key gets a row that matches nothing.
    """
    starts, ends = np.asarray(starts, np.int64), np.asarray(ends, np.int64)
    n_keys = len(starts)
    if n_keys == 0:
        return np.zeros((0, num_perm), np.uint32)
    if hashes is None:
        hashes = gram_hashes(codes, shingle)
    lengths = ends - starts
    fits = lengths >= shingle
    # Window starts of every key, key by key: start_i, start_i + 1, ..., end_i - shingle.
    counts = np.where(fits, lengths - shingle + 1, 0)
    first = np.repeat(starts - np.r_[0, np.cumsum(counts)[:-1]], counts)
    token_hashes = hashes[np.arange(int(counts.sum()), dtype=np.int64) + first] if counts.sum() else hashes[:0]
    short = np.flatnonzero(~fits & (lengths > 0))
    if len(short):  # a short key is one shingle of itself
        extra = np.array([gram_hashes(codes[starts[i]:ends[i]], int(lengths[i]))[0] for i in short], np.uint64)
        owner = np.r_[np.repeat(np.arange(n_keys), counts), short]
        order = np.argsort(owner, kind="stable")
        token_hashes = np.r_[token_hashes, extra][order]
        counts = counts.copy()
        counts[short] = 1
    offsets = np.r_[0, np.cumsum(counts)].astype(np.uint64)
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(np.ascontiguousarray(token_hashes, np.uint64),
                                                           offsets, num_perm, seed)
    out = np.array(matrix.to_rows(), dtype=np.uint32).reshape(n_keys, num_perm)
    out[counts == 0] = np.iinfo(np.uint32).max  # an empty key matches nothing
    return out


def band_rows(threshold: float, num_perm: int, recall: float = 0.99) -> int:
    """Rows per LSH band: the most rows (fewest false candidates) that still make a pair with Jaccard
    similarity ``threshold`` a candidate with probability ``recall``."""
    best = 1
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if 1 - (1 - threshold ** rows) ** bands >= recall:
            best = rows
    return best


@dataclass(frozen=True)
class Pairs:
    """Verified near-duplicate pairs ``(left[i], right[i])`` with estimated Jaccard ``similarity[i]``."""

    left: np.ndarray
    right: np.ndarray
    similarity: np.ndarray


def candidate_pairs(sigs: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of signatures that agree on a whole band, for every band.

    Within a bucket each member is paired with the bucket's first member and with its predecessor,
    which keeps the count linear in the bucket size and still links every member of the bucket.
    """
    n, num_perm = sigs.shape
    lefts, rights = [], []
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    for b in range(num_perm // rows):
        band = np.ascontiguousarray(sigs[:, b * rows:(b + 1) * rows])
        keys = band.view(np.dtype((np.void, band.dtype.itemsize * rows))).ravel()
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        same = np.r_[False, sorted_keys[1:] == sorted_keys[:-1]]
        if not same.any():
            continue
        head = np.maximum.accumulate(np.where(~same, np.arange(n), 0))
        members = np.flatnonzero(same)
        lefts += [order[head[members]], order[members - 1]]
        rights += [order[members], order[members]]
    if not lefts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    left, right = np.concatenate(lefts), np.concatenate(rights)
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    pairs = np.unique(np.c_[lo, hi][lo != hi], axis=0)
    return pairs[:, 0], pairs[:, 1]


def similarity(sigs: np.ndarray, left: np.ndarray, right: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Estimated Jaccard similarity of each pair: the share of agreeing MinHash values."""
    out = np.empty(len(left), np.float32)
    for i in range(0, len(left), chunk):
        a, b = sigs[left[i:i + chunk]], sigs[right[i:i + chunk]]
        out[i:i + chunk] = (a == b).mean(axis=1)
    return out


def near_pairs(sigs: np.ndarray, threshold: float) -> Pairs:
    """Verified pairs of signatures whose estimated Jaccard similarity is at least ``threshold``."""
    left, right = candidate_pairs(sigs, band_rows(threshold, sigs.shape[1]))
    sim = similarity(sigs, left, right)
    ok = sim >= threshold
    return Pairs(left[ok], right[ok], sim[ok])


def clusters(n: int, pairs: Pairs) -> np.ndarray:
    """Connected components of the verified pairs: a cluster label for each of ``n`` items."""
    graph = coo_matrix((np.ones(len(pairs.left), np.int8), (pairs.left, pairs.right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]
