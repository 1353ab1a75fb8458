"""Predicted value in the dbt build: the published CDNOW results through the raw_data_path input contract, the
predicted columns of the mart on the sample, and builds where the models cannot be fitted."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import DbtRun, run_dbt

from clv import bg_nbd
from clv.predict import PREDICTION_COLUMNS, predict

# Fader, Hardie & Lee (2005): BG/NBD on the CDNOW sample, 39-week calibration period ending 1997-09-30 (weeks), and
# the Gamma-Gamma model on its 946 repeat buyers (Fader, Hardie & Lee 2005, "RFM and CLV").
PUBLISHED = {
    ("bg_nbd", "r"): 0.243, ("bg_nbd", "alpha"): 4.414, ("bg_nbd", "a"): 0.793, ("bg_nbd", "b"): 2.426,
    ("gamma_gamma", "p"): 6.25, ("gamma_gamma", "q"): 3.74, ("gamma_gamma", "gamma"): 15.44,
}
PREDICTED_NUMBERS = list(PREDICTION_COLUMNS)


@pytest.fixture(scope="module")
def cdnow_build(cdnow_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    # a monthly discount rate other than the default, to prove the var reaches the Python model
    run = run_dbt(tmp_path_factory.mktemp("cdnow"), cdnow_raw, as_of_date="1997-09-30",
                  earliest_valid_date="1990-01-01", clv_monthly_discount_rate=0.02)
    assert run.returncode == 0, run.output[-5000:]
    return run


def _params(run: DbtRun) -> dict[tuple[str, str], dict]:
    return {(row["model"], row["parameter"]): row for row in run.table("marts.clv_model_params")}


def test_cdnow_parameters_match_the_published_values(cdnow_build: DbtRun) -> None:
    params = _params(cdnow_build)
    assert set(params) == set(PUBLISHED)
    for key, published in PUBLISHED.items():
        assert params[key]["fit_status"] == "converged"
        assert params[key]["value"] == pytest.approx(published, rel=0.01), key
    assert params["bg_nbd", "r"]["n_customers"] == 2357
    assert params["bg_nbd", "r"]["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    assert params["bg_nbd", "r"]["time_unit"] == "week"
    assert params["gamma_gamma", "p"]["n_customers"] == 946
    assert {str(row["as_of_date"]) for row in params.values()} == {"1997-09-30"}


def test_cdnow_conditional_expectation_matches_the_paper(cdnow_build: DbtRun) -> None:
    params = _params(cdnow_build)
    fitted = tuple(params["bg_nbd", name]["value"] for name in bg_nbd.PARAMETER_NAMES)
    expected = bg_nbd.conditional_expected_purchases(fitted, 39, 2, 30.43, 38.86)
    assert float(expected) == pytest.approx(1.226, abs=0.005)


def test_cdnow_mart_carries_the_predictions_of_the_fitted_models(cdnow_build: DbtRun) -> None:
    """Customer 0001 bought on 1997-01-01, 01-18 and 08-02 (x = 2, t_x = 30.43, T = 38.86 weeks): the mart holds the
    model's predictions for exactly that summary."""
    params = _params(cdnow_build)
    fitted = tuple(params["bg_nbd", name]["value"] for name in bg_nbd.PARAMETER_NAMES)
    [row] = cdnow_build.table("marts.customer_segments where customer_id = '0001'")
    x, t_x, big_t = 2, 213 / 7, 272 / 7
    assert row["p_alive"] == pytest.approx(float(bg_nbd.p_alive(fitted, x, t_x, big_t)), rel=1e-9)
    assert row["churn_probability"] == pytest.approx(1 - row["p_alive"], abs=1e-12)
    for column, days in (("predicted_purchases_90d", 90), ("predicted_purchases_365d", 365)):
        expected = float(bg_nbd.conditional_expected_purchases(fitted, days / 7, x, t_x, big_t))
        assert row[column] == pytest.approx(expected, rel=1e-9)
    p, q, gamma = (params["gamma_gamma", name]["value"] for name in ("p", "q", "gamma"))
    assert row["predicted_avg_order_value"] == pytest.approx(p * (gamma + 22.345 * x) / (p * x + q - 1), rel=1e-9)
    spend = (p, q, gamma)
    discounted = predict(fitted, spend, [x], [t_x], [big_t], [22.345], monthly_discount_rate=0.02)
    default_rate = predict(fitted, spend, [x], [t_x], [big_t], [22.345], monthly_discount_rate=0.01)
    assert row["predicted_clv_365d"] == pytest.approx(float(discounted["predicted_clv_365d"][0]), rel=1e-9)
    assert row["predicted_clv_365d"] < float(default_rate["predicted_clv_365d"][0])
    (missing,) = cdnow_build.query(
        "select count(*) from marts.customer_segments where "
        + " or ".join(f"{column} is null" for column in PREDICTED_NUMBERS + ["predicted_spend_tier"])
    )[0]
    assert missing == 0


