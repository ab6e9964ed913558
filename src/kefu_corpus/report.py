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
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu_corpus import __version__, charts, explore, plots, tablefiles
from kefu_corpus.errors import KefuError
from kefu_corpus.store import read_manifest, read_table, run_folder

log = logging.getLogger(__name__)

#: Sections of the report, in order: anchor and heading.
SECTIONS = (("corpus", "Corpus"), ("quality", "Quality actions"), ("explorer", "Term explorer"),
            ("keywords", "Keywords"), ("topics", "Topics"), ("trends", "Trends"), ("keyness", "Keyness by year"))
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
    from kefu_corpus.store import write_text_atomic

    page = render_report(Path(out_dir), display_script=display_script, max_rows=max_rows, max_terms=max_terms,
                         static=static)
    path = Path(path)
    try:
        write_text_atomic(path, page)
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
    body = "\n".join(section() for section in (builder.corpus, builder.quality, builder.explorer, builder.keywords,
                                                builder.topics, builder.trends, builder.keyness))
    return builder.page(body)


# ---- HTML pieces -------------------------------------------------------------------------------------

def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _json(value: Any) -> str:
    """JSON for a ``<script type="application/json">`` element: nothing in it can end the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _cell(value: Any, fmt: str | None) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return '<td class="null" data-value="">–</td>'
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, (int, float)):
        shown = format(value, fmt) if fmt else (f"{value:,}" if isinstance(value, int) else f"{value:.4g}")
        return f'<td class="num" data-value="{value!r}">{_esc(shown)}</td>'
    return f'<td class="long">{_esc(value)}</td>' if len(str(value)) > 12 else f"<td>{_esc(value)}</td>"


def _table(rows: Sequence[dict], columns: Sequence[tuple[str, str]], *, caption: str, max_rows: int,
           formats: dict[str, str] | None = None, total: int | None = None) -> str:
    """A sortable, searchable table of ``rows``: ``columns`` are (key, heading) pairs. ``total`` is the
    number of rows there are in all, when ``rows`` holds only the first of them."""
    formats = {"year": "d", **(formats or {})}
    shown = rows[:max_rows]
    total = len(rows) if total is None else total
    note = (f" <span class=\"cut\">showing the first {len(shown):,} of {total:,} rows</span>"
            if total > len(shown) else f" <span class=\"count\">{total:,} row(s)</span>")
    head = "".join(f'<th scope="col" title="click to sort">{_esc(h)}</th>' for _, h in columns)
    body = "\n".join("<tr>" + "".join(_cell(r.get(k), formats.get(k)) for k, _ in columns) + "</tr>" for r in shown)
    return (f'<div class="table"><div class="tools"><strong>{_esc(caption)}</strong>{note}'
            f'<input type="search" class="filter" placeholder="Search this table (either script)" '
            f'aria-label="Search {_esc(caption)}"></div><table class="data"><thead><tr>{head}</tr></thead>'
            f'<tbody>\n{body}\n</tbody></table></div>')


def _figure(fig: Any, alt: str) -> str:
    data = base64.b64encode(plots.figure_png(fig)).decode("ascii")
    return f'<figure><img alt="{_esc(alt)}" src="data:image/png;base64,{data}"></figure>'


def _facts(items: Iterable[tuple[str, Any]]) -> str:
    def text(value: Any) -> str:
        return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)

    return '<dl class="facts">' + "".join(f"<div><dt>{_esc(k)}</dt><dd>{_esc(text(v))}</dd></div>"
                                          for k, v in items) + "</dl>"


def _missing(what: str, stage: str) -> str:
    return f'<p class="missing">No {_esc(what)} in this run: run <code>kefu {stage}</code> on the folder.</p>'


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

    def undated(self, view: str) -> str | None:
        """Why a view over years is empty when no document has a date (None when some have)."""
        if self.n_dated:
            return None
        return (f'<p class="note">No document of the {self.n_docs} has a date, so there is no {view}: a '
                "time view needs each document's year. Dates come from a date line in the text, a "
                "<code>date</code> field of a corpus file's records, or the <code>date</code> column of "
                "<code>metadata.csv</code> (see the README, <em>Ingest</em>); the views that do not need "
                "dates are below and in the other sections.</p>")

    def one_year(self, view: str) -> str | None:
        """Why a view that compares years is empty when the dated documents share one year."""
        if len(self.years) != 1:
            return None
        return (f'<p class="note">Every dated document is of {self.years[0]}, so there is no {view}: it '
                "compares years, and needs documents of at least two.</p>")

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

    def chart(self, draw: Callable[[], Any], spec: Callable[[], dict], alt: str) -> str:
        """A chart: interactive (a Plotly figure from ``spec``) or, in a static report, a PNG (``draw``)."""
        if self.static:
            return _figure(draw(), alt)
        element = f"chart-{len(self.specs)}"
        self.specs.append((element, spec()))
        return f'<figure class="chart" id="{element}" role="img" aria-label="{_esc(alt)}"></figure>'

    # ---- sections ----

    def corpus(self) -> str:
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
        facts = _facts([("documents", self.n_docs), ("passages", n_passages if n_passages is not None else "–"),
                        ("tokens", n_tokens if n_tokens is not None else "–"),
                        ("years", f"{years[0]}–{years[-1]}" if years else "none dated"),
                        ("undated documents", undated)])
        parts = [facts]
        if years and not self.static:
            dated = [r for r in year_rows if r["year"] != "undated"]
            parts.append(self.chart(lambda: None, lambda: charts.documents_by_year(
                [r["year"] for r in dated], [r["documents"] for r in dated], undated), "Documents by year"))
        parts.append('<div class="pair">' + _table(by_script, [("script", "script"), ("documents", "documents")],
                                                   caption="Documents by script", max_rows=self.max_rows)
                     + _table(year_rows, [("year", "year"), ("documents", "documents"), ("passages", "passages"),
                                          ("characters", "characters")], caption="Documents by year",
                              max_rows=self.max_rows) + "</div>")
        docs = _head(table, self.max_rows)
        for d in docs:
            for key in ("title", "author", "publication"):
                d[key] = self.shown(d[key])
        parts.append(_table(docs, [("source_path", "file"), ("title", "title"),
                                   ("date", "date"), ("date_precision", "precision"), ("year", "year"),
                                   ("author", "author"), ("publication", "publication"), ("script", "script"),
                                   ("encoding", "encoding"), ("n_chars", "characters"), ("n_passages", "passages"),
                                   ("n_boilerplate", "boilerplate"), ("n_repairs", "repairs"),
                                   ("n_duplicate_passages", "duplicate passages"), ("doc_id", "doc_id")],
                            caption="Documents", max_rows=self.max_rows, total=table.num_rows))
        return self.section("corpus", "\n".join(parts))

    def quality(self) -> str:
        parts = []
        if {"duplicates", "boilerplate"} <= self.has:
            parts.append(self.chart(lambda: plots.quality_summary(self.out, display_script=self.script),
                                    lambda: charts.quality(plots.quality_counts(self.out, display_script=self.script)),
                                    "Passages kept and flagged as duplicates, repairs and boilerplate per document"))
        if "repairs" in self.has:
            repairs = read_table(self.out, "repairs")
            rows = _head(repairs, self.max_rows)
            labels = self.labels(r["doc_id"] for r in rows)
            for r in rows:
                r["document"] = labels.get(r["doc_id"], r["doc_id"])
            parts.append(_table(rows, [("document", "document"), ("passage_id", "passage"), ("start", "start"),
                                       ("end", "end"), ("damaged", "damaged run"), ("repaired", "read as"),
                                       ("confidence", "confidence"), ("gain", "gain (nats)"), ("method", "method")],
                                caption="Mojibake repairs", max_rows=self.max_rows, total=repairs.num_rows,
                                formats={"start": "d", "end": "d", "confidence": ".3f", "gain": ".1f"}))
        else:
            parts.append(_missing("repairs", "normalise"))
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
            parts.append(_facts([(f"duplicates: {r['kind']}", r["kind_count"])
                                 for r in sorted(kinds.to_pylist(), key=lambda r: r["kind"])] or [("duplicates", 0)]))
            parts.append(_table(rows, [("document", "document"), ("passage_id", "passage"), ("kind", "kind"),
                                       ("text", "flagged text"), ("kept_document", "kept in"),
                                       ("kept_passage_id", "kept passage"), ("similarity", "similarity"),
                                       ("method", "method")],
                                caption="Duplicates", max_rows=self.max_rows, total=dups.num_rows,
                                formats={"similarity": ".2f"}))
        else:
            parts.append(_missing("duplicates", "dedup"))
        if "boilerplate" in self.has:
            boiler = read_table(self.out, "boilerplate", columns=["doc_id", "category", "kind", "rule", "start", "end",
                                                                  "text"])
            counts = boiler.select(["category", "kind"]).group_by(["category", "kind"], use_threads=False) \
                .aggregate([("kind", "count")]).sort_by([("category", "ascending"), ("kind", "ascending")])
            rows = _head(boiler, self.max_rows)
            labels = self.labels(r["doc_id"] for r in rows)
            for r in rows:
                r["document"] = labels.get(r["doc_id"], r["doc_id"])
            parts.append('<div class="pair">' + _table(
                [{"category": r["category"], "kind": r["kind"], "spans": r["kind_count"]} for r in counts.to_pylist()],
                [("category", "category"), ("kind", "kind"), ("spans", "spans")], caption="Boilerplate by kind",
                max_rows=self.max_rows) + "</div>")
            parts.append(_table(rows, [("document", "document"), ("category", "category"), ("kind", "kind"),
                                       ("rule", "rule"), ("start", "start"), ("end", "end"), ("text", "text")],
                                caption="Boilerplate spans", max_rows=self.max_rows, total=boiler.num_rows,
                                formats={"start": "d", "end": "d"}))
        return self.section("quality", "\n".join(parts))

    def explorer(self) -> str:
        data = explore.term_explorer(self.out, self.forms, self.shown, explore.ExplorerCaps(terms=self.max_terms))
        if data is None:
            return self.section("explorer", _missing("term counts", "trends"))
        self.data["explorer-data"] = data
        caps = data["caps"]
        shown_terms = len(data["terms"])
        note = (f"The {shown_terms:,} most frequent terms of {data['n_terms']:,}" if data["n_terms"] > shown_terms
                else f"All {shown_terms:,} terms")
        note += (f"; for each, its first {caps['contexts']} contexts in corpus order and its "
                 f"{caps['collocates']} strongest collocates (G², within {caps['window']} tokens).")
        undated = self.undated("rate of a term by year") or ""
        return self.section("explorer", f"""
