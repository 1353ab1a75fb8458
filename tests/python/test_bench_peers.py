"""Tests of the benchmark peers (tools/bench_peers.py): pandas, polars and one DuckDB statement compute the same core
per-customer columns from a small typed raw folder, identical to each other and to values checked by hand. Fast: no
dbt. The pandas and polars cases are skipped when those packages (requirements-bench.txt) are not installed."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tools import bench_peers
from tools.bench_peers import ENGINES, OUTPUT_SCHEMA, channel_code, ntile_positions, status_code

PROJECT_DIR = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 6, 30)

ORDERS_SCHEMA = pa.schema([
    ("order_id", pa.string()),
    ("customer_id", pa.string()),
    ("ordered_at", pa.timestamp("us")),
    ("status", pa.string()),
    ("channel", pa.string()),
    ("ship_province", pa.string()),
    ("gross_amount", pa.int64()),
    ("discount_amount", pa.int64()),
    ("refunded_amount", pa.int64()),
    ("updated_at", pa.timestamp("us")),
])


def _order(order_id, customer_id, ordered_at, status, channel, gross, discount=0, refunded=0):
    at = datetime.fromisoformat(ordered_at) if ordered_at else None
    return {"order_id": order_id, "customer_id": customer_id, "ordered_at": at, "status": status,
            "channel": channel, "ship_province": "Hà Nội", "gross_amount": gross, "discount_amount": discount,
            "refunded_amount": refunded, "updated_at": at}


# part-0 of orders/; part-1 holds a later version of O901 (the duplicate order id)
ORDERS_PART_0 = [
    # C01: no orders. C02: only cancelled orders
    _order("O201", "C02", "2026-05-01 10:00:00", "cancelled", "store", 100_000),
    _order("O202", "C02", "2026-06-01 10:00:00", "Đã hủy", "Shopee", 200_000),
    # C03: lost (last completed order 486 days before the as-of date)
    _order("O301", "C03", "2025-01-10 09:00:00", "completed", "website", 100_000),
    _order("O302", "C03", "2025-03-01 09:00:00", "Completed", "web", 100_000),
    # C04: loyal (3 completed orders, the last 10 days ago), NULL refund, shopee twice
    _order("O401", "C04", "2026-02-01 08:00:00", "completed", "Shopee", 300_000, 30_000, None),
    _order("O402", "C04", "2026-04-15 08:00:00", "COMPLETED", "shopee", 200_000, 0, 50_000),
    _order("O403", "C04", "2026-06-20 08:00:00", "hoàn thành", "store", 100_000),
    # C05: casual; a NULL refund; a returned order does not count
    _order("O501", "C05", "2026-05-01 12:00:00", "Đã giao", "Cửa hàng", 150_000, 10_000, None),
    _order("O502", "C05", "2026-05-20 12:00:00", "returned", "store", 999_999, 0, 999_999),
    # C06: channel tie zalo / facebook -> facebook (alphabetical)
    _order("O601", "C06", "2026-06-01 12:00:00", "completed", "Zalo", 50_000),
    _order("O602", "C06", "2026-06-10 12:00:00", "delivered", "FB", 70_000),
    # C07, C08: equal recency, frequency and revenue (quintile ties broken by customer_id)
    _order("O701", "C07", "2026-03-01 12:00:00", "completed", "hotline", 80_000),
    _order("O801", "C08", "2026-03-01 12:00:00", "completed", "hotline", 80_000),
    # C09: order O901 twice, the later row (part-1) is kept
    _order("O901", "C09", "2026-06-14 12:00:00", "pending", "web", 1_000_000),
    # C10: one order on the as-of date (counts), one the day after (does not)
    _order("O1001", "C10", "2026-06-30 23:59:59", "completed", "TikTok Shop", 60_000),
    _order("O1002", "C10", "2026-07-01 00:00:00", "completed", "store", 500_000),
    # C11: an empty status is completed; an empty channel is ignored
    _order("O1101", "C11", "2026-03-01 18:00:00", None, None, 90_000, 0, None),
    # C12: 3 orders but the last 200 days ago: casual; an unknown channel spelling is 'other'
    _order("O1201", "C12", "2025-10-01 12:00:00", "completed", "chợ đêm", 100_000),
    _order("O1202", "C12", "2025-11-01 12:00:00", "completed", "chợ đêm", 100_000),
    _order("O1203", "C12", "2025-12-12 12:00:00", "completed", "  ", 100_000),
    # dropped: unknown customer, NULL customer id, NULL order id
    _order("O9901", "C99", "2026-06-01 12:00:00", "completed", "store", 5_000_000),
    _order("O9902", None, "2026-06-01 12:00:00", "completed", "store", 5_000_000),
    _order(None, "C05", "2026-06-01 12:00:00", "completed", "store", 5_000_000),
]
ORDERS_PART_1 = [
    _order("O901", "C09", "2026-06-15 12:00:00", "COMPLETED", "mobile app", 400_000),
]
CUSTOMERS = ["C01", "C02", "C03", "C04", "C05", "C06", "C07", "C08", "C09", "C10", "C11", "C12", "C01", None]

# hand-checked: customer_id -> (completed_orders, net_revenue, recency_days, r, f, m, preferred_channel, lifecycle).
# Buyers by recency desc: C03 486, C12 200, C07 121, C08 121, C11 121, C05 60, C06 20, C09 15, C04 10, C10 0;
# by orders: C05 C07 C08 C09 C10 C11 (1), C03 C06 (2), C04 C12 (3); by revenue: C10 60k, C07 80k, C08 80k, C11 90k,
# C06 120k, C05 140k, C03 200k, C12 300k, C09 400k, C04 520k; ntile(5) of 10 buyers: 2 per score.
EXPECTED = {
    "C01": (0, 0, None, None, None, None, None, "potential"),
    "C02": (0, 0, None, None, None, None, None, "potential"),
    "C03": (2, 200_000, 486, 1, 4, 4, "website", "lost"),
    "C04": (3, 270_000 + 150_000 + 100_000, 10, 5, 5, 5, "shopee", "loyal"),
    "C05": (1, 140_000, 60, 3, 1, 3, "store", "casual"),
    "C06": (2, 120_000, 20, 4, 4, 3, "facebook", "casual"),
    "C07": (1, 80_000, 121, 2, 1, 1, "phone", "casual"),
    "C08": (1, 80_000, 121, 2, 2, 2, "phone", "casual"),
    "C09": (1, 400_000, 15, 4, 2, 5, "app", "casual"),
    "C10": (1, 60_000, 0, 5, 3, 1, "tiktok_shop", "casual"),
    "C11": (1, 90_000, 121, 3, 3, 2, None, "casual"),
    "C12": (3, 300_000, 200, 1, 5, 4, "other", "casual"),
}


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("peers") / "raw"
    (folder / "orders").mkdir(parents=True)
    customers = pa.table({
        "customer_id": pa.array(CUSTOMERS, pa.string()),
        "full_name": pa.array([f"Khách {i}" for i in range(len(CUSTOMERS))], pa.string()),
    })
    pq.write_table(customers, folder / "customers.parquet")
    pq.write_table(pa.Table.from_pylist(ORDERS_PART_0, ORDERS_SCHEMA), folder / "orders" / "part-0.parquet")
    pq.write_table(pa.Table.from_pylist(ORDERS_PART_1, ORDERS_SCHEMA), folder / "orders" / "part-1.parquet")
    return folder


def _installed(engine: str) -> bool:
    try:
        __import__(engine)
    except ImportError:
        return False
    return True


def _require(engine: str) -> None:
    if engine in ("pandas", "polars"):
        pytest.importorskip(engine)


@pytest.fixture(scope="module")
def outputs(raw: Path) -> dict[str, pa.Table]:
    tables = {}
    for engine in ENGINES:
        if engine in ("pandas", "polars") and not _installed(engine):
            continue
        out = raw.parent / f"{engine}.parquet"
        rows = bench_peers.compute(engine, raw, AS_OF, out, threads=2)
        assert rows == len(EXPECTED)
        tables[engine] = pq.read_table(out)
    return tables


# --- codes and ntile ---------------------------------------------------------------------------------------------

def test_codes_come_from_the_project_macros() -> None:
    assert status_code("Đã giao") == status_code("hoàn thành") == status_code(" COMPLETED ") == "completed"
    assert status_code(None) == status_code("") == status_code("N/A") == "completed"
    assert status_code("Đã hủy") == "cancelled"
    assert status_code("something else") is None
    assert channel_code("Cửa hàng") == channel_code("POS") == "store"
    assert channel_code("zalo oa") == "zalo"
    assert channel_code("TikTok Shop") == "tiktok_shop"
    assert channel_code("chợ đêm") == "other"
    assert channel_code(None) is None
    assert channel_code("  ") is None


def test_ntile_positions_are_duckdbs_ntile() -> None:
    for count in range(23):
        expected = [row[0] for row in duckdb.sql(
            f"select ntile(5) over (order by i) from range({count}) as t(i) order by i").fetchall()]
        assert ntile_positions(count) == expected, count


# --- the three engines ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
def test_engine_matches_the_hand_checked_values(engine: str, outputs: dict[str, pa.Table]) -> None:
    _require(engine)
    table = outputs[engine]
    assert table.schema.names == OUTPUT_SCHEMA.names
    rows = table.to_pylist()
    assert [row["customer_id"] for row in rows] == sorted(EXPECTED)
    got = {
        row["customer_id"]: (row["completed_orders"], row["net_revenue"], row["recency_days"], row["r_score"],
                             row["f_score"], row["m_score"], row["preferred_channel"], row["lifecycle"])
        for row in rows
    }
    assert got == EXPECTED
    by_id = {row["customer_id"]: row for row in rows}
    assert by_id["C04"]["first_order_at"] == datetime(2026, 2, 1, 8)
    assert by_id["C04"]["last_order_at"] == datetime(2026, 6, 20, 8)
    assert by_id["C10"]["first_order_at"] == by_id["C10"]["last_order_at"] == datetime(2026, 6, 30, 23, 59, 59)
    assert by_id["C09"]["last_order_at"] == datetime(2026, 6, 15, 12)
    assert by_id["C01"]["first_order_at"] is None


def test_engines_give_identical_output(outputs: dict[str, pa.Table]) -> None:
    if len(outputs) < 2:
        pytest.skip("pandas and polars are not installed (requirements-bench.txt)")
    for engine, table in outputs.items():
        assert table.schema.equals(OUTPUT_SCHEMA), engine
        assert table.equals(outputs["duckdb"]), engine


def test_command_line_prints_rows_and_seconds(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "duckdb.parquet"
    result = subprocess.run(
        [sys.executable, "-m", "tools.bench_peers", "--engine", "duckdb", "--raw", str(raw), "--as-of",
         AS_OF.isoformat(), "--out", str(out), "--threads", "1"],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=True,
    )
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"engine=duckdb rows={len(EXPECTED)} seconds=")
    assert pq.ParquetFile(out).metadata.num_rows == len(EXPECTED)


def test_a_single_file_orders_table_is_read_too(raw: Path, tmp_path: Path, outputs: dict[str, pa.Table]) -> None:
    single = tmp_path / "raw"
    single.mkdir()
    (single / "customers").mkdir()
    pq.write_table(pq.read_table(raw / "customers.parquet"), single / "customers" / "part-0.parquet")
    parts = [pq.read_table(raw / "orders" / f"part-{i}.parquet") for i in (0, 1)]
    pq.write_table(pa.concat_tables(parts), single / "orders.parquet")  # both parts, in order, in one file
    out = tmp_path / "out.parquet"
    bench_peers.compute("duckdb", single, AS_OF, out)
    assert pq.read_table(out).equals(outputs["duckdb"])


def test_no_completed_order_at_all(tmp_path: Path) -> None:
    pq.write_table(pa.table({"customer_id": ["A", "B"]}), tmp_path / "customers.parquet")
    orders = [_order("1", "A", "2026-01-01 00:00:00", "cancelled", "store", 1),
              _order("2", "B", "2026-07-02 00:00:00", "completed", "store", 1)]  # after the as-of date
    pq.write_table(pa.Table.from_pylist(orders, ORDERS_SCHEMA), tmp_path / "orders.parquet")
    tables = {}
    for engine in ENGINES:
        if engine in ("pandas", "polars") and not _installed(engine):
            continue
        bench_peers.compute(engine, tmp_path, AS_OF, tmp_path / f"{engine}.parquet")
        tables[engine] = pq.read_table(tmp_path / f"{engine}.parquet")
    for table in tables.values():
        assert table.equals(tables["duckdb"])
    assert [(r["customer_id"], r["completed_orders"], r["net_revenue"], r["r_score"], r["lifecycle"])
            for r in tables["duckdb"].to_pylist()] == [("A", 0, 0, None, "potential"), ("B", 0, 0, None, "potential")]
