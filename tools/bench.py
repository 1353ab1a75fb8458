"""Benchmark of the whole pipeline: data generation, the full dbt build, a hand-written limit and one incremental night.

Usage::

    python -m tools.bench [--customers 100000 1000000] [--nights 7] [--no-typed]
        [--work-dir /tmp/customer-segmentation-bench]
        [--threads N] [--memory-limit 80%] [--seed 42] [--results docs/benchmarks.json]
        [--doc docs/benchmarks.md | --no-doc] [--chart docs/bench-scale.svg] [--keep]
    python -m tools.bench --render-only   # rewrite the doc sections and the chart from the JSON results
    python -m tools.bench --large 10000000 --memory-limit 10GB [--typed] [--chunk-customers 1000000] [--work-dir ...]
        [--results docs/benchmarks-large.json] [--doc docs/benchmarks.md] [--keep]

For each number of customers, in one run: first the **typed input** (the targets of issue 18 are set on it; left
out with ``--no-typed``), in ``<work-dir>/<N>-typed``:

a. **generate** ``python -m tools.generate_data --typed`` (Parquet with TIMESTAMP, DATE and INT64 columns and 0.1%
   bad rows, as a loader writes them), orders and order lines moved into folders as below;
b. **make build**: ``python -m segmentation.publish`` as ``make build`` runs it (pre-flight, copy, ``dbt build`` without
   the unit tests, publish, the Parquet/CSV exports and the BI file) into a fresh ``published.duckdb``, the whole
   process tree measured; the publish step's own figures (dbt, exports) parsed from its output, the slowest nodes
   from its run_results.json, and the sizes of the warehouse, the BI file and the current exports;
c. **peers**: ``python -m tools.bench_peers`` with DuckDB, polars and pandas (the core columns a notebook computes),
   each in its own measured process, and whether their outputs are identical;
d. **nights** (``--nights``, default 7): a nightly delta (below) as ``part-<k>.parquet``, typed like the folder's
   files, each followed by ``make build`` on the published warehouse, with the sizes after each night.

Then the **text input** (every column a string, 1% bad rows: a messy export), in this order:

1. **generate**: ``python -m tools.generate_data --customers N --format parquet`` into
   ``<work-dir>/<N>/raw`` (orders ~ 10 N, order lines ~ 2.5 per order). ``orders.parquet`` and ``order_items.parquet``
   then move to ``orders/part-0.parquet`` and ``order_items/part-0.parquet`` (above the generator's chunk size they
   are folders of ``part-NNNNN.parquet`` already): the full build reads the folder layout that daily files use, and
   the night below adds ``part-1.parquet`` next to them.
2. **parse**: ``dbt parse`` into ``<work-dir>/<N>/target`` (not part of the full build: a deployed project keeps its
   partial-parse file, as the phases below do).
3. **models**: ``dbt build --exclude-resource-type test --exclude-resource-type unit_test`` (hooks, seeds, models) and
   **tests**: ``dbt test`` (data and unit tests; ``dbt build --resource-type unit_test`` runs no unit test in dbt 1.11,
   dbt-core issue 10267) on a fresh warehouse ``<work-dir>/<N>/warehouse.duckdb`` (DUCKDB_PATH). Their sum is the
   **full build**. The 10 slowest nodes of each invocation come from its run_results.json.
4. **limit**: ``tools/bench_limit.sql``, one hand-written DuckDB statement that computes the mart's core columns
   (order history, RFM scores, net revenue, preferred channel, home region, favourite category, lifecycle segment)
   from the same files with the same rules, run by a fresh Python process with the same DuckDB threads and memory
   limit; its query time is the lower bound the models phase is compared with. Its result is compared with the mart
   customer by customer. Then **make build** as in (b) above, into a fresh warehouse of its own, reported with its
   ratio to the limit.
5. **incremental**: one night (`write_nightly_delta`): new orders (1% of the order rows) dated the day after the
   newest order, for existing customers, with their order lines, and status changes (returned or cancelled, 0.2% of
   the order rows) of orders placed within the ``order_lookback_days`` window, written as ``part-1.parquet`` by DuckDB
   SQL with hash-based (deterministic) selection. Then one ``dbt build`` (models and tests, incremental), whose wall
   time is reported as a share of the full build, and whose mart is compared with the limit run on the new files.

Every phase runs in a child process; its wall time (time.perf_counter) and the peak memory of its whole process tree
(the RSS of the process and all its descendants read from /proc every 50 ms and summed, the highest sum kept) are
recorded, with the rusage of the child from os.wait4 (ru_maxrss: the largest single process of the tree, a cross-check
of the sampled peak, and the CPU time) and the load average before each phase (the machine may be shared).

Results are printed, merged into ``docs/benchmarks.json`` (one entry per number of customers: a later run of another
scale keeps the earlier entries), drawn in ``docs/bench-scale.svg`` (time against customers, log-log) and written
between the ``bench`` markers of ``docs/benchmarks.md``; the rest of that file is kept as it is.

**Large scale, once** (``--large N [N ...]``; the issue's "100M orders (10M customers) complete on this machine by
spilling to disk instead of running out of memory"). For 10M customers, on an otherwise idle machine with at least
60 GB free under the work folder (at 1M customers the raw data take 0.5 GB and the warehouse 2.5 GB; count ten times
that plus DuckDB's spill files) and an hour or more to spare::

    .venv/bin/python -m tools.bench --large 10000000 --memory-limit 10GB

(a DuckDB memory limit well under the 24 GB of memory: the dbt Python models' own arrays and dbt itself come on top
of it; DUCKDB_PRESERVE_INSERTION_ORDER=false in the environment lets DuckDB use less memory still, and is recorded).

Per number of customers, in ``<work-dir>/large-<N>``: only **generate** (``--chunk-customers``, default 1,000,000:
above it the generator writes folders of part files, one chunk at a time), **parse**, **models** and **tests**, with
the same commands, environment (DUCKDB_MEMORY_LIMIT, DUCKDB_TEMP_DIRECTORY ``<work-dir>/large-<N>/duckdb.tmp``,
DBT_THREADS from the environment, default 4) and measurements as above; no limit and no incremental night. During
the models and tests phases a second thread reads the size of the DuckDB temp directory (every file in it, apparent
size) and the free disk space every 0.5 s: the largest size is the phase's **max spill**, the proof that it spilled.
Also recorded: the disk size of the raw folder and of the warehouse file, the raw row counts, the mart rows and the
10 slowest nodes of models and tests. Results are merged by customers into ``docs/benchmarks-large.json`` (or
``--results``) and written between the ``bench-large`` markers of ``docs/benchmarks.md`` (created after the bench
section when absent); ``--render-only`` rewrites that section too when the large JSON exists. When a phase fails
(e.g. exit -9: killed by the kernel for lack of memory), the partial entry is written to
``<work-dir>/large-<N>/partial-result.json``, the folder is kept and the documents are left alone.
``--generate-only`` writes the raw data (and a marker with the generation figures) and stops; ``--reuse-raw`` starts
a later run from them, so that the long build can start at once (e.g. at the start of a work session).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tools import charts
from tools.machine import basics, package_version

if TYPE_CHECKING:
    from typing_extensions import Self

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WORK_DIR = Path("/tmp/customer-segmentation-bench")
DEFAULT_RESULTS = ROOT / "docs" / "benchmarks.json"
DEFAULT_DOC = ROOT / "docs" / "benchmarks.md"
DEFAULT_CHART = ROOT / "docs" / "bench-scale.svg"
DEFAULT_LARGE_RESULTS = ROOT / "docs" / "benchmarks-large.json"
LIMIT_SQL = ROOT / "tools" / "bench_limit.sql"
DBT = Path(sys.executable).with_name("dbt")
START_MARKER = "<!-- bench:start -->"
END_MARKER = "<!-- bench:end -->"
CLV_START_MARKER = "<!-- bench-clv:start -->"
LARGE_START_MARKER = "<!-- bench-large:start -->"
LARGE_END_MARKER = "<!-- bench-large:end -->"
DOC_INTRO = """# Benchmarks

