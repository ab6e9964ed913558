"""Three engines behind one function: fit a model with ``k`` topics on a :class:`UnitCorpus`.

- ``tomotopy``: tomotopy's LDA (collapsed Gibbs sampling in C++), the default: much faster than
  gensim's variational LDA at equal or better coherence (``benchmarks/topics_fit.py``);
- ``lda``: gensim's LDA (batch variational Bayes), reading the corpus as a stream of sparse rows;
- ``nmf``: scikit-learn's NMF on TF-IDF.

Every fit is seeded and runs on a fixed number of threads (``threads``; BLAS included), so the same
corpus and settings give the same model in any process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from kefu_corpus.topicmodels.corpus import UnitCorpus
from kefu_corpus.topicmodels.model import TopicModel

ENGINES = ("tomotopy", "lda", "nmf")


@dataclass(frozen=True)
class FitSettings:
    """How a model is fitted: the engine, its seed and iterations, and the threads it may use."""

    engine: str = "tomotopy"
    seed: int = 20200101
    iterations: int = 100  # tomotopy: Gibbs sampling sweeps
    passes: int = 10  # gensim: passes over the corpus
    threads: int = 1


def fit(corpus: UnitCorpus, k: int, settings: FitSettings) -> TopicModel:
    """A model with ``k`` topics fitted on ``corpus``, whose vocabulary it keeps."""
    from threadpoolctl import threadpool_limits

    if settings.engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {settings.engine!r}")
    with threadpool_limits(limits=settings.threads):
        if settings.engine == "tomotopy":
            return _tomotopy(corpus, k, settings)
        if settings.engine == "lda":
            return _gensim(corpus, k, settings)
        return _nmf(corpus, k, settings)


def _tomotopy(corpus: UnitCorpus, k: int, settings: FitSettings) -> TopicModel:
    import tomotopy as tp

    model = tp.LDAModel(k=k, min_cf=0, min_df=0, rm_top=0, seed=settings.seed)
    words = corpus.vocabulary.to_numpy(zero_copy_only=False)
    for a, b in zip(corpus.offsets[:-1], corpus.offsets[1:]):
        if b > a:
            model.add_doc(words[corpus.term_ids[a:b]].tolist())
    scheme = tp.ParallelScheme.NONE if settings.threads == 1 else tp.ParallelScheme.PARTITION
    model.train(settings.iterations, workers=settings.threads, parallel=scheme)
    used = pa.array(list(model.used_vocabs), pa.string())
    order = np.argsort(np.array(used.to_pylist(), dtype=object), kind="stable")
    topic_term = np.array([model.get_topic_word_dist(t) for t in range(k)], np.float64)[:, order]
    topic_term /= topic_term.sum(axis=1, keepdims=True)
    return TopicModel("tomotopy", used.take(pa.array(order)), topic_term, alpha=np.asarray(model.alpha, np.float64),
                      info={"iterations": settings.iterations, "threads": settings.threads,
                            "ll_per_word": float(model.ll_per_word), "tomotopy_isa": tp.isa})


def _gensim(corpus: UnitCorpus, k: int, settings: FitSettings) -> TopicModel:
    from gensim.matutils import Sparse2Corpus
    from gensim.models import LdaModel

    counts = corpus.counts()
    stream = Sparse2Corpus(counts, documents_columns=False)
    words = corpus.vocabulary.to_pylist()
    model = LdaModel(corpus=stream, id2word=dict(enumerate(words)), num_topics=k, passes=settings.passes,
                     random_state=settings.seed, alpha="symmetric", update_every=0,
                     chunksize=max(min(len(corpus), 2000), 1), iterations=100)
    return TopicModel("lda", corpus.vocabulary, model.get_topics().astype(np.float64),
                      alpha=np.asarray(model.alpha, np.float64), info={"passes": settings.passes,
                                                                      "threads": settings.threads})


def _nmf(corpus: UnitCorpus, k: int, settings: FitSettings) -> TopicModel:
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfTransformer

    counts = corpus.counts()
    tfidf = TfidfTransformer().fit(counts)
    model = NMF(n_components=k, init="nndsvda", random_state=settings.seed, max_iter=500)
    model.fit(tfidf.transform(counts))
    return TopicModel("nmf", corpus.vocabulary, model.components_.astype(np.float64), idf=tfidf.idf_.astype(np.float64),
                      info={"threads": settings.threads, "iterations": int(model.n_iter_)})
