"""Values as people type them (issue 16): null words, phones that lost their leading zero, landlines, provinces
written inside an address, and the count of every value the cleaning reads as empty (docs/bad-input.md, rows 47-52).

One dbt build of a small raw folder holding every case (each dbt invocation costs seconds), then plain Python for the
province-seed builder.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from conftest import PROJECT_DIR, DbtRun, run_dbt

from tools import build_province_seeds

CUSTOMER_FIELDS = ["customer_id", "full_name", "email", "phone", "gender", "birth_date", "signup_at", "province",
                   "customer_type", "company_name", "tags", "acquisition_channel", "marketing_consent"]
ORDER_FIELDS = ["order_id", "customer_id", "ordered_at", "status", "channel", "ship_province", "gross_amount",
                "discount_amount", "refunded_amount", "promo_code", "payment_method", "device_type", "updated_at"]
# (customer_id, email, phone, gender, province, acquisition_channel, marketing_consent)
CUSTOMERS = [
    ("T1", "t1@example.vn", "912345678", "Nữ", "Hà Nội", "store", "yes"),  # a mobile that lost its zero in Excel
    ("T2", "t2@example.vn", "(028) 3822 1234", "Nam", "TP.HCM", "store", "yes"),  # a landline
    ("T3", "t3@example.vn", "0903 111 222", "Nam", "Q.1, TP Hồ Chí Minh", "store", "no"),  # ships mostly to Huế
    ("T4", "t4@example.vn", "0377 777 777", "Nữ", "123 Lê Lợi, Quận 1, TP.HCM", "store", "no"),
    ("T5", "t5.gmail.com", "12345", "?", "Phnom Penh", "Tiki", "maybe"),  # nothing usable
    ("T6", "N/A", "0987 654", "NULL", "Tp HCMM", "-", "None"),  # null words are empty, not counted
]
# (order_id, customer_id, ship_province, gross_amount, discount_amount, channel, device_type)
ORDERS = [
    ("P1", "T3", "Huế", "100000", "0", "store", "mobile"),
    ("P2", "T3", "Huế", "100000", "N/A", "store", "mobile"),
    ("P3", "T3", "Q.1, TP Hồ Chí Minh", "100000", "-", "store", "mobile"),
    ("P4", "T1", "12 Sukhumvit, Khlong Toei, Bangkok", "200000", "0", "Tiki", "smart tv"),
    ("P5", "T1", "Hà Nội", "None", "0", "store", "mobile"),
    ("P6", "T2", "Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh", "300000", "#N/A", "store", "mobile"),
]


def write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def typed_build(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    raw = tmp_path_factory.mktemp("typed_raw")
    write_csv(raw / "customers.csv", CUSTOMER_FIELDS, [
        {"customer_id": cid, "full_name": f"Khách {cid}", "email": email, "phone": phone, "gender": gender,
         "signup_at": "2023-01-05 10:00:00", "province": province, "acquisition_channel": channel,
         "marketing_consent": consent}
        for cid, email, phone, gender, province, channel, consent in CUSTOMERS])
    write_csv(raw / "orders.csv", ORDER_FIELDS, [
        {"order_id": oid, "customer_id": cid, "ordered_at": f"2024-0{n}-10 10:00:00", "status": "completed",
         "channel": channel, "ship_province": province, "gross_amount": gross, "discount_amount": discount,
         "payment_method": "cod", "device_type": device}
        for n, (oid, cid, province, gross, discount, channel, device) in enumerate(ORDERS, start=1)])
    # no control groups: with six customers the draw would decide who is on the activation list (care-lift.md)
    run = run_dbt(tmp_path_factory.mktemp("typed"), raw, max_rejected_share=0.5, control_group_share=0)
    assert run.returncode == 0, run.output[-5000:]
    return run


def test_a_consenting_customer_whose_phone_lost_its_zero_stays_in_the_activation_list(typed_build: DbtRun) -> None:
    activation = {row["customer_id"]: row for row in typed_build.table("restricted.customer_activation")}
    assert set(activation) == {"T1", "T2"}  # consent yes; T3 and T4 said no
    assert (activation["T1"]["phone"], activation["T1"]["phone_kind"]) == ("+84912345678", "mobile")


def test_a_landline_is_kept_as_a_landline(typed_build: DbtRun) -> None:
    phones = {row[0]: row[1:] for row in typed_build.query(
        "select customer_id, phone, phone_kind from staging.stg_shop__customers")}
    assert phones["T2"] == ("+842838221234", "landline")
    assert phones["T3"] == ("+84903111222", "mobile")
    assert phones["T5"] == phones["T6"] == (None, None)
    (kind,) = typed_build.query("select phone_kind from restricted.customer_activation where customer_id = 'T2'")[0]
    assert kind == "landline"  # kept for a call; a Zalo or SMS tool skips it by phone_kind


def test_a_province_inside_an_address_is_found(typed_build: DbtRun) -> None:
    regions = {row[0]: row[1:] for row in typed_build.query(
        "select customer_id, home_province, home_province_source from marts.customer_segments")}
    # T3 ships twice to Huế and once to Hồ Chí Minh City: its own province wins, not its most frequent delivery
    assert regions["T3"] == ("TP. Hồ Chí Minh", "customer")
    assert regions["T4"] == ("TP. Hồ Chí Minh", "customer")
    assert regions["T5"][1] == "unknown"
    ship_keys = dict(typed_build.query("select order_id, ship_province_key from staging.stg_shop__orders"))
    assert ship_keys["P3"] == "hochiminh" and ship_keys["P6"] == "hochiminh"


def test_null_words_are_empty(typed_build: DbtRun) -> None:
    rejected = typed_build.query("select record_id, rejection_reason, rejected_column from audit.rejected_rows")
    assert rejected == [("P5", "missing_required_value", "gross_amount")]  # gross_amount 'None'
    discounts = dict(typed_build.query("select order_id, discount_amount from staging.stg_shop__orders"))
    assert discounts["P2"] == discounts["P3"] == discounts["P6"] == 0  # 'N/A', '-', '#N/A'
    (consent, channel) = typed_build.query(
        "select has_marketing_consent, acquisition_channel from staging.stg_shop__customers"
        " where customer_id = 'T6'")[0]
    assert (consent, channel) == (None, "unknown")


def test_nulled_values_are_counted_with_masked_examples(typed_build: DbtRun) -> None:
    counts = {row[:3]: row[3:] for row in typed_build.query(
        "select table_name, column_name, kind, value_count, distinct_values, examples from audit.raw_values_nulled")}
    assert counts == {
        ("customers", "phone", "invalid_phone"): (2, 2, "09****54 (1) | 12*45 (1)"),
        ("customers", "email", "invalid_email"): (1, 1, "t5********om (1)"),
        ("customers", "gender", "unknown_code"): (1, 1, "? (1)"),
        ("customers", "acquisition_channel", "unknown_code"): (1, 1, "Tiki (1)"),
        ("customers", "marketing_consent", "unknown_code"): (1, 1, "maybe (1)"),
        ("customers", "province", "unknown_province"): (2, 2, "Phnom Penh (1) | Tp HCMM (1)"),
        ("orders", "channel", "unknown_code"): (1, 1, "Tiki (1)"),
        ("orders", "device_type", "unknown_code"): (1, 1, "smart tv (1)"),
        ("orders", "ship_province", "unknown_province"): (1, 1, "…, Khlong Toei, Bangkok (1)"),
    }
    # the raw phone and email are in no audit table
    audit_text = str(typed_build.query("select * from audit.raw_values_nulled"))
    assert "0987 654" not in audit_text and "t5.gmail.com" not in audit_text
    assert "Raw values read as empty, not usable" in typed_build.output


def test_unmatched_province_spellings_are_listed(typed_build: DbtRun) -> None:
    listed = typed_build.query(
        "select table_name, province_spelling, value_count from audit.unmatched_province_spellings order by all")
    assert listed == [("customers", "Phnom Penh", 1), ("customers", "Tp HCMM", 1),
                      ("orders", "…, Khlong Toei, Bangkok", 1)]
    assert ("Province spellings matching no province, most rows first (add yours to seeds/vn_province_aliases.csv;"
            " all in audit.unmatched_province_spellings): Phnom Penh (1), Tp HCMM (1), …, Khlong Toei, Bangkok (1)"
            in typed_build.output)
    # an alias added for it would match: the seed builder's key is the one the build computed
    (key,) = typed_build.query("select province_key from staging.stg_shop__customers where customer_id = 'T6'")[0]
    assert key == build_province_seeds.province_key("Tp HCMM") == "hcmm"


def test_province_seed_builder_keeps_spellings_added_by_hand(tmp_path: Path) -> None:
    """README: add `,<spelling>,<province>` to seeds/vn_province_aliases.csv and run the builder. On a clone of the
    project alone (no ../shared reference) it computes the keys and keeps every line; a wrong province stops it."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name in ("vn_provinces.csv", "vn_province_aliases.csv"):
        shutil.copy(PROJECT_DIR / "seeds" / name, seeds / name)
    original = (seeds / "vn_province_aliases.csv").read_text(encoding="utf-8")
    missing = tmp_path / "no_reference.csv"
    build_province_seeds.main(missing, seeds)
    assert (seeds / "vn_province_aliases.csv").read_text(encoding="utf-8") == original  # nothing else changes
    with (seeds / "vn_province_aliases.csv").open("a", encoding="utf-8") as handle:
        handle.write(",Tp HCMM,TP. Hồ Chí Minh\nwrong key,  Q1 Sài Gòn ,TP. Hồ Chí Minh\n")
    build_province_seeds.main(missing, seeds)
    build_province_seeds.main(missing, seeds)  # twice: the additions survive a rebuild
    rows = list(csv.DictReader((seeds / "vn_province_aliases.csv").open(encoding="utf-8")))
    added = {row["province_key"]: (row["province_alias"], row["province"]) for row in rows}
    assert added["hcmm"] == ("Tp HCMM", "TP. Hồ Chí Minh")
    assert added["q1saigon"] == ("Q1 Sài Gòn", "TP. Hồ Chí Minh")
    assert len(rows) == len(original.splitlines()) - 1 + 2
    with (seeds / "vn_province_aliases.csv").open("a", encoding="utf-8") as handle:
        handle.write(",Phnom Penh,Cambodia\n")
    with pytest.raises(SystemExit, match="line 87: 'Cambodia' is not one of the 34 provinces"):
        build_province_seeds.main(missing, seeds)
