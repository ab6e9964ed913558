"""Load the line rules and text patterns that drive layout analysis (``resources/patterns.toml``)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from kefu_corpus.errors import KefuError

_ZONES = ("edge", "anywhere")
_CATEGORIES = ("metadata", "furniture")
_TEXT_KEYS = ("date", "sentence_end", "sentence_like_end", "title_markup")


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    category: str
    zone: str
    max_chars: int
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Patterns:
    """Compiled rules (user rules first) and the shared text patterns."""

    rules: tuple[Rule, ...]
    date: re.Pattern[str]
    sentence_end: re.Pattern[str]
    sentence_like_end: re.Pattern[str]
    title_markup: re.Pattern[str]


def _parse(data: dict, origin: str) -> tuple[list[Rule], dict[str, str]]:
    rules = []
    for i, raw in enumerate(data.get("rule", [])):
        where = f"rule #{i + 1} ({raw.get('name', 'unnamed')}) in {origin}"
        missing = {"name", "kind", "category", "pattern"} - raw.keys()
        if missing:
            raise KefuError(f"{where} lacks {', '.join(sorted(missing))}.", hint="see the shipped patterns.toml")
        if raw.get("zone", "edge") not in _ZONES or raw["category"] not in _CATEGORIES:
            raise KefuError(f"{where}: zone must be one of {_ZONES} and category one of {_CATEGORIES}.")
        try:
            pattern = re.compile(raw["pattern"])
        except re.error as exc:
            raise KefuError(f"{where}: bad regular expression: {exc}.") from exc
        rules.append(Rule(raw["name"], raw["kind"], raw["category"], raw.get("zone", "edge"),
                          int(raw.get("max_chars", 200)), pattern))
    text = data.get("text", {})
    unknown = set(text) - set(_TEXT_KEYS)
    if unknown:
        raise KefuError(f"Unknown [text] keys {sorted(unknown)} in {origin}.", hint=f"valid: {_TEXT_KEYS}")
    return rules, text


@lru_cache(maxsize=8)
def load_patterns(extra: str = "") -> Patterns:
    """The shipped patterns, with the rules and text patterns of the TOML file ``extra`` put first."""
    shipped = tomllib.loads(resources.files("kefu_corpus.resources").joinpath("patterns.toml").read_text("utf-8"))
    rules, text = _parse(shipped, "the shipped patterns.toml")
    if extra:
        from kefu_corpus.userfiles import read_user_file

        path = Path(extra)
        try:
            user = tomllib.loads(read_user_file(path, "patterns file", "ingest.patterns"))
        except tomllib.TOMLDecodeError as exc:
            raise KefuError(f"The patterns file {path} is not valid TOML: {exc}.",
                            hint="fix ingest.patterns in kefu.toml") from exc
        user_rules, user_text = _parse(user, str(path))
        rules = user_rules + rules
        text = {**text, **user_text}
    return Patterns(
        rules=tuple(rules),
        date=re.compile(text["date"]),
        sentence_end=re.compile(text["sentence_end"]),
        sentence_like_end=re.compile(text["sentence_like_end"]),
        title_markup=re.compile(text["title_markup"]),
    )
