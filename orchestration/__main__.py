"""Run the Dagster jobs once, in this process, without the Dagster daemon: what a plain cron line calls.

    python -m orchestration daily                          # dbt build at as_of_date = yesterday (as the schedule)
    python -m orchestration daily --as-of-date 2026-06-30
    python -m orchestration history --start 2025-01-01 --end 2025-12-31   # one as-of date per day, one run

Same job, run config, retries and warehouse lock as the scheduled runs. With DAGSTER_HOME set, the run is recorded in
that Dagster instance (it shows in the UI); without it, in a throw-away one. Exit status 0 when the run succeeded.
"""

import argparse
import os
import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dagster import DagsterInstance, ExecuteInProcessResult


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m orchestration", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    daily = commands.add_parser("daily", help="the daily job: dbt build of every model and test")
    daily.add_argument("--as-of-date", type=date.fromisoformat,
                       help="yyyy-mm-dd (default: the day before today in SEGMENTS_TIMEZONE, as the schedule)")
    history = commands.add_parser("history", help="record past as-of dates in the segment history")
    history.add_argument("--start", type=date.fromisoformat, required=True, help="first as-of date, yyyy-mm-dd")
    history.add_argument("--end", type=date.fromisoformat, help="last as-of date (default: --start)")
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> ExecuteInProcessResult:
    args = parse_args(argv)
    # imported here: loading the definitions parses the dbt project when its manifest is stale
    from orchestration import definitions

    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
    with instance:
        if args.command == "daily":
            as_of = args.as_of_date or definitions.as_of_date_for(datetime.now(ZoneInfo(definitions.TIMEZONE)))
            job = definitions.defs.resolve_job_def(definitions.daily_customer_segments.name)
            return job.execute_in_process(
                run_config=definitions.daily_run_config(as_of), instance=instance, raise_on_error=False,
                tags={"as_of_date": as_of.isoformat(), "launched_by": "python -m orchestration"},
            )
        end = args.end or args.start
        if end < args.start:
            raise SystemExit("history: --end is before --start")
        job = definitions.defs.resolve_job_def(definitions.segment_history_backfill.name)
        return job.execute_in_process(
            instance=instance, raise_on_error=False,
            tags={
                "dagster/asset_partition_range_start": args.start.isoformat(),
                "dagster/asset_partition_range_end": end.isoformat(),
                "launched_by": "python -m orchestration",
            },
        )


def main(argv: list[str] | None = None) -> int:
    result = run(argv)
    print(f"orchestration: run {result.run_id} {'succeeded' if result.success else 'failed'}", flush=True)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
