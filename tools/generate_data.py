"""Generate deterministic raw retail data for the Vietnamese customer-segmentation project.

Usage::

    python -m tools.generate_data --customers 1000 --out data/raw [--format csv|parquet]
        [--typed] [--seed 42] [--start-date 2022-01-01] [--end-date 2026-06-30]
        [--bad-row-share 0.01] [--chunk-customers 1000000]

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
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

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
DAY = 86_400
EPOCH = date(1970, 1, 1)
MAX_BAD_SHARE_FLOOR = 0.04
DEFAULT_CHUNK_CUSTOMERS = 1_000_000
CHUNK_SEED_KEY = 1_000  # chunk k draws from SeedSequence(seed, spawn_key=(CHUNK_SEED_KEY, k))
PART_RE = re.compile(r"part-\d{5,}\.(csv|parquet)")  # the names this generator writes
SLOTS = 1 << 16  # resolution of categorical sampling
BLOCK = 1 << 22  # rows per block where a computation is done in blocks to save memory

TEXT_BAD_ROW_SHARE = 0.01
TYPED_BAD_ROW_SHARE = 0.001
TS_TEMPLATE = "####-##-## ##:##:##"
TS_ISO_TEMPLATE = "####-##-##T##:##:##+07:00"
DATE_TEMPLATE = "####-##-##"

# --------------------------------------------------------------------------------------------
# Reference lists
# --------------------------------------------------------------------------------------------

PROVINCES: list[str] = [
    "Hà Nội", "Huế", "Thừa Thiên Huế", "Lai Châu", "Điện Biên", "Sơn La", "Lạng Sơn", "Cao Bằng",
    "Quảng Ninh", "Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Tuyên Quang", "Hà Giang", "Lào Cai",
    "Yên Bái", "Thái Nguyên", "Bắc Kạn", "Phú Thọ", "Vĩnh Phúc", "Hòa Bình", "Bắc Ninh",
    "Bắc Giang", "Hưng Yên", "Thái Bình", "Hải Phòng", "Hải Dương", "Ninh Bình", "Hà Nam",
    "Nam Định", "Quảng Trị", "Quảng Bình", "Đà Nẵng", "Quảng Nam", "Quảng Ngãi", "Kon Tum",
    "Gia Lai", "Bình Định", "Khánh Hòa", "Ninh Thuận", "Lâm Đồng", "Đắk Nông", "Bình Thuận",
    "Đắk Lắk", "Phú Yên", "TP. Hồ Chí Minh", "Bình Dương", "Bà Rịa - Vũng Tàu", "Đồng Nai",
    "Bình Phước", "Tây Ninh", "Long An", "Cần Thơ", "Sóc Trăng", "Hậu Giang", "Vĩnh Long",
    "Bến Tre", "Trà Vinh", "Đồng Tháp", "Tiền Giang", "Cà Mau", "Bạc Liêu", "An Giang",
    "Kiên Giang",
]
PROVINCE_SHARES: dict[str, float] = {
    "TP. Hồ Chí Minh": 0.28, "Hà Nội": 0.22, "Đà Nẵng": 0.05, "Hải Phòng": 0.04,
    "Bình Dương": 0.04, "Cần Thơ": 0.03, "Đồng Nai": 0.03,
}
LARGER_PROVINCES = {
    "Thanh Hóa", "Nghệ An", "Quảng Ninh", "Bắc Ninh", "Khánh Hòa", "Long An", "Bà Rịa - Vũng Tàu",
    "Lâm Đồng", "Đắk Lắk", "Bình Định", "Thái Nguyên", "Hải Dương", "An Giang", "Kiên Giang",
    "Tiền Giang", "Quảng Nam",
}
CITIES = {"Hà Nội", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "TP. Hồ Chí Minh", "Huế"}
PROVINCE_PLAIN = {"TP. Hồ Chí Minh": "Ho Chi Minh"}
PROVINCE_ALIASES: dict[str, list[str]] = {
    "TP. Hồ Chí Minh": [
        "TP.HCM", "TPHCM", "HCM", "Sài Gòn", "Saigon", "Ho Chi Minh City", "Hồ Chí Minh",
    ],
    "Hà Nội": ["Hanoi", "HN", "Ha Noi"],
    "Huế": ["TT Huế", "Thừa Thiên Huế", "Hue"],
    "Bà Rịa - Vũng Tàu": ["BR-VT", "Vũng Tàu"],
    "Đắk Lắk": ["Dak Lak", "Đắc Lắk"],
}
UNKNOWN_PROVINCES = ["N/A", "Bangkok", "Không rõ", "unknown", "Phnom Penh", "-"]

FAMILY_NAMES: list[tuple[str, float]] = [
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7), ("Hoàng", 5), ("Huỳnh", 4),
    ("Phan", 4), ("Vũ", 4), ("Võ", 4), ("Đặng", 2.5), ("Bùi", 2.5), ("Đỗ", 2), ("Hồ", 1.5),
    ("Ngô", 1.5), ("Dương", 1.5), ("Lý", 1),
]
MIDDLE_MALE = ["Văn", "Hữu", "Đức", "Minh", "Quang", "Thanh", "Công", "Xuân", "Gia", "Hoàng"]
MIDDLE_FEMALE = ["Thị", "Ngọc", "Thu", "Kim", "Thanh", "Minh", "Thùy", "Bảo", "Phương", "Mỹ"]
GIVEN_MALE = [
    "An", "Bình", "Dũng", "Hải", "Hiếu", "Hùng", "Khánh", "Long", "Minh", "Nam", "Phúc", "Quân",
    "Sơn", "Tâm", "Trung", "Tuấn", "Huy", "Đạt", "Khoa", "Thắng", "Vinh",
]
GIVEN_FEMALE = [
    "An", "Châu", "Hà", "Hạnh", "Hoa", "Hương", "Khánh", "Lan", "Linh", "Mai", "Ngân", "Nhung",
    "Phương", "Thảo", "Trang", "Vy", "Yến", "Tâm", "Hằng", "Ngọc", "Quỳnh",
]
COMPANY_WORDS_1 = [
    "An", "Bảo", "Đại", "Hòa", "Hưng", "Kim", "Minh", "Nam", "Phú", "Sài", "Tân", "Thành",
    "Thiên", "Trường", "Việt", "Vạn",
]
COMPANY_WORDS_2 = [
    "Phát", "Long", "Thịnh", "Lộc", "Phúc", "Gòn", "Hải", "Sơn", "Tiến", "Đạt", "Hưng", "Khang",
    "Thành", "Nguyên",
]
EMAIL_DOMAINS: list[tuple[str, float]] = [("gmail.com", 0.75), ("yahoo.com", 0.15), ("outlook.com", 0.10)]
COMPANY_EMAIL_SHARE = 0.06  # individuals using a work address (business customers always do)
PHONE_PREFIXES = [
    32, 33, 34, 35, 36, 37, 38, 39, 52, 56, 58, 59, 70, 76, 77, 78, 79, 81, 82, 83, 84, 85, 86,
    88, 89, 90, 91, 93, 94, 96, 97, 98, 99,
]
PHONE_TEMPLATES: list[tuple[str, float]] = [
    ("0#########", 0.45), ("+84#########", 0.2), ("84 ### ### ###", 0.1),
    ("0##.###.####", 0.15), ("(+84) ## ### ####", 0.1),
]
TAGS: list[tuple[str, float]] = [
    ("vip", 0.12), ("newsletter", 0.35), ("wholesale", 0.05), ("hcm_store", 0.12),
    ("student", 0.12), ("referral", 0.08), ("event_2025", 0.08), ("tet_2025", 0.08),
]

# canonical channel -> (mix share, written spellings with weights)
CHANNELS: list[tuple[str, float, list[tuple[str, float]]]] = [
    ("store", 0.30, [("store", 0.6), ("Cửa hàng", 0.25), ("POS", 0.15)]),
    ("website", 0.10, [("website", 0.7), ("web", 0.3)]),
    ("app", 0.08, [("app", 0.7), ("mobile app", 0.3)]),
    ("zalo", 0.08, [("Zalo", 0.6), ("zalo oa", 0.4)]),
    ("facebook", 0.10, [("Facebook", 0.6), ("FB", 0.4)]),
    ("shopee", 0.18, [("Shopee", 1.0)]),
    ("lazada", 0.07, [("Lazada", 1.0)]),
    ("tiktok_shop", 0.08, [("TikTok Shop", 0.7), ("tiktok", 0.3)]),
    ("phone", 0.01, [("hotline", 1.0)]),
]
CH_STORE, CH_WEB, CH_APP, CH_ZALO, CH_FB, CH_SHOPEE, CH_LAZADA, CH_TIKTOK, CH_PHONE = range(9)
PAYMENT_METHODS = ["cod", "bank_transfer", "momo", "zalopay", "vnpay", "card", "cash"]
# rows: channels in CHANNELS order; columns: PAYMENT_METHODS
PAYMENT_PROBS = np.array([
    [0.00, 0.04, 0.08, 0.04, 0.05, 0.24, 0.55],  # store
    [0.35, 0.15, 0.15, 0.10, 0.15, 0.10, 0.00],  # website
    [0.30, 0.12, 0.20, 0.13, 0.15, 0.10, 0.00],  # app
    [0.60, 0.28, 0.05, 0.07, 0.00, 0.00, 0.00],  # zalo
    [0.65, 0.28, 0.07, 0.00, 0.00, 0.00, 0.00],  # facebook
    [0.50, 0.08, 0.12, 0.08, 0.10, 0.12, 0.00],  # shopee
    [0.50, 0.08, 0.12, 0.08, 0.10, 0.12, 0.00],  # lazada
    [0.55, 0.10, 0.15, 0.10, 0.05, 0.05, 0.00],  # tiktok_shop
    [0.75, 0.25, 0.00, 0.00, 0.00, 0.00, 0.00],  # phone
])
DEVICES = ["mobile", "desktop", "tablet", None]
DEVICE_PROBS = np.array([
    [0.0, 0.0, 0.0, 1.0],  # store: no device
    [0.55, 0.38, 0.07, 0.0],
    [0.92, 0.0, 0.08, 0.0],
    [0.90, 0.07, 0.03, 0.0],
    [0.85, 0.12, 0.03, 0.0],
    [0.85, 0.10, 0.05, 0.0],
    [0.82, 0.13, 0.05, 0.0],
    [0.95, 0.02, 0.03, 0.0],
    [0.0, 0.0, 0.0, 1.0],  # hotline: no device
])

ST_COMPLETED, ST_CANCELLED, ST_RETURNED, ST_PENDING = range(4)
STATUS_SPELLINGS: list[list[tuple[str | None, float]]] = [
    [("completed", 0.937), (None, 0.047), ("Completed", 0.008), ("delivered", 0.008)],
    [("cancelled", 0.92), ("canceled", 0.08)],
    [("returned", 1.0)],
    [("pending", 1.0)],
]
GENERIC_PROMOS = ["FREESHIP", "FREESHIP", "SALE10", "FLASH50K", "WELCOME", "PAYDAY", "VIP10"]
CATEGORIES: list[tuple[str, float, float]] = [  # name, share of lines, median unit price
    ("fashion", 0.25, 250_000), ("beauty", 0.15, 200_000), ("electronics", 0.10, 1_500_000),
    ("home", 0.15, 300_000), ("grocery", 0.15, 80_000), ("mom_baby", 0.08, 250_000),
    ("sports", 0.07, 400_000), ("books", 0.05, 120_000),
]
N_PRODUCTS = 5_000
TICKET_TYPES: list[tuple[str, float]] = [
    ("complaint", 0.40), ("question", 0.30), ("return_request", 0.15), ("feedback", 0.15),
]
TET_DATES: dict[int, date] = {
    2016: date(2016, 2, 8), 2017: date(2017, 1, 28), 2018: date(2018, 2, 16),
    2019: date(2019, 2, 5), 2020: date(2020, 1, 25), 2021: date(2021, 2, 12),
    2022: date(2022, 2, 1), 2023: date(2023, 1, 22), 2024: date(2024, 2, 10),
    2025: date(2025, 1, 29), 2026: date(2026, 2, 17), 2027: date(2027, 2, 6),
    2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 3),
}

# events: (code, spellings) in EV_* order; the SQL maps each spelling (macros/code_mappings.sql, map_event_type)
EVENT_TYPES: list[tuple[str, list[tuple[str, float]]]] = [
    ("visit", [("visit", 0.3), ("page_view", 0.3), ("Page View", 0.1), ("session_start", 0.1), ("truy cập", 0.1),
               ("app_open", 0.1)]),
    ("product_view", [("product_view", 0.5), ("view_item", 0.3), ("Xem sản phẩm", 0.2)]),
    ("add_to_cart", [("add_to_cart", 0.6), ("Add to cart", 0.2), ("thêm vào giỏ", 0.2)]),
    ("chat_message", [("chat_message", 0.3), ("zalo_message", 0.3), ("Facebook message", 0.2), ("nhắn tin", 0.1),
                      ("inbox", 0.1)]),
    ("form_submission", [("form_submit", 0.5), ("lead_form", 0.3), ("Đăng ký tư vấn", 0.2)]),
    ("app_install", [("app_install", 0.7), ("cài app", 0.3)]),
    ("unrecognised", [("wishlist_add", 0.6), ("share", 0.4)]),
]
EV_VISIT, EV_VIEW, EV_CART, EV_CHAT, EV_FORM, EV_INSTALL, EV_OTHER = range(7)
# type shares of the background browsing and of the burst before a first order
EVENT_BACKGROUND_SHARES = [0.585, 0.33, 0.02, 0.02, 0.01, 0.03, 0.005]
EVENT_BURST_SHARES = [0.10, 0.33, 0.25, 0.20, 0.08, 0.035, 0.005]
EVENT_BACKGROUND_MEAN = 1.5  # events per customer over their lifetime (30% of non-buyers get none: ~45% have none)
EVENT_BURST_MEAN = 4.0  # events in the 60 days before a first order (before signup or the start date: not written)
EVENT_BURST_DAYS = 60
EVENT_BURST_MEAN_DAYS = 20.0  # days from a burst event to the first order: exponential, cut at 60
EVENT_ANONYMOUS_SHARE = 0.03
# web/app channels of an event, by type (rows: EV_*; columns: website, app, zalo, facebook, shopee, tiktok_shop)
EVENT_CHANNELS = [CH_WEB, CH_APP, CH_ZALO, CH_FB, CH_SHOPEE, CH_TIKTOK]
EVENT_CHANNEL_PROBS = np.array([
    [0.40, 0.30, 0.05, 0.05, 0.12, 0.08],
    [0.35, 0.30, 0.05, 0.05, 0.15, 0.10],
    [0.35, 0.35, 0.00, 0.00, 0.18, 0.12],
    [0.00, 0.00, 0.60, 0.40, 0.00, 0.00],
    [0.60, 0.10, 0.15, 0.15, 0.00, 0.00],
    [0.00, 1.00, 0.00, 0.00, 0.00, 0.00],
    [0.40, 0.30, 0.05, 0.05, 0.12, 0.08],
])

UNREADABLE_TS = ["not a date", "2024-13-45", "31/02/2024", "2024-02-30 25:61:00", "hôm qua"]
BEFORE_2000_TS = ["1970-01-01 00:00:00", "1900-01-01 00:00:00", "1999-12-31 23:59:59"]
FUTURE_TS = ["2099-01-01 00:00:00", "2099-12-31 12:00:00"]
UNREADABLE_AMOUNTS = ["abc", "12,5tr", "1tr2", "NaN", "#VALUE!"]
UNREADABLE_PRICES = ["abc", "12,5k", "free", "N/A"]


# --------------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------------

Rng = np.random.Generator


def _fold(text: str) -> str:
    """Strip Vietnamese diacritics (used on the small reference tables only)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _slug(text: str) -> str:
    return "".join(ch for ch in _fold(text).lower() if ch.isalnum())


