# The two commands of the quick start: `make build` and `make test`. Both create the virtual environment from
# the pinned requirements when it is missing (or when they changed), and are safe to run again: `make build` (and
# export, report, backfill, backtest, sample, bench-clv) installs the core (requirements.txt) only, `make test` and
# `make lint` the test tools and the three optional extras (requirements-dev.txt), `make bench` the benchmark's peers
# (requirements-bench.txt), `make dagster` the orchestration extra. Each install leaves a stamp file in .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := False

.PHONY: build export test lint sample clean venv venv-core venv-bench venv-orchestration bench-clv backtest backfill \
	report dagster

# venv: everything the tests exercise; venv-core: what a build needs
venv: $(VENV)/.installed
venv-core: $(VENV)/.installed-core
venv-bench: $(VENV)/.installed-bench
venv-orchestration: $(VENV)/.installed-orchestration

# each stamp names what it installed; an install that includes another one (requirements-dev.txt includes all the
# others) stamps those too, so that nothing is installed twice
NEW_VENV = test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
PIP = $(BIN)/python -m pip install --quiet

$(VENV)/.installed-core: requirements.txt
	@$(NEW_VENV)
	$(PIP) --upgrade pip
	$(PIP) -r requirements.txt
	@touch $@

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-orchestration.txt requirements-semantic.txt \
		requirements-spark.txt requirements-bench.txt
	@$(NEW_VENV)
	$(PIP) --upgrade pip
	$(PIP) -r requirements-dev.txt
	@touch $(VENV)/.installed-core $(VENV)/.installed-bench $(VENV)/.installed-orchestration $@

$(VENV)/.installed-bench: requirements.txt requirements-bench.txt
	@$(NEW_VENV)
	$(PIP) --upgrade pip
	$(PIP) -r requirements-bench.txt
	@touch $(VENV)/.installed-core $@

$(VENV)/.installed-orchestration: requirements.txt requirements-orchestration.txt
	@$(NEW_VENV)
	$(PIP) --upgrade pip
	$(PIP) -r requirements-orchestration.txt
	@touch $(VENV)/.installed-core $@

## build: build the DuckDB warehouse from the bundled sample (seeds, models, data tests) and print
## the rejected rows and the segment summary. Your dbt vars are read from settings.yml (README "Your settings file");
## VARS='{raw_data_path: ..., as_of_date: ...}' overrides them one key at a time.
## FULL_REFRESH=1 re-checks every raw order instead of the recent ones (docs/incremental.md).
## The dbt unit tests test the SQL, not the data: they run in `make test` (and CI); UNIT_TESTS=1 runs them here too.
## The build runs on a copy of the warehouse, which replaces the published one only when every error-severity test
## passed; then every BI-facing mart is exported as Parquet and CSV to exports/current (docs/publish.md, docs/bi.md).
build: venv-core
	@mkdir -p warehouse
	$(BIN)/python -m segmentation.publish $(if $(VARS),--vars '$(VARS)') $(if $(FULL_REFRESH),--full-refresh) \
		$(if $(UNIT_TESTS),--unit-tests)

## export: write the BI-facing marts of the built warehouse to exports/current again (Parquet and CSV), and the
## restricted audience files to restricted/audiences/current (docs/care-lift.md).
export: venv-core
	$(BIN)/python -m segmentation.export_marts

## test: the whole test suite (dbt builds on fixture folders, unit tests, sqlfluff, ruff, Python tests).
test: venv
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/sqlfluff lint models tests/audit tests/marts tests/project tests/reference tests/staging analyses --processes $$(nproc)
	$(BIN)/ruff check clv segmentation tools tests/python models orchestration

## backtest: fit the predicted-value models on the orders up to SPLIT, predict the purchases after it and compare
## with what happened (report in reports/backtest, see docs/backtest.md). SPLIT=YYYY-MM-DD is required; optional
## END (last day of the holdout; default: the newest order), RAW (raw folder), VARS (extra dbt vars), OUT.
## Example: make backtest SPLIT=2025-06-30
backtest: venv-core
	@test -n "$(SPLIT)" || { echo "make backtest: set SPLIT=YYYY-MM-DD, the last day the models are fitted on" \
		"(e.g. make backtest SPLIT=2025-06-30 [END=2025-12-31] [RAW=data/mine])" >&2; exit 2; }
	$(BIN)/python -m tools.backtest --split-date $(SPLIT) $(if $(END),--end-date $(END)) \
		$(if $(RAW),--raw-data-path $(RAW)) $(if $(VARS),--vars '$(VARS)') $(if $(OUT),--out $(OUT))

## report: write the segment report, one self-contained HTML file (reports/segment_report.html), from the built
## warehouse (run `make build` first; see docs/report.md). Optional WAREHOUSE (DuckDB file), OUT (HTML file).
report: venv-core
	$(BIN)/python -m tools.report $(if $(WAREHOUSE),--warehouse $(WAREHOUSE)) $(if $(OUT),--out $(OUT))

## backfill: record past as-of dates in the segment history (default: the 24 month-ends up to the current as-of
## date) and rebuild segment_transitions; customer_segments is not changed. Optional START, END (yyyy-mm-dd),
## EVERY (month, quarter, week), VARS (the vars of your build). Run `make build` first. Works on a copy of the
## warehouse and publishes it (and refreshes the exports) once, at the end, when every step passed (docs/publish.md).
backfill: venv-core
	$(BIN)/python -m segmentation.backfill $(if $(START),--start $(START)) $(if $(END),--end $(END)) \
		$(if $(EVERY),--every $(EVERY)) $(if $(VARS),--vars '$(VARS)')

## dagster: the Dagster UI (http://127.0.0.1:3000) on the dbt assets and checks, the daily schedule and the history
## backfill (docs/orchestration.md); runs and schedule state are kept in warehouse/dagster (DAGSTER_HOME).
dagster: venv-orchestration
	@mkdir -p warehouse/dagster
	@test -f warehouse/dagster/dagster.yaml || cp orchestration/dagster.yaml warehouse/dagster/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/warehouse/dagster $(BIN)/dagster dev -m orchestration.definitions

## sample: regenerate the bundled sample data (deterministic).
sample: venv-core
	$(BIN)/python -m tools.generate_data --customers 3000 --out data/sample --format csv

## bench: time the pipeline at SCALES customers (default 100000; e.g. SCALES="100000 1000000"). Typed input (Parquet as
## a loader writes it): `make build` itself, the pandas/polars/DuckDB peers and NIGHTS nightly builds (default 7). Text
## input: data generation, the full dbt build (models, tests) with peak memory, a hand-written DuckDB limit, `make
## build` and one incremental night; raw data and
## warehouses under WORK_DIR (default /tmp/customer-segmentation-bench). Writes docs/benchmarks.json, docs/bench-scale.svg
## and the bench section of docs/benchmarks.md (earlier scales are kept).
.PHONY: bench
bench: venv-bench
	$(BIN)/python -m tools.bench --customers $(or $(SCALES),100000) $(if $(WORK_DIR),--work-dir $(WORK_DIR)) \
		$(if $(NIGHTS),--nights $(NIGHTS))

## bench-clv: time the CLV fit and scoring (BG/NBD, Gamma-Gamma, predictions) on 100k and 1M simulated customers
## and write the figures into docs/benchmarks.md (its bench-clv section only).
bench-clv: venv-core
	$(BIN)/python -m tools.bench_clv --customers 100000 1000000

clean:
	rm -rf target logs warehouse/*.duckdb warehouse/*.duckdb.wal warehouse/*.duckdb.tmp warehouse/*.preflight \
		warehouse/*.lock warehouse/spark exports
