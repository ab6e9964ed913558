# Two commands: `make run` and `make test`. Both create .venv on first use and
# reinstall only when pyproject.toml changes.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RAW    ?= data/raw
OUT    ?= data/processed

.PHONY: run test test-fast fuzz bench install browser clean notebooks notebooks-html report docs

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/kefu run $(RAW) --out $(OUT)

# Debian's Chromium, for the report's browser tests (playwright drives it; it downloads no browser of its
# own). Installed when missing and this is root with apt-get; elsewhere those tests say why they skip.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    { apt-get install -y -q chromium >/dev/null 2>&1 || \
	      { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; }; } || \
	    echo "note: Chromium is not installed (apt-get install chromium); the browser tests will skip"

# The whole suite, spread over every core (pytest-xdist): test-fast's tests and the slow ones (the tests
# that read one shared run of the whole pipeline over the seeds, subprocesses, Dask, Chromium, notebooks).
test: $(STAMP) browser
	$(BIN)/python -m pytest -n auto

# The tests not marked slow: pure functions, and stages on small inputs run only as far as the stage tested.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n auto -m "not slow"

# The reader fuzz tests at 20,000 generated files each (100,000 in all), with fresh random cases.
fuzz: $(STAMP)
	FUZZ_EXAMPLES=20000 FUZZ_RANDOM=1 $(BIN)/python -m pytest -n auto -p no:cacheprovider tests/test_fuzz_readers.py

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest_throughput.py
	$(BIN)/python benchmarks/repair_quality.py
	$(BIN)/python benchmarks/dedup_quality.py
	$(BIN)/python benchmarks/segment_throughput.py
	$(BIN)/python benchmarks/segment_quality.py
	$(BIN)/python benchmarks/trends_keywords.py
	$(BIN)/python benchmarks/topics_fit.py
	$(BIN)/python benchmarks/run_end_to_end.py
	$(BIN)/python benchmarks/report_scale.py
	$(BIN)/python benchmarks/dask_throughput.py
	$(BIN)/python benchmarks/incremental.py
	$(BIN)/python benchmarks/startup.py

# Opens the jupytext notebooks in JupyterLab (the `notebooks` extra); `make run` first.
notebooks: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[notebooks]'
	KEFU_OUT=$(abspath $(OUT)) $(BIN)/jupyter lab notebooks/

# Executes every notebook headless against the run in OUT and writes OUT/notebooks/<name>.html, charts
# embedded; stops at the first cell that raises. jupytext converts on a pipe: no .ipynb is left behind.
notebooks-html: $(STAMP)
	set -e; for nb in notebooks/*.py; do \
	    $(BIN)/jupytext --to ipynb --output - $$nb \
	    | KEFU_OUT=$(abspath $(OUT)) $(BIN)/jupyter nbconvert --stdin --execute --to html \
	        --output-dir $(OUT)/notebooks --output $$(basename $$nb .py); \
	done

report: $(STAMP)
	$(BIN)/kefu report $(OUT)

# The documentation site (mkdocs + Material, offline) from docs/ into site/; --strict fails on a broken link.
# The configuration and schema tables are generated from the code at build time (docs/hooks.py).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) $(OUT)/*.parquet $(OUT)/manifest.json $(OUT)/models $(OUT)/current $(OUT)/.runs $(OUT)/.kefu.lock $(OUT)/report.html $(OUT)/notebooks site
