"""Running a stage over the parts of its tables: the part cache, the tasks, the ordered map through the
executor, and the library versions that a part's freshness depends on. Used by the stages' runners.
"""

from __future__ import annotations

import os
import platform
from dataclasses import replace
from functools import lru_cache, partial
from importlib import metadata
from collections import deque
from pathlib import Path
from typing import Any

from kefu_corpus import __version__, freshness, schemas
from kefu_corpus.config import Config
from kefu_corpus.executor import Executor
from kefu_corpus.memory import Budget
from kefu_corpus.partcache import PartCache, file_digest, run_cached
from kefu_corpus.store import RunWriter
from kefu_corpus.tasks import PartTask, plan_parts


@lru_cache(maxsize=1)
def recorded_libraries() -> tuple[str, ...]:
    """Distributions whose versions every manifest records: kefu-corpus's own dependencies, as its
    installed metadata declares them (pyproject.toml), extras named in them included (dask's
    ``distributed``), for this Python."""
    from packaging.requirements import Requirement

    names: list[str] = []
    for line in metadata.requires("kefu-corpus") or []:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # an optional extra's (dev, notebooks), or not for this Python
        for name in (requirement.name, *sorted(requirement.extras)):
            if name not in names:
                names.append(name)
    return tuple(names)


def library_versions() -> dict[str, str]:
    """The version of Python, of kefu-corpus and of each of :func:`recorded_libraries` (read once per
    process: a run asks for them for its key, its manifest and each stage's part cache)."""
    return dict(_library_versions())


@lru_cache(maxsize=1)
def _library_versions() -> tuple[tuple[str, str], ...]:
    versions = {"python": platform.python_version(), "kefu-corpus": __version__}
    for dist in recorded_libraries():
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return tuple(versions.items())


def part_tasks(writer: RunWriter, outputs: tuple[str, ...], **tables: Path) -> list[PartTask]:
    """One task per part of the input ``tables``, writing the parted ``outputs`` of this run."""
    for name in outputs:
        writer.open(name)
    return plan_parts(tables, writer.part_target)


def part_cache(writer: RunWriter, config: Config, stage: str, name: str | None = None) -> PartCache:
    """The part cache of ``stage`` (under ``name``, for a stage with two kinds of task); its entries
    depend on which of the stage's tables are transient (their codec)."""
    context = freshness.stage_context(config, stage, library_versions(),
                                      {n: spec.version for n, spec in schemas.TABLES.items()})
    return writer.part_cache(name or stage, {"stage": context, "transient": sorted(writer.transient)},
                             reuse=config["run.reuse_parts"])


def with_entries(tasks: list[PartTask], cache: PartCache, *pieces) -> list[PartTask]:
    """``tasks`` with their cache entries: the digests of their input part files and ``pieces[i]``."""
    return [replace(task, entry=cache.entry(*(file_digest(p) for _, p in sorted(task.inputs.items())),
                                            *(piece[i] for piece in pieces)), reuse=cache.reuse)
            for i, task in enumerate(tasks)]


def map_parts(executor: Executor, fn, tasks, cache: PartCache, writer: RunWriter, outputs: tuple[str, ...],
               **kwargs):
    """``(task, result)`` of ``fn`` over part ``tasks``, in order, through the part cache: each finished
    part's files (tables ``outputs``) are linked into the run folder as they arrive.

    A list of tasks is sent largest input first (parts differ up to fourfold in size), so that no worker
    is left with a large part while the others have finished the stage; the results still come back in
    the tasks' order, each as soon as it and those before it are done."""
    if isinstance(tasks, list):
        order = sorted(range(len(tasks)), key=lambda i: -input_bytes(tasks[i]))
    else:
        order = None
    sent: deque[PartTask] = deque()

    def remember():
        for task in (tasks if order is None else (tasks[i] for i in order)):
            sent.append(task)
            yield task

    waiting: dict[int, tuple[PartTask, Any]] = {}
    next_index = 0
    for cached in executor.map(partial(run_cached, fn), remember(), **kwargs):
        task = sent.popleft()
        cache.adopt(task.entry, writer.staging, task.index, outputs, cached["reused"])
        if order is None:
            yield task, cached["result"]
            continue
        waiting[task.index] = (task, cached["result"])
        while next_index < len(tasks) and tasks[next_index].index in waiting:
            yield waiting.pop(tasks[next_index].index)
            next_index += 1


def input_bytes(task: PartTask) -> int:
    """Bytes of a part task's input files (0 where one cannot be read: the task reports it)."""
    total = 0
    for path in task.inputs.values():
        try:
            total += os.path.getsize(path)
        except OSError:
            pass
    return total


def budget(config: Config, executor: Executor) -> Budget:
    return Budget(config["run.memory_gb"], executor.workers)

