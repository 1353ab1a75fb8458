"""Custom segments: every operator on the hand-made `good` fixture (both sides of each boundary), nested groups,
literals that cannot inject SQL, and invalid definitions that stop the build naming the segment and condition."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import FIXTURES, DbtRun, run_dbt

# The good fixture's mart, as of 2024-12-31:
#   C1 loyal, TP. Hồ Chí Minh / South, 4 orders, 2,050,000, tags vip;newsletter, signup 2023-01-05, last 2024-12-31
#   C2 lost, Hà Nội / North, 1 order, 180,000, signup 2023-02-01, last order 2023-03-01
#   C3 new, Huế / Central, business, 1 order, 5,000,000, tags wholesale, signup 2024-06-01, last 2024-12-20
#   C4 potential, unknown province and region, signup 2024-12-01 (30 days before the as-of date)
#   C5 potential, Nghệ An / Central, signup 2022-03-03
CASES = {
    "eq_text": ({"all": [{"column": "lifecycle_segment", "operator": "=", "value": "loyal"}]}, {"C1"}),
    "ne_text": ({"all": [{"column": "home_region", "operator": "!=", "value": "Central"}]}, {"C1", "C2", "C4"}),
    "gt_1_order": ({"all": [{"column": "completed_order_count", "operator": ">", "value": 1}]}, {"C1"}),
    "ge_1_order": ({"all": [{"column": "completed_order_count", "operator": ">=", "value": 1}]}, {"C1", "C2", "C3"}),
    "lt_1_order": ({"all": [{"column": "completed_order_count", "operator": "<", "value": 1}]}, {"C4", "C5"}),
    "le_0_orders": ({"all": [{"column": "completed_order_count", "operator": "<=", "value": 0}]}, {"C4", "C5"}),
    "between_inclusive": (
        {"all": [{"column": "net_revenue", "operator": "between", "value": [180000, 2050000]}]}, {"C1", "C2"},
    ),
    "between_just_outside": (
        {"all": [{"column": "net_revenue", "operator": "between", "value": [180000.01, 2049999.99]}]}, set(),
    ),
    "in_provinces": (
        {"all": [{"column": "home_province", "operator": "in", "value": ["Hà Nội", "Huế"]}]}, {"C2", "C3"},
    ),
    "not_in_segments": (
        {"all": [{"column": "lifecycle_segment", "operator": "not_in", "value": ["loyal", "lost"]}]},
        {"C3", "C4", "C5"},
    ),
    "tag_any_case": ({"all": [{"column": "tags", "operator": "contains", "value": "VIP"}]}, {"C1"}),
    "tag_whole_only": ({"all": [{"column": "tags", "operator": "contains", "value": "news"}]}, set()),
    "never_ordered": ({"all": [{"column": "last_order_date", "operator": "is_null"}]}, {"C4", "C5"}),
    "age_known": ({"all": [{"column": "age_years", "operator": "is_not_null"}]}, {"C1", "C2", "C4", "C5"}),
    "signup_within_30": ({"all": [{"column": "signup_date", "operator": "within_last_days", "value": 30}]}, {"C4"}),
    "signup_within_29": ({"all": [{"column": "signup_date", "operator": "within_last_days", "value": 29}]}, set()),
    "last_order_before_11": (
        {"all": [{"column": "last_order_date", "operator": "before_days_ago", "value": 11}]}, {"C2"},
    ),
    "last_order_before_10": (
        {"all": [{"column": "last_order_date", "operator": "before_days_ago", "value": 10}]}, {"C2", "C3"},
    ),
    "business": ({"all": [{"column": "is_business", "operator": "=", "value": True}]}, {"C3"}),
    "signup_date_before": (
        {"all": [{"column": "signup_date", "operator": "<", "value": "2023-01-06"}]}, {"C1", "C5"},
    ),
    "nested": (
        {"all": [
            {"column": "home_region", "operator": "=", "value": "Central"},
            {"any": [
                {"column": "is_business", "operator": "=", "value": True},
                {"column": "completed_order_count", "operator": "=", "value": 0},
            ]},
        ]},
        {"C3", "C5"},
    ),
    "any_top_level": (
        {"any": [
            {"column": "lifecycle_segment", "operator": "=", "value": "lost"},
            {"column": "tags", "operator": "contains", "value": "wholesale"},
        ]},
        {"C2", "C3"},
    ),
    "ne_keeps_empty_values": (
        {"all": [{"column": "last_order_date", "operator": "!=", "value": "2024-12-31"}]}, {"C2", "C3", "C4", "C5"},
    ),
    "not_in_keeps_empty_values": (
        {"all": [{"column": "last_order_date", "operator": "not_in", "value": ["2024-12-31", "2023-03-01"]}]},
        {"C3", "C4", "C5"},
    ),
    "injection_is_a_literal": (
        {"all": [{"column": "home_province", "operator": "=", "value": "x' or 1=1 --"}]}, set(),
    ),
}

INVALID = [
    ({"key": "bad_column", "name": "n", "all": [{"column": "email", "operator": "=", "value": "a"}]},
     "custom segment 'bad_column' condition.all[0] (email =): unknown column 'email'"),
    ({"key": "sql_in_column", "name": "n",
      "all": [{"column": "customer_id; drop table x", "operator": "is_null"}]},
     "custom segment 'sql_in_column' condition.all[0] (customer_id; drop table x is_null): unknown column"),
    ({"key": "bad_operator", "name": "n", "all": [{"column": "tags", "operator": "like", "value": "%a%"}]},
     "custom segment 'bad_operator' condition.all[0] (tags like): unknown operator 'like'"),
    ({"key": "text_for_number", "name": "n",
      "all": [{"column": "completed_order_count", "operator": "=", "value": "five"}]},
     "custom segment 'text_for_number' condition.all[0] (completed_order_count =): expects one number value"),
    ({"key": "days_as_text", "name": "n",
      "all": [{"column": "signup_date", "operator": "within_last_days", "value": "30"}]},
     "custom segment 'days_as_text' condition.all[0] (signup_date within_last_days): expects a whole number of days"),
    ({"key": "between_three", "name": "n",
      "all": [{"column": "net_revenue", "operator": "between", "value": [1, 2, 3]}]},
     "custom segment 'between_three' condition.all[0] (net_revenue between): expects a list of two number values"),
    ({"key": "contains_number", "name": "n",
      "all": [{"column": "net_revenue", "operator": "contains", "value": "1"}]},
     "custom segment 'contains_number' condition.all[0] (net_revenue contains): operator contains does not apply"),
    ({"key": "bad_date", "name": "n", "all": [{"column": "signup_date", "operator": ">", "value": "01/02/2024"}]},
     "custom segment 'bad_date' condition.all[0] (signup_date >): expects one date value (yyyy-mm-dd)"),
    ({"key": "impossible_date", "name": "n",
      "all": [{"column": "signup_date", "operator": "=", "value": "2024-02-30"}]},
     "custom segment 'impossible_date' condition.all[0] (signup_date =): expects one date value (yyyy-mm-dd)"),
    ({"key": "between_reversed", "name": "n",
      "all": [{"column": "net_revenue", "operator": "between", "value": [10, 1]}]},
     "custom segment 'between_reversed' condition.all[0] (net_revenue between): between needs [low, high] with low"),
    ({"key": "null_with_value", "name": "n",
      "all": [{"column": "tags", "operator": "is_null", "value": "x"}]},
     "custom segment 'null_with_value' condition.all[0] (tags is_null): expects no value"),
    ({"key": "empty_group", "name": "n", "all": [{"any": []}]},
     "custom segment 'empty_group' condition.all[0]: any needs a non-empty list of conditions"),
    ({"key": "both_groups", "name": "n", "all": [], "any": []},
     "custom segment 'both_groups': needs exactly one of all or any"),
    ({"key": "no_name", "all": [{"column": "tags", "operator": "is_null"}]},
     "custom segment 'no_name': name is missing"),
    ({"key": "eq_text", "name": "again", "all": [{"column": "tags", "operator": "is_null"}]},
     "custom segment 'eq_text': duplicate key"),
    ({"key": "Bad Key", "name": "n", "all": [{"column": "tags", "operator": "is_null"}]},
     "custom segment 'Bad Key': key must be lower-case letters"),
    # purchase conditions (bought / not_bought on the order lines)
    ({"key": "empty_category", "name": "n", "all": [{"bought": {"category": []}}]},
     "custom segment 'empty_category' condition.all[0] (bought): category expects one text value or a non-empty list"),
    ({"key": "zero_times", "name": "n", "all": [{"bought": {"category": "books", "min_times": 0}}]},
     "custom segment 'zero_times' condition.all[0] (bought): min_times expects a whole number of at least 1, got 0"),
    ({"key": "colour", "name": "n", "all": [{"bought": {"colour": "red"}}]},
     "custom segment 'colour' condition.all[0] (bought): unknown key colour"),
    ({"key": "days_text", "name": "n", "any": [{"not_bought": {"within_last_days": "30"}}]},
     "custom segment 'days_text' condition.any[0] (not_bought): within_last_days expects a whole number of at least 0"),
    ({"key": "amount_text", "name": "n", "all": [{"bought": {"min_amount": "1tr"}}]},
     "custom segment 'amount_text' condition.all[0] (bought): min_amount expects a number of 0 or more, got 1tr"),
    ({"key": "bought_and_column", "name": "n",
      "all": [{"bought": {"category": "books"}, "column": "tags", "operator": "is_null"}]},
     "custom segment 'bought_and_column' condition.all[0]: a purchase condition has exactly one key"),
]


def _definitions(cases: dict) -> list[dict]:
    return [{"key": key, "name": f"{key} (O'Brien's)", **conditions} for key, (conditions, _) in cases.items()]


def _run_on_good_mart(good_build: DbtRun, tmp_path: Path, definitions: list[dict]) -> DbtRun:
    """Rebuild only customer_custom_segments on a copy of the good fixture's warehouse."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(good_build.warehouse, tmp_path / "warehouse.duckdb")
    return run_dbt(tmp_path, FIXTURES / "good", "run --select customer_custom_segments",
                   custom_segments=definitions, max_rejected_share=0.5)


