"""Every output table's Arrow schema, version and column descriptions, in one place.

This module is the contract for downstream jobs. Writers always pass these schemas; nothing is inferred.
Offsets (``start``/``end``) are always Unicode code-point indices into the *decoded raw text* of the
document (``documents.text``), half-open: ``text[start:end]`` in Python, ``substr(text, start + 1,
end - start)`` in DuckDB.
"""

from __future__ import annotations

import json

from dataclasses import dataclass

import pyarrow as pa


def _f(name: str, type_: pa.DataType, doc: str, *, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"description": doc})


PROVENANCE_VALUES = ("text", "sidecar", "record", "none")
SCRIPT_VALUES = ("simplified", "traditional", "mixed", "undetermined", "none")
_SCRIPT = ("Script of the text after repair: " + ", ".join(f"'{v}'" for v in SCRIPT_VALUES)
           + " ('undetermined': Chinese with no script-specific character; 'none': no Chinese). "
           "Null until the normalise stage has run.")

#: An offset map as an edit list: only the regions that are not a plain one-to-one continuation.
#: Output ``[start, end)`` came from source ``[source_start, source_end)``; a character outside every
#: edit maps one to one, shifted by ``source_end - end`` of the last edit before it.
EDITS = pa.list_(pa.struct([pa.field("start", pa.int32(), nullable=False),
                            pa.field("end", pa.int32(), nullable=False),
                            pa.field("source_start", pa.int32(), nullable=False),
                            pa.field("source_end", pa.int32(), nullable=False)]))
#: Spans of a text, half-open.
SPANS = pa.list_(pa.struct([pa.field("start", pa.int32(), nullable=False),
                            pa.field("end", pa.int32(), nullable=False)]))
DUPLICATE_KINDS = ("within_doc", "exact", "near_passage", "near_document", "template", "boilerplate")
_PROVENANCE = "Where the value came from: " + ", ".join(f"'{v}'" for v in PROVENANCE_VALUES) + "."


@dataclass(frozen=True)
class TableSpec:
    """A named output table: file name, schema version, what one row is, and the Arrow schema."""

    name: str
    version: int
    row: str
    schema: pa.Schema
    #: Stored as a folder of parts written by the workers (:mod:`kefu_corpus.tablefiles`), not one file.
    parted: bool = False

    @property
    def filename(self) -> str:
        return f"{self.name}.parquet"

    def with_metadata(self) -> pa.Schema:
        """The schema with table name and version stamped into the Parquet key-value metadata, and pandas
        metadata that gives each nullable integer column pandas's nullable integer type (so a year with
        gaps reads as ``Int16``, not ``float64``; other readers ignore it)."""
        nullable_ints = [f for f in self.schema if f.nullable and pa.types.is_integer(f.type)]
        metadata = {b"kefu.table": self.name.encode(), b"kefu.schema_version": str(self.version).encode()}
        if nullable_ints:
            metadata[b"pandas"] = json.dumps({
                "index_columns": [], "column_indexes": [], "creator": {"library": "kefu-corpus"},
                "columns": [{"name": f.name, "field_name": f.name, "pandas_type": str(f.type),
                             "numpy_type": str(f.type).capitalize(), "metadata": None} for f in nullable_ints],
            }).encode()
        return self.schema.with_metadata(metadata)


