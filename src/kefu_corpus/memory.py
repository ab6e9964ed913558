"""Memory: the budget the corpus-wide stages size their work by, and the peak they actually used.

``run.memory_gb`` is a budget, not a hard limit. From it come the rows of ``tokens`` one task reads
(:meth:`Budget.slice_rows`, so that every worker's task fits in half of it), how many rows of partial
counts the driver holds before it merges them (:meth:`Budget.merge_rows`), and the largest topic
sample (:meth:`Budget.sample_terms`). :class:`PeakRss` samples the resident memory of this process
and its workers (proportional set sizes, so shared pages count once) while a stage runs; the
manifest records the peak of each stage as ``peak_rss_mb``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

#: Bytes a task holds per row of ``tokens`` while it works on it (Arrow columns, their string casts and
#: the numpy arrays of the counts and graphs), measured on the bench corpus.
TOKEN_ROW_BYTES = 600
#: Bytes per row of a partial count table held by the driver (a term string, a year and two counts).
COUNT_ROW_BYTES = 64
#: Bytes an engine holds per term of a topic sample while it fits (the sample's ids, the engine's own
#: copy with its topic assignments, and the count matrices).
SAMPLE_TERM_BYTES = 40


@dataclass(frozen=True)
class Budget:
    """``gb`` of memory for ``workers`` processes."""

    gb: float
    workers: int

    @property
    def bytes(self) -> int:
        return int(self.gb * 1e9)

    def slice_rows(self) -> int:
        """Rows of ``tokens`` per task: all workers' tasks together in half the budget."""
        return max(65_536, self.bytes // 2 // (max(self.workers, 1) * TOKEN_ROW_BYTES))

    def merge_rows(self) -> int:
        """Rows of partial counts the driver holds before merging them: a quarter of the budget."""
        return max(100_000, self.bytes // 4 // COUNT_ROW_BYTES)

    def sample_terms(self) -> int:
        """Terms of a topic sample that every worker can fit at once in half the budget."""
        return max(100_000, self.bytes // 2 // (max(self.workers, 1) * SAMPLE_TERM_BYTES))


def _pss(pid: int) -> int | None:
    """Proportional set size of process ``pid`` in bytes, from the kernel's own total in
    ``/proc/<pid>/smaps_rollup`` (one line read; None where it cannot be read)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def tree_memory() -> int:
    """Bytes of memory this process and all its descendants (worker pools included) use: the sum of
    their proportional set sizes (PSS), so that pages forked workers share with the driver count once;
    resident set sizes where PSS cannot be read."""
    import psutil

    def used(process: psutil.Process) -> int:
        pss = _pss(process.pid)
        return pss if pss is not None else process.memory_info().rss

    me = psutil.Process()
    total = used(me)
    for child in me.children(recursive=True):
        try:
            total += used(child)
        except psutil.Error:  # a worker that ended meanwhile
            pass
    return total


class PeakRss:
    """Context manager: the peak of :func:`tree_memory` while the block runs, sampled every ``interval``
    seconds in a background thread (``peak_mb`` once the block is done)."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, tree_memory())
            if self._stop.wait(self.interval):
                break

    def __enter__(self) -> PeakRss:
        self.peak = tree_memory()
        self._thread = threading.Thread(target=self._sample, name="kefu-peak-rss", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, tree_memory())

    @property
    def peak_mb(self) -> float:
        return round(self.peak / 1e6, 1)
