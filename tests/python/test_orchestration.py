"""The Dagster orchestration (orchestration/, docs/orchestration.md): the definitions load, the daily schedule asks
for the previous day's as-of date, the daily job materialises every dbt asset in-process on the sample data with
every asset check passing, and a backfill of the history asset records its as-of dates without moving the mart.

Everything is written under a temporary folder (warehouse, dbt target and logs, Dagster home): nothing in the
repository. One build of the sample (about a minute) serves every test of the module.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import duckdb
import pytest
from conftest import PROJECT_DIR
from dagster import AssetKey, Definitions, build_schedule_context

from segmentation import publish

SCHEDULED = datetime(2026, 7, 1, 2, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


@pytest.fixture(scope="module")
def orchestration(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModuleType, Path]]:
    """orchestration.definitions loaded with the warehouse, dbt's target folder and DAGSTER_HOME in a temporary
    folder (loading parses the project into that target folder: no manifest is needed beforehand)."""
    workdir = tmp_path_factory.mktemp("orchestration")
    (workdir / "dagster_home").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DUCKDB_PATH", str(workdir / "warehouse.duckdb"))
        patch.setenv("DBT_TARGET_PATH", str(workdir / "target"))
        patch.setenv("DBT_LOG_PATH", str(workdir / "logs"))
        patch.setenv("EXPORT_PATH", str(workdir / "exports"))
        patch.setenv("DAGSTER_HOME", str(workdir / "dagster_home"))
        patch.setenv("RAW_DATA_PATH", str(PROJECT_DIR / "data" / "sample"))
        patch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
        patch.setenv("CUSTOMER_KEY_SALT", "orchestration-test-salt")
        patch.setenv("SEGMENTS_RETRY_DELAY", "1")  # a wrongly retried failure costs seconds, not minutes
        for name in ("SEGMENTS_SCHEDULE", "SEGMENTS_TIMEZONE", "SEGMENTS_SCHEDULE_RUNNING", "SEGMENTS_HISTORY_START",
                     "SEGMENTS_DBT_VARS"):
            patch.delenv(name, raising=False)
        for name in ("orchestration.definitions", "orchestration.project"):  # module-level settings read the env
            sys.modules.pop(name, None)
        definitions = importlib.import_module("orchestration.definitions")
        yield definitions, workdir
        for name in ("orchestration.definitions", "orchestration.project"):
            sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def daily_run(orchestration: tuple[ModuleType, Path]):
    """The run the schedule asks for at 02:00 on 1 July 2026, executed in-process on the sample."""
    definitions, workdir = orchestration
    request = definitions.daily_customer_segments_schedule(build_schedule_context(scheduled_execution_time=SCHEDULED))
    job = definitions.defs.resolve_job_def("daily_customer_segments")
    result = job.execute_in_process(run_config=request.run_config, tags=request.tags, raise_on_error=False)
    return result, workdir / "warehouse.duckdb"


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.sql(sql).fetchall()


def test_definitions_load(orchestration: tuple[ModuleType, Path]) -> None:
    definitions, workdir = orchestration
    Definitions.validate_loadable(definitions.defs)
    # the manifest was parsed into the temporary target folder, not the repository's
    assert (workdir / "target" / "manifest.json").exists()
    assert definitions.customer_segmentation_project.manifest_path == workdir / "target" / "manifest.json"
    repository = definitions.defs.get_repository_def()
    assert {job.name for job in repository.get_all_jobs()} >= {"daily_customer_segments", "segment_history_backfill"}
    schedule = definitions.defs.get_schedule_def("daily_customer_segments_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Asia/Ho_Chi_Minh")
    dbt_op = definitions.customer_segmentation_dbt_assets.op
    assert (dbt_op.retry_policy.max_retries, dbt_op.retry_policy.delay) == (2, 1)
    assert dbt_op.pool == definitions.segment_history_as_of_date.op.pool == "duckdb_warehouse"
    assert AssetKey(["marts", "customer_segments"]) in definitions.customer_segmentation_dbt_assets.keys
    assert len(list(definitions.customer_segmentation_dbt_assets.check_specs)) > 50  # the data tests
    partitions = definitions.segment_history_as_of_date.partitions_def
    assert partitions.get_first_partition_key() == "2024-01-01"


def test_schedule_builds_the_previous_day(orchestration: tuple[ModuleType, Path]) -> None:
    definitions, _ = orchestration
    for scheduled in (SCHEDULED, datetime(2026, 6, 30, 19, 0, tzinfo=ZoneInfo("UTC"))):  # the same instant
        context = build_schedule_context(scheduled_execution_time=scheduled)
        request = definitions.daily_customer_segments_schedule(context)
        config = request.run_config["ops"]["customer_segmentation_dbt_assets"]["config"]
        assert config["as_of_date"] == "2026-06-30"
        assert config["raw_data_path"] == str(PROJECT_DIR / "data" / "sample")
        assert request.tags["as_of_date"] == "2026-06-30"
        assert request.run_key == "2026-06-30"
    assert definitions.as_of_date_for(datetime(2026, 1, 1, 2, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))) == date(
        2025, 12, 31
    )


def test_daily_job_materialises_every_model_and_passes_every_check(orchestration, daily_run) -> None:
    definitions, _ = orchestration
    result, warehouse = daily_run
    assert result.success, [event.message for event in result.all_events if event.is_failure][-5:]
    materialised = {event.asset_key for event in result.get_asset_materialization_events()}
    expected = set(definitions.customer_segmentation_dbt_assets.keys)
    assert materialised == expected
    evaluations = result.get_asset_check_evaluations()
    assert {evaluation.asset_check_key for evaluation in evaluations} == set(
        definitions.customer_segmentation_dbt_assets.check_keys
    )
    assert [evaluation.asset_check_key for evaluation in evaluations if not evaluation.passed] == []
    ((customers, as_of),) = _query(warehouse, "select count(*), max(as_of_date) from marts.customer_segments")
    assert customers > 0 and as_of == date(2026, 6, 30)
    assert _query(warehouse, "select distinct as_of_date from marts.customer_segment_history") == [(date(2026, 6, 30),)]
    # the run went through the publish step of `make build`: the build copy replaced the warehouse, the exports
    # were published, with customer_key instead of customer_id
    assert not publish.building_path(warehouse).exists() and not publish.failed_path(warehouse).exists()
    exported = warehouse.parent / "exports" / "current" / "parquet" / "customer_segments.parquet"
    assert _query(warehouse, f"select count(*) from read_parquet('{exported}')") == _query(
        warehouse, "select count(*) from marts.customer_segments")
    assert _query(warehouse, f"describe select * from read_parquet('{exported}')")[0][0] == "customer_key"
    # and the BI file beside the warehouse, the same rows as the export
    bi_file = publish.bi_file(warehouse)
    assert bi_file == warehouse.with_name("bi.duckdb") and bi_file.is_file()
    with duckdb.connect(str(bi_file), read_only=True) as connection:
        assert connection.sql(f"select * from marts.customer_segments except all select * from read_parquet('{exported}')"
                              ).fetchall() == []
        assert connection.sql("select count(*) from marts.customer_segments").fetchall() == _query(
            warehouse, "select count(*) from marts.customer_segments")


def test_history_backfill_records_past_dates_and_leaves_the_mart(orchestration, daily_run) -> None:
    definitions, _ = orchestration
    result, warehouse = daily_run
    assert result.success
    mart_before = _query(warehouse, "select * from marts.customer_segments order by customer_id")
    job = definitions.defs.resolve_job_def("segment_history_backfill")
    backfill = job.execute_in_process(
        tags={"dagster/asset_partition_range_start": "2025-12-30", "dagster/asset_partition_range_end": "2025-12-31"},
        raise_on_error=False,
    )
    assert backfill.success, [event.message for event in backfill.all_events if event.is_failure][-5:]
    materialisations = backfill.get_asset_materialization_events()
    assert {event.asset_key for event in materialisations} == {AssetKey("segment_history_as_of_date")}
    assert sorted(event.partition for event in materialisations) == ["2025-12-30", "2025-12-31"]
    dates = _query(
        warehouse,
        "select as_of_date, count(*), count(distinct customer_id) from marts.customer_segment_history"
        " group by 1 order by 1",
    )
    assert [row[0] for row in dates] == [date(2025, 12, 30), date(2025, 12, 31), date(2026, 6, 30)]
    assert all(rows == customers > 0 for _, rows, customers in dates)
    assert _query(warehouse, "select * from marts.customer_segments order by customer_id") == mart_before
    exported = warehouse.parent / "exports" / "current" / "parquet" / "customer_segment_history" / "*.parquet"
    assert _query(warehouse, f"select count(distinct as_of_date) from read_parquet('{exported}')") == [(3,)]
    with duckdb.connect(str(publish.bi_file(warehouse)), read_only=True) as connection:
        assert connection.sql("select count(distinct as_of_date) from marts.customer_segment_history").fetchall() == [
            (3,)]


def test_only_errors_are_retried(orchestration: tuple[ModuleType, Path]) -> None:
    definitions, _ = orchestration
    failed_test = {"unique_id": "test.customer_segmentation.unique_x", "status": "fail"}
    error = {"unique_id": "model.customer_segmentation.x", "status": "error"}
    assert definitions.dbt_failure({"results": [failed_test]}, None).allow_retries is False
    assert definitions.dbt_failure({"results": [failed_test, error]}, None).allow_retries is True
    assert definitions.dbt_failure(None, RuntimeError("raw folder missing")).allow_retries is True


def test_a_failing_data_test_fails_the_run_without_retries(orchestration, daily_run, tmp_path: Path) -> None:
    """Every raw table has some bad rows on the sample: with max_rejected_share near 0, rejected_share_within_limit
    fails, the run fails at once (no retry: the same data would fail it again) and its asset check says why. Only
    one model is selected (as when one asset is materialised from the UI), which keeps the build short."""
    definitions, _ = orchestration
    job = definitions.defs.resolve_job_def("daily_customer_segments")
    # the customers' base model and what it reads first: the raw nodes of customers and of the erasure list (views)
    selected = [key for key in (AssetKey(["raw", "raw_shop__customers"]), AssetKey(["raw", "raw_shop__erasure_requests"]),
                                AssetKey(["staging", "stg_shop__erasure_requests"]),
                                AssetKey(["staging", "base_shop__customers"]))
                if key in definitions.customer_segmentation_dbt_assets.keys]
    failing = tmp_path / "failing.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DUCKDB_PATH", str(failing))  # the shared warehouse stays as built
        run_config = {"ops": {"customer_segmentation_dbt_assets": {"config": {
            "as_of_date": "2026-06-30", "vars": "{max_rejected_share: 0.0001}",
        }}}}
        result = job.execute_in_process(
            run_config=run_config, asset_selection=selected, raise_on_error=False
        )
    assert not result.success
    assert [event for event in result.all_events if event.event_type_value == "STEP_UP_FOR_RETRY"] == []
    (failure,) = [event for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
    assert "tests failed (not retried" in failure.step_failure_data.error.message
    failed_checks = {e.asset_check_key.name for e in result.get_asset_check_evaluations() if not e.passed}
    assert any(name.startswith("rejected_share_within_limit") for name in failed_checks), failed_checks
    # built (in the build copy), then the test of base_shop__customers failed
    assert {event.asset_key for event in result.get_asset_materialization_events()} == set(selected)
    # nothing was published: there was no warehouse, there still is none; the failed copy is kept aside
    assert not failing.exists() and publish.failed_path(failing).is_file()
    assert not publish.building_path(failing).exists()
