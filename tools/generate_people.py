"""People with several customer ids, for the generator (``--multi-id-share``) and the identity tests.

A retailer's store, Zalo, Shopee and website each give the same person a customer id of its own. With
``multi_id_share`` = s, about s of the customers are made an extra id of another (earlier) customer, its
"primary": half share the primary's phone, written in another format (an 11-digit number of the plan before the
2018-2019 renumbering where the number has one, e.g. 0162 123 4567 for 032 123 4567), half its email, upper-cased or
padded with spaces. A few groups of ``max_ids_per_key + 1`` customers are given one shop phone (028 3999 0000 and
up): a number held by more ids than the cap, which must link nobody. The choice of rows is vectorised (only the
planted rows' new spellings are written one by one, a few per cent of the rows) and comes from its own random
stream: with s = 0 the customers are exactly those of a run without the option.

``resolve_people`` is the rule of docs/identity.md written again in Python (union-find over the normalised phone and
the trimmed lower-cased email, keys held by more than the cap linking nothing): the generator's record of who is one
person, for the tests to compare with the warehouse's customer_identity_map.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

# the 2018-2019 renumbering: new two digits after the 0 -> the old three
OLD_MOBILE_PREFIX = {
    "32": "162", "33": "163", "34": "164", "35": "165", "36": "166", "37": "167", "38": "168", "39": "169",
    "70": "120", "79": "121", "77": "122", "76": "126", "78": "128",
    "83": "123", "84": "124", "85": "125", "81": "127", "82": "129",
    "56": "186", "58": "188", "59": "199",
}
NEW_MOBILE_PREFIX = {old: new for new, old in OLD_MOBILE_PREFIX.items()}
SHOP_PHONE_GROUPS = 3


def plant_people(table: pa.Table, seed: int, share: float, max_ids_per_key: int = 5) -> pa.Table:
    """The customers table with about ``share`` of its rows made extra ids of earlier rows (see the module)."""
    if not 0.0 <= share <= 0.5:
        raise ValueError("multi_id_share must be between 0 and 0.5")
    n = table.num_rows
    if share == 0.0 or n < 2:
        return table
    rng = np.random.default_rng([seed, 20_19])
    extra = np.flatnonzero(rng.random(n) < share)
    extra = extra[extra > 0]
    primary = (rng.random(len(extra)) * extra).astype(np.int64)  # an earlier row
    by_phone = rng.random(len(extra)) < 0.5

    phones = np.array(table["phone"].to_pylist(), dtype=object)
    emails = np.array(table["email"].to_pylist(), dtype=object)
    # a primary without the key gets a fresh one of its own first
    fresh_phone = np.char.add("09", np.char.zfill((rng.integers(0, 100_000_000, n)).astype(str), 8)).astype(object)
    fresh_email = np.char.add(np.char.add("person", np.arange(n).astype(str)), "@example.vn").astype(object)
    phone_rows, email_rows = primary[by_phone], primary[~by_phone]
    phones[phone_rows] = np.where(_is_null(phones[phone_rows]), fresh_phone[phone_rows], phones[phone_rows])
    emails[email_rows] = np.where(_is_null(emails[email_rows]), fresh_email[email_rows], emails[email_rows])
    phones[extra[by_phone]] = [_other_format(phone) for phone in phones[phone_rows]]
    emails[extra[~by_phone]] = [_shouted(email) for email in emails[email_rows]]

    # shop phones: groups of cap + 1 ids on one number, taken among rows not planted above
    free = np.setdiff1d(np.arange(n), np.concatenate([extra, primary]))
    size = max_ids_per_key + 1
    groups = min(SHOP_PHONE_GROUPS, len(free) // size)
    for group, rows in enumerate(np.split(rng.permutation(free)[: groups * size], groups) if groups else []):
        phones[rows] = f"028 3999 {group:04d}"
    return table.set_column(table.schema.get_field_index("phone"), "phone", pa.array(phones.tolist(), pa.string())) \
        .set_column(table.schema.get_field_index("email"), "email", pa.array(emails.tolist(), pa.string()))


def _is_null(values: np.ndarray) -> np.ndarray:
    return np.array([value is None for value in values], dtype=bool)


def _other_format(phone: str) -> str:
    """The same number written otherwise: the old 11-digit form where it has one, else +84 and spaces."""
    digits = re.sub(r"[^0-9]", "", phone)
    national = digits[-9:] if len(digits) >= 9 else digits
    old = OLD_MOBILE_PREFIX.get(national[:2])
    if old and len(national) == 9:
        return f"0{old} {national[2:5]} {national[5:]}"
    return f"+84 {national[:2]} {national[2:5]} {national[5:]}"


def _shouted(email: str) -> str:
    return f"  {email.strip().upper()} "


def normalise_phone(text: str | None) -> str | None:
    """macros/parsing.sql normalize_vn_phone, in Python: E.164 for a mobile (renumbered when old) or landline."""
    if text is None:
        return None
    digits = re.sub(r"[^0-9]", "", re.sub(r" *(ext[.:]?|x|#|máy lẻ) *[0-9]{1,6} *$", "", text, flags=re.IGNORECASE))
    if re.fullmatch(r"(0084|00840|84|0|840)?[35789][0-9]{8}", digits):
        return "+84" + digits[-9:]
    if re.fullmatch(r"(0084|00840|84|0|840)?2[0-9]{9}", digits):
        return "+84" + digits[-10:]
    if re.fullmatch(r"(0084|00840|84|0|840)?1(2[0-9]|6[2-9]|8[68]|99)[0-9]{7}", digits):
        return "+84" + NEW_MOBILE_PREFIX[digits[-10:-7]] + digits[-7:]
    return None


def normalise_email(text: str | None) -> str | None:
    if text is None:
        return None
    trimmed = text.strip().lower()
    return trimmed if re.fullmatch(r".+@.+\..+", trimmed) else None


def resolve_people(customers: Iterable[tuple[str, str | None, str | None]], max_ids_per_key: int = 5) -> dict[str, str]:
    """customer_id -> person_id (the smallest id of the person) for (customer_id, phone, email) rows, by the rule
    of docs/identity.md: ids sharing a normalised phone or email are one person, transitively; a key held by more
    than max_ids_per_key ids links nothing."""
    rows = list(customers)
    parent = {customer_id: customer_id for customer_id, _, _ in rows}

    def find(item: str) -> str:
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    holders: dict[tuple[str, str], set[str]] = {}
    for customer_id, phone, email in rows:
        for key in (("phone", normalise_phone(phone)), ("email", normalise_email(email))):
            if key[1] is not None:
                holders.setdefault(key, set()).add(customer_id)
    for ids in holders.values():
        if 2 <= len(ids) <= max_ids_per_key:
            first, *others = sorted(ids)
            for other in others:
                a, b = find(first), find(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return {customer_id: find(customer_id) for customer_id in parent}


__all__ = ["normalise_email", "normalise_phone", "plant_people", "resolve_people"]
