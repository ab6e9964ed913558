"""Topic model fit times on the segmented bench corpus, passages as units.

Segments ../shared/bench/tw_laws.jsonl.gz with the pipeline's first four stages (or reads an earlier
run's folder given with --out), then fits gensim LDA and scikit-learn NMF once each at a fixed k on the
deduplicated passages and prints the seconds, plus the time of one NPMI coherence evaluation.

    python benchmarks/topics_fit.py [--corpus PATH] [--out DIR] [--k 10]
"""

from __future__ import annotations

import argparse
import time

import pyarrow.parquet as pq
from segmented import add_arguments, segmented_corpus

from kefu_corpus.stages.topics import TopicParams, make_model, units


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    with segmented_corpus(args) as out:
        from gensim.corpora import Dictionary
        from gensim.models import CoherenceModel

        params = TopicParams()
        ids, _docs, texts = units(pq.read_table(out / "tokens.parquet"), params)
        dictionary = Dictionary(texts)
        dictionary.filter_extremes(no_below=params.min_df, no_above=params.max_df, keep_n=None)
        corpus = [dictionary.doc2bow(t) for t in texts]
        n_tokens = sum(len(t) for t in texts)
        print(f"topic models on {len(ids):,} passages, {n_tokens:,} terms, vocabulary {len(dictionary):,}, k={args.k}:")
        for engine in ("lda", "nmf"):
            started = time.perf_counter()
            model = make_model(engine, args.k, params).fit(corpus, dictionary)
            fit = time.perf_counter() - started
            started = time.perf_counter()
            model.transform(corpus)
            transform = time.perf_counter() - started
            terms = [[w for w, _ in topic] for topic in model.top_terms(params.top_terms)]
            started = time.perf_counter()
            score = CoherenceModel(topics=terms, texts=texts, dictionary=dictionary, coherence="c_npmi",
                                   processes=1).get_coherence()
            print(f"  {engine}: fit {fit:6.1f} s, transform {transform:5.1f} s, "
                  f"NPMI {score:.3f} in {time.perf_counter() - started:5.1f} s")


if __name__ == "__main__":
    main()
