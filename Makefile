# Two entry points on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-slow lint docs install install-dev bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# the library alone (what `make demo` needs), then the test and PyTorch extras on top
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,torch]'
	touch $(VENV)/.installed $@

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[docs]'
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	$(BIN)/jaxdl demo --out runs/demo

# two worker processes (the tests are mostly single-threaded; CI has 2 cores)
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -n 2 -m "not slow" --timeout 900

test-slow: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m slow --timeout 900

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# the pages of docs/ and the API reference from the docstrings; any warning fails the build
docs: $(VENV)/.installed-docs
	$(BIN)/sphinx-build -q -W --keep-going -b html docs docs/_build/html

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_inference.py

clean:
	rm -rf $(VENV) runs docs/_build
