"""The pre-flight's reading of raw input as people export it (issue 16): gzip-compressed CSV, file and folder names
in any case, Excel workbooks, a header mapping (column_map.yml or the dbt var raw_column_map) and a DuckDB database
file as the source. Pure Python and in-process DuckDB: prepare_raw is called directly, no dbt build.
docs/bad-input.md lists each case with its test.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import unicodedata
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
from conftest import FIXTURES, PROJECT_DIR

from segmentation.preflight import PreflightError, find_sources, prepare_raw

GOOD = FIXTURES / "good"
VIETNAMESE_ORDERS_MAP = (
    'orders: {"Mã đơn": order_id, "Mã KH": customer_id, "Ngày đặt": ordered_at, "Tổng tiền": gross_amount}\n'
)


def good_folder(folder: Path, *names: str) -> Path:
    """A raw folder with the good fixture's customers and orders (under other names when given)."""
    folder.mkdir(parents=True, exist_ok=True)
    for source, name in zip(("customers.csv", "orders.csv"), names or ("customers.csv", "orders.csv"), strict=True):
        (folder / name).write_bytes((GOOD / source).read_bytes())
    return folder


def stops(raw: Path, work: Path | None = None, **options: object) -> str:
    with pytest.raises(PreflightError) as caught:
        prepare_raw(raw, work or raw.parent / "work", **options)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def read_rows(path: Path) -> list[tuple]:
    return duckdb.sql(f"select * from read_csv('{path}', header = true, all_varchar = true)").fetchall()


# --- .csv.gz ------------------------------------------------------------------------------------------------------


def test_csv_gz_is_checked_like_csv_and_read_in_place(tmp_path: Path) -> None:
    raw = good_folder(tmp_path / "raw")
    (raw / "orders.csv.gz").write_bytes(gzip.compress((raw / "orders.csv").read_bytes()))
    (raw / "orders.csv").unlink()
    result = prepare_raw(raw, tmp_path / "work")
    assert result.raw_path == raw and result.repairs == []
    assert read_rows(raw / "orders.csv.gz") == read_rows(GOOD / "orders.csv")


def test_csv_gz_with_bom_and_nfd_is_repaired_into_a_gz_of_the_same_name(tmp_path: Path) -> None:
    raw = good_folder(tmp_path / "raw")
    text = (GOOD / "customers.csv").read_text(encoding="utf-8")
    nfd = b"\xef\xbb\xbf" + unicodedata.normalize("NFD", text).encode("utf-8")
    (raw / "customers").mkdir()
    (raw / "customers" / "part-1.csv.gz").write_bytes(gzip.compress(nfd))
    (raw / "customers" / "part-2.csv").write_text(text, encoding="utf-8")  # .csv and .csv.gz in one folder
    (raw / "customers.csv").unlink()
    result = prepare_raw(raw, tmp_path / "work")
    repaired = tmp_path / "work" / "raw" / "customers" / "part-1.csv.gz"
    assert result.raw_path == tmp_path / "work" / "raw"
    assert gzip.decompress(repaired.read_bytes()).decode("utf-8") == text
    assert {(r["file"], r["repair"]) for r in result.repairs} == {
        ("customers/part-1.csv.gz", "byte_order_mark_removed"), ("customers/part-1.csv.gz", "normalized_to_nfc")}
    assert (result.raw_path / "customers" / "part-2.csv").is_symlink()


