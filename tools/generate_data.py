"""Generate deterministic raw retail data for the Vietnamese customer-segmentation project.

Usage::

    python -m tools.generate_data --customers 1000 --out data/raw [--format csv|parquet]
        [--typed] [--seed 42] [--start-date 2022-01-01] [--end-date 2026-06-30]
        [--bad-row-share 0.01] [--chunk-customers 1000000] [--multi-id-share 0.05]

Six tables are written into ``--out``: ``customers``, ``orders``, ``order_items``,
``support_tickets``, ``referrals`` and ``events`` (``<table>.csv`` or ``<table>.parquet``). Every column is
a string (nulls are written as empty CSV fields), because some rows hold deliberately unreadable
values: a messy export, 1% bad rows by default.

**Typed mode** (``--typed``, Parquet only): the tables as a loader (dlt, Airbyte, Fivetran) writes
them. The columns whose kind in the input contract (models/staging/shop/raw/_shop__raw.yml) is
``timestamp`` are TIMESTAMP without time zone (local time: an ISO ``+07:00`` value keeps its
clock time), ``date`` DATE, ``amount`` and ``integer`` INT64; ids, codes and text stay strings.
The same rows as text mode with the same seed, converted after the bad rows are planted: a
value that does not parse (the planted unreadable ones) is NULL, as a loader coerces it, so
those rows are rejected as missing values instead. Default bad-row share 0.1% (a loader's
output is cleaner than a hand export); ``--bad-row-share`` sets it.

The generator is fully vectorised (numpy + pyarrow) and deterministic: the same
arguments give byte-identical files (for a given numpy/pyarrow version).

Chunks (``--chunk-customers M``, default 1,000,000; memory grows with the customers generated at
once: about 4 GB peak RSS for 1M customers, 10M orders, 25M order lines). Up to M customers, the
tables are single files as above. More customers (N) are generated in ceil(N / M) chunks of
equal size (within one customer), one after the other, so memory is bounded by one chunk; each
table is then a folder of one file per chunk, ``<table>/part-00000.<format>``,
``part-00001`` ... (CSV parts each have a header), which the project's raw reader reads
together. Each chunk is an independent sample of the same population (same date range and
shares, its own random streams derived from the seed and the chunk index); its orders, order
lines, tickets and referrals refer to its own customers only. Ids are unique over all chunks
and have one width, computed from the totals: clean customer and ticket ids run on from chunk
to chunk (customers C1..CN), the fresh ids of bad customer and ticket rows come after the last
clean id of all chunks; a chunk's order ids (its clean orders, then room for the fresh ids of
its bad rows) follow the previous chunk's. Ids follow signup order (customers) and time
(orders, tickets) within a chunk only; the unknown ids of bad rows are no chunk's real ids.
The same N, M and other arguments give byte-identical files, but another M gives other data
(other samples, not just other file boundaries); with N <= M the files are those of a run
without chunks. A run first removes the files of an earlier run that the raw reader would mix
with its own: ``<table>/part-N`` files and, before a chunked run, ``<table>.<format>``.
Chunks are statistically alike, but each gets at least one row of the first bad-row kinds, so
tiny chunks (a few thousand customers) have a visibly larger share of bad rows in the small
tables (referrals, support_tickets).

Approximate shares of the clean data (the SQL models map exactly these spellings):

* customers: ids follow signup order (within a chunk; signups from start-date - 2 years to
  end-date, growing over time). ~15% never order; the others place 1 + negative-binomial orders
  (one-timers ~17% of buyers, ~3% with 50+), scaled so that orders ~= 10 x customers; a lognormal customer value
  makes the top 20% of customers hold ~75-80% of net revenue. ~25% of buyers who started more
  than 13 months before end-date are "lost" (orders stop 12+ months before end-date); buyers
  who signed up in the last 90 days are "new". email ~10% empty, ~3% upper-case with spaces;
  phone ~8% empty, five formats; gender ~10% empty; birth_date ~20% empty; signup_at ~3% ISO
  ``+07:00``; province ~53% canonical, ~15% without diacritics, ~10% prefixed, ~5% lower-case,
  ~5% NFD, ~10% aliases (canonical where none exist), ~3% empty, ~0.5% unknown;
  customer_type individual ~93% / business ~5% / empty 2%; tags ~50% empty; channels
  store 30%, shopee 18%, website 10%, facebook 10%, app 8%, zalo 8%, tiktok_shop 8%,
  lazada 7%, phone 1% (~2% empty); each buyer uses a preferred channel for ~70% of orders.
* orders: status completed ~81%, empty ~4% (= completed), variants ~2%, cancelled ~7%,
  returned ~5%, pending ~1% (only orders of the last 14 days can be pending, so the 2% aimed
  at is not reached); ~34% discounted (price hunters >60%), a promo code on ~95% of those;
  ordered_at/updated_at ~2% ISO ``+07:00``; ship_province ~10% differs from the customer's,
  ~5% empty; median gross ~350,000 VND, ~0.1% business bulk orders of 20-200M. Tet (3 weeks
  before: +50%), weekends (+30%), 11/11 (x4) and 12/12 (x3) have more volume.
* order_items: 1-5 lines per order (mean 2.5), line prices add up to about the order gross;
  support_tickets: ~0.15 per customer, ~15% unresolved; referrals: ~3% of customers, referred
  by a customer who signed up earlier.
* events (web/app visits, product views, add-to-cart, chat messages, forms, app installs; about
  4 per customer): every customer a light background of browsing between signup and end-date
  (Poisson mean 1.5, uniform; 30% of those who never order get none, so with the Poisson zeros
  ~45% of them have no event), and every customer who orders a burst before the first order
  (Poisson mean 4, exponential ahead of it with mean 20 days, cut at 60; the events before signup
  or start-date dropped; mostly product views, add-to-cart and chats): the signal the lead score
  finds (README "Lead score"; in the sample, buyers have ~2.5 events in the 30 days before their
  first order, those who never order ~0.03 in 30 days). ~3% anonymous (empty customer_id, not bad
  rows), ~0.5% a type in no list (``wishlist_add``, ``share``); product and category on product
  views and add-to-cart only. Their own random stream: the other five tables are the same as
  before events existed.

Deliberately bad rows (``--bad-row-share``, default 1% of each table) are extra rows (copies of
random clean rows, then spoiled) inserted at pseudo-random positions and spread evenly over the
kinds in ``BAD_ROW_KINDS``. Duplicate kinds reuse an existing key; the other kinds get fresh
ids after the last clean one, so each bad row shows one problem. Every kind gets at least one
row when the share is > 0, but a table never gets more than max(share, 4%) bad rows, so tiny
tables may lack some kinds. A share of 0 writes none.

CSV files quote every value and leave nulls as empty unquoted fields (pyarrow's writer).

The rooms: this module writes the files (chunks, formats, typed columns) and holds the command line;
tools/generate_tables.py makes customers and orders, tools/generate_activity.py order lines, tickets, referrals and
events, tools/generate_bad_rows.py the bad rows, tools/generate_reference.py the reference lists and
tools/generate_arrays.py the vectorised helpers.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tools.generate_activity import _events, _order_items, _referrals, _support_tickets, _ticket_count
from tools.generate_arrays import TEXT_BAD_ROW_SHARE, TYPED_BAD_ROW_SHARE, Rng, _id_width
from tools.generate_bad_rows import (
    BadMaker,
    _bad_counts,
    _customer_makers,
    _event_makers,
    _FreshIds,
    _inject,
    _item_makers,
    _order_makers,
    _referral_makers,
    _ticket_makers,
)
from tools.generate_people import plant_people
from tools.generate_reference import (
    BEFORE_2000_TS,
    CATEGORIES,
    CHANNELS,
    EVENT_TYPES,
    FUTURE_TS,
    PAYMENT_METHODS,
    TAGS,
    UNREADABLE_AMOUNTS,
    UNREADABLE_PRICES,
    UNREADABLE_TS,
)
from tools.generate_tables import Config, _customers, _orders

# the generator's names, wherever they are defined (tests/python/test_generate_data.py uses generate_data.<name>)
__all__ = [
    "BAD_ROW_KINDS",
    "BEFORE_2000_TS",
    "CATEGORIES",
    "CHANNELS",
    "DEFAULT_END",
    "EVENT_TYPES",
    "FUTURE_TS",
    "PAYMENT_METHODS",
    "TABLE_COLUMNS",
    "TAGS",
    "TYPED_BAD_ROW_SHARE",
    "TYPED_KINDS",
    "UNREADABLE_AMOUNTS",
    "UNREADABLE_PRICES",
    "UNREADABLE_TS",
    "_chunk_sizes",
    "_typed_column",
    "generate",
    "main",
]

TABLE_COLUMNS: dict[str, list[str]] = {
    "customers": [
        "customer_id", "full_name", "email", "phone", "gender", "birth_date", "signup_at",
        "province", "customer_type", "company_name", "tags", "acquisition_channel",
        "marketing_consent",
    ],
    "orders": [
        "order_id", "customer_id", "ordered_at", "status", "channel", "ship_province",
        "gross_amount", "discount_amount", "refunded_amount", "promo_code", "payment_method",
        "device_type", "updated_at",
    ],
    "order_items": ["order_id", "line_number", "product_id", "category", "quantity", "unit_price"],
    "support_tickets": [
        "ticket_id", "customer_id", "opened_at", "ticket_type", "resolved_at", "csat_score",
    ],
    "referrals": ["referrer_customer_id", "referred_customer_id", "referred_at"],
    "events": ["event_id", "customer_id", "event_at", "event_type", "channel", "product_id", "category"],
}

BAD_ROW_KINDS: dict[str, list[str]] = {
    "customers": [
        "empty_id", "exact_duplicate", "conflicting_duplicate_id", "unreadable_signup_at",
        "signup_before_2000", "signup_in_future",
    ],
    "orders": [
        "empty_id", "unknown_customer", "negative_gross", "unreadable_gross",
        "unreadable_ordered_at", "ordered_before_2000", "ordered_in_2099", "exact_duplicate",
        "conflicting_duplicate_id", "discount_above_gross",
    ],
    "order_items": ["unknown_order", "negative_quantity", "unreadable_unit_price", "exact_duplicate"],
    "support_tickets": ["unknown_customer", "unreadable_opened_at", "exact_duplicate"],
    "referrals": ["unknown_referrer", "self_referral", "exact_duplicate"],
    "events": ["unknown_customer", "unreadable_event_at", "missing_event_type", "exact_duplicate"],
}

DEFAULT_START = date(2022, 1, 1)
DEFAULT_END = date(2026, 6, 30)
DEFAULT_CHUNK_CUSTOMERS = 1_000_000
CHUNK_SEED_KEY = 1_000  # chunk k draws from SeedSequence(seed, spawn_key=(CHUNK_SEED_KEY, k))
PART_RE = re.compile(r"part-\d{5,}\.(csv|parquet)")  # the names this generator writes

# --------------------------------------------------------------------------------------------
# Writing and entry points
# --------------------------------------------------------------------------------------------


def _write(table: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "csv":
        pacsv.write_csv(table, path)
    else:  # no min/max statistics: they are slow to compute on strings and useless on raw data
        pq.write_table(table, path, compression="snappy", write_statistics=False)


def _as_strings(name: str, table: pa.Table) -> pa.Table:
    schema = pa.schema([(col, pa.string()) for col in TABLE_COLUMNS[name]])
    return table.select(TABLE_COLUMNS[name]).cast(schema)


TYPED_KINDS = ("timestamp", "date", "amount", "integer")
INTEGER_TEXT = r"^-?\d{1,18}$"


def _typed_column(kind: str, values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A text column as a loader types it; values that do not parse become NULL (vectorised, no row loop).

    pyarrow's strptime checks each field's range but not the calendar: an impossible day such as 2024-02-30 rolls
    over to 2024-03-01 instead of failing, so the unreadable values planted in bad rows are unreadable by their
    shape ('31/02/2024', hour 25, words), never by the calendar alone (pinned by the tests)."""
    if kind == "timestamp":  # 'YYYY-MM-DD HH:MM:SS' or ISO 'YYYY-MM-DDTHH:MM:SS+07:00': the local clock time
        clock = pc.replace_substring(pc.utf8_slice_codeunits(values, 0, 19), "T", " ")
        return pc.strptime(clock, format="%Y-%m-%d %H:%M:%S", unit="s", error_is_null=True)
    if kind == "date":
        day = pc.strptime(pc.utf8_slice_codeunits(values, 0, 10), format="%Y-%m-%d", unit="s", error_is_null=True)
        return day.cast(pa.date32())
    readable = pc.match_substring_regex(values, INTEGER_TEXT)
    return pc.if_else(readable, values, pa.scalar(None, pa.string())).cast(pa.int64())


