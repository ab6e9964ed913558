"""Shared fixtures: the real seed corpus, runs of the pipeline over it, and helpers to build raw folders.

The suite has two tiers. ``make test-fast`` (``-m "not slow"``) runs pure functions, and stages on small
inputs, each run only as far as the stage tested (``run_pipeline(..., until="dedup")``). ``make test``
adds the tests marked ``slow``: those that take more than a few seconds, and those that read the whole
pipeline's run over the five seeds, which all share one run (:func:`seed_run`). Seed 003's repair (its
model and search take tens of seconds, once per process) is most of that run's cost: a test that needs
every stage but not the repair runs over :data:`QUICK_SEEDS`.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

import pyarrow.parquet as pq
import pytest

from kefu_corpus import pipeline
from kefu_corpus.config import Config

# What kefu-corpus caches to start faster (kefu_corpus.text.lexicon.cache_folder) goes to a folder of this
# test process, never the user's; the CLI's subprocesses inherit it.
os.environ["KEFU_CACHE_DIR"] = tempfile.mkdtemp(prefix="kefu-test-cache-")
atexit.register(shutil.rmtree, os.environ["KEFU_CACHE_DIR"], ignore_errors=True)

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
SHARED = ROOT.parent / "shared"
SEEDS = sorted(RAW.glob("*.txt"))
#: The seeds but 003, the one with damaged text: a run over them has no repair to search and takes a second.
QUICK_SEEDS = [p for p in SEEDS if not p.name.startswith("003")]
#: Settings that make the topics stage quick (one k, few iterations), for tests that need its tables but
#: not the choice of k.
SMALL_TOPICS = {"topics.k_grid": [3], "topics.iterations": 20}


def seed_text(prefix: str) -> str:
    """The decoded text of the seed whose file name starts with ``prefix`` (e.g. '003')."""
    return next(p for p in SEEDS if p.name.startswith(prefix)).read_text(encoding="utf-8")


def stages_until(last: str | None = None) -> tuple[str, ...]:
    """The stages from ingest up to and including ``last`` (all of them for None): what a test of the
    tables ``last`` writes needs to run."""
    return pipeline.STAGES if last is None else pipeline.STAGES[: pipeline.STAGES.index(last) + 1]


def run_pipeline(raw: Path, out: Path, *, until: str | None = None, **overrides) -> pipeline.RunResult:
    """Run the stages up to ``until`` (the whole pipeline by default) over ``raw`` into ``out``, with one
    worker and the config ``overrides`` (``{"section.key": value}``)."""
    config = Config().with_overrides({"run.workers": 1, **overrides})
    return pipeline.run(raw, out, config, stages=stages_until(until))


def read(out: Path, name: str) -> list[dict]:
    return pq.read_table(out / f"{name}.parquet").to_pylist()


def output_files(out: Path) -> dict[str, bytes]:
    """The bytes of every table file of a run (each part of a parted table) and of its topic model."""
    from kefu_corpus import tablefiles
    from kefu_corpus.schemas import TABLES
    from kefu_corpus.transforms.topics import MODEL_FILE

    files = {}
    for spec in TABLES.values():
        for path in tablefiles.files(out / spec.filename):
            files[str(path.relative_to(out))] = path.read_bytes()
    model = out / MODEL_FILE
    if model.exists():
        files[MODEL_FILE] = model.read_bytes()
    return files


def copy_seeds(folder: Path, seeds: list[Path] = SEEDS) -> Path:
    """A copy of the seed articles (``seeds``: all five by default) in ``folder`` (tests never write to
    data/raw)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in seeds:
        shutil.copy2(path, folder / path.name)
    return folder


def folder_state(folder: Path) -> dict[str, tuple[bytes, int]]:
    """The bytes and modification time of each file in ``folder``."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}


def once_per_session(tmp_path_factory, name: str, make: Callable[[Path], Any]) -> Any:
    """``make(folder)`` computed once for the whole test session, in a fresh ``folder``.

    Under pytest-xdist each worker is a session of its own; the first to ask computes the value in a
    folder all of them share (the session's base temporary folder) while holding a lock, and the others
    wait for it, then load its pickled result. Without xdist the folder is this session's own."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the folder of this session's workers, and of no other session
    folder, done = base / name, base / f"{name}.pickle"
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if done.is_file():
            return pickle.loads(done.read_bytes())
        if folder.exists():
            shutil.rmtree(folder)  # left by a worker whose attempt failed
        folder.mkdir()
        value = make(folder)
        done.write_bytes(pickle.dumps(value))
        return value


@pytest.fixture()
def raw(tmp_path) -> Path:
    """A fresh, writable copy of the seed folder."""
    return copy_seeds(tmp_path / "raw")


@pytest.fixture()
def quick_raw(tmp_path) -> Path:
    """A fresh, writable copy of the seed folder without 003 (:data:`QUICK_SEEDS`)."""
    return copy_seeds(tmp_path / "raw", QUICK_SEEDS)


def _seed_run(folder: Path) -> dict[str, Any]:
    raw = copy_seeds(folder / "raw")
    before = folder_state(raw)
    out = folder / "out"
    return {"out": out, "result": run_pipeline(raw, out), "raw": raw, "raw_before": before}


@pytest.fixture(scope="session")
def _shared_seed_run(tmp_path_factory) -> dict[str, Any]:
    return once_per_session(tmp_path_factory, "seed_run", _seed_run)


@pytest.fixture(scope="session")
def seed_run(_shared_seed_run) -> tuple[Path, pipeline.RunResult]:
    """The whole pipeline run over a copy of data/raw, once per test session (:func:`once_per_session`).
    Every xdist worker reads the same output folder: a test may read it, never write to it (copy it
    first)."""
    return _shared_seed_run["out"], _shared_seed_run["result"]


@pytest.fixture(scope="session")
def seed_run_raw(_shared_seed_run) -> tuple[Path, dict[str, tuple[bytes, int]]]:
    """The raw folder of :func:`seed_run`, and its :func:`folder_state` before the run."""
    return _shared_seed_run["raw"], _shared_seed_run["raw_before"]


@pytest.fixture(scope="session")
def seed_ingest(tmp_path_factory) -> tuple[Path, pipeline.RunResult]:
    """The ingest stage alone over a copy of data/raw (a fraction of a second): for tests of the tables
    ingest writes (documents, passages, boilerplate, ingest_report) as it writes them."""
    raw = copy_seeds(tmp_path_factory.mktemp("raw"))
    out = tmp_path_factory.mktemp("ingested")
    return out, run_pipeline(raw, out, until="ingest")


@pytest.fixture(scope="session")
def seed_ingest_docs(seed_ingest) -> dict[str, dict]:
    """documents.parquet rows of :func:`seed_ingest` by seed number ('000'..'004')."""
    out, _ = seed_ingest
    return {row["source_path"][:3]: row for row in read(out, "documents")}


@pytest.fixture(scope="session")
def seed_docs(seed_run) -> dict[str, dict]:
    """documents.parquet rows by seed number ('000'..'004')."""
    out, _ = seed_run
    return {row["source_path"][:3]: row for row in read(out, "documents")}


#: Fixtures that run the whole pipeline over the seeds, or fit a repair model: a test that uses one is slow.
SLOW_FIXTURES = {"_shared_seed_run", "seed_run", "seed_docs", "corpus_model", "repaired_003"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
