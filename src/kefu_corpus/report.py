"""A run summarised in one self-contained HTML file that an analyst opens and explores offline.

Sections: the corpus, the quality actions (repairs, duplicates, boilerplate), a **term explorer** (type
a term in either script: its rate by year with the trend statistic and evidence flag, its collocates,
and keyword-in-context lines with each document's title and date, in the original script), keywords,
topics (terms, topics over time, an intertopic distance map, representative passages), term trends and
keyness by year.

The file needs nothing but a browser and never touches the network: the charts are Plotly figures with
plotly.js inlined once (hover, zoom, and a legend click hides a series), or PNGs with ``static=True``
(for print); tables sort (click a column head) and filter (the box above each), and every search folds
Traditional characters to Simplified ones, so 客戶 finds 客户 and the other way round; the Chinese text
is set in a subset of Noto Sans CJK embedded in the page, so it renders on machines without a CJK font.

The report's cost depends on its caps, not on the corpus: tables show at most ``max_rows`` rows, the
explorer the ``max_terms`` most frequent terms, and the data are read from Parquet with only the columns
and rows shown (aggregated by Arrow; the tokens table streamed once, in batches, for the explorer).

``display_script`` ('simplified' or 'traditional') chooses the script of the terms and document
metadata shown: a term in the form the corpus itself most often writes it in that script, the converter
only for a term it never writes so. Evidence quoted from the texts (damaged and repaired runs, duplicate
passages, boilerplate spans, contexts) stays as it stands in the source.

The HTML comes from Jinja templates in ``kefu_corpus/resources/report/`` (the page, its header, a
template per section and the macros they share: tables, figures, charts, notes). The code here only
prepares plain data (strings, numbers, lists of rows); the templates escape every value they print, so
a title or a passage of the corpus shows as text whatever characters it holds. The data the page's
script reads are JSON in ``<script type="application/json">`` elements, with ``<``, ``>`` and ``&``
written as ``\\u`` escapes, so no string in them can end the element.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple, Sequence

import jinja2
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from markupsafe import Markup

from kefu_corpus import __version__, charts, explore, plots, store, tablefiles
from kefu_corpus.errors import KefuError
from kefu_corpus.store import read_manifest, read_table, run_folder

log = logging.getLogger(__name__)

#: Sections of the report, in order: anchor and heading. Each has a template, ``sections/<anchor>.html.j2``.
SECTIONS = (("corpus", "Corpus"), ("quality", "Quality actions"), ("explorer", "Term explorer"),
            ("keywords", "Keywords"), ("topics", "Topics"), ("trends", "Trends"), ("keyness", "Keyness by year"))
#: The templates' folder in the package (package data: it ships in the wheel).
TEMPLATES = "resources/report"
_FONT_FAMILY = "KefuCJK"


def write_report(out_dir: Path, path: Path, *, display_script: str | None = None, max_rows: int = 500,
                 max_terms: int = 1500, static: bool = False) -> Path:
    """Write the HTML report of the run in ``out_dir`` to ``path`` (atomically) and return ``path``.

    Parameters
    ----------
    out_dir
        Output folder of a run (with manifest.json).
    path
        The HTML file to write; its folder is created if needed.
    display_script
        'simplified' or 'traditional': the script of the terms and metadata shown; by default the
        corpus's own majority script (the manifest's ``display_script``).
    max_rows
        Rows shown at most per table (the report says when a table is cut).
    max_terms
        Terms in the term explorer: the most frequent (the explorer says how many there are in all).
    static
        PNG charts instead of interactive ones (for print; the page is smaller, with no plotly.js).

    Raises
    ------
    KefuError
        When ``out_dir`` is not the output folder of a run, or ``path`` cannot be written.
    """
    page = render_report(Path(out_dir), display_script=display_script, max_rows=max_rows, max_terms=max_terms,
                         static=static)
    path = Path(path)
    try:
        store.write_text_atomic(path, page)
    except OSError as exc:
        raise KefuError(f"Cannot write the report to {path}: {exc.strerror}.", hint="choose another -o FILE") from exc
    return path


def render_report(out_dir: Path, *, display_script: str | None = None, max_rows: int = 500, max_terms: int = 1500,
                  static: bool = False) -> str:
    """The HTML text of the report (see :func:`write_report`)."""
    if display_script is None:
        display_script = read_manifest(run_folder(Path(out_dir))).get("display_script", "simplified")
    if display_script not in plots.DISPLAY_SCRIPTS:
        raise KefuError("The 'display_script' parameter of write_report must be 'simplified' or 'traditional'. "
                        f"Got {display_script!r} instead.")
    for name, value in (("max_rows", max_rows), ("max_terms", max_terms)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise KefuError(f"The '{name}' parameter of write_report must be an int >= 1. Got {value!r} instead.")
    out_dir = run_folder(Path(out_dir))  # one run, even if another commits meanwhile
    manifest = read_manifest(out_dir)
    tables = manifest.get("tables", {})
    if "documents" not in tables or not tablefiles.exists(out_dir / "documents.parquet"):
        raise KefuError(f"{out_dir} holds no documents table: there is nothing to report.",
                        hint="run `kefu run` into this folder first")
    builder = _Report(out_dir, manifest, display_script, max_rows, max_terms, static)
    body = Markup("\n").join(section() for section in (builder.corpus, builder.quality, builder.explorer,
                                                        builder.keywords, builder.topics, builder.trends,
                                                        builder.keyness))
    return builder.page(body)


# ---- templates and the data they print ---------------------------------------------------------------

@lru_cache(maxsize=None)
def _environment() -> jinja2.Environment:
    """The report's template environment, made once per process (templates compile on first use and are
    kept): every value a template prints is escaped, and a variable a template names but is not given
    is an error, not an empty string."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("kefu_corpus", TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             auto_reload=False)
    env.filters["thousands"] = "{:,}".format
    return env