def test_every_operator_on_both_sides_of_its_boundary(good_build: DbtRun, tmp_path: Path) -> None:
    run = _run_on_good_mart(good_build, tmp_path, _definitions(CASES))
    assert run.returncode == 0, run.output[-3000:]
    matched: dict[str, set[str]] = {key: set() for key in CASES}
    names = set()
    for customer_id, key, name in run.query(
        "select customer_id, segment_key, segment_name from marts.customer_custom_segments"
    ):
        matched[key].add(customer_id)
        names.add(name)
    assert matched == {key: expected for key, (_, expected) in CASES.items()}
    assert "eq_text (O'Brien's)" in names


def test_example_segments_build_on_the_sample(sample_build: DbtRun) -> None:
    counts = dict(sample_build.query(
        "select segment_key, count(*) from marts.customer_custom_segments group by 1"
    ))
    assert set(counts) == {
        "hanoi_loyal_5_orders", "south_discount_hunters", "business_over_50m_365d", "new_signups_no_order",
        "high_value_slipping_away", "early_members_lost", "tet_social_shoppers", "baby_buyers_90d",
        "electronics_twice_quiet_180d",
    }
    # the two purchase examples, against SQL written here on the order lines and orders
    (baby, quiet) = sample_build.query("""
        with lines as (
            select orders.customer_id, orders.order_id, lower(trim(items.category)) as category,
                   (select max(as_of_date) from marts.customer_segments) - orders.ordered_date as days_before
            from intermediate.int_order_items__order_known as items
            join intermediate.int_orders__valued as orders using (order_id)
            where orders.is_completed
        )
        select
            (select count(distinct customer_id) from lines where category = 'mom_baby' and days_before <= 90),
            (select count(*) from (
                select customer_id from lines where category = 'electronics' group by 1
                having count(distinct order_id) >= 2
                except
                select customer_id from lines where days_before <= 180))
    """)[0]
    assert (counts["baby_buyers_90d"], counts["electronics_twice_quiet_180d"]) == (baby, quiet)
    assert baby > 0 and quiet > 0
    (wrong,) = sample_build.query(
        "select count(*) from marts.customer_custom_segments join marts.customer_segments using (customer_id)"
        " where segment_key = 'hanoi_loyal_5_orders'"
        " and not (lifecycle_segment = 'loyal' and home_province = 'Hà Nội' and completed_order_count >= 5)"
    )[0]
    assert wrong == 0
    # an unquoted YAML date (2024-01-01) in the shipped definitions is taken as a date
    (early,) = sample_build.query(
        "select count(*) from marts.customer_segments"
        " where signup_date < date '2024-01-01' and lifecycle_segment = 'lost'"
    )[0]
    assert early == counts["early_members_lost"] > 0


