"""Audience files per care action (issue 20 part 5, segmentation/audiences.py): Meta lists hashed as Meta specifies,
Zalo lists of mobile numbers, only customers with consent and never a control group, written outside the BI exports.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import duckdb
import pytest
from conftest import DbtRun

from segmentation import audiences

# SHA-256 of the normalised values, written out (checked against hashlib below, and they are Meta's own examples'
# shapes: a trimmed lower-cased email, a phone as digits with the country code and no '+')
EMAIL_HASH = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"  # test@example.com
PHONE_HASH = "25cc2f7574420a2d46c9f2d6cf94cdbb242ef7d479afe92ed6e8eb33a7493093"  # 84912345678


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def test_known_vectors() -> None:
    assert hashlib.sha256(b"test@example.com").hexdigest() == EMAIL_HASH
    assert hashlib.sha256(b"84912345678").hexdigest() == PHONE_HASH
    assert audiences.file_stem("segment:at_risk") == "segment_at_risk"
    assert audiences.file_stem("flag: Khách VIP!") == "flag_kh_ch_vip_"


@pytest.fixture()
def hand_made(tmp_path: Path) -> Path:
    """A warehouse with the three tables the audiences read, and rows on the activation list that should not be
    (as if edited by hand: the module checks again). a1 and a2 share an action; a2 is in its control group. a3 has a
    landline only; a4 has no contact at all. a5 is one person with a6, who is in a control group: out. a7 is one
    person with a8, who said no: out. a9 holds a placeholder phone shared by many ids: its email only, no Zalo row."""
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema restricted; create schema marts")
        connection.execute("""
            create table restricted.customer_activation as select * from (values
                ('a1', '  Test@Example.COM ', '+84912345678', 'mobile', 'segment:at_risk'),
                ('a2', 'two@example.vn', '+84987654321', 'mobile', 'segment:at_risk'),
                ('a3', null, '+842838221234', 'landline', 'flag:is_advocate'),
                ('a4', null, null, null, 'flag:is_advocate'),
                ('a5', 'five@example.vn', null, null, 'segment:at_risk'),
                ('a7', 'seven@example.vn', null, null, 'segment:at_risk'),
                ('a9', 'nine@example.vn', '+84900000000', 'mobile', 'segment:new')
            ) as t(customer_id, email, phone, phone_kind, care_reason)
        """)
        connection.execute("""
            create table marts.customer_segments as select * from (values
                ('a1', 'a1', false, true), ('a2', 'a2', true, true), ('a3', 'a3', false, true),
                ('a4', 'a4', false, true), ('a5', 'a5', false, true), ('a6', 'a5', true, null),
                ('a7', 'a7', false, true), ('a8', 'a7', false, false), ('a9', 'a9', false, true)
            ) as t(customer_id, person_id, is_control_group, has_marketing_consent)
        """)
        connection.execute("""
            create table restricted.identity_overshared_keys as select * from (values
                ('phone', '+84900000000', 6)
            ) as t(key_type, key_value, ids_with_key)
        """)
    return warehouse


def test_hashing_control_group_and_landlines(hand_made: Path, tmp_path: Path) -> None:
    counts = audiences.write(hand_made, tmp_path / "audiences", log=lambda _: None)
    current = tmp_path / "audiences" / "current"
    assert read(current / "meta" / "segment_at_risk.csv") == [{"email": EMAIL_HASH, "phone": PHONE_HASH}]
    assert read(current / "zalo" / "segment_at_risk.csv") == [{"phone": "84912345678"}]
    # a landline is in the Meta list (a phone match), not in the Zalo list; no contact at all: no row
    assert read(current / "meta" / "flag_is_advocate.csv") == [
        {"email": "", "phone": hashlib.sha256(b"842838221234").hexdigest()}]
    assert read(current / "zalo" / "flag_is_advocate.csv") == []
    # the placeholder phone is nobody's: the email alone, and no Zalo row
    assert read(current / "meta" / "segment_new.csv") == [
        {"email": hashlib.sha256(b"nine@example.vn").hexdigest(), "phone": ""}]
    assert read(current / "zalo" / "segment_new.csv") == []
    assert counts == {"flag:is_advocate": {"meta": 1, "zalo": 0}, "segment:at_risk": {"meta": 1, "zalo": 1},
                      "segment:new": {"meta": 1, "zalo": 0}}
    # written again: the folder is replaced whole, nothing of the earlier run is left
    (current / "meta" / "stale.csv").write_text("email,phone\n", encoding="utf-8")
    audiences.write(hand_made, tmp_path / "audiences", log=lambda _: None)
    assert not (current / "meta" / "stale.csv").exists()


def test_sample_audiences_hold_consenting_treated_people_only(sample_build: DbtRun, tmp_path: Path) -> None:
    """On the sample (ids linked into people by email): the rule worked out here in Python from the staged ids, the
    identity map and the mart, against what the files hold."""
    counts = audiences.write(sample_build.warehouse, tmp_path / "restricted" / "audiences", log=lambda _: None)
    ids = sample_build.query("""
        select map.person_id, customers.has_marketing_consent
        from restricted.customer_identity_map as map
        inner join staging.stg_shop__customers as customers using (customer_id)
    """)
    said_no = {person for person, consent in ids if consent is False}
    said_yes = {person for person, consent in ids if consent is True}
    held_back = {person for (person,) in sample_build.query(
        "select person_id from marts.customer_segments where is_control_group")}
    overshared = set(sample_build.query("select key_type, key_value from restricted.identity_overshared_keys"))
    rows = sample_build.query("""
        select segments.person_id, segments.care_reason, customers.email, customers.phone
        from marts.customer_segments as segments
        inner join intermediate.int_customers__grained as customers using (customer_id)
    """)

    def sha(text: str | None) -> str:
        return hashlib.sha256(text.encode()).hexdigest() if text else ""

    wanted: dict[str, list[tuple[str, str]]] = {}
    for person, care_reason, email, phone in rows:
        if person in said_no or person not in said_yes or person in held_back:
            continue
        email = email and email.strip().lower()
        email = None if ("email", email) in overshared else email
        phone = None if ("phone", phone) in overshared else phone
        if email or phone:
            wanted.setdefault(care_reason, []).append((sha(email), sha(phone and phone.lstrip("+"))))
    # the sample links ids, so the person rule leaves out ids that the id's own consent and draw would let in
    own_rule = sample_build.query("""
        select count(*)
        from marts.customer_segments as segments
        inner join intermediate.int_customers__grained as customers using (customer_id)
        where customers.has_marketing_consent and not segments.is_control_group
            and (customers.email is not null or customers.phone is not null)
    """)[0][0]
    assert sum(len(pairs) for pairs in wanted.values()) < own_rule
    assert {reason: count["meta"] for reason, count in counts.items()} == {
        reason: len(pairs) for reason, pairs in wanted.items()}
    current = tmp_path / "restricted" / "audiences" / "current" / "meta"
    for care_reason, pairs in wanted.items():
        got = sorted((row["email"], row["phone"]) for row in read(current / f"{audiences.file_stem(care_reason)}.csv"))
        assert got == sorted(pairs), care_reason


def test_a_warehouse_without_the_tables_says_so(tmp_path: Path) -> None:
    with pytest.raises(audiences.AudienceError, match="no warehouse"):
        audiences.write(tmp_path / "missing.duckdb", tmp_path / "out")
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    with pytest.raises(audiences.AudienceError, match="run make build first"):
        audiences.write(tmp_path / "empty.duckdb", tmp_path / "out")


def test_the_publish_step_writes_them_beside_the_exports_not_inside() -> None:
    exports = Path("exports")
    default = exports.parent / audiences.DEFAULT_OUT
    assert exports not in default.parents and default != exports
