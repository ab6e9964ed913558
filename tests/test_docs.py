"""The documentation site builds (strictly, offline), the README stays short, and nothing it once held is lost."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"

#: The last commit whose README held the whole documentation, before it moved into docs/.
LONG_README_COMMIT = "93ca78e39eb7a8776b3e9ea8cd8409a073edd8dd"

#: The sections (## and ###) of that README. Each must be a heading of some page in docs/.
LONG_README_HEADINGS = [
    "Two commands",
    "The raw corpus",
    "The `kefu` command line",
    "Inputs",
    "Encodings",
    "Metadata, boilerplate and passages",
    "Document identity and repeated inputs",
    "Scripts: conversion and offset maps",
    "Normalise: repair, scripts and the canonical text",
    "Mojibake repair",
    "Dedup: repeated passages and near-duplicate documents",
    "Segment: tokens in both scripts",
    "Trends, keyness, keywords, keywords in context and collocations",
    "Keywords",
    "Collocations",
    "Topics",
    "The saved model",
    "Configuration",
    "Notebooks, charts and the HTML report",
    "Outputs",
    "Schemas",
    "Architecture",
    "Running on a Dask cluster",
    "Benchmarks",
    "Development",
]


def headings(markdown: str, levels: str = "1,6") -> list[str]:
    """The text of the Markdown headings of the given levels, outside fenced code blocks."""
    found, fence = [], False
    pattern = re.compile(rf"^#{{{levels}}} +(.*?)\s*#*\s*$")
    for line in markdown.split("\n"):
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        match = None if fence else pattern.match(line)
        if match:
            found.append(match.group(1))
    return found


def docs_headings() -> set[str]:
    return {h for page in DOCS.glob("*.md") for h in headings(page.read_text(encoding="utf-8"))}


def test_the_site_builds_strictly_offline_with_the_generated_tables(tmp_path):
    """``mkdocs build --strict``: a broken link, a missing page or a failing hook fails the suite."""
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    pages = {p.stem for p in DOCS.glob("*.md")}
    built = {p.stem for p in site.glob("*.html")}
    assert pages <= built, pages - built
    configuration = (site / "configuration.html").read_text(encoding="utf-8")
    schemas = (site / "schemas.html").read_text(encoding="utf-8")
    assert "generated:" not in configuration and "generated:" not in schemas
    assert "<code>run.workers</code>" in configuration and "<code>topics.engine</code>" in configuration
    for table in ("documents.parquet", "passages.parquet", "tokens.parquet", "ingest_report.parquet"):
        assert f"<code>{table}</code>" in schemas, table
    # Types such as list<item: struct<...>> and ids such as '<doc_id>-<index>' show as text, not as tags.
    assert "list&lt;item: struct&lt;start: int32" in schemas and "&lt;doc_id&gt;-&lt;index&gt;" in schemas
    # The site fetches nothing: no web fonts, no scripts from elsewhere.
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in index and "fonts.gstatic.com" not in index


def test_every_section_of_the_long_readme_has_a_heading_in_the_docs():
    missing = [h for h in LONG_README_HEADINGS if h not in docs_headings()]
    assert not missing, f"sections of the old README with no heading in docs/: {missing}"


def test_the_list_of_sections_is_the_long_readmes():
    """The headings above are those of the README at LONG_README_COMMIT (skipped without git or that commit)."""
    try:
        shown = subprocess.run(["git", "show", f"{LONG_README_COMMIT}:README.md"], cwd=ROOT,
                               capture_output=True, text=True, timeout=60)
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"git is not available: {exc}")
    if shown.returncode != 0:
        pytest.skip(f"commit {LONG_README_COMMIT[:7]} is not in this clone: {shown.stderr.strip()}")
    assert headings(shown.stdout, levels="2,3") == LONG_README_HEADINGS


def test_the_readme_is_short_and_names_the_commands():
    text = README.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= 12_000, "the README is for newcomers: move detail into docs/"
    for command in ("make run", "make test", "make test-fast", "make bench", "make docs"):
        assert command in text, command
    for command in ("kefu run", "kefu report", "kefu kwic", "kefu info", "kefu convert", "kefu tokenize"):
        assert command in text, command


def test_the_readmes_links_lead_to_files_that_exist():
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if "://" not in link]
    assert any(link.startswith("docs/") for link in local)
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, missing


def test_every_page_is_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    missing = [p.name for p in DOCS.glob("*.md") if f" {p.name}" not in nav]
    assert not missing, missing
