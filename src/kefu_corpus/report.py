"""A run summarised in one self-contained HTML file: corpus, quality actions, topics, trends and keyness.

The file needs nothing but a browser: charts are embedded PNGs, the tables are sorted (click a column
head) and searched (the box above each table) by a few lines of inline JavaScript, and the Chinese text
is set in a subset of Noto Sans CJK embedded in the page, so it renders on machines without a CJK font.
Nothing is fetched from the network.

``display_script`` ('simplified' or 'traditional') converts the terms and document metadata shown with
OpenCC. Evidence quoted from the texts (damaged and repaired runs, duplicate passages, boilerplate
spans) stays as it stands in the source.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from kefu_corpus import __version__, plots, tablefiles
from kefu_corpus.errors import KefuError
from kefu_corpus.store import read_manifest, read_passages, read_table, run_folder

log = logging.getLogger(__name__)

#: Sections of the report, in order: anchor and heading.
SECTIONS = (("corpus", "Corpus"), ("quality", "Quality actions"), ("keywords", "Keywords"), ("topics", "Topics"),
            ("trends", "Trends"), ("keyness", "Keyness by year"))
_FONT_FAMILY = "KefuCJK"


def write_report(out_dir: Path, path: Path, *, display_script: str | None = None, max_rows: int = 500) -> Path:
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

    Raises
    ------
    KefuError
        When ``out_dir`` is not the output folder of a run, or ``path`` cannot be written.
    """
    page = render_report(Path(out_dir), display_script=display_script, max_rows=max_rows)
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise KefuError(f"Cannot write the report to {path}: {exc.strerror}.", hint="choose another -o FILE") from exc
    return path


def render_report(out_dir: Path, *, display_script: str | None = None, max_rows: int = 500) -> str:
    """The HTML text of the report (see :func:`write_report`)."""
    if display_script is None:
        display_script = read_manifest(run_folder(Path(out_dir))).get("display_script", "simplified")
    if display_script not in plots.DISPLAY_SCRIPTS:
        raise KefuError("The 'display_script' parameter of write_report must be 'simplified' or 'traditional'. "
                        f"Got {display_script!r} instead.")
    if not isinstance(max_rows, int) or max_rows < 1:
        raise KefuError(f"The 'max_rows' parameter of write_report must be an int >= 1. Got {max_rows!r} instead.")
    out_dir = run_folder(Path(out_dir))  # one run, even if another commits meanwhile
    manifest = read_manifest(out_dir)
    tables = manifest.get("tables", {})
    if "documents" not in tables or not tablefiles.exists(out_dir / "documents.parquet"):
        raise KefuError(f"{out_dir} holds no documents table: there is nothing to report.",
                        hint="run `kefu run` into this folder first")
    builder = _Report(out_dir, manifest, display_script, max_rows)
    body = "\n".join(section() for section in (builder.corpus, builder.quality, builder.keywords, builder.topics,
                                                builder.trends, builder.keyness))
    return builder.page(body)


# ---- HTML pieces -------------------------------------------------------------------------------------

def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


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
           formats: dict[str, str] | None = None) -> str:
    """A sortable, searchable table of ``rows``: ``columns`` are (key, heading) pairs."""
    formats = {"year": "d", **(formats or {})}
    shown = rows[:max_rows]
    note = (f" <span class=\"cut\">showing the first {len(shown):,} of {len(rows):,} rows</span>"
            if len(rows) > len(shown) else f" <span class=\"count\">{len(rows):,} row(s)</span>")
    head = "".join(f'<th scope="col" title="click to sort">{_esc(h)}</th>' for _, h in columns)
    body = "\n".join("<tr>" + "".join(_cell(r.get(k), formats.get(k)) for k, _ in columns) + "</tr>" for r in shown)
    return (f'<div class="table"><div class="tools"><strong>{_esc(caption)}</strong>{note}'
            f'<input type="search" class="filter" placeholder="Search this table" aria-label="Search {_esc(caption)}">'
            f'</div><table class="data"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></div>')


def _figure(fig: Any, alt: str) -> str:
    data = base64.b64encode(plots.figure_png(fig)).decode("ascii")
    return f'<figure><img alt="{_esc(alt)}" src="data:image/png;base64,{data}"></figure>'


def _facts(items: Iterable[tuple[str, Any]]) -> str:
    return '<dl class="facts">' + "".join(f"<div><dt>{_esc(k)}</dt><dd>{_esc(v)}</dd></div>" for k, v in items) + "</dl>"