Measured figures of the project's heavy parts, each section written by the script that measures it (rerun the
script to refresh its section; the text between a section's markers is replaced, the rest of this file is kept).
"""

FOLDER_TABLES = ("orders", "order_items")  # moved into <table>/part-0.parquet before the full build
SAMPLE_INTERVAL_S = 0.05
SPILL_SAMPLE_INTERVAL_S = 0.5  # the DuckDB temp directory's size, in --large mode
DEFAULT_CHUNK_CUSTOMERS = 1_000_000  # tools.generate_data's default
MIB = 1024 * 1024
NEW_ORDER_SHARE = 0.01
CHANGED_ORDER_SHARE = 0.002
SLOWEST_NODES = 10
# The mart columns the limit computes; the comparison with the mart is made on these.
COMPARED_COLUMNS = (
    "lifecycle_segment", "r_score", "f_score", "m_score", "net_revenue", "completed_order_count",
    "purchase_day_count", "first_order_date", "last_order_date", "recency_days", "tenure_days",
    "median_days_between_orders", "signup_date", "preferred_channel", "home_province", "home_region",
    "favourite_category",
)
# dbt vars the limit script uses (defaults from dbt_project.yml; the same names as there).
LIMIT_VARS = (
    "source_timezone", "earliest_valid_date", "lost_after_days", "new_within_days", "at_risk_gap_multiplier",
    "at_risk_min_days", "vip_top_share", "loyal_min_orders", "loyal_within_days", "price_hunter_min_discount_share",
)

# The targets of the issue: (key, description, unit, limit). Checked in `targets`.
TARGET_MAKE_BUILD_S = 60.0  # issue 18: full `make build` on typed input, 1M customers
TARGET_MAKE_BUILD_PEAK_MIB = 4 * 1024.0
TARGET_NIGHT_S = 30.0  # issue 18: nightly `make build`
DEFAULT_NIGHTS = 7
PEER_ENGINES = ("duckdb", "polars", "pandas")
PUBLISH_FIGURES = {  # lines of segmentation/publish.py's output -> sub-figures of the make_build phase
    "dbt_s": re.compile(r"^publish: dbt build passed in ([\d.]+) s"),
    "exports_s": re.compile(r"^publish: exports refreshed in ([\d.]+) s"),
    "copy_s": re.compile(r"^publish: copied .* in ([\d.]+) s"),
    "publish_total_s": re.compile(r"^publish: done in ([\d.]+) s"),
}
TARGET_CUSTOMERS = 1_000_000
TARGET_SMALL_CUSTOMERS = 100_000
TARGET_FULL_BUILD_S = 60.0
TARGET_FULL_BUILD_PEAK_MIB = 6 * 1024.0
TARGET_MODELS_OVER_LIMIT = 2.5
TARGET_SCALING = 11.0
TARGET_INCREMENTAL_SHARE = 0.20
TARGET_GENERATOR_ORDERS = 10_000_000
TARGET_GENERATOR_S = 60.0
TARGET_CLV_S = 30.0


# --------------------------------------------------------------------------------------------------------------------
# Measuring a child process: wall time and the peak RSS of its whole process tree
# --------------------------------------------------------------------------------------------------------------------

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    """The direct children of pid (every thread's children file; a scan of /proc/*/stat when that is missing)."""
    task_dir = Path(f"/proc/{pid}/task")
    try:
        tasks = list(task_dir.iterdir())
    except OSError:
        return []
    children: list[int] = []
    for task in tasks:
        try:
            children += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:  # kernel without CONFIG_PROC_CHILDREN
            return _children_by_scan(pid)
        except OSError:
            continue
    return children


def _children_by_scan(pid: int) -> list[int]:
    children = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # the fields after the command name, which may hold spaces and parentheses: state, ppid, ...
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.append(int(entry.name))
    return children


def process_tree(root: int) -> list[int]:
    """root and all its descendants that are alive now."""
    pids, queue = [], [root]
    while queue:
        pid = queue.pop()
        pids.append(pid)
        queue += _children(pid)
    return pids


def tree_rss_bytes(root: int) -> int:
    """The summed resident set size of root and its descendants (/proc/<pid>/statm, resident pages)."""
    total = 0
    for pid in process_tree(root):
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
        except (OSError, IndexError, ValueError):
            continue  # the process ended between the listing and the read
    return total


@dataclass
class Measured:
    """One child process: wall time, peak summed RSS of its tree, rusage from wait4, exit code."""

    wall_s: float
    peak_mib: float
    maxrss_mib: float
    cpu_s: float
    returncode: int
    samples: int
    load_average: float

    def figures(self) -> dict[str, float]:
        return {"wall_s": self.wall_s, "peak_mib": self.peak_mib, "maxrss_mib": self.maxrss_mib,
                "cpu_s": self.cpu_s, "load_average": self.load_average}


def run_measured(args: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path = ROOT,
                 log: Path | None = None, interval_s: float = SAMPLE_INTERVAL_S) -> Measured:
    """Run args to completion; its output goes to log (or is discarded). The process tree is sampled every
    interval_s from a thread; ru_maxrss and the CPU time come from os.wait4, which covers the descendants that the
    child itself waited for."""
    load_average = os.getloadavg()[0]
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    try:
        start = time.perf_counter()
        process = subprocess.Popen(list(args), cwd=cwd, env=dict(env) if env is not None else None, stdout=out,
                                   stderr=subprocess.STDOUT)
        peak, samples, done = 0, 0, threading.Event()

        def sample() -> None:
            nonlocal peak, samples
            while not done.is_set():
                peak = max(peak, tree_rss_bytes(process.pid))
                samples += 1
                done.wait(interval_s)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    return Measured(wall_s=wall, peak_mib=peak / MIB, maxrss_mib=usage.ru_maxrss / 1024,
                    cpu_s=usage.ru_utime + usage.ru_stime, returncode=process.returncode, samples=samples,
                    load_average=load_average)


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
    from segmentation.preflight import FOLDER_FILE_FORMATS, file_suffix, find_sources

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


# --------------------------------------------------------------------------------------------------------------------
# dbt phases
# --------------------------------------------------------------------------------------------------------------------

@dataclass
class Scale:
    """The folders of one number of customers under the work folder."""

    customers: int
    root: Path
    threads: int | None
    memory_limit: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def target(self) -> Path:
        return self.root / "target"

    @property
    def temp_directory(self) -> Path:
        """DuckDB's temp_directory (spill files) of the dbt phases."""
        return self.root / "duckdb.tmp"

    def dbt_env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DUCKDB_PATH": str(self.warehouse),
            "DUCKDB_MEMORY_LIMIT": self.memory_limit,
            "DUCKDB_TEMP_DIRECTORY": str(self.temp_directory),
            "DBT_PROFILES_DIR": str(ROOT),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DBT_USE_COLORS": "False",
        }
        env.pop("RAW_DATA_PATH", None)
        env.pop("RAW_READ_PATH", None)  # set by the publish step for its own dbt run only
        if self.threads:
            env["DUCKDB_THREADS"] = str(self.threads)
        return env

    def dbt_args(self, command: Sequence[str]) -> list[str]:
        return [str(DBT), *command, "--vars", json.dumps({"raw_data_path": str(self.raw)}),
                "--target-path", str(self.target), "--log-path", str(self.root / "logs")]


def slowest_nodes(run_results: Path, top: int = SLOWEST_NODES) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The top slowest nodes of a run_results.json (unique id without the project name, seconds, status), and the
    invocation's totals (dbt's own elapsed time, nodes by type, failures)."""
    results = json.loads(run_results.read_text(encoding="utf-8"))
    nodes = []
    by_type: dict[str, int] = {}
    failed = 0
    for result in results["results"]:
        kind, _, name = result["unique_id"].partition(".")
        name = name.partition(".")[2] or name
        by_type[kind] = by_type.get(kind, 0) + 1
        failed += result["status"] in ("error", "fail")
        nodes.append({"node": f"{kind} {name}", "seconds": result["execution_time"], "status": result["status"]})
    nodes.sort(key=lambda node: -node["seconds"])
    return nodes[:top], {"dbt_elapsed_s": results["elapsed_time"], "nodes": by_type, "failed_nodes": failed}


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_dbt_phase(scale: Scale, name: str, command: Sequence[str]) -> dict[str, Any]:
    log = scale.root / f"{name}.log"
    results_file = scale.target / "run_results.json"
    results_file.unlink(missing_ok=True)
    measured = run_measured(scale.dbt_args(command), env=scale.dbt_env(), log=log)
    phase: dict[str, Any] = {"command": "dbt " + " ".join(command), **measured.figures()}
    if results_file.exists():
        kept = scale.root / f"{name}-run_results.json"
        shutil.copyfile(results_file, kept)
        phase["slowest"], totals = slowest_nodes(kept)
        phase.update(totals)
    if measured.returncode != 0:
        raise RuntimeError(f"{phase['command']} failed (exit {measured.returncode}); log {log}:\n{_tail(log)}")
    return phase


def _mart_rows(warehouse: Path) -> int:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute("select count(*) from marts.customer_segments").fetchone()[0]


def _incremental_check(warehouse: Path, raw: Path) -> dict[str, int]:
    """How much of the night's delta the incremental build took in: new orders kept, changed orders with their new
    status in staging."""
    import duckdb

    delta = reader_sql("parquet", str(raw / "orders" / "part-1.parquet"))
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        row = connection.execute(f"""
            with delta as (select trim(order_id) as order_id, lower(status) as status from {delta})
            select
                count(*) filter (where delta.order_id like 'N%'),
                count(orders.order_id) filter (where delta.order_id like 'N%'),
                count(*) filter (where delta.order_id not like 'N%'),
                count(orders.order_id) filter (where delta.order_id not like 'N%' and orders.order_status = delta.status)
            from delta
            left join staging.stg_shop__orders as orders on delta.order_id = orders.order_id
        """).fetchone()
    return {"new_orders": row[0], "new_orders_kept": row[1], "changed_orders": row[2],
            "changed_orders_with_new_status": row[3]}


def run_worker(scale: Scale, module_args: Sequence[str], label: str, what: str) -> Measured:
    """`python -m <module_args>` (with the scale's DuckDB threads) measured in a fresh process, its output in
    <label>.log; a failure stops the bench with the log's tail."""
    args = [sys.executable, "-m", *module_args]
    if scale.threads:
        args += ["--threads", str(scale.threads)]
    log = scale.root / f"{label}.log"
    measured = run_measured(args, log=log)
    if measured.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {measured.returncode}); log {log}:\n{_tail(log)}")
    return measured


def limit_phase(scale: Scale, out: Path, label: str) -> dict[str, Any]:
    """The limit in a fresh Python process: its query time (wall_s), and the process's wall time and peak."""
    report = scale.root / f"{label}.json"
    measured = run_worker(scale, ["tools.bench", "--limit-worker", "--raw", str(scale.raw), "--out", str(out),
                                  "--memory-limit", scale.memory_limit, "--report", str(report)], label, "limit")
    worker = json.loads(report.read_text(encoding="utf-8"))
    return {**measured.figures(), "process_wall_s": measured.wall_s, "wall_s": worker["query_s"],
            "rows": worker["rows"]}


