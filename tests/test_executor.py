"""Executors: results in input order whatever the workers, and no worker outlives its driver."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from kefu_corpus.executor import LocalExecutor, SerialExecutor


def test_results_come_back_in_input_order_with_shared_objects():
    tasks = list(range(20))
    serial = list(SerialExecutor().map(pow, tasks, shared=3))
    assert list(LocalExecutor(2).map(pow, tasks, shared=3)) == serial == [t ** 3 for t in tasks]


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kill -9 and /proc are Linux here")
def test_workers_end_when_their_driver_is_killed(tmp_path):
    driver = textwrap.dedent("""
        import time
        from kefu_corpus.executor import LocalExecutor
        for _ in LocalExecutor(2).map(time.sleep, [600] * 4):
            pass
    """)
    proc = subprocess.Popen([sys.executable, "-c", driver])
    try:
        deadline = time.monotonic() + 60
        workers: list[psutil.Process] = []
        while time.monotonic() < deadline and len(workers) < 3:  # the fork server and two workers
            time.sleep(0.2)
            workers = psutil.Process(proc.pid).children(recursive=True)
        assert len(workers) >= 3, "the pool did not start"
        os.kill(proc.pid, signal.SIGKILL)  # not reaped yet: the driver stays a zombie while we look
        gone, alive = psutil.wait_procs(workers, timeout=15)
        assert alive == [], f"{len(alive)} process(es) outlived their driver"
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.slow  # a fresh interpreter and its pool of two: seconds of start-up
def test_a_script_without_a_main_guard_fails_fast_with_the_fix(tmp_path):
    # Workers re-import the main script: unguarded, it would start a run of its own in each of them.
    import shutil
    import subprocess
    import sys

    from conftest import SEEDS

    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy2(SEEDS[4], raw / SEEDS[4].name)
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import sys\nfrom pathlib import Path\nfrom kefu_corpus import pipeline\nfrom kefu_corpus.config import Config\n"
        f"pipeline.run(Path({str(raw)!r}), Path({str(tmp_path / 'out')!r}), "
        "Config().with_overrides({'run.workers': 2}), stages=('ingest',))\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert 'if __name__ == "__main__":' in done.stderr and "A worker process ended abruptly" in done.stderr
