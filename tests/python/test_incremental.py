"""Incremental order models: a nightly run on new and changed orders gives exactly the mart of a full refresh.

Day 0 is the bundled sample, with orders as one snapshot export (orders.csv) and order lines as a folder of daily
files (order_items/part-0.csv). Day 1 is the next night's export: the snapshot rewritten with 1% new orders at the
top (so every older row moves down), late status changes (returns with refunds, cancellations) of orders inside the
lookback window (one exactly at its edge), a duplicated new order, and a customer who was missing on day 0 arriving
with the customer export (their order, rejected on day 0, becomes valid without being re-checked); the new lines
arrive as order_items/part-1.csv. An incremental `dbt build` on the day-0 warehouse and a `--full-refresh` build
on a fresh warehouse must give the same customer_segments row for row (every column but segmented_at), the same
staged orders and lines, the same segment history for the day and the same rejected rows and reconciliation counts;
the incremental staging writes the night's orders only, and re-matches a province key made stale between the nights.

Then the window's other side: a change dated one day before the lookback window is not picked up by an
incremental run (as documented: it needs a full refresh), while one at the window's first day is.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_DIR, DbtRun, run_dbt

SAMPLE = PROJECT_DIR / "data" / "sample"
LOOKBACK_DAYS = 60  # the default of the var order_lookback_days
LATE_CUSTOMER = "C9999001"
TS = "%Y-%m-%d %H:%M:%S"


def _read_csv(path: Path) -> str:
    return f"read_csv('{path}', header = true, all_varchar = true)"


def _write(connection: duckdb.DuckDBPyConnection, sql: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection.execute(f"copy ({sql}) to '{path}' (header, delimiter ',')")


def _day0(folder: Path) -> None:
    """The sample, with the orders of LATE_CUSTOMER's first order already there but the customer missing."""
    folder.mkdir(parents=True)
    for name in ("support_tickets.csv", "referrals.csv"):
        shutil.copy(SAMPLE / name, folder / name)
    shutil.copy(SAMPLE / "customers.csv", folder / "customers.csv")
    with duckdb.connect() as connection:
        orders = _read_csv(SAMPLE / "orders.csv")
        late_order = f"""
            select 'O9900000001' as order_id, '{LATE_CUSTOMER}' as customer_id, '2026-05-02 10:00:00' as ordered_at,
                'completed' as status, 'Zalo' as channel, 'Đà Nẵng' as ship_province, '2450000' as gross_amount,
                '0' as discount_amount, null as refunded_amount, null as promo_code, 'cod' as payment_method,
                'mobile' as device_type, '2026-05-03 09:00:00' as updated_at
        """
        _write(connection, f"select * from {orders} union all {late_order}", folder / "orders.csv")
        _write(connection, f"select * from {_read_csv(SAMPLE / 'order_items.csv')}",
               folder / "order_items" / "part-0.csv")


def _watermark(run: DbtRun) -> datetime:
    """Newest version already loaded: the incremental window ends here."""
    return run.query("select max(version_at) from staging.base_shop__orders where rejection_reason is null")[0][0]


