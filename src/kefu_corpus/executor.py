"""Executors decide only *where* a stage function runs over tasks; stage code never imports one.

``map(fn, tasks)`` yields ``fn(task)`` for every task, in input order, so output order and therefore
output bytes do not depend on the number of workers. At most ``2 * workers`` tasks are in flight, which
bounds memory however large the corpus.

Heavy resources that every task needs (a repair model, a vocabulary with its IDF, a topic sample) are
handed over explicitly: ``map(fn, tasks, shared=obj)`` calls ``fn(task, obj)``, and ``obj`` travels to
each worker process once, not with every task. ``map(..., initializer=f)`` runs ``f`` once in each worker
before its first task of that call (to load a segmenter, say).

Two engines implement this: :class:`LocalExecutor` (a process pool on this machine) and
:class:`~kefu_corpus.dask_executor.DaskExecutor` (a Dask cluster); ``run.executor`` chooses.

Workers are forked from a *fork server*, a clean single-threaded process started once per driver with
the stage modules already imported, never from the driver itself. A driver that has run threads of its
own (a serial run before, Arrow, tomotopy or rensa's thread pools) could otherwise hand a worker a lock
held by a thread that does not exist in the child, and the run would hang. Functions, tasks, the
initializer and ``shared`` are therefore pickled. A worker ends when its driver does, however the driver
ends (kill -9 included), so a killed run leaves no process behind.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable, Iterator, Protocol, TypeVar

from kefu_corpus.errors import KefuError

T = TypeVar("T")
R = TypeVar("R")

_NOTHING = object()
#: What ``map(..., shared=...)`` gave this worker process (set by the pool's initializer).
_SHARED: Any = _NOTHING


class Executor(Protocol):
    workers: int

    def map(self, fn: Callable[..., R], tasks: Iterable[T], *, shared: Any = _NOTHING,
            initializer: Callable[[], None] | None = None) -> Iterator[R]: ...

    def close(self) -> None: ...


#: Modules the fork server imports once, so that each worker starts with them loaded.
PRELOAD = ["kefu_corpus.pipeline", "kefu_corpus.tasks", *(f"kefu_corpus.transforms.{name}" for name in
           ("ingest", "normalise", "dedup", "segment", "trends", "keywords", "topics"))]


def _context() -> multiprocessing.context.BaseContext:
    try:
        ctx = multiprocessing.get_context("forkserver")
    except ValueError:  # pragma: no cover - no fork server on this platform
        return multiprocessing.get_context("spawn")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


class SerialExecutor:
    """Runs every task in this process: no start-up cost, easiest to debug."""

    workers = 1

    def map(self, fn: Callable[..., R], tasks: Iterable[T], *, shared: Any = _NOTHING,
            initializer: Callable[[], None] | None = None) -> Iterator[R]:
        if initializer is not None:
            initializer()
        for task in tasks:
            yield fn(task) if shared is _NOTHING else fn(task, shared)

    def close(self) -> None:
        pass


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a killed process its parent has not yet reaped does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except OSError:  # pragma: no cover - no /proc here
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return False
        return True


def _die_with(driver: int) -> None:
    """End this worker when the driver process ``driver`` ends, however it ends (kill -9 included): the
    kernel's parent-death signal where there is one (the parent is the fork server, which leaves when the
    driver does), and a watchdog thread that checks the driver every second."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass

    def watch() -> None:
        while _alive(driver):
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="kefu-driver-watch", daemon=True).start()


def _init_worker(driver: int, initializer: Callable[[], None] | None, shared: Any) -> None:
    global _SHARED
    _die_with(driver)
    _SHARED = shared
    if initializer is not None:
        initializer()


def _call_with_shared(fn: Callable[..., R], task: Any) -> R:
    return fn(task, _SHARED)


class LocalExecutor:
    """A pool of worker processes on this machine, started for each ``map`` call."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def map(self, fn: Callable[..., R], tasks: Iterable[T], *, shared: Any = _NOTHING,
            initializer: Callable[[], None] | None = None) -> Iterator[R]:
        try:
            yield from self._map(fn, tasks, shared, initializer)
        except BrokenProcessPool as exc:
            raise KefuError("A worker process ended abruptly: it was killed (out of memory?), or it failed to "
                            "start (see the messages above).",
                            hint="rerun with --workers 1 to see the error in this process; check free memory") from exc

    def _map(self, fn: Callable[..., R], tasks: Iterable[T], shared: Any, initializer) -> Iterator[R]:
        window = 2 * self.workers
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=_context(), initializer=_init_worker,
                                 initargs=(os.getpid(), initializer, shared)) as pool:
            pending: deque[Future[R]] = deque()
            for task in tasks:
                if shared is _NOTHING:
                    pending.append(pool.submit(fn, task))
                else:
                    pending.append(pool.submit(_call_with_shared, fn, task))
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def close(self) -> None:
        pass


def make_executor(workers: int) -> Executor:
    """``workers``: 0 for one per CPU, 1 for in-process, N for a pool of N processes."""
    n = cpu_count() if workers == 0 else workers
    return SerialExecutor() if n == 1 else LocalExecutor(n)


def open_executor(kind: str, workers: int, scheduler: str = "") -> Executor:
    """The executor of a run: ``kind`` "local" (:func:`make_executor`) or "dask" (a Dask cluster at
    ``scheduler``, or a local one of ``workers`` processes). Close it when the run ends."""
    if kind == "dask":
        from kefu_corpus.dask_executor import DaskExecutor

        return DaskExecutor.connect(scheduler, workers=cpu_count() if workers == 0 else workers)
    return make_executor(workers)
