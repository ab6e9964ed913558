"""The pipeline's stages, in order.

Each module named in :data:`REGISTRY` declares one :class:`~kefu_corpus.stage.Stage` as ``STAGE``: its
name, the tables it requires and assigns, its parameter dataclasses and its runner. ``kefu run``, its
``--stages`` and ``--until``, the per-stage commands and the configuration reference are all read from
here: a new stage is one new module and one line below.
"""

from __future__ import annotations

import difflib
import importlib

from kefu_corpus.errors import KefuError
from kefu_corpus.stage import Stage

#: Modules that declare a stage, in pipeline order.
REGISTRY: list[str] = [
    "kefu_corpus.stages.ingest",
    "kefu_corpus.stages.normalise",
    "kefu_corpus.stages.dedup",
    "kefu_corpus.stages.segment",
    "kefu_corpus.stages.trends",
    "kefu_corpus.stages.topics",
]


def registered() -> list[Stage]:
    """Every stage, in pipeline order."""
    return [importlib.import_module(module).STAGE for module in REGISTRY]


def names() -> tuple[str, ...]:
    return tuple(stage.name for stage in registered())


def get(name: str) -> Stage:
    for stage in registered():
        if stage.name == name:
            return stage
    close = difflib.get_close_matches(name, names(), n=1)
    raise KefuError(f"Unknown stage '{name}'.", hint=(f"did you mean '{close[0]}'? " if close else "")
                    + f"choose from {', '.join(names())}")


def select(stages: str | None = None, until: str | None = None) -> tuple[str, ...]:
    """The stages a run runs, in pipeline order: ``stages`` (comma-separated names), or every stage up to
    and including ``until``, or all of them."""
    everything = names()
    if stages and until:
        raise KefuError("Give --stages or --until, not both.",
                        hint="--until segment runs ingest through segment; --stages normalise,dedup runs those two")
    if until:
        get(until)
        return everything[: everything.index(until) + 1]
    if stages:
        wanted = [s.strip() for s in stages.split(",") if s.strip()]
        for name in wanted:
            get(name)
        return tuple(name for name in everything if name in wanted)
    return everything
