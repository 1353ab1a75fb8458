"""Benchmark peers: the core per-customer columns computed the way a notebook would, by pandas, polars or one
hand-written DuckDB SQL statement, from a folder of typed raw Parquet files, so that the project's dbt build can be
compared with them.

Usage (one engine per process: the benchmark times each process and measures its memory from outside)::

    python -m tools.bench_peers --engine {pandas,polars,duckdb} --raw DIR --as-of YYYY-MM-DD --out OUT.parquet
        [--threads N]

It prints one line, ``engine=... rows=... seconds=... out=...``: the customers written and the seconds from the first
read to the written file (imports and interpreter start-up are not counted; the process time, measured from outside,
is).

**Input.** ``DIR`` holds ``customers`` and ``orders``, each as ``<table>.parquet`` or a folder
``<table>/*.parquet`` (e.g. ``part-0.parquet``, ``part-1.parquet``; both forms are globbed and read together, files
in name order), typed as a loader writes them: orders ``order_id``, ``customer_id`` (string), ``ordered_at``
(TIMESTAMP, local time), ``status``, ``channel`` (string, may be NULL), ``gross_amount``, ``discount_amount``,
``refunded_amount`` (INT64, VND; a NULL refund is 0); other columns are not read. Customers: ``customer_id``.

**No validation beyond this** (unlike the project, which checks, repairs and rejects raw rows and reports them): an
order with a NULL order_id or customer_id is dropped; of the rows sharing an order_id the last one in file order is
kept (files by name, then row position: a later part is a later version of the order); then orders of a customer_id
that is not in customers are dropped. Customers are the distinct non-NULL customer ids. Nothing else is checked:
dates, amounts, ids and customer rows are taken as they are.

**Codes.** The spellings of status and channel are mapped with the project's own lists, read from
``macros/code_mappings.sql`` (macros ``map_order_status`` and ``map_channel``; the project has no seed for them):
a value is trimmed, empty or a null word (``null``, ``n/a``, ...) is NULL, and the rest is matched on its text key
(lower case, no diacritics, ``đ`` -> ``d``, letters and digits only), as the project does. An empty status means
completed (the project's rule); an unknown channel spelling is ``other``; an empty channel is ignored. The mapping is
one Python function applied to the distinct spellings, by every engine (DuckDB calls it as a scalar function on the
distinct values), so the three engines decide identically.

**Columns**, one row per customer, sorted by customer_id (:data:`OUTPUT_SCHEMA`). Only orders with
``ordered_at < as_of + 1 day`` and a completed status count:

* ``completed_orders``; ``net_revenue``: sum of ``gross - discount - coalesce(refunded, 0)`` (0 without orders; an
  order whose gross or discount is NULL adds nothing); ``first_order_at``, ``last_order_at``;
* ``recency_days``: as_of - the date of last_order_at (NULL without orders);
* ``r_score``, ``f_score``, ``m_score``: ``ntile(5)`` among customers with a completed order, over recency_days
  descending (5 = most recent), completed_orders ascending and net_revenue ascending, each with customer_id ascending
  as the tie-break, so that equal values may get different scores but every engine gives the same ones;
* ``preferred_channel``: the channel code with the most completed orders, ties to the code first in alphabetical
  order;
* ``lifecycle``: potential (no completed order), lost, loyal, else casual (thresholds below).

Simplified compared with the project (models/intermediate): no fully-refunded rule (a completed order stays completed
whatever its refund), net revenue over completed orders only (the project also counts returned orders), quintile
scores by ntile instead of percent_rank cut-points, channel ties not broken by recency, four lifecycle segments
instead of eight.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
CODE_MAPPINGS = ROOT / "macros" / "code_mappings.sql"
ENGINES = ("pandas", "polars", "duckdb")

# Lifecycle thresholds: a simplified version of the project's rules (dbt_project.yml vars lost_after_days,
# loyal_min_orders, loyal_within_days; the project has eight segments and, by default, 4 orders for loyal).
LOST_AFTER_DAYS = 365  # lost: recency_days > this
LOYAL_MIN_ORDERS = 3  # loyal: completed_orders >= this ...
LOYAL_WITHIN_DAYS = 180  # ... and recency_days <= this
SCORE_BUCKETS = 5  # R, F and M scores: quintiles

# the words exports write for "no value" (macros/parsing.sql null_words), matched on the whole trimmed value
NULL_WORDS = frozenset({"null", "n/a", "#n/a", "-", "none", "nan"})

ORDER_COLUMNS = ["order_id", "customer_id", "ordered_at", "status", "channel", "gross_amount", "discount_amount",
                 "refunded_amount"]

# the schema of every engine's file (DuckDB marks the two columns it knows to be never NULL, the others follow)
OUTPUT_SCHEMA = pa.schema([
    pa.field("customer_id", pa.string(), nullable=False),
    ("completed_orders", pa.int64()),
    ("net_revenue", pa.int64()),
    ("first_order_at", pa.timestamp("us")),
    ("last_order_at", pa.timestamp("us")),
    ("recency_days", pa.int64()),
    ("r_score", pa.int64()),
    ("f_score", pa.int64()),
    ("m_score", pa.int64()),
    ("preferred_channel", pa.string()),
    pa.field("lifecycle", pa.string(), nullable=False),
])
OUTPUT_COLUMNS = OUTPUT_SCHEMA.names


# --- codes --------------------------------------------------------------------------------------------------------

def clean_text(value: str | None) -> str | None:
    """A raw value trimmed; None when empty or a null word (macros/parsing.sql clean_text)."""
    if value is None:
        return None
    value = value.strip()
    return None if value == "" or value.lower() in NULL_WORDS else value


def text_key(value: str) -> str:
    """Lower case, no diacritics (đ included), letters and digits only (macros/parsing.sql text_key)."""
    lowered = unicodedata.normalize("NFC", value).lower()
    unaccented = "".join(c for c in unicodedata.normalize("NFD", lowered) if not unicodedata.combining(c))
    return re.sub("[^a-z0-9]", "", unaccented.replace("đ", "d"))


@dataclass(frozen=True)
class CodeMapping:
    """One of the project's code mappings: text key -> code, the code of an empty value and of an unknown one."""

    keys: dict[str, str]
    missing: str | None
    otherwise: str | None

    def code(self, raw: str | None) -> str | None:
        value = clean_text(raw)
        if value is None:
            return self.missing
        return self.keys.get(text_key(value), self.otherwise)