def _day(d: date) -> int:
    return (d - EPOCH).days


def _bucket(edges: np.ndarray, u: np.ndarray, bins: int = 1 << 16) -> np.ndarray:
    """``searchsorted(edges, u, side="right") - 1`` for sorted ``edges`` and
    edges[0] <= u < edges[-1]; exact, but much faster than a binary search per value: a lookup
    table over equal-width bins gives a first guess that is then moved up where needed."""
    lo, hi = float(edges[0]), float(edges[-1])
    last = len(edges) - 2
    scale = bins / (hi - lo)
    starts = lo + np.arange(bins) / scale
    lut = np.minimum(np.searchsorted(edges, starts, side="right") - 1, last)
    out = np.empty(len(u), dtype=np.int64)
    for first in range(0, len(u), BLOCK):  # in blocks: the temporaries stay small
        part = u[first:first + BLOCK]
        idx = lut[np.minimum(((part - lo) * scale).astype(np.int64), bins - 1)]
        todo = np.flatnonzero(part >= edges[idx + 1])
        while len(todo):  # loops once per extra edge inside a bin, not per row
            idx[todo] += 1
            todo = todo[part[todo] >= edges[idx[todo] + 1]]
        out[first:first + BLOCK] = idx
    return out


def _slot_table(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """Spread 2**16 equally likely slots over the categories in proportion to ``weights``
    (largest-remainder rounding; every category with a positive weight gets a slot)."""
    p = np.asarray(weights, dtype=np.float64)
    raw = p / p.sum() * SLOTS
    counts = np.floor(raw).astype(np.int64)
    counts[(p > 0) & (counts == 0)] = 1
    short = SLOTS - int(counts.sum())
    if short > 0:
        counts[np.argsort(counts - raw, kind="stable")[:short]] += 1
    while short < 0:  # only possible after forcing tiny weights up to one slot
        big = int(np.argmax(counts))
        take = min(-short, int(counts[big]) - 1)
        counts[big] -= take
        short += take
    return np.repeat(np.arange(len(p)), counts)


def _slots(rng: Rng, size: int) -> np.ndarray:
    return rng.integers(0, SLOTS, size=size, dtype=np.uint16)


def _sample(rng: Rng, weights: Sequence[float] | np.ndarray, size: int) -> np.ndarray:
    """Draw ``size`` indices with probabilities proportional to ``weights`` (2**-16 precision)."""
    return _slot_table(weights)[_slots(rng, size)]


def _sample_by_group(rng: Rng, group: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Per row, draw a column index of ``probs[group[row]]`` (rows of probs are distributions)."""
    table = np.concatenate([_slot_table(row) for row in probs])
    return table[group * SLOTS + _slots(rng, len(group))]


def _str_array(values: Sequence[str | None]) -> pa.Array:
    return pa.array(list(values), type=pa.string())


def _options_table(
    options: Sequence[Sequence[tuple[str | None, float]]],
) -> tuple[pa.Array, np.ndarray]:
    """Flatten per-group (string, weight) options into a string table and a probability matrix."""
    width = max(len(opts) for opts in options)
    strings: list[str | None] = []
    probs = np.zeros((len(options), width))
    for g, opts in enumerate(options):
        for j in range(width):
            if j < len(opts):
                strings.append(opts[j][0])
                probs[g, j] = opts[j][1]
            else:
                strings.append(None)
    return _str_array(strings), probs


def _pick_options(
    rng: Rng, group: np.ndarray, options: Sequence[Sequence[tuple[str | None, float]]]
) -> pa.Array:
    table, probs = _options_table(options)
    col = _sample_by_group(rng, group, probs)
    return table.take(pa.array(group * probs.shape[1] + col))


def _take(values: Sequence[str | None] | pa.Array, idx: np.ndarray) -> pa.Array:
    table = values if isinstance(values, pa.Array) else _str_array(values)
    return table.take(pa.array(idx, type=pa.int64()))


def _validity(valid: np.ndarray | None) -> tuple[pa.Buffer | None, int]:
    if valid is None:
        return None, 0
    nulls = int(len(valid) - np.count_nonzero(valid))
    if nulls == 0:
        return None, 0
    return pa.py_buffer(np.packbits(valid, bitorder="little")), nulls


@cache
def _digit_lut(width: int) -> np.ndarray:
    """ASCII digits of 0 .. 10**width - 1, zero-padded, one fixed-size item per number."""
    values = np.arange(10**width)
    out = np.empty((10**width, width), dtype=np.uint8)
    for pos in range(width - 1, -1, -1):
        out[:, pos] = 48 + values % 10
        values //= 10
    item = {4: np.uint32, 2: np.uint16, 1: np.uint8}[width]
    return out.view(item).ravel()


def _concat_fields(n: int, parts: Sequence[bytes | np.ndarray]) -> np.ndarray:
    """Lay fixed-size parts (literal bytes, or arrays with one item per row) side by side.

    A packed structured array does the interleaving with fast strided copies; the result is
    an (n, width) uint8 matrix.
    """
    formats = [np.dtype(f"S{len(p)}") if isinstance(p, bytes) else p.dtype for p in parts]
    offsets = np.cumsum([0] + [f.itemsize for f in formats])
    names = [f"f{i}" for i in range(len(parts))]
    dtype = np.dtype(
        {"names": names, "formats": formats, "offsets": offsets[:-1].tolist(),
         "itemsize": int(offsets[-1])}
    )
    rec = np.empty(n, dtype=dtype)
    for name, part in zip(names, parts):
        rec[name] = part
    return rec.view(np.uint8).reshape(n, int(offsets[-1]))


def _template_bytes(template: str, values: np.ndarray) -> np.ndarray:
    """Format non-negative integers into a fixed-width ASCII template (``#`` = one digit).

    Returns an (n, width) uint8 matrix; digits come from lookup tables, up to four at a time.
    """
    tokens: list[str] = []  # literal runs and runs of '#', left to right
    for ch in template:
        if tokens and (ch == "#") == (tokens[-1][0] == "#"):
            tokens[-1] += ch
        else:
            tokens.append(ch)
    rest = np.asarray(values, dtype=np.int64)
    parts: list[bytes | np.ndarray] = []
    for token in reversed(tokens):
        if token[0] != "#":
            parts.append(token.encode("ascii"))
            continue
        length = len(token)
        while length:
            k = 4 if length >= 4 else (2 if length >= 2 else 1)
            quotient = rest // 10**k
            parts.append(_digit_lut(k)[rest - quotient * 10**k])
            rest, length = quotient, length - k
    return _concat_fields(len(rest), parts[::-1])


def _from_bytes(buf: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """(n, width) uint8 matrix -> pyarrow string array (nulls where ``valid`` is False)."""
    n, width = buf.shape
    if n * width >= 2**31:
        raise ValueError("column too large for 32-bit string offsets; generate fewer customers")
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(width)
    bitmap, nulls = _validity(valid)
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(buf)), bitmap, nulls
    )


def _template(template: str, values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return _from_bytes(_template_bytes(template, values), valid)


def _int_str(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(np.asarray(values, dtype=np.int64), mask=None if valid is None else ~valid)
    return pc.cast(arr, pa.string())


def _ids(prefix: str, numbers: np.ndarray, width: int, valid: np.ndarray | None = None) -> pa.Array:
    return _template(prefix + "#" * width, numbers, valid)


def _ymd(days: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 -> integer YYYYMMDD."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    dom = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return (year * 100 + month) * 100 + dom


def _date_str(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return _template(DATE_TEMPLATE, _ymd(days), valid)


@cache
def _clock_lut() -> np.ndarray:
    """'HH:MM:SS' for every second of the day (8 ASCII bytes each)."""
    secs = np.arange(DAY)
    hms = (secs // 3600) * 10_000 + (secs % 3600 // 60) * 100 + secs % 60
    return _template_bytes("##:##:##", hms).view(np.uint64).ravel()


def _ts_bytes(ts: np.ndarray, iso: bool) -> np.ndarray:
    if len(ts) == 0:
        return np.empty((0, len(TS_ISO_TEMPLATE if iso else TS_TEMPLATE)), dtype=np.uint8)
    days = ts // DAY
    secs = ts - days * DAY
    first = int(days.min())
    dates = _template_bytes(DATE_TEMPLATE, _ymd(np.arange(first, int(days.max()) + 1)))
    dates = dates.view("V10").ravel()
    parts: list[bytes | np.ndarray] = [dates[days - first], b"T" if iso else b" ",
                                       _clock_lut()[secs]]
    if iso:
        parts.append(b"+07:00")
    return _concat_fields(len(ts), parts)


def _ts_str(
    ts: np.ndarray, iso: np.ndarray | None = None, valid: np.ndarray | None = None
) -> pa.Array:
    """Seconds since epoch (local time) -> 'YYYY-MM-DD HH:MM:SS', ISO '+07:00' where ``iso``."""
    out = _from_bytes(_ts_bytes(ts, iso=False), valid)
    if iso is not None and iso.any():
        if valid is not None:
            iso = iso & valid
        out = pc.replace_with_mask(out, pa.array(iso), _from_bytes(_ts_bytes(ts[iso], iso=True)))
    return out


def _mix_templates(
    rng: Rng, templates: Sequence[tuple[str, float]], values: np.ndarray
) -> pa.Array:
    """Format each value with a randomly chosen template (templates may differ in width)."""
    which = _sample(rng, [w for _, w in templates], len(values))
    order = np.argsort(which, kind="stable")
    counts = np.bincount(which, minlength=len(templates))
    parts: list[pa.Array] = []
    start = 0
    for t, (template, _) in enumerate(templates):
        parts.append(_template(template, values[order[start:start + counts[t]]]))
        start += counts[t]
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.arange(len(values))
    return pa.concat_arrays(parts).take(pa.array(inverse))


def _with_nulls(arr: pa.Array | pa.ChunkedArray, null_mask: np.ndarray) -> pa.Array:
    if not null_mask.any():
        return arr
    return pc.if_else(pa.array(null_mask), pa.scalar(None, pa.string()), arr)


def _replace(arr: pa.Array, mask: np.ndarray, replacements: pa.Array) -> pa.Array:
    if not mask.any():
        return arr
    return pc.replace_with_mask(arr, pa.array(mask), replacements)


def _round_k(x: np.ndarray) -> np.ndarray:
    """Round VND amounts to the nearest 1,000."""
    return (np.rint(np.asarray(x, dtype=np.float64) / 1000.0) * 1000).astype(np.int64)


def _id_width(minimum: int, count: int) -> int:
    """Id width so that numbers up to 2*count+1000 (and the 'unknown' ids 99..9) fit."""
    return max(minimum, len(str(2 * count + 1000)))


def _unknown_ids(rng: Rng, prefix: str, width: int, k: int) -> pa.Array:
    """Ids that never exist: 'C9999999x'-style or numeric ids from the top of the id range."""
    numeric = _ids(prefix, 10**width - 1 - rng.integers(0, 500, size=k), width)
    literal = pa.scalar(prefix + "9" * width + "x", pa.string())
    return pc.if_else(pa.array(rng.random(k) < 0.5), literal, numeric)


def _choice_str(rng: Rng, values: Sequence[str], k: int) -> pa.Array:
    return _take(values, rng.integers(0, len(values), size=k))


# --------------------------------------------------------------------------------------------
# Provinces
# --------------------------------------------------------------------------------------------


def _province_weights() -> np.ndarray:
    rest = [p for p in PROVINCES if p not in PROVINCE_SHARES]
    raw = np.array([2.0 if p in LARGER_PROVINCES else 1.0 for p in rest])
    rest_share = dict(zip(rest, raw / raw.sum() * (1.0 - sum(PROVINCE_SHARES.values()))))
    return np.array([PROVINCE_SHARES.get(p, rest_share.get(p, 0.0)) for p in PROVINCES])


def _province_options() -> list[list[tuple[str | None, float]]]:
    """All spelling variants of every province with their probabilities (computed once)."""
    options: list[list[tuple[str | None, float]]] = []
    for name in PROVINCES:
        base = "Hồ Chí Minh" if name == "TP. Hồ Chí Minh" else name
        prefixed = [f"Thành phố {base}", f"TP {base}"] if name in CITIES else [f"Tỉnh {name}"]
        aliases = PROVINCE_ALIASES.get(name, [name])
        opts: list[tuple[str | None, float]] = [
            (name, 0.55),
            (PROVINCE_PLAIN.get(name, _fold(name)), 0.15),
            (name.lower(), 0.05),
            (unicodedata.normalize("NFD", name), 0.05),
        ]
        opts += [(p, 0.10 / len(prefixed)) for p in prefixed]
        opts += [(a, 0.10 / len(aliases)) for a in aliases]
        options.append(opts)
    return options


def _province_str(rng: Rng, idx: np.ndarray, empty: float, unknown: float) -> pa.Array:
    n = len(idx)
    out = _pick_options(rng, idx, _province_options())
    u = rng.random(n)
    unknown_mask = u < unknown
    out = _replace(out, unknown_mask, _choice_str(rng, UNKNOWN_PROVINCES, int(unknown_mask.sum())))
    return _with_nulls(out, (u >= unknown) & (u < unknown + empty))


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


def _customers(
    rng: Rng, cfg: Config, width: int, offset: int = 0
) -> tuple[pa.Table, CustomerState]:
    n = cfg.customers

    # signups: density grows over time; customer ids follow signup order
    lo_day = _day(_start_minus_two_years(cfg.start))
    span = cfg.end_day - lo_day + 1
    u = rng.random(n)
    u = np.where(rng.random(n) < 0.5, u, np.sqrt(u))
    signup_day = lo_day + np.minimum((u * span).astype(np.int64), span - 1)
    signup_ts = np.sort(signup_day * DAY + _time_of_day(rng, n))

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

    # email: folded name + digits @ domain
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


def _orders(
    rng: Rng, cfg: Config, cust: CustomerState, width: int | None = None, offset: int = 0
) -> tuple[pa.Table, OrderState]:
    """Orders of the chunk's customers; ``width`` None: the id width follows the order count."""
    n_cust = cfg.customers
    start_day, end_day = cfg.start_day, cfg.end_day
    n_days = end_day - start_day + 1

    # --- customer-level behaviour ----------------------------------------------------------
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

    # --- order timestamps -------------------------------------------------------------------
    cust_idx = np.repeat(np.arange(n_cust), counts)
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
    del order, lo, hi, u, signup
    day_off = ts // DAY - start_day
    width = _id_width(8, n) if width is None else width

    # --- status -----------------------------------------------------------------------------
    age_days = end_day - (ts // DAY)
    su = rng.random(n)
    status = np.full(n, ST_COMPLETED, dtype=np.int64)
    status[su < 0.073] = ST_CANCELLED
    status[(su >= 0.073) & (su < 0.125)] = ST_RETURNED
    p_pending = np.where(age_days < 14, 0.05 + 0.85 * (1 - age_days / 14.0), 0.0)
    status[rng.random(n) < p_pending] = ST_PENDING
    del age_days, su, p_pending  # arrays are freed once used: at ~10 orders a customer, large

    # --- amounts ----------------------------------------------------------------------------
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

    # --- channel, payment, device, province -------------------------------------------------
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
# Bad rows
# --------------------------------------------------------------------------------------------

BadMaker = Callable[[Rng, pa.Table], pa.Table]


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
    path: Callable[[str], Path], fmt: str, verbose: bool, typed: bool = False,
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
) -> dict[str, int]:
    """Write the six raw tables into ``out_dir``; return the rows written per table.

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
                                   path, fmt, verbose=not chunked, typed=typed)
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
    args = parser.parse_args(argv)
    if args.typed and args.format != "parquet":
        parser.error("--typed writes Parquet: add --format parquet (CSV has no column types)")
    started = time.perf_counter()
    rows = generate(
        args.out, args.customers, args.format, args.seed, args.start_date, args.end_date,
        args.bad_row_share, args.chunk_customers, typed=args.typed,
    )
    print(f"done: {sum(rows.values()):,} rows in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
