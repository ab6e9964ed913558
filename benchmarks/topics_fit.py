"""Topic models on the segmented bench corpus: fit time, inference time and coherence by engine.

Segments ../shared/bench/tw_laws.jsonl.gz with the pipeline's first four stages (or reads an earlier
run's folder given with --out), takes the topics stage's deterministic sample of passages
(`topics.sample`, default 10,000) and fits every engine once at a fixed k on it, one thread each. For
each it prints the fit's seconds, the seconds to infer the weights of every passage, and the model's
NPMI coherence on the sample twice: with the stage's own implementation and with gensim's
`CoherenceModel` (c_npmi) on the same topics and texts, with the seconds each took.

`--gensim-all` also fits gensim's LDA on every passage (10 passes, as the topics stage did before it
had a sample and tomotopy): the reference the default engine is compared against.

    python benchmarks/topics_fit.py [--corpus PATH] [--out DIR] [--k 10] [--sample 10000] [--gensim-all]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from segmented import add_arguments, segmented_corpus

from kefu_corpus.stages.topics import TopicParams
from kefu_corpus.transforms.topics import COLUMNS, merge_unit_stats, sample_units, unit_stats, vocabulary
from kefu_corpus.topicmodels.coherence import npmi
from kefu_corpus.topicmodels.engines import fit


def coherence(model, sample) -> tuple[float, float, float, float]:
    """(ours, seconds, gensim's, seconds) on the sample."""
    from gensim.corpora import Dictionary
    from gensim.models import CoherenceModel

    top = [[t for t, _ in topic] for topic in model.top_terms(10)]
    ids = [pc.index_in(pa.array(t), value_set=sample.vocabulary).to_numpy() for t in top]
    started = time.perf_counter()
    ours = float(np.mean(npmi(sample, ids)))
    ours_s = time.perf_counter() - started
    texts = list(sample)
    started = time.perf_counter()
    theirs = CoherenceModel(topics=top, texts=texts, dictionary=Dictionary(texts), coherence="c_npmi",
                            processes=1).get_coherence()
    return ours, ours_s, float(theirs), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--sample", type=int, default=TopicParams().sample)
    parser.add_argument("--gensim-all", action="store_true", help="also fit gensim LDA on every passage")
    args = parser.parse_args()
    with segmented_corpus(args) as out:
        tokens = pq.read_table(out / "tokens.parquet", columns=COLUMNS)
        params = TopicParams(sample=args.sample)
        stats = merge_unit_stats([unit_stats(tokens, params)], params.sample)
        words = vocabulary(stats, params)
        everything = sample_units(tokens, (words, None), params)
        ids = stats.candidates.column("unit_id").slice(0, params.sample).combine_chunks()
        sample = sample_units(tokens, (words, ids), params)
        sample = sample.with_vocabulary(words.take(pa.array(np.unique(sample.term_ids))))
        print(f"topic models on a sample of {len(sample):,} of {len(everything):,} passages ({sample.n_terms:,} of "
              f"{everything.n_terms:,} terms), vocabulary {len(sample.vocabulary):,}, k={args.k}, one thread:")
        engines = [("tomotopy", params), ("lda", params), ("nmf", params)]
        for engine, p in engines:
            settings = TopicParams(engine=engine, sample=args.sample).settings()
            started = time.perf_counter()
            model = fit(sample, args.k, settings)
            fitted = time.perf_counter() - started
            started = time.perf_counter()
            model.transform(everything.with_vocabulary(model.vocabulary).counts())
            inferred = time.perf_counter() - started
            ours, ours_s, theirs, theirs_s = coherence(model, sample)
            print(f"  {engine:<8} fit {fitted:6.1f} s, weights of all passages {inferred:5.1f} s, "
                  f"NPMI {ours:.3f} ({ours_s:.1f} s; gensim's CoherenceModel {theirs:.3f} in {theirs_s:.1f} s)")
        if args.gensim_all:
            whole = everything.with_vocabulary(words)
            started = time.perf_counter()
            model = fit(whole, args.k, TopicParams(engine="lda").settings())
            fitted = time.perf_counter() - started
            ours, _, theirs, _ = coherence(model, sample)
            print(f"  lda on all {len(whole):,} passages: fit {fitted:6.1f} s, NPMI on the sample {ours:.3f} "
                  f"(gensim's CoherenceModel {theirs:.3f})")
        print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:,.0f} MB")


if __name__ == "__main__":
    main()
