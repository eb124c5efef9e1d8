# Every target sets up (or refreshes) the local virtual environment from pyproject.toml first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: test lint serve bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

serve: $(STAMP)
	$(BIN)/palmyra-graph serve --host $(HOST) --port $(PORT)

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $@

# Endpoint against its peers; growth with size (10^6 and up: bench/growth.py --sizes N);
# load with hostile clients beside valid ones; the connection gate's cost and what it buys
# against hostile connections; the query guard on adversarial and typical texts up to 1 MB;
# one graph per serve against Oxigraph's in-memory server at 10^6 (memory, recovery, the
# price of the time budget, cached answers, start-up); export of 10^5 triples against
# pyoxigraph's own parse and write. Results in bench/results/.
bench: $(VENV)/.bench-installed
	$(BIN)/python bench/guard.py
	$(BIN)/python bench/run.py
	$(BIN)/python bench/growth.py --sizes 10000 --sizes 100000
	$(BIN)/python bench/load.py
	$(BIN)/python bench/gate.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/serving.py --triples 1000000

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
