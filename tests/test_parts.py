"""Tables stored as folders of parts: written by the workers, the same bytes for any worker count, and
read by every reader like one table."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import duckdb
import pyarrow.parquet as pq
import pytest

from conftest import SEEDS, output_files, run_pipeline
from kefu_corpus import pipeline, tablefiles
from kefu_corpus.config import Config
from kefu_corpus.info import describe
from kefu_corpus.schemas import TABLES
from kefu_corpus.partcache import CACHE
from kefu_corpus.store import read_manifest, read_table

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


def _codecs(path) -> set[str]:
    meta = pq.ParquetFile(path).metadata
    return {meta.row_group(g).column(c).compression for g in range(meta.num_row_groups)
            for c in range(meta.num_columns)}


def test_parts_a_later_stage_replaces_use_a_fast_codec_and_the_committed_tables_the_configured_one(runs):
    out = runs / "parts"
    committed = [part for spec in TABLES.values() for part in tablefiles.files(out / spec.filename)]
    assert set().union(*map(_codecs, committed)) == {"ZSTD"}
    cached = {stage: set().union(*map(_codecs, (out / CACHE / stage).rglob("part-*.parquet")))
              for stage in ("ingest", "normalise", "dedup", "segment")}
    # ingest's and normalise's parts were read once, by the next stage: LZ4; dedup's and segment's are the run's
    assert cached == {"ingest": {"LZ4"}, "normalise": {"LZ4"}, "dedup": {"ZSTD"}, "segment": {"ZSTD"}}


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


def _reused(out):
    stages = read_manifest(out)["stages"]
    return {name: stages[name]["parts_reused"] for name in ("ingest", "normalise", "dedup", "segment")}


def test_a_rerun_after_adding_a_document_redoes_only_its_part_and_equals_a_full_run(raw, tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    for path in raw.iterdir():
        if not path.name.startswith("002"):
            shutil.copy2(path, base / path.name)
    settings = {**SMALL, "run.part_bytes": 8000}
    out = tmp_path / "out"
    first = run_pipeline(base, out, **settings)
    assert first.manifest["stages"]["segment"]["parts"] == 3
    assert _reused(out) == {"ingest": 0, "normalise": 0, "dedup": {"scan": 0, "annotate": 0}, "segment": 0}
    shutil.copy2(next(raw.glob("002*")), base)  # a new document, in the middle of the corpus order
    run_pipeline(base, out, **settings)
    assert _reused(out) == {"ingest": 3, "normalise": 3, "dedup": {"scan": 3, "annotate": 3}, "segment": 3}
    run_pipeline(base, tmp_path / "full", **settings)
    assert output_files(out) == output_files(tmp_path / "full")
    assert len(list((out / CACHE / "segment").iterdir())) == 4  # the entries of the last run only


def test_a_rerun_after_a_kill_resumes_from_the_finished_parts(raw, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "kefu_corpus", "run", str(raw), "--out", str(out), "-w", "2", "-q",
           "-s", "run.part_bytes=8000", "-s", "topics.k_grid=[3]", "-s", "topics.iterations=20"]
    killed = subprocess.run(cmd, env={**os.environ, "KEFU_KILL_AT": "segment:part"}, capture_output=True)
    assert killed.returncode == -9
    assert not (out / "current").exists()  # nothing that looks complete
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    reused = _reused(out)
    assert reused["ingest"] == reused["normalise"] == reused["dedup"]["annotate"] == 4 and reused["segment"] >= 1
    run_pipeline(raw, tmp_path / "clean", **SMALL, **{"run.part_bytes": 8000})
    assert output_files(out) == output_files(tmp_path / "clean")


def test_article_files_travel_to_the_workers_as_paths_not_text(raw):
    """The driver names an article file by path, size and SHA-256; the worker reads it."""
    from kefu_corpus.stages.ingest import IngestParams, input_entries
    from kefu_corpus.sources import Sidecar, discover, iter_items
    from kefu_corpus.transforms.ingest import ingest_batch

    inventory = discover(raw, text_extensions=(".txt", ".md"), sidecar_name="metadata.csv")
    known = {entry["path"]: entry for entry in input_entries(inventory)}
    lazy = list(iter_items(inventory, Sidecar(), text_column="text", id_column="id", known=known))
    eager = list(iter_items(inventory, Sidecar(), text_column="text", id_column="id"))
    assert all(item.data is None and item.path and item.sha256 for item in lazy)
    assert all(item.data for item in eager)
    params = IngestParams()
    for name, table in ingest_batch(lazy, params).items():
        assert table.equals(ingest_batch(eager, params)[name]), name