def test_csv_gz_ragged_truncated_and_empty_stop(tmp_path: Path) -> None:
    raw = good_folder(tmp_path / "raw")
    (raw / "orders.csv").unlink()
    lines = (GOOD / "orders.csv").read_text(encoding="utf-8").splitlines()
    lines[3] += ",x"
    (raw / "orders.csv.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8")))
    assert stops(raw) == "orders.csv.gz line 4: expected 13 fields, found 14"
    whole = gzip.compress((GOOD / "orders.csv").read_bytes())
    (raw / "orders.csv.gz").write_bytes(whole[: len(whole) // 2])
    assert stops(raw).startswith("orders.csv.gz: not a readable gzip file (truncated or corrupt: ")
    (raw / "orders.csv.gz").write_bytes(gzip.compress(b""))
    assert stops(raw) == "orders.csv.gz: the file is empty (0 bytes once decompressed); orders is required"


# --- names without regard to case, two sources --------------------------------------------------------------------


def test_table_names_are_matched_without_regard_to_case(tmp_path: Path) -> None:
    raw = good_folder(tmp_path / "raw", "Customers.CSV", "orders.csv")
    (raw / "ORDERS").mkdir()
    (raw / "orders.csv").rename(raw / "ORDERS" / "Day-1.CSV")
    (raw / "Notes.csv").write_text("a\n1\n", encoding="utf-8")
    result = prepare_raw(raw, tmp_path / "work")
    assert result.raw_path == raw
    assert result.notes == ["Notes.csv: not a table of the input contract, not read"]
    sources, _ = find_sources(raw)
    assert {table: source.label for table, source in sources.items()} == {
        "customers": "Customers.CSV", "orders": "ORDERS/"}


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["orders.csv", "Orders.csv"], "both Orders.csv and orders.csv exist"),
        (["orders.csv", "orders.xlsx"], "both orders.csv and orders.xlsx exist"),
        (["orders.csv", "ORDERS/a.csv"], "both ORDERS/ and orders.csv exist"),
        (["orders.csv.gz", "orders.parquet", "orders/a.csv"], "orders/, orders.csv.gz and orders.parquet exist"),
    ],
    ids=["two_cases", "csv_and_xlsx", "file_and_folder", "three"],
)
def test_two_sources_for_one_table_stop(names: list[str], expected: str, tmp_path: Path) -> None:
    raw = good_folder(tmp_path / "raw", "customers.csv", "other.csv")
    for name in names:
        (raw / name).parent.mkdir(exist_ok=True)
        (raw / name).write_bytes((GOOD / "orders.csv").read_bytes())
    message = stops(raw)
    assert expected in message and message.endswith("two sources for table orders (names are matched without "
                                                     "regard to case); keep one"), message


def test_a_missing_required_table_is_named(tmp_path: Path) -> None:
    raw = good_folder(tmp_path / "raw", "customers.csv", "order.csv")
    assert stops(raw) == (f"raw_data_path '{raw}': required table orders is missing: no orders.csv, .csv.gz, "
                          ".parquet or .xlsx file and no folder orders/ (names without regard to case); found: "
                          "customers.csv, order.csv")


# --- Excel --------------------------------------------------------------------------------------------------------