def _day1(day0: Path, folder: Path, watermark: datetime, warehouse: Path) -> dict[str, list[str]]:
    """Next night's export; returns the order ids of each kind of change. New orders copy orders the day-0 build
    kept (`warehouse`), so that every one of them is valid."""
    shutil.copytree(day0, folder)
    changed_since = watermark - timedelta(days=LOOKBACK_DAYS)
    night = watermark + timedelta(days=1)
    orders_file = folder / "orders.csv"
    with duckdb.connect() as connection:
        connection.execute(f"attach '{warehouse}' as day0 (read_only)")
        connection.execute(f"create table orders as select * from {_read_csv(day0 / 'orders.csv')}")
        connection.execute("alter table orders add column position bigint")
        connection.execute("update orders set position = rowid")
        connection.execute("""
            create table parsed as
            select order_id, try_cast(ordered_at as timestamp) as ordered_at,
                coalesce(try_cast(updated_at as timestamp), try_cast(ordered_at as timestamp)) as version_at,
                lower(coalesce(status, 'completed')) as status
            from orders
            qualify count(*) over (partition by order_id) = 1
        """)

        def pick(where: str, n: int, seed: str) -> list[str]:
            rows = connection.execute(f"""
                select order_id from parsed where {where} order by hash(order_id || '{seed}') limit {n}
            """).fetchall()
            assert len(rows) == n, where
            return [r[0] for r in rows]

        recent = f"version_at >= timestamp '{changed_since:{TS}}' and status = 'completed'"
        returned = pick(recent, 20, "returned")
        cancelled = pick(recent + f" and order_id not in ({_ids(returned)})", 10, "cancelled")
        edge = pick(f"version_at < timestamp '{changed_since:{TS}}' and status = 'completed'", 1, "edge")
        connection.execute(f"""
            update orders set status = 'Đã trả hàng', refunded_amount = gross_amount,
                updated_at = '{night:{TS}}'
            where order_id in ({_ids(returned)})
        """)
        connection.execute(f"""
            update orders set status = 'huỷ', updated_at = '{night:{TS}}' where order_id in ({_ids(cancelled)})
        """)
        connection.execute(f"""
            update orders set status = 'returned', updated_at = '{changed_since:{TS}}'
            where order_id in ({_ids(edge)})
        """)
        # 1% new orders, dated the night after the newest order, at the top of the file
        new_count = connection.execute("select count(*) from orders").fetchone()[0] // 100
        connection.execute(f"""
            create table new_orders as
            select
                'O98' || lpad(cast(row_number() over (order by order_id) as string), 8, '0') as order_id,
                customer_id, '{night:%Y-%m-%d} 10:15:00' as ordered_at, 'completed' as status, channel,
                ship_province, gross_amount, discount_amount, null as refunded_amount, promo_code, payment_method,
                device_type, '{night:%Y-%m-%d} 10:15:00' as updated_at, -row_number() over (order by order_id)
                    as position
            from orders
            where order_id in (select order_id from parsed where status = 'completed')
                and order_id in (select order_id from day0.intermediate.int_orders__customer_known)
                and try_cast(gross_amount as decimal(18, 2)) > 0
            order by hash(order_id || 'new')
            limit {new_count}
        """)
        new_ids = [r[0] for r in connection.execute("select order_id from new_orders order by 1").fetchall()]
        # the export repeats one new order (a duplicate row)
        connection.execute(f"""
            insert into new_orders select * replace (-1000000 as position) from new_orders
            where order_id = '{new_ids[0]}'
        """)
        _write(connection, """
            select * exclude (position) from (select * from new_orders union all select * from orders)
            order by position
        """, orders_file)
        _write(connection, """
            select order_id, '1' as line_number, 'P00001' as product_id, 'fashion' as category, '1' as quantity,
                gross_amount as unit_price
            from new_orders where position > -1000000
        """, folder / "order_items" / "part-1.csv")
        customers = _read_csv(day0 / "customers.csv")
        _write(connection, f"""
            select * from {customers}
            union all
            select '{LATE_CUSTOMER}', 'Trần Văn Muộn', null, '0905123456', 'male', null, '2026-04-30 08:00:00',
                'Đà Nẵng', 'individual', null, null, 'zalo', 'yes'
        """, folder / "customers.csv")
    return {"returned": returned, "cancelled": cancelled, "edge": edge, "new": new_ids}


def _ids(ids: list[str]) -> str:
    return ", ".join(f"'{i}'" for i in ids)


def _rows(run: DbtRun, sql: str) -> list[tuple]:
    return sorted(run.query(sql), key=repr)


def _mart_columns(run: DbtRun, table: str, leave_out: tuple[str, ...]) -> str:
    schema, name = table.split(".")
    columns = run.query(f"""
        select column_name from information_schema.columns
        where table_schema = '{schema}' and table_name = '{name}' order by ordinal_position
    """)
    return ", ".join(f'"{c[0]}"' for c in columns if c[0] not in leave_out)


