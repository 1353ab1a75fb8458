"""The semantic layer (models/marts/semantic, docs/semantic-layer.md): MetricFlow's `mf validate-configs` passes,
with its data warehouse checks, on the sample warehouse, and `mf query` by lifecycle segment (and a saved query
with a filter) returns the same figures as SQL on marts.customer_segments.

`mf` reads `<project dir>/target/semantic_manifest.json` (a fixed path: it ignores --target-path and
DBT_TARGET_PATH). So that nothing is read from or written to the repository's target/ and logs/, the tests point
DBT_PROJECT_DIR at a temporary folder holding a copy of dbt_project.yml and the semantic manifest that the sample
build wrote into its own target folder: no `dbt parse` beforehand, and no parse of ours either. The manifest names
the DuckDB database after the warehouse file, so it must come from a build of the same file.

`mf` returns numbers as doubles (MetricFlow's result table turns decimals into floats): sums of money are compared
exactly, as the double nearest to the mart's exact decimal sum; averages and shares to a relative 1e-12.
"""

from __future__ import annotations

import csv
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import PROJECT_DIR, DbtRun

MF = Path(sys.executable).with_name("mf")
SHARE_TOLERANCE = 1e-12

Mf = Callable[..., subprocess.CompletedProcess]


@pytest.fixture(scope="module")
def mf(sample_build: DbtRun, tmp_path_factory: pytest.TempPathFactory) -> Mf:
    """Runs `mf <args>` on the sample warehouse, with a project folder of its own (see the module docstring)."""
    assert MF.exists(), f"{MF} not found: pip install -r requirements-semantic.txt"
    manifest = sample_build.warehouse.parent / "target" / "semantic_manifest.json"
    assert manifest.is_file(), f"the sample build wrote no {manifest}"
    project = tmp_path_factory.mktemp("mf_project")
    (project / "target").mkdir()
    shutil.copy(PROJECT_DIR / "dbt_project.yml", project / "dbt_project.yml")
    shutil.copy(manifest, project / "target" / "semantic_manifest.json")
    env = {
        **os.environ,
        "DUCKDB_PATH": str(sample_build.warehouse),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_PROJECT_DIR": str(project),
        "DBT_LOG_PATH": str(project / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_USE_COLORS": "False",
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(MF), *args], cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False
        )

    return run


def query(mf: Mf, tmp_path: Path, *args: str) -> list[dict[str, str]]:
    """`mf query <args>` written as CSV, read back as one dict per row (an empty cell is a null)."""
    out = tmp_path / "result.csv"
    completed = mf("query", *args, "--csv", str(out), "--quiet")
    assert completed.returncode == 0 and out.exists(), completed.stdout[-5000:] + completed.stderr[-5000:]
    with out.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=SHARE_TOLERANCE, abs_tol=SHARE_TOLERANCE)


def number(cell: str) -> float | None:
    return None if cell == "" else float(cell)


def test_validate_configs_passes_with_warehouse_checks(mf: Mf) -> None:
    completed = mf("validate-configs", "--show-all")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-5000:]
    assert "Successfully validated the semantics of built manifest (ERRORS: 0" in output, output[-5000:]
    # the data warehouse checks ran (they query every semantic model, dimension, entity, measure and metric)
    assert "Successfully validated metrics against data warehouse (ERRORS: 0" in output, output[-5000:]
    assert "Breaking issues" not in output


