"""A run commits as a whole: killed at any instant, or racing another run, an output folder holds exactly
one complete run, and the next run gives the same tables as a clean one."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import SEEDS
from kefu_corpus import tablefiles
from kefu_corpus.info import describe
from kefu_corpus.schemas import TABLES
from kefu_corpus.transforms.topics import MODEL_FILE
from kefu_corpus.store import CURRENT, LOCK, RUNS, lock_folder, read_manifest

pytestmark = pytest.mark.slow

# Small enough for many runs: the seeds without 003 (whose repair model is the slow part of a seed run).
SETTINGS = ["-s", "topics.k_grid=[3]", "-s", "topics.iterations=20", "-w", "1"]
COMMIT_POINTS = ["commit:written", "commit:linked", "commit:switched", "commit:relinked"]


def kefu(raw, out, *extra, env=None, **popen):
    cmd = [sys.executable, "-m", "kefu_corpus", "run", str(raw), "--out", str(out), *SETTINGS, *(extra or ["-q"])]
    return subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


def finish(proc, code=0):
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr
    return stdout + stderr


def state(out):
    """What a reader of ``out`` sees: the SHA-256 of every table and of the model (None: absent)."""
    names = [spec.filename for spec in TABLES.values()] + [MODEL_FILE]
    return {name: _digest(out / name) if (out / name).exists() else None for name in names}


def _digest(path):
    """SHA-256 of a file, or of the parts of a parted table."""
    digest = hashlib.sha256()
    for part in tablefiles.files(path):
        digest.update(part.name.encode() + part.read_bytes())
    return digest.hexdigest()


def assert_one_complete_run(out, *expected):
    seen = state(out)
    assert seen in expected, "the folder mixes runs"
    info = describe(out)
    assert info["warnings"] == []
    assert {t["table"] for t in info["tables"]} == {n for n, spec in TABLES.items() if seen[spec.filename]}
    runs = [p.name for p in (out / RUNS).iterdir()]
    assert (out / CURRENT).resolve().name in runs and len(runs) <= 2  # at most one unfinished run beside it


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """Two raw folders (old: three seeds, new: four) and the state of a clean run of each."""
    base = tmp_path_factory.mktemp("commit")
    old, new = base / "old", base / "new"
    for folder, prefixes in ((old, "012"), (new, "0124")):
        folder.mkdir()
        for path in SEEDS:
            if path.name[2] in prefixes:
                shutil.copy2(path, folder / path.name)
    clean = {}
    for name, raw in (("old", old), ("new", new)):
        started = time.perf_counter()
        finish(kefu(raw, base / f"clean-{name}"))
        clean[name] = (state(base / f"clean-{name}"), time.perf_counter() - started)
    assert clean["old"][0] != clean["new"][0]
    return {"old": old, "new": new, "clean": clean, "base": base}


def wait_for_lock(proc, out):
    """Wait until ``proc`` holds the lock of ``out``: its pipeline has begun."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if (out / LOCK).read_text().strip() == f"pid {proc.pid}":
                return
        except FileNotFoundError:
            pass
        time.sleep(0.005)
    raise AssertionError("the run never took the lock")


def test_a_kill_at_any_point_of_a_run_leaves_the_old_run_or_the_new_one(corpora, tmp_path):
    (old_state, _), (new_state, _) = corpora["clean"]["old"], corpora["clean"]["new"]
    pipeline_seconds = read_manifest(corpora["base"] / "clean-new")["seconds"]
    clean_old = corpora["base"] / "clean-old"
    out = tmp_path / "out"
    shutil.copytree(clean_old, out, symlinks=True)
    assert state(out) == old_state
    # Kills spread over a clean run's stages, from ingest to the commit, and two during start-up ...
    for delay in [None, None] + [pipeline_seconds * (i + 0.5) / 10 for i in range(10)]:
        proc = kefu(corpora["new"], out, start_new_session=True)
        if delay is None:
            time.sleep(0.5)
        else:
            wait_for_lock(proc, out)
            time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        assert_one_complete_run(out, old_state, new_state)
    # ... then one at each step of the commit itself.
    for point in COMMIT_POINTS:
        shutil.rmtree(out)
        shutil.copytree(clean_old, out, symlinks=True)
        proc = kefu(corpora["new"], out, env={"KEFU_KILL_AT": point})
        proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL, point  # it did reach that point
        assert_one_complete_run(out, old_state if point in ("commit:written", "commit:linked") else new_state)
    # The rerun after a kill gives the tables of a clean run.
    finish(kefu(corpora["new"], out))
    assert state(out) == new_state
    assert [p.name for p in (out / RUNS).iterdir()] == [(out / CURRENT).resolve().name]


def test_two_runs_into_one_folder_at_once_end_as_one_complete_run(corpora, tmp_path):
    (old_state, _), (new_state, _) = corpora["clean"]["old"], corpora["clean"]["new"]
    out = tmp_path / "out"
    first, second = kefu(corpora["old"], out), kefu(corpora["new"], out)
    finish(first), finish(second)
    assert_one_complete_run(out, old_state, new_state)
    assert [p.name for p in (out / RUNS).iterdir()] == [(out / CURRENT).resolve().name]


def test_a_run_into_a_locked_folder_stops_with_no_wait_and_otherwise_waits(corpora, tmp_path):
    (old_state, _), (new_state, _) = corpora["clean"]["old"], corpora["clean"]["new"]
    out = tmp_path / "out"
    finish(kefu(corpora["old"], out))
    held = lock_folder(out)  # another run, writing
    output = finish(kefu(corpora["new"], out, "--no-wait"), code=1)
    assert "Another kefu run" in output and f"pid {os.getpid()}" in output
    assert state(out) == old_state
    waiting = kefu(corpora["new"], out, "--verbose")
    time.sleep(4)  # long enough to start and reach the lock
    assert waiting.poll() is None and state(out) == old_state
    held.close()
    assert "Waiting for it to finish" in finish(waiting)
    assert state(out) == new_state and read_manifest(out)["tables"]["documents"]["rows"] == 4


def test_a_folder_written_before_runs_were_versioned_becomes_a_versioned_one(corpora, tmp_path):
    (_, _), (new_state, _) = corpora["clean"]["old"], corpora["clean"]["new"]
    out = tmp_path / "out"
    shutil.copytree(corpora["base"] / "clean-old" / CURRENT, out)  # plain files, no .runs, no links
    (out / "stale.parquet").write_bytes(b"")
    finish(kefu(corpora["new"], out))
    assert state(out) == new_state
    assert all((out / spec.filename).is_symlink() for spec in TABLES.values())
    assert (out / "models").is_symlink() and (out / "stale.parquet").is_file()