DOCUMENTS = TableSpec("documents", 3, "one document (an article file, or one record of a corpus file)", pa.schema([
    _f("doc_id", pa.string(), "Stable id: the first 16 hex digits of SHA-256 over the source path, the record "
       "id and `sha256`, so it changes only when the content or its provenance does.", nullable=False),
    _f("source_path", pa.string(), "Input file, relative to the raw folder, with '/' separators.", nullable=False),
    _f("source_record", pa.string(), "Record id within a corpus file (its id field, else '#<row>'); null for article files."),
    _f("sha256", pa.string(), "SHA-256 of the raw bytes (for a corpus record: of its text as UTF-8).", nullable=False),
    _f("n_bytes", pa.int64(), "Size of the raw bytes.", nullable=False),
    _f("encoding", pa.string(), "Codec the raw bytes were decoded with (Python codec name).", nullable=False),
    _f("encoding_method", pa.string(),
       "How the encoding was decided: 'bom', 'utf-8', 'detector', 'sidecar' or 'container' (corpus files).",
       nullable=False),
    _f("encoding_confidence", pa.float32(),
       "Share of frequent Chinese characters in the decoded text, for detector decisions; else null."),
    _f("title", pa.string(), "Article title."),
    _f("title_source", pa.string(), _PROVENANCE, nullable=False),
    _f("date", pa.date32(), "Publication date; the first day of the month or year when less precise."),
    _f("date_end", pa.date32(), "Last day of a date range such as 2023年5月18日-19日; else null."),
    _f("date_precision", pa.string(), "'day', 'month' or 'year'; null when there is no date."),
    _f("date_text", pa.string(), "The text the date was read from, as it stands in the source."),
    _f("date_source", pa.string(), _PROVENANCE, nullable=False),
    _f("year", pa.int16(), "Year of `date`; null when there is no date."),
    _f("author", pa.string(), "Author as named in a byline."),
    _f("author_source", pa.string(), _PROVENANCE, nullable=False),
    _f("publication", pa.string(), "Publication or source, e.g. the magazine the article appeared in."),
    _f("publication_source", pa.string(), _PROVENANCE, nullable=False),
    _f("duplicate_of", pa.string(), "doc_id of the first document (in input order) with the same `sha256`, "
       "when this one repeats its content exactly; else null. Nothing is dropped at ingest."),
    _f("n_chars", pa.int32(), "Length of `text` in code points.", nullable=False),
    _f("n_passages", pa.int32(), "Body passages in passages.parquet.", nullable=False),
    _f("n_boilerplate", pa.int32(), "Spans separated from the body in boilerplate.parquet.", nullable=False),
    _f("script", pa.string(), _SCRIPT),
    _f("n_repairs", pa.int32(), "Damaged runs repaired (rows in repairs.parquet); null until the normalise stage has run."),
    _f("near_duplicate_of", pa.string(), "doc_id of the kept representative when this document is a near "
       "duplicate of another (the text the representative holds is flagged, its own text is not); else null. "
       "Null until the dedup stage has run."),
    _f("duplicate_cluster", pa.string(), "Cluster of near-duplicate documents this one belongs to "
       "('near_document:<representative doc_id>', or 'template:<representative doc_id>' when every near copy "
       "in it reports other facts in the same formula), representative included; null when it has no near "
       "duplicate."),
    _f("n_duplicate_passages", pa.int32(), "Passages flagged `is_duplicate`; null until the dedup stage has run."),
    _f("text", pa.string(), "The decoded raw text, unchanged (BOM removed). All offsets point into it.",
       nullable=False),
]), parted=True)

PASSAGES = TableSpec("passages", 3, "one body paragraph, or a sentence-aligned piece of a long one", pa.schema([
    _f("doc_id", pa.string(), "Document the passage belongs to.", nullable=False),
    _f("passage_id", pa.string(), "'<doc_id>-<index>', unique in the corpus.", nullable=False),
    _f("passage_index", pa.int32(), "0-based position of the passage in its document.", nullable=False),
    _f("start", pa.int32(), "Start offset in the document's raw text (inclusive).", nullable=False),
    _f("end", pa.int32(), "End offset in the document's raw text (exclusive).", nullable=False),
    _f("text", pa.string(), "`documents.text[start:end]`: stripped of surrounding whitespace, otherwise raw.",
       nullable=False),
    _f("script", pa.string(), _SCRIPT),
    _f("text_normalised", pa.string(), "The passage in its own script, with damaged runs repaired and characters "
       "normalised (width, punctuation, whitespace, invisible characters, quotes as configured). What a reader "
       "should see. Null until the normalise stage has run."),
    _f("text_canonical", pa.string(), "`text_normalised` converted to the canonical script (normalise.canonical, "
       "Simplified by default): what analysis counts. Null until the normalise stage has run."),
    _f("normalised_map", EDITS, "Offset map from `text_normalised` back to `text` (passage-relative; add `start` "
       "for document offsets), as an edit list: empty when the two line up one to one. See docs/normalise.md."),
    _f("canonical_map", EDITS, "Offset map from `text_canonical` back to `text_normalised`, as an edit list: "
       "empty when they line up one to one (always for t2s and s2t)."),
    _f("is_duplicate", pa.bool_(), "True when every letter and digit of the passage repeats a copy that is kept "
       "elsewhere (or is cross-document boilerplate): see duplicates.parquet. Analysis reads passages where this "
       "is false. Null until the dedup stage has run."),
    _f("duplicate_spans", SPANS, "Spans of `text_canonical` that repeat a kept copy (the whole passage when "
       "`is_duplicate`; part of it when a repeat starts or ends inside the passage); empty when none."),
]), parted=True)

