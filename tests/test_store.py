"""Outputs are deterministic, and written atomically: a failed run leaves earlier outputs intact."""

from __future__ import annotations


import gzip
import itertools

import pytest

from conftest import QUICK_SEEDS, SHARED, SMALL_TOPICS, output_files, run_pipeline
from kefu_corpus import pipeline, tablefiles
from kefu_corpus.memory import Budget
from kefu_corpus.schemas import TABLES
from kefu_corpus.store import read_manifest


def table_bytes(out):
    files = output_files(out)
    assert {name.split("/")[0] for name in files} >= {spec.filename for spec in TABLES.values()} | {"models"}
    return files


@pytest.mark.slow
def test_same_input_and_config_give_identical_tables(seed_run, raw, tmp_path):
    first, _ = seed_run  # the seeds, default config: the shared run, maybe made in another process
    run_pipeline(raw, tmp_path / "b")
    run_pipeline(raw, tmp_path / "c", **{"run.workers": 2, "run.batch_size": 2})
    assert table_bytes(first) == table_bytes(tmp_path / "b") == table_bytes(tmp_path / "c")


BENCH = SHARED / "bench" / "tw_laws.jsonl.gz"


@pytest.mark.slow
@pytest.mark.skipif(not BENCH.exists(), reason="the bench corpus is not in ../shared/bench")
def test_tables_and_model_are_the_same_bytes_with_one_or_two_workers(quick_raw, tmp_path):
    # The seeds but 003 plus 250 statutes: several slices of tokens for trends and topics, a topic sample
    # smaller than the corpus, and a k grid fitted across workers. (003's repair, searched in a worker
    # process, takes tens of seconds; test_same_input_and_config_give_identical_tables does it with two.)
    raw = quick_raw
    with gzip.open(BENCH, "rt", encoding="utf-8") as fh:
        (raw / "statutes.jsonl").write_text("".join(itertools.islice(fh, 250)), encoding="utf-8")
    settings = {"topics.k_grid": [3, 5], "topics.sample": 400, "topics.iterations": 50, "run.memory_gb": 0.05}
    one = run_pipeline(raw, tmp_path / "one", **settings)
    run_pipeline(raw, tmp_path / "two", **{**settings, "run.workers": 2, "run.batch_size": 7})
    assert one.tables["tokens"] > 2 * Budget(0.05, 2).slice_rows()
    assert table_bytes(tmp_path / "one") == table_bytes(tmp_path / "two")


def test_a_crash_mid_run_leaves_the_previous_outputs_untouched(quick_raw, tmp_path, monkeypatch):
    raw = quick_raw
    out = tmp_path / "out"
    run_pipeline(raw, out, **SMALL_TOPICS)
    before = {**table_bytes(out), "manifest.json": (out / "manifest.json").read_bytes()}

    calls = {"n": 0}
    from kefu_corpus.stages import ingest as ingest_stage

    real = ingest_stage._flag_repeated_content

    def crash_on_second_part(tables, seen):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return real(tables, seen)

    monkeypatch.setattr(ingest_stage, "_flag_repeated_content", crash_on_second_part)
    (raw / "extra.txt").write_text("新增的一篇文章，关于呼叫中心。\n" * 3, encoding="utf-8")
    with pytest.raises(RuntimeError):
        run_pipeline(raw, out, **{"run.batch_size": 1, "run.part_bytes": 1000})  # a part per document
    after = {**table_bytes(out), "manifest.json": (out / "manifest.json").read_bytes()}
    assert after == before
    assert [p.name for p in (out / ".runs").iterdir()] == [(out / "current").resolve().name]
    assert not list(out.glob(".*tmp*")) and not list(out.glob(".*.link-*"))


def test_manifest_records_config_versions_inputs_counts_and_timings(quick_raw, tmp_path):
    result = run_pipeline(quick_raw, tmp_path / "out", **SMALL_TOPICS, **{"ingest.max_passage_chars": 900})
    manifest = read_manifest(tmp_path / "out")
    assert manifest["config"]["ingest"]["max_passage_chars"] == 900
    assert manifest["seed"] == manifest["config"]["run"]["seed"]
    assert {"python", "pyarrow", "charset-normalizer", "kefu-corpus"} <= set(manifest["versions"])
    assert [i["path"] for i in manifest["inputs"]] == [p.name for p in QUICK_SEEDS]
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert {k: v["rows"] for k, v in manifest["tables"].items()} == result.tables
    assert manifest["schema_versions"] == {name: spec.version for name, spec in TABLES.items()}
    assert manifest["stages"]["ingest"]["seconds"] >= 0 and manifest["stages"]["ingest"]["bytes"] > 0


class RecordedProgress:
    """A progress sink that keeps, per pass, its total and the steps it advanced."""

    def __init__(self):
        self.passes: dict[str, list] = {}
        self.current = None

    def start(self, stage, total):
        self.current = stage
        self.passes[stage] = [total, 0]

    def advance(self, n):
        self.passes[self.current][1] += n

    def finish(self):
        self.current = None


def test_trends_and_topics_report_every_pass_to_its_end(quick_raw, tmp_path):
    progress = RecordedProgress()
    config = pipeline.Config().with_overrides({"run.workers": 1, "run.memory_gb": 0.01, "topics.k_grid": [3, 5],
                                                "topics.iterations": 20})
    pipeline.run(quick_raw, tmp_path / "out", config, progress=progress)
    passes = {name: steps for name, steps in progress.passes.items() if name.startswith(("trends", "topics"))}
    assert {"trends: counts", "trends: keywords", "topics: vocabulary", "topics: sample", "topics: k grid",
            "topics: weights"} <= set(passes)
    for name, (total, advanced) in passes.items():
        assert total and advanced == total, name
    assert passes["topics: k grid"][0] == 2


