"""Shared fixtures: the real seed corpus, a pipeline run over it, and helpers to build raw folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kefu_corpus import pipeline
from kefu_corpus.config import Config

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
SHARED = ROOT.parent / "shared"
SEEDS = sorted(RAW.glob("*.txt"))


def seed_text(prefix: str) -> str:
    """The decoded text of the seed whose file name starts with ``prefix`` (e.g. '003')."""
    return next(p for p in SEEDS if p.name.startswith(prefix)).read_text(encoding="utf-8")


def run_pipeline(raw: Path, out: Path, **overrides) -> pipeline.RunResult:
    config = Config().with_overrides({"run.workers": 1, **overrides})
    return pipeline.run(raw, out, config)


def read(out: Path, name: str) -> list[dict]:
    return pq.read_table(out / f"{name}.parquet").to_pylist()


def output_files(out: Path) -> dict[str, bytes]:
    """The bytes of every table file of a run (each part of a parted table) and of its topic model."""
    from kefu_corpus import tablefiles
    from kefu_corpus.schemas import TABLES
    from kefu_corpus.stages.topics import MODEL_FILE

    files = {}
    for spec in TABLES.values():
        for path in tablefiles.files(out / spec.filename):
            files[str(path.relative_to(out))] = path.read_bytes()
    model = out / MODEL_FILE
    if model.exists():
        files[MODEL_FILE] = model.read_bytes()
    return files


def copy_seeds(folder: Path) -> Path:
    """A copy of the seed articles in ``folder`` (tests never write to data/raw)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in SEEDS:
        shutil.copy2(path, folder / path.name)
    return folder


@pytest.fixture()
def raw(tmp_path) -> Path:
    """A fresh, writable copy of the seed folder."""
    return copy_seeds(tmp_path / "raw")


@pytest.fixture(scope="session")
def seed_run(tmp_path_factory) -> tuple[Path, pipeline.RunResult]:
    """One pipeline run over a copy of data/raw (the raw folder is never written to)."""
    raw = copy_seeds(tmp_path_factory.mktemp("raw"))
    out = tmp_path_factory.mktemp("out")
    return out, run_pipeline(raw, out)


@pytest.fixture(scope="session")
def seed_docs(seed_run) -> dict[str, dict]:
    """documents.parquet rows by seed number ('000'..'004')."""
    out, _ = seed_run
    return {row["source_path"][:3]: row for row in read(out, "documents")}


#: Fixtures that run the whole pipeline, or fit a repair model: a test that uses one is slow.
SLOW_FIXTURES = {"seed_run", "seed_docs", "corpus_model", "repaired_003"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
