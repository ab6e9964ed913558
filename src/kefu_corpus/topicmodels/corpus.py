"""A compact, re-iterable corpus of units: term ids in one flat array, cut by offsets.

Units are passages or documents; their terms are ids into a vocabulary (a sorted Arrow string array).
The flat layout costs 4 bytes per term, pickles fast (it travels to workers once), and gives the
count matrices inference needs without a Python object per term.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse


@dataclass(frozen=True)
class UnitCorpus:
    """Units (ids, documents, years) and their terms as ids into ``vocabulary``, in corpus order."""

    vocabulary: pa.Array  # string, sorted
    unit_ids: pa.Array  # string
    doc_ids: pa.Array  # string
    years: pa.Array  # int16, null when undated
    offsets: np.ndarray  # int64, len(units) + 1
    term_ids: np.ndarray  # int32, ids into vocabulary

    def __len__(self) -> int:
        return len(self.unit_ids)

    def __iter__(self):
        """The units' terms as lists of strings (re-iterable; for engines that want strings)."""
        words = self.vocabulary.to_numpy(zero_copy_only=False)
        for a, b in zip(self.offsets[:-1], self.offsets[1:]):
            yield words[self.term_ids[a:b]].tolist()

    @property
    def n_terms(self) -> int:
        return int(self.offsets[-1])

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def counts(self) -> sparse.csr_matrix:
        """Term counts as a (units x vocabulary) sparse matrix, columns sorted in each row."""
        rows = np.repeat(np.arange(len(self)), self.lengths())
        matrix = sparse.csr_matrix((np.ones(self.n_terms, np.float64), (rows, self.term_ids)),
                                   shape=(len(self), len(self.vocabulary)))
        matrix.sum_duplicates()
        return matrix

    def take(self, index: np.ndarray) -> UnitCorpus:
        """The units at ``index`` (in that order)."""
        index = np.asarray(index, np.int64)
        lengths = self.lengths()[index]
        starts = self.offsets[index]
        flat = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths) + np.arange(lengths.sum())
        taken = pa.array(index)
        return UnitCorpus(self.vocabulary, self.unit_ids.take(taken), self.doc_ids.take(taken),
                          self.years.take(taken), np.r_[0, np.cumsum(lengths)].astype(np.int64),
                          self.term_ids[flat])

    def with_vocabulary(self, vocabulary: pa.Array) -> UnitCorpus:
        """The same units with their terms re-coded into ``vocabulary``; terms outside it are dropped."""
        index = pc.index_in(self.vocabulary, value_set=vocabulary)
        mapped = pc.fill_null(index, -1).to_numpy()[self.term_ids]
        keep = mapped >= 0
        owner = np.repeat(np.arange(len(self)), self.lengths())[keep]
        offsets = np.r_[0, np.cumsum(np.bincount(owner, minlength=len(self)))].astype(np.int64)
        return UnitCorpus(vocabulary, self.unit_ids, self.doc_ids, self.years, offsets,
                          mapped[keep].astype(np.int32))

    @staticmethod
    def concat(parts: list[UnitCorpus], vocabulary: pa.Array) -> UnitCorpus:
        """One corpus from parts that share ``vocabulary``, in order."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return UnitCorpus(vocabulary, pa.array([], pa.string()), pa.array([], pa.string()),
                              pa.array([], pa.int16()), np.zeros(1, np.int64), np.zeros(0, np.int32))
        shifts = np.cumsum([0] + [p.n_terms for p in parts[:-1]])
        offsets = np.concatenate([[0]] + [p.offsets[1:] + s for p, s in zip(parts, shifts)]).astype(np.int64)
        return UnitCorpus(vocabulary, pa.concat_arrays([p.unit_ids for p in parts]),
                          pa.concat_arrays([p.doc_ids for p in parts]),
                          pa.concat_arrays([p.years for p in parts]), offsets,
                          np.concatenate([p.term_ids for p in parts]))


def units_from_terms(terms: pa.Table, unit_key: str, vocabulary: pa.Array) -> UnitCorpus:
    """The units of a table of terms (doc_id, year, ``unit_key``, token), in table order, their terms
    coded into ``vocabulary`` (terms outside it are left out; units left with none are kept, empty)."""
    units = terms.column(unit_key).cast(pa.string()).combine_chunks() if terms.num_rows else pa.array([], pa.string())
    if not len(units):
        return UnitCorpus.concat([], vocabulary)
    change = np.r_[True, pc.not_equal(units[1:], units[:-1]).to_numpy(zero_copy_only=False)]
    starts = np.flatnonzero(change)
    owner = np.cumsum(change) - 1
    ids = pc.fill_null(pc.index_in(terms.column("token").cast(pa.string()), value_set=vocabulary), -1).to_numpy()
    keep = ids >= 0
    offsets = np.r_[0, np.cumsum(np.bincount(owner[keep], minlength=len(starts)))].astype(np.int64)
    at = pa.array(starts)
    return UnitCorpus(vocabulary, units.take(at), terms.column("doc_id").cast(pa.string()).combine_chunks().take(at),
                      terms.column("year").combine_chunks().take(at), offsets, ids[keep].astype(np.int32))


def stable_hash(values: pa.Array, seed: int) -> np.ndarray:
    """A 64-bit hash of each string that depends only on the string and ``seed`` (not on the process,
    the platform or the batch): a polynomial over its UTF-8 bytes, then splitmix64's finaliser."""
    values = values.cast(pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    offsets = np.frombuffer(values.buffers()[1], np.int32, len(values) + 1, values.offset * 4).astype(np.int64)
    data = np.frombuffer(values.buffers()[2], np.uint8) if values.buffers()[2] is not None else np.zeros(0, np.uint8)
    data = data[offsets[0]:offsets[-1]].astype(np.uint64)
    offsets = offsets - offsets[0]
    lengths = np.diff(offsets)
    with np.errstate(over="ignore"):
        # byte i of a string of length n weighs P ** (n - 1 - i): Horner's rule, vectorised
        position = np.arange(len(data)) - np.repeat(offsets[:-1], lengths)
        power = np.repeat(lengths, lengths) - 1 - position
        base = np.uint64(1099511628211)
        table = np.ones(int(lengths.max()) if len(lengths) and lengths.max() > 0 else 1, np.uint64)
        for i in range(1, len(table)):
            table[i] = table[i - 1] * base
        terms = (data + np.uint64(1)) * table[power] if len(data) else np.zeros(0, np.uint64)
        h = np.zeros(len(values), np.uint64)
        nonempty = lengths > 0
        if nonempty.any():
            h[nonempty] = np.add.reduceat(terms, offsets[:-1][nonempty])
        h ^= np.uint64(seed & 0xFFFFFFFFFFFFFFFF) + lengths.astype(np.uint64)
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return h
