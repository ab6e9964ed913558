"""Time of the trends stage's parts (term counts, trends, keyness, keywords) and of collocations on the
segmented bench corpus.

Segments ../shared/bench/tw_laws.jsonl.gz with the pipeline's first four stages (or reads an earlier
run's folder given with --out), then times each part once on the deduplicated tokens and prints the
seconds and the tokens per second.

    python benchmarks/trends_keywords.py [--corpus PATH] [--out DIR]
"""

from __future__ import annotations

import argparse
import time

import pyarrow.parquet as pq
from segmented import add_arguments, segmented_corpus

from kefu_corpus.analysis import collocations
from kefu_corpus.config import Config
from kefu_corpus.stages import keywords as keywords_stage
from kefu_corpus.stages import trends as trends_stage


def timed(label: str, n_tokens: int, fn):
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"  {label:<28} {seconds:8.2f} s  {n_tokens / seconds / 1e6:6.2f} M tokens/s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    args = parser.parse_args()
    with segmented_corpus(args) as out:
        config = Config()
        tokens = pq.read_table(out / "tokens.parquet", columns=["doc_id", "passage_id", "position", "token",
                                                                "token_original", "pos", "token_type",
                                                                "is_stopword"])
        docs = pq.read_table(out / "documents.parquet", columns=["doc_id", "year"])
        years = dict(zip(docs.column("doc_id").to_pylist(), docs.column("year").to_pylist()))
        n = tokens.num_rows
        print(f"trends stage on {n:,} tokens of {len(years):,} documents:")
        params = trends_stage.TrendParams.from_config(config)
        counts = timed("term counts per year", n, lambda: trends_stage.count_terms(tokens, years, params))
        timed("term trends", n, lambda: trends_stage.term_trends(counts, params))
        timed("keyness", n, lambda: trends_stage.keyness(counts, params))
        kw = timed("keywords (TF-IDF + TextRank)", n,
                   lambda: keywords_stage.keywords(tokens, keywords_stage.KeywordParams.from_config(config)))
        timed("collocations (adjacent)", n, lambda: collocations(tokens))
        timed("collocations (window 5)", n, lambda: collocations(tokens, window=5))
        print(f"  {kw.num_rows:,} keyword rows")


if __name__ == "__main__":
    main()
