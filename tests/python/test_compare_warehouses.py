"""tools/compare_warehouses.py: two warehouses compared table by table, row for row (how a refactor proves itself)."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_DIR

sys.path.insert(0, str(PROJECT_DIR))
from tools.compare_warehouses import compare, main

ROWS = "('C1', 'vip', 10.5, timestamp '2026-01-01 01:00'), ('C2', 'lost', 0, timestamp '2026-01-01 01:00'), " \
       "('C2', 'lost', 0, timestamp '2026-01-01 01:00')"


def warehouse(path: Path, rows: str = ROWS, segmented_at: str = "", extra: str = "") -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts; create schema staging")
        connection.execute("create table marts.customer_segments (customer_id varchar, lifecycle_segment varchar, "
                           "net_revenue decimal(18, 2), segmented_at timestamp)")
        connection.execute(f"insert into marts.customer_segments values {rows}")
        if segmented_at:
            connection.execute(f"update marts.customer_segments set segmented_at = timestamp '{segmented_at}'")
        connection.execute("create table staging.anything as select 1 as x")
        if extra:
            connection.execute(extra)
    return path


def test_equal_rows_in_another_order_and_another_build_time_are_equal(tmp_path: Path, capsys) -> None:
    before = warehouse(tmp_path / "a.duckdb")
    reordered = "('C2', 'lost', 0, timestamp '2026-01-01 01:00'), ('C1', 'vip', 10.5, timestamp '2026-01-01 01:00'), " \
                "('C2', 'lost', 0, timestamp '2026-01-01 01:00')"
    after = warehouse(tmp_path / "b.duckdb", rows=reordered, segmented_at="2026-02-02 02:00")
    assert main([str(before), str(after)]) == 0
    assert "1 table(s) compared, 0 differ" in capsys.readouterr().out


def test_a_changed_row_or_a_lost_duplicate_differs(tmp_path: Path) -> None:
    before = warehouse(tmp_path / "a.duckdb")
    changed = warehouse(tmp_path / "b.duckdb", rows=ROWS.replace("'vip'", "'loyal'"))
    deduplicated = warehouse(tmp_path / "c.duckdb", rows=ROWS.rsplit(", (", 1)[0])
    diffs, _, _ = compare(before, changed)
    assert [(d.only_before, d.only_after) for d in diffs] == [(1, 1)]
    diffs, _, _ = compare(before, deduplicated)
    assert [(d.rows_before, d.rows_after, d.only_before, d.only_after) for d in diffs] == [(3, 2, 1, 0)]
    assert main([str(before), str(changed)]) == 1


def test_other_columns_or_tables_differ_and_other_schemas_are_left_out(tmp_path: Path) -> None:
    before = warehouse(tmp_path / "a.duckdb")
    renamed = warehouse(tmp_path / "b.duckdb", extra="alter table marts.customer_segments rename net_revenue to revenue")
    diffs, _, _ = compare(before, renamed)
    assert diffs[0].columns_differ == "net_revenue, revenue" and not diffs[0].equal
    more = warehouse(tmp_path / "c.duckdb", extra="create table marts.new_mart as select 1 as x; "
                                                  "create or replace table staging.anything as select 2 as x")
    diffs, only_before, only_after = compare(before, more)
    assert [d.equal for d in diffs] == [True] and only_before == [] and only_after == ["marts.new_mart"]
    assert main([str(before), str(more)]) == 1
    assert main([str(before), str(more), "--schemas", "staging"]) == 1
    assert main([str(before), str(tmp_path / "missing.duckdb")]) == 2


@pytest.mark.parametrize("schemas", [["marts"], ["marts", "audit"]])
def test_absent_schemas_compare_nothing(tmp_path: Path, schemas: list[str]) -> None:
    before, after = warehouse(tmp_path / "a.duckdb"), warehouse(tmp_path / "b.duckdb")
    assert main([str(before), str(after), "--schemas", *schemas]) == 0
