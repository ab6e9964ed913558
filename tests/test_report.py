"""The HTML report: one self-contained file with every section, searchable tables, both display scripts."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fontTools.ttLib import TTFont
from markupsafe import escape

from kefu_corpus import tablefiles
from kefu_corpus.errors import KefuError
from kefu_corpus.report import SECTIONS, TEMPLATES, write_report
from kefu_corpus.store import run_folder

from conftest import read

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: A document title made of markup: the report shows it as text, in a table cell and in the JSON the term
#: explorer reads, and nothing in it ends an element or opens a comment.
HOSTILE = "</script><b>x</b> <!-- & \"q\" 's"
SEED_TITLE = "新世代客户服务岗位的价值发展与转型"  # 000's title


@pytest.fixture(scope="module")
def report_files(seed_run, tmp_path_factory) -> dict[str, Path]:
    out, _ = seed_run
    folder = tmp_path_factory.mktemp("report")
    return {script: write_report(out, folder / f"{script}.html", display_script=script)
            for script in ("simplified", "traditional")}


@pytest.fixture(scope="module")
def hostile_report(seed_run, tmp_path_factory) -> Path:
    """The report of a copy of the seeds' run in which 000's title is :data:`HOSTILE`."""
    out, _ = seed_run
    run = tmp_path_factory.mktemp("hostile") / "run"
    shutil.copytree(run_folder(out), run)
    documents = run / "documents.parquet"
    table = tablefiles.read(documents)
    titles = table.column("title").to_pylist()
    titles[titles.index(SEED_TITLE)] = HOSTILE
    field = table.schema.field("title")
    table = table.set_column(table.schema.get_field_index("title"), field, pa.array(titles, field.type))
    shutil.rmtree(documents) if documents.is_dir() else documents.unlink()
    pq.write_table(table, documents)
    return write_report(run, run.parent / "report.html", display_script="simplified")


@pytest.fixture(scope="module")
def reports(report_files) -> dict[str, str]:
    return {script: path.read_text(encoding="utf-8") for script, path in report_files.items()}


def embedded(page: str, element: str):
    """The JSON data of the page's ``<script type="application/json" id=element>``."""
    match = re.search(rf'<script type="application/json" id="{element}">(.*?)</script>', page, re.S)
    assert match, f"no {element} in the page"
    return json.loads(match.group(1))


def section(page: str, anchor: str) -> str:
    match = re.search(rf'<section id="{anchor}">(.*?)</section>', page, re.S)
    assert match, f"no section {anchor}"
    return match.group(1)


def visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]*"', "", page))


@pytest.mark.parametrize("script", ["simplified", "traditional"])
def test_the_report_is_self_contained(reports, script):
    # plotly.js names web addresses (its logo's link, map tiles) that the page never uses; the browser
    # test below checks that nothing is fetched at all.
    page = re.sub(r'<script type="text/plain" id="plotly-src">.*?</script>', "", reports[script], flags=re.S)
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"url\(\s*[\"']?(?:https?:)?//", page, re.I)
    assert not re.search(r"@import|<link\b|<script\b[^>]*\bsrc=|<iframe\b", page, re.I)
    # Interactive charts: Plotly figures drawn by the plotly.js the page carries, one element each.
    assert 'id="plotly-src"' in reports[script] and "Plotly.newPlot" in page and "<img" not in page
    specs = embedded(page, "chart-specs")["charts"]
    assert len(specs) == 7  # documents by year, quality, topic terms, topics over time, topic map, trends, keyness
    assert all(f'<figure class="chart" id="{element}"' in page for element in specs)
    assert all(spec["data"] and spec["layout"]["height"] > 0 for spec in specs.values())


