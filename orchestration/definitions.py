"""The Dagster definitions: `dagster dev -m orchestration.definitions` (or `make dagster`) starts the UI on them.

- every dbt seed and model is an asset and every data test an asset check (dagster-dbt's defaults), computed by one
  op that runs `dbt build` with the vars of the run config (`as_of_date`, `raw_data_path`, other `vars`);
- job `daily_customer_segments` builds them all; schedule `daily_customer_segments_schedule` launches it every day
  (02:00 Asia/Ho_Chi_Minh) with `as_of_date` = the day before the scheduled day, the last complete day;
- asset `segment_history_as_of_date`, partitioned by day: materialising a partition records that as-of date in
  `marts.customer_segment_history` through `segmentation/backfill.py` (customer_segments is not touched), so a Dagster
  backfill over a date range fills the history, in one run per backfill;
- both go through the publish step of `make build` (segmentation/publish.py): dbt works on a copy of the warehouse,
  which replaces the published file (one rename) and refreshes the exports only when every error-severity test
  passed; a failed run leaves both as they were (docs/publish.md);
- both ops retry errors twice (1 then 2 minutes apart); data tests that fail are not retried; one run at a time
  writes the warehouse (the publish step's lock file, plus the pool `duckdb_warehouse` for the Dagster instance's
  queue).

Environment: DUCKDB_PATH, RAW_DATA_PATH, DBT_TARGET_PATH (see project.py), and
SEGMENTS_DBT_VARS (other dbt vars of every run, a YAML mapping, over those of your settings file key by key;
default none),
SEGMENTS_SCHEDULE (cron expression, default "0 2 * * *"), SEGMENTS_TIMEZONE (default Asia/Ho_Chi_Minh),
SEGMENTS_SCHEDULE_RUNNING (1: the schedule is on when the code loads; default off, switch it on in the UI),
SEGMENTS_HISTORY_START (first partition of the history asset, default 2024-01-01),
SEGMENTS_RETRY_DELAY (seconds before the first retry, default 60). See docs/orchestration.md.
"""

import json
import os
import shutil
import subprocess
import sys
from collections import deque
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import yaml
from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Backoff,
    Config,
    DailyPartitionsDefinition,
    DefaultScheduleStatus,
    Definitions,
    Failure,
    Jitter,
    MaterializeResult,
    RetryPolicy,
    RunConfig,
    RunRequest,
    ScheduleEvaluationContext,
    asset,
    define_asset_job,
    in_process_executor,
    schedule,
)
from dagster_dbt import DbtCliResource, dbt_assets, get_asset_key_for_model
from pydantic import Field

from orchestration.project import (
    DBT_EXECUTABLE,
    PROJECT_DIR,
    customer_segmentation_project,
    raw_data_path,
    target_dir,
    warehouse_path,
)
from segmentation import publish, settings

SCHEDULE_CRON = os.environ.get("SEGMENTS_SCHEDULE", "0 2 * * *")
TIMEZONE = os.environ.get("SEGMENTS_TIMEZONE", "Asia/Ho_Chi_Minh")
SCHEDULE_RUNNING = os.environ.get("SEGMENTS_SCHEDULE_RUNNING", "").lower() in ("1", "true", "yes", "on")
HISTORY_START = os.environ.get("SEGMENTS_HISTORY_START", "2024-01-01")
RETRY_DELAY = float(os.environ.get("SEGMENTS_RETRY_DELAY", "60"))

# Errors (warehouse locked by another process, a raw file missing or half-written when the run starts, out of memory)
# are retried twice, about 1 and 2 minutes later. A data or unit test that fails on the same data fails again, so
# those raise Failure(allow_retries=False) and the run fails at once (see dbt_failure).
RETRY_POLICY = RetryPolicy(max_retries=2, delay=RETRY_DELAY, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)
# Ops writing the warehouse share this pool; orchestration/dagster.yaml limits it to one run at a time.
WAREHOUSE_POOL = "duckdb_warehouse"
DBT_OP = "customer_segmentation_dbt_assets"