def _sql_literal(argument: str, defaults: dict[str, str]) -> str | None:
    """A macro argument as written in the call (`"'completed'"`, `"null"` or a parameter name) as a Python value."""
    if not argument.startswith('"'):
        argument = defaults[argument]
    sql = argument.strip('"').strip()
    if sql.lower() == "null":
        return None
    if not (sql.startswith("'") and sql.endswith("'")):
        raise ValueError(f"unexpected code literal {sql!r} in {CODE_MAPPINGS}")
    return sql[1:-1]


def read_code_mapping(macro: str, path: Path = CODE_MAPPINGS) -> CodeMapping:
    """The mapping that `{% macro <macro>(...) %}` passes to map_codes: its dict literal and its two code arguments."""
    text = path.read_text(encoding="utf-8")
    found = re.search(r"\{%-?\s*macro\s+" + re.escape(macro) + r"\((?P<params>[^)]*)\)\s*-?%\}(?P<body>.*?)"
                      r"\{%-?\s*endmacro", text, re.DOTALL)
    if found is None or "map_codes(" not in found["body"]:
        raise ValueError(f"no macro {macro} calling map_codes in {path}")
    body = found["body"]
    start = body.index("{", body.index("map_codes("))
    depth = 0
    for end in range(start, len(body)):
        depth += {"{": 1, "}": -1}.get(body[end], 0)
        if depth == 0:
            break
    mapping = ast.literal_eval(body[start:end + 1])
    arguments = re.match(r'\s*,\s*("[^"]*"|\w+)\s*,\s*("[^"]*"|\w+)', body[end + 1:])
    if arguments is None:
        raise ValueError(f"cannot read the arguments of map_codes in macro {macro} of {path}")
    defaults = dict(re.findall(r'(\w+)\s*=\s*("[^"]*")', found["params"]))
    keys = {key: code for code, spellings in mapping.items() for key in spellings}
    return CodeMapping(keys, _sql_literal(arguments[1], defaults), _sql_literal(arguments[2], defaults))