BOILERPLATE = TableSpec("boilerplate", 1, "one span separated from the article body", pa.schema([
    _f("doc_id", pa.string(), "Document the span belongs to.", nullable=False),
    _f("start", pa.int32(), "Start offset in the document's raw text (inclusive).", nullable=False),
    _f("end", pa.int32(), "End offset in the document's raw text (exclusive).", nullable=False),
    _f("text", pa.string(), "`documents.text[start:end]`.", nullable=False),
    _f("category", pa.string(),
       "'metadata' (title, dateline, byline, source and publication notes: read into documents.parquet) "
       "or 'furniture' (site boilerplate).", nullable=False),
    _f("kind", pa.string(), "What the span is, e.g. 'title', 'byline', 'reading_time', 'photo_caption'.",
       nullable=False),
    _f("rule", pa.string(), "Name of the rule that matched (see the patterns file).", nullable=False),
]))

INGEST_REPORT = TableSpec("ingest_report", 1, "one input: a file, a corpus record, or a sidecar row", pa.schema([
    _f("source_path", pa.string(), "Input file, relative to the raw folder.", nullable=False),
    _f("source_record", pa.string(), "Record id or '#<row>' within a corpus file or sidecar; else null."),
    _f("doc_id", pa.string(), "Document made from the input; null when none was."),
    _f("status", pa.string(),
       "'ok', 'warning' (ingested, with a note), 'duplicate' (ingested; its content repeats an earlier input, "
       "see documents.duplicate_of), 'rejected' (not ingested), 'sidecar' (the metadata sidecar itself) or "
       "'ignored' (not a corpus file).",
       nullable=False),
    _f("reason", pa.string(), "Machine-readable reason code, e.g. 'empty_file', 'binary_file', 'undecodable'."),
    _f("message", pa.string(), "What is wrong and what to do about it, naming the file."),
    _f("encoding", pa.string(), "Encoding decision for the input, when one was made."),
    _f("n_bytes", pa.int64(), "Size of the input's raw bytes, when read."),
]))

REPAIRS = TableSpec("repairs", 1, "one repaired run of misaligned-GBK mojibake", pa.schema([
    _f("doc_id", pa.string(), "Document the run is in.", nullable=False),
    _f("passage_id", pa.string(), "Passage the run is in; null when it lies outside the body (in boilerplate)."),
    _f("start", pa.int32(), "Start offset of the damaged run in the document's raw text (inclusive).", nullable=False),
    _f("end", pa.int32(), "End offset of the damaged run in the document's raw text (exclusive).", nullable=False),
    _f("damaged", pa.string(), "`documents.text[start:end]`: the run as it stands.", nullable=False),
    _f("repaired", pa.string(), "The original characters the run is read as; it replaces `damaged` in "
       "`passages.text_normalised`.", nullable=False),
    _f("confidence", pa.float32(), "Posterior share of this reading among every reading the search finished "
       "(those merged into others on the way included) and the unrepaired text (0-1).", nullable=False),
    _f("gain", pa.float32(), "Log-likelihood ratio (nats) of the repaired reading over the unrepaired text.",
       nullable=False),
    _f("method", pa.string(), "How the run was repaired: 'cp936-realign' (byte realignment, lost bytes chosen "
       "by language models).", nullable=False),
]))

