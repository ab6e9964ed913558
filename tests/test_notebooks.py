"""The notebooks in notebooks/ run from top to bottom against a pipeline run on the seeds.

The test runs the command the README documents, `make notebooks-html`: jupytext converts each notebook
on a pipe, and nbconvert executes it headless and writes it as HTML, stopping at the first cell that
raises.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

#: Each notebook's title and the number of charts it shows at least.
EXPECTED = {"corpus_tour": ("Corpus tour", 1), "topics_and_trends": ("Topics and trends", 6)}

#: A chart in a cell's output. nbconvert's template also embeds a PNG in its CSS, which this does not match.
CHART = re.compile(r'<img\b[^>]*\bsrc="data:image/png;base64,')


@pytest.mark.slow
def test_make_notebooks_html_executes_every_notebook(seed_run):
    out, _ = seed_run
    # The documented command with OUT set. Two additions that do not change the recipe:
    # --assume-old stops make from reinstalling the venv when pyproject.toml is newer than its stamp,
    # and BIN runs the tools (and so the kernel) of the environment running the tests.
    command = ["make", "--assume-old=.venv/.installed", "notebooks-html", f"OUT={out}",
               f"BIN={Path(sys.executable).parent}"]
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]

    html_dir = out / "notebooks"
    assert sorted(p.stem for p in html_dir.iterdir()) == sorted(p.stem for p in NOTEBOOKS.glob("*.py"))
    assert not list(NOTEBOOKS.glob("*.ipynb"))  # converted on a pipe: nothing left next to the sources
    for name, (title, charts) in EXPECTED.items():
        html = (html_dir / f"{name}.html").read_text(encoding="utf-8")
        assert f">{title}<" in html
        assert "Traceback" not in html
        assert len(CHART.findall(html)) >= charts, f"{name}: the charts were not shown"