def _missing(what: str, stage: str) -> str:
    return f'<p class="missing">No {_esc(what)} in this run: run <code>kefu {stage}</code> on the folder.</p>'


def _year(value: Any) -> Any:
    return "undated" if value is None else value


class _Report:
    def __init__(self, out: Path, manifest: dict, display_script: str, max_rows: int) -> None:
        self.out = out
        self.manifest = manifest
        self.script = display_script
        self.max_rows = max_rows
        self.has = set(manifest.get("tables", {}))
        self.labels = plots.document_labels(out, width=24, display_script=display_script)
        self.forms = plots.term_forms(out, display_script)
        years = tablefiles.read(out / "documents.parquet", columns=["year"]).column("year") \
            if "documents" in self.has else pa.chunked_array([], pa.int16())
        self.n_docs, self.n_dated = len(years), len(years) - years.null_count

    def undated(self, view: str) -> str | None:
        """Why a view over years is empty when no document has a date (None when some have)."""
        if self.n_dated:
            return None
        return (f'<p class="note">No document of the {self.n_docs} has a date, so there is no {view}: a '
                "time view needs each document's year. Dates come from a date line in the text, a "
                "<code>date</code> field of a corpus file's records, or the <code>date</code> column of "
                "<code>metadata.csv</code> (see the README, <em>Ingest</em>); the views that do not need "
                "dates are below and in the other sections.</p>")

    def shown(self, text: str | None) -> str | None:
        return plots.shown(text, self.script)

    def term(self, term: str | None) -> str | None:
        """A term as the corpus writes it in the display script (the converter only for one it never does)."""
        return plots.shown_term(term, self.script, self.forms)

    def chart(self, draw: Callable[[], Any], alt: str) -> str:
        return _figure(draw(), alt)

    # ---- sections ----

    def corpus(self) -> str:
        docs = read_table(self.out, "documents").drop_columns(["text"]).to_pylist()
        for d in docs:
            for key in ("title", "author", "publication"):
                d[key] = self.shown(d[key])
        n_passages = self.manifest.get("tables", {}).get("passages", {}).get("rows")
        n_tokens = self.manifest.get("tables", {}).get("tokens", {}).get("rows")
        years = sorted({d["year"] for d in docs if d["year"] is not None})
        by_script: dict[str, int] = {}
        by_year: dict[Any, dict] = {}
        for d in docs:
            by_script[d["script"] or "not normalised"] = by_script.get(d["script"] or "not normalised", 0) + 1
            y = by_year.setdefault(_year(d["year"]), {"year": _year(d["year"]), "documents": 0, "passages": 0,
                                                       "characters": 0})
            y["documents"] += 1
            y["passages"] += d["n_passages"]
            y["characters"] += d["n_chars"]
        facts = _facts([("documents", len(docs)), ("passages", n_passages if n_passages is not None else "–"),
                        ("tokens", n_tokens if n_tokens is not None else "–"),
                        ("years", f"{years[0]}–{years[-1]}" if years else "none dated"),
                        ("undated documents", sum(1 for d in docs if d["year"] is None))])
        scripts = _table([{"script": k, "documents": v} for k, v in sorted(by_script.items())],
                         [("script", "script"), ("documents", "documents")], caption="Documents by script",
                         max_rows=self.max_rows)
        year_rows = sorted(by_year.values(), key=lambda r: (isinstance(r["year"], str), str(r["year"])))
        per_year = _table(year_rows, [("year", "year"), ("documents", "documents"), ("passages", "passages"),
                                      ("characters", "characters")], caption="Documents by year",
                          max_rows=self.max_rows)
        documents = _table(docs, [("source_path", "file"), ("title", "title"),
                                  ("date", "date"), ("date_precision", "precision"), ("year", "year"),
                                  ("author", "author"), ("publication", "publication"), ("script", "script"),
                                  ("encoding", "encoding"), ("n_chars", "characters"), ("n_passages", "passages"),
                                  ("n_boilerplate", "boilerplate"), ("n_repairs", "repairs"),
                                  ("n_duplicate_passages", "duplicate passages"), ("doc_id", "doc_id")],
                           caption="Documents", max_rows=self.max_rows)
        return self.section("corpus", facts + '<div class="pair">' + scripts + per_year + "</div>" + documents)

    def quality(self) -> str:
        parts = []
        if {"duplicates", "boilerplate"} <= self.has:
            parts.append(self.chart(lambda: plots.quality_summary(self.out, display_script=self.script),
                                    "Passages kept and flagged as duplicates, repairs and boilerplate per document"))
        if "repairs" in self.has:
            repairs = read_table(self.out, "repairs").to_pylist()
            for r in repairs:
                r["document"] = self.labels.get(r["doc_id"], r["doc_id"])
            parts.append(_table(repairs, [("document", "document"), ("passage_id", "passage"), ("start", "start"),
                                          ("end", "end"), ("damaged", "damaged run"), ("repaired", "read as"),
                                          ("confidence", "confidence"), ("gain", "gain (nats)"),
                                          ("method", "method")],
                                caption="Mojibake repairs", max_rows=self.max_rows,
                                formats={"start": "d", "end": "d", "confidence": ".3f", "gain": ".1f"}))
        else:
            parts.append(_missing("repairs", "normalise"))
        if "duplicates" in self.has:
            dups = read_table(self.out, "duplicates").to_pylist()
            passages = read_passages(self.out, ["passage_id", "text_normalised", "text"], include_duplicates=True)
            flagged = {r["passage_id"] for r in dups if r["passage_id"]}
            passages = passages.filter(pc.is_in(passages["passage_id"], _string_array(flagged))).to_pylist()
            texts = {p["passage_id"]: p["text_normalised"] or p["text"] for p in passages}
            kinds: dict[str, int] = {}
            for r in dups:
                kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
                r["document"] = self.labels.get(r["doc_id"], r["doc_id"])
                r["kept_document"] = self.labels.get(r["kept_doc_id"], r["kept_doc_id"])
                text = texts.get(r["passage_id"]) or ""
                r["text"] = text if len(text) <= 60 else text[:59] + "…"
            parts.append(_facts([(f"duplicates: {k}", v) for k, v in sorted(kinds.items())] or
                                [("duplicates", 0)]))
            parts.append(_table(dups, [("document", "document"), ("passage_id", "passage"), ("kind", "kind"),
                                       ("text", "flagged text"), ("kept_document", "kept in"),
                                       ("kept_passage_id", "kept passage"), ("similarity", "similarity"),
                                       ("method", "method")],
                                caption="Duplicates", max_rows=self.max_rows, formats={"similarity": ".2f"}))
        else:
            parts.append(_missing("duplicates", "dedup"))
        boiler = read_table(self.out, "boilerplate").to_pylist() if "boilerplate" in self.has else []
        counts: dict[tuple[str, str], int] = {}
        for r in boiler:
            counts[(r["category"], r["kind"])] = counts.get((r["category"], r["kind"]), 0) + 1
            r["document"] = self.labels.get(r["doc_id"], r["doc_id"])
        parts.append('<div class="pair">' + _table(
            [{"category": c, "kind": k, "spans": n} for (c, k), n in sorted(counts.items())],
            [("category", "category"), ("kind", "kind"), ("spans", "spans")], caption="Boilerplate by kind",
            max_rows=self.max_rows) + "</div>")
        parts.append(_table(boiler, [("document", "document"), ("category", "category"), ("kind", "kind"),
                                     ("rule", "rule"), ("start", "start"), ("end", "end"), ("text", "text")],
                            caption="Boilerplate spans", max_rows=self.max_rows,
                            formats={"start": "d", "end": "d"}))
        return self.section("quality", "\n".join(parts))

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
        parts.append(self.chart(lambda: plots.topic_terms(self.out, display_script=self.script), "Top terms per topic"))
        parts.append(self.undated("topic prevalence by year")
                     or self.chart(lambda: plots.topic_prevalence(self.out, display_script=self.script),
                                   "Topic prevalence by year"))
        topics = read_table(self.out, "topics").sort_by([("topic_id", "ascending"), ("rank", "ascending")]).to_pylist()
        per_topic: dict[int, list[str]] = {}
        for r in topics:
            per_topic.setdefault(r["topic_id"], []).append(self.term(r["term"]))
        parts.append(_table([{"topic_id": t, "terms": " ".join(terms)} for t, terms in per_topic.items()],
                            [("topic_id", "topic"), ("terms", "top terms, heaviest first")], caption="Topics",
                            max_rows=self.max_rows))
        labels = plots.topic_labels(self.out, display_script=self.script)
        trends = read_table(self.out, "topic_trends").to_pylist()
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
        slopes = plots.term_slopes(self.out, min_count=1).to_pylist()
        for r in slopes:
            r["term"] = self.term(r["term"])
        frequent = [r for r in slopes if r["count"] >= 5]
        rising = sorted((r for r in frequent if r["slope"] > 0), key=lambda r: (-r["slope"], r["term"]))[:15]
        falling = sorted((r for r in frequent if r["slope"] < 0), key=lambda r: (r["slope"], r["term"]))[:15]
        thin = any(r["evidence"] == "thin" for r in slopes)
        cols = [("term", "term"), ("slope", "slope (per 10k tokens / year)"), ("p_value", "p"),
                ("evidence", "evidence"), ("count", "count")]
        fmt = {"slope": "+.2f", "p_value": ".3f"}
        parts = []
        note = self.undated("trend of terms by year")
        if note:
            return self.section("trends", note)
        if thin:
            parts.append('<p class="note">Evidence is <strong>thin</strong>: too few dated years or documents per '
                         "year. The slopes describe these documents, not a trend.</p>")
        parts.append(self.chart(lambda: plots.term_trends(self.out, display_script=self.script), "Term trends by year"))
        parts.append('<div class="pair">'
                     + _table(rising, cols, caption="Rising terms (count ≥ 5)", max_rows=self.max_rows, formats=fmt)
                     + _table(falling, cols, caption="Falling terms (count ≥ 5)", max_rows=self.max_rows,
                              formats=fmt) + "</div>")
        parts.append(_table(slopes, cols + [("dated_years", "dated years")], caption="All terms, steepest first",
                            max_rows=self.max_rows, formats=fmt))
        return self.section("trends", "\n".join(parts))

    def keywords(self) -> str:
        if "keywords" not in self.has:
            return self.section("keywords", _missing("keywords", "trends"))
        table = read_table(self.out, "keywords").sort_by([("doc_id", "ascending"), ("method", "ascending"),
                                                          ("rank", "ascending")])
        grouped: dict[tuple[str, str], list[str]] = {}
        for r in table.to_pylist():
            grouped.setdefault((r["doc_id"], r["method"]), []).append(self.term(r["term"]))
        rows = [{"document": self.labels.get(doc, doc), "method": method, "keywords": " ".join(terms)}
                for (doc, method), terms in sorted(grouped.items(), key=lambda kv: (self.labels.get(kv[0][0], ""),
                                                                                     kv[0][1]))]
        note = ('<p class="note">Top terms of each document by TF-IDF (with this corpus\'s IDF) and by TextRank '
                "(PageRank over the document's co-occurrence graph), strongest first.</p>")
        return self.section("keywords", note + _table(rows, [("document", "document"), ("method", "method"),
                                                             ("keywords", "keywords")],
                                                      caption="Keywords per document", max_rows=self.max_rows))

    def keyness(self) -> str:
        if "keyness" not in self.has:
            return self.section("keyness", _missing("keyness", "trends"))
        note = self.undated("keyness of a year against the others")
        if note:
            return self.section("keyness", note)
        table = read_table(self.out, "keyness")
        table = table.filter(pc.greater(table["g2"], 0)).sort_by([("year", "ascending"), ("g2", "descending"),
                                                                  ("term", "ascending")])
        rows, seen = [], {}
        for r in table.to_pylist():
            seen[r["year"]] = seen.get(r["year"], 0) + 1
            if seen[r["year"]] <= 25:
                r["term"] = self.term(r["term"])
                rows.append(r)
        parts = [self.chart(lambda: plots.keyness(self.out, display_script=self.script), "Key terms of each year"),
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
        font_css = _font_face(header + body, self.script)
        return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                f"<title>kefu-corpus report: {_esc(self.out.name)}</title>\n<style>\n{font_css}{_CSS}</style>\n"
                f"</head>\n<body>\n{header}\n<main>\n{body}\n</main>\n<script>\n{_JS}</script>\n</body>\n</html>\n")


def _string_array(values: Iterable[str]):
    import pyarrow as pa

    return pa.array(sorted(values), type=pa.string())


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
.run { color: var(--muted); margin: 0 0 8px; }
nav a { margin-right: 16px; color: var(--accent); text-decoration: none; }
code { background: var(--band); padding: 0 4px; border-radius: 3px; }
.facts { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.facts div { background: var(--band); border-radius: 6px; padding: 8px 14px; }
.facts dt { color: var(--muted); font-size: 0.8rem; }
.facts dd { margin: 0; font-size: 1.2rem; font-weight: 600; }
figure { margin: 16px 0; }
figure img { max-width: 100%; height: auto; }
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
"""

_JS = """
(function () {
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
      var query = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(body.rows, function (row) {
        row.hidden = query !== '' && row.textContent.toLowerCase().indexOf(query) < 0;
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
})();
"""
