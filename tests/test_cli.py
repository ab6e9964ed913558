"""The kefu command line: thin commands, readable errors, meaningful exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from kefu_corpus import tablefiles
from kefu_corpus.cli import app
from kefu_corpus.schemas import TABLES

runner = CliRunner()


@pytest.mark.slow
def test_run_prints_a_summary_and_writes_every_table(raw, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(raw), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "read     5 input(s)" in result.output and "kept     5 document(s)" in result.output
    assert "0 rejected" in result.output
    for spec in TABLES.values():
        assert tablefiles.exists(out / spec.filename)


def test_quiet_prints_nothing(raw, tmp_path):
    result = runner.invoke(app, ["ingest", str(raw), "-o", str(tmp_path / "out"), "-q", "-w", "1"])
    assert result.exit_code == 0 and result.output == ""


@pytest.mark.slow
def test_problems_are_listed_and_strict_sets_exit_code_3(raw, tmp_path):
    (raw / "empty.txt").write_bytes(b"")
    out = str(tmp_path / "out")
    result = runner.invoke(app, ["run", str(raw), "-o", out, "-w", "1"])
    assert result.exit_code == 0
    assert "1 rejected" in result.output and "empty.txt" in result.output
    result = runner.invoke(app, ["run", str(raw), "-o", out, "-w", "1", "--strict"])
    assert result.exit_code == 3


def test_a_run_where_every_input_is_rejected_finishes_and_strict_returns_3(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "empty.txt").write_bytes(b"")
    (raw / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (raw / "metadata.csv").write_text("file,title,date,author,publication,encoding\nempty.txt,,,,,nosuchcodec\n")
    args = ["run", str(raw), "-o", str(tmp_path / "out"), "-w", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "read     2 input(s)" in result.output and "kept     0 document(s)" in result.output
    assert "3 rejected" in result.output  # the two files and the sidecar's row
    assert runner.invoke(app, [*args, "--strict"]).exit_code == 3


def test_problem_messages_are_printed_as_they_are_never_as_markup(raw, tmp_path):
    (raw / "[red]notes].txt").write_bytes(b"")
    (raw / "metadata.csv").write_text("file,title\n[/]ghost[bold].txt,A title\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(raw), "-o", str(tmp_path / "out"), "-w", "1"])
    assert result.exit_code == 0, result.output
    assert "[red]notes].txt" in result.output and "[/]ghost[bold].txt" in result.output


@pytest.mark.parametrize("args,message", [
    (["run", "no/such/folder"], "The raw input no/such/folder does not exist"),
    (["run", "--set", "run.wokers=2"], "did you mean 'run.workers'"),
    (["run", "--set", "ingest.on_decode_error=skip"], "must be one of 'reject', 'replace'"),
    (["run", "--set", "nonsense"], "--set expects section.key=value"),
    (["run", "--config", "missing.toml"], "Config file missing.toml does not exist"),
    (["info", "no/such/out"], "is not the output folder of a kefu run"),
    (["schema", "collocations"], "No table named 'collocations'"),
])
def test_bad_options_exit_1_with_the_fix(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


def test_usage_errors_exit_2():
    assert runner.invoke(app, ["run", "--workers", "-3"]).exit_code == 2
    assert runner.invoke(app, ["frobnicate"]).exit_code == 2


@pytest.mark.parametrize("command", [[], ["run"], ["ingest"], ["info"], ["config"], ["schema"]])
def test_help_everywhere(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


@pytest.mark.slow
def test_info_reports_tables_rows_config_and_versions(raw, tmp_path):
    out = tmp_path / "out"
    runner.invoke(app, ["run", str(raw), "-o", str(out), "-w", "1", "-q"])
    result = runner.invoke(app, ["info", str(out)])
    assert result.exit_code == 0, result.output
    assert "documents" in result.output and "pyarrow" in result.output and "[ingest]" in result.output
    data = json.loads(runner.invoke(app, ["info", str(out), "--json"]).output)
    assert {t["table"]: t["rows"] for t in data["tables"]}["documents"] == 5
    assert data["warnings"] == []
    (out / "stray.parquet").write_bytes(b"")
    with open(out / "models" / "topics.npz", "ab") as fh:
        fh.write(b"\0")
    data = json.loads(runner.invoke(app, ["info", str(out), "--json"]).output)
    assert any("stray.parquet" in w for w in data["warnings"])
    assert any("models/topics.npz does not match" in w for w in data["warnings"])


def test_config_prints_valid_toml_with_overrides(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["config", "--set", "run.workers=2"])
    assert result.exit_code == 0
    (tmp_path / "kefu.toml").write_text(result.output, encoding="utf-8")
    again = runner.invoke(app, ["config"])  # takes ./kefu.toml, and says so on stderr
    assert again.stdout == result.stdout and "workers = 2" in again.stdout


def test_python_dash_m_runs_the_same_cli():
    proc = subprocess.run([sys.executable, "-m", "kefu_corpus", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("kefu-corpus ")


def test_each_stage_of_the_progress_display_keeps_its_own_clock():
    # A finished stage's row leaves the display: its elapsed time does not run on under the next stage.
    from kefu_corpus.cli import _BarProgress

    bar = _BarProgress()
    bar.start("ingest", None)
    bar.advance(3)
    bar.finish()
    bar.start("normalise", 5)
    assert [t.description for t in bar._bar.tasks] == ["normalise"]
    bar.advance(5)
    bar.finish()
    assert bar._bar.tasks == []
