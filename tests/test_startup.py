"""The ``kefu`` command starts fast: importing the CLI, ``--help`` and ``--version`` load no heavy library.

Every command pays for what :mod:`kefu_corpus.cli` imports at start, so the libraries that take tens to
hundreds of milliseconds to import are imported by the commands that use them. ``benchmarks/startup.py``
measures the times; these tests only check which modules are loaded.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

#: Top-level packages that no command needs before it runs: the array, table, statistics, topic-model,
#: plotting and distributed libraries, and the text engines (OpenCC, jieba).
HEAVY = ("numpy", "pyarrow", "scipy", "pandas", "gensim", "sklearn", "tomotopy", "dask", "distributed",
         "matplotlib", "plotly", "opencc", "rjieba", "jieba", "charset_normalizer")


def imported_modules(*args: str) -> set[str]:
    """Every module a fresh interpreter imports running ``python -X importtime *args``."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \| +(\S+)$", proc.stderr, re.MULTILINE)
    assert "kefu_corpus" in names, "no -X importtime output to read"  # the parse read something
    return set(names)


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_importing_the_cli_loads_no_heavy_library():
    assert heavy(imported_modules("-c", "import kefu_corpus.cli")) == []


def test_importing_the_cli_reads_no_package_metadata():
    # importlib.metadata (email, zipfile, csv) is only for --version: kefu_corpus.__version__ is lazy.
    assert "importlib.metadata" not in imported_modules("-c", "import kefu_corpus.cli")


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_load_no_heavy_library(flag):
    assert heavy(imported_modules("-m", "kefu_corpus", flag)) == []


def test_version_is_read_from_the_installed_package():
    import kefu_corpus

    assert isinstance(kefu_corpus.__version__, str) and kefu_corpus.__version__
    with pytest.raises(AttributeError):
        kefu_corpus.no_such_attribute  # noqa: B018