def bench_scale(customers: int, work_dir: Path, *, seed: int, threads: int | None, memory_limit: str,
                keep: bool, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every phase at one number of customers; the results entry."""
    scale = Scale(customers, work_dir / str(customers), threads, memory_limit)
    if scale.root.exists():
        shutil.rmtree(scale.root)
    scale.root.mkdir(parents=True)
    variables = project_vars()
    lookback_days = int(variables.get("order_lookback_days", 60))
    entry: dict[str, Any] = {
        "customers": customers,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "settings": {"duckdb_threads": threads or os.cpu_count(), "duckdb_memory_limit": memory_limit,
                     "dbt_threads": int(os.environ.get("DBT_THREADS", "4")), "seed": seed, "format": "parquet",
                     "order_lookback_days": lookback_days, "layout": "orders/ and order_items/ folders of part files"},
        "phases": {},
    }
    phases = entry["phases"]

    log(f"[{customers:,}] generating the raw data ...")
    measured = run_measured([sys.executable, "-m", "tools.generate_data", "--customers", str(customers),
                             "--out", str(scale.raw), "--format", "parquet", "--seed", str(seed)],
                            log=scale.root / "generate.log")
    if measured.returncode != 0:
        raise RuntimeError(f"generate_data failed:\n{_tail(scale.root / 'generate.log')}")
    phases["generate"] = {"command": "python -m tools.generate_data", **measured.figures()}
    move_into_folders(scale.raw)
    entry["raw_rows"] = raw_row_counts(scale.raw)

    for name, command in (
        ("parse", ["parse"]),
        ("models", ["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]),
        ("tests", ["test"]),
    ):
        log(f"[{customers:,}] dbt {name} ...")
        phases[name] = run_dbt_phase(scale, name, command)
    phases["full_build"] = {
        "command": "models + tests",
        "wall_s": phases["models"]["wall_s"] + phases["tests"]["wall_s"],
        "peak_mib": max(phases["models"]["peak_mib"], phases["tests"]["peak_mib"]),
        "maxrss_mib": max(phases["models"]["maxrss_mib"], phases["tests"]["maxrss_mib"]),
        "cpu_s": phases["models"]["cpu_s"] + phases["tests"]["cpu_s"],
    }
    entry["mart_rows"] = _mart_rows(scale.warehouse)

    log(f"[{customers:,}] limit ...")
    phases["limit"] = limit_phase(scale, scale.root / "limit.parquet", "limit")
    entry["checks"] = {"limit_vs_mart": compare_with_mart(scale.root / "limit.parquet", scale.warehouse)}
    log(f"[{customers:,}] make build (text input, a fresh warehouse of its own) ...")
    phases["make_build"] = make_build_phase(scale, "make-build", scale.root / "published.duckdb")

    log(f"[{customers:,}] one night: delta files, then an incremental dbt build ...")
    entry["delta"] = write_nightly_delta(scale.raw, lookback_days=lookback_days)
    phases["incremental"] = run_dbt_phase(scale, "incremental", ["build"])
    entry["checks"]["incremental_delta"] = _incremental_check(scale.warehouse, scale.raw)
    entry["mart_rows_after_incremental"] = _mart_rows(scale.warehouse)
    log(f"[{customers:,}] limit on the new files (check of the incremental mart) ...")
    night_limit = limit_phase(scale, scale.root / "limit-night.parquet", "limit-night")
    entry["checks"]["limit_vs_incremental_mart"] = compare_with_mart(scale.root / "limit-night.parquet",
                                                                     scale.warehouse)
    entry["checks"]["limit_night_s"] = night_limit["wall_s"]

    entry["ratios"] = {
        "make_build_over_limit": phases["make_build"]["wall_s"] / phases["limit"]["wall_s"],
        "models_over_limit": phases["models"]["wall_s"] / phases["limit"]["wall_s"],
        "incremental_share": phases["incremental"]["wall_s"] / phases["full_build"]["wall_s"],
    }
    entry["load_average_end"] = os.getloadavg()[0]
    if not keep:
        shutil.rmtree(scale.root)
    return entry


# --------------------------------------------------------------------------------------------------------------------
# `make build` itself, typed input, peers, nights
# --------------------------------------------------------------------------------------------------------------------

def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return folder_bytes(path) if path.is_dir() else 0


def make_build_phase(scale: Scale, name: str, warehouse: Path) -> dict[str, Any]:
    """`make build` as the user runs it (python -m segmentation.publish: pre-flight, copy, dbt build, publish,
    Parquet/CSV exports, BI file) on scale.raw into `warehouse`, with the exports, the BI file and dbt's target folder beside it.
    Wall time and peak memory of the whole process tree; the publish step's own figures from its output."""
    folder = warehouse.parent
    target = folder / f"{warehouse.stem}-target"
    env = {**scale.dbt_env(), "DUCKDB_PATH": str(warehouse), "EXPORT_PATH": str(folder / f"{warehouse.stem}-exports"),
           "BI_DUCKDB_PATH": str(folder / f"{warehouse.stem}-bi.duckdb"), "DBT_TARGET_PATH": str(target),
           "DBT_LOG_PATH": str(scale.root / "logs")}
    env.setdefault("CUSTOMER_KEY_SALT", "bench-salt")
    log = scale.root / f"{name}.log"
    measured = run_measured([sys.executable, "-m", "segmentation.publish", "--vars",
                             json.dumps({"raw_data_path": str(scale.raw)})], env=env, log=log)
    phase: dict[str, Any] = {"command": "make build (python -m segmentation.publish)", **measured.figures()}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        for key, pattern in PUBLISH_FIGURES.items():
            match = pattern.match(line.strip())
            if match:
                phase[key] = float(match.group(1))
    results = target / "run_results.json"
    if results.exists():
        kept = scale.root / f"{name}-run_results.json"
        shutil.copyfile(results, kept)
        phase["slowest"], totals = slowest_nodes(kept, top=15)
        phase.update(totals)
    if measured.returncode != 0:
        raise RuntimeError(f"make build ({name}) failed (exit {measured.returncode}); log {log}:\n{_tail(log)}")
    phase["warehouse_bytes"] = _size(warehouse)
    phase["bi_file_bytes"] = _size(Path(env["BI_DUCKDB_PATH"]))
    phase["exports_bytes"] = _size(Path(env["EXPORT_PATH"]) / "current")
    return phase


def peers_phase(scale: Scale, as_of: date) -> dict[str, Any]:
    """The peers (tools/bench_peers.py: pandas, polars, one DuckDB statement) on the raw folder, each in its own
    measured process; whether their outputs are equal."""
    import duckdb

    peers: dict[str, Any] = {"as_of_date": as_of.isoformat()}
    outputs = {}
    for engine in PEER_ENGINES:
        out = scale.root / f"peer-{engine}.parquet"
        measured = run_worker(scale, ["tools.bench_peers", "--engine", engine, "--raw", str(scale.raw), "--as-of",
                                      as_of.isoformat(), "--out", str(out)], f"peer-{engine}", f"peer {engine}")
        peers[engine] = measured.figures()
        outputs[engine] = out
    with duckdb.connect() as connection:
        reference = _sql_string(outputs[PEER_ENGINES[0]])
        peers["rows"] = connection.execute(f"select count(*) from {reference}").fetchone()[0]
        peers["identical"] = all(
            connection.execute(f"select count(*) from ((from {reference} except all from {_sql_string(path)}) union all "
                               f"(from {_sql_string(path)} except all from {reference}))").fetchone()[0] == 0
            for path in outputs.values())
    return peers


def bench_typed(customers: int, work_dir: Path, *, seed: int, threads: int | None, memory_limit: str, nights: int,
                keep: bool = False, log: Callable[[str], None] = print) -> dict[str, Any]:
    """The typed input (generate_data --typed: Parquet as a loader writes it): generate, `make build` on a fresh
    warehouse, the peers, then `nights` nightly deltas each followed by `make build`."""
    scale = Scale(customers, work_dir / f"{customers}-typed", threads, memory_limit)
    if scale.root.exists():
        shutil.rmtree(scale.root)
    scale.root.mkdir(parents=True)
    typed: dict[str, Any] = {"phases": {}, "nights": []}
    log(f"[{customers:,} typed] generating the typed raw data ...")
    measured = run_measured([sys.executable, "-m", "tools.generate_data", "--customers", str(customers), "--out",
                             str(scale.raw), "--format", "parquet", "--typed", "--seed", str(seed)],
                            log=scale.root / "generate.log")
    if measured.returncode != 0:
        raise RuntimeError(f"generate_data --typed failed:\n{_tail(scale.root / 'generate.log')}")
    typed["phases"]["generate"] = {"command": "python -m tools.generate_data --typed", **measured.figures()}
    move_into_folders(scale.raw)
    typed["raw_rows"] = raw_row_counts(scale.raw)
    warehouse = scale.root / "published.duckdb"
    log(f"[{customers:,} typed] make build (full) ...")
    typed["phases"]["make_build"] = make_build_phase(scale, "make-build", warehouse)
    typed["mart_rows"] = _mart_rows(warehouse)
    import duckdb

    with duckdb.connect() as connection:
        as_of = newest_order_date(connection, scale.raw, build_date(project_vars().get("source_timezone",
                                                                                       "Asia/Ho_Chi_Minh")))
    log(f"[{customers:,} typed] peers (as of {as_of}) ...")
    typed["peers"] = peers_phase(scale, as_of)
    lookback_days = int(project_vars().get("order_lookback_days", 60))
    for night in range(1, nights + 1):
        log(f"[{customers:,} typed] night {night}: delta files, then make build ...")
        delta = write_nightly_delta(scale.raw, lookback_days=lookback_days, night=night)
        phase = make_build_phase(scale, f"make-build-night-{night}", warehouse)
        typed["nights"].append({"night": night, "delta": delta, **{key: value for key, value in phase.items()
                                                                    if key != "slowest"},
                                "slowest": phase.get("slowest", [])[:10]})
    full = typed["phases"]["make_build"]
    typed["ratios"] = {
        "make_build_over_polars": full["wall_s"] / typed["peers"]["polars"]["wall_s"],
        "make_build_over_pandas": full["wall_s"] / typed["peers"]["pandas"]["wall_s"],
        "dbt_over_duckdb_peer": full.get("dbt_elapsed_s", full["wall_s"]) / typed["peers"]["duckdb"]["wall_s"],
    }
    if typed["nights"]:
        typed["ratios"]["night_share"] = typed["nights"][0]["wall_s"] / full["wall_s"]
    typed["load_average_end"] = os.getloadavg()[0]
    if not keep:
        shutil.rmtree(scale.root)
    return typed


# --------------------------------------------------------------------------------------------------------------------
# Machine, results file, targets
# --------------------------------------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    return {
        **basics(),
        "load_average": list(os.getloadavg()),
        "python": platform.python_version(),
        "duckdb": package_version("duckdb"),
        "dbt_core": package_version("dbt-core"),
        "dbt_duckdb": package_version("dbt-duckdb"),
    }


