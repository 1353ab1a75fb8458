"""The generator's bad rows (tools/generate_data.py): per table, the kinds of broken row and how many of each are
injected, with fresh ids after the last clean one so that each bad row shows one problem."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tools.generate_arrays import Rng, _choice_str, _ids, _int_str, _round_k, _template, _ts_str, _unknown_ids
from tools.generate_reference import BEFORE_2000_TS, FUTURE_TS, UNREADABLE_AMOUNTS, UNREADABLE_PRICES, UNREADABLE_TS
from tools.generate_tables import Config, CustomerState

# --------------------------------------------------------------------------------------------
# Bad rows
# --------------------------------------------------------------------------------------------

MAX_BAD_SHARE_FLOOR = 0.04
BadMaker = Callable[[Rng, pa.Table], pa.Table]


def _event_makers(fresh: _FreshIds, cust_width: int) -> list[BadMaker]:
    def unknown_customer(rng: Rng, src: pa.Table) -> pa.Table:
        src = _set(src, "event_id", fresh.take(src.num_rows))
        return _set(src, "customer_id", _unknown_ids(rng, "C", cust_width, src.num_rows))

    def unreadable(rng: Rng, src: pa.Table) -> pa.Table:
        src = _set(src, "event_id", fresh.take(src.num_rows))
        return _set(src, "event_at", _choice_str(rng, UNREADABLE_TS, src.num_rows))

    def missing_type(rng: Rng, src: pa.Table) -> pa.Table:
        src = _set(src, "event_id", fresh.take(src.num_rows))
        return _set(src, "event_type", pa.nulls(src.num_rows, pa.string()))

    return [unknown_customer, unreadable, missing_type, _dup]


def _bad_counts(n: int, kinds: int, share: float) -> list[int]:
    if share <= 0 or n == 0 or kinds == 0:
        return [0] * kinds
    total = round(share * n)
    counts = [max(1, total // kinds + (1 if i < total % kinds else 0)) for i in range(kinds)]
    budget = max(total, int(MAX_BAD_SHARE_FLOOR * n))
    out: list[int] = []
    for c in counts:
        out.append(min(c, budget))
        budget -= out[-1]
    return out


def _set(table: pa.Table, column: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    return table.set_column(table.schema.get_field_index(column), column, values)


class _FreshIds:
    """Hands out ids after the last clean id (for bad rows that must not clash)."""

    def __init__(self, prefix: str, first: int, width: int) -> None:
        self.prefix, self.next, self.width = prefix, first, width

    def take(self, k: int) -> pa.Array:
        out = _ids(self.prefix, np.arange(self.next, self.next + k), self.width)
        self.next += k
        return out


def _inject(
    rng: Rng, pending: list[pa.Table], makers: Sequence[BadMaker], share: float
) -> pa.Table:
    """Append bad rows built from sampled clean rows and scatter them at random positions.

    The clean table is popped from the one-item list ``pending`` so that this function holds
    the only reference to it: its columns are freed one by one while the output is assembled
    (memory: one table plus one column rather than two tables)."""
    table = pending.pop()
    n = table.num_rows
    parts: list[pa.Table] = []
    for maker, k in zip(makers, _bad_counts(n, len(makers), share)):
        if k:
            src = rng.choice(n, size=k, replace=False) if k <= n else rng.integers(0, n, k)
            bad_part = maker(rng, table.take(pa.array(src)))
            parts.append(bad_part.cast(table.schema))
    if not parts:
        return table
    bad = pa.concat_tables(parts)
    b = bad.num_rows
    total = n + b
    positions = np.sort(rng.choice(total, size=b, replace=False))
    is_bad = np.zeros(total, dtype=bool)
    is_bad[positions] = True
    index = np.empty(total, dtype=np.int64)
    index[~is_bad] = np.arange(n)
    index[positions] = n + rng.permutation(b)
    del is_bad, positions
    take = pa.array(index)
    del index
    schema, clean = table.schema, list(table.columns)
    del table
    out: list[pa.ChunkedArray] = []
    for i, extra in enumerate(bad.columns):
        column = pa.chunked_array(clean[i].chunks + extra.chunks, type=extra.type)
        clean[i] = None
        out.append(column.take(take))
        del column
    return pa.Table.from_arrays(out, schema=schema)


def _dup(rng: Rng, src: pa.Table) -> pa.Table:
    return src


def _customer_makers(fresh: _FreshIds) -> list[BadMaker]:
    def empty_id(rng: Rng, src: pa.Table) -> pa.Table:
        return _set(src, "customer_id", pa.nulls(src.num_rows, pa.string()))

    def conflicting(rng: Rng, src: pa.Table) -> pa.Table:
        k = src.num_rows
        return _set(src, "email", _template("khachhang######@gmail.com", rng.integers(0, 10**6, k)))

    def signup(values: list[str]) -> BadMaker:
        def make(rng: Rng, src: pa.Table) -> pa.Table:
            src = _set(src, "customer_id", fresh.take(src.num_rows))
            return _set(src, "signup_at", _choice_str(rng, values, src.num_rows))

        return make

    return [empty_id, _dup, conflicting, signup(UNREADABLE_TS), signup(BEFORE_2000_TS),
            signup(FUTURE_TS)]


def _order_makers(fresh: _FreshIds, cust_width: int) -> list[BadMaker]:
    def with_fresh(column: str, values: Callable[[Rng, pa.Table], pa.Array]) -> BadMaker:
        def make(rng: Rng, src: pa.Table) -> pa.Table:
            src = _set(src, "order_id", fresh.take(src.num_rows))
            return _set(src, column, values(rng, src))

        return make

    def empty_id(rng: Rng, src: pa.Table) -> pa.Table:
        return _set(src, "order_id", pa.nulls(src.num_rows, pa.string()))

    def gross_int(src: pa.Table) -> np.ndarray:
        return pc.cast(src["gross_amount"], pa.int64()).to_numpy()

    def conflicting(rng: Rng, src: pa.Table) -> pa.Table:
        changed = _round_k(gross_int(src) * rng.uniform(1.1, 2.0, src.num_rows)) + 1000
        return _set(src, "gross_amount", _int_str(changed))

    return [
        empty_id,
        with_fresh("customer_id", lambda r, s: _unknown_ids(r, "C", cust_width, s.num_rows)),
        with_fresh("gross_amount", lambda r, s: _int_str(-gross_int(s))),
        with_fresh("gross_amount", lambda r, s: _choice_str(r, UNREADABLE_AMOUNTS, s.num_rows)),
        with_fresh("ordered_at", lambda r, s: _choice_str(r, UNREADABLE_TS, s.num_rows)),
        with_fresh("ordered_at", lambda r, s: _choice_str(r, BEFORE_2000_TS, s.num_rows)),
        with_fresh("ordered_at", lambda r, s: _choice_str(r, FUTURE_TS, s.num_rows)),
        _dup,
        conflicting,
        with_fresh(
            "discount_amount",
            lambda r, s: _int_str(gross_int(s) + 1000 * r.integers(1, 500, s.num_rows)),
        ),
    ]


def _item_makers(order_width: int) -> list[BadMaker]:
    def shifted_line(src: pa.Table, by: int) -> pa.Table:
        line = pc.cast(src["line_number"], pa.int64()).to_numpy() + by
        return _set(src, "line_number", _int_str(line))

    def unknown_order(rng: Rng, src: pa.Table) -> pa.Table:
        k = src.num_rows
        numeric = _ids("O", 10**order_width - 1 - np.arange(k), order_width)
        literal = pa.scalar("O" + "9" * order_width + "x", pa.string())
        ids = pc.if_else(pa.array(np.arange(k) % 2 == 1), literal, numeric)
        return _set(src, "order_id", ids)

    def negative_qty(rng: Rng, src: pa.Table) -> pa.Table:
        qty = pc.cast(src["quantity"], pa.int64()).to_numpy()
        return _set(shifted_line(src, 10), "quantity", _int_str(-qty))

    def bad_price(rng: Rng, src: pa.Table) -> pa.Table:
        return _set(shifted_line(src, 20), "unit_price",
                    _choice_str(rng, UNREADABLE_PRICES, src.num_rows))

    return [unknown_order, negative_qty, bad_price, _dup]


def _ticket_makers(fresh: _FreshIds, cust_width: int) -> list[BadMaker]:
    def unknown_customer(rng: Rng, src: pa.Table) -> pa.Table:
        src = _set(src, "ticket_id", fresh.take(src.num_rows))
        return _set(src, "customer_id", _unknown_ids(rng, "C", cust_width, src.num_rows))

    def unreadable(rng: Rng, src: pa.Table) -> pa.Table:
        src = _set(src, "ticket_id", fresh.take(src.num_rows))
        return _set(src, "opened_at", _choice_str(rng, UNREADABLE_TS, src.num_rows))

    return [unknown_customer, unreadable, _dup]


def _referral_makers(
    cfg: Config, cust: CustomerState, referred: np.ndarray
) -> list[BadMaker]:
    not_referred = np.setdiff1d(np.arange(cfg.customers), referred)

    def pick(rng: Rng, k: int) -> np.ndarray:
        return not_referred[rng.integers(0, max(len(not_referred), 1), k)]

    def unknown_referrer(rng: Rng, src: pa.Table) -> pa.Table:
        k = src.num_rows
        who = pick(rng, k)
        src = _set(src, "referred_customer_id", _ids("C", cust.offset + who + 1, cust.width))
        src = _set(src, "referred_at", _ts_str(cust.signup_ts[who] + rng.integers(0, 3600, k)))
        return _set(src, "referrer_customer_id", _unknown_ids(rng, "C", cust.width, k))

    def self_referral(rng: Rng, src: pa.Table) -> pa.Table:
        k = src.num_rows
        who = pick(rng, k)
        ids = _ids("C", cust.offset + who + 1, cust.width)
        src = _set(src, "referred_customer_id", ids)
        src = _set(src, "referred_at", _ts_str(cust.signup_ts[who] + rng.integers(0, 3600, k)))
        return _set(src, "referrer_customer_id", ids)

    return [unknown_referrer, self_referral, _dup]
