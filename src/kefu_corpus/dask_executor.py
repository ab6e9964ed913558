"""Stage tasks on a Dask cluster (``dask.distributed``): the same ``map`` as the local pool.

``run.executor = "dask"`` sends each stage's tasks to the cluster at ``run.scheduler`` (an address such
as ``tcp://10.0.0.5:8786``), or, when it is empty, to a ``LocalCluster`` of ``run.workers`` worker
processes bound to 127.0.0.1. Results come back in input order, with at most two tasks per worker thread
in flight, so the tables are the bytes a local run writes. A ``shared`` object is scattered to every
worker once per ``map``; an ``initializer`` runs once per worker process and ``map`` call. A task whose
worker dies is run again on another (Dask's own retry).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from typing import Any, Callable, Iterable, Iterator, TypeVar

from kefu_corpus.errors import KefuError
from kefu_corpus.executor import _NOTHING

T = TypeVar("T")
R = TypeVar("R")

#: glibc's trim threshold for the workers of a local cluster (bytes): 64 MiB.
_TRIM = 64 * 1024 * 1024
#: In each worker process: the initializers already run (by ``map`` call).
_READY: set[str] = set()
_READY_LOCK = threading.Lock()


def _call(fn: Callable[..., R], task: Any, shared: Any, has_shared: bool, key: str,
          initializer: Callable[[], None] | None) -> R:
    if initializer is not None and key not in _READY:
        with _READY_LOCK:
            if key not in _READY:
                initializer()
                _READY.add(key)
    return fn(task, shared) if has_shared else fn(task)


class DaskExecutor:
    """Tasks on a Dask cluster, through a ``distributed.Client``."""

    def __init__(self, client: Any, cluster: Any = None) -> None:
        self.client = client
        self._cluster = cluster
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
        self.workers = max(1, threads)

    @classmethod
    def connect(cls, scheduler: str = "", *, workers: int = 2, timeout: float = 60.0) -> DaskExecutor:
        """A client of the scheduler at ``scheduler``, or of a new local cluster of ``workers`` processes
        with one thread each, listening on 127.0.0.1 only."""
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - dask is a dependency
            raise KefuError("run.executor = \"dask\" needs dask.distributed.",
                            hint="pip install 'dask[distributed]'") from exc
        logging.getLogger("distributed").setLevel(logging.WARNING)
        cluster = None
        try:
            if scheduler:
                client = Client(scheduler, timeout=timeout)
                client.wait_for_workers(1, timeout=timeout)
            else:
                import dask

                # Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536, which makes glibc hand
                # memory back after almost every free: the per-document stages, which allocate many
                # small objects, then run far slower than on the local pool. kefu's tasks bound their
                # memory themselves.
                with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": _TRIM}):
                    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None)
                client = Client(cluster)
        except (OSError, TimeoutError) as exc:
            if cluster is not None:
                cluster.close()
            where = scheduler or "a local cluster"
            raise KefuError(f"Cannot reach a Dask scheduler with workers at {where} ({exc}).",
                            hint="start one with `dask scheduler` and `dask worker ADDRESS`, or leave "
                                 "run.scheduler empty for a local cluster") from exc
        return cls(client, cluster)

    @property
    def dashboard(self) -> str | None:
        return self.client.dashboard_link

    def map(self, fn: Callable[..., R], tasks: Iterable[T], *, shared: Any = _NOTHING,
            initializer: Callable[[], None] | None = None) -> Iterator[R]:
        key = uuid.uuid4().hex
        has_shared = shared is not _NOTHING
        # in a list: scatter would spread a tuple or dict over several futures
        shared_future = self.client.scatter([shared], broadcast=True, hash=False)[0] if has_shared else None
        window = 2 * self.workers
        pending: deque = deque()
        try:
            for task in tasks:
                pending.append(self.client.submit(_call, fn, task, shared_future, has_shared, key, initializer,
                                                  pure=False))
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
            if shared_future is not None:
                shared_future.release()

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
