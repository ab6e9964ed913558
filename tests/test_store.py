"""Outputs are deterministic, and written atomically: a failed run leaves earlier outputs intact."""

from __future__ import annotations


import pytest

from conftest import SEEDS, run_pipeline
from kefu_corpus import pipeline
from kefu_corpus.schemas import TABLES
from kefu_corpus.store import read_manifest


def table_bytes(out):
    return {spec.filename: (out / spec.filename).read_bytes() for spec in TABLES.values()}


def test_same_input_and_config_give_identical_tables(raw, tmp_path):
    run_pipeline(raw, tmp_path / "a")
    run_pipeline(raw, tmp_path / "b")
    run_pipeline(raw, tmp_path / "c", **{"run.workers": 2, "run.batch_size": 2})
    assert table_bytes(tmp_path / "a") == table_bytes(tmp_path / "b") == table_bytes(tmp_path / "c")


def test_a_crash_mid_run_leaves_the_previous_outputs_untouched(raw, tmp_path, monkeypatch):
    out = tmp_path / "out"
    run_pipeline(raw, out)
    before = {**table_bytes(out), "manifest.json": (out / "manifest.json").read_bytes()}

    calls = {"n": 0}
    real = pipeline._flag_repeated_content

    def crash_on_second_batch(tables, seen):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return real(tables, seen)

    monkeypatch.setattr(pipeline, "_flag_repeated_content", crash_on_second_batch)
    (raw / "extra.txt").write_text("新增的一篇文章，关于呼叫中心。\n" * 3, encoding="utf-8")
    with pytest.raises(RuntimeError):
        run_pipeline(raw, out, **{"run.batch_size": 1})
    after = {**table_bytes(out), "manifest.json": (out / "manifest.json").read_bytes()}
    assert after == before
    assert not list(out.glob(".kefu-staging-*")) and not list(out.glob(".*tmp*"))


def test_manifest_records_config_versions_inputs_counts_and_timings(raw, tmp_path):
    result = run_pipeline(raw, tmp_path / "out", **{"ingest.max_passage_chars": 900})
    manifest = read_manifest(tmp_path / "out")
    assert manifest["config"]["ingest"]["max_passage_chars"] == 900
    assert manifest["seed"] == manifest["config"]["run"]["seed"]
    assert {"python", "pyarrow", "charset-normalizer", "kefu-corpus"} <= set(manifest["versions"])
    assert [i["path"] for i in manifest["inputs"]] == [p.name for p in SEEDS]
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert {k: v["rows"] for k, v in manifest["tables"].items()} == result.tables
    assert manifest["schema_versions"] == {name: spec.version for name, spec in TABLES.items()}
    assert manifest["stages"]["ingest"]["seconds"] >= 0 and manifest["stages"]["ingest"]["bytes"] > 0