def test_invalid_definitions_stop_the_build_naming_segment_and_condition(
    good_build: DbtRun, tmp_path: Path
) -> None:
    definitions = [{"key": "eq_text", "name": "fine", "all": [{"column": "tags", "operator": "is_null"}]}]
    definitions += [definition for definition, _ in INVALID]
    run = _run_on_good_mart(good_build, tmp_path, definitions)
    assert run.returncode != 0
    assert f"invalid custom segments ({len(INVALID)} problems)" in run.output
    for _, message in INVALID:
        assert message in run.output, message
    assert "Traceback" not in run.output


def test_custom_segments_must_be_a_list(good_build: DbtRun, tmp_path: Path) -> None:
    run = _run_on_good_mart(good_build, tmp_path, {"key": "x"})  # type: ignore[arg-type]
    assert run.returncode != 0
    assert "custom segments: expected a list of segment definitions" in run.output


def test_vars_out_of_range_stop_the_build_all_listed_at_once(good_build: DbtRun, tmp_path: Path) -> None:
    """Vars that do not fit together or their range stop the build before any model, every problem on its own line:
    tier shares out of order (high above medium would leave no medium tier), grade cut points out of order (B above
    A), a half-life of 0, an identity cap below 2, a YAML true/false where a number belongs, an empty salt."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(good_build.warehouse, tmp_path / "warehouse.duckdb")
    run = run_dbt(tmp_path, FIXTURES / "good", "run --select int_as_of_date", max_rejected_share=0.5,
                  predicted_tier_high_top_share=0.6, predicted_tier_medium_top_share=0.5,
                  lead_grade_a_min_score=50, lead_grade_b_min_score=80, lead_score_half_life_days=0,
                  identity_max_ids_per_key=1, identity_label_passes=True, control_group_share=False,
                  lift_window_days=0, control_group_salt=" ", next_purchase_window_days="abc")
    assert run.returncode != 0
    expected = [
        "predicted_tier_high_top_share (0.6) and predicted_tier_medium_top_share (0.5) must be shares",
        ("lead_grade_a_min_score (50), lead_grade_b_min_score (80) and lead_grade_c_min_score (20) must be scores "
         "with 0 <= c <= b <= a <= 100"),
        "lead_score_half_life_days (0) must be a number of days above 0",
        "identity_max_ids_per_key (1) must be a whole number of at least 2",
        "identity_label_passes (True) must be a whole number of at least 1",
        "control_group_share (False) must be a share with 0 <= share < 1",
        "lift_window_days (0) must be a whole number of days of at least 1",
        "control_group_salt ( ) must be a non-empty text",
        "next_purchase_window_days (abc) must be a whole number of days of at least 1",
    ]
    assert f"invalid vars ({len(expected)} problems):" in run.output, run.output[-3000:]
    for message in expected:
        assert f"  - {message}" in run.output, message
    assert "Traceback" not in run.output


def test_vars_in_range_pass_the_check(good_build: DbtRun, tmp_path: Path) -> None:
    """The other side of each boundary: equal tier shares, equal cut points, a cap of 2, one pass, a share of 0, a
    window of one day."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(good_build.warehouse, tmp_path / "warehouse.duckdb")
    run = run_dbt(tmp_path, FIXTURES / "good", "run --select int_as_of_date", max_rejected_share=0.5,
                  predicted_tier_high_top_share=0.5, predicted_tier_medium_top_share=0.5,
                  lead_grade_a_min_score=50, lead_grade_b_min_score=50, lead_grade_c_min_score=50,
                  lead_score_half_life_days=0.5, identity_max_ids_per_key=2, identity_label_passes=1,
                  control_group_share=0, lift_window_days=1, control_group_salt="x", next_purchase_window_days=1)
    assert run.returncode == 0, run.output[-3000:]


def test_segment_by_other_than_customer_or_person_stops_the_build(good_build: DbtRun, tmp_path: Path) -> None:
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(good_build.warehouse, tmp_path / "warehouse.duckdb")
    run = run_dbt(tmp_path, FIXTURES / "good", "run --select int_as_of_date", max_rejected_share=0.5,
                  segment_by="household")
    assert run.returncode != 0
    assert "var segment_by must be customer or person, got 'household'" in run.output
