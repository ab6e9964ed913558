"""Executors decide only *where* a stage function runs over batches; stage code never imports one.

``map(fn, batches)`` yields ``fn(batch)`` for every batch, in input order, so output order and therefore
output bytes do not depend on the number of workers. At most ``2 * workers`` batches are in flight, which
bounds memory however large the corpus. A worker ``initializer`` runs once per process (the place to load
heavy resources such as a segmentation dictionary).
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Callable, Iterable, Iterator, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    workers: int

    def map(self, fn: Callable[[T], R], batches: Iterable[T]) -> Iterator[R]: ...


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


class SerialExecutor:
    """Runs every batch in this process: no start-up cost, easiest to debug."""

    workers = 1

    def __init__(self, initializer: Callable[[], None] | None = None) -> None:
        self._initializer = initializer
        self._initialized = False

    def map(self, fn: Callable[[T], R], batches: Iterable[T]) -> Iterator[R]:
        if self._initializer and not self._initialized:
            self._initializer()
            self._initialized = True
        for batch in batches:
            yield fn(batch)


class LocalExecutor:
    """A pool of worker processes on this machine."""

    def __init__(self, workers: int, initializer: Callable[[], None] | None = None) -> None:
        self.workers = workers
        self._initializer = initializer

    def map(self, fn: Callable[[T], R], batches: Iterable[T]) -> Iterator[R]:
        window = 2 * self.workers
        with ProcessPoolExecutor(max_workers=self.workers, initializer=self._initializer) as pool:
            pending: deque[Future[R]] = deque()
            for batch in batches:
                pending.append(pool.submit(fn, batch))
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()


def make_executor(workers: int, initializer: Callable[[], None] | None = None) -> Executor:
    """``workers``: 0 for one per CPU, 1 for in-process, N for a pool of N processes."""
    n = cpu_count() if workers == 0 else workers
    return SerialExecutor(initializer) if n == 1 else LocalExecutor(n, initializer)