def _tonight(root: Path, day: Path) -> Path:
    """The nightly export lands where the warehouse's source is, one folder rewritten every night (a warehouse built
    from another folder would rebuild in full: macros/source_state.sql)."""
    landing = root / "raw_nightly"
    if landing.exists():
        shutil.rmtree(landing)
    shutil.copytree(day, landing)
    return landing


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("incremental")
    day0, day1 = root / "raw_day0", root / "raw_day1"
    _day0(day0)
    incremental = run_dbt(root / "incremental", _tonight(root, day0))
    assert incremental.returncode == 0, incremental.output[-5000:]
    day0_orders = incremental.query("select count(*) from staging.base_shop__orders")[0][0]
    stale_spelling = _stale_province_key(incremental.warehouse)
    watermark = _watermark(incremental)
    changes = _day1(day0, day1, watermark, incremental.warehouse)
    incremental = run_dbt(root / "incremental", _tonight(root, day1))
    assert incremental.returncode == 0, incremental.output[-5000:]
    full = run_dbt(root / "full", day1, "build --full-refresh")
    assert full.returncode == 0, full.output[-5000:]
    return {"root": root, "day1": day1, "incremental": incremental, "full": full, "changes": changes,
            "watermark": watermark, "day0_orders": day0_orders, "stale_spelling": stale_spelling}


def _stale_province_key(warehouse: Path) -> str:
    """What an alias added to vn_province_aliases between two nights leaves behind: staged orders whose ship-province
    spelling now matches another province. Here the stored key of the commonest spelling is made stale by hand; the
    next incremental run must re-match those orders."""
    with duckdb.connect(str(warehouse)) as connection:
        spelling = connection.execute("""
            select ship_province_name from staging.stg_shop__orders where ship_province_name is not null
            group by 1 order by count(*) desc, 1 limit 1
        """).fetchone()[0]
        connection.execute("update staging.stg_shop__orders set ship_province_key = 'stale' where ship_province_name = ?",
                           [spelling])
        # likewise a Tết window changed since (the seed or the season vars): the oldest day's flag, far outside the
        # lookback window, flipped by hand; the next run must value that day's orders again
        connection.execute("""
            update intermediate.int_orders__valued set is_tet_season = not is_tet_season
            where ordered_date = (select min(ordered_date) from intermediate.int_orders__valued)
        """)
    return spelling


def test_incremental_run_rechecks_only_the_window(nightly: dict) -> None:
    """The nightly run re-checked the orders of the window, not the whole history; of those, only the orders whose
    rows changed count as loaded (loaded_at), the others keep the loaded_at of the run that last changed them."""
    incremental: DbtRun = nightly["incremental"]
    checked, loaded, total = incremental.query("""
        select
            count(*) filter (where checked_at = (select max(checked_at) from staging.base_shop__orders)),
            count(distinct order_key) filter (where loaded_at = (select max(checked_at) from staging.base_shop__orders)),
            count(*)
        from staging.base_shop__orders
    """)[0]
    assert 0 < checked < 0.25 * total, (checked, total)
    recent = incremental.query(f"""
        select count(*) from staging.base_shop__orders
        where version_at >= timestamp '{nightly['watermark'] - timedelta(days=LOOKBACK_DAYS):{TS}}'
    """)[0][0]
    assert checked >= recent
    changes = nightly["changes"]
    changed = set(changes["new"] + changes["returned"] + changes["cancelled"])
    loaded_ids = {row[0] for row in incremental.query("""
        select order_key from staging.base_shop__orders
        where loaded_at = (select max(checked_at) from staging.base_shop__orders)
    """)}
    assert changed <= loaded_ids, sorted(changed - loaded_ids)[:5]
    # re-checked but unchanged: every order of the window but those the night changed (and the late customer's
    # order, rejected on day 0 and unchanged since) keeps its earlier loaded_at
    assert loaded < 0.5 * checked, (loaded, checked)


def test_incremental_staging_writes_only_what_changed(nightly: dict) -> None:
    """The staged orders and lines of the night are the new, changed and re-matched ones, not the whole history; the
    rest keep the row an earlier run wrote."""
    incremental: DbtRun = nightly["incremental"]
    changes = nightly["changes"]
    for table in ("stg_shop__orders", "stg_shop__order_items"):
        written, total = incremental.query(f"""
            select count(*) filter (where staged_at = (select max(staged_at) from staging.{table})), count(*)
            from staging.{table}
        """)[0]
        assert 0 < written < 0.25 * total, (table, written, total)
    written_ids = {row[0] for row in incremental.query("""
        select order_id from staging.stg_shop__orders
        where staged_at = (select max(staged_at) from staging.stg_shop__orders)
    """)}
    expected = set(changes["new"] + changes["returned"] + changes["cancelled"])
    assert expected <= written_ids, sorted(expected - written_ids)[:5]
    # the late customer's order (O9900000001) passed the row checks on day 0 and is not written again: the
    # cross-table check after staging keeps it tonight, now that its customer arrived, and it is valued
    assert "O9900000001" not in written_ids
    for relation in ("intermediate.int_orders__customer_known", "intermediate.int_orders__valued"):
        assert incremental.query(f"select count(*) from {relation} where order_id = 'O9900000001'") == [(1,)], relation
    new_lines = incremental.query(f"""
        select count(*) from staging.stg_shop__order_items where order_id in ({_ids(changes['new'])})
    """)[0][0]
    assert new_lines == len(changes["new"])


