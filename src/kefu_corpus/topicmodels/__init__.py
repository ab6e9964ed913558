"""Topic models over units of terms: a compact corpus, three engines, inference, coherence, the saved model.

The topics stage (:mod:`kefu_corpus.transforms.topics`) streams ``tokens`` into these pieces; notebooks and
tests may use them on their own.
"""
