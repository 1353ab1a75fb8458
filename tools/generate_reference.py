"""The generator's reference lists (tools/generate_data.py): provinces, names, channels and their spellings,
payment methods, devices, promotions, products, event types, and the unreadable values of the bad rows."""

from __future__ import annotations

import unicodedata
from datetime import date

import numpy as np
import pyarrow as pa

from tools.generate_arrays import Rng, _choice_str, _fold, _pick_options, _replace, _with_nulls

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