def test_incremental_staging_equals_full_refresh(nightly: dict) -> None:
    """Row for row, every column but the bookkeeping ones (when a row was checked and staged; the file positions of
    rows not re-checked are those of the day they were checked); the stale province key was re-matched."""
    incremental: DbtRun = nightly["incremental"]
    full: DbtRun = nightly["full"]
    for table in ("staging.stg_shop__orders", "staging.stg_shop__order_items", "intermediate.int_orders__valued"):
        columns = _mart_columns(full, table, ("source_row_number", "loaded_at", "staged_at"))
        sql = f"select {columns} from {table}"
        incremental_rows, full_rows = _rows(incremental, sql), _rows(full, sql)
        assert len(full_rows) > 1000
        assert incremental_rows == full_rows, (
            table, sorted(set(incremental_rows) - set(full_rows), key=repr)[:2],
            sorted(set(full_rows) - set(incremental_rows), key=repr)[:2])
    keys = incremental.query("select distinct ship_province_key from staging.stg_shop__orders"
                             f" where ship_province_name = '{nightly['stale_spelling']}'")
    assert keys and ("stale",) not in keys, keys


def test_incremental_equals_full_refresh(nightly: dict) -> None:
    incremental: DbtRun = nightly["incremental"]
    full: DbtRun = nightly["full"]
    columns = _mart_columns(full, "marts.customer_segments", ("segmented_at",))
    mart_sql = f"select {columns} from marts.customer_segments"
    full_mart = _rows(full, mart_sql)
    assert len(full_mart) > 2900
    incremental_mart = _rows(incremental, mart_sql)
    only_incremental = set(incremental_mart) - set(full_mart)
    only_full = set(full_mart) - set(incremental_mart)
    assert incremental_mart == full_mart, (
        f"{len(only_incremental)} rows only after the incremental run, {len(only_full)} only after the full refresh; "
        f"columns: {columns}; e.g. {sorted(only_incremental, key=repr)[:2]} vs {sorted(only_full, key=repr)[:2]}")

    history_columns = _mart_columns(full, "marts.customer_segment_history", ("segmented_at",))
    history_sql = f"""
        select {history_columns} from marts.customer_segment_history
        where as_of_date = (select max(as_of_date) from marts.customer_segment_history)
    """
    assert _rows(incremental, history_sql) == _rows(full, history_sql)

    # the same rows rejected for the same reasons (positions of rows not re-checked are the day-0 ones)
    rejected_sql = """
        select table_name, source_file, record_id, rejection_reason, rejected_column, rejected_value
        from audit.rejected_rows
    """
    assert _rows(incremental, rejected_sql) == _rows(full, rejected_sql)
    reconciliation_sql = "select * from audit.raw_row_reconciliation"
    assert _rows(incremental, reconciliation_sql) == _rows(full, reconciliation_sql)
    for table, raw, staged, rejected, _share, erased in incremental.query(
        "select table_name, raw_rows, staged_rows, rejected_rows, rejected_share, erased_rows"
        " from audit.raw_row_reconciliation"
    ):
        assert raw == staged + rejected + erased, table