<div class="explorer">
<div class="tools"><label for="term-query"><strong>Term</strong></label>
<input type="search" id="term-query" list="term-list" autocomplete="off"
 placeholder="Type a term in either script" aria-label="Term, in either script">
<span class="count">{_esc(note)}</span></div>
<datalist id="term-list"></datalist>
{undated}
<div id="term-view" aria-live="polite">
<h3 id="term-title"></h3><p id="term-stats" class="stats"></p>
<figure id="term-chart" class="chart"></figure>
<div class="pair"><div class="box"><h4>Collocates</h4><ol id="term-collocates"></ol></div>
<div class="box wide"><h4>In context <span class="count">(the original script)</span></h4>
<table class="kwic"><thead><tr><th class="left">left</th><th>term</th><th>right</th><th>document</th><th>date</th>
</tr></thead><tbody id="term-kwic"></tbody></table></div></div>
</div>
</div>""")

    def topics(self) -> str:
        if not {"topics", "topic_trends"} <= self.has:
            return self.section("topics", _missing("topic model", "topics"))
        parts = []
        if "topic_model_selection" in self.has:
            selection = read_table(self.out, "topic_model_selection").to_pylist()
            chosen = next((r for r in selection if r["chosen"]), None)
            if chosen:
                parts.append(_facts([("model", chosen["model"]), ("topics (k)", chosen["k"]),
                                     (f"coherence ({chosen['measure']})", f"{chosen['coherence']:.3f}")]))
            parts.append(_table(selection, [("model", "model"), ("k", "k"), ("coherence", "coherence"),
                                            ("measure", "measure"), ("chosen", "chosen")],
                                caption="Model selection", max_rows=self.max_rows, formats={"coherence": ".3f"}))
        topics = read_table(self.out, "topics", columns=["topic_id", "rank", "term", "weight"]) \
            .sort_by([("topic_id", "ascending"), ("rank", "ascending")]).to_pylist()
        per_topic: dict[int, list[dict]] = {}
        for r in topics:
            per_topic.setdefault(r["topic_id"], []).append(r)
        labels = plots.topic_labels(self.out, display_script=self.script)
        parts.append(self.chart(lambda: plots.topic_terms(self.out, display_script=self.script),
                                lambda: charts.topic_terms([
                                    (f"topic {t}", [self.term(r["term"]) for r in rows[:8]],
                                     [r["weight"] for r in rows[:8]], charts.COLOURS[t % len(charts.COLOURS)])
                                    for t, rows in per_topic.items()]), "Top terms per topic"))
        trends = read_table(self.out, "topic_trends", columns=["year", "topic_id", "mean_weight", "n_units"]) \
            .sort_by([("topic_id", "ascending"), ("year", "ascending")]).to_pylist()
        dated = [r for r in trends if r["year"] is not None]
        parts.append(self.undated("topic prevalence by year")
                     or self.chart(lambda: plots.topic_prevalence(self.out, display_script=self.script),
                                   lambda: charts.lines_by_year(
                                       [(labels.get(t, str(t)), [r["year"] for r in dated if r["topic_id"] == t],
                                         [r["mean_weight"] for r in dated if r["topic_id"] == t], "solid")
                                        for t in per_topic], title="Topics over time (mean weight by year)",
                                       y_title="mean topic weight"), "Topic prevalence by year"))
        placed = explore.topic_map(self.out)
        if placed is not None and not self.static and len(per_topic) == len(placed["x"]):
            hover = [f"<b>{_esc(labels.get(t, str(t)))}</b><br>prevalence {p:.3f}<br>"
                     + " ".join(_esc(self.term(r["term"])) for r in per_topic[t][:10])
                     for t, p in zip(sorted(per_topic), placed["prevalence"])]
            parts.append(self.chart(lambda: None, lambda: charts.topic_map(
                [labels.get(t, str(t)) for t in sorted(per_topic)], placed["x"], placed["y"], placed["prevalence"],
                hover), "Intertopic distance map"))
        parts.append(_table([{"topic_id": t, "terms": " ".join(self.term(r["term"]) for r in rows)}
                             for t, rows in per_topic.items()],
                            [("topic_id", "topic"), ("terms", "top terms, heaviest first")], caption="Topics",
                            max_rows=self.max_rows))
        examples = explore.representative_units(self.out)
        rows = [{"topic": labels.get(t, str(t)), **r} for t in sorted(examples) for r in examples[t]]
        if rows:
            parts.append(_table(rows, [("topic", "topic"), ("weight", "weight"), ("text", "text (original script)"),
                                       ("title", "document"), ("date", "date")],
                                caption="Representative passages: the units each topic weighs most in",
                                max_rows=self.max_rows, formats={"weight": ".3f"}))
        for r in trends:
            r["topic"] = labels.get(r["topic_id"], str(r["topic_id"]))
            r["year"] = _year(r["year"])
        parts.append(_table(trends, [("year", "year"), ("topic", "topic"), ("mean_weight", "mean weight"),
                                     ("n_units", "units")], caption="Topic prevalence by year",
                            max_rows=self.max_rows, formats={"mean_weight": ".3f"}))
        return self.section("topics", "\n".join(parts))

    def trends(self) -> str:
        if "term_trends" not in self.has:
            return self.section("trends", _missing("term trends", "trends"))
        note = self.undated("trend of terms by year") or self.one_year("trend of terms by year")
        if note:
            return self.section("trends", note)
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
        parts = []
        if thin:
            parts.append('<p class="note">Evidence is <strong>thin</strong>: too few dated years or documents per '
                         "year. The slopes describe these documents, not a trend.</p>")
        parts.append(self.chart(lambda: plots.term_trends(self.out, display_script=self.script),
                                lambda: self.term_lines(trends, lines), "Term trends by year"))
        parts.append('<div class="pair">'
                     + _table(rising, cols, caption="Rising terms (count ≥ 5)", max_rows=self.max_rows, formats=fmt)
                     + _table(falling, cols, caption="Falling terms (count ≥ 5)", max_rows=self.max_rows,
                              formats=fmt) + "</div>")
        parts.append(_table(rows, cols + [("dated_years", "dated years")], caption="All terms, steepest first",
                            max_rows=self.max_rows, formats=fmt, total=slopes.num_rows))
        return self.section("trends", "\n".join(parts))

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

    def keywords(self) -> str:
        if "keywords" not in self.has:
            return self.section("keywords", _missing("keywords", "trends"))
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
        note = ('<p class="note">Top terms of each document by TF-IDF (with this corpus\'s IDF) and by TextRank '
                "(PageRank over the document's co-occurrence graph), strongest first"
                + (f"; {len(kept):,} of the {n_docs:,} documents are shown." if n_docs > len(kept) else ".")
                + "</p>")
        return self.section("keywords", note + _table(rows, [("document", "document"), ("method", "method"),
                                                             ("keywords", "keywords")],
                                                      caption="Keywords per document", max_rows=self.max_rows))

    def keyness(self) -> str:
        if "keyness" not in self.has:
            return self.section("keyness", _missing("keyness", "trends"))
        note = self.undated("keyness of a year against the others") or self.one_year(
            "keyness of a year against the others")
        if note:
            return self.section("keyness", note)
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
        parts = [self.chart(lambda: plots.keyness(self.out, display_script=self.script),
                            lambda: charts.keyness(panels), "Key terms of each year"),
                 _table(rows, [("year", "year"), ("term", "term"), ("g2", "G²"), ("log_ratio", "log ratio"),
                               ("p_value", "p"), ("count_target", "count in year"),
                               ("count_reference", "count elsewhere")],
                        caption="Key terms per year (top 25 by G²)", max_rows=self.max_rows,
                        formats={"year": "d", "g2": ".1f", "log_ratio": ".2f", "p_value": ".2g"})]
        return self.section("keyness", "\n".join(parts))

    # ---- page ----

    def section(self, anchor: str, content: str) -> str:
        heading = dict(SECTIONS)[anchor]
        return f'<section id="{anchor}"><h2>{_esc(heading)}</h2>\n{content}\n</section>'

    def page(self, body: str) -> str:
        m = self.manifest
        lang = "zh-Hant" if self.script == "traditional" else "zh-Hans"
        nav = " ".join(f'<a href="#{a}">{_esc(h)}</a>' for a, h in SECTIONS)
        header = (f"<header><h1>kefu-corpus report</h1><p class=\"run\">Run <code>kefu {_esc(m.get('command'))}</code>"
                  f" of {_esc(m.get('raw'))} at {_esc(m.get('started_at'))} (kefu-corpus {_esc(m.get('kefu_corpus'))},"
                  f" {_esc(m.get('seconds'))} s); output folder <code>{_esc(self.out)}</code>. Display script: "
                  f"{_esc(self.script)}. Written by kefu-corpus "
                  f"{_esc(__version__)}.</p><nav>{nav}</nav></header>")
        data = dict(self.data)
        data["chart-specs"] = {"charts": dict(self.specs), "config": charts.CONFIG}
        payload = "".join(f'<script type="application/json" id="{key}">{_json(value)}</script>\n'
                          for key, value in data.items())
        text = header + body + payload
        fold = explore.fold_map(text)
        data_fold = f'<script type="application/json" id="fold-map">{_json(fold)}</script>\n'
        font_css = _font_face(text + "".join(fold), self.script)  # a term typed in either script renders
        library = "" if self.static or not self.specs and "explorer-data" not in self.data else \
            f'<script type="text/plain" id="plotly-src">\n{charts.plotly_js()}\n</script>\n'
        return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                f"<title>kefu-corpus report: {_esc(self.out.name)}</title>\n<style>\n{font_css}{_CSS}</style>\n"
                f"</head>\n<body>\n{header}\n<main>\n{body}\n</main>\n{payload}{data_fold}{library}"
                f"<script>\n{_JS}</script>\n</body>\n</html>\n")


def _font_face(text: str, display_script: str) -> str:
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
        return ""
    kind, fmt = ("font/otf", "opentype") if "CFF " in tt else ("font/ttf", "truetype")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'@font-face {{ font-family: "{_FONT_FAMILY}"; src: url(data:{kind};base64,{data}) format("{fmt}"); }}\n'


_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --rule: #d1d9e0; --band: #f6f8fa; --accent: #4269d0; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.5;
  font-family: "KefuCJK", "Noto Sans CJK SC", "Noto Sans CJK TC", "Source Han Sans SC", "PingFang SC",
  "Microsoft YaHei", system-ui, sans-serif; }
header, main { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header { border-bottom: 1px solid var(--rule); padding-bottom: 8px; }
h1 { font-size: 1.6rem; margin: 20px 0 4px; }
h2 { font-size: 1.3rem; margin: 32px 0 12px; padding-top: 8px; border-top: 2px solid var(--accent); }
h3 { font-size: 1.2rem; margin: 12px 0 4px; }
h4 { font-size: 0.95rem; margin: 4px 0; }
.run { color: var(--muted); margin: 0 0 8px; }
nav a { margin-right: 16px; color: var(--accent); text-decoration: none; }
code { background: var(--band); padding: 0 4px; border-radius: 3px; }
input, button, select, textarea { font: inherit; }
.facts { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.facts div { background: var(--band); border-radius: 6px; padding: 8px 14px; }
.facts dt { color: var(--muted); font-size: 0.8rem; }
.facts dd { margin: 0; font-size: 1.2rem; font-weight: 600; }
figure { margin: 16px 0; }
figure img { max-width: 100%; height: auto; }
figure.chart { min-height: 120px; }
.pair { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.pair > .table { flex: 1 1 360px; }
.table { margin: 16px 0; max-height: 480px; overflow: auto; border: 1px solid var(--rule); border-radius: 6px; }
.tools { position: sticky; top: 0; background: #fff; display: flex; gap: 12px; align-items: center;
  padding: 6px 8px; border-bottom: 1px solid var(--rule); z-index: 2; }
.tools input { margin-left: auto; padding: 3px 8px; border: 1px solid var(--rule); border-radius: 4px; }
.cut, .count { color: var(--muted); font-size: 0.85rem; }
table.data { border-collapse: collapse; width: 100%; font-size: 0.88rem; }
table.data th { position: sticky; top: 37px; background: var(--band); text-align: left; cursor: pointer;
  padding: 4px 8px; border-bottom: 1px solid var(--rule); white-space: nowrap; z-index: 1; }
table.data th[aria-sort="ascending"]::after { content: " ▲"; }
table.data th[aria-sort="descending"]::after { content: " ▼"; }
table.data td { padding: 3px 8px; border-bottom: 1px solid #eef1f4; vertical-align: top; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.data td.null { color: var(--muted); }
table.data td.long { min-width: 14em; }
table.data tr:hover td { background: #f0f4ff; }
.note { background: #fff8e5; border-left: 4px solid #efb118; padding: 6px 12px; }
.missing { color: var(--muted); font-style: italic; }
.explorer { border: 1px solid var(--rule); border-radius: 6px; padding: 0 12px 12px; }
.explorer .tools { margin: 0 -12px; flex-wrap: wrap; }
.explorer .tools input { margin-left: 0; width: 18em; font-size: 1rem; }
.explorer .stats { color: var(--muted); margin: 0; }
.box { flex: 1 1 220px; }
.box.wide { flex: 3 1 560px; overflow-x: auto; }
ol#term-collocates { padding-left: 1.6em; margin: 4px 0; }
ol#term-collocates a { color: var(--accent); cursor: pointer; text-decoration: none; }
table.kwic { border-collapse: collapse; font-size: 0.88rem; width: 100%; }
table.kwic th { text-align: left; color: var(--muted); font-weight: normal; border-bottom: 1px solid var(--rule); }
table.kwic td { padding: 2px 6px; border-bottom: 1px solid #eef1f4; white-space: nowrap; }
table.kwic td.left, table.kwic th.left { text-align: right; }
table.kwic td.match { font-weight: 700; color: var(--accent); }
table.kwic td.doc { color: var(--muted); max-width: 16em; overflow: hidden; text-overflow: ellipsis; }
table.rates td { padding: 0 8px; }
"""

