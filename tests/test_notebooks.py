"""The notebooks in notebooks/ run from top to bottom against a pipeline run on the seeds."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["corpus_tour", "topics_and_trends"])
def test_the_notebook_runs_without_errors(seed_run, monkeypatch, name):
    out, _ = seed_run
    monkeypatch.setenv("KEFU_OUT", str(out))
    notebook = jupytext.read(NOTEBOOKS / f"{name}.py")
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()  # raises on the first error
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= (1 if name == "corpus_tour" else 6), "the charts were not shown"