def test_late_changes_reach_the_mart(nightly: dict) -> None:
    """The changes were really applied, not equal by accident: statuses, refunds, new orders, the late customer."""
    incremental: DbtRun = nightly["incremental"]
    changes = nightly["changes"]
    statuses = dict(incremental.query(f"""
        select order_id, order_status from staging.stg_shop__orders
        where order_id in ({_ids(changes['returned'] + changes['cancelled'] + changes['edge'])})
    """))
    assert {statuses[i] for i in changes["returned"]} == {"returned"}
    assert {statuses[i] for i in changes["cancelled"]} == {"cancelled"}
    assert statuses[changes["edge"][0]] == "returned"
    new_kept = incremental.query(f"""
        select count(*) from staging.stg_shop__orders where order_id in ({_ids(changes['new'])})
    """)[0][0]
    assert new_kept == len(changes["new"]) > 250
    assert incremental.query(f"""
        select count(*) from audit.rejected_rows
        where record_id = '{changes['new'][0]}' and rejection_reason = 'duplicate_row'
    """)[0][0] == 1
    late = incremental.query(f"""
        select completed_order_count, net_revenue from marts.customer_segments where customer_id = '{LATE_CUSTOMER}'
    """)
    assert late == [(1, 2450000)], late


def test_valued_orders_follow_the_as_of_date_back_and_forth(nightly: dict) -> None:
    """A backfill builds an earlier as-of date into the same warehouse: the incremental int_orders__valued drops the
    orders after it, and the next build at the newest date values them again; both times it holds exactly the full
    refresh's rows up to its date."""
    root: Path = nightly["root"]
    full: DbtRun = nightly["full"]
    landing = root / "raw_nightly"  # still day 1's export
    columns = _mart_columns(full, "intermediate.int_orders__valued", ("staged_at",))
    earlier = (nightly["watermark"] - timedelta(days=45)).date()
    select = "run --select int_as_of_date int_orders__valued"
    run = run_dbt(root / "incremental", landing, select, as_of_date=str(earlier))
    assert run.returncode == 0, run.output[-3000:]
    expected = _rows(full, f"select {columns} from intermediate.int_orders__valued"
                           f" where ordered_date <= date '{earlier}'")
    assert 0 < len(expected) < len(_rows(full, "select order_id from intermediate.int_orders__valued"))
    assert _rows(run, f"select {columns} from intermediate.int_orders__valued") == expected
    run = run_dbt(root / "incremental", landing, select)
    assert run.returncode == 0, run.output[-3000:]
    assert _rows(run, f"select {columns} from intermediate.int_orders__valued") == _rows(
        full, f"select {columns} from intermediate.int_orders__valued")


def test_change_before_the_lookback_window_needs_a_full_refresh(nightly: dict) -> None:
    """Both sides of order_lookback_days: a change versioned at the window's first day is picked up by an
    incremental run, one versioned a day earlier is not until `--full-refresh`."""
    root: Path = nightly["root"]
    incremental: DbtRun = nightly["incremental"]
    watermark = _watermark(incremental)
    changed_since = watermark - timedelta(days=LOOKBACK_DAYS)
    day2 = root / "raw_day2"
    shutil.copytree(nightly["day1"], day2)
    with duckdb.connect() as connection:
        orders = _read_csv(nightly["day1"] / "orders.csv")
        connection.execute(f"create table orders as select * from {orders}")
        old = [r[0] for r in connection.execute(f"""
            select order_id from orders
            where coalesce(try_cast(updated_at as timestamp), try_cast(ordered_at as timestamp))
                < timestamp '{changed_since - timedelta(days=2):{TS}}'
                and lower(coalesce(status, 'completed')) = 'completed'
                and order_id in (select order_id from orders group by 1 having count(*) = 1)
            order by hash(order_id) limit 2
        """).fetchall()]
        inside, outside = old
        connection.execute(f"""
            update orders set status = 'cancelled', updated_at = case order_id
                when '{inside}' then '{changed_since:{TS}}'
                else '{changed_since - timedelta(days=1):{TS}}' end
            where order_id in ('{inside}', '{outside}')
        """)
        _write(connection, "select * from orders", day2 / "orders.csv")

    def statuses(run: DbtRun) -> dict[str, str]:
        return dict(run.query(f"""
            select order_id, order_status from staging.base_shop__orders where order_id in ('{inside}', '{outside}')
        """))

    run = run_dbt(root / "incremental", _tonight(root, day2), "run --select base_shop__orders")
    assert run.returncode == 0, run.output[-3000:]
    assert statuses(run) == {inside: "cancelled", outside: "completed"}
    run = run_dbt(root / "incremental", _tonight(root, day2), "run --full-refresh --select base_shop__orders")
    assert run.returncode == 0, run.output[-3000:]
    assert statuses(run) == {inside: "cancelled", outside: "cancelled"}
