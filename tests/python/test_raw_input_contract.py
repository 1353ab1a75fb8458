"""The raw input contract: other people's folders, CSV or Parquet, absent optional files and columns, and the
folders that must stop the build before any model runs, with one line naming the file and the column."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import FIXTURES, DbtRun, run_dbt


def copy_csv(source: Path, target: Path, drop: str | None = None, edit=None) -> None:
    """Copy a fixture CSV, optionally without one column or with a function applied to each row."""
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    fields = [name for name in rows[0] if name != drop]
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(edit(row) if edit else row)


def csv_to_parquet(source: Path, target: Path, drop: str | None = None) -> None:
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = [name for name in rows[0] if name != drop]
    table = pa.table({name: [row[name] or None for row in rows] for name in names})
    pq.write_table(table, target)


def comparable(run: DbtRun, skip: tuple[str, ...] = ()) -> list[tuple]:
    rows = run.table("marts.customer_segments", order_by="customer_id")
    return [tuple(v for k, v in row.items() if k not in ("segmented_at", *skip)) for row in rows]


@pytest.fixture(scope="module")
def parquet_build(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """The good fixture as Parquet files, with the optional column device_type absent from orders."""
    folder = tmp_path_factory.mktemp("parquet_raw")
    csv_to_parquet(FIXTURES / "good" / "customers.csv", folder / "customers.parquet")
    csv_to_parquet(FIXTURES / "good" / "orders.csv", folder / "orders.parquet", drop="device_type")
    return run_dbt(tmp_path_factory.mktemp("parquet"), folder, max_rejected_share=0.5)


def test_parquet_without_an_optional_column_builds_the_same_mart(parquet_build: DbtRun, good_build: DbtRun) -> None:
    assert parquet_build.returncode == 0, parquet_build.output[-5000:]
    assert "orders.parquet: optional column 'device_type' is absent, read as empty" in parquet_build.output
    assert comparable(parquet_build, skip=("preferred_device_type",)) == comparable(
        good_build, skip=("preferred_device_type",)
    )


BI_MARTS = ("customer_segments", "customer_custom_segments", "customer_segment_history", "segment_transitions",
            "segment_summary", "segment_by_channel", "segment_by_region", "rfm_grid", "pareto_curve", "clv_model_params",
            "cohort_retention", "care_lift")


def every_mart(run: DbtRun) -> dict[str, list[tuple]]:
    """Every BI-facing mart, row for row in a total order, without the build timestamp segmented_at."""
    marts = {}
    for name in BI_MARTS:
        columns = [column for (column,) in run.query(
            f"select column_name from information_schema.columns where table_schema = 'marts' and table_name = '{name}'"
            " and column_name <> 'segmented_at' order by ordinal_position")]
        listed = ", ".join(f'"{column}"' for column in columns)
        marts[name] = run.query(f"select {listed} from marts.{name} order by all")
    return marts


def test_same_data_same_mart(good_build: DbtRun, tmp_path: Path) -> None:
    """Run twice, same answer: a second build of the same data and as-of date gives every BI-facing mart row for row,
    every column but segmented_at."""
    again = run_dbt(tmp_path, FIXTURES / "good", max_rejected_share=0.5)
    assert again.returncode == 0, again.output[-5000:]
    first, second = every_mart(good_build), every_mart(again)
    assert all(first[name] for name in ("customer_segments", "segment_summary", "customer_segment_history"))
    assert second == first


def test_explicit_as_of_date_leaves_later_orders_out(tmp_path: Path) -> None:
    run = run_dbt(
        tmp_path, FIXTURES / "good", max_rejected_share=0.5, as_of_date="2024-06-30", freshness_error_after_days=30
    )
    assert run.returncode == 0, run.output[-5000:]
    mart = {row["customer_id"]: row for row in run.table("marts.customer_segments")}
    # C4 signed up after the as-of date; C1 has two completed orders by then (O1, O2)
    assert "C4" not in mart
    assert mart["C1"]["completed_order_count"] == 2
    assert mart["C1"]["recency_days"] == 20
    assert mart["C1"]["last_order_date"].isoformat() == "2024-06-10"


@pytest.mark.parametrize(
    ("case", "expected_message"),
    [
        ("missing_required_column", "orders.csv (in {raw}): required column 'ordered_at' is missing"),
        ("missing_orders_file", ("required file orders.csv, orders.csv.gz or orders.parquet (or a folder orders/ of "
                                 "such files; names in any case) is missing")),
        ("unreadable_required_column", "orders.csv: column 'gross_amount' cannot be read as amount"),
        ("no_folder", "folder does not exist or is empty"),
        ("csv_and_parquet", "both orders.csv and orders.parquet exist for table orders; keep one"),
    ],
)
def test_bad_folders_stop_before_any_model_runs(case: str, expected_message: str, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    good = FIXTURES / "good"
    if case != "no_folder":
        shutil.copy(good / "customers.csv", raw / "customers.csv")
    if case == "missing_required_column":
        copy_csv(good / "orders.csv", raw / "orders.csv", drop="ordered_at")
    elif case == "csv_and_parquet":
        shutil.copy(good / "orders.csv", raw / "orders.csv")
        csv_to_parquet(good / "orders.csv", raw / "orders.parquet")
    elif case == "unreadable_required_column":
        copy_csv(good / "orders.csv", raw / "orders.csv", edit=lambda row: {**row, "gross_amount": "n/a"})
    run = run_dbt(tmp_path / "run", raw, max_rejected_share=0.5)
    assert run.returncode != 0
    assert expected_message.format(raw=raw) in run.output, run.output[-3000:]
    assert "Traceback" not in run.output
    assert "START sql" not in run.output  # no model started


def test_mostly_garbage_fails_the_build_before_the_mart(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    good = FIXTURES / "good"
    shutil.copy(good / "customers.csv", raw / "customers.csv")
    copy_csv(good / "orders.csv", raw / "orders.csv")
    # the good fixture rejects 3 of 8 customers (37.5%): over the default limit of 5%
    run = run_dbt(tmp_path / "run", raw)
    assert run.returncode != 0
    assert "rejected_share_within_limit_base_shop__customers" in run.output
    assert "SKIP relation marts.customer_segments" in run.output
    assert "missing_id                           1   12.50%" in run.output  # the summary shows the shares
    # orders stopped before their staging models: counted from the base model, and the summary says so
    assert "(orders: counted before the cross-table checks (unknown_customer, unknown_order)" in run.output
    # and the summary ends with the reasons in words (macros/user_messages.sql)
    assert ("customers: 37.5% of 8 raw rows rejected (limit max_rejected_share = 0.05): duplicate_row 1 (customer_id),"
            " missing_id 1 (customer_id), unparseable_value 1 (signup_at); the rows: staging.base_shop__customers"
            ) in run.output