@pytest.mark.slow
def test_the_static_report_has_png_charts_and_no_javascript_library(seed_run, tmp_path):
    out, _ = seed_run
    page = write_report(out, tmp_path / "static.html", static=True).read_text(encoding="utf-8")
    images = re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 5  # quality summary, topic terms, topic prevalence, term trends, keyness
    assert all(base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n" for data in images)
    assert 'id="plotly-src"' not in page and embedded(page, "chart-specs")["charts"] == {}
    assert "explorer-data" in page  # the explorer works without the chart library (rates as a table)


def test_the_report_has_every_section_and_its_tables(reports, seed_run):
    page = reports["simplified"]
    out, _ = seed_run
    n_repairs, n_duplicates = len(read(out, "repairs")), len(read(out, "duplicates"))
    for anchor, heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in section(page, anchor)
    corpus, quality = section(page, "corpus"), section(page, "quality")
    assert "新世代客户服务岗位的价值发展与转型" in corpus and "2020–2023" in corpus and "traditional" in corpus
    assert n_repairs >= 14 and n_duplicates >= 39  # 003's damaged runs, 002's body pasted twice
    assert "Mojibake repairs" in quality and f"{n_repairs} row(s)" in quality
    assert "duplicates: within_doc" in quality and f"{n_duplicates} row(s)" in quality
    assert "Boilerplate spans" in quality and "reading_time" in quality
    assert "Model selection" in section(page, "topics") and "c_npmi" in section(page, "topics")
    assert "Rising terms" in section(page, "trends") and "Falling terms" in section(page, "trends")
    assert "thin" in section(page, "trends")
    assert "Key terms per year" in section(page, "keyness")
    n_tables = page.count('<table class="data">')
    assert n_tables >= 12 and page.count('<input type="search" class="filter"') == n_tables
    assert "aria-sort" in page and "localeCompare" in page  # the sorting script is inline
    topics = section(page, "topics")
    assert "Representative passages" in topics and "Intertopic distance map" in page


def test_the_term_explorer_holds_each_terms_counts_collocates_and_contexts(reports, seed_run):
    out, _ = seed_run
    data = embedded(reports["simplified"], "explorer-data")
    trends = read(out, "term_trends")
    totals: dict[str, int] = {}
    for r in trends:
        totals[r["term"]] = totals.get(r["term"], 0) + r["count"]
    assert data["n_terms"] == len(totals) and data["years"] == [2020, 2021, 2023]
    terms = {t["term"]: t for t in data["terms"]}
    assert [t["count"] for t in data["terms"]] == sorted((t["count"] for t in data["terms"]), reverse=True)
    client = terms["客户"]
    assert client["count"] == totals["客户"] and client["shown"] == "客户"
    assert "客戶" in client["forms"]  # the Traditional seed writes it so: a search for 客戶 finds it
    dated = {r["year"]: r for r in trends if r["term"] == "客户" and r["year"] is not None}
    assert client["counts"] == [dated[y]["count"] if y in dated else 0 for y in data["years"]]
    assert client["slope"] == pytest.approx(dated[2020]["slope"], abs=1e-4)
    # Contexts: the first in corpus order, in the passage's own script, with the document's title and date.
    assert 1 <= len(client["contexts"]) <= data["caps"]["contexts"]
    left, match, right, title, date, source = client["contexts"][0]
    assert match == "客户" and (left or right) and title == "新世代客户服务岗位的价值发展与转型" and date == "2020-12-07"
    traditional = embedded(reports["traditional"], "explorer-data")
    hits = [c for t in traditional["terms"] if t["term"] == "客户" for c in t["contexts"]]
    assert traditional["terms"][[t["term"] for t in traditional["terms"]].index("客户")]["shown"] == "客戶"
    assert all(c[1] == "客户" for c in hits[:1])  # the first are in Simplified documents, shown as written
    # Collocates: counted within the window, strongest first, never the term itself.
    collocates = client["collocates"]
    assert collocates and all(c[0] != "客户" and c[1] >= 2 for c in collocates)
    assert [c[2] for c in collocates] == sorted((c[2] for c in collocates), reverse=True)
    # Searching folds scripts: the page maps 戶 to 户, so the index finds 客户 under 客戶.
    fold = embedded(reports["simplified"], "fold-map")
    assert fold["戶"] == "户" and "".join(fold.get(ch, ch) for ch in "客戶") in data["index"]


def test_the_explorer_caps_its_terms_and_says_so(seed_run, tmp_path):
    out, _ = seed_run
    page = write_report(out, tmp_path / "capped.html", max_terms=20).read_text(encoding="utf-8")
    data = embedded(page, "explorer-data")
    assert len(data["terms"]) == 20 < data["n_terms"]
    assert f"The 20 most frequent terms of {data['n_terms']:,}" in section(page, "explorer")


def test_numbers_sort_by_value_not_by_text(reports, seed_run):
    page = reports["simplified"]
    out, _ = seed_run
    top = max(r["g2"] for r in read(out, "keyness"))  # shown to one decimal, sorted on the full value
    assert f'<td class="num" data-value="{top!r}">{top:.1f}</td>' in section(page, "keyness")
    assert '<td class="null" data-value="">–</td>' in section(page, "corpus")  # 001 has no date


def test_the_display_script_converts_terms_and_metadata(reports):
    simplified, traditional = reports["simplified"], reports["traditional"]
    assert '<html lang="zh-Hans">' in simplified and '<html lang="zh-Hant">' in traditional
    def terms_of(page: str, anchor: str) -> str:  # the section without the passages it quotes
        return re.sub(r'<div class="table"><div class="tools"><strong>Representative passages.*?</table></div>', "",
                      section(page, anchor), flags=re.S)

    for anchor in ("topics", "trends", "keyness"):
        assert "客户" in terms_of(simplified, anchor) and "客戶" not in terms_of(simplified, anchor)
        assert "客戶" in terms_of(traditional, anchor) and "客户" not in terms_of(traditional, anchor)
    assert "新世代客戶服務崗位的價值發展與轉型" in section(traditional, "corpus")
    # Evidence quoted from the texts stays as written: 002's duplicated passages are Simplified, and the
    # representative passages of a topic quote the Traditional seed as it is written.
    assert "在讨论“数字服务凌云之志”" in section(traditional, "quality")
    assert "以往客戶服務圍繞著產品進行" in section(simplified, "topics")


@pytest.mark.parametrize("script", ["simplified", "traditional"])
def test_the_embedded_font_has_a_glyph_for_every_chinese_character(reports, script):
    page = reports[script]
    match = re.search(r'@font-face \{ font-family: "KefuCJK"; src: url\(data:font/\w+;base64,([^)]+)\)', page)
    assert match, "no embedded CJK font"
    font = TTFont(io.BytesIO(base64.b64decode(match.group(1))))
    have = set(font.getBestCmap())
    needed = {ord(ch) for ch in visible_text(page) if CJK.match(ch)}
    assert len(needed) > 500 and not needed - have, sorted(chr(c) for c in needed - have)[:20]
    assert len(match.group(1)) < 2_000_000  # a subset, not the whole font


@pytest.mark.slow
def test_writing_is_atomic_and_replaces_an_earlier_report(seed_run, tmp_path):
    out, _ = seed_run
    target = tmp_path / "nested" / "report.html"
    write_report(out, target)
    write_report(out, target, max_rows=3)
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]
    assert "showing the first 3 of" in target.read_text(encoding="utf-8")


