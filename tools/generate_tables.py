"""The generator's main tables (tools/generate_data.py): the configuration and the state shared between tables,
then customers and orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tools.generate_arrays import (
    DAY,
    Rng,
    _bucket,
    _date_str,
    _day,
    _id_width,
    _ids,
    _int_str,
    _mix_templates,
    _pick_options,
    _replace,
    _round_k,
    _sample,
    _sample_by_group,
    _slug,
    _take,
    _ts_str,
    _with_nulls,
    _ymd,
)
from tools.generate_reference import (
    CHANNELS,
    COMPANY_EMAIL_SHARE,
    COMPANY_WORDS_1,
    COMPANY_WORDS_2,
    DEVICE_PROBS,
    DEVICES,
    EMAIL_DOMAINS,
    FAMILY_NAMES,
    GENERIC_PROMOS,
    GIVEN_FEMALE,
    GIVEN_MALE,
    MIDDLE_FEMALE,
    MIDDLE_MALE,
    PAYMENT_METHODS,
    PAYMENT_PROBS,
    PHONE_PREFIXES,
    PHONE_TEMPLATES,
    ST_CANCELLED,
    ST_COMPLETED,
    ST_PENDING,
    ST_RETURNED,
    STATUS_SPELLINGS,
    TAGS,
    TET_DATES,
    _province_str,
    _province_weights,
)

# --------------------------------------------------------------------------------------------
# Config and table state shared between tables
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    customers: int
    seed: int
    start: date
    end: date
    bad_row_share: float

    @property
    def start_day(self) -> int:
        return _day(self.start)

    @property
    def end_day(self) -> int:
        return _day(self.end)

    @property
    def end_ts(self) -> int:
        """Last second of the end date."""
        return (self.end_day + 1) * DAY - 1


@dataclass
class CustomerState:
    width: int
    signup_ts: np.ndarray
    province: np.ndarray
    business: np.ndarray
    pref_channel: np.ndarray
    vip: np.ndarray
    offset: int = 0  # customer i of the chunk (0-based) has the id number offset + i + 1


@dataclass
class OrderState:
    width: int
    customer: np.ndarray
    ts: np.ndarray
    gross: np.ndarray
    offset: int = 0  # order i of the chunk (0-based) has the id number offset + i + 1


def _start_minus_two_years(start: date) -> date:
    try:
        return start.replace(year=start.year - 2)
    except ValueError:  # 29 February
        return start.replace(year=start.year - 2, day=28)


def _sort_order(values: np.ndarray) -> np.ndarray:
    """Stable argsort of int64 values: sorts unique (value, position) keys, which is faster than
    a stable argsort and gives the same result on every platform."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    base = int(values.min())
    bits = max(n.bit_length(), 1)
    if (int(values.max()) - base) >> (62 - bits):
        return np.argsort(values, kind="stable")
    keys = ((values - base) << bits) | np.arange(n, dtype=np.int64)
    keys.sort()
    return keys & ((1 << bits) - 1)


def _time_of_day(rng: Rng, n: int) -> np.ndarray:
    """Seconds into the day; mostly 8h-23h with lunch and evening peaks."""
    hour_weights = [
        0.8, 0.4, 0.2, 0.1, 0.1, 0.2, 0.6, 1.5, 3.0, 4.5, 5.5, 6.5, 6.5, 5.5, 5.0, 5.0,
        5.0, 5.5, 6.0, 7.0, 8.0, 8.0, 6.5, 3.5,
    ]
    return _sample(rng, hour_weights, n) * 3600 + rng.integers(0, 3600, size=n)


# --------------------------------------------------------------------------------------------
# customers
# --------------------------------------------------------------------------------------------