def write_workbook(path: Path, rows: list[list[object]], more_sheets: int = 0) -> None:
    """A workbook as an export writes it: Vietnamese headers, typed cells (dates, grouped numbers, text ids)."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Đơn hàng")
    formats = {
        datetime: workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"}),
        date: workbook.add_format({"num_format": "dd/mm/yyyy"}),
        time: workbook.add_format({"num_format": "hh:mm"}),
        float: workbook.add_format({"num_format": "#,##0.00"}),
        int: workbook.add_format({"num_format": "#,##0"}),
    }
    for row_index, row in enumerate(rows):
        for column_index, value in enumerate(row):
            if isinstance(value, datetime | date | time):
                sheet.write_datetime(row_index, column_index, value, formats[type(value)])
            elif value is not None:
                sheet.write(row_index, column_index, value, formats.get(type(value)))
    for index in range(more_sheets):
        workbook.add_worksheet(f"Tổng hợp {index}")
    workbook.close()


EXPORT_HEADER = ["Mã đơn", "Mã KH", "Ngày đặt", "Tổng tiền", "discount_amount", "status", "Ghi chú"]


def test_xlsx_first_sheet_becomes_a_utf8_csv_the_base_models_read(tmp_path: Path) -> None:
    raw = good_folder(tmp_path / "raw")
    (raw / "orders.csv").unlink()
    write_workbook(raw / "Orders.xlsx", [
        EXPORT_HEADER,
        ["O1", "C1", datetime(2024, 1, 10, 10, 0), 1250000, 12.5, "completed", "giao nhanh, gọi trước"],
        [None] * 7,  # a blank row: left out
        ["O2", 7, date(2024, 6, 10), 300000.0, 0.1, True, unicodedata.normalize("NFD", "Hà Nội")],
        ["O3", "C2", datetime(2024, 6, 11, 9, 30, 0, 999_000), 1e15, None, "pending", "x"],
    ], more_sheets=1)
    (raw / "column_map.yml").write_text(VIETNAMESE_ORDERS_MAP, encoding="utf-8")
    result = prepare_raw(raw, tmp_path / "work")
    work = tmp_path / "work" / "raw"
    assert result.raw_path == work
    assert (work / "orders.csv").read_text(encoding="utf-8") == (
        "Mã đơn,Mã KH,Ngày đặt,Tổng tiền,discount_amount,status,Ghi chú\n"
        'O1,C1,2024-01-10 10:00:00,1250000,12.5,completed,"giao nhanh, gọi trước"\n'
        "O2,7,2024-06-10,300000,0.1,true,Hà Nội\n"
        "O3,C2,2024-06-11 09:30:01,1000000000000000,,pending,x\n"
    )
    assert result.repairs == [
        {"file": "Orders.xlsx", "repair": "converted_from_xlsx", "lines": 3},
        {"file": "Orders.xlsx", "repair": "normalized_to_nfc", "lines": 1},
    ]
    assert result.notes == [
        "Orders.xlsx: sheet 'Đơn hàng' read as orders.csv; other sheets not read: Tổng hợp 0",
        "Orders.xlsx: 1 blank row(s) left out",
    ]
    # the workbook is not in dbt's folder (dbt stops on one); the header mapping and the other files are
    assert sorted(path.name for path in work.iterdir()) == ["column_map.yml", "customers.csv", "orders.csv"]
    assert (work / "column_map.yml").is_symlink()


def test_xlsx_without_data_or_unreadable_stops(tmp_path: Path) -> None:
    raw = good_folder(tmp_path / "raw")
    (raw / "orders.csv").unlink()
    write_workbook(raw / "orders.xlsx", [])
    assert stops(raw) == "orders.xlsx: the first sheet ('Đơn hàng') is empty; orders is required"
    write_workbook(raw / "orders.xlsx", [[None], ["order_id", "customer_id", "ordered_at", "gross_amount"]])
    assert stops(raw) == "orders.xlsx: no data rows (header only); orders is required"
    (raw / "orders.xlsx").unlink()
    (raw / "orders.xls").write_bytes(b"not an old Excel file, whatever its name says")
    message = stops(raw)
    assert message.startswith("orders.xls: not a readable Excel workbook (") and message.endswith(
        "(an old .xls: open it in Excel and save it as .xlsx or CSV UTF-8)"), message


def test_an_empty_optional_workbook_is_an_empty_table(tmp_path: Path) -> None:
    raw = good_folder(tmp_path / "raw")
    write_workbook(raw / "referrals.xlsx", [])
    result = prepare_raw(raw, tmp_path / "work")
    assert result.notes == ["referrals.xlsx: the first sheet ('Đơn hàng') is empty, read as an empty table"]
    assert sorted(path.name for path in result.raw_path.iterdir()) == ["customers.csv", "orders.csv"]


# --- the header mapping -------------------------------------------------------------------------------------------


def export_folder(tmp_path: Path) -> Path:
    """The good orders under a point-of-sale export's headers."""
    raw = good_folder(tmp_path / "raw")
    text = (GOOD / "orders.csv").read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    for contract_name, export_name in (("order_id", "Mã đơn"), ("customer_id", "Mã KH"),
                                       ("ordered_at", "Ngày đặt"), ("gross_amount", "Tổng tiền")):
        header = header.replace(contract_name, export_name, 1)
    (raw / "orders.csv").write_text(header + "\n" + rest, encoding="utf-8")
    return raw


def test_a_mapped_export_passes_and_the_map_stays_beside_the_data(tmp_path: Path) -> None:
    raw = export_folder(tmp_path)
    (raw / "column_map.yml").write_text(
        'orders: {" mã ĐƠN ": order_id, "Mã KH": customer_id, "Ngày đặt": ordered_at, "Tổng tiền": gross_amount,\n'
        '         "Kênh": channel}\n', encoding="utf-8")
    result = prepare_raw(raw, tmp_path / "work")
    assert result.raw_path == raw
    assert result.notes == ["column_map.yml: orders: 'Kênh' is not a column of orders.csv"]
    # the same mapping as the dbt var (a mapping, or YAML text), for a folder without the file
    (raw / "column_map.yml").unlink()
    assert prepare_raw(raw, tmp_path / "work", column_map=VIETNAMESE_ORDERS_MAP).notes == []