DUPLICATES = TableSpec("duplicates", 2, "one span flagged as a duplicate, with the copy that is kept", pa.schema([
    _f("doc_id", pa.string(), "Document the flagged span is in.", nullable=False),
    _f("passage_id", pa.string(), "Passage the flagged span is in."),
    _f("start", pa.int32(), "Start of the flagged span in the document's raw text (inclusive).", nullable=False),
    _f("end", pa.int32(), "End of the flagged span in the document's raw text (exclusive).", nullable=False),
    _f("kind", pa.string(), "'within_doc' (repeats an earlier span of the same document), 'exact' (a passage "
       "identical after canonicalisation to one in another document), 'near_passage' (a MinHash near "
       "duplicate passage), 'near_document' (text of a near-duplicate document that its kept copy holds, "
       "found by aligning the two), 'template' (the same, where the two report other facts in one formula: "
       "the formula is flagged, the facts are not), or 'boilerplate' (a passage found verbatim in many "
       "documents).",
       nullable=False),
    _f("kept_doc_id", pa.string(), "Document holding the copy that is kept; null for boilerplate (no copy is kept)."),
    _f("kept_passage_id", pa.string(), "Passage where the kept copy starts; null for boilerplate."),
    _f("kept_start", pa.int32(), "Start of the kept copy in its document's raw text; null for boilerplate."),
    _f("kept_end", pa.int32(), "End of the kept copy in its document's raw text; null for boilerplate."),
    _f("cluster_id", pa.string(), "The group of copies this decision belongs to: '<kind>:<representative>', the "
       "representative being the kept passage, document or span.", nullable=False),
    _f("similarity", pa.float32(), "1 for exact kinds; for near kinds, the estimated Jaccard similarity of "
       "character shingles to the kept copy.", nullable=False),
    _f("method", pa.string(), "'repeat-scan' (long repeats in one document), 'exact-key' (identical match keys), "
       "'minhash-lsh' (near passages) or 'minhash-align' (near documents, aligned with the kept copy).",
       nullable=False),
]))

_DICT = pa.dictionary(pa.int32(), pa.string())
TOKEN_TYPES = ("word", "latin", "number", "punctuation", "whitespace")

_YEAR = "Publication year; null for the undated documents, a group of their own."

TOKENS = TableSpec("tokens", 2, "one token of a passage, in the deduplicated view unless configured otherwise",
                   pa.schema([
    _f("doc_id", _DICT, "Document the token is in.", nullable=False),
    _f("passage_id", _DICT, "Passage the token is in.", nullable=False),
    _f("year", pa.int16(), "The document's publication year (`documents.year`), so that per-year counts need "
       "no join; null for undated documents."),
    _f("position", pa.int32(), "0-based index of the token in its passage's segmentation (gaps where "
       "tokens of a partly repeated passage were left out as duplicates).", nullable=False),
    _f("token", _DICT, "The token in the canonical script (normalise.canonical), what counts; Latin tokens "
       "upper-cased (APP, App and app are APP).", nullable=False),
    _f("token_original", _DICT, "The same span in the passage's own script (`text_normalised`), as written.",
       nullable=False),
    _f("pos", _DICT, "Part of speech in jieba's tag set (n, v, nr, ns, nt, nz, eng, x, ...).", nullable=False),
    _f("token_type", _DICT, "One of " + ", ".join(f"'{t}'" for t in TOKEN_TYPES) + ".", nullable=False),
    _f("is_stopword", pa.bool_(), "In the stopword list (stopwords-iso's Chinese list, MIT, plus "
       "segment.stopwords), compared in the canonical script.", nullable=False),
    _f("start", pa.int32(), "Start offset of the token in the document's raw text (inclusive).", nullable=False),
    _f("end", pa.int32(), "End offset of the token in the document's raw text (exclusive).", nullable=False),
]), parted=True)

