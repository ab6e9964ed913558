"""Run configuration: a declared table of keys, defaults in code, TOML on top, CLI on top of that.

Every key is optional. A ``kefu.toml`` holds any subset of them in sections; ``--set section.key=value``
on the command line overrides a file value. Values are validated against the table below, and a bad one
gets a message of the form "The 'run.workers' parameter must be an int >= 0. Got 'ten' instead."
"""

from __future__ import annotations

import difflib
import functools
import logging
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from collections.abc import Mapping
from typing import Any, Callable, ClassVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

import tomli_w

from kefu_corpus.errors import KefuError

DEFAULT_CONFIG_NAME = "kefu.toml"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Param:
    """One configuration key: its default, how it is checked, and what it means."""

    default: Any
    kind: type
    rule: str
    check: Callable[[Any], bool]
    doc: str


def non_negative(v: int) -> bool:
    return v >= 0


def positive(v: int) -> bool:
    return v >= 1


def fraction(v: float) -> bool:
    return 0.0 <= v <= 1.0


def one_of(*choices: str) -> Callable[[str], bool]:
    return lambda v: v in choices


def anything(_: Any) -> bool:
    return True


def extensions(v: list) -> bool:
    return all(isinstance(x, str) and x.startswith(".") for x in v)


def paths(v: list) -> bool:
    return all(isinstance(x, str) and x for x in v)


def opencc_config(v: Any) -> bool:
    from kefu_corpus.text.convert import available_configs

    return isinstance(v, str) and v.removesuffix(".json") in available_configs()


def param(default: Any, rule: str, check: Callable[[Any], bool], doc: str) -> Any:
    """A configuration key, declared as a field of its section's parameter dataclass: the field's default
    is the key's default (a list as a tuple, so the dataclass stays hashable), and ``rule``, ``check``
    and ``doc`` say what values it takes and what it means. :data:`PARAMS`, ``kefu config``, the
    configuration reference and the CLI's defaults are all read from these declarations."""
    if isinstance(default, (list, tuple)):
        return field(default=tuple(default), metadata={"param": Param(list(default), list, rule, check, doc)})
    return field(default=default, metadata={"param": Param(default, type(default), rule, check, doc)})


def borrowed(section: type, name: str) -> Any:
    """A field of a parameter dataclass that takes the value of key ``name`` of another ``section`` (a
    parameter dataclass, e.g. ``borrowed(RunParams, "seed")``): :func:`section_params` fills it from the
    config, and its default is that key's."""
    return field(default=_field_default(section, name), metadata={"from": f"{section.SECTION}.{name}"})


def _field_default(cls: type, name: str) -> Any:
    return next(f.default for f in fields(cls) if f.name == name)


class Section:
    """Base of a configuration section's parameter dataclass: ``SECTION`` names the section, each
    :func:`param` field is one of its keys, and :meth:`from_config` reads them (and any :func:`borrowed`
    field) from a config."""

    SECTION: ClassVar[str]

    @classmethod
    def from_config(cls, config: Config):
        return section_params(cls, config)


