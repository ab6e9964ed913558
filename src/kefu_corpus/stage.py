"""What a stage is: :class:`Stage`, the declaration each module of :mod:`kefu_corpus.stages` makes, and
:class:`StageRun`, what its runner is given.

A stage reads tables (``requires``: written by an earlier stage of the same run, or found in the output
folder), writes tables (``assigns``), and reads the configuration sections its parameter dataclasses
declare (``params``). The pipeline checks ``requires`` before anything runs, runs the stages in the
order of the registry, and records each one's manifest entry. This module is light on purpose: the CLI
reads every declaration at start-up, so a stage's heavy work is imported inside its runner.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from kefu_corpus.config import Config
    from kefu_corpus.executor import Executor
    from kefu_corpus.progress import Progress
    from kefu_corpus.store import RunWriter


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline.

    Attributes
    ----------
    name
        Its name: the ``kefu`` command that runs it alone, and its key in the manifest's ``stages``.
    summary
        One line for ``kefu --help``; the runner's docstring says the rest.
    requires
        Tables it reads. A table it also assigns (``documents`` for normalise) is rewritten: the stage
        reads the earlier version and writes the new one.
    assigns
        Tables it writes.
    runner
        ``runner(run: StageRun) -> dict``: does the work and returns the stage's manifest entry
        (``seconds`` at least).
    params
        Parameter dataclasses of the configuration sections it reads (see :func:`kefu_corpus.config.param`).
    optional
        Tables it reads when they exist (``term_forms`` for topics), and does without otherwise.
    reads_raw
        It reads the raw folder (ingest), not tables: its command takes RAW.
    options
        Flags of its ``kefu`` command that set one of its configuration keys:
        ``(flag, "section.key", help)``.
    """

    name: str
    summary: str
    requires: tuple[str, ...]
    assigns: tuple[str, ...]
    runner: Callable[[StageRun], dict[str, Any]]
    params: tuple[type, ...] = ()
    optional: tuple[str, ...] = ()
    reads_raw: bool = False
    options: tuple[tuple[str, str, str], ...] = ()


@dataclass
class StageRun:
    """What a runner works with: the run's folders, writer, configuration, progress and executor, and
    its input tables, wherever they are."""

    stage: Stage
    raw: Path
    out: Path
    writer: RunWriter
    config: Config
    progress: Progress
    executor: Executor
    #: the manifest's entries of the raw inputs, when the driver has hashed them already (ingest)
    inputs: list[dict] | None = None

    def input(self, name: str) -> Path:
        """Table ``name`` as this stage reads it: written by an earlier stage of this run, else the one in
        the output folder (with the current schema). A table the stage rewrites is handed over, so that
        the stage can open it again for its output."""
        if self.writer.has(name):
            return self.writer.take(name) if name in self.stage.assigns else self.writer.finished(name)
        return stored_table(self.out, name)

    def optional(self, name: str) -> Path | None:
        """Table ``name`` if this run or the output folder has it, else None."""
        from kefu_corpus import schemas, tablefiles

        if self.writer.has(name) or tablefiles.exists(self.out / schemas.TABLES[name].filename):
            return self.input(name)
        return None


def stored_table(out: Path, name: str) -> Path:
    """Table ``name`` of an earlier run in ``out``; it must exist and have the current schema."""
    from kefu_corpus import schemas, tablefiles
    from kefu_corpus.errors import KefuError

    spec = schemas.TABLES[name]
    path = out / spec.filename
    if not tablefiles.exists(path):
        raise KefuError(f"{path} does not exist, so this stage has nothing to read.",
                        hint=f"run `kefu run` (or `kefu ingest`) with --out {out} first")
    version = (tablefiles.schema(path).metadata or {}).get(b"kefu.schema_version", b"?").decode()
    if version != str(spec.version):
        raise KefuError(f"{path} has schema version {version}; this kefu-corpus reads version {spec.version}.",
                        hint=f"rerun `kefu run --out {out}` to rebuild every table")
    return path