TERM_TRENDS = TableSpec("term_trends", 1, "one term in one year (undated documents as a year of their own)",
                        pa.schema([
    _f("term", pa.string(), "The term: a canonical token of type word or latin, not a stopword, of at least "
       "trends.min_chars characters.", nullable=False),
    _f("year", pa.int16(), _YEAR),
    _f("count", pa.int64(), "Occurrences in the year's documents (deduplicated tokens).", nullable=False),
    _f("doc_freq", pa.int32(), "Documents of the year the term occurs in.", nullable=False),
    _f("rate_per_10k", pa.float64(), "`count` per 10,000 word and Latin tokens of the year.", nullable=False),
    _f("year_tokens", pa.int64(), "Word and Latin tokens of the year (stopwords included).", nullable=False),
    _f("year_docs", pa.int32(), "Documents of the year.", nullable=False),
    _f("slope", pa.float64(), "Least-squares slope of `rate_per_10k` over the dated years, per year "
       "(scipy.stats.linregress); null with fewer than two dated years."),
    _f("p_value", pa.float64(), "Two-sided p-value of the slope; null with fewer than three dated years."),
    _f("evidence", pa.string(), "'thin' when there are fewer than trends.min_years dated years or a dated year has "
       "fewer than trends.min_docs_per_year documents: then the slope describes these documents, not a trend; "
       "else 'ok'.", nullable=False),
]))

KEYNESS = TableSpec("keyness", 1, "one term in one dated year, against every other token of the corpus",
                    pa.schema([
    _f("year", pa.int16(), "The target year.", nullable=False),
    _f("term", pa.string(), "The term (as in term_trends).", nullable=False),
    _f("count_target", pa.int64(), "Occurrences in the target year.", nullable=False),
    _f("count_reference", pa.int64(), "Occurrences in the rest of the corpus (other years and undated).",
       nullable=False),
    _f("tokens_target", pa.int64(), "Word and Latin tokens of the target year.", nullable=False),
    _f("tokens_reference", pa.int64(), "Word and Latin tokens of the rest.", nullable=False),
    _f("g2", pa.float64(), "Log-likelihood G² of the 2x2 table, signed: positive when the term is relatively more "
       "frequent in the target year (as quanteda's textstat_keyness).", nullable=False),
    _f("p_value", pa.float64(), "p-value of G² (chi-squared, 1 degree of freedom).", nullable=False),
    _f("log_ratio", pa.float64(), "Effect size: log2 of the ratio of relative frequencies, target over "
       "reference, with 0.5 added to each count.", nullable=False),
]))

KEYWORDS = TableSpec("keywords", 1, "one keyword of one document by one method", pa.schema([
    _f("doc_id", pa.string(), "Document the keyword describes.", nullable=False),
    _f("method", pa.string(), "'tfidf' (TF-IDF with the corpus IDF) or 'textrank' (PageRank over the document's "
       "co-occurrence graph).", nullable=False),
    _f("rank", pa.int16(), "Rank of the keyword in the document by this method, 0 for the strongest.",
       nullable=False),
    _f("term", pa.string(), "The keyword in the canonical script (a term as in term_trends).", nullable=False),
    _f("term_original", pa.string(), "The keyword as the document writes it (its most frequent form there).",
       nullable=False),
    _f("score", pa.float64(), "TF-IDF weight (l2-normalised per document), or TextRank score (a document's "
       "scores sum to 1).", nullable=False),
    _f("count", pa.int32(), "Occurrences of the term in the document (deduplicated tokens).", nullable=False),
]))

_MODEL = "Topic model engine: 'tomotopy' (tomotopy LDA), 'lda' (gensim LDA) or 'nmf' (scikit-learn NMF)."

TOPICS = TableSpec("topics", 1, "one top term of one topic of the chosen model", pa.schema([
    _f("model", pa.string(), _MODEL, nullable=False),
    _f("k", pa.int32(), "Number of topics of the model.", nullable=False),
    _f("topic_id", pa.int32(), "Topic, 0-based.", nullable=False),
    _f("rank", pa.int32(), "Rank of the term in the topic, 0 for the heaviest.", nullable=False),
    _f("term", pa.string(), "The term in the canonical script.", nullable=False),
    _f("term_display", pa.string(), "The term in the display script (topics.display_script).", nullable=False),
    _f("weight", pa.float64(), "Weight of the term in the topic (LDA: probability; NMF: share of the topic's "
       "component).", nullable=False),
]))

