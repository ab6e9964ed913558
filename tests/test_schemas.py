"""The output schemas are the contract for downstream jobs: readable by DuckDB, pandas and polars, as documented."""

from __future__ import annotations

import duckdb
import pandas as pd
import polars as pl

import pytest

from conftest import ROOT
from kefu_corpus import tablefiles
from kefu_corpus.config import config_reference_markdown
from kefu_corpus.schemas import TABLES, schema_markdown

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"


def _docs_hooks():
    """docs/hooks.py, the mkdocs hook that generates the reference tables at build time."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("kefu_docs_hooks", DOCS / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", list(TABLES))
def test_duckdb_pandas_and_polars_read_every_table_with_the_documented_columns(seed_run, name):
    out, _ = seed_run
    spec = TABLES[name]
    path = out / spec.filename
    documented = [f.name for f in spec.schema]
    rel = duckdb.sql(f"select * from read_parquet('{path}')")
    assert rel.columns == documented
    frame = pd.read_parquet(path)
    assert list(frame.columns) == documented
    assert len(frame) == duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchall()[0][0]
    assert pl.read_parquet(path).columns == documented
    stored = tablefiles.schema(path)
    assert stored.remove_metadata().equals(spec.schema.remove_metadata())
    assert stored.metadata[b"kefu.table"] == name.encode()
    assert stored.metadata[b"kefu.schema_version"] == str(spec.version).encode()
    for field in spec.schema:
        assert stored.field(field.name).metadata[b"description"]
        if not field.nullable:
            assert frame[field.name].notna().all(), field.name


def test_pandas_reads_a_nullable_integer_as_a_nullable_integer(seed_run):
    # A year with gaps (an undated document) must not turn every year into a float.
    import pandas as pd

    out, _ = seed_run
    for name, column in (("documents", "year"), ("tokens", "year"), ("duplicates", "kept_start")):
        path = out / TABLES[name].filename
        assert str(pd.read_parquet(path).dtypes[column]).startswith("Int"), (name, column)
    assert str(pd.read_parquet(out / "documents.parquet").dtypes["n_chars"]) == "int32"  # not nullable: numpy


def test_duckdb_offsets_slice_the_raw_text(seed_run):
    out, _ = seed_run
    mismatches = duckdb.sql(f"""
        select count(*) from read_parquet('{out}/passages.parquet') p
        join read_parquet('{out}/documents.parquet') d using (doc_id)
        where substr(d.text, p.start + 1, p."end" - p.start) <> p.text
    """).fetchall()[0][0]
    assert mismatches == 0


@pytest.mark.parametrize("name", list(TABLES))
def test_the_docs_document_each_schema_exactly(name):
    """schemas.md holds the marker; the hook puts each generated table there, escaped only for HTML."""
    import html

    assert "<!-- generated: schemas -->" in (DOCS / "schemas.md").read_text(encoding="utf-8")
    generated = _docs_hooks().generate("<!-- generated: schemas -->")
    assert schema_markdown(TABLES[name]) in html.unescape(generated)
    assert schema_markdown(TABLES[name]).replace("<", "&lt;") in generated


def test_the_docs_document_every_config_key():
    """configuration.md holds the marker; the hook puts the generated table there, one line per key."""
    import html

    from kefu_corpus.config import PARAMS

    assert "<!-- generated: config -->" in (DOCS / "configuration.md").read_text(encoding="utf-8")
    generated = html.unescape(_docs_hooks().generate("<!-- generated: config -->"))
    rows = generated.split("\n")
    assert all(row.startswith("|") and row.endswith("|") for row in rows), "a row broken over lines"
    # The same table, but for the TOML lists of a default joined onto one line.
    assert generated.replace(" ", "") == config_reference_markdown().replace("\n    ", "").replace(",\n]", "]") \
        .replace(" ", "")
    assert len(rows) == 2 + sum(len(table) for table in PARAMS.values())


def test_readme_shows_the_two_commands():
    assert "make run" in README and "make test" in README


@pytest.mark.parametrize("library", ["polars", "pandas"])
def test_the_docs_recipes_run_and_agree_with_duckdb(seed_run, library):
    """The downstream recipes of docs/outputs.md, run as written against the seeds' run."""
    import re

    out, _ = seed_run
    outputs = (DOCS / "outputs.md").read_text(encoding="utf-8")
    block = re.search(rf"```python\n# recipe: {library}\n(.*?)```", outputs, re.S)
    assert block, f"no {library} recipe in docs/outputs.md"
    scope: dict = {}
    exec(block.group(1).replace('"data/processed/', f'"{out}/'), scope)  # noqa: S102 - the docs' own code
    expected = dict(duckdb.sql(f"""select d.title, count(*) from read_parquet('{out}/tokens.parquet') t
        join read_parquet('{out}/documents.parquet') d using (doc_id) where t.token = '客户' and d.title is not null
        group by d.title""").fetchall())
    words = duckdb.sql(f"""select count(*) from read_parquet('{out}/tokens.parquet')
        where token_type in ('word', 'latin') and not is_stopword and year is not null""").fetchall()[0][0]
    per_year, per_title = scope["per_year"], scope["per_title"]
    if library == "polars":
        by_title = {r["title"]: r["len"] for r in per_title.to_dicts() if r["title"] is not None}
        dated = per_year.filter(pl.col("year").is_not_null())["len"].sum()
    else:
        by_title = per_title.to_dict()
        dated = int(per_year.sum())
    assert by_title == expected and len(expected) >= 3
    assert dated == words
