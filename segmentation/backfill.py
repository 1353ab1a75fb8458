"""Backfill the segment history: rebuild every customer's lifecycle segment as of a range of past dates from the
same raw data, so that `marts.segment_transitions` can show how customers moved between segments.

    python -m segmentation.backfill                          # the 24 month-ends up to the current as-of date
    python -m segmentation.backfill --start 2025-01-01 --end 2026-06-30 --every quarter
    python -m segmentation.backfill --dates 2025-12-31,2026-03-31 --vars '{raw_data_path: data/mine}'

For each date it runs, in this one process (the project is parsed once), only the models between the as-of date
and `customer_segment_history`; the history model replaces that date's rows. `customer_segments` and the other
marts are not touched: they stay at the current as-of date. At the end the intermediate models are rebuilt at the
current as-of date, and the history, `segment_transitions` and their tests (transitions reconcile with the
history) are built. Run `make build` first, with the same vars: the raw layer and staging are read as they are.
The vars of your settings file (settings.yml, segmentation/settings.py) are read too, with --vars over them key by key.

Like `make build`, it goes through the publish step (segmentation/publish.py): the writer lock, the raw pre-flight,
every dbt invocation on one copy of the warehouse, and one publish (rename, then the exports) at the end, only when
every step passed. A failed backfill leaves the published warehouse and the exports as they were.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, timedelta

import duckdb
import yaml

from segmentation import publish, settings

HISTORY_CHAIN = "int_as_of_date+,+customer_segment_history"
EVERY = ("month", "quarter", "week")
DEFAULT_MONTHS = 24


def first_of_month_back(day: date, months: int) -> date:
    """The first day of the month `months` months before day's month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def period_ends(start: date, end: date, every: str) -> list[date]:
    """The last day of every month / quarter / ISO week (Sunday) from start to end, both included."""
    if every == "week":
        first = start + timedelta(days=(6 - start.weekday()) % 7)
        return [first + timedelta(weeks=i) for i in range(((end - first).days // 7) + 1) if first <= end]
    months = 3 if every == "quarter" else 1
    dates = []
    year, month = start.year, start.month
    while True:
        next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
        last_day = date(next_year, next_month, 1) - timedelta(days=1)
        if last_day > end:
            return dates
        if last_day >= start and (every == "month" or month % months == 0):
            dates.append(last_day)
        year, month = next_year, next_month


def current_as_of_date(warehouse: str) -> date:
    """The as-of date customer_segments was built at; stops with one line when there is no built mart."""
    try:
        with duckdb.connect(warehouse, read_only=True) as connection:
            row = connection.sql("select max(as_of_date) from marts.customer_segments").fetchall()[0]
    except (duckdb.Error, OSError) as error:
        raise SystemExit(f"backfill: no built warehouse at {warehouse} ({str(error).splitlines()[0]}); "
                         "run `make build` first, with the same vars") from None
    if row[0] is None:
        raise SystemExit(f"backfill: marts.customer_segments in {warehouse} is empty; run `make build` first")
    return row[0]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", type=date.fromisoformat,
                        help=f"first day of the range (default: {DEFAULT_MONTHS} month-ends up to --end)")
    parser.add_argument("--end", type=date.fromisoformat, help="last day of the range (default: the current as-of "
                        "date of customer_segments)")
    parser.add_argument("--every", choices=EVERY, default="month", help="one as-of date per period end")
    parser.add_argument("--dates", help="explicit comma-separated as-of dates instead of a range")
    parser.add_argument("--vars", default="{}", help="the dbt vars of your nightly build (YAML or JSON), e.g. "
                        "raw_data_path; as_of_date is set by the backfill")
    return parser.parse_args(argv)


def close_dbt_connections() -> None:
    """dbt-duckdb keeps its DuckDB instance in the process between invocations: close it, so that the copy can be
    checkpointed and renamed with nothing holding it."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:  # no public call closes the shared environment
        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
            DuckDBConnectionManager._ENV = None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        file_settings = settings.apply_environment()  # before the warehouse path: its env may set DUCKDB_PATH
    except settings.SettingsError as error:
        raise SystemExit(f"backfill: {error}") from None
    published = publish.published_warehouse()
    warehouse = str(published)
    current = current_as_of_date(warehouse)
    try:
        extra_vars = yaml.safe_load(args.vars) or {}
        if args.dates:
            dates = sorted({date.fromisoformat(value.strip()) for value in args.dates.split(",") if value.strip()})
        else:
            end = args.end or current
            dates = period_ends(args.start or first_of_month_back(end, DEFAULT_MONTHS - 1), end, args.every)
    except (ValueError, yaml.YAMLError) as error:
        raise SystemExit(f"backfill: {error}") from None
    if not isinstance(extra_vars, dict) or "as_of_date" in extra_vars:
        raise SystemExit("backfill: --vars must be a mapping of your build's vars, without as_of_date")
    # the settings file's vars under --vars (its as_of_date, if any, is replaced by each backfilled date)
    extra_vars = settings.merge_vars(extra_vars, file_settings)
    extra_vars.pop("as_of_date", None)
    if not dates:
        raise SystemExit("backfill: no as-of date in the range; widen --start/--end")
    later = [d for d in dates if d > current]
    if later:
        raise SystemExit(f"backfill: {later[0]} is after the current as-of date {current} of customer_segments; "
                         "build the current date with `make build` instead")

    try:
        with publish.build_copy(published, raw=publish.raw_folder(extra_vars)) as build:
            with publish.pointed_at(build):  # dbt writes the copy and reads the pre-flight's repaired raw copy, if any
                try:
                    backfill(dates, current, extra_vars, str(build.copy))
                finally:
                    close_dbt_connections()
            build.publish(publish.project_path(os.environ.get("DBT_TARGET_PATH") or "target") / "manifest.json",
                          publish.export_folder())
    except publish.PublishError as error:
        raise SystemExit(f"backfill: {error}") from None
    return 0


def backfill(dates: list[date], current: date, extra_vars: dict, warehouse: str) -> None:
    """The dbt invocations of the backfill, in this process, into `warehouse` (the build copy)."""
    from dbt.cli.main import dbtRunner

    started = time.perf_counter()
    parsed = dbtRunner().invoke(["parse", "--quiet", "--vars", json.dumps(extra_vars)])
    if not parsed.success:
        raise SystemExit(f"backfill: dbt could not parse the project: {parsed.exception}")
    runner = dbtRunner(manifest=parsed.result)

    def invoke(command: str, selection: list[str], as_of: date) -> None:
        run_vars = json.dumps({**extra_vars, "as_of_date": as_of.isoformat()}, default=str)
        result = runner.invoke([command, "--quiet", "--select", *selection, "--vars", run_vars])
        if not result.success:
            failures = [
                f"{r.node.name}: {r.message}" for r in (result.result or []) if r.status in ("error", "fail")
            ]
            reason = "; ".join(failures) or str(result.exception)
            raise SystemExit(f"backfill: dbt {command} at as_of_date {as_of} failed: {reason}")

    print(f"backfill: {len(dates)} as-of dates from {dates[0]} to {dates[-1]} into {warehouse} "
          f"(customer_segments stays at {current})", flush=True)
    for number, as_of in enumerate(dates, start=1):
        step = time.perf_counter()
        invoke("run", [HISTORY_CHAIN], as_of)
        print(f"backfill: {number}/{len(dates)} {as_of} done in {time.perf_counter() - step:.1f} s", flush=True)
    # back to the current as-of date: intermediate models consistent with the mart, then the transitions and the
    # tests of the history (one row per date and customer, transitions reconcile with the history)
    invoke("build", [HISTORY_CHAIN, "customer_segment_history+"], current)
    # dbt holds the warehouse open in this process: ask it, not a second connection
    shown = runner.invoke([
        "show", "--log-level", "none", "--inline",
        ("select (select count(distinct as_of_date) from {{ ref('customer_segment_history') }}) as recorded,"
        " (select count(*) from {{ ref('segment_transitions') }}) as transitions"),
    ])
    recorded, transitions = shown.result.results[0].agate_table.rows[0] if shown.success else ("?", "?")
    print(f"backfill: done in {time.perf_counter() - started:.0f} s; the history holds {recorded} as-of dates, "
          f"segment_transitions {transitions} rows", flush=True)


if __name__ == "__main__":
    sys.exit(main())
