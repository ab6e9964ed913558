"""Run stages over a raw folder into an output folder: the library function behind ``kefu run``.

The pipeline owns ordering, the output folder and the manifest; each stage (:mod:`kefu_corpus.stages`,
in the order of its registry) declares the tables it requires and assigns, and its runner does the work
through an executor. Each stage reads the tables the earlier ones wrote, in this run or, for a stage run
alone, in the output folder.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from kefu_corpus import __version__, freshness, schemas, stages as registry, tablefiles
from kefu_corpus.config import Config
from kefu_corpus.errors import KefuError
from kefu_corpus.executor import open_executor
from kefu_corpus.memory import PeakRss
from kefu_corpus.partrun import library_versions
from kefu_corpus.progress import NoProgress, Progress
from kefu_corpus.stage import Stage, StageRun, stored_table
from kefu_corpus.stages.ingest import file_size, input_entries, inventory
from kefu_corpus.stages.topics import corpus_script
from kefu_corpus.store import RunWriter, file_sha256_or_none, read_manifest, read_table, run_folder

log = logging.getLogger(__name__)

#: The stages, in pipeline order (:data:`kefu_corpus.stages.REGISTRY`).
STAGES = registry.names()


@dataclass
class RunResult:
    """What a run did: rows written per table, input outcomes, the problems found, and timings."""

    out: Path
    tables: dict[str, int]
    status_counts: dict[str, int]
    problems: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    bytes_in: int = 0
    manifest: dict[str, Any] = field(default_factory=dict)
    stages: tuple[str, ...] = ()
    up_to_date: bool = False  # nothing was run: the folder already holds this run (run.skip_unchanged)

    @property
    def rejected(self) -> int:
        return self.status_counts.get("rejected", 0)

    @property
    def mb_per_s(self) -> float:
        return self.bytes_in / 1e6 / self.seconds if self.seconds else 0.0



def _run_key(raw: Path, config: Config) -> tuple[str, list[dict]]:
    """The run key of a full run over ``raw`` (:mod:`kefu_corpus.freshness`), and its input entries."""
    found = inventory(raw, config)
    inputs = input_entries(found)
    skipped = [[found.rel(p), reason, file_size(p)] for p, reason, _ in found.ignored]
    sidecar = file_sha256_or_none(found.sidecar) if found.sidecar is not None else None
    key = freshness.run_key(raw, inputs, sidecar, skipped, config, library_versions(),
                            {name: spec.version for name, spec in schemas.TABLES.items()})
    return key, inputs


def _up_to_date(out: Path, key: str, stages: tuple[str, ...]) -> dict[str, Any] | None:
    """The manifest of the run in ``out`` if it has key ``key``, ran ``stages`` and its tables are intact."""
    from kefu_corpus.info import describe

    try:
        previous = read_manifest(run_folder(out))
    except KefuError:
        return None
    if previous.get("run_key") != key or not set(stages) <= set(previous.get("stages", {})):
        return None
    return previous if not describe(out)["warnings"] else None


def check_requires(chosen: tuple[Stage, ...], out: Path) -> None:
    """Every table each stage requires is assigned by an earlier stage of the run or held by ``out``, with
    the current schema; otherwise a :class:`KefuError` that says which stage needs which table, and how
    to get it."""
    assigned: set[str] = set()
    everything = registry.names()
    for stage in chosen:
        for name in stage.requires:
            if name in assigned:
                continue
            if not tablefiles.exists(out / schemas.TABLES[name].filename):
                maker = next((s.name for s in registry.registered() if name in s.assigns and name not in s.requires),
                             everything[0])
                raise KefuError(f"The {stage.name} stage requires the table '{name}', which no earlier stage of this run "
                                f"writes and {out} does not hold.",
                                hint=f"run the stages up to {maker} first (`kefu run RAW --out {out} --until {maker}`), "
                                     f"or add {maker} to --stages")
            stored_table(out, name)  # there, but with the current schema?
        assigned.update(stage.assigns)


def _parted(stage: Stage) -> set[str]:
    return {name for name in stage.assigns if schemas.TABLES[name].parted}


def run(raw: Path, out: Path, config: Config, *, stages: tuple[str, ...] | None = None,
        progress: Progress | None = None, command: str = "run") -> RunResult:
    """Run ``stages`` on the raw folder (or corpus file) ``raw``, writing every table into ``out``.

    Parameters
    ----------
    raw
        A folder of article and corpus files, or a single file.
    out
        The output folder; created if needed. Tables are replaced atomically at the end of the run.
    config
        A validated :class:`~kefu_corpus.config.Config`.
    stages
        Names of the stages to run (all by default); they run in pipeline order. A run without ``ingest``
        reads its inputs from the tables of an earlier run in ``out`` (``raw`` is then unused) and keeps
        that run's other tables; each stage's required tables are checked before anything runs.
    progress
        Receives progress events; nothing is shown by default.

    Returns
    -------
    RunResult
    """
    import multiprocessing

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # A worker re-imports the main script; without a guard that script would start a run of its own
        # and wait forever for the output folder its parent holds.
        raise KefuError("kefu_corpus.pipeline.run was called while a worker process was starting: the script "
                        "that calls it runs again in every worker.",
                        hint='put the call under `if __name__ == "__main__":`')
    progress = progress or NoProgress()
    started_at = dt.datetime.now(dt.timezone.utc)
    started = time.perf_counter()
    chosen = tuple(registry.get(name) for name in registry.select(",".join(stages or ())))
    stages = tuple(stage.name for stage in chosen)
    from_raw = any(stage.reads_raw for stage in chosen)
    if from_raw and stages != registry.names()[: len(stages)]:
        # a run from RAW starts a new output folder: a stage it skipped would leave its tables behind
        raise KefuError(f"A run that starts from the raw files runs the stages in order from the first; "
                        f"{', '.join(stages)} skips some.",
                        hint=f"use --until {stages[-1]}, or run ingest first and then --stages without it")
    check_requires(chosen, out)
    writer = RunWriter(out, compression=config["output.compression"], row_group_size=config["output.row_group_size"],
                       wait=config["run.wait_for_lock"], on_wait=log.warning)
    stage_info: dict[str, Any] = {}
    key = inputs = None
    try:
        previous = read_manifest(out) if not from_raw else {}
        if from_raw:
            key, inputs = _run_key(raw, config)
            done = _up_to_date(out, key, stages) if config["run.skip_unchanged"] else None
            if done is not None:
                writer.abort()
                log.info("%s is up to date: the run of %s had the same inputs, config and code", out,
                         done.get("started_at"))
                return _result(out, {n: e["rows"] for n, e in done["tables"].items()}, done,
                               time.perf_counter() - started, done.get("stages", {}).get("ingest", {}).get("bytes", 0),
                               stages, up_to_date=True)
        executor = open_executor(config["run.executor"], config["run.workers"], config["run.scheduler"])
    except BaseException:
        writer.abort()
        raise
    try:
        for i, stage in enumerate(chosen):
            # a parted table that a later stage of this run writes again is written with a fast codec
            writer.transient = {name for name in _parted(stage) if any(name in _parted(later) for later in chosen[i + 1:])}
            with PeakRss() as peak:
                info = stage.runner(StageRun(stage, raw, out, writer, config, progress, executor,
                                             inputs=inputs if stage.reads_raw else None))
            stage_info[stage.name] = {**info, "peak_rss_mb": peak.peak_mb}
        inputs = stage_info.get("ingest", {}).pop("inputs", None)
        if inputs is None:
            inputs = previous.get("inputs", [])
        manifest = {
            "kefu_corpus": __version__,
            "command": command,
            "raw": str(raw) if from_raw else previous.get("raw"),
            "stages": {**previous.get("stages", {}), **stage_info},
            "config": config.as_dict(),
            "config_source": config.source,
            "seed": config["run.seed"],
            "versions": library_versions(),
            "inputs": inputs,
            "schema_versions": {name: spec.version for name, spec in schemas.TABLES.items()},
            "started_at": started_at.isoformat(timespec="seconds"),
            "run_key": key,  # a full run's key: a later run with the same key has nothing to do
            # the script the corpus itself is mostly written in: what the report and plots show by default
            "display_script": (corpus_script(writer.finished("documents") if writer.has("documents") else stored_table(out, "documents"))
                               if writer.has("documents") or previous.get("tables", {}).get("documents")
                               else previous.get("display_script", "simplified")),
        }
        seconds = time.perf_counter() - started
        manifest["seconds"] = round(seconds, 3)
        counts = writer.commit(manifest, keep=previous.get("tables"))
    except BaseException:
        writer.abort()
        raise
    finally:
        executor.close()
    return _result(out, counts, manifest, seconds, stage_info.get("ingest", {}).get("bytes", 0), stages)


def _result(out: Path, counts: dict[str, int], manifest: dict[str, Any], seconds: float, bytes_in: int,
            stages: tuple[str, ...], up_to_date: bool = False) -> RunResult:
    report = _read_report(out) if counts.get("ingest_report") else None
    status_counts = dict(Counter(report.column("status").to_pylist())) if report is not None else {}
    problems = (report.filter(pc.is_in(report.column("status"), pa.array(["rejected", "warning"]))).to_pylist()
                if report is not None else [])
    return RunResult(out=out, tables=counts, status_counts=status_counts, problems=problems, seconds=seconds,
                     bytes_in=bytes_in, manifest=manifest, stages=tuple(stages), up_to_date=up_to_date)


def _read_report(out: Path) -> pa.Table:
    return read_table(out, "ingest_report", columns=["source_path", "source_record", "status", "reason", "message"])

