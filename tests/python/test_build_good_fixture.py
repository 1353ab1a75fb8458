"""The hand-made `good` fixture: every figure below was worked out by hand from its two CSV files.

as_of_date defaults to the newest valid order (2024-12-31). Kept: C1-C5. Rejected customers: a row without id,
a signup that cannot be read, an exact duplicate of C1. Rejected orders: unknown customer (O9), amount `abc`
(O10), a date in 2099 (O11), a negative amount (O12), an exact duplicate of O3, an older version of O13.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from conftest import DbtRun


def segments(run: DbtRun) -> dict[str, dict]:
    return {row["customer_id"]: row for row in run.table("marts.customer_segments")}


def test_mart_has_one_row_per_kept_customer(good_build: DbtRun) -> None:
    mart = segments(good_build)
    assert sorted(mart) == ["C1", "C2", "C3", "C4", "C5"]
    assert {row["as_of_date"] for row in mart.values()} == {date(2024, 12, 31)}


def test_lifecycle_segments_and_reasons(good_build: DbtRun) -> None:
    mart = segments(good_build)
    assert {cid: row["lifecycle_segment"] for cid, row in mart.items()} == {
        "C1": "loyal",  # 4 completed orders, last on the as-of date
        "C2": "lost",  # last completed order 2023-03-01
        "C3": "new",  # first order 11 days ago, and the top customer (VIP flag)
        "C4": "potential",  # never ordered
        "C5": "potential",  # one cancelled order and one refunded beyond its value
    }
    assert mart["C2"]["segment_reason"] == "last order 671 days ago > 365"
    assert mart["C2"]["lifecycle_segment_vi"] == "khách hàng đã rời bỏ"
    assert mart["C3"]["is_vip"] and not mart["C1"]["is_vip"]
    assert mart["C1"]["is_loyal"] and mart["C3"]["is_business"]


def test_money_is_exact_decimal(good_build: DbtRun) -> None:
    mart = segments(good_build)
    # C1: (500,000 - 50,000) + 300,000 + 1,200,000 + 100,000; the duplicate O3 and old O13 are not counted twice
    assert mart["C1"]["net_revenue"] == Decimal("2050000.00")
    assert mart["C1"]["completed_order_count"] == 4
    assert mart["C1"]["average_order_value"] == Decimal("512500.00")
    # C2: the returned order without a refunded amount is refunded in full
    assert mart["C2"]["net_revenue"] == Decimal("180000.00")
    assert mart["C5"]["net_revenue"] == Decimal("0.00")
    assert {row["value_tier"] for cid, row in mart.items() if cid in ("C1", "C3")} == {"A"}
    assert mart["C2"]["value_tier"] == "C"


def test_channels_regions_demographics(good_build: DbtRun) -> None:
    mart = segments(good_build)
    c1 = mart["C1"]
    assert (c1["preferred_channel"], c1["first_channel"], c1["last_channel"]) == ("app", "shopee", "app")
    assert c1["channel_count"] == 4 and c1["is_omnichannel"] and c1["online_order_share"] == 0.75
    assert c1["acquisition_channel"] == "shopee"
    assert {cid: (row["home_province"], row["home_region"]) for cid, row in mart.items()} == {
        "C1": ("TP. Hồ Chí Minh", "South"),  # "TP.HCM"
        "C2": ("Hà Nội", "North"),  # "Ha Noi"
        "C3": ("Huế", "Central"),  # "Thừa Thiên Huế", the pre-2025 name
        "C4": ("unknown", "unknown"),
        "C5": ("Nghệ An", "Central"),  # "Tỉnh Nghệ An"
    }
    assert {cid: row["age_band"] for cid, row in mart.items()} == {
        "C1": "26-40", "C2": "18-25", "C3": "unknown", "C4": "56+", "C5": "26-40",
    }
    assert {cid: row["gender"] for cid, row in mart.items()} == {
        "C1": "male", "C2": "female", "C3": "male", "C4": "female", "C5": "unknown",
    }


def test_no_direct_identifiers_in_the_mart(good_build: DbtRun) -> None:
    columns = {row[0] for row in good_build.query(
        "select column_name from information_schema.columns where table_name = 'customer_segments'"
    )}
    assert not columns & {"full_name", "email", "phone", "birth_date", "province_name", "ship_province_name"}


def test_contact_details_are_normalised_in_staging(good_build: DbtRun) -> None:
    customers = {row["customer_id"]: row for row in good_build.table("staging.stg_shop__customers")}
    assert customers["C1"]["email"] == "an@gmail.com"
    assert customers["C1"]["phone"] == "+84912345678"
    assert customers["C2"]["phone"] == "+84987654321"
    assert customers["C3"]["phone"] == "+84903111222"
    assert customers["C1"]["tags"] == "vip;newsletter"
    assert str(customers["C3"]["signup_at"]) == "2024-06-01 08:00:00"


def test_every_raw_row_is_kept_or_rejected_with_a_reason(good_build: DbtRun) -> None:
    reconciliation = {row["table_name"]: row for row in good_build.table("audit.raw_row_reconciliation")}
    assert (reconciliation["customers"]["raw_rows"], reconciliation["customers"]["rejected_rows"]) == (8, 3)
    assert (reconciliation["orders"]["raw_rows"], reconciliation["orders"]["rejected_rows"]) == (15, 6)
    for row in reconciliation.values():
        assert row["raw_rows"] == row["staged_rows"] + row["rejected_rows"]
    rejected = {
        (row[0], row[1]): row[2]
        for row in good_build.query(
            "select table_name, coalesce(record_id, '?'), rejection_reason from audit.rejected_rows"
        )
    }
    assert rejected[("orders", "O9")] == "unknown_customer"
    assert rejected[("orders", "O10")] == "unparseable_value"
    assert rejected[("orders", "O11")] == "date_in_future"
    assert rejected[("orders", "O12")] == "negative_amount"
    assert rejected[("orders", "O3")] == "duplicate_row"
    assert rejected[("orders", "O13")] == "superseded_version"
    assert rejected[("customers", "C6")] == "unparseable_value"
    assert rejected[("customers", "?")] == "missing_id"


def test_build_prints_rejections_and_segment_summary(good_build: DbtRun) -> None:
    assert "Raw rows kept and rejected (table, reason, rows, share of raw rows" in good_build.output
    assert "Customer segments as of 2024-12-31:" in good_build.output
    assert "raw input: referrals: no file" in good_build.output


def test_too_few_customers_for_predictions_warns_and_leaves_them_null(good_build: DbtRun) -> None:
    statuses = dict(good_build.query("select distinct model, fit_status from marts.clv_model_params"))
    assert statuses == {"bg_nbd": "too_few_customers", "gamma_gamma": "no_repeat_buyers"}
    (values,) = good_build.query("select count(value) from marts.clv_model_params")[0]
    (predicted,) = good_build.query(
        "select count(p_alive) + count(predicted_clv_365d) + count(predicted_spend_tier) from marts.customer_segments"
    )[0]
    assert values == predicted == 0
    assert "Warning in test warn_clv_models_fitted" in good_build.output
    assert "bg_nbd       NOT FITTED (too_few_customers): 3 customers with a purchase" in good_build.output
