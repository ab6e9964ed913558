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

import pytest
from fontTools.ttLib import TTFont

from kefu_corpus.errors import KefuError
from kefu_corpus.report import SECTIONS, write_report

from conftest import read

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@pytest.fixture(scope="module")
def reports(seed_run, tmp_path_factory) -> dict[str, str]:
    out, _ = seed_run
    folder = tmp_path_factory.mktemp("report")
    return {script: write_report(out, folder / f"{script}.html", display_script=script).read_text(encoding="utf-8")
            for script in ("simplified", "traditional")}


def section(page: str, anchor: str) -> str:
    match = re.search(rf'<section id="{anchor}">(.*?)</section>', page, re.S)
    assert match, f"no section {anchor}"
    return match.group(1)


def visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]*"', "", page))


@pytest.mark.parametrize("script", ["simplified", "traditional"])
def test_the_report_is_self_contained(reports, script):
    page = reports[script]
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"url\(\s*[\"']?(?:https?:)?//", page, re.I)
    assert not re.search(r"@import|<link\b|<script\b[^>]*\bsrc=|<iframe\b", page, re.I)
    images = re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 5  # quality summary, topic terms, topic prevalence, term trends, keyness
    assert all(base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n" for data in images)


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


def test_numbers_sort_by_value_not_by_text(reports, seed_run):
    page = reports["simplified"]
    out, _ = seed_run
    top = max(r["g2"] for r in read(out, "keyness"))  # shown to one decimal, sorted on the full value
    assert f'<td class="num" data-value="{top!r}">{top:.1f}</td>' in section(page, "keyness")
    assert '<td class="null" data-value="">–</td>' in section(page, "corpus")  # 001 has no date


def test_the_display_script_converts_terms_and_metadata(reports):
    simplified, traditional = reports["simplified"], reports["traditional"]
    assert '<html lang="zh-Hans">' in simplified and '<html lang="zh-Hant">' in traditional
    for anchor in ("topics", "trends", "keyness"):
        assert "客户" in section(simplified, anchor) and "客戶" not in section(simplified, anchor)
        assert "客戶" in section(traditional, anchor) and "客户" not in section(traditional, anchor)
    assert "新世代客戶服務崗位的價值發展與轉型" in section(traditional, "corpus")
    # Evidence quoted from the texts stays as written: 002's duplicated passages are Simplified.
    assert "在讨论“数字服务凌云之志”" in section(traditional, "quality")


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
    result = CliRunner().invoke(app, ["report", str(tmp_path), "-o", str(target)])
    assert result.exit_code == 1 and "manifest.json" in result.output


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="headless Chromium is not installed (Debian: apt-get install chromium)")
def test_the_report_renders_in_headless_chromium(seed_run, tmp_path):
    out, _ = seed_run
    png = tmp_path / "report.png"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "report_screenshot.py"), str(out), "--png", str(png),
                           "--display-script", "traditional", "--report", str(tmp_path / "report.html")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert png.is_file() and "1280x4000" in done.stdout


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
    assert "爲" not in page  # the converter's form of 为, which this text never writes
    n = len(docs)
    for anchor in ("trends", "keyness"):
        assert f"No document of the {n} has a date" in section(page, anchor), anchor
    assert f"No document of the {n} has a date" in section(page, "topics")  # its prevalence chart
    assert "<img" in section(page, "topics") and "<table" in section(page, "corpus")  # the rest is there
