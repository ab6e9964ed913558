"""The standard charts of a run, drawn with matplotlib, with Chinese labels in a CJK font.

Every chart function takes an output folder (or the table it draws: a ``pyarrow.Table`` or a pandas
DataFrame) and returns a :class:`matplotlib.figure.Figure` on an Agg canvas. Nothing here touches
``pyplot``, so no window opens and no global state changes: ``fig.savefig(...)`` writes a file, and a
notebook shows the figure when it is the last expression of a cell.

matplotlib's default font, DejaVu Sans, has no Chinese glyphs: Chinese labels come out as empty boxes.
The charts use Noto Sans CJK (SIL Open Font License), which covers Simplified and Traditional Chinese.
It comes with the ``noto-cjk-sans-otc`` dependency and is registered with matplotlib's font manager
from the package's own file at run time; without it, a system font such as Debian's ``fonts-noto-cjk``
is used. :func:`use_cjk_font` sets the same font for an analyst's own plots.

Display scripts: ``display_script`` ('simplified' or 'traditional') converts the terms, titles and
labels a chart shows with OpenCC; the tables themselves are never changed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from kefu_corpus.errors import KefuError
from kefu_corpus import tablefiles
from kefu_corpus.store import display_forms, read_manifest, read_table, run_folder
from kefu_corpus.text.convert import convert

DISPLAY_SCRIPTS = ("simplified", "traditional")
_TO_SCRIPT = {"simplified": "t2s", "traditional": "s2t"}
#: Font families tried in order, the display script's own regional face first. Every Noto Sans CJK
#: face holds the glyphs of both scripts; the faces differ in regional glyph forms.
_FAMILIES = {
    "simplified": ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans CJK TC", "Source Han Sans TC",
                   "Noto Sans CJK JP", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback"),
    "traditional": ("Noto Sans CJK TC", "Source Han Sans TC", "Noto Sans CJK HK", "Noto Sans CJK SC",
                    "Source Han Sans SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
                    "Droid Sans Fallback"),
}
_SYSTEM_FILE_HINTS = ("notosanscjk", "sourcehansans", "wqy-zenhei", "wqy-microhei", "droidsansfallback")
_LATIN_FALLBACK = "DejaVu Sans"
_COLOURS = ("#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5", "#9c6b4e",
            "#9498a0")


# ---- the CJK font ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CjkFont:
    """The CJK font the charts use: its matplotlib family name, file and face index in the file."""

    family: str
    path: Path
    face_index: int


def _check_script(display_script: str, where: str) -> str:
    if display_script not in DISPLAY_SCRIPTS:
        raise KefuError(f"The 'display_script' parameter of {where} must be 'simplified' or 'traditional'. "
                        f"Got {display_script!r} instead.")
    return display_script


@lru_cache(maxsize=None)
def _register_fonts() -> None:
    """Register the packaged Noto Sans CJK with matplotlib, else CJK fonts of the system it has not seen."""
    from matplotlib import font_manager

    try:
        import noto_cjk_sans_otc
    except ImportError:
        noto_cjk_sans_otc = None
    if noto_cjk_sans_otc is not None and Path(str(noto_cjk_sans_otc.FONT_PATH)).is_file():
        font_manager.fontManager.addfont(str(noto_cjk_sans_otc.FONT_PATH))
        return
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    for fname in font_manager.findSystemFonts():
        if fname not in known and any(h in Path(fname).name.lower() for h in _SYSTEM_FILE_HINTS):
            try:
                font_manager.fontManager.addfont(fname)
            except (OSError, RuntimeError, ValueError):  # an unreadable font file is not ours to fix
                continue


def cjk_font(display_script: str = "simplified") -> CjkFont:
    """The CJK font for ``display_script``, registered with matplotlib.

    Raises
    ------
    KefuError
        When no CJK font is available, with the commands that install one.
    """
    from matplotlib import font_manager

    _check_script(display_script, "cjk_font")
    _register_fonts()
    names = {entry.name for entry in font_manager.fontManager.ttflist}
    for family in _FAMILIES[display_script]:
        if family in names:
            path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
            return CjkFont(family, Path(str(path)), int(getattr(path, "face_index", 0)))
    raise KefuError("No CJK font found: Chinese labels would be drawn as empty boxes.",
                    hint="pip install noto-cjk-sans-otc (a dependency of kefu-corpus), "
                         "or apt-get install fonts-noto-cjk")


def cjk_rc(display_script: str = "simplified") -> dict[str, Any]:
    """matplotlib rcParams that draw text in the CJK font, Latin glyphs it lacks in DejaVu Sans."""
    return {"font.family": [cjk_font(display_script).family, _LATIN_FALLBACK],
            "axes.titlelocation": "left", "axes.titlesize": "medium", "axes.spines.top": False,
            "axes.spines.right": False}


def use_cjk_font(display_script: str = "simplified") -> str:
    """Set the CJK font for every later matplotlib figure (for an analyst's own plots); returns its family."""
    import matplotlib

    rc = cjk_rc(display_script)
    matplotlib.rcParams.update(rc)
    return rc["font.family"][0]


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _finish(fig):
    """Lay out the figure while the font is set, so every text (tick labels too) keeps it when drawn later."""
    fig.draw_without_rendering()
    return fig


# ---- inputs ------------------------------------------------------------------------------------------

def _table(source: Any, name: str, columns: list[str] | None = None) -> pa.Table:
    """Table ``name`` of an output folder, or ``source`` itself when it is a table or a DataFrame."""
    if isinstance(source, (str, Path)):
        return read_table(Path(source), name, columns)
    if isinstance(source, pa.Table):
        table = source
    elif hasattr(source, "iloc") and hasattr(source, "columns"):  # a pandas DataFrame
        table = pa.Table.from_pandas(source, preserve_index=False)
    else:
        raise KefuError(f"Cannot read a {name} table from a {type(source).__name__}.",
                        hint="pass an output folder, a pyarrow.Table or a pandas DataFrame")
    missing = [c for c in (columns or []) if c not in table.column_names]
    if missing:
        raise KefuError(f"The {name} table given lacks the column(s) {', '.join(missing)}.",
                        hint=f"pass the {name} table of a run (see `kefu schema {name}`)")
    return table


def _folder(source: Any) -> Path | None:
    return Path(source) if isinstance(source, (str, Path)) else None


@lru_cache(maxsize=65536)
def shown(text: str | None, display_script: str = "simplified") -> str | None:
    """``text`` converted to ``display_script`` with OpenCC (a no-op on text already in that script)."""
    if not text:
        return text
    return convert(text, _TO_SCRIPT[_check_script(display_script, "shown")]).text


def term_forms(source: Any, display_script: str = "simplified") -> dict[str, str]:
    """``{term: form}``: how the corpus itself most often writes each term in ``display_script``
    (``term_forms.parquet`` of the output folder ``source``; empty for a table, or a run without it).
    :func:`shown_term` falls back to the converter for a term the corpus never writes in that script."""
    folder = _folder(source)
    if folder is None:
        return {}
    return _display_forms(str(run_folder(folder)), _check_script(display_script, "term_forms"))


@lru_cache(maxsize=8)
def _display_forms(folder: str, script: str) -> dict[str, str]:
    return display_forms(Path(folder) / "term_forms.parquet", script)  # a run folder never changes


def shown_term(term: str | None, display_script: str = "simplified", forms: dict[str, str] | None = None) -> str | None:
    """A term as the corpus writes it in ``display_script`` (``forms``, from :func:`term_forms`), else
    converted (:func:`shown`)."""
    if forms and term in forms:
        return forms[term]
    return shown(term, display_script)


def _empty(fig, ax, message: str):
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.set_axis_off()
    return fig


# ---- summaries behind the charts -----------------------------------------------------------------------

def term_slopes(source: Any, *, min_count: int = 5) -> pa.Table:
    """One row per term of ``term_trends``: its slope, p-value, evidence and total count, steepest first.

    Terms seen fewer than ``min_count`` times in all are left out. Sort by ``slope`` for the rising terms
    (positive) and the falling ones (negative); ``evidence`` 'thin' says the slope describes these
    documents, not a trend.
    """
    table = _table(source, "term_trends", ["term", "count", "slope", "p_value", "evidence", "year"])
    grouped = table.group_by("term", use_threads=False).aggregate([("count", "sum"), ("slope", "first"), ("p_value", "first"),
                                               ("evidence", "first"), ("year", "count")])
    grouped = grouped.rename_columns({"count_sum": "count", "slope_first": "slope", "p_value_first": "p_value",
                                      "evidence_first": "evidence", "year_count": "dated_years"})
    grouped = grouped.filter(pc.and_(pc.greater_equal(grouped["count"], min_count), pc.is_valid(grouped["slope"])))
    grouped = grouped.append_column("abs_slope", pc.abs(grouped["slope"]))
    grouped = grouped.sort_by([("abs_slope", "descending"), ("term", "ascending")]).drop_columns(["abs_slope"])
    return grouped.select(["term", "slope", "p_value", "evidence", "count", "dated_years"])


def rising_falling(source: Any, *, n: int = 10, min_count: int = 5) -> tuple[list[dict], list[dict]]:
    """The ``n`` steepest rising and ``n`` steepest falling terms (rows of :func:`term_slopes`)."""
    rows = term_slopes(source, min_count=min_count).to_pylist()
    rising = sorted((r for r in rows if r["slope"] > 0), key=lambda r: (-r["slope"], r["term"]))[:n]
    falling = sorted((r for r in rows if r["slope"] < 0), key=lambda r: (r["slope"], r["term"]))[:n]
    return rising, falling


def topic_labels(source: Any, *, n_terms: int = 3, display_script: str = "simplified") -> dict[int, str]:
    """'<topic_id>: term term term' for each topic, its heaviest terms in ``display_script``."""
    table = _table(source, "topics", ["topic_id", "rank", "term"]).sort_by([("topic_id", "ascending"),
                                                                             ("rank", "ascending")])
    forms = term_forms(source, display_script)
    labels: dict[int, list[str]] = {}
    for row in table.select(["topic_id", "term"]).to_pylist():
        terms = labels.setdefault(row["topic_id"], [])
        if len(terms) < n_terms:
            terms.append(shown_term(row["term"], display_script, forms))
    return {tid: f"{tid}: {' '.join(terms)}" for tid, terms in labels.items()}


def document_labels(source: Any, *, width: int = 16, display_script: str = "simplified",
                    ids: Any = None) -> dict[str, str]:
    """A short label per document: the first characters of its title (after the number of a numbered
    file, e.g. '002 客服人说 | 新年…'), else its source file name. ``ids`` (doc_ids) labels only those
    documents, read from an output folder with a filter: what a view that shows a few needs."""
    columns = ["doc_id", "source_path", "source_record", "title"]
    folder = _folder(source)
    if ids is not None and folder is not None:
        out = run_folder(folder)
        table = tablefiles.read_where(out / read_manifest(out)["tables"]["documents"]["file"], columns, "doc_id",
                                      ids)
    else:
        table = _table(source, "documents", columns)
    labels = {}
    for row in table.select(["doc_id", "source_path", "source_record", "title"]).to_pylist():
        title = shown(row["title"], display_script)
        name = Path(row["source_path"]).name + (f"#{row['source_record']}" if row["source_record"] else "")
        if title:
            label = title if len(title) <= width else title[:width - 1] + "…"
            number = re.match(r"\d+", name)  # numbered files keep their number: '002 title'
            labels[row["doc_id"]] = f"{number.group()} {label}" if number else label
        else:
            labels[row["doc_id"]] = name
    return labels


# ---- charts ------------------------------------------------------------------------------------------

def term_trends(source: Any, terms: Sequence[str] | None = None, *, n: int = 6, min_count: int = 5,
                display_script: str = "simplified"):
    """Rate per 10,000 tokens by year of ``terms`` (default: the ``n`` steepest rising and falling terms).

    Undated documents have no place on a time axis and are left out. The title says when the evidence
    is thin (few dated years or documents): the lines then describe these documents, not a trend.
    """
    _check_script(display_script, "term_trends")
    import matplotlib

    table = _table(source, "term_trends", ["term", "year", "count", "rate_per_10k", "slope", "p_value", "evidence"])
    if terms is None:
        rising, falling = rising_falling(table, n=max(1, n // 2), min_count=min_count)
        terms = [r["term"] for r in rising] + [r["term"] for r in falling]
    else:
        known = set(table["term"].to_pylist())
        terms = list(dict.fromkeys(  # a term in either script, each once
            next((c for c in (t, shown(t, "simplified"), shown(t, "traditional")) if c in known), t) for t in terms))
    dated = table.filter(pc.and_(pc.is_valid(table["year"]), pc.is_in(table["term"], pa.array(list(terms), pa.string()))))
    forms = term_forms(source, display_script)
    with matplotlib.rc_context(cjk_rc(display_script)):
        fig = _figure(8, 4.2)
        ax = fig.add_subplot()
        if dated.num_rows == 0:
            return _finish(_empty(fig, ax, "no dated occurrences of these terms"))
        rows = dated.sort_by([("year", "ascending")]).to_pylist()
        years = sorted({r["year"] for r in rows})
        for i, term in enumerate(terms):
            series = {r["year"]: r["rate_per_10k"] for r in rows if r["term"] == term}
            slope = next((r["slope"] for r in rows if r["term"] == term), None)
            ys = [series.get(y, 0.0) for y in years]
            style = "-" if slope is None or slope >= 0 else "--"
            label = shown_term(term, display_script, forms) + ("" if slope is None else f" ({slope:+.1f}/yr)")
            ax.plot(years, ys, style, marker="o", color=_COLOURS[i % len(_COLOURS)], label=label)
        ax.set_xticks(years, [str(y) for y in years])
        ax.set_ylabel("rate per 10,000 tokens")
        thin = "thin" in set(dated["evidence"].to_pylist())
        ax.set_title("Term trends by year" + (" (evidence thin: these documents, not a trend)" if thin else ""))
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        return _finish(fig)


def topic_prevalence(source: Any, *, topics: Any = None, n_terms: int = 3, display_script: str = "simplified"):
    """Mean weight of each topic by year (``topic_trends``), topics labelled by their heaviest terms.

    ``source`` is an output folder, or the ``topic_trends`` table with ``topics`` given for the labels.
    """
    _check_script(display_script, "topic_prevalence")
    import matplotlib

    table = _table(source, "topic_trends", ["year", "topic_id", "mean_weight"])
    label_source = topics if topics is not None else _folder(source)
    labels = ({} if label_source is None else
              topic_labels(label_source, n_terms=n_terms, display_script=display_script))
    dated = table.filter(pc.is_valid(table["year"])).sort_by([("year", "ascending")]).to_pylist()
    with matplotlib.rc_context(cjk_rc(display_script)):
        fig = _figure(8, 4.2)
        ax = fig.add_subplot()
        if not dated:
            return _finish(_empty(fig, ax, "no dated topic weights"))
        years = sorted({r["year"] for r in dated})
        for tid in sorted({r["topic_id"] for r in dated}):
            weights = {r["year"]: r["mean_weight"] for r in dated if r["topic_id"] == tid}
            ax.plot(years, [weights.get(y, 0.0) for y in years], marker="o", color=_COLOURS[tid % len(_COLOURS)],
                    label=labels.get(tid, f"topic {tid}"))
        ax.set_xticks(years, [str(y) for y in years])
        ax.set_ylim(0, None)
        ax.set_ylabel("mean topic weight")
        ax.set_title("Topic prevalence by year")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        return _finish(fig)


def _bar_panels(panels: list[tuple[str, list[str], list[float], str]], *, n: int, title: str, empty: str,
                display_script: str, forms: dict[str, str] | None = None):
    """A grid of horizontal bar charts, three to a row: one ``(title, labels, values, colour)`` per panel,
    the first bar on top."""
    import matplotlib

    cols = min(3, max(1, len(panels)))
    nrows = max(1, math.ceil(len(panels) / cols))
    with matplotlib.rc_context(cjk_rc(display_script)):
        fig = _figure(3.2 * cols, 0.32 * n * nrows + 0.9 * nrows)
        if not panels:
            return _finish(_empty(fig, fig.add_subplot(), empty))
        axes = fig.subplots(nrows, cols, squeeze=False)
        for ax, panel in zip(axes.flat, panels):
            name, labels, values, colour = panel
            positions = list(range(len(labels)))
            ax.barh(positions, values[::-1], color=colour)
            ax.set_yticks(positions, [shown_term(label, display_script, forms) for label in labels[::-1]])
            ax.set_title(name)
            ax.tick_params(axis="x", labelsize="small")
        for ax in list(axes.flat)[len(panels):]:
            ax.set_axis_off()
        fig.suptitle(title, x=0.02, ha="left", fontsize="medium")
        return _finish(fig)


def topic_terms(source: Any, *, n_terms: int = 8, display_script: str = "simplified"):
    """The heaviest terms of each topic, one bar panel per topic."""
    _check_script(display_script, "topic_terms")
    table = _table(source, "topics", ["topic_id", "rank", "term", "weight"])
    rows = table.filter(pc.less(table["rank"], n_terms)).sort_by([("topic_id", "ascending"),
                                                                  ("rank", "ascending")]).to_pylist()
    panels = []
    for tid in sorted({r["topic_id"] for r in rows}):
        terms = [r for r in rows if r["topic_id"] == tid]
        panels.append((f"topic {tid}", [r["term"] for r in terms], [r["weight"] for r in terms],
                       _COLOURS[tid % len(_COLOURS)]))
    return _bar_panels(panels, n=n_terms, title="Top terms per topic (weight)", empty="no topics in this run",
                       display_script=display_script, forms=term_forms(source, display_script))


def keyness(source: Any, *, years: Sequence[int] | None = None, n: int = 10, display_script: str = "simplified"):
    """The ``n`` terms most characteristic of each year against the rest of the corpus (signed G²)."""
    _check_script(display_script, "keyness")
    table = _table(source, "keyness", ["year", "term", "g2", "log_ratio"])
    table = table.filter(pc.greater(table["g2"], 0))
    if years is not None:
        table = table.filter(pc.is_in(table["year"], pa.array(list(years), type=table.schema.field("year").type)))
    rows = table.sort_by([("year", "ascending"), ("g2", "descending"), ("term", "ascending")]).to_pylist()
    panels = []
    for i, year in enumerate(sorted({r["year"] for r in rows})):
        top = [r for r in rows if r["year"] == year][:n]
        panels.append((str(year), [r["term"] for r in top], [r["g2"] for r in top], _COLOURS[i % len(_COLOURS)]))
    return _bar_panels(panels, n=n, title="Key terms of each year against the rest (G²)",
                       empty="no key terms (no dated years)", display_script=display_script,
                       forms=term_forms(source, display_script))


def quality_counts(out: Path | str, *, display_script: str = "simplified", top: int = 40) -> dict[str, Any]:
    """What the pipeline did to the ``top`` documents it acted on most (flagged passages, repairs and
    boilerplate spans together; ties in corpus order), aggregated by Arrow, not per row: so a chart of
    it costs the same for any corpus size. Returns ``labels``, ``kept``, ``duplicates`` (``{kind:
    counts}``), ``repairs``, ``boilerplate`` (``{category: counts}``), one value per document, and
    ``n_docs``, the documents in all."""
    import numpy as np

    out = run_folder(Path(out))
    docs = read_table(out, "documents", ["doc_id", "n_passages", "n_duplicate_passages", "n_repairs"])
    n_docs = docs.num_rows
    dups = read_table(out, "duplicates", ["doc_id", "passage_id", "kind"])
    dups = dups.filter(pc.is_valid(dups["passage_id"]))
    per_kind = dups.group_by(["doc_id", "kind"], use_threads=False).aggregate([("passage_id", "count_distinct")])
    boiler = read_table(out, "boilerplate", ["doc_id", "category"])
    per_category = boiler.group_by(["doc_id", "category"], use_threads=False).aggregate([("category", "count")])
    kinds = sorted(set(per_kind["kind"].to_pylist()))

    def counts(table: pa.Table, key: str, value: str, column: str) -> np.ndarray:
        """Per document (in ``docs`` order), the count where ``key`` is ``value``."""
        rows = table.filter(pc.equal(table[key], value))
        out_ = np.zeros(n_docs, np.int64)
        at = pc.index_in(rows["doc_id"], docs["doc_id"]).to_numpy(zero_copy_only=False)
        np.add.at(out_, at, rows[column].to_numpy(zero_copy_only=False))
        return out_

    dup_counts = {kind: counts(per_kind, "kind", kind, "passage_id_count_distinct") for kind in kinds}
    bp_counts = {c: counts(per_category, "category", c, "category_count") for c in ("metadata", "furniture")}
    flagged = pc.fill_null(docs["n_duplicate_passages"], 0).to_numpy(zero_copy_only=False)
    repairs = pc.fill_null(docs["n_repairs"], 0).to_numpy(zero_copy_only=False)
    acted = flagged + repairs + sum(bp_counts.values())
    chosen = np.sort(np.argsort(-acted, kind="stable")[:top])
    ids = [docs["doc_id"][int(i)].as_py() for i in chosen]
    labels = document_labels(out, display_script=display_script, ids=ids)
    n_passages = docs["n_passages"].to_numpy(zero_copy_only=False)[chosen]
    return {"labels": [labels[i] for i in ids], "kept": (n_passages - flagged[chosen]).tolist(),
            "duplicates": {kind: dup_counts[kind][chosen].tolist() for kind in kinds},
            "repairs": repairs[chosen].tolist(),
            "boilerplate": {c: bp_counts[c][chosen].tolist() for c in ("metadata", "furniture")},
            "n_docs": n_docs}


def quality_summary(out: Path | str, *, display_script: str = "simplified", top: int = 40):
    """What the pipeline did to each document: passages kept and flagged as duplicates (by kind), damaged
    runs repaired, and boilerplate spans separated (metadata and furniture).

    At most ``top`` documents are drawn, those the pipeline acted on most (:func:`quality_counts`), so
    the chart costs the same for any corpus size; the title says how many documents there are in all.
    """
    _check_script(display_script, "quality_summary")
    import matplotlib
    import numpy as np

    q = quality_counts(out, display_script=display_script, top=top)
    n_docs, shown_docs = q["n_docs"], len(q["labels"])
    with matplotlib.rc_context(cjk_rc(display_script)):
        fig = _figure(10, 0.45 * shown_docs + 2.0)
        if not n_docs:
            return _finish(_empty(fig, fig.add_subplot(), "no documents in this run"))
        ax_dup, ax_rep, ax_bp = fig.subplots(1, 3, sharey=True, width_ratios=[2.2, 1, 1.4])
        positions = list(range(shown_docs))[::-1]
        left = np.asarray(q["kept"])
        ax_dup.barh(positions, left, color="#9498a0", label="kept")
        for i, (kind, widths) in enumerate(q["duplicates"].items()):
            ax_dup.barh(positions, widths, left=left, color=_COLOURS[(i + 2) % len(_COLOURS)],
                        label=f"duplicate: {kind}")
            left = left + np.asarray(widths)
        ax_dup.set_yticks(positions, q["labels"])
        ax_dup.set_title("Passages: kept and duplicate")
        ax_dup.legend(loc="upper left", bbox_to_anchor=(0, -0.08), ncols=2, fontsize="small", frameon=False)
        ax_rep.barh(positions, q["repairs"], color=_COLOURS[2])
        ax_rep.set_title("Mojibake runs repaired")
        left = np.zeros(shown_docs, np.int64)
        for category, colour in (("metadata", _COLOURS[0]), ("furniture", _COLOURS[1])):
            widths = np.asarray(q["boilerplate"][category], np.int64)
            ax_bp.barh(positions, widths, left=left, color=colour, label=category)
            left = left + widths
        ax_bp.set_title("Boilerplate spans")
        ax_bp.legend(loc="upper left", bbox_to_anchor=(0, -0.08), ncols=2, fontsize="small", frameon=False)
        for ax in (ax_dup, ax_rep, ax_bp):
            ax.xaxis.get_major_locator().set_params(integer=True)
        if shown_docs < n_docs:
            fig.suptitle(f"The {shown_docs} documents the pipeline acted on most, of {n_docs:,}", x=0.02,
                         ha="left", fontsize="medium")
        return _finish(fig)


def figure_png(fig, *, dpi: int = 110) -> bytes:
    """The figure as PNG bytes (for embedding in HTML)."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
