# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Topics and trends
#
# The topics a run found, how their prevalence moves by year, the terms that rise and fall, the key
# terms of each year, keyword in context for a chosen term, and the same view in Traditional script.
#
# The notebook reads only the Parquet outputs of a run, through the library's public functions
# (`kefu_corpus.store`, `kefu_corpus.analysis`, `kefu_corpus.plots`) and pandas. Set `KEFU_OUT` to the
# output folder (default `../data/processed`) and `KEFU_TERM` to the term for keyword in context
# (default 客户, found in either script).

# %%
# %matplotlib inline
import os
from pathlib import Path

import pandas as pd

from kefu_corpus import plots
from kefu_corpus.analysis import kwic
from kefu_corpus.store import read_manifest, read_table

OUT = Path(os.environ.get("KEFU_OUT", "../data/processed"))
TERM = os.environ.get("KEFU_TERM", "客户")
manifest = read_manifest(OUT)
CANONICAL = manifest["config"]["normalise"]["canonical"]
pd.set_option("display.max_colwidth", 80)

# %% [markdown]
# ## Topic terms
#
# The number of topics is chosen by coherence (NPMI) over the candidates of `topics.k_grid`.

# %%
read_table(OUT, "topic_model_selection").to_pandas()

# %%
topics = read_table(OUT, "topics").to_pandas()
topics.sort_values(["topic_id", "rank"]).groupby("topic_id")["term"].agg(" ".join).rename("top terms").to_frame()

# %%
plots.topic_terms(OUT)

# %% [markdown]
# ## Topic prevalence by year
#
# The mean weight of each topic over the year's passages; undated documents are a year of their own
# in the table and left out of the chart.

# %%
prevalence = read_table(OUT, "topic_trends").to_pandas()
prevalence["year"] = prevalence["year"].astype("Int64").astype(str).replace("<NA>", "undated")
prevalence.pivot_table(index="year", columns="topic_id", values="mean_weight").round(3)

# %%
plots.topic_prevalence(OUT)

# %% [markdown]
# ## Rising and falling terms
#
# The slope of each term's rate per 10,000 tokens over the dated years. With few dated years or few
# documents per year `evidence` is `thin`: the slope then describes these documents, not a trend.

# %%
rising, falling = plots.rising_falling(OUT, n=10, min_count=5)
pd.concat({"rising": pd.DataFrame(rising), "falling": pd.DataFrame(falling)})

# %%
plots.term_trends(OUT)

# %% [markdown]
# ## Keyness by year
#
# Each dated year against the rest of the corpus: signed log-likelihood G² and the log ratio as effect size.

# %%
keyness = read_table(OUT, "keyness").to_pandas()
keyness[keyness["g2"] > 0].sort_values(["year", "g2"], ascending=[True, False]).groupby("year").head(8)[
    ["year", "term", "g2", "log_ratio", "count_target", "count_reference"]]

# %%
plots.keyness(OUT)

# %% [markdown]
# ## Keyword in context
#
# Every occurrence of the term in the deduplicated passages, in the passage's own script: a query in
# either script finds both.

# %%
KWIC_COLUMNS = ["doc_id", "passage_id", "year", "left", "match", "right", "title", "date"]
hits = pd.DataFrame(kwic(OUT, TERM, window=14, canonical=CANONICAL), columns=KWIC_COLUMNS)
hits["year"] = hits["year"].astype("Int64")
print(f"{len(hits)} occurrence(s) of {TERM}")
hits.head(15)[["year", "left", "match", "right", "title", "date"]]

# %%
# The same term in the other script finds the same lines.
other = plots.shown(TERM, "traditional" if plots.shown(TERM, "simplified") == TERM else "simplified")
assert len(kwic(OUT, other, window=14, canonical=CANONICAL)) == len(hits)
hits.groupby(hits["year"].astype(str)).size().rename(f"occurrences of {TERM}")

# %% [markdown]
# ## The same view in Traditional script
#
# Terms are counted in the canonical script; `display_script="traditional"` converts what is shown with
# OpenCC. The charts use Noto Sans CJK, which covers both scripts.

# %%
plots.topic_terms(OUT, display_script="traditional")

# %%
plots.keyness(OUT, display_script="traditional")

# %%
# Each term in the form the corpus itself writes in Traditional script, the converter only for the rest.
forms = plots.term_forms(OUT, "traditional")
traditional = pd.DataFrame(rising + falling, columns=["term", "slope", "p_value", "evidence", "count"])
traditional["term"] = [plots.shown_term(t, "traditional", forms) for t in traditional["term"]]
traditional  # empty for a corpus without dates: a trend needs years

# %%
hits_tc = hits.head(10).copy()
for column in ("left", "match", "right"):
    hits_tc[column] = [plots.shown(text, "traditional") for text in hits_tc[column]]
hits_tc[["year", "left", "match", "right"]]