def test_markup_in_the_corpus_shows_as_text(hostile_report):
    page = hostile_report.read_text(encoding="utf-8")
    corpus = section(page, "corpus")
    assert f'<td class="long">{escape(HOSTILE)}</td>' in corpus  # the Documents table: escaped by the template
    outside = re.sub(r'<script type="text/plain" id="plotly-src">.*?</script>', "", page, flags=re.S)
    assert "<b>x" not in outside and "<!--" not in outside
    # Every <script> ends where the page ends it: explorer-data, chart-specs, fold-map and the page's script.
    assert outside.count("<script") == outside.count("</script>") == 4
    # The embedded JSON holds the title as it is (its < > & escaped as \u003c..., which JSON.parse reads back).
    contexts = [c for t in embedded(page, "explorer-data")["terms"] for c in t["contexts"]]
    assert HOSTILE in {c[3] for c in contexts} and SEED_TITLE not in {c[3] for c in contexts}
    assert "\\u003c/script\\u003e\\u003cb\\u003ex" in page
    assert embedded(page, "chart-specs")["charts"] and embedded(page, "fold-map")


def test_the_templates_ship_as_package_data():
    from importlib import resources

    folder = resources.files("kefu_corpus").joinpath(*TEMPLATES.split("/"))
    names = ["page.html.j2", "header.html.j2", "section.html.j2", "macros.html.j2", "report.css", "report.js"]
    names += [f"sections/{anchor}.html.j2" for anchor, _ in SECTIONS]
    assert all(folder.joinpath(*name.split("/")).is_file() for name in names), names
    from kefu_corpus.report import _environment

    assert set(names) <= set(_environment().list_templates())  # the loader reads the same folder


def test_a_variable_a_template_is_not_given_is_an_error():
    import jinja2

    from kefu_corpus.report import _render

    chart = {"png": None, "id": "chart-0", "alt": "Key terms of each year"}
    with pytest.raises(jinja2.UndefinedError, match="'keyness' is undefined"):
        _render("sections/keyness.html.j2", anchor="keyness", heading="Keyness by year", missing=None, note=None,
                chart=chart)


