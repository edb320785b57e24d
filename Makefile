# The two commands of the README: `make up` runs the product, `make test` runs the checks.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test lint install bench bench-masterdeal bench-kpis bench-analytics bench-integrations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,knowledge]'
	touch $(STAMP)

install: $(STAMP)

up: $(STAMP)
	$(BIN)/switchboard up

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m bench.ingest

bench-masterdeal: $(STAMP)
	$(BIN)/python -m bench.masterdeal

bench-kpis: $(STAMP)
	$(BIN)/python -m bench.kpis

bench-analytics: $(STAMP)
	$(BIN)/python -m bench.analytics

bench-integrations: $(STAMP)
	$(BIN)/python -m bench.deliveries
	$(BIN)/python -m bench.smart_redirect

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache .switchboard