def merge_results(existing: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per number of customers (and, for --large, per input: text or typed), the newest winning, sorted by
    customers."""
    def key(entry: Mapping[str, Any]) -> tuple[int, str]:
        return entry["customers"], (entry.get("settings") or {}).get("input", "text")

    merged = {key(entry): dict(entry) for entry in existing}
    merged.update({key(entry): dict(entry) for entry in new})
    return [merged[found] for found in sorted(merged)]


def load_results(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")).get("runs", []))


def save_results(path: Path, runs: Sequence[Mapping[str, Any]],
                 written_by: str = "python -m tools.bench (make bench)") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"written_by": written_by, "runs": list(runs)}
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def clv_figure(doc_text: str) -> float | None:
    """The CLV fit + scoring time at 1M customers from the bench-clv section (its bold total)."""
    match = re.search(r"^\| 1,000,000 \|[^\n]*?\*\*([\d.]+) s\*\*", doc_text, flags=re.MULTILINE)
    return float(match.group(1)) if match else None


@dataclass
class Target:
    key: str
    name: str
    limit: str
    measured: str
    verdict: str  # "pass", "miss", "not measured" or "not measured at 1M"


def _verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "not measured"
    return "pass" if value <= limit else "miss"


def targets(runs: Sequence[Mapping[str, Any]], clv_seconds: float | None) -> list[Target]:
    """The issue's targets with the measured values: the 1M-customer run where the target is about 1M; the ratios
    fall back to the largest scale measured (verdict 'not measured at 1M')."""
    by_customers = {run["customers"]: run for run in runs}
    big = by_customers.get(TARGET_CUSTOMERS)
    small = by_customers.get(TARGET_SMALL_CUSTOMERS)
    largest = max(runs, key=lambda run: run["customers"]) if runs else None
    full = big["phases"]["full_build"] if big else None
    typed = big.get("typed") if big else None
    make_build = typed["phases"]["make_build"] if typed else None
    night = typed["nights"][0] if typed and typed.get("nights") else None
    rows = [
        Target("make_build_wall", "Full `make build`, typed input, 1M customers: wall time",
               f"<= {TARGET_MAKE_BUILD_S:.0f} s", f"{make_build['wall_s']:.1f} s" if make_build else "-",
               _verdict(make_build["wall_s"] if make_build else None, TARGET_MAKE_BUILD_S)),
        Target("make_build_peak", "Full `make build`, typed input, 1M customers: peak memory of the process tree",
               "<= 4 GiB", f"{make_build['peak_mib'] / 1024:.2f} GiB" if make_build else "-",
               _verdict(make_build["peak_mib"] if make_build else None, TARGET_MAKE_BUILD_PEAK_MIB)),
        Target("night_wall", "Nightly `make build`, typed input, 1M customers: wall time",
               f"<= {TARGET_NIGHT_S:.0f} s", f"{night['wall_s']:.1f} s" if night else "-",
               _verdict(night["wall_s"] if night else None, TARGET_NIGHT_S)),
        Target("full_build_wall", "Full dbt build (models + tests), 1M customers: wall time",
               f"<= {TARGET_FULL_BUILD_S:.0f} s", f"{full['wall_s']:.1f} s" if full else "-",
               _verdict(full["wall_s"] if full else None, TARGET_FULL_BUILD_S)),
        Target("full_build_peak", "Full dbt build, 1M customers: peak memory of the process tree", "<= 6 GiB",
               f"{full['peak_mib'] / 1024:.2f} GiB" if full else "-",
               _verdict(full["peak_mib"] if full else None, TARGET_FULL_BUILD_PEAK_MIB)),
    ]
    for key, name, limit, text, value_of in (
        ("models_over_limit", "Models phase / limit", TARGET_MODELS_OVER_LIMIT, f"<= {TARGET_MODELS_OVER_LIMIT}",
         lambda run: (run["ratios"]["models_over_limit"], f"{run['ratios']['models_over_limit']:.2f}")),
        ("incremental_share", "Incremental night / full build", TARGET_INCREMENTAL_SHARE,
         f"<= {TARGET_INCREMENTAL_SHARE:.0%}",
         lambda run: (run["ratios"]["incremental_share"], f"{run['ratios']['incremental_share']:.0%}")),
    ):
        run = big or largest
        if run is None:
            rows.append(Target(key, name, text, "-", "not measured"))
            continue
        value, shown = value_of(run)
        verdict = _verdict(value, limit) if big else "not measured at 1M"
        rows.append(Target(key, f"{name} ({run['customers']:,} customers)", text, shown, verdict))
    scaling = (big["phases"]["full_build"]["wall_s"] / small["phases"]["full_build"]["wall_s"]
               if big and small else None)
    rows.append(Target("scaling", "Full build time, 100k -> 1M customers", f"<= {TARGET_SCALING:.0f}x",
                       f"{scaling:.1f}x" if scaling else "-", _verdict(scaling, TARGET_SCALING)))
    generator = next((run for run in runs
                      if run.get("raw_rows", {}).get("orders", 0) >= TARGET_GENERATOR_ORDERS * 0.95), None)
    rows.append(Target(
        "generator",
        "Generator, ~10M orders" + (f" ({generator['raw_rows']['orders']:,} order rows)" if generator else ""),
        f"<= {TARGET_GENERATOR_S:.0f} s", f"{generator['phases']['generate']['wall_s']:.1f} s" if generator else "-",
        _verdict(generator["phases"]["generate"]["wall_s"] if generator else None, TARGET_GENERATOR_S)))
    rows.append(Target("clv", "CLV fit + scoring, 1M customers ([bench-clv](#clv-models-fit-and-scoring-make-bench-clv))",
                       f"<= {TARGET_CLV_S:.0f} s", f"{clv_seconds:.1f} s" if clv_seconds else "-",
                       _verdict(clv_seconds, TARGET_CLV_S)))
    return rows


# --------------------------------------------------------------------------------------------------------------------
# Markdown section and chart
# --------------------------------------------------------------------------------------------------------------------

PHASE_LABELS = {
    "generate": "generate raw data", "parse": "dbt parse (not in the full build)", "models": "models (dbt build)",
    "tests": "tests (dbt test)", "full_build": "**full build** (models + tests)", "limit": "limit (one DuckDB statement)",
    "incremental": "incremental night (dbt build)",
    "make_build": "**`make build`** (pre-flight, dbt build, publish, exports)",
}
CHART_SERIES = (("generate", "generate", "#7f7f7f"), ("models", "models", "#1f77b4"), ("tests", "tests", "#2ca02c"),
                ("full_build", "full build", "#d62728"), ("limit", "limit", "#9467bd"),
                ("incremental", "incremental night", "#ff7f0e"))


def _gib(mib: float) -> str:
    return f"{mib / 1024:.2f} GiB" if mib >= 1024 else f"{mib:,.0f} MiB"


def _check_line(label: str, check: Mapping[str, Any]) -> str:
    differing = check.get("differing") or {}
    customers = f"{check['mart_customers']:,} mart customers, {check['limit_customers']:,} limit rows"
    if not differing and not check["only_in_mart"] and not check["only_in_limit"]:
        return f"{label}: identical on every compared column ({customers})"
    parts = [f"{column} differs for {count:,}" for column, count in differing.items()]
    if check["only_in_mart"] or check["only_in_limit"]:
        parts.append(f"{check['only_in_mart']:,} only in the mart, {check['only_in_limit']:,} only in the limit")
    return f"{label}: " + "; ".join(parts) + f" ({customers})"


def render_section(runs: Sequence[Mapping[str, Any]], clv_seconds: float | None, chart_name: str) -> str:
    latest = max(runs, key=lambda run: run["date"])
    box = latest["machine"]
    memory = f"{box['memory_gib']:.1f} GiB" if box.get("memory_gib") else "unknown memory"
    settings = latest["settings"]
    lines = [
        START_MARKER,
        "## Full pipeline: generation, dbt build, limit, incremental night (`make bench`)",
        "",
        ("Written by `python -m tools.bench` (`make bench SCALES=\"100000 1000000\"`); rerun it to refresh this "
         "section. Machine-readable figures: [benchmarks.json](benchmarks.json)."),
        "",
        (f"- Machine: {box['cores']} cores (os.cpu_count()), {box['cpu_model']}, {memory} (/proc/meminfo); "
         f"Python {box['python']}, DuckDB {box['duckdb']}, dbt-core {box['dbt_core']}, dbt-duckdb {box['dbt_duckdb']}"),
        (f"- Settings: DuckDB threads {settings['duckdb_threads']}, memory limit {settings['duckdb_memory_limit']}, "
         f"dbt threads {settings['dbt_threads']}; raw data from `tools.generate_data` (seed {settings['seed']}, "
         f"Parquet, {settings['layout']}); order_lookback_days {settings['order_lookback_days']}"),
        "- Runs: " + "; ".join(
            f"{run['customers']:,} customers on {run['date']} (load average {run['machine']['load_average'][0]:.2f} "
            f"at the start, {run.get('load_average_end', float('nan')):.2f} at the end)" for run in runs),
        "",
        ("**Method.** Each phase runs as a child process. Wall time: time.perf_counter around it. Peak memory: the "
         "resident set sizes (/proc/<pid>/statm) of the process and all its descendants, read every 50 ms and summed "
         "(pages shared between processes count once per process, so the sum errs high); the highest sum is kept "
         "(ru_maxrss of the child from os.wait4, the largest single process, is kept in the JSON as a cross-check). "
         "CPU: user + system time of the child and the descendants it waited for. The **models** phase is `dbt build --exclude-resource-type test "
         "--exclude-resource-type unit_test` (hooks, seeds, models, the Python CLV models included), the **tests** "
         "phase `dbt test` (data and unit tests) on the same fresh warehouse; both read a partial-parse file written "
         "by a `dbt parse` just before (timed apart), as a deployed project does. The **limit** is "
         "[tools/bench_limit.sql](../tools/bench_limit.sql): one hand-written DuckDB statement, run in a fresh "
         "process with the same threads and memory limit, that parses the same raw files with the same rules (text "
         "amounts and timestamps, status/channel/province spellings, bad, duplicate, conflicting and superseded rows) "
         "and computes the mart's core columns (order history, RFM scores, net revenue, preferred channel, home "
         "region, favourite category, lifecycle segment) into one Parquet file, without intermediate tables, tests "
         "or audit: its query time is a lower bound of the models phase, which builds much more (rejected-row "
         "tables, audit, CLV, every other attribute). The **incremental night** adds `part-1.parquet` files: new "
         f"orders ({NEW_ORDER_SHARE:.0%} of the order rows) the day after the newest order, with their lines, and "
         f"status changes (returned or cancelled, {CHANGED_ORDER_SHARE:.1%} of the order rows) of orders inside the "
         "lookback window, then runs one `dbt build`. The machine may be shared with other work: the load average "
         "is recorded, and above the core count the wall times are pessimistic. **`make build`** is timed as the "
         "user runs it (`python -m segmentation.publish`: pre-flight, copy of the published warehouse, `dbt build` "
         "without the unit tests, publish, Parquet/CSV exports and the BI file) on a fresh warehouse; the "
         "**typed input** (`generate_data --typed`: TIMESTAMP, DATE and BIGINT columns, 0.1% bad rows, as a "
         "loader writes them), on which the issue's targets are set, gets `make build`, the **peers** "
         "(tools/bench_peers.py: the core columns in pandas, polars and one DuckDB statement, each in its own "
         "process) and nightly deltas typed like their folder, each followed by `make build`."),
        "",
        "### Targets",
        "",
        "| target | limit | measured | verdict |",
        "| --- | --- | ---: | --- |",
    ]
    for target in targets(runs, clv_seconds):
        verdict = {"pass": "pass", "miss": "**miss**"}.get(target.verdict, target.verdict)
        lines.append(f"| {target.name} | {target.limit} | {target.measured} | {verdict} |")
    lines += ["", f"![Wall time against customers, log-log]({chart_name})", ""]
    for run in runs:
        phases = run["phases"]
        lines += [
            f"### {run['customers']:,} customers",
            "",
            "Raw rows: " + ", ".join(f"{table} {count:,}" for table, count in run["raw_rows"].items())
            + f"; mart rows: {run['mart_rows']:,}. Night: {run['delta']['new_orders']:,} new orders "
            f"({run['delta']['new_order_items']:,} lines) on {run['delta']['day']}, "
            f"{run['delta']['changed_orders']:,} status changes.",
            "",
            "| phase | wall | peak memory (tree) | CPU | load avg | dbt start-up and wrap-up |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, label in PHASE_LABELS.items():
            if name not in phases:
                continue
            phase = phases[name]
            start_up = f"{phase['wall_s'] - phase['dbt_elapsed_s']:.1f} s" if "dbt_elapsed_s" in phase else ""
            load = f"{phase['load_average']:.2f}" if "load_average" in phase else ""
            lines.append(f"| {label} | {phase['wall_s']:.1f} s | {_gib(phase['peak_mib'])} | {phase['cpu_s']:.1f} s "
                         f"| {load} | {start_up} |")
        ratios = run["ratios"]
        checks = run["checks"]
        lines += [
            "",
            (f"- Models phase / limit: **{ratios['models_over_limit']:.2f}** (limit query "
             f"{phases['limit']['wall_s']:.1f} s, {phases['limit']['process_wall_s']:.1f} s with the process start); "
             f"incremental night / full build: **{ratios['incremental_share']:.0%}**."),
            "- " + _check_line("Limit vs mart", checks["limit_vs_mart"]) + ".",
            "- " + _check_line("Limit on the new files vs the mart after the incremental night",
                               checks["limit_vs_incremental_mart"]) + ".",
            (f"- The night's delta in staging: {checks['incremental_delta']['new_orders_kept']:,} of "
             f"{checks['incremental_delta']['new_orders']:,} new orders kept, "
             f"{checks['incremental_delta']['changed_orders_with_new_status']:,} of "
             f"{checks['incremental_delta']['changed_orders']:,} changed orders with their new status."),
            "",
        ]
        if "make_build" in phases:
            lines[-1:] = [f"- Text input, `make build` / limit: **{ratios['make_build_over_limit']:.2f}**.", ""]
        if run.get("typed"):
            lines += render_typed(run)
    largest = max(runs, key=lambda run: run["customers"])
    lines += [f"### Slowest nodes, {largest['customers']:,} customers", "",
              ("From each invocation's run_results.json (execution time of the node; nodes run 4 at a time, so they "
               "overlap)."), ""]
    for name in ("models", "tests", "incremental"):
        slowest = largest["phases"].get(name, {}).get("slowest")
        if not slowest:
            continue
        lines += [f"{PHASE_LABELS[name].replace('**', '')}:", "", "| node | seconds |", "| --- | ---: |"]
        lines += [f"| {node['node']} | {node['seconds']:.2f} |" for node in slowest]
        lines.append("")
    lines[-1:] = [END_MARKER]
    return "\n".join(lines) + "\n"


def typed_lines(typed: Mapping[str, Any]) -> list[str]:
    """Plain lines of the typed input's figures (the summary printed after a run)."""
    full = typed["phases"]["make_build"]
    lines = [(f"make build {full['wall_s']:.1f} s, peak {_gib(full['peak_mib'])} (dbt {full.get('dbt_s', 0):.0f} s, "
              f"exports {full.get('exports_s', 0):.1f} s)")]
    peers = typed.get("peers", {})
    for engine in PEER_ENGINES:
        if engine in peers:
            lines.append(f"peer {engine}: {peers[engine]['wall_s']:.1f} s, peak {_gib(peers[engine]['peak_mib'])}")
    for night in typed.get("nights", []):
        lines.append(f"night {night['night']}: make build {night['wall_s']:.1f} s, peak {_gib(night['peak_mib'])}, "
                     f"warehouse {night['warehouse_bytes'] / 1e9:.2f} GB")
    return lines


def render_typed(run: Mapping[str, Any]) -> list[str]:
    """The typed input's part of a scale's section: make build, peers, nights, slowest nodes."""
    typed = run["typed"]
    full = typed["phases"]["make_build"]
    generate = typed["phases"]["generate"]
    raw_rows = ", ".join(f"{table} {count:,}" for table, count in typed["raw_rows"].items())
    lines = [
        f"#### Typed input, {run['customers']:,} customers (`generate_data --typed`: Parquet as a loader writes it)",
        "",
        f"Raw rows: {raw_rows}; mart rows: {typed['mart_rows']:,}.",
        "",
        "| phase | wall | peak memory (tree) | CPU | warehouse | BI file | exports |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        (f"| generate raw data (typed) | {generate['wall_s']:.1f} s | {_gib(generate['peak_mib'])} | "
         f"{generate['cpu_s']:.1f} s | | | |"),
        (f"| **`make build`**, fresh warehouse | **{full['wall_s']:.1f} s** | {_gib(full['peak_mib'])} | "
         f"{full['cpu_s']:.1f} s | {_bytes(full['warehouse_bytes'])} | {_bytes(full['bi_file_bytes'])} | "
         f"{_bytes(full['exports_bytes'])} |"),
    ]
    for night in typed.get("nights", []):
        lines.append(f"| night {night['night']} ({night['delta']['day']}): `make build` | {night['wall_s']:.1f} s | "
                     f"{_gib(night['peak_mib'])} | {night['cpu_s']:.1f} s | {_bytes(night['warehouse_bytes'])} | "
                     f"{_bytes(night['bi_file_bytes'])} | {_bytes(night['exports_bytes'])} |")
    named = (("dbt_s", "dbt build"), ("exports_s", "exports and BI file"), ("publish_total_s", "publish step in all"))
    parts = ", ".join(f"{label} {full[key]:.1f} s" for key, label in named if key in full)
    lines += ["", (f"- Inside the full `make build`: {parts}; dbt's own elapsed time "
                   f"{full.get('dbt_elapsed_s', float('nan')):.1f} s.")]
    peers = typed.get("peers")
    if peers:
        ratios = typed["ratios"]
        outputs = "identical" if peers["identical"] else "**different**"
        lines += [
            "",
            (f"Peers: the core columns only (tools/bench_peers.py, as of {peers['as_of_date']}; "
             f"{peers['rows']:,} customers; outputs {outputs}):"),
            "",
            "| peer | wall (process) | peak memory |",
            "| --- | ---: | ---: |",
        ]
        lines += [f"| {engine} | {peers[engine]['wall_s']:.1f} s | {_gib(peers[engine]['peak_mib'])} |"
                  for engine in PEER_ENGINES if engine in peers]
        lines += ["", (f"- project `make build` / polars: **{ratios['make_build_over_polars']:.1f}x**; "
                       f"/ pandas: **{ratios['make_build_over_pandas']:.1f}x**; project dbt build (dbt's elapsed "
                       f"time, models and tests) / the DuckDB statement: **{ratios['dbt_over_duckdb_peer']:.1f}x**.")]
    slowest = full.get("slowest")
    if slowest:
        lines += ["", ("Slowest nodes of the full `make build` (execution time; dbt runs 4 nodes at a time, so they "
                       "overlap):"), "", "| node | seconds |", "| --- | ---: |"]
        lines += [f"| {node['node']} | {node['seconds']:.2f} |" for node in slowest]
    nights = typed.get("nights")
    if nights and nights[0].get("slowest"):
        lines += ["", "Slowest nodes of night 1:", "", "| node | seconds |", "| --- | ---: |"]
        lines += [f"| {node['node']} | {node['seconds']:.2f} |" for node in nights[0]["slowest"]]
    lines.append("")
    return lines