class HistoryBackfillConfig(Config):
    """Run config of the history asset: the raw folder and vars of the build the history is recorded from."""

    raw_data_path: str | None = Field(
        default=None, description="the raw folder; empty: raw_data_path in vars, else RAW_DATA_PATH, else data/sample"
    )
    vars: str = Field(
        default="",
        description="other dbt vars of your build, a YAML or JSON mapping as in `make build VARS=...` (rule "
        "thresholds...), without as_of_date; empty: the SEGMENTS_DBT_VARS environment variable; either over the "
        "vars of your settings file (settings.yml), key by key",
    )


class DbtBuildConfig(HistoryBackfillConfig):
    """Run config of the dbt op (Launchpad: ops > customer_segmentation_dbt_assets > config)."""

    as_of_date: str | None = Field(
        default=None, description="yyyy-mm-dd, the last day in every figure; empty: as_of_date of your settings "
        "file, else the newest valid order's date"
    )
    full_refresh: bool = Field(default=False, description="dbt build --full-refresh (docs/incremental.md)")


def _iso_date(value: str, what: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise Failure(description=f"{what}: '{value}' is not a yyyy-mm-dd date", allow_retries=False) from None


def build_vars(config: HistoryBackfillConfig) -> dict[str, Any]:
    """The dbt vars of a run config, without as_of_date: the settings file's vars (segmentation/settings.py), its `vars`
    (else SEGMENTS_DBT_VARS) over them key by key, and the raw folder."""
    text = config.vars or os.environ.get("SEGMENTS_DBT_VARS", "")
    try:
        extra = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as error:
        raise Failure(description=f"vars: not YAML: {error}", allow_retries=False) from None
    if not isinstance(extra, dict) or "as_of_date" in extra:
        raise Failure(description="vars: a mapping of dbt vars, without as_of_date (a field of its own)",
                      allow_retries=False)
    extra = {key: value for key, value in settings_vars().items() if key != "as_of_date"} | extra
    raw = config.raw_data_path or extra.get("raw_data_path") or raw_data_path()
    return {**extra, "raw_data_path": str(raw)}


def settings_vars() -> dict[str, Any]:
    """The vars of the settings file (read at every run, so an edit needs no reload); a malformed file fails the
    run with its one line, not retried."""
    try:
        return settings.merge_vars()
    except settings.SettingsError as error:
        raise Failure(description=str(error), allow_retries=False) from None


def dbt_failure(run_results: Mapping[str, Any] | None, error: Exception | None) -> Failure:
    """The Failure for a dbt command that did not succeed: retried unless it failed only on tests (status `fail`:
    a data or unit test found rows, which it will find again on the same data)."""
    results = list((run_results or {}).get("results", []))
    failed = sorted(r["unique_id"] for r in results if r.get("status") == "fail")
    errors = sorted(r["unique_id"] for r in results if r.get("status") == "error")
    if failed and not errors:
        return Failure(
            description=f"dbt build: {len(failed)} tests failed (not retried: the same data fails them again): "
            + ", ".join(failed[:20]),
            metadata={"failed_tests": failed},
            allow_retries=False,
        )
    detail = ", ".join(errors[:20]) if errors else str(error or "dbt failed before running any node")
    return Failure(
        description=f"dbt build failed (retried): {detail}",
        metadata={"errors": errors, "failed_tests": failed},
        allow_retries=True,
    )


@dbt_assets(
    manifest=customer_segmentation_project.manifest_path,
    project=customer_segmentation_project,
    name=DBT_OP,
    retry_policy=RETRY_POLICY,
    pool=WAREHOUSE_POOL,
)
def customer_segmentation_dbt_assets(
    context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
) -> Iterator[Any]:
    """`dbt build` of the selected seeds and models and their data tests (asset checks), on a copy of
    the warehouse that is published (with the exports) only when the build passed: the publish step of
    `make build` (segmentation/publish.py)."""
    dbt_vars = build_vars(config)
    as_of_date = config.as_of_date or settings_vars().get("as_of_date")  # the run config's, else the settings file's
    if as_of_date:
        dbt_vars["as_of_date"] = _iso_date(str(as_of_date), "as_of_date")
    try:
        with publish.build_copy(warehouse_path(), raw=publish.project_path(dbt_vars["raw_data_path"]),
                                log=context.log.info) as build:
            # the unit tests test the SQL, not the data: left to `make test` and CI, as in `make build`
            args = ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(dbt_vars, default=str)]
            if config.full_refresh:
                args.append("--full-refresh")
            context.log.info(f"dbt {' '.join(args)} into {build.copy} (published: {build.published})")
            with publish.pointed_at(build):  # dagster-dbt starts dbt with a copy of os.environ (the copy, RAW_READ_PATH)
                invocation = dbt.cli(args, context=context, raise_on_error=False)
            yield from invocation.stream()
            if not invocation.is_successful():
                try:
                    run_results = invocation.get_artifact("run_results.json")
                except Exception:  # noqa: BLE001 - dbt stopped before writing it (e.g. in the on-run-start hook)
                    run_results = None
                build.fail("dbt build failed")
                raise dbt_failure(run_results, invocation.get_error())
            # a partial build (a few assets picked in the UI) is published, but the other marts are as they were:
            # the Parquet/CSV exports are refreshed after full builds only
            if context.is_subset:
                context.log.info("subset of the assets selected: the Parquet/CSV exports are not refreshed")
            publish_build(build, Path(invocation.target_path) / "manifest.json", export=not context.is_subset)
    except publish.PublishError as error:  # lock, pre-flight, copy, checkpoint: may go away, retried
        raise Failure(description=f"publish: {error}", allow_retries=True) from None


