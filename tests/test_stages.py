"""The stage registry: a run of a prefix or a subset of the stages, the check of what each stage requires,
parameters declared once, and a new stage added as one module plus one registry line."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from kefu_corpus import pipeline, stages
from kefu_corpus.config import PARAMS, Config, config_reference_markdown, section_classes
from kefu_corpus.errors import KefuError

def test_the_registry_names_the_six_stages_in_order_and_each_declares_its_tables():
    assert stages.names() == ("ingest", "normalise", "dedup", "segment", "trends", "topics")
    made: set[str] = set()
    for stage in stages.registered():
        assert stage.summary and stage.runner.__doc__
        assert set(stage.requires) <= made, f"{stage.name} requires a table no earlier stage assigns"
        made.update(stage.assigns)
    assert {"documents", "passages", "tokens", "topics"} <= made


def test_select_gives_a_prefix_or_a_subset_in_pipeline_order():
    assert stages.select(until="segment") == ("ingest", "normalise", "dedup", "segment")
    assert stages.select("dedup,normalise") == ("normalise", "dedup")
    with pytest.raises(KefuError, match="Unknown stage 'dedupe'"):
        stages.select("dedupe")
    with pytest.raises(KefuError, match="not both"):
        stages.select("trends", until="segment")


def test_every_section_key_is_declared_once_on_its_dataclass():
    """PARAMS is read from the parameter dataclasses: each key's default is the field's default."""
    for cls in section_classes():
        declared = {f.name: f for f in fields(cls) if "param" in f.metadata}
        assert declared, cls
        assert set(PARAMS[cls.SECTION]) == set(declared)
        for name, f in declared.items():
            default = f.metadata["param"].default
            assert (list(f.default) if isinstance(f.default, tuple) else f.default) == default, (cls, name)
            assert Config()[f"{cls.SECTION}.{name}"] == default
    assert list(PARAMS) == ["run", "ingest", "normalise", "dedup", "segment", "trends", "keywords", "topics", "output"]


def test_a_stage_run_alone_on_a_folder_without_its_tables_says_what_to_run(tmp_path):
    with pytest.raises(KefuError) as caught:
        pipeline.run(tmp_path / "raw", tmp_path / "out", Config(), stages=("trends",))
    assert "trends stage requires the table 'documents'" in str(caught.value)
    assert "--until ingest" in caught.value.hint


def test_until_runs_a_prefix_and_a_later_subset_reads_its_tables(quick_raw, tmp_path):
    raw = quick_raw  # the seeds but 003: these runs normalise, and 003's repair takes seconds
    out = tmp_path / "out"
    first = pipeline.run(raw, out, Config.from_mapping({"run": {"workers": 1}}),
                         stages=stages.select(until="normalise"))
    assert first.stages == ("ingest", "normalise")
    assert set(first.manifest["stages"]) == {"ingest", "normalise"}
    assert "tokens" not in first.tables
    with pytest.raises(KefuError, match="trends stage requires the table 'tokens'"):
        pipeline.run(raw, out, Config(), stages=("trends",))
    with pytest.raises(KefuError, match="skips some"):  # from RAW, a gap would lose the skipped stage's tables
        pipeline.run(raw, out, Config(), stages=("ingest", "dedup"))
    second = pipeline.run(raw, out, Config.from_mapping({"run": {"workers": 1}}), stages=("dedup", "segment"))
    assert second.stages == ("dedup", "segment") and second.tables["tokens"] > 0
    assert set(second.manifest["stages"]) == {"ingest", "normalise", "dedup", "segment"}


def test_a_new_stage_is_one_module_and_one_registry_line(quick_raw, tmp_path, monkeypatch):
    """tests/toy/passage_lengths.py declares a stage, its parameters and its runner; one line in the
    registry makes it part of the pipeline, of its configuration and of its checks."""
    raw = quick_raw  # the seeds but 003: these runs normalise, and 003's repair takes seconds
    monkeypatch.setattr(stages, "REGISTRY", [*stages.REGISTRY, "toy.passage_lengths"])  # the registry line

    assert stages.names()[-1] == "lengths"
    assert PARAMS["lengths"]["top"].default == 3 and "`lengths.top`" in config_reference_markdown()
    assert "lengths" in Config().to_toml()
    config = Config.from_mapping({"run": {"workers": 1}, "lengths": {"top": 2}})
    with pytest.raises(KefuError, match="lengths.top' parameter must be an int >= 1"):
        Config.from_mapping({"lengths": {"top": 0}})

    out = tmp_path / "out"
    pipeline.run(raw, out, config, stages=stages.select(until="dedup"))
    result = pipeline.run(raw, out, config, stages=("lengths",))
    longest = json.loads((out / "lengths" / "longest.json").read_text(encoding="utf-8"))
    assert len(longest) == 2 and longest[0]["chars"] >= longest[1]["chars"] > 0
    assert result.manifest["stages"]["lengths"]["top"] == 2
    assert set(result.manifest["stages"]) == {"ingest", "normalise", "dedup", "lengths"}


def test_the_configuration_builds_the_repair_searchs_settings_key_for_key():
    """The ``normalise.repair_*`` keys take their defaults from ``RepairParams`` and go back into it:
    at the defaults the two are equal, and each key reaches its own field."""
    from kefu_corpus.stages.normalise import NormaliseParams
    from kefu_corpus.text.repair import RepairParams

    assert NormaliseParams().repair_params == RepairParams()
    keys = {"beam": 7, "min_gain": 1.5, "word_weight": 0.25, "word_factor": 0.5, "shape_weight": 0.125,
            "site_threshold": -3.0}
    params = NormaliseParams(**{f"repair_{key}": value for key, value in keys.items()}).repair_params
    assert {key: getattr(params, key) for key in keys} == keys


def test_kefu_run_until_and_stages_from_the_command_line(quick_raw, tmp_path):
    from typer.testing import CliRunner

    from kefu_corpus.cli import app

    raw = quick_raw  # the seeds but 003: these runs normalise, and 003's repair takes seconds
    runner = CliRunner()
    out = tmp_path / "out"
    done = runner.invoke(app, ["run", str(raw), "--out", str(out), "--until", "normalise", "-w", "1", "-q"])
    assert done.exit_code == 0, done.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["stages"]) == {"ingest", "normalise"}
    missing = runner.invoke(app, ["run", str(raw), "--out", str(out), "--stages", "trends", "-q"])
    assert missing.exit_code == 1
    assert "trends stage requires the table 'tokens'" in missing.output
    both = runner.invoke(app, ["run", str(raw), "--out", str(out), "--stages", "segment", "--until", "dedup"])
    assert both.exit_code == 1 and "not both" in both.output


def test_a_registered_stage_gets_its_own_command(quick_raw, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from kefu_corpus import cli

    raw = quick_raw  # the seeds but 003: these runs normalise, and 003's repair takes seconds
    monkeypatch.setattr(stages, "REGISTRY", [*stages.REGISTRY, "toy.passage_lengths"])
    app = cli._Typer(cls=cli._Group)
    app.registered_commands = list(cli.app.registered_commands)
    cli._stage_command(stages.get("lengths"), app)
    runner = CliRunner()
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(raw), "--out", str(out), "--until", "dedup", "-w", "1", "-q"]).exit_code == 0
    shown = runner.invoke(app, ["lengths", "--help"])
    assert "Run the lengths stage alone on OUT" in shown.output and "Reads passages" in shown.output
    done = runner.invoke(app, ["lengths", str(out), "--set", "lengths.top=1", "-q"])
    assert done.exit_code == 0, done.output
    assert len(json.loads((out / "lengths" / "longest.json").read_text(encoding="utf-8"))) == 1