def write_section(doc: Path, section: str) -> None:
    """Replace the text between the bench markers (inclusive) with section; without markers, insert it before the
    bench-large section, else before the bench-clv section (or append it). The rest of the file is kept."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else DOC_INTRO
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if start != -1 and end != -1 and end > start:
        end += len(END_MARKER)
        if text[end:end + 1] == "\n":
            end += 1
        text = text[:start] + section + text[end:]
    elif (following := _first_found(text, (LARGE_START_MARKER, CLV_START_MARKER))) != -1:
        text = text[:following] + section + "\n" + text[following:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def _first_found(text: str, markers: Iterable[str]) -> int:
    """The position of the first of markers (in that order of preference) found in text, or -1."""
    for marker in markers:
        if (position := text.find(marker)) != -1:
            return position
    return -1


def render_chart(runs: Sequence[Mapping[str, Any]]) -> str:
    """Wall time against customers on log-log axes, one line per phase and one for the limit (plain SVG)."""
    width, height, left, right, top, bottom = 720, 420, 70, 170, 30, 50
    series = []
    for key, label, colour in CHART_SERIES:
        points = [(run["customers"], run["phases"][key]["wall_s"]) for run in runs
                  if key in run["phases"] and run["phases"][key]["wall_s"] > 0]
        if points:
            series.append((label, colour, points))
    xs = [x for *_, points in series for x, _ in points] or [1, 10]
    ys = [y for *_, points in series for _, y in points] or [1, 10]
    x_low, x_high = 10 ** math.floor(math.log10(min(xs))), 10 ** math.ceil(math.log10(max(xs)))
    if x_low == x_high:
        x_high *= 10
    y_low, y_high = 10 ** math.floor(math.log10(min(ys))), 10 ** math.ceil(math.log10(max(ys)))
    if y_low == y_high:
        y_high *= 10
    plot_w, plot_h = width - left - right, height - top - bottom
    inset = 24  # points on the first and last decade stay off the frame

    def px(x: float) -> float:
        share = (math.log10(x) - math.log10(x_low)) / (math.log10(x_high) - math.log10(x_low))
        return left + inset + (plot_w - 2 * inset) * share

    def py(y: float) -> float:
        return top + plot_h * (1 - (math.log10(y) - math.log10(y_low)) / (math.log10(y_high) - math.log10(y_low)))

    out = charts.document_open(width, height)
    out.append(charts.text(left, 18, "Wall time against customers (log-log), make bench", size=14))
    for tick in charts.log_ticks(x_low, x_high):
        x = px(tick)
        out.append(charts.line(x, top, x, top + plot_h, "#e0e0e0"))
        out.append(charts.text(x, top + plot_h + 16, charts.format_tick(tick), anchor="middle"))
    for tick in charts.log_ticks(y_low, y_high):
        y = py(tick)
        out.append(charts.line(left, y, left + plot_w, y, "#e0e0e0"))
        out.append(charts.text(left - 6, y + 4, charts.format_tick(tick, " s"), anchor="end"))
    out.append(charts.rect(left, top, plot_w, plot_h, "none", extra='stroke="#555"'))
    out.append(charts.text(left + plot_w / 2, height - 12, "customers", anchor="middle"))
    out.append(f'<text transform="translate(16 {top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
               'wall time</text>')
    # reference: time proportional to customers, through the smallest scale's full build
    full = next((points for label, _, points in series if label == "full build"), None)
    if full:
        x0, y0 = min(full)
        x1 = x_high
        y1 = y0 * x1 / x0
        if y1 > y_high:
            x1, y1 = x0 * y_high / y0, y_high
        out.append(charts.line(px(x0), py(y0), px(x1), py(y1), "#999", 'stroke-dasharray="2 3"'))
        legend_y = top + 10 + 20 * len(series)
        out.append(charts.line(left + plot_w + 15, legend_y, left + plot_w + 40, legend_y, "#999",
                               'stroke-dasharray="2 3"'))
        out.append(charts.text(left + plot_w + 46, legend_y + 4, "linear from the"))
        out.append(charts.text(left + plot_w + 46, legend_y + 18, "first full build"))
    for index, (label, colour, points) in enumerate(series):
        dash = 'stroke-dasharray="6 4"' if label == "limit" else ""
        out.append(charts.polyline([(px(x), py(y)) for x, y in points], colour, 2, dash))
        for x, y in points:
            out.append(charts.circle(px(x), py(y), 3.5, colour, f"{label}, {x:,} customers: {y:.1f} s"))
        legend_y = top + 10 + 20 * index
        out.append(charts.line(left + plot_w + 15, legend_y, left + plot_w + 40, legend_y, colour,
                               'stroke-width="2"' + (" " + dash if dash else "")))
        out.append(charts.text(left + plot_w + 46, legend_y + 4, label))
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------------------------------
# Large scale, once (--large): generate, parse, models, tests with DuckDB's spill folder watched
# --------------------------------------------------------------------------------------------------------------------

LARGE_PHASE_LABELS = {
    "generate": "generate raw data", "parse": "dbt parse (not in the full build)", "models": "models (dbt build)",
    "tests": "tests (dbt test)", "full_build": "**full build** (models + tests)",
}
LARGE_TITLE = "## Scale without falling over: 100M orders (`python -m tools.bench --large 10000000`)"


def folder_bytes(path: Path) -> int:
    """The apparent size of a file, or of every file under a folder (0 when missing; files that vanish while the
    folder is read are skipped)."""
    try:
        if not path.is_dir():
            return path.stat().st_size if path.exists() else 0
    except OSError:
        return 0
    total = 0
    stack = [str(path)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total


def _free_bytes(path: Path) -> int | None:
    """Free disk space on the file system of path (or of its nearest existing parent)."""
    for folder in (path, *path.parents):
        if folder.exists():
            return shutil.disk_usage(folder).free
    return None


class FolderSampler:
    """A thread that reads the size of a folder (folder_bytes) and the free disk space every interval_s while the
    `with` block runs, once more at its end; the largest size and the least free space are kept."""

    def __init__(self, path: Path, interval_s: float = SPILL_SAMPLE_INTERVAL_S) -> None:
        self.path = path
        self.interval_s = interval_s
        self.max_bytes = 0
        self.min_free_bytes: int | None = None
        self.samples = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        self.max_bytes = max(self.max_bytes, folder_bytes(self.path))
        free = _free_bytes(self.path)
        if free is not None:
            self.min_free_bytes = free if self.min_free_bytes is None else min(self.min_free_bytes, free)
        self.samples += 1

    def _run(self) -> None:
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.interval_s)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()
        self.sample()

    def figures(self) -> dict[str, Any]:
        return {"spill_max_bytes": self.max_bytes, "spill_samples": self.samples,
                "disk_free_min_bytes": self.min_free_bytes}


def run_spilling_phase(scale: Scale, name: str, command: Sequence[str],
                       interval_s: float = SPILL_SAMPLE_INTERVAL_S) -> dict[str, Any]:
    """run_dbt_phase with the DuckDB temp directory's size sampled meanwhile (spill_max_bytes)."""
    with FolderSampler(scale.temp_directory, interval_s) as spill:
        try:
            phase = run_dbt_phase(scale, name, command)
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n(max spill during the phase so far: {_bytes(spill.max_bytes)})") from error
    return {**phase, **spill.figures()}


