"""Per-customer predictions from fitted BG/NBD and Gamma-Gamma parameters.

Time is in weeks (days / 7), as in the BG/NBD paper; the horizons below are in days and converted here.
"""

from __future__ import annotations

import numpy as np

from clv import bg_nbd, gamma_gamma

DAYS_PER_WEEK = 7.0
PURCHASE_HORIZONS_DAYS = (90, 365)
CLV_HORIZON_DAYS = 365
CLV_PERIODS = 12  # the 365-day value is discounted month by month

PREDICTION_COLUMNS = (
    "p_alive",
    "churn_probability",
    "predicted_purchases_90d",
    "predicted_purchases_365d",
    "predicted_avg_order_value",
    "predicted_clv_365d",
    "p_purchase_next_30d",
)
NEXT_PURCHASE_WINDOW_DAYS = 30  # the default of the dbt var next_purchase_window_days


def predict(bg_params, gg_params, x, t_x, T, m, monthly_discount_rate: float,
            next_purchase_window_days: float = NEXT_PURCHASE_WINDOW_DAYS) -> dict[str, np.ndarray]:
    """Predictions for customers with at least one purchase (x, t_x, T in weeks; m = mean repeat spend, any value
    when x = 0); p_purchase_next_30d is the probability of at least one purchase in the next
    next_purchase_window_days days. A model that did not converge (params None) gives null (NaN) predictions for what depends on it;
    any prediction that is not finite comes back as NaN, never as a number, and the caller stores it as null."""
    x, t_x, T, m = (np.asarray(v, dtype=float) for v in (x, t_x, T, m))
    n = x.size
    out = {column: np.full(n, np.nan) for column in PREDICTION_COLUMNS}
    if bg_params is None or n == 0:
        return out
    period_weeks = CLV_HORIZON_DAYS / CLV_PERIODS / DAYS_PER_WEEK
    horizons = [days / DAYS_PER_WEEK for days in PURCHASE_HORIZONS_DAYS]
    horizons += [period_weeks * month for month in range(1, CLV_PERIODS + 1)]
    with np.errstate(all="ignore"):
        purchases = bg_nbd.conditional_expected_purchases_by_horizon(bg_params, horizons, x, t_x, T)
        alive = bg_nbd.p_alive(bg_params, x, t_x, T)
        out["p_alive"] = alive
        out["churn_probability"] = 1.0 - alive
        out["predicted_purchases_90d"] = purchases[0]
        out["predicted_purchases_365d"] = purchases[1]
        out["p_purchase_next_30d"] = bg_nbd.p_purchase_within(
            bg_params, next_purchase_window_days / DAYS_PER_WEEK, x, t_x, T)
        if gg_params is not None:
            spend = gamma_gamma.conditional_expected_spend(gg_params, x, m)
            monthly = np.diff(np.vstack([np.zeros(n), purchases[2:]]), axis=0)
            discount = (1.0 + monthly_discount_rate) ** -np.arange(1, CLV_PERIODS + 1)
            out["predicted_avg_order_value"] = spend
            out["predicted_clv_365d"] = spend * (discount @ monthly)
    for values in out.values():
        values[~np.isfinite(values)] = np.nan
    return out
