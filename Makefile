# The two commands of the quick start: `make build` and `make test`. Both create the virtual environment from
# the pinned requirements when it is missing (or when they changed), and are safe to run again.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := False

.PHONY: build test lint sample clean venv

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

## build: build the DuckDB warehouse from the bundled sample (seeds, models, data and unit tests) and print
## the rejected rows and the segment summary. Pass dbt vars with VARS='{raw_data_path: ..., as_of_date: ...}'.
build: venv
	@mkdir -p warehouse
	$(BIN)/dbt build $(if $(VARS),--vars '$(VARS)')

## test: the whole test suite (dbt builds on fixture folders, unit tests, sqlfluff, ruff, Python tests).
test: venv
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/sqlfluff lint models tests/audit tests/marts tests/reference analyses
	$(BIN)/ruff check clv scripts tests/python models

## sample: regenerate the bundled sample data (deterministic).
sample: venv
	$(BIN)/python -m scripts.generate_data --customers 3000 --out data/sample --format csv

clean:
	rm -rf target logs warehouse/*.duckdb