@cache
def status_mapping() -> CodeMapping:
    return read_code_mapping("map_order_status")


@cache
def channel_mapping() -> CodeMapping:
    # an empty channel is ignored by the peers (the project calls it 'unknown')
    mapping = read_code_mapping("map_channel")
    return CodeMapping(mapping.keys, None, mapping.otherwise)


def status_code(raw: str | None) -> str | None:
    return status_mapping().code(raw)


def channel_code(raw: str | None) -> str | None:
    return channel_mapping().code(raw)


def completed_spellings(spellings: Sequence[str | None]) -> tuple[list[str], bool]:
    """The non-NULL spellings that mean completed, and whether NULL does."""
    return [s for s in spellings if s is not None and status_code(s) == "completed"], status_code(None) == "completed"


def channel_codes(spellings: Sequence[str | None]) -> dict[str, str]:
    """Non-NULL spelling -> channel code, for the spellings that have one."""
    return {s: code for s in spellings if s is not None and (code := channel_code(s)) is not None}


# --- input --------------------------------------------------------------------------------------------------------

def table_files(raw: Path, table: str) -> list[str]:
    """`<raw>/<table>.parquet` and `<raw>/<table>/*.parquet`, in name order."""
    files = sorted(str(p) for p in [*raw.glob(f"{table}.parquet"), *raw.glob(f"{table}/*.parquet")])
    if not files:
        raise FileNotFoundError(f"no {table}.parquet or {table}/*.parquet in {raw}")
    return files