DOC_TOPICS = TableSpec("doc_topics", 1, "one topic's weight in one modelled unit (passage or document)", pa.schema([
    _f("model", pa.string(), _MODEL, nullable=False),
    _f("unit", pa.string(), "'passage' or 'document' (topics.unit).", nullable=False),
    _f("unit_id", pa.string(), "passage_id or doc_id of the unit.", nullable=False),
    _f("doc_id", pa.string(), "Document of the unit.", nullable=False),
    _f("year", pa.int16(), _YEAR),
    _f("topic_id", pa.int32(), "Topic, 0-based.", nullable=False),
    _f("weight", pa.float32(), "Weight of the topic in the unit, inferred from the chosen model (the same "
       "way for every unit, sample or not); a unit's weights sum to 1.", nullable=False),
]))

TOPIC_TRENDS = TableSpec("topic_trends", 1, "one topic in one year: its prevalence", pa.schema([
    _f("model", pa.string(), _MODEL, nullable=False),
    _f("year", pa.int16(), _YEAR),
    _f("topic_id", pa.int32(), "Topic, 0-based.", nullable=False),
    _f("mean_weight", pa.float64(), "Mean weight of the topic over the year's units.", nullable=False),
    _f("n_units", pa.int32(), "Units (passages or documents) behind the mean.", nullable=False),
]))

TOPIC_MODEL_SELECTION = TableSpec("topic_model_selection", 1, "one candidate number of topics", pa.schema([
    _f("model", pa.string(), _MODEL, nullable=False),
    _f("k", pa.int32(), "Number of topics fitted.", nullable=False),
    _f("coherence", pa.float64(), "Mean NPMI coherence of the model's top terms (topics.top_terms) over its "
       "topics, on the sample the candidates were fitted on.",
       nullable=False),
    _f("measure", pa.string(), "Coherence measure: 'c_npmi' (NPMI over boolean sliding windows of 10 terms, "
       "as gensim's CoherenceModel defines it).", nullable=False),
    _f("chosen", pa.bool_(), "The model kept: the highest coherence (or the k given in topics.k).", nullable=False),
]))

TERM_FORMS = TableSpec("term_forms", 1, "one way the corpus writes a term in one script, with its count",
                       pa.schema([
    _f("term", pa.string(), "The term in the canonical script (`tokens.token`).", nullable=False),
    _f("script", pa.string(), "Script of the passages it is written in: 'simplified' or 'traditional'.",
       nullable=False),
    _f("form", pa.string(), "How those passages write it (`tokens.token_original`).", nullable=False),
    _f("count", pa.int64(), "Tokens written so, in the deduplicated view.", nullable=False),
    _f("is_display", pa.bool_(), "The form shown for the term in this script: the one the corpus writes most "
       "often (ties: the first in code-point order). A term never written in a script is shown there "
       "through the converter.", nullable=False),
]))

TABLES: dict[str, TableSpec] = {t.name: t for t in (DOCUMENTS, PASSAGES, BOILERPLATE, REPAIRS, DUPLICATES,
                                                    TOKENS, TERM_FORMS, TERM_TRENDS, KEYNESS, KEYWORDS, TOPICS, DOC_TOPICS,
                                                    TOPIC_TRENDS, TOPIC_MODEL_SELECTION, INGEST_REPORT)}


def table_from_rows(spec: TableSpec, rows: list[dict]) -> pa.Table:
    """Build a table from row dicts, strictly against the declared schema."""
    return pa.Table.from_pylist(rows, schema=spec.schema)


def table_from_columns(spec: TableSpec, columns: dict[str, list]) -> pa.Table:
    """Build a table from column lists, strictly against the declared schema."""
    return pa.Table.from_pydict(columns, schema=spec.schema)


def schema_markdown(spec: TableSpec) -> str:
    """A Markdown table documenting one schema (the README's tables are generated from this)."""
    layout = " Stored as a folder of parts (`part-00000.parquet`, ...)." if spec.parted else ""
    lines = [f"`{spec.filename}` (schema v{spec.version}): {spec.row}.{layout}", "",
             "| column | type | null | meaning |", "|---|---|---|---|"]
    for fld in spec.schema:
        doc = (fld.metadata or {}).get(b"description", b"").decode()
        lines.append(f"| `{fld.name}` | {fld.type} | {'yes' if fld.nullable else 'no'} | {doc} |")
    return "\n".join(lines)
