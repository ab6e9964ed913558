"""Partial dates: a day, a month or a year, with an optional range end, validated against the calendar."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_ISO = re.compile(r"^\s*(?P<y>\d{4})(?:[-/.](?P<m>\d{1,2})(?:[-/.](?P<d>\d{1,2}))?)?\s*$")


@dataclass(frozen=True)
class PartialDate:
    """A date known to a given precision. ``value`` is the first day of the period."""

    value: dt.date
    precision: str  # "day" | "month" | "year"
    end: dt.date | None = None

    @property
    def year(self) -> int:
        return self.value.year


def from_parts(y: str | None, m: str | None = None, d: str | None = None,
               m2: str | None = None, d2: str | None = None) -> PartialDate | None:
    """Build a date from regex groups; ``None`` when the parts are not a real calendar date."""
    if not y:
        return None
    try:
        if not m:
            return PartialDate(dt.date(int(y), 1, 1), "year")
        if not d:
            return PartialDate(dt.date(int(y), int(m), 1), "month")
        start = dt.date(int(y), int(m), int(d))
        end = dt.date(int(y), int(m2 or m), int(d2)) if d2 else None
    except ValueError:
        return None
    if end is not None and end < start:
        end = None
    return PartialDate(start, "day", end)


def from_match(match: re.Match[str]) -> PartialDate | None:
    groups = match.groupdict()
    return from_parts(groups.get("y"), groups.get("m"), groups.get("d"), groups.get("m2"), groups.get("d2"))


def parse_iso(text: str) -> PartialDate | None:
    """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (also with '/' or '.'), as a sidecar or record gives it."""
    match = _ISO.match(text)
    return from_match(match) if match else None