def ntile_positions(count: int, buckets: int = SCORE_BUCKETS) -> list[int]:
    """SQL ntile(buckets) of rows 0..count-1: the first count % buckets groups have one row more."""
    size, remainder = divmod(count, buckets)
    big = remainder * (size + 1)
    return [i // (size + 1) + 1 if i < big else remainder + (i - big) // size + 1 for i in range(count)]


# --- pandas -------------------------------------------------------------------------------------------------------

def run_pandas(raw: Path, as_of: date, out: Path, threads: int | None = None) -> int:
    import numpy as np
    import pandas as pd

    if threads:
        pa.set_cpu_count(threads)
        pa.set_io_thread_count(threads)

    def read(table: str, columns: list[str]) -> pd.DataFrame:
        frames = [pd.read_parquet(f, columns=columns) for f in table_files(raw, table)]
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    customers = pd.DataFrame({"customer_id": read("customers", ["customer_id"])["customer_id"].dropna().unique()})
    orders = read("orders", ORDER_COLUMNS)
    orders = orders.dropna(subset=["order_id", "customer_id"])
    orders = orders.drop_duplicates("order_id", keep="last")
    orders = orders[orders["customer_id"].isin(customers["customer_id"])]

    spellings, null_completed = completed_spellings(list(orders["status"].dropna().unique()))
    is_completed = orders["status"].isin(spellings)
    if null_completed:
        is_completed |= orders["status"].isna()
    cutoff = pd.Timestamp(as_of + timedelta(days=1))
    done = orders.loc[is_completed & (orders["ordered_at"] < cutoff),
                      ["customer_id", "ordered_at", "channel", "gross_amount", "discount_amount", "refunded_amount"]]
    done = done.assign(
        net_amount=done["gross_amount"] - done["discount_amount"] - done["refunded_amount"].fillna(0),
        channel_code=done["channel"].map(channel_codes(list(done["channel"].dropna().unique()))),
    )

    totals = done.groupby("customer_id").agg(
        completed_orders=("ordered_at", "size"),
        net_revenue=("net_amount", "sum"),
        first_order_at=("ordered_at", "min"),
        last_order_at=("ordered_at", "max"),
    )
    channel_counts = (done.dropna(subset=["channel_code"])
                      .groupby(["customer_id", "channel_code"]).size().rename("order_count").reset_index())
    preferred = (channel_counts.sort_values(["customer_id", "order_count", "channel_code"],
                                            ascending=[True, False, True], kind="stable")
                 .drop_duplicates("customer_id")
                 .set_index("customer_id")["channel_code"].rename("preferred_channel"))

    result = customers.sort_values("customer_id", kind="stable").join(totals, on="customer_id").join(
        preferred, on="customer_id")
    result["completed_orders"] = result["completed_orders"].fillna(0).astype("int64")
    result["net_revenue"] = result["net_revenue"].fillna(0).astype("int64")
    last_date = result["last_order_at"].dt.normalize()
    result["recency_days"] = (pd.Timestamp(as_of) - last_date).dt.days.astype("Int64")

    buyers = result[result["completed_orders"] > 0]
    for score, key, ascending in (("r_score", "recency_days", False), ("f_score", "completed_orders", True),
                                  ("m_score", "net_revenue", True)):
        ordered = buyers.sort_values([key, "customer_id"], ascending=[ascending, True], kind="stable")
        result[score] = pd.Series(ntile_positions(len(ordered)), index=ordered.index, dtype="Int64")

    recency = result["recency_days"]
    result["lifecycle"] = np.select(
        [result["completed_orders"] == 0,
         (recency > LOST_AFTER_DAYS).fillna(False),
         ((result["completed_orders"] >= LOYAL_MIN_ORDERS) & (recency <= LOYAL_WITHIN_DAYS)).fillna(False)],
        ["potential", "lost", "loyal"], default="casual")

    table = pa.Table.from_pandas(result[OUTPUT_COLUMNS], schema=OUTPUT_SCHEMA, preserve_index=False)
    pq.write_table(table.replace_schema_metadata(None), out)
    return table.num_rows


# --- polars -------------------------------------------------------------------------------------------------------

def run_polars(raw: Path, as_of: date, out: Path, threads: int | None = None) -> int:
    if threads:
        # read when polars is first imported (in the benchmark's own process, here)
        os.environ["POLARS_MAX_THREADS"] = str(threads)
    import polars as pl

    customer_files, order_files = table_files(raw, "customers"), table_files(raw, "orders")
    customers = pl.scan_parquet(customer_files).select("customer_id").drop_nulls().unique()
    orders = (pl.scan_parquet(order_files).select(ORDER_COLUMNS)
              .drop_nulls(["order_id", "customer_id"])
              .unique("order_id", keep="last", maintain_order=False)
              .join(customers, on="customer_id", how="semi"))

    statuses = pl.scan_parquet(order_files).select(pl.col("status").unique()).collect()["status"].to_list()
    spellings, null_completed = completed_spellings(statuses)
    is_completed = pl.col("status").is_in(spellings)
    if null_completed:
        is_completed = is_completed | pl.col("status").is_null()
    channels = pl.scan_parquet(order_files).select(pl.col("channel").unique()).collect()["channel"].to_list()

    cutoff = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    done = orders.filter(is_completed & (pl.col("ordered_at") < cutoff)).select(
        "customer_id",
        "ordered_at",
        (pl.col("gross_amount") - pl.col("discount_amount") - pl.col("refunded_amount").fill_null(0))
        .alias("net_amount"),
        pl.col("channel").replace_strict(channel_codes(channels), default=None, return_dtype=pl.String)
        .alias("channel_code"),
    )
    totals = done.group_by("customer_id").agg(
        pl.len().alias("completed_orders"),
        pl.col("net_amount").sum().alias("net_revenue"),
        pl.col("ordered_at").min().alias("first_order_at"),
        pl.col("ordered_at").max().alias("last_order_at"),
    )
    preferred = (done.drop_nulls("channel_code")
                 .group_by("customer_id", "channel_code").agg(pl.len().alias("order_count"))
                 .group_by("customer_id")
                 .agg(pl.col("channel_code").sort_by(["order_count", "channel_code"], descending=[True, False])
                      .first().alias("preferred_channel")))
    result = (customers.join(totals, on="customer_id", how="left")
              .join(preferred, on="customer_id", how="left")
              .with_columns(pl.col("completed_orders").fill_null(0).cast(pl.Int64),
                            pl.col("net_revenue").fill_null(0).cast(pl.Int64),
                            (pl.lit(as_of) - pl.col("last_order_at").dt.date()).dt.total_days().cast(pl.Int64)
                            .alias("recency_days"))
              .sort("customer_id")
              .collect())

    buyers = result.filter(pl.col("completed_orders") > 0)
    for score, key, descending in (("r_score", "recency_days", True), ("f_score", "completed_orders", False),
                                   ("m_score", "net_revenue", False)):
        ordered = buyers.select("customer_id", key).sort([key, "customer_id"], descending=[descending, False])
        scored = ordered.select("customer_id", pl.Series(score, ntile_positions(ordered.height), dtype=pl.Int64))
        result = result.join(scored, on="customer_id", how="left", maintain_order="left")

    recency = pl.col("recency_days")
    result = result.with_columns(
        pl.when(pl.col("completed_orders") == 0).then(pl.lit("potential"))
        .when(recency > LOST_AFTER_DAYS).then(pl.lit("lost"))
        .when((pl.col("completed_orders") >= LOYAL_MIN_ORDERS) & (recency <= LOYAL_WITHIN_DAYS)).then(pl.lit("loyal"))
        .otherwise(pl.lit("casual")).alias("lifecycle"),
    ).select(OUTPUT_COLUMNS)

    pq.write_table(result.to_arrow().cast(OUTPUT_SCHEMA), out)
    return result.height


# --- DuckDB -------------------------------------------------------------------------------------------------------

def _sql_list(files: Sequence[str]) -> str:
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


def duckdb_sql(raw: Path, as_of: date, out: Path) -> str:
    """The one statement of the DuckDB peer (peer_status_code and peer_channel_code are Python scalar functions,
    called once per distinct spelling)."""
    customers, orders = _sql_list(table_files(raw, "customers")), _sql_list(table_files(raw, "orders"))
    target = str(out).replace("'", "''")
    return f"""
copy (
    with

    customers as (
        select distinct customer_id
        from read_parquet({customers})
        where customer_id is not null
    ),

    -- of the rows of an order id, the last one in file order (files by name, then rows)
    orders as (
        select customer_id, ordered_at, status, channel, gross_amount, discount_amount, refunded_amount
        from read_parquet({orders}, filename = true, file_row_number = true)
        where order_id is not null and customer_id is not null
        qualify row_number() over (partition by order_id order by filename desc, file_row_number desc) = 1
    ),

    -- materialized: the Python functions run once per distinct spelling (not pushed below the distinct)
    status_codes as materialized (
        select status, coalesce(peer_status_code(status) = 'completed', false) as is_completed
        from (select distinct status from read_parquet({orders}))
    ),

    channel_codes as materialized (
        select channel, peer_channel_code(channel) as channel_code
        from (select distinct channel from read_parquet({orders}) where channel is not null)
    ),

    completed as (
        select
            orders.customer_id,
            orders.ordered_at,
            orders.gross_amount - orders.discount_amount - coalesce(orders.refunded_amount, 0) as net_amount,
            channel_codes.channel_code
        from orders
        semi join customers on orders.customer_id = customers.customer_id
        join status_codes on orders.status is not distinct from status_codes.status and status_codes.is_completed
        left join channel_codes on orders.channel = channel_codes.channel
        where orders.ordered_at < date '{as_of.isoformat()}' + interval 1 day
    ),

    totals as (
        select
            customer_id,
            count(*) as completed_orders,
            sum(net_amount) as net_revenue,
            min(ordered_at) as first_order_at,
            max(ordered_at) as last_order_at
        from completed
        group by customer_id
    ),

    preferred as (
        select customer_id, first(channel_code order by order_count desc, channel_code) as preferred_channel
        from (
            select customer_id, channel_code, count(*) as order_count
            from completed
            where channel_code is not null
            group by customer_id, channel_code
        )
        group by customer_id
    ),

    profiles as (
        select
            customers.customer_id,
            cast(coalesce(totals.completed_orders, 0) as bigint) as completed_orders,
            cast(coalesce(totals.net_revenue, 0) as bigint) as net_revenue,
            cast(totals.first_order_at as timestamp) as first_order_at,
            cast(totals.last_order_at as timestamp) as last_order_at,
            date_diff('day', cast(totals.last_order_at as date), date '{as_of.isoformat()}') as recency_days,
            preferred.preferred_channel
        from customers
        left join totals on customers.customer_id = totals.customer_id
        left join preferred on customers.customer_id = preferred.customer_id
    ),

    scores as (
        select
            customer_id,
            ntile({SCORE_BUCKETS}) over (order by recency_days desc, customer_id) as r_score,
            ntile({SCORE_BUCKETS}) over (order by completed_orders, customer_id) as f_score,
            ntile({SCORE_BUCKETS}) over (order by net_revenue, customer_id) as m_score
        from profiles
        where completed_orders > 0
    )

    select
        profiles.customer_id,
        profiles.completed_orders,
        profiles.net_revenue,
        profiles.first_order_at,
        profiles.last_order_at,
        cast(profiles.recency_days as bigint) as recency_days,
        cast(scores.r_score as bigint) as r_score,
        cast(scores.f_score as bigint) as f_score,
        cast(scores.m_score as bigint) as m_score,
        profiles.preferred_channel,
        case
            when profiles.completed_orders = 0 then 'potential'
            when profiles.recency_days > {LOST_AFTER_DAYS} then 'lost'
            when profiles.completed_orders >= {LOYAL_MIN_ORDERS} and profiles.recency_days <= {LOYAL_WITHIN_DAYS}
                then 'loyal'
            else 'casual'
        end as lifecycle
    from profiles
    left join scores on profiles.customer_id = scores.customer_id
    order by profiles.customer_id
) to '{target}' (format parquet)
"""


def run_duckdb(raw: Path, as_of: date, out: Path, threads: int | None = None) -> int:
    import duckdb

    with duckdb.connect() as connection:
        if threads:
            connection.execute(f"set threads = {int(threads)}")
        for name, function in (("peer_status_code", status_code), ("peer_channel_code", channel_code)):
            connection.create_function(name, function, ["VARCHAR"], "VARCHAR", null_handling="special")
        connection.execute(duckdb_sql(raw, as_of, out))
    return pq.ParquetFile(out).metadata.num_rows


RUNNERS: dict[str, Callable[[Path, date, Path, int | None], int]] = {
    "pandas": run_pandas,
    "polars": run_polars,
    "duckdb": run_duckdb,
}


def compute(engine: str, raw: Path, as_of: date, out: Path, threads: int | None = None) -> int:
    """Write the core columns of every customer to `out` with `engine`; the rows written."""
    status_mapping(), channel_mapping()  # read (and checked) before any data
    return RUNNERS[engine](Path(raw), as_of, Path(out), threads)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=ENGINES, required=True)
    parser.add_argument("--raw", type=Path, required=True, help="folder of typed customers and orders Parquet")
    parser.add_argument("--as-of", type=date.fromisoformat, required=True, help="last day counted, YYYY-MM-DD")
    parser.add_argument("--out", type=Path, required=True, help="the Parquet file written")
    parser.add_argument("--threads", type=int, default=None, help="worker threads (DuckDB, polars, Arrow reads)")
    args: Any = parser.parse_args(argv)
    start = time.perf_counter()
    rows = compute(args.engine, args.raw, args.as_of, args.out, args.threads)
    seconds = time.perf_counter() - start
    print(f"engine={args.engine} rows={rows} seconds={seconds:.3f} out={args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