def test_an_unmapped_required_column_stops_naming_both_names(tmp_path: Path) -> None:
    raw = export_folder(tmp_path)
    message = stops(raw)
    assert message.startswith("orders.csv: required column 'order_id' is missing; found: Mã đơn, Mã KH, Ngày đặt, "
                              "status,"), message
    assert message.endswith("(map the export's name to it in column_map.yml or the dbt var raw_column_map)")
    (raw / "column_map.yml").write_text(VIETNAMESE_ORDERS_MAP.replace("Ngày đặt", "Ngày tạo"), encoding="utf-8")
    message = stops(raw)
    assert message.startswith("orders.csv: required column 'ordered_at' is missing: column_map.yml maps 'Ngày tạo' "
                              "to it, and there is no column 'Ngày tạo'; found: Mã đơn, Mã KH, Ngày đặt,"), message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[orders, customers]\n", "column_map.yml: not a mapping of table -> {export column: contract column}"),
        ("orders: {a: b\n", "column_map.yml: not YAML ("),
        ("order: {'Mã đơn': order_id}\n", ("column_map.yml: unknown table 'order'; the input contract's tables: "
                                          "customers, orders,")),
        ("orders: [order_id]\n", "column_map.yml: orders: not a mapping of export column -> contract column"),
        ("orders: {'Mã đơn': order_no}\n", ("column_map.yml: orders: 'Mã đơn' is mapped to 'order_no', not a column "
                                           "of orders; its columns: order_id, customer_id,")),
        ("orders: {'Mã đơn': order_id, 'Số đơn': order_id}\n",
         "column_map.yml: orders: 'Mã đơn' and 'Số đơn' are both mapped to order_id; keep one"),
        ("orders: {'Mã đơn': order_id, 'MÃ ĐƠN ': promo_code}\n",
         ("column_map.yml: orders: 'Mã đơn' and 'MÃ ĐƠN ' are the same export column (matched without regard to "
         "case); keep one")),
    ],
    ids=["not_a_mapping", "not_yaml", "unknown_table", "table_not_a_mapping", "unknown_column", "two_to_one",
         "same_export_twice"],
)
def test_a_bad_column_map_stops_naming_the_entry(text: str, expected: str, tmp_path: Path) -> None:
    raw = good_folder(tmp_path / "raw")
    (raw / "column_map.yml").write_text(text, encoding="utf-8")
    message = stops(raw)
    assert message.startswith(expected), message


def test_the_var_wins_over_the_map_file_and_a_mapped_column_over_the_contracts(tmp_path: Path) -> None:
    """As the raw models read them: the var raw_column_map, when given, instead of Column_Map.yml (any case); a
    mapped export column instead of a column named like the contract's."""
    raw = export_folder(tmp_path)
    (raw / "Column_Map.yml").write_text("orders: {Mã: order_id}\n", encoding="utf-8")
    assert stops(raw).startswith("orders.csv: required column 'order_id' is missing: Column_Map.yml maps 'Mã' to it")
    result = prepare_raw(raw, tmp_path / "work", column_map=VIETNAMESE_ORDERS_MAP)
    assert result.notes == ["Column_Map.yml: not read, the dbt var raw_column_map is given"]
    (raw / "Column_Map.yml").unlink()
    lines = (raw / "orders.csv").read_text(encoding="utf-8").split("\n")  # a column named order_id, empty
    (raw / "orders.csv").write_text("\n".join(
        [lines[0] + ",order_id"] + [line + "," if line else line for line in lines[1:]]), encoding="utf-8")
    assert prepare_raw(raw, tmp_path / "work", column_map=VIETNAMESE_ORDERS_MAP).raw_path == raw


# --- a DuckDB database --------------------------------------------------------------------------------------------


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """The good fixture loaded as a loader would: typed tables (DuckDB's type detection), names in any case, in a
    schema of its own, named like the file (so that `shop.orders` alone is ambiguous)."""
    path = tmp_path / "shop.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema Shop")
        connection.execute(f"create table shop.Shop.Customers as select * from read_csv('{GOOD / 'customers.csv'}')")
        connection.execute(f"create table shop.shop.ORDERS as select * from read_csv('{GOOD / 'orders.csv'}')")
        connection.execute("create view shop.shop.referrals as select 'C1' as referrer_customer_id, "
                           "'C2' as referred_customer_id where false")
    return path