def test_metrics_by_lifecycle_segment_match_the_mart(mf: Mf, sample_build: DbtRun, tmp_path: Path) -> None:
    rows = query(
        mf, tmp_path,
        "--metrics", "customers,net_revenue,revenue_share,customer_share,avg_historical_clv,avg_predicted_clv_365d,"
        "predicted_clv_365d",
        "--group-by", "customer__lifecycle_segment",
    )
    got = {row["customer__lifecycle_segment"]: row for row in rows}
    expected = {
        segment: (customers, net_revenue, avg_historical, avg_predicted, predicted)
        for segment, customers, net_revenue, avg_historical, avg_predicted, predicted in sample_build.query(
            "select lifecycle_segment, count(*), sum(net_revenue), avg(historical_clv), avg(predicted_clv_365d), "
            "sum(predicted_clv_365d) from marts.customer_segments group by lifecycle_segment"
        )
    }
    ((total_customers, total_revenue),) = sample_build.query(
        "select count(*), sum(net_revenue) from marts.customer_segments"
    )
    assert set(got) == set(expected) and len(got) >= 6

    for segment, (customers, net_revenue, avg_historical, avg_predicted, predicted) in expected.items():
        row = got[segment]
        assert int(row["customers"]) == customers, segment
        # the same total as SQL (a decimal in the mart, a double from mf)
        assert float(row["net_revenue"]) == float(net_revenue), segment
        assert close(number(row["avg_historical_clv"]), avg_historical), segment
        assert close(number(row["avg_predicted_clv_365d"]), avg_predicted), segment
        assert close(number(row["predicted_clv_365d"]), predicted), segment
        assert close(number(row["revenue_share"]), float(net_revenue) / float(total_revenue)), segment
        assert close(number(row["customer_share"]), customers / total_customers), segment

    assert sum(int(row["customers"]) for row in rows) == total_customers
    assert sum(Decimal(row["net_revenue"]) for row in rows) == total_revenue
    assert math.isclose(sum(float(row["revenue_share"]) for row in rows), 1.0, abs_tol=SHARE_TOLERANCE)
    assert math.isclose(sum(float(row["customer_share"]) for row in rows), 1.0, abs_tol=SHARE_TOLERANCE)
    # customers without a completed order have no prediction: null, not 0, in both
    assert got["potential"]["avg_predicted_clv_365d"] == ""


def test_saved_query_under_a_filter_keeps_all_customers_as_the_share_denominator(
    mf: Mf, sample_build: DbtRun, tmp_path: Path
) -> None:
    rows = query(
        mf, tmp_path,
        "--saved-query", "revenue_by_region_and_channel",
        "--where", "{{ Dimension('customer__home_region') }} = 'North'",
    )
    expected = {
        channel: (customers, net_revenue)
        for channel, customers, net_revenue in sample_build.query(
            "select coalesce(preferred_channel, 'no_order'), count(*), sum(net_revenue) from marts.customer_segments "
            "where home_region = 'North' group by all"
        )
    }
    ((total_revenue, north_revenue),) = sample_build.query(
        "select sum(net_revenue), sum(net_revenue) filter (where home_region = 'North') from marts.customer_segments"
    )
    assert {row["customer__home_region"] for row in rows} == {"North"}
    got = {row["customer__preferred_channel"]: row for row in rows}
    assert set(got) == set(expected) and "no_order" in got

    for channel, (customers, net_revenue) in expected.items():
        assert int(got[channel]["customers"]) == customers, channel
        assert float(got[channel]["net_revenue"]) == float(net_revenue), channel
        # the filter narrows the rows, not the denominator: a share of every customer's revenue
        assert close(number(got[channel]["revenue_share"]), float(net_revenue) / float(total_revenue)), channel
    assert close(sum(float(row["revenue_share"]) for row in rows), float(north_revenue) / float(total_revenue))


# every saved query against the BI file, through the client BI tools use (issue 17) -------------------------------

