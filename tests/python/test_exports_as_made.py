"""An export as people make it, end to end through `make build`'s publish step (pre-flight, dbt, publish): the `good`
fixture rewritten the way a Vietnamese point-of-sale system and a spreadsheet hand it over must build the same mart
as the fixture itself.

- `Customers.xlsx`: an Excel workbook (first sheet read by the pre-flight), named in capitals;
- `ORDERS.csv.gz`: a gzipped CSV, named in capitals, with the export's own Vietnamese headers, mapped to the
  contract by `column_map.yml` beside the data;
- null words (`NULL`, `N/A`, `-`, `None`) where the fixture has empty optional amounts.

The next build repairs into a new folder and reads it, and dbt keeps its partial parse.
A plain `dbt build` (no pre-flight) on the same folder stops on the workbook, naming it and the command that reads
it; and a required column that is neither in the export nor mapped stops naming both names.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
from conftest import FIXTURES, PROJECT_DIR, DbtRun, run_dbt

GOOD = FIXTURES / "good"
ORDER_HEADERS = {  # contract column -> the export's own header
    "order_id": "Mã đơn hàng", "customer_id": "Mã KH", "ordered_at": "Ngày đặt", "status": "Trạng thái",
    "channel": "Kênh bán", "ship_province": "Tỉnh giao hàng", "gross_amount": "Tổng tiền",
    "discount_amount": "Giảm giá", "refunded_amount": "Hoàn tiền",
}
NULL_WORDS = ["NULL", "N/A", "-", "None"]
COMPARED = ("marts.customer_segments", "marts.segment_summary", "audit.raw_row_reconciliation")


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_export(folder: Path) -> None:
    folder.mkdir(parents=True)
    header, rows = read_rows(GOOD / "customers.csv")
    workbook = xlsxwriter.Workbook(str(folder / "Customers.xlsx"))
    sheet = workbook.add_worksheet("Khách hàng")
    for row_number, row in enumerate([header, *rows]):
        for column_number, value in enumerate(row):
            if value != "":
                sheet.write_string(row_number, column_number, value)
    workbook.add_worksheet("Ghi chú").write_string(0, 0, "not read")
    workbook.close()

    header, rows = read_rows(GOOD / "orders.csv")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([ORDER_HEADERS.get(name, name) for name in header])
    empties = 0
    for row in rows:
        for position, name in enumerate(header):
            if name in ("discount_amount", "refunded_amount", "promo_code") and row[position] == "":
                row[position] = NULL_WORDS[empties % len(NULL_WORDS)]
                empties += 1
        writer.writerow(row)
    assert empties >= 8
    with gzip.open(folder / "ORDERS.csv.gz", "wt", encoding="utf-8", newline="") as handle:
        handle.write(out.getvalue())
    mapping = "\n".join(f'  "{export}": {column}' for column, export in ORDER_HEADERS.items())
    (folder / "column_map.yml").write_text(f"# the point-of-sale export's headers\norders:\n{mapping}\n",
                                           encoding="utf-8")


def publish(raw: Path, workdir: Path, **dbt_vars: object) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DUCKDB_PATH": str(workdir / "warehouse" / "segments.duckdb"),
        "EXPORT_PATH": str(workdir / "exports"),
        "DBT_TARGET_PATH": str(workdir / "target"),
        "DBT_LOG_PATH": str(workdir / "logs"),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_USE_COLORS": "False",
    }
    env.pop("RAW_DATA_PATH", None)
    return subprocess.run(
        [sys.executable, "-m", "segmentation.publish", "--vars", json.dumps({"raw_data_path": str(raw), **dbt_vars})],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900, check=False,
    )


def rows(warehouse: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        columns = [row[0] for row in connection.sql(f"describe {table}").fetchall() if row[0] != "segmented_at"]
        return connection.sql(f"select {', '.join(columns)} from {table} order by all").fetchall()


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pos_export") / "raw"
    write_export(folder)
    return folder


def test_an_export_as_people_make_it_builds_the_fixtures_mart(export: Path, tmp_path: Path,
                                                                good_build: DbtRun) -> None:
    completed = publish(export, tmp_path, max_rejected_share=0.5)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-6000:]
    assert "converted_from_xlsx" in output
    warehouse = tmp_path / "warehouse" / "segments.duckdb"
    for table in COMPARED:
        assert rows(warehouse, table) == rows(good_build.warehouse, table), table
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        files = connection.sql("select distinct source_file from staging.base_shop__orders").fetchall()
    assert files == [("ORDERS.csv.gz",)]

    # the next night: the pre-flight repairs into a new folder, which dbt reads (RAW_READ_PATH), and dbt keeps its
    # partial parse (the repaired copy's path is not a dbt var: a changed var makes dbt parse the whole project)
    completed = publish(export, tmp_path, max_rejected_share=0.5)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-6000:]
    assert "Unable to do partial parsing" not in output, output[:3000]
    assert "Partial parsing enabled" in (tmp_path / "logs" / "dbt.log").read_text(encoding="utf-8")
    repaired = tmp_path / "warehouse" / "segments.preflight"
    folder = (repaired / "published").read_text(encoding="utf-8").strip()
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        view_sql = connection.sql("select sql from duckdb_views() where view_name = 'raw_shop__orders'").fetchall()[0][0]
    assert str(repaired / folder / "raw") in view_sql
    for table in COMPARED:
        assert rows(warehouse, table) == rows(good_build.warehouse, table), table


def test_a_plain_dbt_build_stops_on_the_workbook_naming_the_command_that_reads_it(export: Path,
                                                                                  tmp_path: Path) -> None:
    run = run_dbt(tmp_path, export)
    assert run.returncode != 0
    assert "Customers.xlsx is an Excel workbook, which dbt cannot read: `make build` reads it" in run.output, \
        run.output[-3000:]


def test_a_required_column_neither_exported_nor_mapped_stops_naming_both(export: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "customers.csv").write_bytes((GOOD / "customers.csv").read_bytes())
    header, body = read_rows(GOOD / "orders.csv")
    renamed = [ORDER_HEADERS.get(name, name) if name != "gross_amount" else "Thành tiền" for name in header]
    with (raw / "orders.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([renamed, *body])
    (raw / "column_map.yml").write_bytes((export / "column_map.yml").read_bytes())
    run = run_dbt(tmp_path / "build", raw)
    assert run.returncode != 0
    assert ("required column 'gross_amount' is missing (column_map.yml maps 'tổng tiền' to it); found: "
            in run.output), run.output[-3000:]
    assert "Thành tiền" in run.output