def _as_typed(name: str, table: pa.Table) -> pa.Table:
    """The typed mode's table: the contract's timestamp, date, amount and integer columns typed."""
    from segmentation.raw_contract import contract

    kinds = {column.name: column.kind for column in contract()[name].columns}
    for column in table.column_names:
        if kinds.get(column) in TYPED_KINDS:
            table = table.set_column(table.schema.get_field_index(column), column,
                                     _typed_column(kinds[column], table.column(column)))
    return table


def _chunk_sizes(customers: int, chunk_customers: int) -> list[int]:
    """ceil(customers / chunk_customers) chunk sizes that differ by at most one customer."""
    chunks = -(-customers // chunk_customers)
    return [customers // chunks + (1 if i < customers % chunks else 0) for i in range(chunks)]


def _streams(seed: int, chunk: int | None) -> list[Rng]:
    """The twelve random streams of a run (``chunk`` None) or of one chunk of a chunked run: 0-4 generate
    customers, orders, order_items, support_tickets and referrals, 5-10 plant the bad rows of the six tables, 11
    generates events. Spawned children depend on their index only, so the first ten are those of the five-table
    generator before events were added: the other tables' files are unchanged."""
    if chunk is None:
        root = np.random.SeedSequence(seed)
    else:  # a branch of spawn keys that the single-file run (keys 0-11) never uses
        root = np.random.SeedSequence(seed, spawn_key=(CHUNK_SEED_KEY, chunk))
    return [np.random.default_rng(s) for s in root.spawn(12)]


def _remove_stale_outputs(out_dir: Path, fmt: str, chunked: bool) -> None:
    """Remove the files of an earlier run that the raw reader would mix with this run's: the
    ``<table>/part-N`` files of a chunked run (both formats) and, before a chunked run, the
    ``<table>.<fmt>`` files of a single-file run."""
    for name in TABLE_COLUMNS:
        folder = out_dir / name
        if folder.is_dir():
            for part in folder.iterdir():
                if PART_RE.fullmatch(part.name) and part.is_file():
                    part.unlink()
            if not chunked and not any(folder.iterdir()):
                folder.rmdir()
        if chunked:
            (out_dir / f"{name}.{fmt}").unlink(missing_ok=True)


@dataclass
class _Run:
    """Ids shared by the chunks of one run: widths from the totals, where the next chunk's ids
    start, and the fresh (bad-row) customer and ticket ids, handed out after all clean ones."""

    customer_width: int
    order_width: int | None  # None: from the order count (single-file run)
    ticket_width: int
    fresh_customers: _FreshIds
    fresh_tickets: _FreshIds
    event_width: int = 9
    customer_offset: int = 0
    order_offset: int = 0
    ticket_offset: int = 0
    event_offset: int = 0


def _generate_chunk(
    pool: ThreadPoolExecutor, cfg: Config, streams: list[Rng], run: _Run,
    path: Callable[[str], Path], fmt: str, verbose: bool, typed: bool = False, multi_id_share: float = 0.0,
) -> dict[str, Future[int]]:
    """Generate the six tables of one chunk (or of a whole single-file run); bad-row injection
    and writing are submitted to ``pool``. Advances the offsets in ``run``."""
    jobs: dict[str, Future[int]] = {}

    # Bad-row injection and file writing run in one background thread (pyarrow releases the
    # GIL) while the next table is generated; every table has its own random streams, so the
    # output does not depend on the timing.
    def emit(name: str, table: pa.Table, makers: list[BadMaker], started: float) -> None:
        bad_rng = streams[5 + list(TABLE_COLUMNS).index(name)]
        target = path(name)
        pending = [table]  # the job takes it out, so the clean table is freed before writing
        del table

        def job() -> int:
            pending.append(_as_strings(name, pending.pop()))
            final = _inject(bad_rng, pending, makers, cfg.bad_row_share)
            if typed:
                final = _as_typed(name, final)
            _write(final, target, fmt)
            if verbose:
                print(f"{name}: {final.num_rows:,} rows written to {target} in "
                      f"{time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
            return final.num_rows

        jobs[name] = pool.submit(job)

    t0 = time.perf_counter()
    cust_table, cust = _customers(streams[0], cfg, run.customer_width, run.customer_offset)
    if multi_id_share:
        cust_table = plant_people(cust_table, cfg.seed + run.customer_offset, multi_id_share)
    run.customer_offset += cfg.customers
    emit("customers", cust_table, _customer_makers(run.fresh_customers), t0)
    del cust_table

    t0 = time.perf_counter()
    order_table, orders = _orders(streams[1], cfg, cust, run.order_width, run.order_offset)
    n_orders = len(orders.ts)
    makers = _order_makers(_FreshIds("O", run.order_offset + n_orders + 1, orders.width),
                           cust.width)
    # the chunk's order ids: its clean orders, then room for its bad rows' fresh ids
    run.order_offset += n_orders + sum(_bad_counts(n_orders, len(makers), cfg.bad_row_share))
    if run.order_width is not None and run.order_offset >= 9 * 10 ** (run.order_width - 1):
        # the top of the id range is kept for the unknown-order ids; far beyond the ~10
        # orders per customer that the width is computed for, so it should never happen
        raise RuntimeError(f"order ids overflow {run.order_width} digits")
    emit("orders", order_table, makers, t0)
    del order_table

    t0 = time.perf_counter()
    emit("order_items", _order_items(streams[2], orders), _item_makers(orders.width), t0)

    t0 = time.perf_counter()
    tickets = _support_tickets(streams[3], cfg, cust, orders, run.ticket_width, run.ticket_offset)
    run.ticket_offset += tickets.num_rows
    emit("support_tickets", tickets, _ticket_makers(run.fresh_tickets, cust.width), t0)

    t0 = time.perf_counter()
    refs, referred = _referrals(streams[4], cfg, cust)
    emit("referrals", refs, _referral_makers(cfg, cust, referred), t0)

    t0 = time.perf_counter()
    events = _events(streams[11], cfg, cust, orders, run.event_width, run.event_offset)
    n_events = events.num_rows
    makers = _event_makers(_FreshIds("E", run.event_offset + n_events + 1, run.event_width), cust.width)
    # the chunk's event ids: its clean events, then room for its bad rows' fresh ids
    run.event_offset += n_events + sum(_bad_counts(n_events, len(makers), cfg.bad_row_share))
    emit("events", events, makers, t0)
    return jobs


def generate(
    out_dir: Path,
    customers: int,
    fmt: str = "csv",
    seed: int = 42,
    start_date: date = DEFAULT_START,
    end_date: date = DEFAULT_END,
    bad_row_share: float | None = None,
    chunk_customers: int = DEFAULT_CHUNK_CUSTOMERS,
    typed: bool = False,
    multi_id_share: float = 0.0,
) -> dict[str, int]:
    """Write the six raw tables into ``out_dir``; return the rows written per table.

    ``multi_id_share``: about this share of the customers are extra ids of another customer, linked by phone or
    email, and a few groups of ids share a shop phone (tools/generate_people.py; 0: none, the default).

    Up to ``chunk_customers`` customers: one file per table; more: ``<table>/part-NNNNN``
    files, one per chunk (see the module docstring)."""
    if customers < 1:
        raise ValueError("customers must be >= 1")
    if chunk_customers < 1:
        raise ValueError("chunk_customers must be >= 1")
    if fmt not in ("csv", "parquet"):
        raise ValueError("fmt must be 'csv' or 'parquet'")
    if typed and fmt != "parquet":
        raise ValueError("typed mode writes Parquet only (CSV has no column types)")
    if bad_row_share is None:
        bad_row_share = TYPED_BAD_ROW_SHARE if typed else TEXT_BAD_ROW_SHARE
    if end_date < start_date:
        raise ValueError("end_date must not be before start_date")
    if not 0.0 <= bad_row_share <= 0.5:
        raise ValueError("bad_row_share must be between 0 and 0.5")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = _chunk_sizes(customers, chunk_customers)
    chunked = len(sizes) > 1
    _remove_stale_outputs(out_dir, fmt, chunked)
    if chunked:
        for name in TABLE_COLUMNS:
            (out_dir / name).mkdir(exist_ok=True)

    customer_width = _id_width(7, customers)
    tickets = sum(_ticket_count(n) for n in sizes)
    ticket_width = _id_width(7, tickets)
    run = _Run(
        customer_width=customer_width,
        order_width=_id_width(8, 10 * customers) if chunked else None,  # ~10 orders a customer
        ticket_width=ticket_width,
        fresh_customers=_FreshIds("C", customers + 1, customer_width),
        fresh_tickets=_FreshIds("T", tickets + 1, ticket_width),
        event_width=_id_width(8, 10 * customers),  # ~3.5 events a customer, room for bad rows
    )
    totals = dict.fromkeys(TABLE_COLUMNS, 0)
    with ThreadPoolExecutor(max_workers=1) as pool:
        for index, size in enumerate(sizes):
            started = time.perf_counter()
            cfg = Config(size, seed, start_date, end_date, bad_row_share)

            def path(name: str, index: int = index) -> Path:
                if chunked:
                    return out_dir / name / f"part-{index:05d}.{fmt}"
                return out_dir / f"{name}.{fmt}"

            jobs = _generate_chunk(pool, cfg, _streams(seed, index if chunked else None), run,
                                   path, fmt, verbose=not chunked, typed=typed, multi_id_share=multi_id_share)
            # one chunk at a time: its writes finish before the next chunk starts (memory)
            rows = {name: job.result() for name, job in jobs.items()}
            for name, count in rows.items():
                totals[name] += count
            if chunked:
                print(f"chunk {index + 1}/{len(sizes)}: {size:,} customers, "
                      f"{rows['orders']:,} orders, {sum(rows.values()):,} rows written in "
                      f"{time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return totals


def _parse_date(text: str) -> date:
    return date.fromisoformat(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start-date", type=_parse_date, default=DEFAULT_START)
    parser.add_argument("--end-date", type=_parse_date, default=DEFAULT_END)
    parser.add_argument("--typed", action="store_true",
                        help="Parquet with typed timestamp, date, amount and integer columns, as a loader "
                             "writes them (unparseable planted values become NULL); default bad-row share "
                             f"{TYPED_BAD_ROW_SHARE}")
    parser.add_argument("--bad-row-share", type=float, default=None,
                        help=f"share of planted bad rows per kind group (default {TEXT_BAD_ROW_SHARE}; "
                             f"{TYPED_BAD_ROW_SHARE} with --typed)")
    parser.add_argument(
        "--chunk-customers", type=int, default=DEFAULT_CHUNK_CUSTOMERS,
        help="more customers than this are generated in chunks of at most this many, one "
             "part file per chunk and table (default: %(default)s)",
    )
    parser.add_argument("--multi-id-share", type=float, default=0.0,
                        help="about this share of the customers are extra ids of another customer, linked by "
                             "phone or email (one person, several ids; docs/identity.md); default 0")
    args = parser.parse_args(argv)
    if args.typed and args.format != "parquet":
        parser.error("--typed writes Parquet: add --format parquet (CSV has no column types)")
    started = time.perf_counter()
    rows = generate(
        args.out, args.customers, args.format, args.seed, args.start_date, args.end_date,
        args.bad_row_share, args.chunk_customers, typed=args.typed, multi_id_share=args.multi_id_share,
    )
    print(f"done: {sum(rows.values()):,} rows in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
