"""Interactive charts for the HTML report: Plotly figure specifications as plain data.

Each function returns ``{"data": [...], "layout": {...}}``, the JSON a Plotly.js ``newPlot`` call takes;
the report embeds plotly.js itself (:func:`plotly_js`, from the ``plotly`` package) once, so the charts
hover, zoom and hide a series on a legend click with no network. The data are the aggregates the PNG
charts of :mod:`kefu_corpus.plots` draw, capped the same way.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

#: The report's palette (the PNG charts use the same; Observable's ten categorical colours).
COLOURS = ("#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5", "#9c6b4e",
           "#9498a0")
FONT = '"KefuCJK", "Noto Sans CJK SC", "Noto Sans CJK TC", "Source Han Sans SC", "PingFang SC", sans-serif'
#: Plotly's options for every chart: no logo, no link out, the PNG download button kept.
CONFIG = {"displaylogo": False, "responsive": True, "showLink": False, "showSendToCloud": False}


def plotly_js() -> str:
    """The minified plotly.js bundle the ``plotly`` package ships, inlined into the page."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _layout(title: str, height: int, **extra: Any) -> dict:
    layout = {"title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}},
              "height": height, "margin": {"l": 60, "r": 20, "t": 48, "b": 48},
              "font": {"family": FONT, "size": 12}, "paper_bgcolor": "#ffffff", "plot_bgcolor": "#ffffff",
              "hoverlabel": {"font": {"family": FONT}}, "legend": {"itemclick": "toggle",
                                                                   "itemdoubleclick": "toggleothers"}}
    layout.update(extra)
    return layout


def _axis(**extra: Any) -> dict:
    return {"gridcolor": "#eef1f4", "zeroline": False, "automargin": True, **extra}


def _year_axis(years: Sequence[int]) -> dict:
    return _axis(title={"text": "year"}, tickmode="array", tickvals=list(years), ticktext=[str(y) for y in years])


def documents_by_year(years: Sequence[int], documents: Sequence[int], undated: int) -> dict:
    """Bars: documents per dated year (the undated count is in the title)."""
    title = "Documents by year" + (f" ({undated:,} undated, not shown)" if undated else "")
    return {"data": [{"type": "bar", "x": list(years), "y": list(documents), "marker": {"color": COLOURS[0]},
                      "name": "documents", "hovertemplate": "%{x}: %{y:,} documents<extra></extra>"}],
            "layout": _layout(title, 300, xaxis=_year_axis(years), yaxis=_axis(title={"text": "documents"}))}


def quality(summary: dict) -> dict:
    """Stacked bars per document (those the pipeline acted on most): passages kept and flagged by kind,
    repaired runs, boilerplate spans by category (:func:`kefu_corpus.plots.quality_counts`)."""
    labels = summary["labels"]
    y = list(range(len(labels)))[::-1]
    data = [{"type": "bar", "orientation": "h", "y": y, "x": summary["kept"], "name": "passages kept",
             "marker": {"color": "#9498a0"}, "xaxis": "x", "yaxis": "y", "legendgroup": "passages",
             "hovertemplate": "%{text}: %{x} kept<extra></extra>", "text": labels, "textposition": "none"}]
    for i, (kind, values) in enumerate(summary["duplicates"].items()):
        data.append({"type": "bar", "orientation": "h", "y": y, "x": values, "name": f"duplicate: {kind}",
                     "marker": {"color": COLOURS[(i + 2) % len(COLOURS)]}, "xaxis": "x", "yaxis": "y",
                     "text": labels, "textposition": "none", "legendgroup": "passages",
                     "hovertemplate": f"%{{text}}: %{{x}} {kind}<extra></extra>"})
    data.append({"type": "bar", "orientation": "h", "y": y, "x": summary["repairs"], "name": "mojibake runs repaired",
                 "marker": {"color": COLOURS[2]}, "xaxis": "x2", "yaxis": "y", "text": labels, "textposition": "none",
                 "hovertemplate": "%{text}: %{x} repaired<extra></extra>"})
    for category, colour in (("metadata", COLOURS[0]), ("furniture", COLOURS[1])):
        data.append({"type": "bar", "orientation": "h", "y": y, "x": summary["boilerplate"][category],
                     "name": f"boilerplate: {category}", "marker": {"color": colour}, "xaxis": "x3", "yaxis": "y",
                     "text": labels, "textposition": "none",
                     "hovertemplate": f"%{{text}}: %{{x}} {category} span(s)<extra></extra>"})
    n = summary["n_docs"]
    title = ("What the pipeline did to each document" if len(labels) >= n else
             f"The {len(labels)} documents the pipeline acted on most, of {n:,}")
    layout = _layout(title, 140 + 22 * max(len(labels), 3), barmode="stack",
                     yaxis=_axis(tickmode="array", tickvals=y, ticktext=labels),
                     xaxis=_axis(domain=[0, 0.46], title={"text": "passages"}),
                     xaxis2=_axis(domain=[0.5, 0.7], title={"text": "repaired runs"}, anchor="y"),
                     xaxis3=_axis(domain=[0.74, 1.0], title={"text": "boilerplate spans"}, anchor="y"),
                     legend={"orientation": "h", "y": -0.12 if len(labels) > 10 else -0.3})
    layout["margin"] = {"l": 200, "r": 20, "t": 48, "b": 80}
    return {"data": data, "layout": layout}


