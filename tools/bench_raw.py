"""The benchmark's raw folders (tools/bench.py): their layout and readers, the nightly delta written into them, and
the limit, one hand-written DuckDB statement over them (tools/bench_limit.sql) compared with the mart."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tools.bench_config import (
    CHANGED_ORDER_SHARE,
    COMPARED_COLUMNS,
    FOLDER_TABLES,
    LIMIT_SQL,
    LIMIT_VARS,
    NEW_ORDER_SHARE,
    ROOT,
)

# --------------------------------------------------------------------------------------------------------------------
# Raw folders: layout, readers, the nightly delta
# --------------------------------------------------------------------------------------------------------------------

def _sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def raw_tables() -> list[str]:
    """The tables of the input contract (segmentation/raw_contract.py), in its order."""
    from segmentation.raw_contract import contract

    return list(contract())


def table_files(raw: Path, table: str) -> tuple[str, str | list[str]] | None:
    """(format, path, glob or list of paths) of a raw table's CSV or Parquet data, found as the pre-flight finds it
    (segmentation/preflight.py: <table>.csv / .csv.gz / .parquet or a folder <table>/ of such files, names without
    regard to case); None when the table has no such source."""
    from segmentation.preflight_files import FOLDER_FILE_FORMATS, file_suffix, find_sources

    source = find_sources(raw)[0].get(table)
    if source is None or source.fmt not in ("csv", "parquet"):
        return None
    if source.folder is None:
        return source.fmt, str(source.files[0])
    endings = {path.name[-len(file_suffix(path.name, FOLDER_FILE_FORMATS) or ""):] for path in source.files}
    if len(endings) == 1:
        return source.fmt, str(source.folder / f"*{endings.pop()}")
    return source.fmt, [str(path) for path in source.files]


def reader_sql(fmt: str, path: str | list[str], row_ids: bool = False) -> str:
    """A DuckDB table function reading every column as text, as the project's raw views do. With row_ids, the rows
    also have `file_index` and `file_row_number` (Parquet's virtual columns; numbered in scan order for CSV)."""
    paths = _sql_string(path) if isinstance(path, str) else "[" + ", ".join(map(_sql_string, path)) + "]"
    if fmt == "csv":
        reader = f"read_csv({paths}, header = true, all_varchar = true, union_by_name = true)"
        if row_ids:
            reader = f"(select *, file_index, row_number() over () as file_row_number from {reader})"
        return reader
    # typed Parquet (a loader's TIMESTAMP, DATE, BIGINT columns) read as text too
    virtual = ", file_index, file_row_number" if row_ids else ""
    return f"(select columns(*)::varchar{virtual} from read_parquet({paths}, union_by_name = true))"


def move_into_folders(raw: Path, tables: Iterable[str] = FOLDER_TABLES) -> None:
    """<raw>/<table>.parquet -> <raw>/<table>/part-0.parquet (the folder layout of daily files)."""
    for table in tables:
        single = raw / f"{table}.parquet"
        if single.is_file():
            (raw / table).mkdir(exist_ok=True)
            single.rename(raw / table / "part-0.parquet")


def newest_order_date(connection: Any, raw: Path, today: date) -> date:
    """The newest order date not after today (bad rows dated in the future are left out)."""
    fmt, path = table_files(raw, "orders") or ("", "")
    return connection.execute(f"""
        select max(day) from (select try_cast(left(trim(ordered_at), 10) as date) as day from {reader_sql(fmt, path)})
        where day <= {_sql_string(today.isoformat())}::date
    """).fetchone()[0]


def _typed_select(connection: Any, first_file: Path, relation: str, exclude: Sequence[str] = ()) -> str:
    """`select` of a text relation's columns cast back to the types of a folder's first file (typed Parquet as a
    loader writes it; a no-op for text files); integers through decimal, so that '350000.00' is 350000."""
    columns = connection.execute(f"describe select * from read_parquet({_sql_string(first_file)})").fetchall()
    expressions = []
    for name, data_type, *_ in columns:
        quoted = '"' + name.replace('"', '""') + '"'
        if data_type == "VARCHAR":
            expressions.append(quoted)
        elif data_type in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT"):
            expressions.append(f"cast(round(try_cast({quoted} as decimal(38, 2))) as {data_type}) as {quoted}")
        else:
            expressions.append(f"try_cast({quoted} as {data_type}) as {quoted}")
    excluded = f" exclude ({', '.join(exclude)})" if exclude else ""
    return f"select {', '.join(expressions)} from (select *{excluded} from {relation})"


def _create_new_orders(connection: Any, orders: str, customers: str, day_sql: str, new_count: int) -> None:
    """Temp table new_orders: `new_count` completed orders on the night's day, copied from order rows of known
    customers picked by hash (template_order_id names the row copied, for its lines)."""
    connection.execute(f"""
        create temp table new_orders as
        with candidates as (
            select
                orders.*,
                row_number() over (order by hash(orders.order_id, 'new order'), orders.order_id) as pick
            from {orders} as orders
            where
                nullif(trim(orders.order_id), '') is not null
                and trim(orders.customer_id) in (select trim(customer_id) from {customers})
        )
        select
            * exclude (pick) replace (
                'N' || strftime({day_sql}, '%Y%m%d') || '-' || lpad(cast(pick as varchar), 8, '0') as order_id,
                strftime({day_sql} + to_seconds(cast(hash(order_id, 'time') % 86400 as bigint)),
                         '%Y-%m-%d %H:%M:%S') as ordered_at,
                'completed' as status,
                cast(null as varchar) as refunded_amount,
                strftime({day_sql} + to_seconds(cast(hash(order_id, 'time') % 86400 as bigint)),
                         '%Y-%m-%d %H:%M:%S') as updated_at
            ),
            order_id as template_order_id
        from candidates
        where pick <= {new_count}
    """)


def _create_changed_orders(connection: Any, orders: str, day_sql: str, lookback_days: int, change_count: int) -> None:
    """Temp table changed_orders: one new row (returned with a full refund, or cancelled, by hash; updated on the
    night's day) for `change_count` orders placed in the lookback window whose every row is older than the day."""
    connection.execute(f"""
        create temp table changed_orders as
        with versions as (
            select
                trim(order_id) as order_key,
                max(coalesce(try_cast(left(trim(updated_at), 19) as timestamp),
                             try_cast(left(trim(ordered_at), 19) as timestamp))) as newest_version,
                min(try_cast(left(trim(ordered_at), 10) as date)) as ordered_date
            from {orders}
            where nullif(trim(order_id), '') is not null
            group by trim(order_id)
        ),
        eligible as (
            select order_key, row_number() over (order by hash(order_key, 'change'), order_key) as pick
            from versions
            where
                ordered_date >= {day_sql} - interval ({int(lookback_days)}) day
                and ordered_date < {day_sql}
                and newest_version < {day_sql}
        ),
        picked as (
            select orders.*, eligible.pick
            from {orders} as orders
            inner join eligible on trim(orders.order_id) = eligible.order_key
            where eligible.pick <= {change_count}
            qualify row_number() over (
                partition by eligible.order_key order by orders.updated_at desc nulls last, orders.ordered_at
            ) = 1
        )
        select
            * exclude (pick) replace (
                case when hash(order_id, 'status') % 2 = 0 then 'returned' else 'cancelled' end as status,
                case
                    when hash(order_id, 'status') % 2 = 0
                        then cast(try_cast(gross_amount as decimal(18, 2))
                                  - coalesce(try_cast(discount_amount as decimal(18, 2)), 0) as varchar)
                    else refunded_amount
                end as refunded_amount,
                strftime({day_sql} + to_seconds(cast(hash(order_id, 'changed') % 86400 as bigint)),
                         '%Y-%m-%d %H:%M:%S') as updated_at
            )
        from picked
    """)


def write_nightly_delta(raw: Path, *, lookback_days: int = 60, new_share: float = NEW_ORDER_SHARE,
                        change_share: float = CHANGED_ORDER_SHARE, today: date | None = None,
                        night: int = 1) -> dict[str, Any]:
    """One night of exports as <raw>/orders/part-<night>.parquet (and order_items/part-<night>.parquet) next to the
    files already in those folders (part-0.parquet, earlier nights, or the generator's part-NNNNN.parquet chunks), by
    DuckDB SQL. The files are read as text and written with the column types of the folder's first file, so a typed
    folder (`generate_data --typed`) gets typed nights. Night k+1 is dated the day after night k's newest order.

    New orders: round(new_share x order rows), dated the day after the newest order (times spread over the day),
    status completed, copied from existing order rows of known customers (channel, province, amounts) picked by
    hash, with their order lines. Status changes: round(change_share x order rows) orders placed within the
    lookback window before that day, whose every row has an older version than the day: one new row each with the
    same order id, status returned (refunded in full) or cancelled by hash, and updated_at on that day, which
    supersedes the older rows. Deterministic: the same folder gives the same files."""
    import duckdb

    today = today or datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    orders_dir, items_dir = raw / "orders", raw / "order_items"
    if not orders_dir.is_dir():
        raise ValueError(f"{raw}: orders/ is not a folder (call move_into_folders first)")
    part = f"part-{night}.parquet"
    if (orders_dir / part).exists():
        raise ValueError(f"{orders_dir / part} exists already: one file per night")
    first_orders = min(orders_dir.glob("*.parquet"))
    orders = reader_sql("parquet", str(orders_dir / "*.parquet"))
    customers = reader_sql(*(table_files(raw, "customers") or ("parquet", str(raw / "customers.parquet"))))
    items_fmt = table_files(raw, "order_items")
    with duckdb.connect() as connection:
        connection.execute("set timezone = 'UTC'")
        newest = newest_order_date(connection, raw, today)
        day = date.fromordinal(newest.toordinal() + 1)
        order_rows = connection.execute(f"select count(*) from {orders}").fetchone()[0]
        new_count = max(1, round(order_rows * new_share))
        change_count = max(1, round(order_rows * change_share))
        day_sql = _sql_string(day.isoformat()) + "::date"
        _create_new_orders(connection, orders, customers, day_sql, new_count)
        _create_changed_orders(connection, orders, day_sql, lookback_days, change_count)
        night_orders = """(
                select * exclude (template_order_id) from new_orders
                union all by name
                select * from changed_orders
            )"""
        connection.execute(f"""
            copy ({_typed_select(connection, first_orders, night_orders)} order by order_id)
            to {_sql_string(orders_dir / part)} (format parquet)
        """)
        new_items = 0
        if items_fmt is not None:
            if not items_dir.is_dir():
                raise ValueError(f"{raw}: order_items/ is not a folder (call move_into_folders first)")
            items = reader_sql("parquet", str(items_dir / "*.parquet"))
            night_items = f"""(
                    select items.* replace (new_orders.order_id as order_id)
                    from {items} as items
                    inner join new_orders on items.order_id = new_orders.template_order_id
                )"""
            typed_items = _typed_select(connection, min(items_dir.glob("*.parquet")), night_items)
            connection.execute(f"""
                copy ({typed_items} order by order_id, try_cast(line_number as integer), cast(line_number as varchar))
                to {_sql_string(items_dir / part)} (format parquet)
            """)
            new_items = connection.execute(
                f"select count(*) from {reader_sql('parquet', str(items_dir / part))}").fetchone()[0]
        changed = connection.execute("select count(*) from changed_orders").fetchone()[0]
    return {"day": day.isoformat(), "order_rows_before": order_rows, "new_orders": new_count,
            "changed_orders": changed, "new_order_items": new_items}


def raw_row_counts(raw: Path) -> dict[str, int]:
    import duckdb

    counts = {}
    with duckdb.connect() as connection:
        for table in raw_tables():
            found = table_files(raw, table)
            if found:
                counts[table] = connection.execute(f"select count(*) from {reader_sql(*found)}").fetchone()[0]
    return counts


# --------------------------------------------------------------------------------------------------------------------
# The limit: one DuckDB statement over the raw files
# --------------------------------------------------------------------------------------------------------------------

def project_vars() -> dict[str, Any]:
    import yaml

    return yaml.safe_load((ROOT / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]


def build_date(source_timezone: str) -> date:
    """The day of the build in source_timezone, as the project's build_date() macro computes it."""
    return datetime.now(ZoneInfo(source_timezone)).date()


def render_limit_sql(raw: Path, out: Path, *, as_of_date: str | None = None, today: date | None = None,
                     overrides: Mapping[str, Any] | None = None, template: Path = LIMIT_SQL) -> str:
    """tools/bench_limit.sql with its `{{ name }}` placeholders filled in: readers of the raw tables (Parquet or
    CSV, file or folder), the seed files, the as-of and build dates, and the dbt vars (dbt_project.yml defaults,
    then overrides)."""
    variables = {name: project_vars()[name] for name in LIMIT_VARS}
    variables.update(overrides or {})
    values: dict[str, str] = {name: str(value) for name, value in variables.items()}
    for table in ("customers", "orders", "order_items"):
        found = table_files(raw, table)
        if found is None:
            raise FileNotFoundError(f"{raw}: no {table} file or folder")
        values[table] = reader_sql(*found, row_ids=table == "order_items")
    for seed in ("vn_province_aliases", "vn_provinces"):
        values[seed.removeprefix("vn_")] = reader_sql("csv", str(ROOT / "seeds" / f"{seed}.csv"))
    values["as_of_date"] = _sql_string(as_of_date) if as_of_date else "null"
    values["build_date"] = (today or build_date(str(variables["source_timezone"]))).isoformat()
    values["out"] = str(out).replace("'", "''")

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"{template.name}: unknown placeholder {{{{ {name} }}}}")
        return values[name]

    return re.sub(r"\{\{\s*(\w+)\s*\}\}", fill, template.read_text(encoding="utf-8"))


def run_limit(sql: str, *, threads: int | None, memory_limit: str, temp_directory: Path | None = None) -> float:
    """Run the limit statement in a new in-memory DuckDB database; the query time in seconds."""
    import duckdb

    with duckdb.connect() as connection:
        connection.execute("set timezone = 'UTC'")
        connection.execute(f"set memory_limit = {_sql_string(memory_limit)}")
        if threads:
            connection.execute(f"set threads = {int(threads)}")
        if temp_directory:
            connection.execute(f"set temp_directory = {_sql_string(temp_directory)}")
        start = time.perf_counter()
        connection.execute(sql)
        return time.perf_counter() - start


def compare_with_mart(limit_parquet: Path, warehouse: Path, columns: Sequence[str] = COMPARED_COLUMNS
                      ) -> dict[str, Any]:
    """Customers only in one of the two, and per column the customers whose values differ."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        connection.execute(f"create temp view limit_result as select * from read_parquet({_sql_string(limit_parquet)})")
        counts = connection.execute("""
            select
                (select count(*) from marts.customer_segments),
                (select count(*) from limit_result),
                (select count(*) from marts.customer_segments anti join limit_result using (customer_id)),
                (select count(*) from limit_result anti join marts.customer_segments using (customer_id))
        """).fetchone()
        differing = connection.execute("select " + ", ".join(
            f"count(*) filter (where mart.{column} is distinct from lim.{column})" for column in columns
        ) + " from marts.customer_segments as mart inner join limit_result as lim using (customer_id)").fetchone()
    return {"mart_customers": counts[0], "limit_customers": counts[1], "only_in_mart": counts[2],
            "only_in_limit": counts[3], "differing": {c: n for c, n in zip(columns, differing) if n}}