def resolved_memory_limit(memory_limit: str) -> str | None:
    """DuckDB's reading of a memory_limit value (e.g. '80%' -> '18.7 GiB'), or None if DuckDB refuses it."""
    import duckdb

    try:
        with duckdb.connect() as connection:
            connection.execute(f"set memory_limit = {_sql_string(memory_limit)}")
            return str(connection.execute("select current_setting('memory_limit')").fetchone()[0])
    except duckdb.Error:
        return None


def _failure_hint(error: BaseException) -> str:
    text = str(error)
    if "exit -9" in text or "exit 137" in text:
        return text + "\n(killed by signal 9: most likely the kernel's out-of-memory killer)"
    return text


def bench_large_scale(customers: int, work_dir: Path, *, seed: int, threads: int | None, memory_limit: str,
                      chunk_customers: int = DEFAULT_CHUNK_CUSTOMERS, keep: bool = False,
                      generate_only: bool = False, reuse_raw: bool = False, typed: bool = False,
                      log: Callable[[str], None] = print) -> dict[str, Any]:
    """Generate, parse, models and tests at one number of customers, the DuckDB temp directory watched during models
    and tests; the results entry. On a failure the partial entry goes to <root>/partial-result.json and the folder
    is kept. generate_only stops after the raw data (kept, with a marker); reuse_raw starts from them instead of
    generating (the generation figures are the marker's), so that a long run can start at once in a later session."""
    scale = Scale(customers, work_dir / f"large-{customers}{'-typed' if typed else ''}", threads, memory_limit)
    generated = scale.raw / GENERATED_MARKER
    reused = None
    if reuse_raw:
        if not generated.is_file():
            raise SystemExit(f"--reuse-raw: {generated} does not exist; generate first with --generate-only")
        reused = json.loads(generated.read_text(encoding="utf-8"))
        if (reused["customers"], reused["seed"], reused["chunk_customers"], reused.get("typed", False)) != (
                customers, seed, chunk_customers, typed):
            raise SystemExit(f"--reuse-raw: {scale.raw} holds {reused['customers']:,} customers, seed {reused['seed']}, "
                             f"chunks of {reused['chunk_customers']:,}; asked for {customers:,}, seed {seed}, "
                             f"chunks of {chunk_customers:,}")
        for path in scale.root.iterdir():  # everything but the raw data (warehouse, spill, logs of an earlier run)
            if path != scale.raw:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    else:
        if scale.root.exists():
            shutil.rmtree(scale.root)
        scale.root.mkdir(parents=True)
    entry: dict[str, Any] = {
        "customers": customers,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "settings": {"duckdb_threads": threads or os.cpu_count(), "duckdb_memory_limit": memory_limit,
                     "duckdb_memory_limit_resolved": resolved_memory_limit(memory_limit),
                     "dbt_threads": int(os.environ.get("DBT_THREADS", "4")), "seed": seed, "format": "parquet",
                     "input": "typed" if typed else "text", "chunk_customers": chunk_customers,
                     "temp_directory": str(scale.temp_directory),
                     "preserve_insertion_order": os.environ.get("DUCKDB_PRESERVE_INSERTION_ORDER", "true"),
                     "spill_sample_interval_s": SPILL_SAMPLE_INTERVAL_S},
        "disk_free_start_bytes": _free_bytes(scale.root),
        "phases": {},
    }
    phases = entry["phases"]
    try:
        if reused:
            log(f"[{customers:,}] reusing the raw data generated on {reused['date']} in {scale.raw}")
            phases["generate"] = {**reused["generate"], "reused_from": reused["date"]}
        else:
            log(f"[{customers:,}] generating the raw data (chunks of {chunk_customers:,} customers) ...")
            measured = run_measured([sys.executable, "-m", "tools.generate_data", "--customers", str(customers),
                                     "--out", str(scale.raw), "--format", "parquet", "--seed", str(seed),
                                     "--chunk-customers", str(chunk_customers), *(["--typed"] if typed else [])],
                                    log=scale.root / "generate.log")
            if measured.returncode != 0:
                raise RuntimeError(f"generate_data failed (exit {measured.returncode}):\n"
                                   f"{_tail(scale.root / 'generate.log')}")
            phases["generate"] = {"command": "python -m tools.generate_data", **measured.figures()}
            move_into_folders(scale.raw)  # single files (up to one chunk) -> folders; chunked runs are folders already
            # the marker --reuse-raw looks for (a hidden file: the raw-folder listing of the project skips it)
            generated.write_text(json.dumps({
                "customers": customers, "seed": seed, "chunk_customers": chunk_customers, "typed": typed,
                "date": entry["date"],
                "generate": phases["generate"]}, indent=1) + "\n", encoding="utf-8")
            if generate_only:
                log(f"[{customers:,}] raw data in {scale.raw}; --generate-only: stopping here "
                    f"(next: the same command with --reuse-raw instead)")
                return entry
        entry["raw_bytes"] = folder_bytes(scale.raw)
        entry["raw_files"] = sum(1 for path in scale.raw.rglob("*") if path.is_file())
        entry["raw_rows"] = raw_row_counts(scale.raw)

        log(f"[{customers:,}] dbt parse ...")
        phases["parse"] = run_dbt_phase(scale, "parse", ["parse"])
        for name, command in (
            ("models", ["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]),
            ("tests", ["test"]),
        ):
            log(f"[{customers:,}] dbt {name} (DuckDB temp directory watched) ...")
            phases[name] = run_spilling_phase(scale, name, command)
        models, tests = phases["models"], phases["tests"]
        free = [value for value in (models["disk_free_min_bytes"], tests["disk_free_min_bytes"]) if value is not None]
        phases["full_build"] = {
            "command": "models + tests",
            "wall_s": models["wall_s"] + tests["wall_s"],
            "peak_mib": max(models["peak_mib"], tests["peak_mib"]),
            "maxrss_mib": max(models["maxrss_mib"], tests["maxrss_mib"]),
            "cpu_s": models["cpu_s"] + tests["cpu_s"],
            "spill_max_bytes": max(models["spill_max_bytes"], tests["spill_max_bytes"]),
            "disk_free_min_bytes": min(free) if free else None,
        }
        entry["warehouse_bytes"] = folder_bytes(scale.warehouse)
        entry["mart_rows"] = _mart_rows(scale.warehouse)
        entry["load_average_end"] = os.getloadavg()[0]
    except BaseException as error:
        entry["error"] = _failure_hint(error)
        partial = scale.root / "partial-result.json"
        partial.write_text(json.dumps(entry, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        log(f"[{customers:,}] failed; partial results in {partial}, folder kept: {scale.root}")
        raise
    if not keep:
        shutil.rmtree(scale.root)
    return entry


GENERATED_MARKER = ".generated.json"


def _bytes(count: float | None) -> str:
    """Bytes in binary units (GiB from 1 GiB up, MiB from 1 MiB, KiB, B)."""
    if count is None:
        return "-"
    for unit, size in (("GiB", 1024**3), ("MiB", MIB), ("KiB", 1024)):
        if count >= size:
            return f"{count / size:,.{2 if unit == 'GiB' else 1}f} {unit}"
    return f"{count:,.0f} B"


def render_large_section(runs: Sequence[Mapping[str, Any]]) -> str:
    """The bench-large section of docs/benchmarks.md (markers included), one part per number of customers."""
    lines = [
        LARGE_START_MARKER,
        LARGE_TITLE,
        "",
        ("Written by `python -m tools.bench --large N` (run once by hand, not by `make bench`); rerun it to refresh "
         "this section. Machine-readable figures: [benchmarks-large.json](benchmarks-large.json)."),
        "",
        ("**Method.** The generate, parse, models and tests phases of `make bench` (same commands, a fresh warehouse, "
         "no limit and no incremental night), each a child process measured the same way (wall time, peak summed "
         "RSS of its process tree every 50 ms, CPU time), with a DuckDB memory limit under the machine's memory so "
         "that sorts, joins and aggregates must spill to DuckDB's temp directory, whose size (apparent size of its "
         f"files) a second thread reads every {SPILL_SAMPLE_INTERVAL_S:g} s during models and tests: the largest "
         "reading is the max spill."),
        "",
    ]
    for run in runs:
        box, settings, phases = run["machine"], run["settings"], run["phases"]
        memory = f"{box['memory_gib']:.1f} GiB" if box.get("memory_gib") else "unknown memory"
        limit = settings["duckdb_memory_limit"]
        if settings.get("duckdb_memory_limit_resolved") and settings["duckdb_memory_limit_resolved"] != limit:
            limit += f" ({settings['duckdb_memory_limit_resolved']})"
        rows = run.get("raw_rows", {})
        full = phases.get("full_build", {})
        spilled = full.get("spill_max_bytes", 0)
        chunks = -(-run["customers"] // settings["chunk_customers"])
        lines += [
            (f"### {run['customers']:,} customers, {rows.get('orders', 0):,} order rows, "
             f"{settings.get('input', 'text')} input"),
            "",
            (f"- Run: {run['date']} on {box['cores']} cores, {box['cpu_model']}, {memory}; load average "
             f"{box['load_average'][0]:.2f} at the start, {run.get('load_average_end', float('nan')):.2f} at the "
             f"end; Python {box['python']}, DuckDB {box['duckdb']}, dbt-core {box['dbt_core']}, dbt-duckdb "
             f"{box['dbt_duckdb']}"),
            (f"- Settings: DuckDB **memory limit {limit}**, DuckDB threads {settings['duckdb_threads']}, dbt threads "
             f"{settings['dbt_threads']}, preserve_insertion_order {settings.get('preserve_insertion_order', 'true')}; "
             f"raw data from `tools.generate_data{' --typed' if settings.get('input') == 'typed' else ''}` "
             f"(seed {settings['seed']}, Parquet, "
             f"{chunks:,} chunk{'s' if chunks > 1 else ''} of up to {settings['chunk_customers']:,} customers)"),
            (f"- Raw data: {_bytes(run.get('raw_bytes'))} on disk in {run.get('raw_files', 0):,} files; rows: "
             + ", ".join(f"{table} {count:,}" for table, count in rows.items())),
            (f"- Warehouse file: {_bytes(run.get('warehouse_bytes'))}; mart rows: {run.get('mart_rows', 0):,}; free "
             f"disk {_bytes(run.get('disk_free_start_bytes'))} at the start, "
             f"{_bytes(full.get('disk_free_min_bytes'))} at the lowest during models and tests"),
            "",
            "| phase | wall | peak memory (tree) | CPU | max spill |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        reused = phases.get("generate", {}).get("reused_from")
        for name, label in LARGE_PHASE_LABELS.items():
            if name not in phases:
                continue
            phase = phases[name]
            spill = _bytes(phase["spill_max_bytes"]) if "spill_max_bytes" in phase else "-"
            if name == "generate" and reused:  # --reuse-raw: the figures are those of the earlier --generate-only run
                label += f" (earlier run, {reused})"
            lines.append(f"| {label} | {phase['wall_s']:,.1f} s | {_gib(phase['peak_mib'])} | "
                         f"{phase['cpu_s']:,.1f} s | {spill} |")
        verdict = (f"Completed: the full build spilled up to **{_bytes(spilled)}** to disk with a memory limit of "
                   f"{limit}" if spilled else
                   f"Completed **without spilling**: the data fit under the memory limit of {limit}")
        if reused:
            lines += ["", (f"The raw data were generated by an earlier `--generate-only` run ({reused}; load average "
                           f"{phases['generate'].get('load_average', float('nan')):.2f} at its start) and read by "
                           "this one with `--reuse-raw`; the generation is not part of the build.")]
        lines += [
            "",
            (f"{verdict}; the process tree peaked at {_gib(full.get('peak_mib', 0.0))}"
             + (f" of {memory} of memory." if box.get("memory_gib") else ".")),
            "",
        ]
        for name in ("models", "tests"):
            slowest = phases.get(name, {}).get("slowest")
            if not slowest:
                continue
            overlap = (f"nodes run {settings['dbt_threads']} at a time, so they overlap"
                       if settings["dbt_threads"] > 1 else "nodes run one at a time")
            lines += [(f"Slowest nodes, {LARGE_PHASE_LABELS[name]} (execution time from run_results.json; "
                       f"{overlap}):"),
                      "", "| node | seconds |", "| --- | ---: |"]
            lines += [f"| {node['node']} | {node['seconds']:,.2f} |" for node in slowest]
            lines.append("")
    lines[-1:] = [LARGE_END_MARKER]
    return "\n".join(lines) + "\n"


def write_large_section(doc: Path, section: str) -> None:
    """Replace the text between the bench-large markers (inclusive) with section; without them, insert it after the
    bench section's end marker, else before the bench-clv section (or append it). The rest of the file is kept."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else DOC_INTRO
    start, end = text.find(LARGE_START_MARKER), text.find(LARGE_END_MARKER)
    bench_end = text.find(END_MARKER)
    if start != -1 and end != -1 and end > start:
        end += len(LARGE_END_MARKER)
        if text[end:end + 1] == "\n":
            end += 1
        text = text[:start] + section + text[end:]
    elif bench_end != -1:
        position = bench_end + len(END_MARKER)
        if text[position:position + 1] == "\n":
            position += 1
        else:
            text = text[:position] + "\n" + text[position:]
            position += 1
        following = text[position:]
        text = text[:position] + "\n" + section + ("\n" if following and not following.startswith("\n") else "") \
            + following
    elif (clv := text.find(CLV_START_MARKER)) != -1:
        text = text[:clv] + section + "\n" + text[clv:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def print_large_summary(entry: Mapping[str, Any]) -> None:
    phases = entry["phases"]
    print(f"\n{entry['customers']:,} customers, large mode ({entry['date']}; memory limit "
          f"{entry['settings']['duckdb_memory_limit']}):")
    print(f"  {'phase':<34} {'wall':>9} {'peak tree':>11} {'cpu':>9} {'max spill':>12}")
    for name, label in LARGE_PHASE_LABELS.items():
        if name in phases:
            phase = phases[name]
            spill = _bytes(phase["spill_max_bytes"]) if "spill_max_bytes" in phase else "-"
            print(f"  {label.replace('**', ''):<34} {phase['wall_s']:>8.1f}s {phase['peak_mib']:>8,.0f} MiB "
                  f"{phase['cpu_s']:>8.1f}s {spill:>12}")
    print(f"  raw {_bytes(entry['raw_bytes'])} ({entry['raw_rows']}), warehouse {_bytes(entry['warehouse_bytes'])}, "
          f"mart rows {entry['mart_rows']:,}")


# --------------------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------------------

def print_summary(entry: Mapping[str, Any]) -> None:
    phases = entry["phases"]
    print(f"\n{entry['customers']:,} customers ({entry['date']}; load average at the start "
          f"{entry['machine']['load_average'][0]:.2f}):")
    print(f"  {'phase':<34} {'wall':>9} {'peak tree':>11} {'maxrss':>9} {'cpu':>8}")
    for name, label in PHASE_LABELS.items():
        if name in phases:
            phase = phases[name]
            print(f"  {label.replace('**', ''):<34} {phase['wall_s']:>8.1f}s {phase['peak_mib']:>8,.0f} MiB "
                  f"{phase['maxrss_mib']:>6,.0f} MiB {phase['cpu_s']:>7.1f}s")
    ratios = entry["ratios"]
    print(f"  models / limit: {ratios['models_over_limit']:.2f}; incremental / full build: "
          f"{ratios['incremental_share']:.0%}")
    for label, key in (("limit vs mart", "limit_vs_mart"), ("limit vs incremental mart", "limit_vs_incremental_mart")):
        print("  " + _check_line(label, entry["checks"][key]))
    print(f"  delta in staging: {entry['checks']['incremental_delta']}")
    typed = entry.get("typed")
    if typed:
        print("  typed input:")
        for line in typed_lines(typed):
            print("    " + line)


def limit_worker(args: argparse.Namespace) -> int:
    import duckdb

    sql = render_limit_sql(args.raw, args.out)
    seconds = run_limit(sql, threads=args.threads, memory_limit=args.memory_limit,
                        temp_directory=args.out.parent / "limit.tmp")
    with duckdb.connect() as connection:
        rows = connection.execute(f"select count(*) from read_parquet({_sql_string(args.out)})").fetchone()[0]
    args.report.write_text(json.dumps({"query_s": seconds, "rows": rows}), encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, nargs="+",
                        help="numbers of customers to benchmark (default: 100000)")
    parser.add_argument("--large", type=int, nargs="+", metavar="CUSTOMERS",
                        help="large scale, once: only generate, parse, models and tests at these numbers of "
                             "customers, with DuckDB's spill folder watched; results in docs/benchmarks-large.json "
                             "and the bench-large section of the doc")
    parser.add_argument("--chunk-customers", type=int, default=DEFAULT_CHUNK_CUSTOMERS,
                        help="with --large: the generator's chunk size (default 1000000)")
    parser.add_argument("--generate-only", action="store_true",
                        help="with --large: generate the raw data (kept in the work folder) and stop")
    parser.add_argument("--reuse-raw", action="store_true",
                        help="with --large: start from the raw data of an earlier --generate-only (or --keep) run")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR,
                        help=f"raw data and warehouses go here, one folder per scale (default {DEFAULT_WORK_DIR})")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="DuckDB threads of the dbt build and the limit (default: the cores)")
    parser.add_argument("--memory-limit", default=os.environ.get("DUCKDB_MEMORY_LIMIT", "80%"),
                        help="DuckDB memory_limit of the dbt build and the limit (default 80%%, as profiles.yml)")
    parser.add_argument("--results", type=Path,
                        help="JSON results, merged by scale (default docs/benchmarks.json; with --large "
                             "docs/benchmarks-large.json)")
    parser.add_argument("--large-results", type=Path, default=DEFAULT_LARGE_RESULTS,
                        help="with --render-only: the large-scale JSON results (default docs/benchmarks-large.json)")
    parser.add_argument("--doc", type=Path, default=DEFAULT_DOC, help="markdown file whose bench section is rewritten")
    parser.add_argument("--chart", type=Path, default=DEFAULT_CHART, help="SVG chart of time against scale")
    parser.add_argument("--no-doc", action="store_true", help="print only; write neither results, doc nor chart")
    parser.add_argument("--keep", action="store_true", help="keep the raw data and warehouses in the work folder")
    parser.add_argument("--nights", type=int, default=DEFAULT_NIGHTS,
                        help=f"typed input: nightly deltas, each followed by `make build` (default {DEFAULT_NIGHTS})")
    parser.add_argument("--typed", action="store_true",
                        help="--large: typed Parquet (generate_data --typed), as a loader writes it; default: text")
    parser.add_argument("--no-typed", action="store_true",
                        help="only the text input (the typed input's make build, peers and nights are left out)")
    parser.add_argument("--render-only", action="store_true",
                        help="measure nothing: rewrite the doc sections and the chart from the results files")
    parser.add_argument("--limit-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.limit_worker:
        return limit_worker(args)
    if args.large and args.customers:
        parser.error("--large and --customers exclude each other")
    if (args.generate_only or args.reuse_raw) and not args.large:
        parser.error("--generate-only and --reuse-raw go with --large")
    if args.generate_only and args.reuse_raw:
        parser.error("--generate-only and --reuse-raw exclude each other")
    if args.render_only:
        results = args.results or DEFAULT_RESULTS
        runs, large_runs = load_results(results), load_results(args.large_results)
        if not runs and not large_runs:
            parser.error(f"{results}, {args.large_results}: no results to render")
        if runs:
            write_outputs(runs, args.doc, args.chart)
            print(f"wrote {args.chart} and the bench section of {args.doc} from {results}")
        if large_runs:
            write_large_section(args.doc, render_large_section(large_runs))
            print(f"wrote the bench-large section of {args.doc} from {args.large_results}")
        return 0
    if args.large:
        return main_large(args)
    args.results = args.results or DEFAULT_RESULTS
    for customers in args.customers or [100_000]:
        if not args.no_typed:  # typed first: the targets are set on it
            typed = bench_typed(customers, args.work_dir, seed=args.seed, threads=args.threads,
                                memory_limit=args.memory_limit, nights=args.nights, keep=args.keep)
        entry = bench_scale(customers, args.work_dir, seed=args.seed, threads=args.threads,
                            memory_limit=args.memory_limit, keep=args.keep)
        if not args.no_typed:
            entry["typed"] = typed
        print_summary(entry)
        if not args.no_doc:  # written after every scale, so that a failure at a later scale keeps this one
            runs = merge_results(load_results(args.results), [entry])
            save_results(args.results, runs)
            write_outputs(runs, args.doc, args.chart)
    if not args.no_doc:
        print(f"\nwrote {args.results}, {args.chart} and the bench section of {args.doc}")
    return 0


def main_large(args: argparse.Namespace) -> int:
    """--large: one bench_large_scale per number of customers, each written out as soon as it is done."""
    results = args.results or DEFAULT_LARGE_RESULTS
    for customers in args.large:
        entry = bench_large_scale(customers, args.work_dir, seed=args.seed, threads=args.threads,
                                  memory_limit=args.memory_limit, chunk_customers=args.chunk_customers,
                                  keep=args.keep or args.generate_only, generate_only=args.generate_only,
                                  reuse_raw=args.reuse_raw, typed=args.typed)
        if args.generate_only:
            continue
        print_large_summary(entry)
        if not args.no_doc:
            runs = merge_results(load_results(results), [entry])
            save_results(results, runs, written_by="python -m tools.bench --large")
            write_large_section(args.doc, render_large_section(runs))
    if not args.no_doc and not args.generate_only:
        print(f"\nwrote {results} and the bench-large section of {args.doc}")
    return 0


def write_outputs(runs: Sequence[Mapping[str, Any]], doc: Path, chart: Path) -> None:
    """The chart, and the bench section of the doc (with the CLV figure read from the doc's bench-clv section)."""
    chart.parent.mkdir(parents=True, exist_ok=True)
    chart.write_text(render_chart(runs), encoding="utf-8")
    doc_text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    write_section(doc, render_section(runs, clv_figure(doc_text), os.path.relpath(chart, doc.parent)))


if __name__ == "__main__":
    sys.exit(main())