def _signup_times(rng: Rng, cfg: Config) -> np.ndarray:
    """Signup timestamps, sorted (customer ids follow signup order): the density grows over time, from two years
    before the start date."""
    n = cfg.customers
    lo_day = _day(_start_minus_two_years(cfg.start))
    span = cfg.end_day - lo_day + 1
    u = rng.random(n)
    u = np.where(rng.random(n) < 0.5, u, np.sqrt(u))
    signup_day = lo_day + np.minimum((u * span).astype(np.int64), span - 1)
    signup_ts = np.sort(signup_day * DAY + _time_of_day(rng, n))
    return signup_ts


def _customer_names(rng: Rng, n: int) -> tuple:
    """Vietnamese full names (family, middle and given name by gender); returns the gender, the full names and the
    name indexes the emails are made from."""
    female = rng.random(n) < 0.52
    family = _sample(rng, [w for _, w in FAMILY_NAMES], n)
    middle = np.where(
        female,
        len(MIDDLE_MALE) + rng.integers(0, len(MIDDLE_FEMALE), n),
        rng.integers(0, len(MIDDLE_MALE), n),
    )
    given = np.where(
        female,
        len(GIVEN_MALE) + rng.integers(0, len(GIVEN_FEMALE), n),
        rng.integers(0, len(GIVEN_MALE), n),
    )
    family_names = [f for f, _ in FAMILY_NAMES]
    middles = MIDDLE_MALE + MIDDLE_FEMALE
    givens = GIVEN_MALE + GIVEN_FEMALE
    full_name = pc.binary_join_element_wise(
        _take(family_names, family), _take(middles, middle), _take(givens, given), " "
    )
    return female, full_name, family, given, family_names, givens


def _companies(rng: Rng, n: int) -> tuple:
    """Business customers (5%), the customer type as written, and their company's name and email domain."""
    business = rng.random(n) < 0.05
    ctype_u = rng.random(n)
    customer_type = pc.if_else(pa.array(business), "business", "individual")
    customer_type = _with_nulls(customer_type, ~business & (ctype_u < 0.021))
    company = (
        rng.integers(0, len(COMPANY_WORDS_1), n) * len(COMPANY_WORDS_2)
        + rng.integers(0, len(COMPANY_WORDS_2), n)
    )
    company_names = [f"Công ty TNHH {a} {b}" for a in COMPANY_WORDS_1 for b in COMPANY_WORDS_2]
    company_domains = [f"{_slug(a + b)}.com.vn" for a in COMPANY_WORDS_1 for b in COMPANY_WORDS_2]
    company_name = _with_nulls(_take(company_names, company), ~business)
    return business, customer_type, company, company_domains, company_name


def _emails(rng: Rng, n: int, names: tuple, business: np.ndarray, company: np.ndarray,
            company_domains: list[str]) -> pa.Array:
    """Folded name + separator + digits @ a mail provider (a company domain for business customers and a few
    others); a few shouted with spaces around, 10% missing."""
    _, _, family, given, family_names, givens = names
    folded_given = _take([_slug(g) for g in givens], given)
    folded_family = _take([_slug(f) for f in family_names], family)
    swap = pa.array(rng.random(n) < 0.35)
    first = pc.if_else(swap, folded_family, folded_given)
    second = pc.if_else(swap, folded_given, folded_family)
    sep = _take(["", ".", "_", ""], rng.integers(0, 4, n))
    digits = rng.integers(0, 10_000, n)
    digit_str = _with_nulls(_int_str(digits), rng.random(n) < 0.2)
    digit_str = pc.fill_null(digit_str, "")
    domain_idx = _sample(rng, [w for _, w in EMAIL_DOMAINS], n)
    domain = _take([d for d, _ in EMAIL_DOMAINS], domain_idx)
    use_company = business | (rng.random(n) < COMPANY_EMAIL_SHARE)
    domain = pc.if_else(pa.array(use_company), _take(company_domains, company), domain)
    email = pc.binary_join_element_wise(first, sep, second, digit_str, "@", domain, "")
    email_u = rng.random(n)
    shout = email_u < 0.03
    shouted = pc.binary_join_element_wise(
        " ", pc.utf8_upper(email.filter(pa.array(shout))), "  ", ""
    )
    email = _with_nulls(_replace(email, shout, shouted), email_u > 0.90)
    return email


