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
# Counted by Arrow on the dictionary-coded columns: no Python object per token, so this cell costs
# about the same on 5 documents as on 20,000.
import pyarrow as pa
import pyarrow.compute as pc

tokens = read_table(OUT, "tokens", columns=["doc_id", "token", "token_type", "is_stopword"])
tokens.group_by("token_type").aggregate([("token_type", "count")]).to_pandas()

# %%
words = tokens.filter(pc.and_(pc.is_in(tokens["token_type"].cast(pa.string()), pa.array(["word", "latin"])),
                              pc.invert(tokens["is_stopword"])))
per_doc = words.group_by("doc_id").aggregate([("token", "count"), ("token", "count_distinct")]).to_pandas()
per_doc = per_doc.rename(columns={"token_count": "tokens", "token_count_distinct": "types"})
per_doc["type_token_ratio"] = (per_doc["types"] / per_doc["tokens"]).round(3)
per_doc["document"] = per_doc["doc_id"].astype(str).map(labels)
per_doc.sort_values("tokens", ascending=False).head(20).set_index("document")  # the 20 longest

# %%
# The commonest content words, counted in the canonical script, with the forms the corpus itself
# writes in each script (term_forms.parquet; the converter only for a script it never uses).
forms = {script: plots.term_forms(OUT, script) for script in ("simplified", "traditional")}
top = words.group_by("token").aggregate([("token", "count")]).sort_by([("token_count", "descending")]).slice(0, 20)
top = top.to_pandas().rename(columns={"token_count": "count"})
top["token"] = top["token"].astype(str)
for script in ("simplified", "traditional"):
    top[script] = [plots.shown_term(term, script, forms[script]) for term in top["token"]]
top

# %%
# Words written differently in the two scripts: the canonical term and the forms the corpus writes.
written = read_table(OUT, "term_forms").to_pandas()
variants = written[written["form"] != written["term"]].sort_values("count", ascending=False)
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