def test_sample_mart_has_predictions_for_every_buyer(sample_build: DbtRun) -> None:
    statuses = {row[0] for row in sample_build.query("select distinct fit_status from marts.clv_model_params")}
    assert statuses == {"converged"}
    rows = sample_build.query(
        "select completed_order_count > 0, count(*), count(p_alive), count(predicted_clv_365d),"
        " count(predicted_spend_tier), min(p_alive), max(p_alive),"
        " max(abs(churn_probability - (1 - p_alive))) from marts.customer_segments group by 1"
    )
    by_buyer = {row[0]: row[1:] for row in rows}
    customers, alive, clv, tier, low, high, churn_gap = by_buyer[True]
    assert customers == alive == clv == tier
    assert 0 <= low <= high <= 1 and churn_gap < 1e-12
    assert by_buyer[False][1:4] == (0, 0, 0)
    shares = dict(sample_build.query(
        "select predicted_spend_tier, count(*) / sum(count(*)) over () from marts.customer_segments"
        " where predicted_spend_tier is not null group by 1"
    ))
    assert shares["high"] == pytest.approx(0.2, abs=0.02)
    assert shares["medium"] == pytest.approx(0.3, abs=0.02)
    assert "bg_nbd       converged on" in sample_build.output


def test_one_time_buyers_only_leave_the_predictions_null_with_a_warning(tmp_path: Path) -> None:
    """Everybody bought once (some for nothing, one for an absurd amount): nothing to fit a repeat-purchase model on.
    The build succeeds, the predicted columns are null, and a warning and the summary say why."""
    raw = tmp_path / "raw"
    raw.mkdir()
    with (raw / "customers.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "signup_at"])
        writer.writerows([f"c{i:03d}", "2025-01-01"] for i in range(150))
    with (raw / "orders.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "customer_id", "ordered_at", "gross_amount"])
        amounts = ["0"] * 10 + ["9999999999999"] + ["250000"] * 139
        writer.writerows([f"o{i:03d}", f"c{i:03d}", f"2025-{1 + i % 12:02d}-15", amounts[i]] for i in range(150))
    # clv_min_customers = 151 (passed as a dbt var, as a user would) makes the 150 buyers too few for BG/NBD;
    # max_order_amount is raised so that the absurd amount is kept (by default it is rejected as amount_out_of_range)
    run = run_dbt(tmp_path, raw, as_of_date="2025-12-31", clv_min_customers=151, freshness_error_after_days=30,
                  max_order_amount=10**14)
    assert run.returncode == 0, run.output[-5000:]
    statuses = dict(run.query("select distinct model, fit_status from marts.clv_model_params"))
    assert statuses == {"bg_nbd": "too_few_customers", "gamma_gamma": "no_repeat_buyers"}
    (predicted,) = run.query(
        "select count(*) from marts.customer_segments where "
        + " or ".join(f"{column} is not null" for column in PREDICTED_NUMBERS + ["predicted_spend_tier"])
    )[0]
    assert predicted == 0
    assert "Warning in test warn_clv_models_fitted" in run.output
    assert "NOT FITTED (too_few_customers): 150 customers with a purchase, fewer than clv_min_customers = 151" in (
        run.output
    )
    assert "NOT FITTED (no_repeat_buyers): 0 repeat buyers" in run.output
