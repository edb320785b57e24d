# The two commands of the README: `make up` runs the product, `make test` runs the checks.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The web dashboard's build, remade when its sources or locked dependencies change.
DASHBOARD := api/dashboard/static/index.html
DASHBOARD_SOURCES := $(wildcard api/dashboard/web/src/*.* api/dashboard/web/src/*/*.*) \
	api/dashboard/web/package-lock.json api/dashboard/web/build.mjs api/dashboard/web/.npmrc

.PHONY: up test lint install bench bench-masterdeal bench-kpis bench-analytics bench-integrations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,knowledge]'
	touch $(STAMP)

$(DASHBOARD): $(DASHBOARD_SOURCES)
	cd api/dashboard/web && npm ci --no-audit --no-fund && npm run build

install: $(STAMP) $(DASHBOARD)

up: $(STAMP) $(DASHBOARD)
	$(BIN)/switchboard up

lint: $(STAMP) $(DASHBOARD)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile

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