_JS = """
(function () {
  function json(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  var FOLD = json('fold-map') || {};
  // Traditional characters folded to Simplified ones, and case: a search matches either script.
  function fold(text) {
    var out = '';
    for (var ch of String(text)) { out += FOLD[ch] || ch; }
    return out.toLowerCase();
  }
  function key(row, i) {
    var cell = row.cells[i];
    var raw = cell.getAttribute('data-value');
    if (raw !== null) { return raw === '' ? null : parseFloat(raw); }
    return cell.textContent.trim();
  }
  function compare(a, b) {
    if (a === null || a === '') { return b === null || b === '' ? 0 : 1; }
    if (b === null || b === '') { return -1; }
    if (typeof a === 'number' && typeof b === 'number') { return a - b; }
    return String(a).localeCompare(String(b), 'zh');
  }
  document.querySelectorAll('div.table').forEach(function (box) {
    var table = box.querySelector('table.data');
    var input = box.querySelector('input.filter');
    var body = table.tBodies[0];
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    input.addEventListener('input', function () {
      var query = fold(input.value.trim());
      Array.prototype.forEach.call(body.rows, function (row) {
        if (row.folded === undefined) { row.folded = fold(row.textContent); }
        row.hidden = query !== '' && row.folded.indexOf(query) < 0;
      });
    });
    heads.forEach(function (th, i) {
      th.addEventListener('click', function () {
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var ka = key(a, i), kb = key(b, i);
          if (ka === null || ka === '' || kb === null || kb === '') { return compare(ka, kb); }
          return ascending ? compare(ka, kb) : compare(kb, ka);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });

  // plotly.js is evaluated once the page is shown, and each chart is drawn as it nears the viewport,
  // then the rest one by one while the reader reads: the page opens at once. When every chart is drawn,
  // <body data-charts="drawn">.
  var specs = json('chart-specs') || {charts: {}, config: {}};
  var config = specs.config;
  function plotly() {
    if (!window.Plotly) {
      var source = document.getElementById('plotly-src');
      if (!source) { return false; }
      var script = document.createElement('script');
      script.textContent = source.textContent;
      document.head.appendChild(script);
      source.remove();
    }
    return !!window.Plotly;
  }
  var waiting = Object.keys(specs.charts);
  function draw(id) {
    var at = waiting.indexOf(id);
    if (at < 0) { return; }
    waiting.splice(at, 1);
    if (plotly()) {
      var spec = specs.charts[id];
      Plotly.newPlot(id, spec.data, spec.layout, config);
    }
    if (!waiting.length) { document.body.setAttribute('data-charts', 'drawn'); }
  }
  waiting.forEach(function (id) {
    document.getElementById(id).style.minHeight = specs.charts[id].layout.height + 'px';
  });
  if (!waiting.length) { document.body.setAttribute('data-charts', 'drawn'); }
  var near = 'IntersectionObserver' in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) { near.unobserve(entry.target); draw(entry.target.id); }
    });
  }, {rootMargin: '600px'}) : null;
  function drawRest() {
    if (waiting.length) { draw(waiting[0]); setTimeout(drawRest, 30); }
  }
  setTimeout(function () {
    if (near) { waiting.forEach(function (id) { near.observe(document.getElementById(id)); }); }
    setTimeout(drawRest, 200);
  }, 0);

  var data = json('explorer-data');
  if (!data) { return; }
  var byKey = {};
  Object.keys(data.index).forEach(function (k) {
    var f = fold(k);
    if (!(f in byKey)) { byKey[f] = data.index[k]; }
  });
  var input = document.getElementById('term-query');
  var list = document.getElementById('term-list');
  data.terms.slice(0, 300).forEach(function (t) {
    var option = document.createElement('option');
    option.value = t.shown;
    list.appendChild(option);
  });
  function element(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }
  function number(x, digits, sign) {
    if (x === null || x === undefined) { return '–'; }
    var s = Number(x).toFixed(digits);
    return sign && x > 0 ? '+' + s : s;
  }
  function link(text) {
    var a = element('a', text);
    a.href = '#term-query';
    a.addEventListener('click', function (event) {
      event.preventDefault();
      input.value = text;
      lookup();
    });
    return a;
  }
  function chart(t) {
    var box = document.getElementById('term-chart');
    if (!data.years.length) { box.hidden = true; return; }
    box.hidden = false;
    if (plotly()) {
      Plotly.react(box, [{type: 'scatter', mode: 'lines+markers', x: data.years, y: t.rates, customdata: t.counts,
                          name: t.shown, line: {color: '#4269d0'},
                          hovertemplate: '%{x}: %{y:.2f} per 10,000 tokens (%{customdata} times)<extra></extra>'}],
                   {title: {text: 'Rate of ' + t.shown + ' by year', x: 0.01, xanchor: 'left', font: {size: 14}},
                    height: 300, margin: {l: 60, r: 20, t: 40, b: 40}, font: {family: getComputedStyle(document.body).fontFamily},
                    xaxis: {tickmode: 'array', tickvals: data.years, ticktext: data.years.map(String), title: {text: 'year'}},
                    yaxis: {title: {text: 'rate per 10,000 tokens'}, rangemode: 'tozero', gridcolor: '#eef1f4'}},
                   config);
    } else {
      box.textContent = '';
      var table = element('table', null, 'rates');
      var years = element('tr'), rates = element('tr');
      data.years.forEach(function (y, i) { years.appendChild(element('th', String(y))); rates.appendChild(element('td', number(t.rates[i], 2))); });
      table.appendChild(years);
      table.appendChild(rates);
      box.appendChild(table);
    }
  }
  function show(i) {
    var t = data.terms[i];
    document.getElementById('term-title').textContent = t.shown;
    var stats = t.count.toLocaleString() + ' occurrences' + (t.undated ? ' (' + t.undated.toLocaleString() + ' undated)' : '');
    if (data.years.length) {
      stats += ' · slope ' + number(t.slope, 2, true) + ' per 10,000 tokens a year · p ' + number(t.p_value, 3) +
               ' · evidence ' + t.evidence;
    }
    if (t.forms.length) { stats += ' · also written ' + t.forms.join(' '); }
    if (t.term !== t.shown) { stats += ' · counted as ' + t.term; }
    document.getElementById('term-stats').textContent = stats;
    chart(t);
    var colloc = document.getElementById('term-collocates');
    colloc.textContent = '';
    t.collocates.forEach(function (c) {
      var item = element('li');
      item.appendChild(link(c[0]));
      item.appendChild(element('span', ' ' + c[1] + ' times, G² ' + number(c[2], 1), 'count'));
      colloc.appendChild(item);
    });
    if (!t.collocates.length) { colloc.appendChild(element('li', 'none seen twice', 'count')); }
    var kwic = document.getElementById('term-kwic');
    kwic.textContent = '';
    t.contexts.forEach(function (c) {
      var row = element('tr');
      row.appendChild(element('td', c[0], 'left'));
      row.appendChild(element('td', c[1], 'match'));
      row.appendChild(element('td', c[2]));
      var doc = element('td', c[3] || c[5], 'doc');
      doc.title = c[5];
      row.appendChild(doc);
      row.appendChild(element('td', c[4] || '–', 'count'));
      kwic.appendChild(row);
    });
  }
  function lookup() {
    var query = fold(input.value.trim());
    if (!query) { return; }
    if (query in byKey) { show(byKey[query]); return; }
    var near = [];
    for (var i = 0; i < data.terms.length && near.length < 12; i++) {
      var t = data.terms[i];
      if (fold(t.shown).indexOf(query) >= 0 || fold(t.term).indexOf(query) >= 0) { near.push(t.shown); }
    }
    document.getElementById('term-title').textContent = input.value.trim() + ': not among the terms shown';
    var stats = document.getElementById('term-stats');
    stats.textContent = near.length ? 'Terms that contain it: ' : 'No term shown contains it.';
    near.forEach(function (term) { stats.appendChild(link(term)); stats.appendChild(document.createTextNode(' ')); });
    document.getElementById('term-chart').hidden = true;
    document.getElementById('term-collocates').textContent = '';
    document.getElementById('term-kwic').textContent = '';
  }
  input.addEventListener('input', lookup);
  if (data.terms.length) { setTimeout(function () { show(0); }, 0); }
})();
"""