def _panels(panels: list[tuple[str, list[str], list[float], str]], *, title: str, value: str, cols: int = 3,
            bars: int = 10) -> dict:
    """Small multiples of horizontal bars, ``cols`` to a row: one ``(name, labels, values, colour)`` each,
    the first bar on top."""
    cols = max(1, min(cols, len(panels)))
    rows = max(1, math.ceil(len(panels) / cols))
    gap_x, gap_y = 0.09, 0.6 / max(rows, 1) * 0.25
    height_row = 60 + 20 * bars
    layout = _layout(title, 60 + height_row * rows, showlegend=False)
    annotations, data = [], []
    for i, (name, labels, values, colour) in enumerate(panels):
        r, c = divmod(i, cols)
        x0 = c / cols + (gap_x / 2 if c else 0)
        x1 = (c + 1) / cols - (gap_x / 2 if c < cols - 1 else 0)
        y1 = 1 - r / rows - (gap_y if r else 0)
        y0 = 1 - (r + 1) / rows + gap_y
        ax = "" if i == 0 else str(i + 1)
        layout[f"xaxis{ax}"] = _axis(domain=[x0, x1], anchor=f"y{ax}")
        layout[f"yaxis{ax}"] = _axis(domain=[y0, y1], anchor=f"x{ax}", autorange="reversed")
        data.append({"type": "bar", "orientation": "h", "x": list(values), "y": list(labels), "name": name,
                     "marker": {"color": colour}, "xaxis": f"x{ax}", "yaxis": f"y{ax}",
                     "hovertemplate": f"{name}: %{{y}} %{{x:.3g}} {value}<extra></extra>"})
        annotations.append({"text": f"<b>{name}</b>", "x": (x0 + x1) / 2, "y": y1, "xref": "paper", "yref": "paper",
                            "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 12}})
    layout["annotations"] = annotations
    layout["margin"] = {"l": 70, "r": 20, "t": 60, "b": 30}
    return {"data": data, "layout": layout}


def topic_terms(panels: list[tuple[str, list[str], list[float], str]]) -> dict:
    """The heaviest terms of each topic, one panel per topic."""
    return _panels(panels, title="Top terms per topic (weight)", value="weight", bars=max(
        (len(p[1]) for p in panels), default=8))


def keyness(panels: list[tuple[str, list[str], list[float], str]]) -> dict:
    """The key terms of each year, one panel per year (G²)."""
    return _panels(panels, title="Key terms of each year against the rest (G²)", value="G²",
                   bars=max((len(p[1]) for p in panels), default=10))


def lines_by_year(series: list[tuple[str, list[int], list[float], str]], *, title: str, y_title: str,
                  value_format: str = ".3g") -> dict:
    """One line per ``(name, years, values, dash)``: topics over time, term rates over time. A legend
    click hides a line; a double click shows it alone."""
    years = sorted({y for _, ys, _, _ in series for y in ys})
    data = [{"type": "scatter", "mode": "lines+markers", "x": ys, "y": values, "name": name,
             "line": {"color": COLOURS[i % len(COLOURS)], "dash": dash},
             "hovertemplate": f"{name}<br>%{{x}}: %{{y:{value_format}}}<extra></extra>"}
            for i, (name, ys, values, dash) in enumerate(series)]
    return {"data": data, "layout": _layout(title, 420, xaxis=_year_axis(years),
                                            yaxis=_axis(title={"text": y_title}, rangemode="tozero"),
                                            hovermode="closest")}


def topic_map(labels: list[str], x: list[float], y: list[float], prevalence: list[float],
              hover: list[str]) -> dict:
    """Topics as circles placed by the distances between their term distributions, their area the
    topic's prevalence (LDAvis's intertopic distance map)."""
    top = max(prevalence) if prevalence else 1.0
    size = [12 + 60 * math.sqrt(p / top) if top > 0 else 20 for p in prevalence]
    data = [{"type": "scatter", "mode": "markers+text", "x": [xi], "y": [yi], "name": label, "text": [label.split(":")[0]],
             "textposition": "middle center", "textfont": {"color": "#ffffff", "size": 12},
             "marker": {"size": [s], "color": COLOURS[i % len(COLOURS)], "opacity": 0.75,
                        "line": {"color": "#ffffff", "width": 1}},
             "hovertext": [h], "hoverinfo": "text"}
            for i, (label, xi, yi, s, h) in enumerate(zip(labels, x, y, size, hover))]
    layout = _layout("Intertopic distance map (Jensen-Shannon distance, principal coordinates; area: prevalence)",
                     480, xaxis=_axis(title={"text": "PC1"}, zeroline=True, zerolinecolor="#d1d9e0"),
                     yaxis=_axis(title={"text": "PC2"}, zeroline=True, zerolinecolor="#d1d9e0", scaleanchor="x"),
                     hovermode="closest")
    return {"data": data, "layout": layout}