@dataclass(frozen=True)
class RunParams(Section):
    """``run.*``: how a run is executed. Read by the pipeline, not by any one stage."""

    SECTION: ClassVar[str] = "run"

    workers: int = param(0, "an int >= 0", non_negative,
        "Worker processes for per-document work; 0 means one per CPU, 1 runs in-process.")
    executor: str = param("local", "one of 'local', 'dask'", one_of("local", "dask"),
        "Where tasks run: a process pool on this machine, or a Dask cluster (run.scheduler).")
    scheduler: str = param("", "a Dask scheduler address, or ''", anything,
        "With run.executor = 'dask': the scheduler, e.g. 'tcp://10.0.0.5:8786'; empty starts "
        "a local cluster of run.workers processes on 127.0.0.1.")
    skip_unchanged: bool = param(True, "true or false", anything,
        "A full run whose inputs, config, code and library versions are those of the run "
        "already in the output folder, with its tables intact, does nothing (`kefu run "
        "--force` reruns).")
    reuse_parts: bool = param(True, "true or false", anything,
        "Reuse the finished parts of earlier runs into the same output folder whose inputs, "
        "config and code are the same (OUT/.parts): a rerun after adding documents redoes "
        "only their parts, and a killed run resumes (false: compute every part; `kefu run "
        "--force`).")
    wait_for_lock: bool = param(True, "true or false", anything,
        "When another run is writing into the same output folder, wait for it "
        "(false: stop with exit 1 at once; `kefu run --no-wait`).")
    batch_size: int = param(64, "an int >= 1", positive,
        "Documents a worker processes at once within its part (bounds a task's memory).")
    batch_bytes: int = param(8_000_000, "an int >= 1", positive,
        "A batch is closed early once it holds this many bytes of raw text.")
    part_bytes: int = param(4_000_000, "an int >= 1", positive,
        "Average raw bytes per part of the parted tables (documents, passages, tokens): "
        "ingest cuts parts between half and twice this, at content-defined places, so "
        "an added document changes only its own part. A part is one task of the "
        "per-document stages, so it sets their granularity, not their memory.")
    seed: int = param(20200101, "an int >= 0", non_negative,
        "Random seed for every stochastic step; recorded in the manifest.")
    memory_gb: float = param(2.0, "a float > 0", lambda v: v > 0,
        "Memory budget of the corpus-wide stages (trends, topics): the rows of tokens a "
        "task reads, the partial counts held before a merge and the largest topic sample "
        "are sized to fit it. Peak memory per stage is recorded in the manifest.")


@dataclass(frozen=True)
class OutputParams(Section):
    """``output.*``: how tables are written."""

    SECTION: ClassVar[str] = "output"

    compression: str = param("zstd", "one of 'zstd', 'snappy', 'gzip', 'none'",
        one_of("zstd", "snappy", "gzip", "none"), "Parquet compression codec.")
    row_group_size: int = param(65536, "an int >= 1", positive, "Rows per Parquet row group.")


def section_classes() -> list[type]:
    """Every configuration section's parameter dataclass, in the order the reference lists them: ``run``,
    then each stage's sections in pipeline order (:data:`kefu_corpus.stages.REGISTRY`), then ``output``."""
    from kefu_corpus.stages import registered

    classes = [RunParams]
    for stage in registered():
        classes.extend(c for c in stage.params if c not in classes)
    return [*classes, OutputParams]


class _Params(Mapping):
    """``section -> key -> Param``, read from the sections' dataclasses (:func:`param`) when first used."""

    def _table(self) -> dict[str, dict[str, Param]]:
        from kefu_corpus.stages import REGISTRY

        return _params_table(tuple(REGISTRY))

    def __getitem__(self, section: str) -> dict[str, Param]:
        return self._table()[section]

    def __iter__(self):
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


@functools.lru_cache(maxsize=4)
def _params_table(registry: tuple[str, ...]) -> dict[str, dict[str, Param]]:
    return {cls.SECTION: {f.name: f.metadata["param"] for f in fields(cls) if "param" in f.metadata}
            for cls in section_classes()}


#: The declared configuration table: ``section -> key -> Param``, read from the parameter dataclasses of
#: the sections (each stage's live with the stage). ``kefu config``, the configuration reference and the
#: CLI's defaults are generated from it, so those declarations are the single source of truth.
PARAMS: Mapping[str, dict[str, Param]] = _Params()


@dataclass(frozen=True)
class Config:
    """A validated configuration. Use :func:`load_config` or :meth:`Config.from_mapping` to build one."""

    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "defaults"

    def __getitem__(self, dotted: str) -> Any:
        section, key = _split_key(dotted)
        return self.values.get(section, {}).get(key, PARAMS[section][key].default)

    def section(self, name: str) -> dict[str, Any]:
        return {key: self[f"{name}.{key}"] for key in PARAMS[name]}

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """Every key with its effective value, defaults included (what the manifest records)."""
        return {name: self.section(name) for name in PARAMS}

    def to_toml(self) -> str:
        return tomli_w.dumps(self.as_dict())

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, source: str = "mapping") -> Config:
        values: dict[str, dict[str, Any]] = {}
        for section, table in data.items():
            if section not in PARAMS:
                raise KefuError(f"Unknown config section '{section}' in {source}.",
                                hint=_suggest(section, PARAMS, "section"))
            if not isinstance(table, dict):
                raise KefuError(f"Config section '{section}' in {source} must be a table.")
            for key, value in table.items():
                values.setdefault(section, {})[key] = _validate(f"{section}.{key}", value, source)
        return cls(values=values, source=source)

    def with_overrides(self, overrides: dict[str, Any]) -> Config:
        """A copy with ``{"section.key": value}`` overrides applied and validated."""
        values = {s: dict(t) for s, t in self.values.items()}
        for dotted, value in overrides.items():
            if value is None:
                continue
            section, key = _split_key(dotted)
            values.setdefault(section, {})[key] = _validate(dotted, value, "the command line")
        source = self.source if not overrides else f"{self.source} + command line"
        return Config(values=values, source=source)


