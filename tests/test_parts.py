"""Tables stored as folders of parts: written by the workers, the same bytes for any worker count, and
read by every reader like one table."""

from __future__ import annotations

import shutil

import duckdb
import pyarrow.parquet as pq
import pytest

from conftest import SEEDS, output_files, run_pipeline
from kefu_corpus import pipeline, tablefiles
from kefu_corpus.config import Config
from kefu_corpus.info import describe
from kefu_corpus.schemas import TABLES
from kefu_corpus.store import read_table

pytestmark = pytest.mark.slow

SMALL = {"topics.k_grid": [3], "topics.iterations": 20}


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    folder = tmp_path_factory.mktemp("raw")
    for path in SEEDS:
        if not path.name.startswith("003"):  # its repair model is the slow part of a seed run
            shutil.copy2(path, folder / path.name)
    return folder


@pytest.fixture(scope="module")
def runs(raw, tmp_path_factory):
    """The four seeds in one part, and in parts of about one document (with 1 and 2 workers)."""
    base = tmp_path_factory.mktemp("runs")
    run_pipeline(raw, base / "whole", **SMALL)
    run_pipeline(raw, base / "parts", **SMALL, **{"run.part_bytes": 8000})
    run_pipeline(raw, base / "parts2", **SMALL, **{"run.part_bytes": 8000, "run.workers": 2, "run.batch_size": 3})
    return base


def test_parts_hold_whole_documents_and_line_up_across_tables(runs):
    out = runs / "parts"
    docs = [pq.read_table(p, columns=["doc_id"]).column(0).to_pylist() for p in tablefiles.files(out / "documents.parquet")]
    assert len(docs) == 4 and all(docs)
    for name in ("passages", "tokens"):
        parts = tablefiles.files(out / f"{name}.parquet")
        assert [p.name for p in parts] == [f"part-{i:05d}.parquet" for i in range(4)]
        for ids, part in zip(docs, parts):
            assert set(pq.read_table(part, columns=["doc_id"]).column(0).to_pylist()) == set(ids), name
    assert {t["table"]: t["parts"] for t in describe(out)["tables"] if t["parts"]} == {
        "documents": 4, "passages": 4, "tokens": 4}
    assert describe(out)["warnings"] == []


def test_parts_give_the_same_tables_as_one_part_and_the_same_bytes_for_any_worker_count(runs):
    for name in TABLES:
        whole, parted = read_table(runs / "whole", name), read_table(runs / "parts", name)
        assert parted.to_pylist() == whole.to_pylist(), name
    assert output_files(runs / "parts") == output_files(runs / "parts2")


def test_duckdb_reads_a_folder_of_parts_as_one_table(runs):
    out = runs / "parts"
    n = duckdb.sql(f"select count(*) from '{out}/tokens.parquet'").fetchall()[0][0]
    assert n == read_table(out, "tokens").num_rows > 0


def test_a_stage_run_alone_reads_tables_of_one_file_too(runs, tmp_path):
    """A folder whose documents and passages are single files (as written before tables were parted)
    is read as one part."""
    out = tmp_path / "legacy"
    shutil.copytree((runs / "whole").resolve() / "current", out)  # the run folder: plain files and folders
    for name in ("documents", "passages", "tokens"):
        folder = out / f"{name}.parquet"
        table = read_table(out, name)
        shutil.rmtree(folder)
        pq.write_table(table.replace_schema_metadata(TABLES[name].with_metadata().metadata), folder)
    config = Config().with_overrides({"run.workers": 1, **SMALL})
    pipeline.run(out, out, config, stages=("segment",))
    assert (out / "documents.parquet").is_file() and len(tablefiles.files(out / "tokens.parquet")) == 1
    assert read_table(out, "tokens").to_pylist() == read_table(runs / "whole", "tokens").to_pylist()
