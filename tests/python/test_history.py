"""Segment history and transitions: a backfill over 24 month-ends of the sample records every date once, leaves
customer_segments untouched, and gives transitions that reconcile with the history."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_DIR, DbtRun

from segmentation.backfill import first_of_month_back, period_ends


def test_period_ends() -> None:
    assert period_ends(date(2025, 1, 15), date(2025, 3, 31), "month") == [
        date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31),
    ]
    assert period_ends(date(2025, 1, 1), date(2025, 3, 30), "month") == [date(2025, 1, 31), date(2025, 2, 28)]
    assert period_ends(date(2025, 1, 1), date(2025, 12, 31), "quarter") == [
        date(2025, 3, 31), date(2025, 6, 30), date(2025, 9, 30), date(2025, 12, 31),
    ]
    assert period_ends(date(2025, 1, 6), date(2025, 1, 19), "week") == [date(2025, 1, 12), date(2025, 1, 19)]
    assert first_of_month_back(date(2026, 6, 30), 23) == date(2024, 7, 1)


def _backfill(warehouse: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DUCKDB_PATH": str(warehouse),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(workdir / "target"),
        "DBT_LOG_PATH": str(workdir / "logs"),
        "EXPORT_PATH": str(workdir / "exports"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_USE_COLORS": "False",
    }
    env.pop("RAW_DATA_PATH", None)
    return subprocess.run(
        [sys.executable, "-m", "segmentation.backfill",
         "--vars", f"{{raw_data_path: {PROJECT_DIR / 'data' / 'sample'}}}", *args],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900, check=False,
    )


@pytest.fixture(scope="module")
def backfilled(sample_build: DbtRun, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list, str]:
    workdir = tmp_path_factory.mktemp("backfill")
    warehouse = workdir / "warehouse.duckdb"
    shutil.copy(sample_build.warehouse, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        mart_before = connection.sql("select * from marts.customer_segments order by customer_id").fetchall()
    completed = _backfill(warehouse, workdir)
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-4000:]
    return warehouse, workdir, mart_before, completed.stdout


def test_backfill_records_24_month_ends_once_each(backfilled: tuple) -> None:
    warehouse, _, _, output = backfilled
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        dates = connection.sql(
            "select as_of_date, count(*), count(distinct customer_id) from marts.customer_segment_history"
            " group by 1 order by 1"
        ).fetchall()
    assert [row[0] for row in dates] == period_ends(date(2024, 7, 1), date(2026, 6, 30), "month")
    assert all(rows == customers for _, rows, customers in dates)
    sizes = [rows for _, rows, _ in dates]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]  # the customer base grows, nobody disappears
    assert "backfill: 24/24 2026-06-30 done" in output
    assert "the history holds 24 as-of dates" in output


def test_backfill_leaves_the_mart_untouched_and_history_matches_it(backfilled: tuple) -> None:
    warehouse, _, mart_before, _ = backfilled
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        mart_after = connection.sql("select * from marts.customer_segments order by customer_id").fetchall()
        (differences,) = connection.sql(
            "select count(*) from marts.customer_segments as mart"
            " full outer join (select * from marts.customer_segment_history where as_of_date = '2026-06-30') as h"
            " using (customer_id) where mart.lifecycle_segment is distinct from h.lifecycle_segment"
        ).fetchall()[0]
    assert mart_after == mart_before  # byte for byte, build timestamp included
    assert differences == 0


def test_transitions_reconcile_with_the_history(backfilled: tuple) -> None:
    warehouse, _, _, _ = backfilled
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        history = {
            (row[0], row[1]): row[2] for row in connection.sql(
                "select as_of_date, lifecycle_segment, count(*) from marts.customer_segment_history group by 1, 2"
            ).fetchall()
        }
        transitions = connection.sql(
            "select period_start, period_end, from_segment, to_segment, customers from marts.segment_transitions"
        ).fetchall()
        (new_to_loyal,) = connection.sql(
            "select coalesce(sum(customers), 0) from marts.segment_transitions"
            " where from_segment = 'new' and to_segment = 'loyal'"
        ).fetchall()[0]
    periods = {(start, end) for start, end, *_ in transitions}
    assert len(periods) == 23
    for start, end in periods:
        leaving: dict[str, int] = {}
        arriving: dict[str, int] = {}
        for period_start, period_end, source, target, customers in transitions:
            if (period_start, period_end) == (start, end):
                leaving[source] = leaving.get(source, 0) + customers
                arriving[target] = arriving.get(target, 0) + customers
        assert {k: v for k, v in leaving.items() if k != "not_yet_customer"} == {
            segment: n for (day, segment), n in history.items() if day == start
        }
        assert arriving == {segment: n for (day, segment), n in history.items() if day == end}
    assert new_to_loyal > 0


def test_the_transitions_queries_of_the_docs_count_the_backfilled_moves(backfilled: tuple) -> None:
    """The transitions snippets of docs/history.md and docs/bi.md, through duckdb-engine on the BI file the backfill
    published, against the moves counted from the history (test_bi_recipes.py runs them on one as-of date, where
    they are empty)."""
    from test_bi_recipes import Mart, check_snippets, doc_snippets

    from segmentation import export_marts

    warehouse, workdir, _, _ = backfilled
    titles = {"moves between segments, latest period", "new customers who became loyal in the last quarter"}
    snippets = [snippet for snippet in doc_snippets() if snippet.title in titles]
    assert {snippet.title for snippet in snippets} == titles
    salt = os.environ.get("CUSTOMER_KEY_SALT") or export_marts.DEVELOPMENT_SALT
    results = check_snippets(snippets, Mart(warehouse, salt), warehouse.with_name("bi.duckdb"),
                             workdir / "exports" / "current")
    latest = results["moves between segments, latest period"]
    assert sum(customers for _, _, customers in latest) > 2000 and any(start != end for start, end, _ in latest)
    assert results["new customers who became loyal in the last quarter"][0][0] > 0


def test_backfilling_a_date_again_replaces_it(backfilled: tuple) -> None:
    warehouse, workdir, _, _ = backfilled
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        (before,) = connection.sql("select count(*) from marts.customer_segment_history").fetchall()[0]
    completed = _backfill(warehouse, workdir, "--dates", "2025-12-31,2026-01-31")
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-4000:]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        (after,) = connection.sql("select count(*) from marts.customer_segment_history").fetchall()[0]
    assert after == before


def test_backfill_refuses_dates_after_the_current_as_of_date(backfilled: tuple) -> None:
    warehouse, workdir, _, _ = backfilled
    completed = _backfill(warehouse, workdir, "--dates", "2026-07-31")
    assert completed.returncode != 0
    assert "2026-07-31 is after the current as-of date 2026-06-30" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_control_groups_stay_put_across_dates_and_the_lift_is_measured(backfilled: tuple) -> None:
    """Issue 20 part 4 on the 24 backfilled month-ends: a customer who keeps a care action keeps its control-group
    draw on every date; every draw is the documented formula; care_lift counts each start whose window has passed
    once, split into treated and control."""
    import hashlib

    warehouse, _, _, _ = backfilled
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        (unstable,) = connection.sql(
            "select count(*) from (select customer_id, care_reason from marts.customer_segment_history"
            " where care_reason is not null group by 1, 2 having count(distinct is_control_group) > 1)").fetchall()[0]
        # the draw is keyed by the person's anchor (the id seen first; the id itself for a person of one id)
        rows = connection.sql("select distinct people.person_anchor_id, history.care_reason, history.is_control_group"
                              " from marts.customer_segment_history as history"
                              " inner join intermediate.int_customers__person as people using (customer_id)"
                              " where history.care_reason is not null").fetchall()
        (linked,) = connection.sql("select count(*) from intermediate.int_customers__person"
                                   " where person_anchor_id <> customer_id").fetchall()[0]
        lift = connection.sql("select sum(treated_customers + control_customers), sum(control_customers), count(*)"
                              " from marts.care_lift").fetchall()[0]
        (starts,) = connection.sql("""
            select count(*) from (
                select as_of_date, care_reason,
                       lag(care_reason) over (partition by customer_id order by as_of_date) as previous
                from marts.customer_segment_history
            ) where care_reason is not null and (previous is null or previous <> care_reason)
              and as_of_date + interval 30 day <= (select max(as_of_date) from marts.customer_segments)
        """).fetchall()[0]
    assert unstable == 0
    salt = "customer-segmentation-control"
    assert linked > 0  # the folder links ids, so the anchor is not always the id itself
    for anchor_id, care_reason, is_control in rows:
        draw = int(hashlib.md5(f"{salt}:{anchor_id}:{care_reason}".encode()).hexdigest()[:8], 16) / 2**32
        assert is_control == (draw < 0.1), (anchor_id, care_reason)
    assert lift[2] > 10 and lift[0] == starts and 0 < lift[1] < lift[0]
