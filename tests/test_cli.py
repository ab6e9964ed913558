"""The kefu command line: thin commands, readable errors, meaningful exit codes."""

from __future__ import annotations

import datetime
import inspect
import json
import shutil
import subprocess
import sys

import pytest
import typer.main
from typer.testing import CliRunner

from kefu_corpus import tablefiles
from kefu_corpus.cli import app
from kefu_corpus.schemas import TABLES

runner = CliRunner()


def test_run_prints_a_summary_and_writes_every_table(quick_raw, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(quick_raw), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "read     4 input(s)" in result.output and "kept     4 document(s)" in result.output
    assert "0 rejected" in result.output
    for spec in TABLES.values():
        assert tablefiles.exists(out / spec.filename)


def test_quiet_prints_nothing(raw, tmp_path):
    result = runner.invoke(app, ["ingest", str(raw), "-o", str(tmp_path / "out"), "-q", "-w", "1"])
    assert result.exit_code == 0 and result.output == ""


def test_problems_are_listed_and_strict_sets_exit_code_3(quick_raw, tmp_path):
    raw = quick_raw
    (raw / "empty.txt").write_bytes(b"")
    out = str(tmp_path / "out")
    result = runner.invoke(app, ["run", str(raw), "-o", out, "-w", "1", "-s", "topics.k_grid=[3]"])
    assert result.exit_code == 0
    assert "1 rejected" in result.output and "empty.txt" in result.output
    result = runner.invoke(app, ["run", str(raw), "-o", out, "-w", "1", "-s", "topics.k_grid=[3]", "--strict"])
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


def test_info_reports_tables_rows_config_and_versions(seed_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(seed_run[0], out, symlinks=True)  # a copy of the seed run, to damage below
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


# ---- help, and the commands' own output -----------------------------------------------------------------

COMMANDS = typer.main.get_command(app).commands


def _help(args: list[str], columns: int) -> str:
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("command", [[]] + [[name] for name in COMMANDS])
def test_flags_show_no_value_placeholder_in_help(command):
    # A flag takes no value: its row is its names, then its help; no <bool> as on an option that takes one.
    cmd = COMMANDS[command[0]] if command else typer.main.get_command(app)
    lines = _help(command, 200).splitlines()
    rows = {line.split()[1]: line.strip("│ ") for line in lines if line.startswith("│ --")}
    flags = {p.opts[0]: p.help for p in cmd.params if getattr(p, "is_flag", False) and not p.hidden}
    flags["--help"] = "Show this message and exit."
    for opt, help_text in flags.items():
        names = rows[opt].split(help_text[:20])[0].split()
        assert names[0] == opt and all(name.startswith("-") for name in names), rows[opt]
    assert "<bool>" not in "\n".join(rows.values())
    if command == ["run"]:  # options that take a value keep its placeholder
        assert {"--verbose", "--quiet", "--strict", "--no-wait", "--force"} <= set(flags)
        assert "<path>" in rows["--out"] and "<int range>" in rows["--workers"] and "SECTION.KEY=VALUE" in rows["--set"]


def test_command_summaries_are_one_line_and_the_docstrings_first_paragraph():
    lines = _help([], 200).splitlines()
    panel = lines[next(i for i, line in enumerate(lines) if "Commands" in line) + 1:]
    panel = panel[:next(i for i, line in enumerate(panel) if line.startswith("╰"))]
    listed = [line.strip("│ ").split(None, 1) for line in panel]
    assert all(len(row) == 2 for row in listed), panel  # no continuation line of a summary
    expected = {name: " ".join(inspect.cleandoc(cmd.callback.__doc__).split("\n\n")[0].split())
                for name, cmd in COMMANDS.items()}
    assert {name: summary.strip() for name, summary in listed} == expected
    assert all(len(summary) <= 120 for summary in expected.values())  # a summary, not a paragraph


@pytest.mark.parametrize("columns", [80, 200])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_text_wraps_only_at_the_terminal_width(name, columns):
    # A line of a help paragraph ends only where the next word would not fit: never mid-sentence because
    # the docstring's source line ended there.
    from rich.cells import cell_len

    lines = _help([name], columns).splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Usage:")) + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("╭"))
    paragraphs = "\n".join(line.strip() for line in lines[start:end]).strip().split("\n\n")
    doc = " ".join(inspect.cleandoc(COMMANDS[name].callback.__doc__).split())
    assert " ".join(" ".join(paragraphs).split()) == doc
    for paragraph in paragraphs:
        rows = paragraph.split("\n")
        for row, following in zip(rows, rows[1:]):
            assert cell_len(row) + 1 + cell_len(following.split()[0]) > columns - 2, (row, following)


def test_repair_summary_is_not_wrapped_at_the_terminal_width(tmp_path):
    path = tmp_path / "a-file-name-long-enough-to-pass-the-terminal-width.txt"
    path.write_text("價值創造過渡轉型??头ぷ髡谝砸环N全新的姿態嵌入客服中心的運營。\n", encoding="utf-8")
    result = CliRunner(env={"COLUMNS": "40"}).invoke(app, ["repair", str(path), "--reference", "never"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path}: 1 run(s) repaired of 1 possible site(s)"
    assert lines[1].startswith("  model: ") and lines[1].endswith(" characters of clean text")
    assert lines[2].startswith("  8-17: '??头ぷ髡谝砸环N' -> ") and "(confidence " in lines[2]


def test_convert_takes_opencc_and_config_still_works_with_a_note():
    converted = runner.invoke(app, ["convert", "--opencc", "s2twp"], input="软件\n")
    assert converted.exit_code == 0 and (converted.stdout, converted.stderr) == ("軟體\n", "")
    for old in ("--config", "-c"):
        result = runner.invoke(app, ["convert", old, "s2twp"], input="软件\n")
        assert result.exit_code == 0 and result.stdout == "軟體\n"
        assert result.stderr == "note: `kefu convert --config` is deprecated; use --opencc s2twp\n"
    assert runner.invoke(app, ["convert"], input="軟體\n").stdout == "软体\n"  # t2s by default
    both = runner.invoke(app, ["convert", "--opencc", "s2t", "--config", "s2twp"], input="软件\n")
    assert both.exit_code == 2 and "--opencc alone" in both.output
    shown = _help(["convert"], 200)
    assert "--opencc" in shown and "--config" not in shown and "-c " not in shown


def test_kwic_dates_are_shown_as_precise_as_their_source():
    from kefu_corpus.cli import _shown_date

    assert _shown_date(datetime.date(2023, 5, 18), "day") == "2023-05-18"
    assert _shown_date(datetime.date(2021, 5, 1), "month") == "2021-05"
    assert _shown_date(datetime.date(2021, 1, 1), "year") == "2021"
    assert _shown_date(None, None) == ""


def test_kwic_rows_and_lines_carry_each_documents_title_and_date(seed_run, seed_docs, monkeypatch):
    from kefu_corpus import analysis
    from kefu_corpus.store import read_passages

    out, _ = seed_run
    reads, read_table = [], analysis.read_table
    monkeypatch.setattr(analysis, "read_table", lambda o, name, columns=None: (
        reads.append((name, columns)), read_table(o, name, columns=columns))[1])
    hits = analysis.kwic(out, "客服")
    monkeypatch.undo()
    # documents is read with the columns a hit needs, not whole
    assert [(name, set(columns)) for name, columns in reads] == [
        ("documents", {"doc_id", "year", "title", "date", "date_precision"})]
    docs = {d["doc_id"]: d for d in seed_docs.values()}
    assert {h["doc_id"] for h in hits} == set(docs)  # dated or not, titled or not
    for h in hits:
        d = docs[h["doc_id"]]
        assert list(h)[:3] == ["doc_id", "passage_id", "year"] and {"left", "match", "right"} <= set(h)
        assert (h["year"], h["title"], h["date"], h["date_precision"]) == (
            d["year"], d["title"], d["date"], d["date_precision"])
    order = {p: i for i, p in enumerate(read_passages(out, ["passage_id"]).column("passage_id").to_pylist())}
    assert [order[h["passage_id"]] for h in hits] == sorted(order[h["passage_id"]] for h in hits)  # corpus order

    result = runner.invoke(app, ["kwic", "客服", str(out)])
    assert result.exit_code == 0, result.output
    shown = {"000": "2020-12-07", "001": "", "002": "2023-03-02", "003": "2023-05-18", "004": "2021-05"}
    seed = {d["doc_id"]: prefix for prefix, d in seed_docs.items()}
    assert {seed[h["doc_id"]] for h in hits} == set(shown)
    lines = result.stdout.splitlines()
    for line, h in zip(lines, hits, strict=True):
        year = h["year"] if h["year"] is not None else "undated"
        context = f"[{h['match']}]{h['right']}"
        assert line.startswith(f"{h['doc_id']} {year} ") and context in line  # the columns as before
        tail = " ".join(line.split(context, 1)[1].split())
        assert tail == " ".join(s for s in (shown[seed[h["doc_id"]]], h["title"]) if s), line