def test_a_second_run_into_a_busy_folder_waits_or_stops_and_never_touches_the_first(raw, tmp_path):
    import threading

    from typer.testing import CliRunner

    from kefu_corpus.cli import app
    from kefu_corpus.errors import KefuError
    from kefu_corpus.store import RUNS, lock_folder

    out = tmp_path / "out"
    out.mkdir()
    held = lock_folder(out)  # a first run, still writing
    theirs = out / RUNS / "their-run"
    theirs.mkdir(parents=True)
    with pytest.raises(KefuError, match="Another kefu run"):
        run_pipeline(raw, out, **{"run.wait_for_lock": False})
    result = CliRunner().invoke(app, ["run", str(raw), "--out", str(out), "--no-wait", "--quiet"])
    assert result.exit_code == 1 and "Another kefu run" in result.output
    assert theirs.is_dir() and not (out / "manifest.json").exists()
    # waiting: the second run starts once the first lets go, and then writes its tables (ingest's: the
    # lock is the run's, whatever its stages)
    threading.Timer(1.0, held.close).start()
    run_pipeline(raw, out, until="ingest")
    assert read_manifest(out)["tables"]["documents"]["rows"] == 5


@pytest.mark.slow  # eight runs of every stage
def test_a_rerun_with_nothing_changed_does_nothing_and_any_change_reruns(tmp_path):
    from conftest import copy_seeds

    raw = copy_seeds(tmp_path / "raw")
    (raw / "003_5d7497af4c1b7a39.txt").unlink()  # no repair search: keeps the test quick
    out = tmp_path / "out"
    settings = {"topics.k_grid": [3], "topics.iterations": 20}
    first = run_pipeline(raw, out, **settings)
    run_id = read_manifest(out)["run_id"]
    again = run_pipeline(raw, out, **settings, **{"run.workers": 2, "run.batch_size": 3})  # how, not what
    assert again.up_to_date and again.tables == first.tables and read_manifest(out)["run_id"] == run_id
    assert again.status_counts == first.status_counts
    changes = [
        lambda: run_pipeline(raw, out, **{**settings, "ingest.max_passage_chars": 500}),  # the config
        lambda: (raw / "000_f3ddba8e5e0aec56.txt").write_bytes((raw / "000_f3ddba8e5e0aec56.txt").read_bytes() + b"\n"),
        lambda: (raw / "metadata.csv").write_text("file,title\n001_1cf401fc8db53469.txt,T\n", encoding="utf-8"),
        lambda: (raw / "notes.docx").write_bytes(b"x"),  # an ignored file is a row of ingest_report
        lambda: tablefiles.files(out / "tokens.parquet")[0].write_bytes(b"damaged"),  # a table changed since
    ]
    for change in changes:
        change()
        result = run_pipeline(raw, out, **settings)
        assert not result.up_to_date and read_manifest(out)["run_id"] != run_id
        run_id = read_manifest(out)["run_id"]
    assert run_pipeline(raw, out, **settings, **{"run.skip_unchanged": False}).up_to_date is False


def test_a_folder_of_parts_reads_as_one_table_that_groups_on_its_dictionary_columns(tmp_path):
    """Each part file has a dictionary of its own; read as one table, the column groups as one column
    (what a notebook does with `tokens.token_type` on a corpus of many parts)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from kefu_corpus import tablefiles

    folder = tmp_path / "tokens.parquet"
    folder.mkdir()
    for i, values in enumerate((["word", "punctuation", "word"], ["number", "word"])):
        pq.write_table(pa.table({"token_type": pa.array(values).dictionary_encode()}),
                       folder / tablefiles.part_name(i))
    table = tablefiles.read(folder)
    counts = table.group_by("token_type").aggregate([("token_type", "count")]).to_pylist()
    assert sorted((str(r["token_type"]), r["token_type_count"]) for r in counts) == [
        ("number", 1), ("punctuation", 1), ("word", 3)]


def test_documents_are_read_with_their_passages_in_step_and_a_part_out_of_order_is_named(seed_ingest, tmp_path):
    import pyarrow.parquet as pq

    from kefu_corpus.errors import KefuError
    from kefu_corpus.tasks import documents_with_passages

    out, _ = seed_ingest
    documents, passages = (tablefiles.files(out / TABLES[name].filename)[0] for name in ("documents", "passages"))
    batches = list(documents_with_passages(documents, passages, batch_size=2, batch_bytes=3000))
    assert len(batches) > 3  # cut by count and by size
    for docs, mine in batches:
        assert 1 <= docs.num_rows <= 2
        assert mine.column("doc_id").to_pylist() == [d for d, n in zip(docs.column("doc_id").to_pylist(),
                                                                       docs.column("n_passages").to_pylist())
                                                     for _ in range(n)]
    assert sum(d.num_rows for d, _ in batches) == pq.read_metadata(documents).num_rows
    assert sum(p.num_rows for _, p in batches) == pq.read_metadata(passages).num_rows
    shuffled = tmp_path / "passages.parquet"
    table = pq.read_table(passages)
    pq.write_table(table.take(list(range(table.num_rows))[::-1]), shuffled)
    with pytest.raises(KefuError, match="passages.parquet does not hold the passages of .* in document order"):
        list(documents_with_passages(documents, shuffled, batch_size=2, batch_bytes=3000))