def test_a_folder_that_is_not_a_run_is_a_clear_error(tmp_path, seed_run):
    with pytest.raises(KefuError, match="holds no manifest.json"):
        write_report(tmp_path, tmp_path / "r.html")
    (tmp_path / "manifest.json").write_text(json.dumps({"tables": {}}), encoding="utf-8")
    with pytest.raises(KefuError, match="holds no documents table"):
        write_report(tmp_path, tmp_path / "r.html")
    out, _ = seed_run
    with pytest.raises(KefuError, match="'display_script' parameter of write_report"):
        write_report(out, tmp_path / "r.html", display_script="zh")
    assert not (tmp_path / "r.html").exists()


def test_a_run_without_later_stages_still_reports_what_it_has(seed_run, tmp_path):
    out, _ = seed_run
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("documents", "passages", "boilerplate"):
        table = (out / f"{name}.parquet").resolve()  # a file, or a folder of parts
        (shutil.copytree if table.is_dir() else shutil.copy2)(table, partial / table.name)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["tables"] = {k: v for k, v in manifest["tables"].items() if k in ("documents", "passages", "boilerplate")}
    (partial / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    page = write_report(partial, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "run <code>kefu topics</code>" in page and "run <code>kefu dedup</code>" in page
    assert "新世代客户服务岗位的价值发展与转型" in page


@pytest.mark.slow
def test_the_cli_writes_the_report(seed_run, tmp_path):
    from typer.testing import CliRunner

    from kefu_corpus.cli import app

    if "report" not in {c.name or c.callback.__name__ for c in app.registered_commands}:
        pytest.skip("`kefu report` is not wired into the CLI yet")
    out, _ = seed_run
    target = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", str(out), "-o", str(target), "--display-script", "traditional"])
    assert result.exit_code == 0, result.output
    assert "客戶" in target.read_text(encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(out), "-o", str(target), "--static", "--max-terms", "10"])
    assert result.exit_code == 0, result.output
    page = target.read_text(encoding="utf-8")
    assert page.count("<img ") == 5 and len(embedded(page, "explorer-data")["terms"]) == 10
    result = CliRunner().invoke(app, ["report", str(tmp_path), "-o", str(target)])
    assert result.exit_code == 1 and "manifest.json" in result.output


# ---- in a browser --------------------------------------------------------------------------------------

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven by playwright (`make test` installs Chromium where it can)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def open_page(browser, path: Path):
    """The report at ``path`` in a new tab once every chart is drawn, with the page's errors and every
    address it asked for."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, requests = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-charts=drawn]", timeout=60_000)
    return page, errors, requests


@pytest.mark.slow
def test_typing_a_term_in_the_other_script_shows_its_chart_and_contexts(browser, report_files):
    page, errors, requests = open_page(browser, report_files["simplified"])
    page.fill("#term-query", "客戶")  # Traditional, in a Simplified report
    page.wait_for_function("document.getElementById('term-title').textContent === '客户'")
    assert "occurrences" in page.inner_text("#term-stats") and "evidence" in page.inner_text("#term-stats")
    chart = page.evaluate("(() => { const d = document.getElementById('term-chart').data;"
                          " return {name: d[0].name, x: d[0].x, n: d.length}; })()")
    assert chart == {"name": "客户", "x": [2020, 2021, 2023], "n": 1}
    assert page.locator("#term-chart svg.main-svg").count() >= 1  # drawn, not only given data
    rows = page.locator("#term-kwic tr")
    assert rows.count() >= 3
    first = rows.nth(0).locator("td").all_inner_texts()
    assert first[1] == "客户" and first[3] == "新世代客户服务岗位的价值发展与转型" and first[4] == "2020-12-07"
    page.locator("#term-collocates a").first.click()  # a collocate is a term of its own
    assert page.inner_text("#term-title") != "客户" and page.locator("#term-kwic tr").count() >= 1
    # Every table's search folds scripts too: 客戶 finds the rows that hold 客户.
    box = page.locator("section#topics div.table").filter(has_text="top terms, heaviest first")
    box.locator("input.filter").fill("客戶")
    visible = box.locator("tbody tr:not([hidden])")
    assert visible.count() >= 1 and all("客户" in text for text in visible.all_inner_texts())
    assert not errors, errors
    assert all(url.startswith(("file:", "data:", "blob:", "about:")) for url in requests), requests  # no network


@pytest.mark.slow
def test_markup_in_the_corpus_shows_as_text_in_a_browser(browser, hostile_report):
    page, errors, _ = open_page(browser, hostile_report)
    texts = "(sel) => Array.from(document.querySelectorAll(sel)).map(node => node.textContent)"
    assert HOSTILE in page.evaluate(texts, "section#corpus td")
    assert page.locator("main table b").count() == 0  # no element made of the title
    page.fill("#term-query", "客户")
    page.wait_for_function("document.getElementById('term-title').textContent === '客户'")
    assert page.locator("#term-kwic tr").nth(0).locator("td").all_text_contents()[3] == HOSTILE
    assert not errors, errors


@pytest.mark.slow
def test_a_legend_click_hides_a_series(browser, report_files):
    page, errors, _ = open_page(browser, report_files["simplified"])
    chart = page.locator('figure.chart[aria-label="Topic prevalence by year"]')
    chart.scroll_into_view_if_needed()
    visible = "(el) => el.data.map(trace => trace.visible === undefined ? true : trace.visible)"
    assert chart.evaluate(visible) == [True, True, True]
    chart.locator("g.legend g.traces").first.click()
    page.wait_for_function("document.querySelector('figure.chart[aria-label=\"Topic prevalence by year\"]')"
                           ".data[0].visible === 'legendonly'")
    assert chart.evaluate(visible) == ["legendonly", True, True]
    assert not errors, errors


@pytest.mark.slow
def test_a_screenshot_covers_the_whole_page(seed_run, tmp_path):
    pytest.importorskip("playwright.sync_api")
    if shutil.which("chromium") is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    out, _ = seed_run
    png = tmp_path / "report.png"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "report_screenshot.py"), str(out), "--png", str(png),
                           "--display-script", "traditional", "--report", str(tmp_path / "report.html")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    width, height = (int(v) for v in re.search(r"(\d+)x(\d+)", done.stdout).groups())
    assert width == 1280 and height > 6000  # all of the page, charts drawn, not the first screen or 4,000 px
    from PIL import Image

    assert Image.open(png).size == (width, height)


@pytest.mark.slow
def test_the_same_run_gives_the_same_report_byte_for_byte(reports, seed_run, tmp_path):
    out, _ = seed_run
    again = write_report(out, tmp_path / "again.html").read_text(encoding="utf-8")
    assert again == reports["simplified"]


def test_a_corpus_without_dates_gets_a_report_that_says_why_its_time_views_are_empty(tmp_path):
    from conftest import run_pipeline, seed_text

    # The paragraphs of the Traditional seed, without its dated lines, as undated records.
    paragraphs = [p for p in seed_text("003").splitlines() if len(p) > 30 and not re.search(r"\d", p)]
    raw = tmp_path / "raw"
    raw.mkdir()
    with (raw / "paragraphs.jsonl").open("w", encoding="utf-8") as dst:
        for i in range(0, len(paragraphs), 3):
            dst.write(json.dumps({"id": f"p{i}", "text": "\n".join(paragraphs[i:i + 3])}, ensure_ascii=False) + "\n")
    out = tmp_path / "out"
    run_pipeline(raw, out, **{"topics.k_grid": [3], "topics.iterations": 20, "normalise.repair": False})
    docs = read(out, "documents")
    assert len(docs) >= 5 and all(d["year"] is None for d in docs)
    # An all-Traditional corpus is shown in Traditional unless asked otherwise: topics, report, kwic.
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["display_script"] == "traditional"
    converted = [t for t in read(out, "topics") if t["term_display"] != t["term"]]
    assert converted
    # ...and in the forms the corpus itself writes, the converter only for a term it never writes so:
    # this seed writes 為 (OpenCC's s2t gives 爲).
    from kefu_corpus import plots

    forms = plots.term_forms(out, "traditional")
    assert (forms["为"], plots.shown("为", "traditional")) == ("為", "爲")
    assert plots.shown_term("为", "traditional", forms) == "為"
    assert all(t["term_display"] == forms.get(t["term"], t["term_display"]) for t in read(out, "topics"))
    written = {(r["term"], r["script"]): r for r in read(out, "term_forms") if r["is_display"]}
    assert written[("为", "traditional")]["count"] >= 10
    page = write_report(out, tmp_path / "report.html").read_text(encoding="utf-8")
    assert any(t["term_display"] in section(page, "topics") for t in converted)
    shown = re.sub(r'<script type="application/json" id="fold-map">.*?</script>', "", page, flags=re.S)
    assert "爲" not in shown  # the converter's form of 为, which this text never writes (only search folds it)
    assert embedded(page, "fold-map")["爲"] == "为"
    n = len(docs)
    for anchor in ("trends", "keyness"):
        assert f"No document of the {n} has a date" in section(page, anchor), anchor
    assert f"No document of the {n} has a date" in section(page, "topics")  # its prevalence chart
    assert '<figure class="chart"' in section(page, "topics") and "<table" in section(page, "corpus")  # the rest
    explorer = embedded(page, "explorer-data")
    assert explorer["years"] == [] and explorer["terms"] and f"No document of the {n} has a date" in section(
        page, "explorer")  # counts, collocates and contexts without a time axis


@pytest.mark.slow
def test_a_traditional_corpus_is_shown_in_the_forms_it_writes(tmp_path):
    """計畫 and 考核, not the converter's 計劃 and 考覈: in topics, keyness, the explorer and the report."""
    from conftest import run_pipeline, seed_text

    paragraphs = [p for p in seed_text("003").splitlines() if len(p) > 40][:12]
    plans = ["公司今年的服務計畫包括客服人員培訓計畫。", "品質改善計畫由中心主任親自督導。",
             "數位轉型計畫預計在明年上半年完成。", "各項計畫按季檢討並向董事會報告。",
             "人力招募計畫因疫情延後到秋天。", "新的獎勵計畫鼓勵第一線同仁提出建議。"]
    reviews = ["客服中心的績效考核制度要求每月檢視服務品質。", "考核結果與年終獎金連動。",
               "主管負責年度考核並與同仁面談。", "新進人員到職三個月後接受考核。",
               "考核指標包括接通率與顧客滿意度。", "部分同仁認為考核過於重視速度。"]
    raw = tmp_path / "raw"
    raw.mkdir()
    with (raw / "articles.jsonl").open("w", encoding="utf-8") as dst:
        for i, paragraph in enumerate(paragraphs):  # each sentence twice in the corpus: not a duplicate passage
            year, extra = (2021, plans) if i % 2 == 0 else (2022, reviews)
            record = {"id": f"a{i}", "date": f"{year}-0{1 + i % 9}-15", "title": f"客服觀察之{i}",
                      "text": "\n".join([paragraph, extra[i // 2 % 6] + paragraph[:30] + extra[(i // 2 + 3) % 6]])}
            dst.write(json.dumps(record, ensure_ascii=False) + "\n")
    out = tmp_path / "out"
    run_pipeline(raw, out, **{"topics.k_grid": [2], "topics.iterations": 30, "normalise.repair": False})
    from kefu_corpus import plots

    assert (plots.shown("计划", "traditional"), plots.shown("考核", "traditional")) == ("計劃", "考覈")
    topics = {t["term"]: t["term_display"] for t in read(out, "topics")}
    assert topics.get("计划") == "計畫" and topics.get("考核") == "考核"
    page = write_report(out, tmp_path / "report.html").read_text(encoding="utf-8")
    keyness = section(page, "keyness")
    assert "計畫" in keyness and "考核" in keyness
    shown = re.sub(r'<script type="application/json" id="fold-map">.*?</script>', "", page, flags=re.S)
    assert "計劃" not in shown and "考覈" not in shown
    terms = {t["term"]: t["shown"] for t in embedded(page, "explorer-data")["terms"]}
    assert terms["计划"] == "計畫" and terms["考核"] == "考核"


@pytest.mark.slow
def test_a_corpus_of_one_document_gets_every_view(tmp_path):
    from conftest import SEEDS, run_pipeline

    raw = tmp_path / "raw"
    raw.mkdir()
    seed = next(p for p in SEEDS if p.name.startswith("004"))
    shutil.copy2(seed, raw / seed.name)
    out = tmp_path / "out"
    run_pipeline(raw, out, **{"topics.k_grid": [2, 3], "topics.iterations": 20})
    assert len(read(out, "documents")) == 1
    page = write_report(out, tmp_path / "report.html").read_text(encoding="utf-8")
    for anchor, heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in section(page, anchor)
    assert "No document of the" not in page  # it is dated, but a trend or keyness needs two years
    for anchor in ("trends", "keyness"):
        assert "Every dated document is of 2021" in section(page, anchor)
    data = embedded(page, "explorer-data")
    assert data["years"] == [2021] and data["terms"] and all(t["contexts"] for t in data["terms"][:20])
    assert embedded(page, "chart-specs")["charts"]
