"""The bundled sample, built with every default as `make build` does: all dbt tests pass, every raw row is
accounted for, and the mart looks like a real customer base."""

from __future__ import annotations

import re

from conftest import DbtRun


def test_sample_builds_with_every_segment(sample_build: DbtRun) -> None:
    counts = dict(sample_build.query(
        "select lifecycle_segment, count(*) from marts.customer_segments group by 1"
    ))
    assert set(counts) == {"potential", "new", "vip", "loyal", "price_hunter", "at_risk", "casual", "lost"}
    assert "Customer segments as of" in sample_build.output


def test_sample_reconciles_and_stays_under_the_rejection_limit(sample_build: DbtRun) -> None:
    rows = sample_build.table("audit.raw_row_reconciliation")
    assert {row["table_name"] for row in rows} == {
        "customers", "orders", "order_items", "support_tickets", "referrals", "events",
    }
    for row in rows:
        assert row["raw_rows"] == row["staged_rows"] + row["rejected_rows"] > 0
        assert 0 < row["rejected_share"] <= 0.05


def test_sample_revenue_is_long_tailed(sample_build: DbtRun) -> None:
    (pareto_share,) = sample_build.query(
        "select avg(case when is_pareto_top then 1.0 else 0 end) from marts.customer_segments"
        " where completed_order_count > 0"
    )[0]
    assert pareto_share < 0.4  # a minority of buyers makes 80% of revenue


def test_sample_provinces_map_to_regions(sample_build: DbtRun) -> None:
    (unknown_share,) = sample_build.query(
        "select avg(case when home_region = 'unknown' then 1.0 else 0 end) from marts.customer_segments"
    )[0]
    assert unknown_share < 0.03


def test_control_groups_hold_back_their_share_and_are_never_contacted(sample_build: DbtRun) -> None:
    """control_group_share 0.1: on the sample's ~3,000 customers the held-back share is within 4 binomial standard
    deviations of 0.1 (sqrt(0.1 x 0.9 / n), about 0.022 here), overall and, for the actions with 300 customers or
    more, per action; no control customer is on the activation list."""
    (customers, held_back), = sample_build.query(
        "select count(*), count(*) filter (where is_control_group) from marts.customer_segments")
    tolerance = 4 * (0.1 * 0.9 / customers) ** 0.5
    assert abs(held_back / customers - 0.1) < tolerance, (held_back, customers)
    per_action = sample_build.query("select care_reason, count(*), avg(cast(is_control_group as int))"
                                    " from marts.customer_segments group by 1 having count(*) >= 300")
    assert per_action
    for care_reason, count, share in per_action:
        assert abs(share - 0.1) < 4 * (0.1 * 0.9 / count) ** 0.5, (care_reason, count, share)
    assert sample_build.query("select count(*) from restricted.customer_activation as activation"
                              " inner join marts.customer_segments using (customer_id)"
                              " where is_control_group") == [(0,)]


def test_the_sample_build_runs_every_unit_test(sample_build: DbtRun) -> None:
    """The other fixture builds leave the dbt unit tests out (conftest.run_dbt): this build is where they run."""
    found = re.search(r"Found .*?(\d+) unit tests", sample_build.output)
    assert found, sample_build.output[-2000:]
    passed = re.findall(r"\d+ of \d+ PASS \S+::\S+", sample_build.output)
    assert int(found.group(1)) == len(passed) > 50