def publish_build(build: publish.Build, manifest: Path, export: bool = True) -> None:
    """Publish the build copy, then write the BI-facing marts to EXPORT_PATH (relative to the project folder, like
    DUCKDB_PATH; default exports/) and switch exports/current to them. An export that fails (e.g. a mismatch with
    the contracts, a direct identifier) fails again on retry: not retried."""
    try:
        build.publish(manifest, publish.export_folder() if export else None)
    except publish.PublishError as error:
        allow_retries = build.state != "published"  # published, but the export was refused
        raise Failure(description=f"publish: {error}", allow_retries=allow_retries) from None


history_partitions = DailyPartitionsDefinition(start_date=HISTORY_START, timezone=TIMEZONE, end_offset=0)
# retried: any exit of segmentation/backfill.py but the ones below, which the same warehouse gives again
_BACKFILL_FINAL_ERRORS = ("is after the current as-of date", "run `make build` first", "--vars must be",
                          "the exports were not refreshed")


@asset(
    key=AssetKey("segment_history_as_of_date"),
    group_name="history",
    partitions_def=history_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    deps=[
        get_asset_key_for_model([customer_segmentation_dbt_assets], "customer_segments"),
        get_asset_key_for_model([customer_segmentation_dbt_assets], "customer_segment_history"),
    ],
    retry_policy=RETRY_POLICY,
    pool=WAREHOUSE_POOL,
    kinds={"dbt", "duckdb"},
)
def segment_history_as_of_date(context: AssetExecutionContext, config: HistoryBackfillConfig) -> MaterializeResult:
    """One partition = one as-of date recorded in marts.customer_segment_history (one row per customer), as
    `make backfill` records it: segmentation/backfill.py rebuilds only the models between int_as_of_date and the
    history for each date, then puts them back at the current as-of date and rebuilds segment_transitions and its
    tests. customer_segments and the other marts keep their current as-of date. A backfill over a date range runs
    in one run (one dbt parse); dates after the current as-of date of customer_segments are refused."""
    dates = [_iso_date(key, "partition") for key in context.partition_keys]
    dbt_vars = build_vars(config)
    run_dir = target_dir() / f"history-{context.run.run_id[:8]}-{context.retry_number}"
    run_dir.mkdir(parents=True, exist_ok=True)
    partial_parse = target_dir() / "partial_parse.msgpack"
    if partial_parse.exists():  # the manifest's parse: saves most of the backfill's own parse
        shutil.copy(partial_parse, run_dir / "partial_parse.msgpack")
    command = [sys.executable, "-m", "segmentation.backfill", "--dates", ",".join(dates)]
    command += ["--vars", json.dumps(dbt_vars, default=str)]
    # segmentation/backfill.py takes the publish step's lock itself (and waits for it), works on a copy of the warehouse
    # and publishes it, with the exports, when every step passed: this op must not hold the lock
    warehouse = warehouse_path()
    env = {
        **os.environ,
        "DUCKDB_PATH": str(warehouse),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(run_dir),
        "DBT_LOG_PATH": str(run_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_USE_COLORS": "False",
    }
    context.log.info(f"{len(dates)} as-of dates from {dates[0]} to {dates[-1]} into {warehouse}")
    tail: deque[str] = deque(maxlen=30)
    with subprocess.Popen(
        command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            tail.append(line.rstrip())
            context.log.info(line.rstrip())
    if process.returncode != 0:
        output = "\n".join(tail)
        raise Failure(
            description=f"segmentation/backfill.py exited with {process.returncode}: {output[-2000:]}",
            allow_retries=not any(marker in output for marker in _BACKFILL_FINAL_ERRORS),
        )
    metadata: dict[str, Any] = {
        "as_of_dates": len(dates), "first_as_of_date": dates[0], "last_as_of_date": dates[-1]
    }
    try:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            metadata["dates_in_history"], metadata["customers_at_last_date"] = connection.sql(
                "select count(distinct as_of_date), count(*) filter (where as_of_date = ?::date)"
                " from marts.customer_segment_history",
                params=[dates[-1]],
            ).fetchall()[0]
    except duckdb.Error as error:  # e.g. the file is being replaced: the dates are recorded anyway
        context.log.warning(f"history not counted: {str(error).splitlines()[0]}")
    return MaterializeResult(metadata=metadata)


daily_customer_segments = define_asset_job(
    "daily_customer_segments",
    selection=[customer_segmentation_dbt_assets],
    executor_def=in_process_executor,
    description="dbt build of every seed, model and test, at the as_of_date of the run config",
)
segment_history_backfill = define_asset_job(
    "segment_history_backfill",
    selection=[segment_history_as_of_date],
    executor_def=in_process_executor,
    description="records the partition's as-of dates in marts.customer_segment_history (segmentation/backfill.py)",
)


def daily_run_config(as_of: date) -> RunConfig:
    """The run config of the daily job for an as-of date (the schedule and `python -m orchestration daily`)."""
    defaults = DbtBuildConfig()
    return RunConfig(ops={DBT_OP: DbtBuildConfig(
        as_of_date=as_of.isoformat(), raw_data_path=build_vars(defaults)["raw_data_path"],
        vars=os.environ.get("SEGMENTS_DBT_VARS", ""),
    )})


def as_of_date_for(scheduled: datetime) -> date:
    """The as-of date of a run scheduled at `scheduled`: the day before, in the schedule's time zone (02:00 on
    1 July builds 30 June, the last complete day of orders)."""
    return scheduled.astimezone(ZoneInfo(TIMEZONE)).date() - timedelta(days=1)


@schedule(
    job=daily_customer_segments,
    cron_schedule=SCHEDULE_CRON,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING if SCHEDULE_RUNNING else DefaultScheduleStatus.STOPPED,
    description="every day: dbt build at as_of_date = the previous day (in the schedule's time zone)",
)
def daily_customer_segments_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    scheduled = context.scheduled_execution_time or datetime.now(ZoneInfo(TIMEZONE))
    as_of = as_of_date_for(scheduled)
    return RunRequest(
        run_key=as_of.isoformat(), run_config=daily_run_config(as_of), tags={"as_of_date": as_of.isoformat()}
    )


defs = Definitions(
    assets=[customer_segmentation_dbt_assets, segment_history_as_of_date],
    jobs=[daily_customer_segments, segment_history_backfill],
    schedules=[daily_customer_segments_schedule],
    resources={"dbt": DbtCliResource(project_dir=customer_segmentation_project, dbt_executable=DBT_EXECUTABLE)},
    executor=in_process_executor,
)
