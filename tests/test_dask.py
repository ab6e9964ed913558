"""On a Dask cluster, the pipeline writes the tables a local run writes, byte for byte."""

from __future__ import annotations

import gzip
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SHARED, output_files
from kefu_corpus.schemas import TABLES

pytestmark = pytest.mark.slow

BENCH = SHARED / "bench" / "tw_laws.jsonl.gz"
# The repair model without the reference test: the slow part of a seed run, and the same in both runs.
SETTINGS = ["-s", "topics.k_grid=[3,5]", "-s", "topics.iterations=50", "-s", "normalise.repair_reference=never", "-q"]


def dask_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("dask")), *args]


@pytest.fixture()
def cluster(tmp_path):
    """A scheduler and two worker processes on 127.0.0.1, each its own process (not threads)."""
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [subprocess.Popen(dask_command("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                           "--scheduler-file", str(scheduler_file)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    deadline = time.monotonic() + 60
    while not scheduler_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    for _ in range(2):
        procs.append(subprocess.Popen(dask_command("worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                                                   "--no-dashboard", "--host", "127.0.0.1",
                                                   "--local-directory", str(tmp_path / "dask")),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
    import json

    address = json.loads(scheduler_file.read_text())["address"]
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=60)
        pids = set(client.run(os.getpid).values())
    assert len(pids) == 2 and os.getpid() not in pids  # two processes of their own
    yield address, scheduler_file
    for proc in reversed(procs):
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=30)


def tables(out: Path) -> dict[str, bytes]:
    files = output_files(out)
    assert {name.split("/")[0] for name in files} >= {spec.filename for spec in TABLES.values()} | {"models"}
    return files


def kefu(raw: Path, out: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "kefu_corpus", "run", str(raw), "--out", str(out), *SETTINGS, *args],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def kill_a_busy_worker(address: str, deadline: float) -> bool:
    """SIGKILL the process of a worker that is running a task; whether one was found before ``deadline``."""
    import signal

    from distributed import Client

    with Client(address, timeout=60) as client:
        pids = client.run(os.getpid)
        while time.monotonic() < deadline:
            busy = [w for w, tasks in client.processing().items() if tasks]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                return True
            time.sleep(0.05)
    return False


def test_a_run_on_a_dask_cluster_writes_the_tables_of_a_local_run_even_if_a_worker_dies(raw, tmp_path, cluster):
    address, _ = cluster
    if BENCH.exists():
        with gzip.open(BENCH, "rt", encoding="utf-8") as fh:
            (raw / "statutes.jsonl").write_text("".join(itertools.islice(fh, 500)), encoding="utf-8")
    kefu(raw, tmp_path / "local", "--workers", "2")
    run = subprocess.Popen([sys.executable, "-m", "kefu_corpus", "run", str(raw), "--out", str(tmp_path / "dask"),
                            *SETTINGS, "--executor", "dask", "--scheduler", address],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = kill_a_busy_worker(address, time.monotonic() + 120)
    _, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, stderr[-3000:]
    assert killed, "no worker was ever busy"
    assert tables(tmp_path / "dask") == tables(tmp_path / "local")  # its task ran again elsewhere