def _customer_tags(rng: Rng, n: int) -> tuple[pa.Array, np.ndarray]:
    """Up to three tags per customer (weighted, without repeats) as one ';'-joined text, and the VIP flag (the
    first tag)."""
    tag_count = _sample(rng, [0.5, 0.3, 0.15, 0.05], n)
    keys = rng.exponential(size=(n, len(TAGS))) / np.array([w for _, w in TAGS])
    top = np.argsort(keys, axis=1)[:, :3]
    chosen = np.arange(3)[None, :] < tag_count[:, None]
    bitmask = ((1 << top) * chosen).sum(axis=1)
    tag_table = [
        ";".join(t for b, (t, _) in enumerate(TAGS) if mask >> b & 1) or None
        for mask in range(2 ** len(TAGS))
    ]
    tags = _take(tag_table, bitmask)
    vip = (bitmask & 1).astype(bool)
    return tags, vip


def _customers(
    rng: Rng, cfg: Config, width: int, offset: int = 0
) -> tuple[pa.Table, CustomerState]:
    n = cfg.customers
    signup_ts = _signup_times(rng, cfg)
    names = _customer_names(rng, n)
    female, full_name = names[0], names[1]
    business, customer_type, company, company_domains, company_name = _companies(rng, n)
    email = _emails(rng, n, names, business, company, company_domains)

    prefixes = np.array(PHONE_PREFIXES, dtype=np.int64)[rng.integers(0, len(PHONE_PREFIXES), n)]
    national = prefixes * 10_000_000 + rng.integers(0, 10_000_000, n)  # 9 digits after the 0
    phone = _with_nulls(_mix_templates(rng, PHONE_TEMPLATES, national), rng.random(n) < 0.08)

    gender_u = rng.random(n)
    gender = pc.if_else(
        pa.array(female),
        _take(["female", "Nữ", "F"], _sample(rng, [0.6, 0.25, 0.15], n)),
        _take(["male", "Nam", "M"], _sample(rng, [0.6, 0.25, 0.15], n)),
    )
    gender = pc.if_else(pa.array(gender_u < 0.01), "other", gender)
    gender = _with_nulls(gender, gender_u > 0.90)

    age_years = np.clip(16.02 + rng.gamma(2.2, 7.5, n), 16.02, 75.9)
    birth_day = cfg.end_day - (age_years * 365.2425).astype(np.int64)
    birth_date = _date_str(birth_day, valid=rng.random(n) >= 0.20)

    signup_at = _ts_str(signup_ts, iso=rng.random(n) < 0.03)
    province = _sample(rng, _province_weights(), n)
    province_str = _province_str(rng, province, empty=0.03, unknown=0.005)

    tags, vip = _customer_tags(rng, n)

    channel_shares = [share for _, share, _ in CHANNELS]
    pref_channel = _sample(rng, channel_shares, n)
    acq_channel = np.where(rng.random(n) < 0.6, pref_channel, _sample(rng, channel_shares, n))
    acquisition = _with_nulls(
        _pick_options(rng, acq_channel, [sp for _, _, sp in CHANNELS]), rng.random(n) < 0.02
    )
    consent = _take(["yes", "no", None], _sample(rng, [0.55, 0.35, 0.10], n))

    table = pa.table(
        {
            "customer_id": _ids("C", offset + np.arange(1, n + 1), width),
            "full_name": full_name,
            "email": email,
            "phone": phone,
            "gender": gender,
            "birth_date": birth_date,
            "signup_at": signup_at,
            "province": province_str,
            "customer_type": customer_type,
            "company_name": company_name,
            "tags": tags,
            "acquisition_channel": acquisition,
            "marketing_consent": consent,
        }
    )
    state = CustomerState(width, signup_ts, province, business, pref_channel, vip, offset)
    return table, state


