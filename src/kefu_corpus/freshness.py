"""Is an output folder up to date? The key of a run, and the check that skips a run that would change nothing.

A run's key is the SHA-256 of everything its tables depend on: the bytes of every input, the sidecar
and the files the config names (patterns, dictionaries, stopword lists), the list of skipped entries,
the config (less the keys that only say where and how fast work runs), the table schema versions, the
versions of the libraries and the code of this package itself. A full run records its key in the
manifest; a later full run with the same key, into a folder whose tables are intact, has nothing to do.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from kefu_corpus.config import Config
from kefu_corpus.store import file_sha256_or_none

#: Keys that say where and how fast work runs, not what it computes: the tables are the same bytes
#: whatever their values (tested for workers, batch size and executor).
VOLATILE_KEYS = {"run": ("workers", "executor", "scheduler", "wait_for_lock", "batch_size", "batch_bytes",
                         "skip_unchanged", "reuse_parts")}


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 over the source and data files of this package: a change to the code is a new key."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".toml", ".txt", ".json")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def significant_config(config: Config) -> dict[str, Any]:
    """The config without :data:`VOLATILE_KEYS`."""
    data = config.as_dict()
    for section, keys in VOLATILE_KEYS.items():
        data[section] = {k: v for k, v in data[section].items() if k not in keys}
    return data


def run_key(raw: Path, inputs: list[dict], sidecar_sha: str | None, skipped: list[list], config: Config,
            versions: dict[str, str], schema_versions: dict[str, int]) -> str:
    """The key of a full run over ``raw`` (see the module docstring)."""
    named = [config["ingest.patterns"], *config["segment.user_dicts"], *config["segment.stopwords"]]
    state = {
        "raw": str(raw), "inputs": inputs, "sidecar": sidecar_sha, "skipped": skipped,
        "config": significant_config(config), "config_files": {p: file_sha256_or_none(Path(p)) for p in named if p},
        "versions": versions, "schema_versions": schema_versions, "code": code_fingerprint(),
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


#: What each per-document stage's parts depend on, besides their input parts: config keys (a section, or
#: one "section.key") and the config keys naming files whose bytes count.
STAGE_INPUTS = {
    "ingest": (("ingest", "run.part_bytes"), ("ingest.patterns",)),
    "normalise": (("normalise",), ()),
    "dedup": (("dedup", "run.seed"), ()),
    "segment": (("segment",), ("segment.user_dicts", "segment.stopwords")),
}


def stage_context(config: Config, stage: str, versions: dict[str, str], schema_versions: dict[str, int]) -> dict:
    """What every part of ``stage`` depends on beyond its inputs: the stage's config and the files it
    names, the code, the library and schema versions (:mod:`kefu_corpus.partcache`)."""
    keys, named_keys = STAGE_INPUTS[stage]
    data = config.as_dict()
    settings = {key: data[key] if "." not in key else config[key] for key in keys}
    named = []
    for key in named_keys:
        value = config[key]
        named += value if isinstance(value, list) else [value]
    return {"stage": stage, "config": settings, "files": {p: file_sha256_or_none(Path(p)) for p in named if p},
            "code": code_fingerprint(), "versions": versions, "schema_versions": schema_versions}
