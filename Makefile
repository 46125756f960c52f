PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
#: `make bench` measures qualcode installed as a user installs it (a wheel), in a venv of its own: the editable
#: install above adds setuptools' import hook to every command's start-up (some 25 ms here).
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: install demo test bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/qualcode demo --project demo-project --reports reports

test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadfile

$(BENCH_STAMP): pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet '.[postgres]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	rm -rf build
	$(BENCH_VENV)/bin/pip install --quiet --no-deps --force-reinstall .
	$(BENCH_VENV)/bin/python benchmarks/run.py

docs: $(STAMP)
	$(BIN)/python -m qualcode.cli.reference > docs/cli.md

clean:
	rm -rf $(VENV) $(BENCH_VENV) build demo-project
