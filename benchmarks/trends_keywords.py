"""Time of the trends stage (term counts, trends, keyness, keywords) and of collocations on the
segmented bench corpus.

Segments ../shared/bench/tw_laws.jsonl.gz with the pipeline's first four stages (or reads an earlier
run's folder given with --out), then runs the trends stage over slices of `tokens.parquet` in this
process (one core), as the pipeline does with one worker, printing the seconds and tokens per second of
each part and the peak RSS; then collocations on the whole tokens table.

    python benchmarks/trends_keywords.py [--corpus PATH] [--out DIR]
"""

from __future__ import annotations

import argparse
import resource
import time
from functools import partial

import pyarrow.parquet as pq
from segmented import add_arguments, segmented_corpus

from kefu_corpus.analysis import collocations
from kefu_corpus.config import Config
from kefu_corpus.memory import Budget
from kefu_corpus.slices import plan_slices
from kefu_corpus.transforms import keywords as keywords_stage
from kefu_corpus.transforms import trends as trends_stage
from kefu_corpus.years import documents_per_year


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
        path = out / "tokens.parquet"
        n = pq.ParquetFile(path).metadata.num_rows
        slices = plan_slices(path, "doc_id", Budget(config["run.memory_gb"], 1).slice_rows())
        params = trends_stage.TrendParams.from_config(config)
        keyword_params = keywords_stage.KeywordParams.from_config(config)
        print(f"trends stage on {n:,} tokens in {len(slices)} slices, one core:")
        counts = timed("term counts per year", n, lambda: trends_stage.merge_counts(
            [trends_stage.count_batch(s, params) for s in slices]))
        counts.year_docs = documents_per_year(out / "documents.parquet")
        timed("term trends", n, lambda: trends_stage.term_trends(counts, params))
        timed("keyness", n, lambda: trends_stage.keyness(counts, params))
        per_term = counts.terms.group_by("term").aggregate([("doc_freq", "sum")])
        idf = keywords_stage.Idf.from_frequencies(per_term.column("term").combine_chunks(),
                                                  per_term.column("doc_freq_sum").to_numpy(), counts.documents)
        rows = timed("keywords (TF-IDF + TextRank)", n, lambda: sum(
            keywords_stage.keywords_batch(s, idf, keyword_params).num_rows for s in slices))
        tokens = pq.read_table(path, columns=["passage_id", "position", "token", "token_type", "is_stopword"])
        timed("collocations (adjacent)", n, lambda: collocations(tokens))
        timed("collocations (window 5)", n, partial(collocations, tokens, window=5))
        print(f"  {rows:,} keyword rows; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:,.0f} MB")


if __name__ == "__main__":
    main()
