"""The fitted topic model every engine hands back: arrays only, saved without pickle, inferred alike.

A :class:`TopicModel` is what a run keeps of a fit: the engine's name, its vocabulary, the topic-term
matrix and, for LDA, the topics' Dirichlet prior ``alpha`` (for NMF, the IDF of its TF-IDF input).
:meth:`TopicModel.transform` gives the topic weights of units from their term counts, the same way for
every unit and every engine:

- LDA engines (tomotopy, gensim): variational inference of each unit's topic proportions given the
  topic-term distributions (Blei et al. 2003, as gensim's E-step), started from a deterministic point
  (``alpha + length / k``) instead of a random draw;
- NMF: the non-negative least-squares weights of the unit's TF-IDF row against the components
  (multiplicative updates, Lee and Seung 2001), rows normalised to sum to 1.

Each unit is iterated on its own to its own convergence, so its weights never depend on the units
that share its batch: ``doc_topics`` is the same bytes whatever the batch size or number of workers.

The model is written as a NumPy ``.npz`` archive (fixed entry dates, so the same model gives the same
bytes) and read back with ``allow_pickle=False``: loading a model never runs code.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse
from scipy.special import psi

#: LDA inference stops for a unit once the mean change of its topic weights falls below this.
LDA_TOLERANCE = 1e-4
LDA_MAX_ITERATIONS = 200
NMF_TOLERANCE = 1e-6
NMF_MAX_ITERATIONS = 500
#: Units per inference chunk are chosen so that a chunk has about this many (unit, term) cells.
CHUNK_CELLS = 200_000
FORMAT = "kefu-topic-model"
FORMAT_VERSION = 1


@dataclass
class TopicModel:
    """A fitted model: ``engine`` ('tomotopy', 'lda' or 'nmf'), ``vocabulary`` (sorted), ``topic_term``
    (k x vocabulary; LDA: each row a distribution; NMF: the components), ``alpha`` (LDA prior, k) or
    ``idf`` (NMF, vocabulary), and ``info`` (engine settings, for the manifest)."""

    engine: str
    vocabulary: pa.Array
    topic_term: np.ndarray
    alpha: np.ndarray | None = None
    idf: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    @property
    def k(self) -> int:
        return self.topic_term.shape[0]

    @property
    def is_lda(self) -> bool:
        return self.engine != "nmf"

    def top_terms(self, n: int) -> list[list[tuple[str, float]]]:
        """The ``n`` heaviest terms of each topic with their weight (LDA: probability; NMF: share of the
        component), heaviest first, ties in vocabulary order."""
        words = self.vocabulary.to_pylist()
        out = []
        for row in self.topic_term:
            total = row.sum() if not self.is_lda else 1.0
            top = np.argsort(-row, kind="stable")[:n]
            out.append([(words[int(t)], float(row[t] / total) if total else 0.0) for t in top])
        return out

    def transform(self, counts: sparse.csr_matrix) -> np.ndarray:
        """Topic weights (units x k, rows summing to 1) of units given as term counts over this model's
        vocabulary. A unit with no term of the vocabulary gets the prior's mean (LDA: ``alpha`` normalised;
        NMF: 1/k each)."""
        counts = sparse.csr_matrix(counts, dtype=np.float64)
        counts.sort_indices()
        out = np.zeros((counts.shape[0], self.k))
        cells = np.diff(counts.indptr)
        cuts = np.r_[0, np.flatnonzero(np.diff(np.cumsum(cells) // CHUNK_CELLS)) + 1, counts.shape[0]]
        for a, b in zip(cuts[:-1], cuts[1:]):
            chunk = counts[a:b]
            out[a:b] = _lda(chunk, self.topic_term, self.alpha) if self.is_lda else _nmf(chunk, self.topic_term, self.idf)
        return out

    def transform_tokens(self, texts: list[list[str]]) -> np.ndarray:
        """Topic weights of new units given as lists of canonical terms (terms outside the vocabulary are
        ignored)."""
        flat = pa.array([t for text in texts for t in text], pa.string())
        ids = pc.fill_null(pc.index_in(flat, value_set=self.vocabulary), -1).to_numpy()
        rows = np.repeat(np.arange(len(texts)), [len(t) for t in texts])
        keep = ids >= 0
        counts = sparse.csr_matrix((np.ones(int(keep.sum())), (rows[keep], ids[keep])),
                                   shape=(len(texts), len(self.vocabulary)))
        counts.sum_duplicates()
        return self.transform(counts)

    # -- storage ------------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the model to ``path`` (``.npz``); the same model gives the same bytes."""
        header = {"format": FORMAT, "version": FORMAT_VERSION, "engine": self.engine, "k": self.k,
                  "info": self.info}
        arrays = {"header": np.frombuffer(json.dumps(header, sort_keys=True, ensure_ascii=False).encode(), np.uint8),
                  "vocabulary": np.array(self.vocabulary.to_pylist(), dtype=str),
                  "topic_term": self.topic_term}
        if self.alpha is not None:
            arrays["alpha"] = self.alpha
        if self.idf is not None:
            arrays["idf"] = self.idf
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, array in arrays.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
                entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> TopicModel:
        """Read a model written by :meth:`save` (no pickle is ever unpickled)."""
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode())
            if header.get("format") != FORMAT:
                raise ValueError(f"{path} is not a kefu topic model")
            return cls(engine=header["engine"], vocabulary=pa.array(data["vocabulary"].tolist(), pa.string()),
                       topic_term=data["topic_term"], alpha=data["alpha"] if "alpha" in data else None,
                       idf=data["idf"] if "idf" in data else None, info=header.get("info", {}))


