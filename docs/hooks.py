"""mkdocs hook: the reference tables are generated from the code when the site is built.

A page holds a marker, ``<!-- generated: config -->`` or ``<!-- generated: schemas -->``, and
:func:`on_page_markdown` replaces it with the Markdown that ``kefu config --reference`` and
``kefu schema`` print, so the documented keys and columns are always those the code declares.
"""

from __future__ import annotations

import re

MARKER = re.compile(r"<!-- generated: ([a-z_]+) -->")
CODE_SPAN = re.compile(r"`[^`\n]*`")


def _cells_on_one_line(table: str) -> str:
    """Join the lines of a multi-line cell (a TOML list default) so every table row is one line."""
    rows: list[str] = []
    for line in table.split("\n"):
        if rows and line and not line.startswith("|"):
            piece = line.strip()
            glue = "" if rows[-1].endswith("[") or piece.startswith("]") else " "
            rows[-1] = rows[-1] + glue + piece
        else:
            rows.append(line)
    return "\n".join(row.replace(",]", "]") for row in rows)


def _escape(markdown: str) -> str:
    """Escape ``<`` so that ``list<item: ...>`` and ``'<doc_id>-<index>'`` show as text, not as HTML tags."""
    return markdown.replace("<", "&lt;")


def config() -> str:
    """Every configuration key as a Markdown table."""
    from kefu_corpus.config import config_reference_markdown

    return _escape(_cells_on_one_line(config_reference_markdown()))


def schemas() -> str:
    """Every output table's schema under a heading of its name, in the order of ``schemas.TABLES``."""
    from kefu_corpus.schemas import TABLES, schema_markdown

    return "\n\n".join(f"## `{name}`\n\n{_escape(schema_markdown(spec))}" for name, spec in TABLES.items())


GENERATORS = {"config": config, "schemas": schemas}


def generate(markdown: str) -> str:
    """Replace every marker in a page's Markdown with the block it names."""

    def block(match: re.Match) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"unknown generated block {name!r}; known: {', '.join(GENERATORS)}")
        return GENERATORS[name]()

    return MARKER.sub(block, markdown)


def table_code_pipes(markdown: str) -> str:
    """Unescape ``\\|`` inside code spans of table rows.

    GitHub needs the escape there (a bare ``|`` would end the cell); Python-Markdown does not split a
    cell at a pipe inside a code span, and would show the backslash.
    """

    def row(line: str) -> str:
        if not line.startswith("|"):
            return line
        return CODE_SPAN.sub(lambda m: m.group(0).replace("\\|", "|"), line)

    return "\n".join(row(line) for line in markdown.split("\n"))


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - mkdocs hook signature
    return table_code_pipes(generate(markdown))