def _render(template: str, **context: Any) -> Markup:
    """A template rendered: HTML that another template prints as it is."""
    return Markup(_environment().get_template(template).render(context))


def _json(value: Any) -> Markup:
    """``value`` as JSON for the text of a ``<script type="application/json">`` element. ``<``, ``>`` and
    ``&`` become ``\\u003c``, ``\\u003e`` and ``\\u0026`` (the same string to ``JSON.parse``), so nothing in
    it can end the element (``</script>``) or open a comment in it; the result is marked safe, as the
    template must print it unescaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _script_text(source: str) -> Markup:
    """JavaScript source for the text of a ``<script>`` element, with any ``</script`` in its strings or
    comments written ``<\\/script`` (the same text to JavaScript), so it cannot end the element early."""
    return Markup(re.sub(r"</(?=script)", r"<\\/", source, flags=re.IGNORECASE))


class _Cell(NamedTuple):
    """A table cell as the ``table`` macro prints it: its text, its class, and for a number the value
    it sorts by (``data-value``; empty for a missing value)."""

    text: str
    cls: str | None = None
    value: str | None = None


_NULL = _Cell("–", "null", "")


def _cell(value: Any, fmt: str | None) -> _Cell:
    if value is None or (isinstance(value, float) and value != value):
        return _NULL
    if isinstance(value, bool):
        return _Cell("yes" if value else "no")
    if isinstance(value, (int, float)):
        shown = format(value, fmt) if fmt else (f"{value:,}" if isinstance(value, int) else f"{value:.4g}")
        return _Cell(shown, "num", repr(value))
    text = str(value)
    return _Cell(text, "long" if len(text) > 12 else None)


def _table(rows: Sequence[dict], columns: Sequence[tuple[str, str]], *, caption: str, max_rows: int,
           formats: dict[str, str] | None = None, total: int | None = None) -> dict:
    """The data of a sortable, searchable table (the ``table`` macro) of ``rows``: ``columns`` are
    (key, heading) pairs. ``total`` is the number of rows there are in all, when ``rows`` holds only the
    first of them."""
    formats = {"year": "d", **(formats or {})}
    return {"caption": caption, "headings": [heading for _, heading in columns],
            "rows": [[_cell(r.get(k), formats.get(k)) for k, _ in columns] for r in rows[:max_rows]],
            "total": len(rows) if total is None else total}


def _year(value: Any) -> Any:
    return "undated" if value is None else value


def _head(table: pa.Table, n: int) -> list[dict]:
    """The first ``n`` rows of ``table`` as dicts (only those become Python objects)."""
    return table.slice(0, n).to_pylist()


class _Report:
    def __init__(self, out: Path, manifest: dict, display_script: str, max_rows: int, max_terms: int,
                 static: bool) -> None:
        self.out = out
        self.manifest = manifest
        self.script = display_script
        self.max_rows = max_rows
        self.max_terms = max_terms
        self.static = static
        self.has = set(manifest.get("tables", {}))
        self._labels: dict[str, str] = {}
        self.forms = plots.term_forms(out, display_script)
        years = tablefiles.read(out / "documents.parquet", columns=["year"]).column("year") \
            if "documents" in self.has else pa.chunked_array([], pa.int16())
        self.n_docs, self.n_dated = len(years), len(years) - years.null_count
        self.years = sorted(y for y in pc.unique(years).to_pylist() if y is not None)
        self.specs: list[tuple[str, dict]] = []  # (element id, Plotly figure) of each interactive chart
        self.data: dict[str, Any] = {}  # JSON data the page's script reads, by element id

    def undated(self, view: str) -> dict | None:
        """Why a view over years is empty when no document has a date (None when some have): the data
        of the ``time_note`` macro."""
        return None if self.n_dated else {"kind": "undated", "n_docs": self.n_docs, "view": view}

    def one_year(self, view: str) -> dict | None:
        """Why a view that compares years is empty when the dated documents share one year."""
        return {"kind": "one_year", "year": self.years[0], "view": view} if len(self.years) == 1 else None

    def labels(self, ids: Iterable[str | None]) -> dict[str, str]:
        """Short labels (:func:`plots.document_labels`) of the documents ``ids``, read only for those
        a table shows, once each."""
        wanted = {i for i in ids if i is not None} - set(self._labels)
        if wanted:
            self._labels.update(plots.document_labels(self.out, width=24, display_script=self.script, ids=wanted))
        return self._labels

    def shown(self, text: str | None) -> str | None:
        return plots.shown(text, self.script)

    def term(self, term: str | None) -> str | None:
        """A term as the corpus writes it in the display script (the converter only for one it never does)."""
        return plots.shown_term(term, self.script, self.forms)

    def chart(self, draw: Callable[[], Any], spec: Callable[[], dict], alt: str) -> dict:
        """A chart (the ``chart`` macro): interactive (a Plotly figure from ``spec``) or, in a static
        report, a PNG (``draw``)."""
        if self.static:
            return {"png": base64.b64encode(plots.figure_png(draw())).decode("ascii"), "id": None, "alt": alt}
        element = f"chart-{len(self.specs)}"
        self.specs.append((element, spec()))
        return {"png": None, "id": element, "alt": alt}

    # ---- sections ----

    def section(self, anchor: str, *, missing: tuple[str, str] | None = None, note: dict | None = None,
                **data: Any) -> Markup:
        """Section ``anchor`` rendered from its template with ``data``; or, without its content, why it
        has none: ``missing`` (what, the stage that writes it) or a time ``note``."""
        return _render(f"sections/{anchor}.html.j2", anchor=anchor, heading=dict(SECTIONS)[anchor],
                       missing=missing, note=note, **data)

    def corpus(self) -> Markup:
        columns = ["doc_id", "source_path", "title", "date", "date_precision", "year", "author", "publication",
                   "script", "encoding", "n_chars", "n_passages", "n_boilerplate", "n_repairs",
                   "n_duplicate_passages"]
        table = read_table(self.out, "documents", columns=columns)
        n_passages = self.manifest.get("tables", {}).get("passages", {}).get("rows")
        n_tokens = self.manifest.get("tables", {}).get("tokens", {}).get("rows")
        years = sorted(y for y in pc.unique(table["year"]).to_pylist() if y is not None)
        scripts = table.select(["script"]).group_by("script", use_threads=False).aggregate([("script", "count")])
        by_script = sorted(({"script": r["script"] or "not normalised", "documents": r["script_count"]}
                            for r in scripts.to_pylist()), key=lambda r: r["script"])
        per_year = table.group_by("year", use_threads=False).aggregate([
            ("doc_id", "count"), ("n_passages", "sum"), ("n_chars", "sum")])
        year_rows = sorted(({"year": _year(r["year"]), "documents": r["doc_id_count"],
                             "passages": r["n_passages_sum"], "characters": r["n_chars_sum"]}
                            for r in per_year.to_pylist()),
                           key=lambda r: (isinstance(r["year"], str), str(r["year"])))
        undated = self.n_docs - self.n_dated
        facts = [("documents", self.n_docs), ("passages", n_passages if n_passages is not None else "–"),
                 ("tokens", n_tokens if n_tokens is not None else "–"),
                 ("years", f"{years[0]}–{years[-1]}" if years else "none dated"), ("undated documents", undated)]
        chart = None
        if years and not self.static:
            dated = [r for r in year_rows if r["year"] != "undated"]
            chart = self.chart(lambda: None, lambda: charts.documents_by_year(
                [r["year"] for r in dated], [r["documents"] for r in dated], undated), "Documents by year")
        docs = _head(table, self.max_rows)
        for d in docs:
            for key in ("title", "author", "publication"):
                d[key] = self.shown(d[key])
        return self.section(
            "corpus", facts=facts, chart=chart,
            by_script=_table(by_script, [("script", "script"), ("documents", "documents")],
                             caption="Documents by script", max_rows=self.max_rows),
            by_year=_table(year_rows, [("year", "year"), ("documents", "documents"), ("passages", "passages"),
                                       ("characters", "characters")], caption="Documents by year",
                           max_rows=self.max_rows),
            documents=_table(docs, [("source_path", "file"), ("title", "title"),
                                    ("date", "date"), ("date_precision", "precision"), ("year", "year"),
                                    ("author", "author"), ("publication", "publication"), ("script", "script"),
                                    ("encoding", "encoding"), ("n_chars", "characters"), ("n_passages", "passages"),
                                    ("n_boilerplate", "boilerplate"), ("n_repairs", "repairs"),
                                    ("n_duplicate_passages", "duplicate passages"), ("doc_id", "doc_id")],
                             caption="Documents", max_rows=self.max_rows, total=table.num_rows))

    def quality(self) -> Markup:
        chart = repairs = duplicates = duplicate_kinds = boilerplate = boilerplate_kinds = None
        if {"duplicates", "boilerplate"} <= self.has:
            chart = self.chart(lambda: plots.quality_summary(self.out, display_script=self.script),
                               lambda: charts.quality(plots.quality_counts(self.out, display_script=self.script)),
                               "Passages kept and flagged as duplicates, repairs and boilerplate per document")
        if "repairs" in self.has:
            table = read_table(self.out, "repairs")
            rows = _head(table, self.max_rows)
            labels = self.labels(r["doc_id"] for r in rows)
            for r in rows:
                r["document"] = labels.get(r["doc_id"], r["doc_id"])
            repairs = _table(rows, [("document", "document"), ("passage_id", "passage"), ("start", "start"),
                                    ("end", "end"), ("damaged", "damaged run"), ("repaired", "read as"),
                                    ("confidence", "confidence"), ("gain", "gain (nats)"), ("method", "method")],
                             caption="Mojibake repairs", max_rows=self.max_rows, total=table.num_rows,
                             formats={"start": "d", "end": "d", "confidence": ".3f", "gain": ".1f"})
        if "duplicates" in self.has:
            dups = read_table(self.out, "duplicates", columns=["doc_id", "passage_id", "kind", "kept_doc_id",
                                                               "kept_passage_id", "similarity", "method"])
            kinds = dups.select(["kind"]).group_by("kind", use_threads=False).aggregate([("kind", "count")])
            rows = _head(dups, self.max_rows)
            flagged = {r["passage_id"] for r in rows if r["passage_id"]}
            passages = tablefiles.read_where(self.out / self.manifest["tables"]["passages"]["file"],
                                             ["passage_id", "text_normalised", "text"], "passage_id", flagged) \
                if "passages" in self.has else pa.table({"passage_id": pa.array([], pa.string())})
            texts = {p["passage_id"]: p.get("text_normalised") or p.get("text") for p in passages.to_pylist()}
            labels = self.labels([r["doc_id"] for r in rows] + [r["kept_doc_id"] for r in rows])
            for r in rows:
                r["document"] = labels.get(r["doc_id"], r["doc_id"])
                r["kept_document"] = labels.get(r["kept_doc_id"], r["kept_doc_id"])
                text = texts.get(r["passage_id"]) or ""
                r["text"] = text if len(text) <= 60 else text[:59] + "…"
            duplicate_kinds = [(f"duplicates: {r['kind']}", r["kind_count"])
                               for r in sorted(kinds.to_pylist(), key=lambda r: r["kind"])] or [("duplicates", 0)]
            duplicates = _table(rows, [("document", "document"), ("passage_id", "passage"), ("kind", "kind"),
                                       ("text", "flagged text"), ("kept_document", "kept in"),
                                       ("kept_passage_id", "kept passage"), ("similarity", "similarity"),
                                       ("method", "method")],
                                caption="Duplicates", max_rows=self.max_rows, total=dups.num_rows,
                                formats={"similarity": ".2f"})
        if "boilerplate" in self.has:
            boiler = read_table(self.out, "boilerplate", columns=["doc_id", "category", "kind", "rule", "start", "end",
                                                                  "text"])
            counts = boiler.select(["category", "kind"]).group_by(["category", "kind"], use_threads=False) \
                .aggregate([("kind", "count")]).sort_by([("category", "ascending"), ("kind", "ascending")])
            rows = _head(boiler, self.max_rows)
            labels = self.labels(r["doc_id"] for r in rows)
            for r in rows:
                r["document"] = labels.get(r["doc_id"], r["doc_id"])
            boilerplate_kinds = _table(
                [{"category": r["category"], "kind": r["kind"], "spans": r["kind_count"]} for r in counts.to_pylist()],
                [("category", "category"), ("kind", "kind"), ("spans", "spans")], caption="Boilerplate by kind",
                max_rows=self.max_rows)
            boilerplate = _table(rows, [("document", "document"), ("category", "category"), ("kind", "kind"),
                                        ("rule", "rule"), ("start", "start"), ("end", "end"), ("text", "text")],
                                 caption="Boilerplate spans", max_rows=self.max_rows, total=boiler.num_rows,
                                 formats={"start": "d", "end": "d"})
        return self.section("quality", chart=chart, repairs=repairs, duplicate_kinds=duplicate_kinds,
                            duplicates=duplicates, boilerplate_kinds=boilerplate_kinds, boilerplate=boilerplate)

    def explorer(self) -> Markup:
        data = explore.term_explorer(self.out, self.forms, self.shown, explore.ExplorerCaps(terms=self.max_terms))
        if data is None:
            return self.section("explorer", missing=("term counts", "trends"))
        self.data["explorer-data"] = data
        return self.section("explorer", n_terms=data["n_terms"], n_shown=len(data["terms"]), caps=data["caps"],
                            undated=self.undated("rate of a term by year"))

    def topics(self) -> Markup:
        if not {"topics", "topic_trends"} <= self.has:
            return self.section("topics", missing=("topic model", "topics"))
        chosen = selection = map_chart = prevalence_chart = examples = None
        if "topic_model_selection" in self.has:
            models = read_table(self.out, "topic_model_selection").to_pylist()
            best = next((r for r in models if r["chosen"]), None)
            if best:
                chosen = [("model", best["model"]), ("topics (k)", best["k"]),
                          (f"coherence ({best['measure']})", f"{best['coherence']:.3f}")]
            selection = _table(models, [("model", "model"), ("k", "k"), ("coherence", "coherence"),
                                        ("measure", "measure"), ("chosen", "chosen")],
                               caption="Model selection", max_rows=self.max_rows, formats={"coherence": ".3f"})
        topics = read_table(self.out, "topics", columns=["topic_id", "rank", "term", "weight"]) \
            .sort_by([("topic_id", "ascending"), ("rank", "ascending")]).to_pylist()
        per_topic: dict[int, list[dict]] = {}
        for r in topics:
            per_topic.setdefault(r["topic_id"], []).append(r)
        labels = plots.topic_labels(self.out, display_script=self.script)
        terms_chart = self.chart(lambda: plots.topic_terms(self.out, display_script=self.script),
                                 lambda: charts.topic_terms([
                                     (f"topic {t}", [self.term(r["term"]) for r in rows[:8]],
                                      [r["weight"] for r in rows[:8]], charts.COLOURS[t % len(charts.COLOURS)])
                                     for t, rows in per_topic.items()]), "Top terms per topic")
        trends = read_table(self.out, "topic_trends", columns=["year", "topic_id", "mean_weight", "n_units"]) \
            .sort_by([("topic_id", "ascending"), ("year", "ascending")]).to_pylist()
        dated = [r for r in trends if r["year"] is not None]
        prevalence_note = self.undated("topic prevalence by year")
        if prevalence_note is None:
            prevalence_chart = self.chart(
                lambda: plots.topic_prevalence(self.out, display_script=self.script),
                lambda: charts.lines_by_year(
                    [(labels.get(t, str(t)), [r["year"] for r in dated if r["topic_id"] == t],
                      [r["mean_weight"] for r in dated if r["topic_id"] == t], "solid")
                     for t in per_topic], title="Topics over time (mean weight by year)",
                    y_title="mean topic weight"), "Topic prevalence by year")
        placed = explore.topic_map(self.out)
        if placed is not None and not self.static and len(per_topic) == len(placed["x"]):
            # Plotly reads hover text as HTML: the labels and terms in it are escaped here.
            hover = [f"<b>{html.escape(labels.get(t, str(t)))}</b><br>prevalence {p:.3f}<br>"
                     + " ".join(html.escape(self.term(r["term"]) or "") for r in per_topic[t][:10])
                     for t, p in zip(sorted(per_topic), placed["prevalence"])]
            map_chart = self.chart(lambda: None, lambda: charts.topic_map(
                [labels.get(t, str(t)) for t in sorted(per_topic)], placed["x"], placed["y"], placed["prevalence"],
                hover), "Intertopic distance map")
        units = explore.representative_units(self.out)
        rows = [{"topic": labels.get(t, str(t)), **r} for t in sorted(units) for r in units[t]]
        if rows:
            examples = _table(rows, [("topic", "topic"), ("weight", "weight"), ("text", "text (original script)"),
                                     ("title", "document"), ("date", "date")],
                              caption="Representative passages: the units each topic weighs most in",
                              max_rows=self.max_rows, formats={"weight": ".3f"})
        for r in trends:
            r["topic"] = labels.get(r["topic_id"], str(r["topic_id"]))
            r["year"] = _year(r["year"])
        return self.section(
            "topics", chosen=chosen, selection=selection, terms_chart=terms_chart, prevalence_note=prevalence_note,
            prevalence_chart=prevalence_chart, map_chart=map_chart, examples=examples,
            topics=_table([{"topic_id": t, "terms": " ".join(self.term(r["term"]) for r in rows)}
                           for t, rows in per_topic.items()],
                          [("topic_id", "topic"), ("terms", "top terms, heaviest first")], caption="Topics",
                          max_rows=self.max_rows),
            prevalence=_table(trends, [("year", "year"), ("topic", "topic"), ("mean_weight", "mean weight"),
                                       ("n_units", "units")], caption="Topic prevalence by year",
                              max_rows=self.max_rows, formats={"mean_weight": ".3f"}))

    def trends(self) -> Markup:
        if "term_trends" not in self.has:
            return self.section("trends", missing=("term trends", "trends"))
        note = self.undated("trend of terms by year") or self.one_year("trend of terms by year")
        if note:
            return self.section("trends", note=note)
        trends = read_table(self.out, "term_trends", columns=["term", "year", "count", "rate_per_10k", "slope",
                                                              "p_value", "evidence"])
        slopes = plots.term_slopes(trends, min_count=1)
        frequent = slopes.filter(pc.greater_equal(slopes["count"], 5))
        rising = _head(frequent.filter(pc.greater(frequent["slope"], 0)).sort_by(
            [("slope", "descending"), ("term", "ascending")]), 15)
        falling = _head(frequent.filter(pc.less(frequent["slope"], 0)).sort_by(
            [("slope", "ascending"), ("term", "ascending")]), 15)
        # The chart's lines: the three steepest each way (plots.rising_falling's choice), before display forms.
        lines = [(r["term"], "solid") for r in rising[:3]] + [(r["term"], "dash") for r in falling[:3]]
        rows = _head(slopes, self.max_rows)
        for r in rising + falling + rows:
            r["term"] = self.term(r["term"])
        thin = pc.any(pc.equal(slopes["evidence"], "thin")).as_py() if slopes.num_rows else False
        cols = [("term", "term"), ("slope", "slope (per 10k tokens / year)"), ("p_value", "p"),
                ("evidence", "evidence"), ("count", "count")]
        fmt = {"slope": "+.2f", "p_value": ".3f"}
        return self.section(
            "trends", thin=bool(thin),
            chart=self.chart(lambda: plots.term_trends(self.out, display_script=self.script),
                             lambda: self.term_lines(trends, lines), "Term trends by year"),
            rising=_table(rising, cols, caption="Rising terms (count ≥ 5)", max_rows=self.max_rows, formats=fmt),
            falling=_table(falling, cols, caption="Falling terms (count ≥ 5)", max_rows=self.max_rows, formats=fmt),
            steepest=_table(rows, cols + [("dated_years", "dated years")], caption="All terms, steepest first",
                            max_rows=self.max_rows, formats=fmt, total=slopes.num_rows))

    def term_lines(self, table: pa.Table, chosen: list[tuple[str, str]]) -> dict:
        """Rate by year of the ``(term, dash)`` chosen from ``term_trends`` (``table``), one line each."""
        table = table.filter(pc.and_(pc.is_valid(table["year"]),
                                     pc.is_in(table["term"], pa.array([t for t, _ in chosen], pa.string()))))
        rows = table.sort_by([("year", "ascending")]).to_pylist()
        series = []
        for term, dash in chosen:
            mine = [r for r in rows if r["term"] == term]
            slope = mine[0]["slope"] if mine else None
            name = self.term(term) + ("" if slope is None else f" ({slope:+.1f}/yr)")
            series.append((name, [r["year"] for r in mine], [r["rate_per_10k"] for r in mine], dash))
        return charts.lines_by_year(series, title="Term trends by year (solid: rising, dashed: falling)",
                                    y_title="rate per 10,000 tokens")

    def keywords(self) -> Markup:
        if "keywords" not in self.has:
            return self.section("keywords", missing=("keywords", "trends"))
        table = read_table(self.out, "keywords", columns=["doc_id", "method", "rank", "term"])
        n_docs = len(pc.unique(table["doc_id"]))
        docs = pc.unique(table["doc_id"]).sort()  # the documents shown: the first max_rows / 2 by id
        kept = docs.slice(0, max(1, self.max_rows // 2))
        table = table.filter(pc.is_in(table["doc_id"], value_set=kept)).sort_by(
            [("doc_id", "ascending"), ("method", "ascending"), ("rank", "ascending")])
        grouped: dict[tuple[str, str], list[str]] = {}
        for r in table.to_pylist():
            grouped.setdefault((r["doc_id"], r["method"]), []).append(self.term(r["term"]))
        labels = self.labels(kept.to_pylist())
        rows = [{"document": labels.get(doc, doc), "method": method, "keywords": " ".join(terms)}
                for (doc, method), terms in sorted(grouped.items(), key=lambda kv: (labels.get(kv[0][0], ""),
                                                                                     kv[0][1]))]
        return self.section("keywords", n_docs=n_docs, n_shown=len(kept),
                            keywords=_table(rows, [("document", "document"), ("method", "method"),
                                                   ("keywords", "keywords")],
                                            caption="Keywords per document", max_rows=self.max_rows))

    def keyness(self) -> Markup:
        if "keyness" not in self.has:
            return self.section("keyness", missing=("keyness", "trends"))
        note = self.undated("keyness of a year against the others") or self.one_year(
            "keyness of a year against the others")
        if note:
            return self.section("keyness", note=note)
        table = read_table(self.out, "keyness")
        table = table.filter(pc.greater(table["g2"], 0)).sort_by([("year", "ascending"), ("g2", "descending"),
                                                                  ("term", "ascending")])
        year = table["year"].to_numpy()
        rank = np.arange(len(year)) - np.searchsorted(year, year, side="left")  # within its year
        rows = table.filter(pa.array(rank < 25)).to_pylist()
        for r in rows:
            r["term"] = self.term(r["term"])
        years = sorted({r["year"] for r in rows})
        panels = [(str(y), [r["term"] for r in rows if r["year"] == y][:10],
                   [r["g2"] for r in rows if r["year"] == y][:10], charts.COLOURS[i % len(charts.COLOURS)])
                  for i, y in enumerate(years)]
        return self.section(
            "keyness",
            chart=self.chart(lambda: plots.keyness(self.out, display_script=self.script),
                             lambda: charts.keyness(panels), "Key terms of each year"),
            keyness=_table(rows, [("year", "year"), ("term", "term"), ("g2", "G²"), ("log_ratio", "log ratio"),
                                  ("p_value", "p"), ("count_target", "count in year"),
                                  ("count_reference", "count elsewhere")],
                           caption="Key terms per year (top 25 by G²)", max_rows=self.max_rows,
                           formats={"year": "d", "g2": ".1f", "log_ratio": ".2f", "p_value": ".2g"}))

    # ---- page ----

    def page(self, body: Markup) -> str:
        m = self.manifest
        run = {key: "" if m.get(name) is None else m.get(name)
               for key, name in (("command", "command"), ("raw", "raw"), ("started_at", "started_at"),
                                 ("version", "kefu_corpus"), ("seconds", "seconds"))}
        header = _render("header.html.j2", run=run, out=str(self.out), script=self.script, version=__version__,
                         sections=SECTIONS)
        data = dict(self.data)
        data["chart-specs"] = {"charts": dict(self.specs), "config": charts.CONFIG}
        scripts = {element: _json(value) for element, value in data.items()}
        text = "".join([header, body, *scripts.values()])
        fold = explore.fold_map(text)
        scripts["fold-map"] = _json(fold)
        library = None if self.static or not self.specs and "explorer-data" not in self.data else \
            _script_text(charts.plotly_js())
        return _environment().get_template("page.html.j2").render(
            lang="zh-Hant" if self.script == "traditional" else "zh-Hans", title=self.out.name,
            font_css=_font_face(text + "".join(fold), self.script),  # a term typed in either script renders
            header=header, body=body, data=list(scripts.items()), plotly=library)


def _font_face(text: str, display_script: str) -> Markup:
    """An @font-face rule embedding the CJK font, cut down to the characters of ``text``; empty when the
    font cannot be subset (the page then falls back to the reader's own fonts)."""
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        font = plots.cjk_font(display_script)
        collection = font.path.suffix.lower() in (".ttc", ".otc")
        tt = TTFont(str(font.path), fontNumber=font.face_index if collection else -1, lazy=True,
                    recalcTimestamp=False)  # a fixed head.modified: the same page each time
        options = subset.Options()
        options.notdef_outline = True
        options.name_IDs = ["*"]
        # No OpenType layout features: horizontal Chinese needs none, and their closure (vertical and
        # variant forms) would double the glyphs, the size and the time of the subset.
        options.layout_features = []
        subsetter = subset.Subsetter(options)
        subsetter.populate(text="".join(sorted(set(text))))
        subsetter.subset(tt)
        buffer = io.BytesIO()
        tt.save(buffer)
    except Exception as exc:  # noqa: BLE001 - the page still works without the embedded font
        log.warning("report: the CJK font is not embedded (%s); readers need a CJK font of their own", exc)
        return Markup("")
    kind, fmt = ("font/otf", "opentype") if "CFF " in tt else ("font/ttf", "truetype")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Markup(f'@font-face {{ font-family: "{_FONT_FAMILY}"; src: url(data:{kind};base64,{data}) '
                  f'format("{fmt}"); }}\n')

