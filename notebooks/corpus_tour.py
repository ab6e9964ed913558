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
# # Corpus tour
#
# What a run of `kefu run` holds: the documents and their metadata, the scripts they are written in,
# what the pipeline repaired and deduplicated, and the token statistics.
#
# The notebook reads only the Parquet outputs of a run, through the library's public functions
# (`kefu_corpus.store`, `kefu_corpus.plots`) and pandas. Set `KEFU_OUT` to the output folder
# (default `../data/processed`, the folder `make run` writes).

# %%
# %matplotlib inline
import os
from pathlib import Path

import pandas as pd

from kefu_corpus import plots
from kefu_corpus.store import read_manifest, read_passages, read_table

OUT = Path(os.environ.get("KEFU_OUT", "../data/processed"))
pd.set_option("display.max_colwidth", 80)
manifest = read_manifest(OUT)
print(f"kefu {manifest['command']} of {manifest['raw']} at {manifest['started_at']}, "
      f"kefu-corpus {manifest['kefu_corpus']}, {manifest['seconds']} s")
pd.DataFrame([{"table": name, "rows": t["rows"], "schema_version": t["schema_version"]}
              for name, t in manifest["tables"].items()])

# %% [markdown]
# ## Documents and metadata
#
# One row per article. A missing value is null: the toolkit never invents a title, date or author.
# `*_source` says where a value came from (the text, a sidecar, a corpus record).

# %%
docs = read_table(OUT, "documents").to_pandas()
labels = plots.document_labels(OUT)
docs["label"] = docs["doc_id"].map(labels)
docs[["source_path", "title", "date", "date_precision", "year", "author", "publication", "script",
      "n_chars", "n_passages", "n_boilerplate"]]

# %%
docs.groupby(docs["year"].astype("Int64").astype(str).replace("<NA>", "undated")).agg(
    documents=("doc_id", "size"), passages=("n_passages", "sum"), characters=("n_chars", "sum"))

# %% [markdown]
# ## Scripts
#
# The script of each document and each passage after repair. Analysis counts the canonical text
# (`text_canonical`, Simplified by default), so Traditional and Simplified articles are counted together.

# %%
passages = read_passages(OUT, ["doc_id", "passage_id", "script", "text", "text_normalised", "text_canonical"],
                         include_duplicates=True).to_pandas()
print(docs["script"].value_counts().to_string())
passages.assign(document=passages["doc_id"].map(labels)).pivot_table(
    index="document", columns="script", values="passage_id", aggfunc="count", fill_value=0)

# %% [markdown]
# ## What was repaired
#
# Runs of misaligned-GBK mojibake are read back to the characters they came from; each repair is a row
# of `repairs.parquet` with its confidence. On the seed corpus they are all in `003`, a Traditional
# article.

# %%
repairs = read_table(OUT, "repairs").to_pandas()
print(f"{len(repairs)} repaired run(s) in {repairs['doc_id'].nunique()} document(s)")
repairs.assign(document=repairs["doc_id"].map(labels))[
    ["document", "start", "end", "damaged", "repaired", "confidence", "gain"]]

# %%
# The most repaired document (003 on the seeds): one passage before and after repair.
if len(repairs):
    worst = repairs["doc_id"].value_counts().index[0]
    first = repairs.loc[repairs["doc_id"] == worst].sort_values("start").iloc[0]
    passage = passages.set_index("passage_id").loc[first["passage_id"]]
    print(labels[worst])
    print("raw:       ", passage["text"][:120])
    print("normalised:", passage["text_normalised"][:120])

# %% [markdown]
# ## What was deduplicated
#
# Every duplicate decision is a row of `duplicates.parquet`, with the copy that is kept. On the seed
# corpus, `002` has its whole body pasted twice: the second copy is flagged `within_doc`.

# %%
dups = read_table(OUT, "duplicates").to_pandas()
dups.assign(document=dups["doc_id"].map(labels)).pivot_table(
    index="document", columns="kind", values="start", aggfunc="count", fill_value=0)

# %%
# The most duplicated document (002 on the seeds): a flagged passage next to the copy that is kept.
if len(dups):
    text = passages.set_index("passage_id")["text_normalised"]
    flagged = dups.dropna(subset=["passage_id", "kept_passage_id"])
    busiest = flagged["doc_id"].value_counts().index[0]
    row = flagged.loc[flagged["doc_id"] == busiest].iloc[0]
    print(labels[busiest], "-", row["kind"], row["cluster_id"])
    print("flagged:", row["passage_id"], text[row["passage_id"]][:80])
    print("kept:   ", row["kept_passage_id"], text[row["kept_passage_id"]][:80])

# %% [markdown]
# ## Boilerplate
#
# Spans separated from the article body: metadata read into `documents.parquet` (titles, bylines,
# datelines) and site furniture (reading-time banners, reprint notices, "related articles").

# %%
boilerplate = read_table(OUT, "boilerplate").to_pandas()
boilerplate.groupby(["category", "kind"]).size().rename("spans").reset_index()

# %%
plots.quality_summary(OUT)

# %% [markdown]
# ## Token statistics
#
# `tokens.parquet` holds one row per token of the deduplicated passages, in the canonical script
# (`token`) and as written (`token_original`).

# %%
tokens = read_table(OUT, "tokens", columns=["doc_id", "token", "token_original", "pos", "token_type",
                                            "is_stopword"]).to_pandas()
for column in ("doc_id", "token", "token_original", "pos", "token_type"):
    tokens[column] = tokens[column].astype(str)
tokens["token_type"].value_counts()

# %%
words = tokens[(tokens["token_type"].isin(["word", "latin"])) & ~tokens["is_stopword"]]
per_doc = words.groupby("doc_id").agg(tokens=("token", "size"), types=("token", "nunique"))
per_doc["type_token_ratio"] = (per_doc["types"] / per_doc["tokens"]).round(3)
per_doc.index = per_doc.index.map(labels)
per_doc

# %%
# The commonest content words, counted in the canonical script, with the Traditional form shown.
top = words["token"].value_counts().head(20).rename("count").reset_index()
top["traditional"] = [plots.shown(term, "traditional") for term in top["token"]]
top

# %%
# Words written differently in the two scripts: the canonical token and the forms seen in the texts.
variants = words[words["token"] != words["token_original"]].groupby("token")["token_original"].agg(
    lambda forms: " ".join(sorted(set(forms))))
variants.head(15)

# %% [markdown]
# ## Keywords per document
#
# `keywords.parquet` ranks the terms of each document by TF-IDF (with this corpus's own IDF) and by
# TextRank. `term_original` is the keyword as the document writes it, so the Traditional article's
# keywords come back in Traditional.

# %%
keywords = read_table(OUT, "keywords").to_pandas()
keywords["document"] = keywords["doc_id"].map(labels)
keywords.sort_values(["document", "method", "rank"]).groupby(["document", "method"])["term_original"].agg(
    " ".join).unstack("method")