def test_a_database_source_is_checked_read_only_and_read_as_it_is(database: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(database), read_only=True):  # another reader holds it open: read-only readers share it
        result = prepare_raw(database, tmp_path / "work", raw_schema="Shop")
    assert result.raw_path == database and result.repairs == []
    assert result.notes == [f"raw database {database}: table Shop.referrals: no rows, read as an empty table"]
    assert not (tmp_path / "work").exists()


def test_a_database_without_a_table_schema_or_column_stops_naming_it(database: Path, tmp_path: Path) -> None:
    label = f"raw database {database}"
    assert stops(database, tmp_path / "work") == (
        f"{label}: required table 'customers' is missing in schema main; found: (none)")
    assert stops(database, tmp_path / "work", raw_schema="sales") == (
        f"{label}: schema 'sales' does not exist; found: main, Shop (dbt var raw_schema)")
    assert stops(database, tmp_path / "work", raw_schema="shop") == (
        f"{label}: schema 'shop' does not exist; found: main, Shop; did you mean raw_schema: Shop?")
    with duckdb.connect(str(database)) as connection:
        connection.execute("alter table shop.shop.orders rename column gross_amount to \"Tổng tiền\"")
    message = stops(database, tmp_path / "work", raw_schema="Shop")
    assert message.startswith(f"{label}: table Shop.ORDERS: required column 'gross_amount' is missing; found: "
                              "order_id,"), message
    mapped = {"orders": {"Tổng tiền": "gross_amount"}}
    assert prepare_raw(database, tmp_path / "work", raw_schema="Shop", column_map=mapped).raw_path == database
    with duckdb.connect(str(database)) as connection:
        connection.execute("drop table shop.shop.orders")
    assert stops(database, tmp_path / "work", raw_schema="Shop") == (
        f"{label}: required table 'orders' is missing in schema Shop; found: Customers, referrals")
    with duckdb.connect(str(database)) as connection:
        connection.execute("create table shop.shop.orders as select * from shop.shop.customers where false")
    assert stops(database, tmp_path / "work", raw_schema="Shop") == (
        f"{label}: table Shop.orders: no rows; orders is required")


def test_database_paths_and_raw_schema_misuse_stop(tmp_path: Path) -> None:
    raw = good_folder(tmp_path / "raw")
    assert stops(raw, raw_schema="shop") == (
        f"raw_schema 'shop' is set, but raw_data_path '{raw}' is a folder: raw_schema names a schema of a DuckDB "
        "database file (raw_data_path ending in .duckdb or .db); leave it out for a folder")
    assert stops(raw, raw_schema="RAW") == (
        "raw_schema 'RAW' is the project's own schema (the raw layer it builds); name the schema your loader "
        "writes to")
    assert stops(tmp_path / "none.duckdb") == f"raw database {tmp_path / 'none.duckdb'}: the file does not exist " \
                                              "(raw_data_path)"
    (tmp_path / "sqlite.db").write_bytes(b"SQLite format 3\x00" + bytes(100))
    assert stops(tmp_path / "sqlite.db").startswith(
        f"raw database {tmp_path / 'sqlite.db'}: cannot be opened read-only as a DuckDB database (")
    assert stops(raw / "orders.csv") == (
        f"raw_data_path '{raw / 'orders.csv'}': neither a folder nor a DuckDB database file (.duckdb, .db)")


def test_cli_takes_raw_schema_and_the_column_map(database: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "segmentation.preflight", str(database), *args], cwd=PROJECT_DIR,
                              capture_output=True, text=True, check=False)

    passed = run("--raw-schema", "Shop", "--raw-column-map", "{orders: {'Mã đơn': order_id}}")
    assert passed.returncode == 0, passed.stderr
    assert passed.stdout.splitlines()[0] == f"preflight: dbt reads {database}"
    failed = run("--raw-column-map", "{order: {}}")
    assert (failed.returncode, failed.stderr) == (
        2, ("preflight: raw_column_map (dbt var): unknown table 'order'; the input contract's tables: customers, "
           "orders, order_items, support_tickets, referrals, events, erasure_requests\n"))
