"""Partial results of a corpus-wide pass, merged as they arrive so the driver's memory stays bounded."""

from __future__ import annotations

from typing import Callable, Iterable, TypeVar

P = TypeVar("P")


def merge_as_they_come(parts: Iterable[P], merge: Callable[[list[P]], P], rows: Callable[[P], int], fan_in: int,
                       progress) -> P:
    """``merge`` of every part of ``parts`` (the results of disjoint batches, in order). Parts are held
    until they add up to more than ``fan_in`` rows, then merged with the running result, so at most
    about ``fan_in`` rows plus the running result are held at once. ``progress`` advances per part."""
    merged: list[P] = []
    pending: list[P] = []
    held = 0
    for part in parts:
        pending.append(part)
        held += rows(part)
        progress.advance(1)
        if held > fan_in:
            merged = [merge(merged + pending)]
            pending, held = [], rows(merged[0])
    return merge(merged + pending)