# --------------------------------------------------------------------------------------------
# orders
# --------------------------------------------------------------------------------------------


def _day_weights(cfg: Config) -> np.ndarray:
    """Relative order volume per day between start and end (seasonality)."""
    days = np.arange(cfg.start_day, cfg.end_day + 1)
    weights = np.ones(len(days))
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday -> Monday == 0
    weights[weekday >= 5] *= 1.3
    for tet in TET_DATES.values():
        t = _day(tet)
        weights[(days >= t - 21) & (days < t)] *= 1.5
        weights[(days >= t) & (days < t + 4)] *= 0.6
    md = _ymd(days) % 10_000
    for month_day, factor in ((1111, 4.0), (1212, 3.0), (1010, 1.8), (909, 1.6)):
        weights[md == month_day] *= factor
    return weights


def _day_promos(cfg: Config) -> tuple[list[str], np.ndarray]:
    """Promo code table and the seasonal code index per day (-1 if none)."""
    days = np.arange(cfg.start_day, cfg.end_day + 1)
    codes = ["NEWUSER", "VIP10", "SALE11", "SALE1212", *GENERIC_PROMOS]
    per_day = np.full(len(days), -1, dtype=np.int64)
    md = _ymd(days) % 10_000
    per_day[(md >= 1110) & (md <= 1111)] = codes.index("SALE11")
    per_day[(md >= 1211) & (md <= 1212)] = codes.index("SALE1212")
    for year, tet in TET_DATES.items():
        t = _day(tet)
        window = (days >= t - 21) & (days < t)
        if window.any():
            codes.append(f"TET{year}")
            per_day[window] = len(codes) - 1
    return codes, per_day


def _order_behaviour(rng: Rng, cfg: Config, cust: CustomerState) -> tuple[np.ndarray, ...]:
    """Per customer: the first and last day they may order, their number of orders, their spend level and their
    share of discounted orders."""
    n_cust = cfg.customers
    start_day, end_day = cfg.start_day, cfg.end_day
    n_days = end_day - start_day + 1
    signup_day = cust.signup_ts // DAY
    first_day = np.maximum(signup_day, start_day)
    last_day = np.full(n_cust, end_day, dtype=np.int64)
    orders_at_all = rng.random(n_cust) >= 0.15
    can_be_lost = orders_at_all & (first_day < end_day - 395)
    lost = can_be_lost & (rng.random(n_cust) < 0.25)
    lost_span = np.maximum(end_day - 365 - first_day, 1)
    last_day = np.where(lost, first_day + (rng.random(n_cust) * lost_span).astype(np.int64), last_day)
    active_frac = (last_day - first_day + 1) / n_days
    activity = np.where(orders_at_all, active_frac**0.7, 0.0)
    target_total = 10.0 * n_cust
    extra_mean = max(target_total - orders_at_all.sum(), 0.0) / max(activity.sum(), 1e-9)
    dispersion = 0.8
    lam = rng.gamma(dispersion, extra_mean * activity / dispersion)
    counts = np.where(orders_at_all, 1 + rng.poisson(lam), 0).astype(np.int64)

    value = np.exp(rng.normal(0.0, 0.7, n_cust)) * np.where(cust.business, 4.0, 1.0)
    discount_prop = np.where(
        rng.random(n_cust) < 0.10, rng.uniform(0.6, 0.95, n_cust), rng.beta(1.2, 3.0, n_cust)
    )
    return first_day, last_day, counts, value, discount_prop