def _lda(counts: sparse.csr_matrix, topic_term: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Variational inference of topic proportions, each unit iterated until its own convergence."""
    k = topic_term.shape[0]
    beta_t = np.ascontiguousarray(topic_term.T, np.float64)  # vocabulary x k
    lengths = np.asarray(counts.sum(axis=1)).ravel()
    gamma = alpha[None, :] + lengths[:, None] / k
    active = np.flatnonzero(lengths > 0)
    for _ in range(LDA_MAX_ITERATIONS):
        if not len(active):
            break
        sub = counts[active]
        g = gamma[active]
        exp_elog = np.exp(psi(g) - psi(g.sum(axis=1))[:, None])
        rows = np.repeat(np.arange(len(active)), np.diff(sub.indptr))
        norm = np.einsum("ij,ij->i", exp_elog[rows], beta_t[sub.indices]) + 1e-100
        scaled = sparse.csr_matrix((sub.data / norm, sub.indices, sub.indptr), shape=sub.shape)
        new = alpha[None, :] + exp_elog * (scaled @ beta_t)
        change = np.abs(new - g).mean(axis=1)
        gamma[active] = new
        active = active[change >= LDA_TOLERANCE]
    return gamma / gamma.sum(axis=1, keepdims=True)  # an empty unit keeps alpha, the prior


def _nmf(counts: sparse.csr_matrix, components: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """Non-negative weights of each unit's l2-normalised TF-IDF row against ``components``, by
    multiplicative updates, each unit until its own convergence; rows normalised to sum to 1."""
    x = counts.multiply(idf[None, :]).tocsr()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    x = sparse.diags(np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0)) @ x
    h = np.asarray(components, np.float64)
    hht = h @ h.T
    xht = np.asarray(x @ h.T)
    w = np.full((x.shape[0], h.shape[0]), 1.0 / h.shape[0])
    active = np.flatnonzero(norms > 0)
    for _ in range(NMF_MAX_ITERATIONS):
        if not len(active):
            break
        wa = w[active]
        new = wa * xht[active] / (np.einsum("ij,jk->ik", wa, hht) + 1e-12)  # no BLAS: row by row, in order
        change = np.abs(new - wa).max(axis=1) / np.maximum(new.max(axis=1), 1e-12)
        w[active] = new
        active = active[change >= NMF_TOLERANCE]
    total = w.sum(axis=1, keepdims=True)  # an empty unit keeps its uniform start
    return np.where(total > 0, w / np.where(total > 0, total, 1.0), 1.0 / h.shape[0])