def _split_key(dotted: str) -> tuple[str, str]:
    section, _, key = dotted.partition(".")
    if section not in PARAMS:
        raise KefuError(f"Unknown config key '{dotted}'.", hint=_suggest(dotted, _all_keys(), "key"))
    if key not in PARAMS[section]:
        raise KefuError(f"Unknown config key '{dotted}'.", hint=_suggest(dotted, _all_keys(), "key"))
    return section, key


def _all_keys() -> list[str]:
    return [f"{s}.{k}" for s, table in PARAMS.items() for k in table]


def _suggest(name: str, choices: Any, what: str) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    listing = ", ".join(sorted(choices))
    return f"did you mean '{close[0]}'? Valid {what}s: {listing}" if close else f"valid {what}s: {listing}"


def _validate(dotted: str, value: Any, source: str) -> Any:
    section, key = _split_key(dotted)
    param = PARAMS[section][key]
    ok_type = isinstance(value, param.kind) and not (param.kind is int and isinstance(value, bool))
    if param.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok_type = float(value), True
    if not ok_type or not param.check(value):
        raise KefuError(
            f"The '{dotted}' parameter must be {param.rule}. Got {value!r} instead.",
            hint=f"fix it in {source}" if source != "the command line" else None,
        )
    return value


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``section.key=value`` from the command line; the value is read as TOML, else as a string."""
    dotted, sep, raw = text.partition("=")
    if not sep:
        raise KefuError(f"--set expects section.key=value. Got {text!r} instead.")
    dotted = dotted.strip()
    _split_key(dotted)
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return dotted, value


def load_config(path: Path | None = None, *, search_dir: Path | None = None) -> Config:
    """Load ``path``, or ``kefu.toml`` in ``search_dir`` (the working directory) if it exists, else defaults."""
    from kefu_corpus.userfiles import read_user_file

    if path is None:
        candidate = (search_dir or Path.cwd()) / DEFAULT_CONFIG_NAME
        if not candidate.is_file():
            return Config()
        path = candidate
        log.warning("Using the config file %s found in the working directory (--config chooses another).",
                    candidate.resolve())
    if not path.exists():
        raise KefuError(f"Config file {path} does not exist.", hint="pass an existing TOML file to --config")
    try:
        data = tomllib.loads(read_user_file(path, "config file", "--config"))
    except tomllib.TOMLDecodeError as exc:
        raise KefuError(f"Config file {path} is not valid TOML: {exc}.", hint="fix the syntax") from exc
    return Config.from_mapping(data, source=str(path))


def section_params(cls, config: Config, **extra: Any):
    """Build the parameter dataclass ``cls`` of a section from ``config``: each key of the section (a
    :func:`param` field) and each :func:`borrowed` field takes its value (lists as tuples, so the result
    is hashable); ``extra`` gives the rest."""
    values = {}
    for f in fields(cls):
        key = f"{cls.SECTION}.{f.name}" if "param" in f.metadata else f.metadata.get("from")
        if key is not None:
            value = config[key]
            values[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**{**values, **extra})


def config_reference_markdown() -> str:
    """The README's configuration table, generated from :data:`PARAMS`."""
    rows = ["| key | default | allowed | meaning |", "|---|---|---|---|"]
    for section, table in PARAMS.items():
        for key, p in table.items():
            default = tomli_w.dumps({"v": p.default}).strip()[4:]
            rows.append(f"| `{section}.{key}` | `{default}` | {p.rule} | {p.doc} |")
    return "\n".join(rows)
