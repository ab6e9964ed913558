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
