"""The generator's other tables (tools/generate_data.py): order lines, support tickets, referrals and events."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tools.generate_arrays import (
    BLOCK,
    DAY,
    Rng,
    _bucket,
    _ids,
    _int_str,
    _pick_options,
    _round_k,
    _sample,
    _sample_by_group,
    _take,
    _ts_str,
    _with_nulls,
)
from tools.generate_reference import (
    CATEGORIES,
    CHANNELS,
    EV_CART,
    EV_VIEW,
    EVENT_ANONYMOUS_SHARE,
    EVENT_BACKGROUND_MEAN,
    EVENT_BACKGROUND_SHARES,
    EVENT_BURST_DAYS,
    EVENT_BURST_MEAN,
    EVENT_BURST_MEAN_DAYS,
    EVENT_BURST_SHARES,
    EVENT_CHANNEL_PROBS,
    EVENT_CHANNELS,
    EVENT_TYPES,
    N_PRODUCTS,
    TICKET_TYPES,
)
from tools.generate_tables import Config, CustomerState, OrderState

# --------------------------------------------------------------------------------------------
# order_items
# --------------------------------------------------------------------------------------------


def _order_items(rng: Rng, orders: OrderState) -> pa.Table:
    n_orders = len(orders.gross)
    lines = 1 + _sample(rng, [0.30, 0.25, 0.20, 0.15, 0.10], n_orders)
    order_idx = np.repeat(np.arange(n_orders), lines)
    m = len(order_idx)
    starts = np.cumsum(lines) - lines
    line_no = (np.arange(m) - np.repeat(starts, lines) + 1).astype(np.uint8)  # 1-5
    del starts

    share = rng.exponential(size=m)
    share /= np.bincount(order_idx, weights=share, minlength=n_orders)[order_idx]
    line_total = orders.gross[order_idx] * share
    del share
    qty = 1 + _sample(rng, [0.62, 0.20, 0.10, 0.05, 0.03], m)
    qty = np.minimum(qty, np.maximum(line_total // 20_000, 1)).astype(np.int64)
    unit = np.maximum(_round_k(line_total / qty), 1000)
    del line_total
    qty = qty.astype(np.uint8)  # 1-5 (small types from here on: memory)

    # product catalogue: prices per category; pick the product closest in price
    cat_rng = np.random.default_rng(np.random.SeedSequence(7))  # catalogue is seed-independent
    prod_cat = _sample(cat_rng, [s for _, s, _ in CATEGORIES], N_PRODUCTS)
    medians = np.array([p for _, _, p in CATEGORIES])
    prod_price = medians[prod_cat] * np.exp(cat_rng.normal(0.0, 1.1, N_PRODUCTS))
    prod_number = cat_rng.permutation(N_PRODUCTS) + 1
    key = prod_cat * 100.0 + np.log10(prod_price)
    by_key = np.argsort(key)
    key_sorted = key[by_key]
    cat_bounds = np.searchsorted(key_sorted, np.arange(len(CATEGORIES) + 1) * 100.0)
    assert (np.diff(cat_bounds) > 0).all(), "every category needs products"

    category = _sample(rng, [s for _, s, _ in CATEGORIES], m)
    electronics = [c for c, _, _ in CATEGORIES].index("electronics")
    category = np.where((unit > 3_000_000) & (rng.random(m) < 0.8), electronics, category)
    category = category.astype(np.uint8)
    edges = np.concatenate([[0.0], key_sorted, [100.0 * len(CATEGORIES)]])
    product_number = np.empty(m, dtype=np.int64)
    for first in range(0, m, BLOCK):  # in blocks: the temporaries stay small
        cat = category[first:first + BLOCK]
        target = cat * 100.0 + np.log10(unit[first:first + BLOCK])
        pos = _bucket(edges, target, bins=1 << 20)  # 1 + last <= target
        pos = np.clip(pos - 1, cat_bounds[cat], cat_bounds[cat + 1] - 1)
        product_number[first:first + BLOCK] = prod_number[by_key[pos]]

    # text columns one at a time, each number array freed once written (memory)
    small = [str(i) for i in range(6)]
    columns = {"order_id": _ids("O", orders.offset + order_idx + 1, orders.width)}
    del order_idx
    columns["line_number"] = _take(small, line_no)
    del line_no
    columns["product_id"] = _ids("P", product_number, 5)
    del product_number
    columns["category"] = _take([c for c, _, _ in CATEGORIES], category)
    del category
    columns["quantity"] = _take(small, qty)
    del qty
    columns["unit_price"] = _int_str(unit)
    return pa.table(columns)


# --------------------------------------------------------------------------------------------
# support_tickets and referrals
# --------------------------------------------------------------------------------------------


def _ticket_count(customers: int) -> int:
    return round(0.15 * customers)


def _support_tickets(
    rng: Rng, cfg: Config, cust: CustomerState, orders: OrderState, width: int, offset: int = 0
) -> pa.Table:
    n_cust, n_orders = cfg.customers, len(orders.ts)
    n = _ticket_count(n_cust)
    from_order = rng.random(n) < 0.85
    o = rng.integers(0, max(n_orders, 1), n)
    if n_orders == 0:
        from_order[:] = False
        o[:] = 0
    order_customer = orders.customer[o] if n_orders else np.zeros(n, dtype=np.int64)
    order_ts = orders.ts[o] if n_orders else np.zeros(n, dtype=np.int64)
    customer = np.where(from_order, order_customer, rng.integers(0, n_cust, n))
    lo = np.maximum(cust.signup_ts[customer], cfg.start_day * DAY)
    random_ts = lo + (rng.random(n) * (cfg.end_ts - lo)).astype(np.int64)
    after_order = order_ts + rng.integers(1800, 10 * DAY, n)
    opened = np.minimum(np.where(from_order, after_order, random_ts), cfg.end_ts)
    order = np.argsort(opened, kind="stable")
    opened, customer = opened[order], customer[order]

    ttype = _sample(rng, [w for _, w in TICKET_TYPES], n)
    resolved = opened + np.exp(rng.normal(np.log(18 * 3600), 1.2, n)).astype(np.int64)
    is_resolved = (resolved <= cfg.end_ts) & (rng.random(n) >= 0.14)
    csat_probs = np.array([[0.25, 0.25, 0.2, 0.15, 0.15]] + [[0.05, 0.1, 0.2, 0.35, 0.3]] * 3)
    csat = 1 + _sample_by_group(rng, ttype, csat_probs)
    has_csat = is_resolved & (rng.random(n) < 0.6)
    return pa.table(
        {
            "ticket_id": _ids("T", offset + np.arange(1, n + 1), width),
            "customer_id": _ids("C", cust.offset + customer + 1, cust.width),
            "opened_at": _ts_str(opened, rng.random(n) < 0.02),
            "ticket_type": _take([t for t, _ in TICKET_TYPES], ttype),
            "resolved_at": _ts_str(resolved, valid=is_resolved),
            "csat_score": _with_nulls(_take([str(i) for i in range(6)], csat), ~has_csat),
        }
    )


def _referrals(rng: Rng, cfg: Config, cust: CustomerState) -> tuple[pa.Table, np.ndarray]:
    n_cust = cfg.customers
    k = min(round(0.03 * n_cust), max(n_cust - 1, 0))
    referred = np.sort(rng.choice(np.arange(1, max(n_cust, 2)), size=k, replace=False))
    referrer = (rng.random(k) * referred).astype(np.int64)
    keep = cust.signup_ts[referrer] < cust.signup_ts[referred]
    referred, referrer = referred[keep], referrer[keep]
    referred_at = np.minimum(
        cust.signup_ts[referred] + rng.integers(0, 6 * 3600, len(referred)), cfg.end_ts
    )
    order = np.argsort(referred_at, kind="stable")
    referred, referrer, referred_at = referred[order], referrer[order], referred_at[order]
    table = pa.table(
        {
            "referrer_customer_id": _ids("C", cust.offset + referrer + 1, cust.width),
            "referred_customer_id": _ids("C", cust.offset + referred + 1, cust.width),
            "referred_at": _ts_str(referred_at),
        }
    )
    return table, referred


# --------------------------------------------------------------------------------------------
# events
# --------------------------------------------------------------------------------------------


def _events(rng: Rng, cfg: Config, cust: CustomerState, orders: OrderState, width: int,
            offset: int = 0) -> pa.Table:
    """Web/app/chat events: a light background of browsing for every customer between signup and end-date (about
    30% of customers who never order have none), and for each customer who orders, a burst in the 60 days before
    their first order (denser close to it, more add-to-cart and chat): the signal a lead score can find. ~3%
    anonymous (no customer_id). Sorted by time; ids E<offset + 1..>."""
    n_cust = cfg.customers
    first = np.full(n_cust, np.iinfo(np.int64).max, dtype=np.int64)
    if len(orders.ts):
        np.minimum.at(first, orders.customer, orders.ts)
    buyer = first < np.iinfo(np.int64).max
    lo = np.maximum(cust.signup_ts, cfg.start_day * DAY)

    background = rng.poisson(EVENT_BACKGROUND_MEAN, n_cust)
    background[~buyer & (rng.random(n_cust) < 0.30)] = 0
    background[lo > cfg.end_ts] = 0
    who_bg = np.repeat(np.arange(n_cust), background)
    ts_bg = lo[who_bg] + (rng.random(len(who_bg)) * (cfg.end_ts - lo[who_bg])).astype(np.int64)
    type_bg = _sample(rng, EVENT_BACKGROUND_SHARES, len(who_bg))

    burst = np.where(buyer, rng.poisson(EVENT_BURST_MEAN, n_cust), 0)
    who_burst = np.repeat(np.arange(n_cust), burst)
    ahead = np.minimum(rng.exponential(EVENT_BURST_MEAN_DAYS * DAY, len(who_burst)),
                       EVENT_BURST_DAYS * DAY - 1).astype(np.int64)
    ts_burst = first[who_burst] - 60 - ahead
    type_burst = _sample(rng, EVENT_BURST_SHARES, len(who_burst))
    seen = ts_burst >= lo[who_burst]  # an event before signup or the start date is not in the export
    who_burst, ts_burst, type_burst = who_burst[seen], ts_burst[seen], type_burst[seen]

    who = np.concatenate([who_bg, who_burst])
    ts = np.minimum(np.concatenate([ts_bg, ts_burst]), cfg.end_ts)
    etype = np.concatenate([type_bg, type_burst]).astype(np.int64)
    del who_bg, ts_bg, type_bg, who_burst, ts_burst, type_burst
    order = np.argsort(ts, kind="stable")
    who, ts, etype = who[order], ts[order], etype[order]
    n = len(ts)

    anonymous = rng.random(n) < EVENT_ANONYMOUS_SHARE
    channel = np.array(EVENT_CHANNELS)[_sample_by_group(rng, etype, EVENT_CHANNEL_PROBS)]
    has_product = (etype == EV_VIEW) | (etype == EV_CART)
    category = _sample(rng, [share for _, share, _ in CATEGORIES], n)
    product = 1 + rng.integers(0, N_PRODUCTS, n)
    return pa.table(
        {
            "event_id": _ids("E", offset + np.arange(1, n + 1), width),
            "customer_id": _ids("C", cust.offset + who + 1, cust.width, valid=~anonymous),
            "event_at": _ts_str(ts, rng.random(n) < 0.02),
            "event_type": _pick_options(rng, etype, [spellings for _, spellings in EVENT_TYPES]),
            "channel": _pick_options(rng, channel, [spellings for _, _, spellings in CHANNELS]),
            "product_id": _ids("P", product, 5, valid=has_product),
            "category": _with_nulls(_take([c for c, _, _ in CATEGORIES], category), ~has_product),
        }
    )