def _order_times(rng: Rng, cfg: Config, cust: CustomerState, first_day: np.ndarray, last_day: np.ndarray,
                 counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The orders' timestamps (on the busier days more often, never before signup) and customers, in time order."""
    start_day = cfg.start_day
    cust_idx = np.repeat(np.arange(cfg.customers), counts)
    n = len(cust_idx)
    cum = np.concatenate([[0.0], np.cumsum(_day_weights(cfg))])
    lo = cum[(first_day - start_day)[cust_idx]]
    hi = cum[(last_day - start_day + 1)[cust_idx]]
    u = lo + rng.random(n) * (hi - lo)
    day_off = _bucket(cum, np.minimum(u, np.nextafter(cum[-1], 0.0)))
    day_off = np.clip(day_off, (first_day - start_day)[cust_idx], (last_day - start_day)[cust_idx])
    ts = (start_day + day_off) * DAY + _time_of_day(rng, n)
    signup = cust.signup_ts[cust_idx]
    ts = np.where(ts < signup, signup + rng.integers(300, 7200, n), ts)
    ts = np.minimum(ts, cfg.end_ts)

    order = _sort_order(ts)  # order ids follow time
    ts, cust_idx = ts[order], cust_idx[order]
    return ts, cust_idx


def _order_status(rng: Rng, cfg: Config, ts: np.ndarray) -> np.ndarray:
    """Completed, cancelled, returned, or pending (most of the orders of the last two weeks)."""
    n = len(ts)
    age_days = cfg.end_day - (ts // DAY)
    su = rng.random(n)
    status = np.full(n, ST_COMPLETED, dtype=np.int64)
    status[su < 0.073] = ST_CANCELLED
    status[(su >= 0.073) & (su < 0.125)] = ST_RETURNED
    p_pending = np.where(age_days < 14, 0.05 + 0.85 * (1 - age_days / 14.0), 0.0)
    status[rng.random(n) < p_pending] = ST_PENDING
    return status


def _order_amounts(rng: Rng, cfg: Config, cust: CustomerState, cust_idx: np.ndarray, ts: np.ndarray,
                   status: np.ndarray, value: np.ndarray, discount_prop: np.ndarray) -> tuple[np.ndarray, ...]:
    """Gross and discount amounts, the promo code of a discounted order (seasonal, new-user, VIP or generic) and the
    refunded amount as text (full or partial refunds of returns, a few over-refunds, empty where unknown)."""
    n = len(ts)
    day_off = ts // DAY - cfg.start_day
    gross_f = 350_000.0 * value[cust_idx] * np.exp(rng.normal(0.0, 0.7, n))
    bulk = cust.business[cust_idx] & (rng.random(n) < 0.01)
    gross_f = np.where(bulk, np.exp(rng.uniform(np.log(20e6), np.log(200e6), n)), gross_f)
    gross = np.maximum(_round_k(gross_f), 10_000)
    del gross_f, bulk
    discounted = rng.random(n) < discount_prop[cust_idx]
    discount = np.clip(_round_k(gross * rng.uniform(0.05, 0.30, n)), 1000, gross - 1000)
    discount = np.where(discounted, discount, 0)
    net = gross - discount

    codes, day_code = _day_promos(cfg)
    seasonal = day_code[day_off]
    new_user = (ts - cust.signup_ts[cust_idx]) < 30 * DAY
    pu = rng.random(n)
    generic = codes.index(GENERIC_PROMOS[0]) + rng.integers(0, len(GENERIC_PROMOS), n)
    code_idx = np.where(cust.vip[cust_idx] & (pu < 0.4), codes.index("VIP10"), generic)
    code_idx = np.where(new_user & (pu < 0.5), codes.index("NEWUSER"), code_idx)
    code_idx = np.where((seasonal >= 0) & (pu < 0.7), seasonal, code_idx)
    has_code = discounted & (rng.random(n) >= 0.05)
    promo = _with_nulls(_take(codes, code_idx), ~has_code)
    del seasonal, day_off, new_user, pu, generic, code_idx, has_code, discounted

    ru = rng.random(n)
    returned = status == ST_RETURNED
    partial = (returned & (ru >= 0.85)) | ((status == ST_COMPLETED) & (ru < 0.01))
    refund = np.where(partial, _round_k(net * rng.uniform(0.1, 0.9, n)), 0)
    refund = np.where(returned & (ru < 0.60), net, refund)
    over = (refund > 0) & (rng.random(n) < 0.01)
    refund = np.where(over, _round_k(gross * rng.uniform(1.1, 2.0, n)) + 1000, refund)
    refund_empty = (returned & (ru >= 0.60) & (ru < 0.85)) | (
        ~returned & ~partial & (rng.random(n) < 0.5)
    )
    del net, ru, returned, partial, over
    refunded = _int_str(refund, ~refund_empty)
    del refund, refund_empty
    return gross, discount, promo, refunded


def _order_places(rng: Rng, cust: CustomerState, cust_idx: np.ndarray) -> tuple[pa.Array, ...]:
    """The channel (mostly the customer's preferred one) as written, payment method and device by channel, and the
    shipping province (mostly the customer's)."""
    n = len(cust_idx)
    channel = np.where(
        rng.random(n) < 0.7,
        cust.pref_channel[cust_idx],
        _sample(rng, [share for _, share, _ in CHANNELS], n),
    )
    channel_str = _with_nulls(
        _pick_options(rng, channel, [sp for _, _, sp in CHANNELS]), rng.random(n) < 0.02
    )
    payment = _take(PAYMENT_METHODS, _sample_by_group(rng, channel, PAYMENT_PROBS))
    device = _take(DEVICES, _sample_by_group(rng, channel, DEVICE_PROBS))
    ship = np.where(
        rng.random(n) < 0.10, _sample(rng, _province_weights(), n), cust.province[cust_idx]
    )
    del channel
    ship_str = _province_str(rng, ship, empty=0.05, unknown=0.003)
    del ship
    return channel_str, payment, device, ship_str


def _orders(
    rng: Rng, cfg: Config, cust: CustomerState, width: int | None = None, offset: int = 0
) -> tuple[pa.Table, OrderState]:
    """Orders of the chunk's customers; ``width`` None: the id width follows the order count."""
    first_day, last_day, counts, value, discount_prop = _order_behaviour(rng, cfg, cust)
    ts, cust_idx = _order_times(rng, cfg, cust, first_day, last_day, counts)
    n = len(cust_idx)
    width = _id_width(8, n) if width is None else width
    status = _order_status(rng, cfg, ts)
    gross, discount, promo, refunded = _order_amounts(rng, cfg, cust, cust_idx, ts, status, value, discount_prop)
    channel_str, payment, device, ship_str = _order_places(rng, cust, cust_idx)

    # --- timestamps as text -----------------------------------------------------------------
    slow = (status == ST_RETURNED) | (status == ST_CANCELLED)
    delay = np.where(slow, rng.integers(DAY, 20 * DAY, n), rng.integers(0, 72 * 3600, n))
    updated = np.minimum(ts + delay, cfg.end_ts + 1)
    del slow, delay
    iso = rng.random(n) < 0.02
    status_str = _pick_options(rng, status, STATUS_SPELLINGS)
    del status
    updated_at = _ts_str(updated, iso)
    del updated
    discount_amount = _int_str(discount)
    del discount

    table = pa.table(
        {
            "order_id": _ids("O", offset + np.arange(1, n + 1), width),
            "customer_id": _ids("C", cust.offset + cust_idx + 1, cust.width),
            "ordered_at": _ts_str(ts, iso),
            "status": status_str,
            "channel": channel_str,
            "ship_province": ship_str,
            "gross_amount": _int_str(gross),
            "discount_amount": discount_amount,
            "refunded_amount": refunded,
            "promo_code": promo,
            "payment_method": payment,
            "device_type": device,
            "updated_at": updated_at,
        }
    )
    return table, OrderState(width, cust_idx, ts, gross, offset)
