"""What the pipeline reports progress to: the CLI passes a progress bar; the default shows nothing."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """A stage (or one pass of a stage) starts with a known total of steps, or None, and advances."""

    def start(self, stage: str, total: int | None) -> None: ...
    def advance(self, n: int) -> None: ...
    def finish(self) -> None: ...


class NoProgress:
    def start(self, stage: str, total: int | None) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def finish(self) -> None:
        pass
