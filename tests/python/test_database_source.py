"""Raw data that already sits in database tables (README "Use your own data"): `raw_data_path` naming a DuckDB
database file, attached read-only, with its tables in `raw_schema` (default main).

- The bundled sample, loaded into a database file as typed tables the way a loader writes them (each CSV read with
  DuckDB's type detection in the shop's time zone: dates become DATE, timestamps TIMESTAMP WITH TIME ZONE, counts
  BIGINT, yes/no BOOLEAN; columns holding the sample's deliberately bad values stay text), in schema `shop`, builds
  every table equal to the build from the CSV files (only `source_file` differs: it names the table).
- Typed values are taken as they are: a DECIMAL amount is an amount, a DOUBLE amount with at most two decimals is
  converted to DECIMAL(18,2), one with more is rejected as unparseable_value; a DATE is a date; a TIMESTAMP without
  time zone is local time in source_timezone.
- Typed columns are not parsed back from text: the base models read their `<column>__typed` value and parse the
  text only where that is null (the compiled SQL shows it; a build of the CSV files has no typed column).
- A database without `orders` stops the build naming it, and the tables it has.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, PROJECT_DIR, DbtRun, run_dbt

SAMPLE = PROJECT_DIR / "data" / "sample"
SCHEMAS = ("staging", "intermediate", "marts", "audit", "restricted")
NOT_COMPARED = {"loaded_at", "checked_at", "staged_at", "segmented_at", "recorded_at", "source_file"}
# the raw texts kept beside the parsed values (for audit.raw_values_nulled) are the source's own: `true` for a BOOLEAN
# consent where the CSV says `yes`
RAW_TEXT_SUFFIX = "_text"


def load_like_a_loader(database: Path, folder: Path, schema: str = "main") -> None:
    with duckdb.connect(str(database)) as connection:
        connection.execute("set TimeZone = 'Asia/Ho_Chi_Minh'")
        connection.execute(f"create schema if not exists {schema}")
        for path in sorted(folder.glob("*.csv")):
            connection.execute(f"create table {schema}.{path.stem} as select * from read_csv('{path}')")


def tables(run: DbtRun) -> dict[str, list[tuple]]:
    result = {}
    with duckdb.connect(str(run.warehouse), read_only=True) as connection:
        names = connection.sql(
            "select table_schema, table_name from information_schema.tables where table_schema in "
            f"{SCHEMAS} order by all").fetchall()
        for schema, table in names:
            columns = [row[0] for row in connection.sql(
                f"select column_name from information_schema.columns where table_schema = '{schema}' "
                f"and table_name = '{table}' order by ordinal_position").fetchall()
                if row[0] not in NOT_COMPARED and not row[0].endswith(RAW_TEXT_SUFFIX)]
            selected = ", ".join(f'"{column}"' for column in columns)
            result[f"{schema}.{table}"] = connection.sql(
                f'select {selected} from "{schema}"."{table}" order by all').fetchall()
    return result


def test_typed_tables_of_a_database_file_build_the_same_warehouse_as_the_csv_files(
        tmp_path: Path, sample_build: DbtRun) -> None:
    database = tmp_path / "loader.duckdb"
    load_like_a_loader(database, SAMPLE, schema="shop")
    with duckdb.connect(str(database), read_only=True) as connection:
        types = dict(connection.sql(
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            "where table_schema = 'shop'").fetchall())
    # the loader typed what it could: the test exercises typed columns, not text in a database
    assert types["customers.birth_date"] == "DATE"
    assert types["orders.updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["orders.discount_amount"] == "BIGINT"
    assert types["customers.marketing_consent"] == "BOOLEAN"
    run = run_dbt(tmp_path / "build", database, raw_schema="shop")
    assert run.returncode == 0, run.output[-5000:]
    assert (f"raw input: erasure_requests: no table in raw database '{database}' (schema shop), read as an empty table"
            in run.output)
    mine, theirs = tables(run), tables(sample_build)
    assert sorted(mine) == sorted(theirs)
    # audit.warehouse_source records the source itself, which is the one thing meant to differ
    differing = [name for name in theirs if mine[name] != theirs[name] and name != "audit.warehouse_source"]
    assert not differing, f"differs from the build of the CSV files: {differing}"
    assert run.query("select distinct source_file from staging.base_shop__orders") == [("orders",)]
    # typed columns were read as typed, not parsed back from text; the CSV build parsed every one
    compiled = {name: compiled_sql(tmp_path / "build", name) for name in ("base_shop__orders", "base_shop__customers")}
    assert "coalesce(try_cast(cleaned.updated_at__typed as timestamp)" in compiled["base_shop__orders"]
    assert "coalesce(try_cast(cleaned.discount_amount__typed as decimal(18, 2))" in compiled["base_shop__orders"]
    assert "coalesce(try_cast(cleaned.birth_date__typed as date)" in compiled["base_shop__customers"]
    assert "__typed" not in compiled_sql(sample_build.warehouse.parent, "base_shop__orders")
    with duckdb.connect(str(run.warehouse), read_only=True) as connection:
        assert not connection.sql("select * from information_schema.columns where column_name like '%\\_\\_typed' "
                                  "escape '\\' and table_schema <> 'raw'").fetchall()


def test_typed_parquet_files_build_the_same_warehouse_as_the_csv_files(tmp_path: Path, sample_build: DbtRun) -> None:
    """The same typed tables written as Parquet files (as a loader or a notebook writes them): read as typed too."""
    database = tmp_path / "loader.duckdb"
    load_like_a_loader(database, SAMPLE)
    folder = tmp_path / "parquet"
    folder.mkdir()
    with duckdb.connect(str(database), read_only=True) as connection:
        for (table,) in connection.sql("select table_name from information_schema.tables").fetchall():
            connection.execute(f"copy {table} to '{folder / table}.parquet' (format parquet)")
        assert connection.sql("select data_type from information_schema.columns where table_name = 'order_items' "
                              "and column_name = 'quantity'").fetchall() == [("BIGINT",)]
    run = run_dbt(tmp_path / "build", folder)
    assert run.returncode == 0, run.output[-5000:]
    mine, theirs = tables(run), tables(sample_build)
    differing = [name for name in theirs if mine[name] != theirs[name] and name != "audit.warehouse_source"]
    assert not differing, f"differs from the build of the CSV files: {differing}"
    items = compiled_sql(tmp_path / "build", "base_shop__order_items")
    assert "coalesce(try_cast(quantity__typed as decimal(18, 2))" in items
    assert "coalesce(try_cast(line_number__typed as integer)" in items
    assert "coalesce(try_cast(resolved_at__typed as timestamp)" in compiled_sql(tmp_path / "build",
                                                                               "base_shop__support_tickets")


def compiled_sql(workdir: Path, model: str) -> str:
    return (workdir / "target" / "compiled" / "customer_segmentation" / "models" / "staging" / "shop" / "base"
            / f"{model}.sql").read_text(encoding="utf-8")


def test_typed_values_are_taken_as_they_are(tmp_path: Path) -> None:
    database = tmp_path / "typed.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(f"create table customers as select * from read_csv('{FIXTURES / 'good' / 'customers.csv'}')")
        # signup_at as a DATE; orders typed as a loader may type them: a DECIMAL and a DOUBLE amount, a TIMESTAMP
        # without time zone (local time)
        connection.execute("create or replace table customers as select * replace (try_cast(signup_at as date) as signup_at) "
                           "from customers where try_cast(signup_at as date) is not null")
        connection.execute("""
            create table orders (order_id varchar, customer_id varchar, ordered_at timestamp, status varchar,
                                 gross_amount decimal(18, 2), discount_amount double)
        """)
        connection.execute("""
            insert into orders values
                ('O_DECIMAL', 'C1', timestamp '2024-11-30 10:00:00', 'completed', 250000.00, 0),
                ('O_DOUBLE_OK', 'C1', timestamp '2024-12-01 23:30:00', 'completed', 100000.50, 0.25),
                ('O_DOUBLE_BAD', 'C1', timestamp '2024-12-01 23:30:00', 'completed', 100000, 12.345)
        """)
    run = run_dbt(tmp_path / "build", database, max_rejected_share=0.5)
    assert run.returncode == 0, run.output[-5000:]
    rows = {row[0]: row[1:] for row in run.query(
        "select order_id, gross_amount::varchar, discount_amount::varchar, ordered_at::varchar, ordered_date::varchar,"
        " rejection_reason, rejected_column, rejected_value from staging.base_shop__orders"
        " where order_id like 'O_D%'")}
    assert rows["O_DECIMAL"] == ("250000.00", "0.00", "2024-11-30 10:00:00", "2024-11-30", None, None, None)
    # a TIMESTAMP is local time: 23:30 stays on 1 December, whatever the warehouse's own time zone
    assert rows["O_DOUBLE_OK"] == ("100000.50", "0.25", "2024-12-01 23:30:00", "2024-12-01", None, None, None)
    assert rows["O_DOUBLE_BAD"][4:6] == ("unparseable_value", "discount_amount")
    assert rows["O_DOUBLE_BAD"][6].startswith("12.345")
    orders_sql = compiled_sql(tmp_path / "build", "base_shop__orders")
    assert "cleaned.gross_amount__typed" in orders_sql and "cleaned.discount_amount__typed" in orders_sql
    assert "cleaned.ordered_at__typed" in orders_sql and "cleaned.status__typed" not in orders_sql
    signups = dict(run.query("select customer_id, signup_at::varchar from staging.stg_shop__customers"))
    with duckdb.connect(str(database), read_only=True) as connection:
        expected = dict(connection.sql("select customer_id, (signup_at::timestamp)::varchar from customers").fetchall())
    assert signups and signups == {key: value for key, value in expected.items() if key in signups}


@pytest.mark.parametrize("schema", ["main"])
def test_a_database_without_orders_stops_naming_it(tmp_path: Path, schema: str) -> None:
    database = tmp_path / "no_orders.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(f"create table {schema}.Customers as select * from read_csv('{FIXTURES / 'good' / 'customers.csv'}')")
        connection.execute(f"create table {schema}.notes (note varchar)")
    run = run_dbt(tmp_path / "build", database)
    assert run.returncode != 0
    assert (f"raw database '{database}': required table 'orders' is missing in schema main; found: Customers, notes"
            in run.output), run.output[-3000:]