SAVED_QUERIES = PROJECT_DIR / "models" / "marts" / "semantic" / "_semantic__saved_queries.yml"
# the semantic models' dimensions and metrics as SQL on the BI file's marts (models/marts/semantic/*.yml)
DIMENSIONS = {
    "customer__lifecycle_segment": "lifecycle_segment",
    "customer__rfm_segment": "coalesce(rfm_segment, 'no_order')",
    "customer__home_region": "home_region",
    "customer__preferred_channel": "coalesce(preferred_channel, 'no_order')",
    "customer__age_band": "age_band",
    "metric_time__month": "date_trunc('month', as_of_date)",
    "customer_snapshot__lifecycle_segment": "lifecycle_segment",
    "cohort_cell__months_since": "months_since",
}
METRICS = {
    "customers": "count(distinct customer_key)",
    "customer_share": "cast(count(*) as double) / sum(count(*)) over ()",
    "net_revenue": "sum(net_revenue)",
    "revenue_share": "cast(sum(net_revenue) as double) / sum(sum(net_revenue)) over ()",
    "avg_historical_clv": "avg(historical_clv)",
    "avg_predicted_clv_365d": "avg(predicted_clv_365d)",
    "predicted_clv_365d": "sum(predicted_clv_365d)",
    # snapshots: the newest recorded as-of date of each month (non_additive_dimension as_of_date, window max)
    "history_customers": "count(distinct customer_key)",
    "history_net_revenue": "sum(net_revenue)",
    # cohorts (marts.cohort_retention): sums over the cohorts of the group, and their ratio
    "cohort_size": "sum(cohort_customers)",
    "cohort_active_customers": "sum(active_customers)",
    "cohort_retention_share": "cast(sum(active_customers) as double) / sum(cohort_customers)",
}
HISTORY = ("select * from marts.customer_segment_history qualify as_of_date = "
           "max(as_of_date) over (partition by date_trunc('month', as_of_date))")


def test_every_saved_query_gives_the_figures_of_the_bi_file(mf: Mf, sample_build: DbtRun, tmp_path: Path) -> None:
    """`mf query --saved-query` for each saved query, against the same figures computed by SQL on the BI file
    through SQLAlchemy and duckdb-engine (test_bi_recipes.py's engine, from the Superset recipe of docs/bi.md)."""
    import sqlalchemy
    import yaml
    from test_bi_recipes import engine_for

    from segmentation import export_marts

    saved = yaml.safe_load(SAVED_QUERIES.read_text(encoding="utf-8"))["saved_queries"]
    assert len(saved) >= 5
    bi_file = tmp_path / "bi.duckdb"
    export_marts.export(sample_build.warehouse, sample_build.warehouse.parent / "target" / "manifest.json",
                        tmp_path / "exports", log=lambda _: None, warn=lambda _: None, bi_file=bi_file)
    engine = engine_for(bi_file)
    try:
        for saved_query in saved:
            params = saved_query["query_params"]
            metrics = params["metrics"]
            dimensions = [re.sub(r"^(?:Time)?Dimension\('([^']+)'(?:, '(\w+)')?\)$",
                                 lambda match: match.group(1) + (f"__{match.group(2)}" if match.group(2) else ""),
                                 group) for group in params["group_by"]]
            source = HISTORY if any(metric.startswith("history_") for metric in metrics) else (
                "select * from marts.cohort_retention" if any(metric.startswith("cohort_") for metric in metrics)
                else "select * from marts.customer_segments")
            sql = (f"select {', '.join(DIMENSIONS[d] for d in dimensions)}, "
                   f"{', '.join(METRICS[m] for m in metrics)} from ({source}) group by all")
            with engine.connect() as connection:
                expected = {tuple("" if v is None else str(v)[:10] for v in row[:len(dimensions)]):
                            row[len(dimensions):] for row in connection.execute(sqlalchemy.text(sql))}
            rows = query(mf, tmp_path, "--saved-query", saved_query["name"])
            got = {tuple(row[d][:10] for d in dimensions): row for row in rows}
            assert set(got) == set(expected) and got, saved_query["name"]
            for key, values in expected.items():
                for metric, value in zip(metrics, values):
                    assert close(number(got[key][metric]), None if value is None else float(value)), (
                        saved_query["name"], key, metric, got[key][metric], value)
    finally:
        engine.dispose()
