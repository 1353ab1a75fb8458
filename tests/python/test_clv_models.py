"""The BG/NBD and Gamma-Gamma likelihoods, prediction formulas and fits of the `clv` package, against values computed
by hand from the papers' equations, finite differences, simulation and published results. Pure Python (no dbt).

References: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the Pareto/NBD
model" (BG/NBD, equations numbered as in the paper); Fader & Hardie (2013), "The Gamma-Gamma model of monetary
value" (the density of the mean spend and the conditional expectation).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import integrate
from scipy.optimize import approx_fprime
from scipy.special import hyp2f1
from scipy.stats import chi2

from clv import bg_nbd, gamma_gamma
from clv.fit import fit_bg_nbd, fit_gamma_gamma
from clv.predict import PREDICTION_COLUMNS, predict
from clv.simulate import simulate

# Published CDNOW estimates (39-week calibration period, weeks).
CDNOW_BG_NBD = (0.243, 4.414, 0.793, 2.426)
CDNOW_GAMMA_GAMMA = (6.25, 3.74, 15.44)
# Other points of the parameter space: a < 1 and a > 1, small and large r, b < 1, a near and at 1.
BG_NBD_POINTS = [
    CDNOW_BG_NBD,
    (1.5, 0.7, 0.3, 8.0),
    (0.05, 30.0, 2.5, 0.6),
    (3.0, 12.0, 1.0, 2.0),
]
GAMMA_GAMMA_POINTS = [CDNOW_GAMMA_GAMMA, (0.5, 1.5, 2.0), (20.0, 10.0, 300.0)]
# A few summaries (x, t_x, T) in weeks, from a one-off buyer to a very frequent one.
CUSTOMERS = [(0, 0.0, 38.86), (1, 0.5, 10.0), (2, 30.43, 38.86), (15, 35.0, 39.0), (50, 20.0, 39.0), (3, 5.0, 5.0)]
DAYS_PER_MONTH_IN_WEEKS = 365 / 12 / 7


# --------------------------------------------------------------------------------------------------------------------
# Formulas written out by hand, independently of the module
# --------------------------------------------------------------------------------------------------------------------
def _log_beta(u: float, v: float) -> float:
    return math.lgamma(u) + math.lgamma(v) - math.lgamma(u + v)


def _bg_nbd_log_likelihood_by_hand(params, x, t_x, T) -> float:
    """Equation (6): L = B(a, b+x)/B(a, b) G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
    + delta(x>0) B(a+1, b+x-1)/B(a, b) G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))."""
    r, alpha, a, b = params
    common = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)
    alive = math.exp(_log_beta(a, b + x) - _log_beta(a, b) + common - (r + x) * math.log(alpha + T))
    dead = 0.0
    if x > 0:
        dead = math.exp(_log_beta(a + 1, b + x - 1) - _log_beta(a, b) + common - (r + x) * math.log(alpha + t_x))
    return math.log(alive + dead)


def _gamma_gamma_log_likelihood_by_hand(params, x, m) -> float:
    """log f(mbar | p, q, gamma, x), f = G(px+q) / (G(px) G(q)) * gamma^q mbar^(px-1) x^(px) / (gamma + mbar x)^(px+q)
    (in logs: mbar^(px-1) overflows a float for a frequent buyer)."""
    p, q, gamma = params
    log_constant = math.lgamma(p * x + q) - math.lgamma(p * x) - math.lgamma(q)
    return (log_constant + q * math.log(gamma) + (p * x - 1) * math.log(m) + p * x * math.log(x)
            - (p * x + q) * math.log(gamma + m * x))


def _p_alive_by_hand(params, x, t_x, T) -> float:
    r, alpha, a, b = params
    if x == 0:
        return 1.0
    return 1.0 / (1.0 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))


def _conditional_expectation_by_hand(params, t, x, t_x, T) -> float:
    """Equation (10), with the Gauss hypergeometric function as printed (no transformation)."""
    r, alpha, a, b = params
    z = t / (alpha + T + t)
    alive_part = (a + b + x - 1) / (a - 1) * (
        1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    )
    return alive_part * _p_alive_by_hand(params, x, t_x, T)


def _arrays(*columns):
    return [np.asarray(column, dtype=float) for column in columns]


# --------------------------------------------------------------------------------------------------------------------
# BG/NBD likelihood and gradient
# --------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", BG_NBD_POINTS)
@pytest.mark.parametrize(("x", "t_x", "T"), CUSTOMERS)
def test_bg_nbd_log_likelihood_of_one_customer_matches_equation_6(params, x, t_x, T) -> None:
    got = bg_nbd.log_likelihood(params, *_arrays([x], [t_x], [T]))
    assert got.shape == (1,)
    assert float(got[0]) == pytest.approx(_bg_nbd_log_likelihood_by_hand(params, x, t_x, T), rel=1e-12, abs=1e-12)


def test_bg_nbd_log_likelihood_is_vectorised_per_customer() -> None:
    x, t_x, T = _arrays(*zip(*CUSTOMERS))
    got = bg_nbd.log_likelihood(CDNOW_BG_NBD, x, t_x, T)
    expected = [_bg_nbd_log_likelihood_by_hand(CDNOW_BG_NBD, *customer) for customer in CUSTOMERS]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_bg_nbd_likelihood_is_a_probability_distribution_whose_mean_is_equation_9() -> None:
    """Integrating the likelihood over the purchase times (t_x^(x-1)/(x-1)! dt_x for the x-th of x ordered times)
    gives P(X(T) = x): these sum to 1 and their mean is the unconditional E[X(T)] of equation (9). This checks the
    normalising constants of equation (6) and `expected_purchases` numerically, without the paper's closed forms."""
    params, horizon = CDNOW_BG_NBD, 39.0
    # Gauss-Legendre with 400 nodes on (0, T), for x = 1..399 at once; the integrand is a polynomial of degree x - 1
    # times (alpha + t)^-(r+x), analytic on [0, T]. One value is checked against adaptive quadrature below.
    nodes, node_weights = np.polynomial.legendre.leggauss(400)
    t = (nodes + 1) * horizon / 2
    x = np.arange(1, 400, dtype=float)[:, None]
    log_likelihood = bg_nbd.log_likelihood(params, x, t[None, :], np.full((1, t.size), horizon))
    log_integrand = log_likelihood + (x - 1) * np.log(t) - np.array([math.lgamma(v) for v in x[:, 0]])[:, None]
    probabilities = np.concatenate([
        np.exp(bg_nbd.log_likelihood(params, *_arrays([0], [0], [horizon]))),
        np.exp(log_integrand) @ node_weights * horizon / 2,
    ])

    def integrand(time, x=3):
        log_value = float(bg_nbd.log_likelihood(params, *_arrays([x], [time], [horizon]))[0])
        return math.exp(log_value + (x - 1) * math.log(time) - math.lgamma(x)) if time > 0 else 0.0

    assert probabilities[3] == pytest.approx(integrate.quad(integrand, 0, horizon, epsrel=1e-11)[0], rel=1e-9)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-6)
    mean = float(np.dot(np.arange(probabilities.size), probabilities))
    assert mean == pytest.approx(float(bg_nbd.expected_purchases(params, horizon)), rel=1e-5)


@pytest.mark.parametrize("params", BG_NBD_POINTS)
def test_bg_nbd_gradient_matches_finite_differences(params) -> None:
    x, t_x, T = _arrays([0, 1, 2, 5, 30, 0, 7], [0, 3.2, 30.43, 20, 38, 0, 1], [38.86, 38.86, 38.86, 25, 38.5, 2, 39])
    weights = np.array([1.0, 2.0, 1.0, 3.0, 1.0, 5.0, 1.0])

    def total(point):
        return float(np.dot(weights, bg_nbd.log_likelihood(tuple(point), x, t_x, T)))

    value, gradient = bg_nbd.log_likelihood_gradient(params, x, t_x, T, weights)
    assert value == pytest.approx(total(params), rel=1e-12)
    step = 1e-7 * np.asarray(params)
    numeric = approx_fprime(np.asarray(params, dtype=float), total, step)
    # forward differences with a relative step of 1e-7 are good to ~1e-6 of the gradient's scale
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-5 * np.abs(numeric).max())


# --------------------------------------------------------------------------------------------------------------------
# Gamma-Gamma likelihood and gradient
# --------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", GAMMA_GAMMA_POINTS)
@pytest.mark.parametrize(("x", "m"), [(1, 10.0), (2, 35.5), (5, 20.0), (30, 22.0), (7, 1000.0), (3, 0.01)])
def test_gamma_gamma_log_likelihood_matches_the_2013_note(params, x, m) -> None:
    got = gamma_gamma.log_likelihood(params, *_arrays([x], [m]))
    assert float(got[0]) == pytest.approx(_gamma_gamma_log_likelihood_by_hand(params, x, m), rel=1e-11, abs=1e-11)


@pytest.mark.parametrize("x", [1, 2, 10])
def test_gamma_gamma_likelihood_is_a_density_of_the_mean_spend(x) -> None:
    """The x^(px) factor is the Jacobian from the total to the mean spend: without it the density does not
    integrate to 1."""
    def density(m):
        return math.exp(float(gamma_gamma.log_likelihood(CDNOW_GAMMA_GAMMA, *_arrays([x], [m]))[0]))

    total = sum(integrate.quad(density, low, high, limit=200)[0] for low, high in [(0, 10), (10, 100), (100, np.inf)])
    assert total == pytest.approx(1.0, abs=1e-8)


@pytest.mark.parametrize("params", GAMMA_GAMMA_POINTS)
def test_gamma_gamma_gradient_matches_finite_differences(params) -> None:
    x, m = _arrays([1, 2, 5, 30, 7], [10, 35.5, 20, 22, 1000])
    weights = np.array([1.0, 2.0, 1.0, 3.0, 1.0])

    def total(point):
        return float(np.dot(weights, gamma_gamma.log_likelihood(tuple(point), x, m)))

    value, gradient = gamma_gamma.log_likelihood_gradient(params, x, m, weights)
    assert value == pytest.approx(total(params), rel=1e-12)
    numeric = approx_fprime(np.asarray(params, dtype=float), total, 1e-7 * np.asarray(params))
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-5 * np.abs(numeric).max())


# --------------------------------------------------------------------------------------------------------------------
# P(alive) and the conditional expectation
# --------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", BG_NBD_POINTS)
def test_p_alive_matches_the_paper(params) -> None:
    x, t_x, T = _arrays(*zip(*CUSTOMERS))
    expected = [_p_alive_by_hand(params, *customer) for customer in CUSTOMERS]
    np.testing.assert_allclose(bg_nbd.p_alive(params, x, t_x, T), expected, rtol=1e-12)


def test_p_alive_is_one_without_a_repeat_purchase_and_one_when_the_last_purchase_is_at_t() -> None:
    x, t_x, T = _arrays([0, 0, 0], [0, 0, 0], [0, 10, 500])
    np.testing.assert_array_equal(bg_nbd.p_alive(CDNOW_BG_NBD, x, t_x, T), [1.0, 1.0, 1.0])
    _, _, a, b = CDNOW_BG_NBD
    # last purchase at T: the only doubt is the drop-out right after that purchase
    assert float(bg_nbd.p_alive(CDNOW_BG_NBD, 4, 20.0, 20.0)) == pytest.approx(1 / (1 + a / (b + 3)), rel=1e-12)


@pytest.mark.parametrize("params", BG_NBD_POINTS)
@pytest.mark.parametrize(("x", "t_x", "T"), CUSTOMERS[:4])
@pytest.mark.parametrize("t", [1.0, 90 / 7, 39.0, 365 / 7])
def test_conditional_expectation_matches_equation_10(params, x, t_x, T, t) -> None:
    if params[2] == 1.0:  # equation (10) divides by a - 1 (the module takes the limit); near 1 it loses digits
        params = (params[0], params[1], 1.0 + 1e-3, params[3])
    got = float(bg_nbd.conditional_expected_purchases(params, t, x, t_x, T))
    assert got == pytest.approx(_conditional_expectation_by_hand(params, t, x, t_x, T), rel=1e-8)


def test_conditional_expectation_is_continuous_at_a_equal_one() -> None:
    """a = 1 is a removable singularity of equation (10)."""
    r, alpha, _, b = CDNOW_BG_NBD
    values = [float(bg_nbd.conditional_expected_purchases((r, alpha, a, b), 39.0, 2, 30.43, 38.86))
              for a in (1 - 1e-5, 1.0, 1 + 1e-5)]
    assert values[1] == pytest.approx(values[0], rel=1e-4)
    assert values[1] == pytest.approx(values[2], rel=1e-4)


def test_conditional_expectation_reproduces_the_published_cdnow_example() -> None:
    """Fader, Hardie & Lee (2005): E[Y(39) | x = 2, t_x = 30.43, T = 38.86] = 1.226 at the fitted parameters."""
    got = float(bg_nbd.conditional_expected_purchases(CDNOW_BG_NBD, 39.0, 2, 30.43, 38.86))
    assert got == pytest.approx(1.226, abs=0.005)
    # the same with 50-digit arithmetic (mpmath): 1.2260281747671445
    assert got == pytest.approx(1.2260281747671445, rel=1e-12)


# (t, x, t_x, T) and E[Y(t) | x, t_x, T] at the CDNOW parameters, from equation (10) evaluated with mpmath at
# 60 significant digits (mp.hyp2f1 on the untransformed parameters).
HUGE_X_REFERENCES = [
    ((365 / 7, 300, 59.0, 60.0), 147.21126800149044),
    ((365 / 7, 300, 58.0, 60.0), 5.402689020289027),
    ((365 / 7, 1000, 39.0, 40.0), 0.0001363741651755056),
    ((365 / 7, 1000, 39.9, 40.0), 836.77827668199576),
    ((365 / 7, 300, 5.0, 5.0), 689.29116583193717),
]


@pytest.mark.parametrize(("case", "reference"), HUGE_X_REFERENCES)
def test_conditional_expectation_for_very_frequent_buyers(case, reference) -> None:
    t, x, t_x, T = case
    r, alpha, _, _ = CDNOW_BG_NBD
    got = float(bg_nbd.conditional_expected_purchases(CDNOW_BG_NBD, t, x, t_x, T))
    assert np.isfinite(got)
    assert got == pytest.approx(reference, rel=1e-9)
    # sensible: at most the purchases of a customer certain to stay alive at the posterior mean rate
    assert 0 <= got <= t * (r + x) / (alpha + T)


def test_the_direct_formula_overflows_where_the_module_does_not() -> None:
    """Why the module uses Euler's transformation: 2F1(r+x, b+x; a+b+x-1; z) is inf for x = 1000 here."""
    t, x, t_x, T = HUGE_X_REFERENCES[3][0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not np.isfinite(_conditional_expectation_by_hand(CDNOW_BG_NBD, t, x, t_x, T))
    assert np.isfinite(float(bg_nbd.conditional_expected_purchases(CDNOW_BG_NBD, t, x, t_x, T)))


@pytest.mark.parametrize("params", BG_NBD_POINTS)
def test_conditional_expectation_is_zero_at_t_zero_and_grows_with_t(params) -> None:
    x, t_x, T = _arrays([0, 1, 2, 15, 300, 1000], [0, 0.5, 30.43, 35, 59, 39.9], [38.86, 10, 38.86, 39, 60, 40])
    np.testing.assert_allclose(bg_nbd.conditional_expected_purchases(params, 0.0, x, t_x, T), 0.0, atol=1e-12)
    horizons = np.concatenate([np.linspace(0, 5, 21), np.linspace(6, 520, 60)])
    values = np.vstack([bg_nbd.conditional_expected_purchases(params, t, x, t_x, T) for t in horizons])
    assert np.all(np.isfinite(values))
    assert np.all(np.diff(values, axis=0) >= -1e-12 * np.maximum(values[1:], 1.0))
    assert np.all(values[-1] > 0)


def test_conditional_expectation_by_horizon_equals_one_horizon_at_a_time() -> None:
    x, t_x, T = _arrays([0, 1, 2, 2, 15, 300], [0, 0.5, 30.43, 10, 35, 59], [38.86, 10, 38.86, 38.86, 39, 60])
    horizons = [90 / 7, 365 / 7, 1.0]
    by_horizon = bg_nbd.conditional_expected_purchases_by_horizon(CDNOW_BG_NBD, horizons, x, t_x, T)
    assert by_horizon.shape == (3, 6)
    for row, t in zip(by_horizon, horizons):
        np.testing.assert_allclose(row, bg_nbd.conditional_expected_purchases(CDNOW_BG_NBD, t, x, t_x, T), rtol=1e-13)


def test_unconditional_expected_purchases_matches_a_simulation() -> None:
    """E[X(t)] (equation 9) against the mean number of repeat purchases of 200,000 simulated customers observed for
    t weeks; tolerance: 4 standard errors of the simulated mean."""
    for t in (10.0, 39.0, 150.0):
        customers = simulate(200_000, *CDNOW_BG_NBD, T=t, seed=11)
        standard_error = customers.x.std(ddof=1) / math.sqrt(customers.x.size)
        assert customers.x.mean() == pytest.approx(float(bg_nbd.expected_purchases(CDNOW_BG_NBD, t)),
                                                   abs=4 * standard_error)
    assert float(bg_nbd.expected_purchases(CDNOW_BG_NBD, 0.0)) == 0.0


# --------------------------------------------------------------------------------------------------------------------
# Gamma-Gamma conditional spend
# --------------------------------------------------------------------------------------------------------------------
def test_conditional_spend_is_the_weighted_average_of_the_note() -> None:
    p, q, gamma = CDNOW_GAMMA_GAMMA
    x, m = _arrays([1, 2, 10, 100], [30.0, 22.345, 5.0, 1e12])
    expected = [p * (gamma + mi * xi) / (p * xi + q - 1) for xi, mi in zip(x, m)]
    np.testing.assert_allclose(gamma_gamma.conditional_expected_spend(CDNOW_GAMMA_GAMMA, x, m), expected, rtol=1e-13)
    # the same as a weighted mean of the population mean and the customer's own mean
    population = p * gamma / (q - 1)
    weight = (q - 1) / (p * x + q - 1)
    np.testing.assert_allclose(expected, weight * population + (1 - weight) * m, rtol=1e-12)


def test_conditional_spend_without_repeat_purchase_is_the_population_mean() -> None:
    p, q, gamma = CDNOW_GAMMA_GAMMA
    population = p * gamma / (q - 1)
    assert gamma_gamma.population_mean_spend(CDNOW_GAMMA_GAMMA) == pytest.approx(population, rel=1e-14)
    got = gamma_gamma.conditional_expected_spend(CDNOW_GAMMA_GAMMA, *_arrays([0, 0, 0], [0, 55.0, np.nan]))
    np.testing.assert_allclose(got, population, rtol=1e-14)


@pytest.mark.parametrize("q", [1.0, 0.5])
def test_population_mean_spend_is_nan_when_q_is_at_most_one(q) -> None:
    assert np.isnan(gamma_gamma.population_mean_spend((6.25, q, 15.44)))


# --------------------------------------------------------------------------------------------------------------------
# predict()
# --------------------------------------------------------------------------------------------------------------------
PREDICT_X = [0, 1, 2, 10, 100, 1000]
PREDICT_T_X = [0, 0.5, 30.43, 59, 230, 234]
PREDICT_T = [0.0, 1, 38.86, 60, 235, 235]
PREDICT_M = [0, 15.0, 22.345, 40, 1e12, 80]


def _predict(discount=0.01, bg=CDNOW_BG_NBD, gg=CDNOW_GAMMA_GAMMA):
    return predict(bg, gg, PREDICT_X, PREDICT_T_X, PREDICT_T, PREDICT_M, monthly_discount_rate=discount)


def test_predict_returns_every_column_for_every_customer() -> None:
    out = _predict()
    assert tuple(out) == PREDICTION_COLUMNS
    assert all(values.shape == (len(PREDICT_X),) for values in out.values())


def test_predicted_value_without_discount_is_spend_times_purchases() -> None:
    out = _predict(discount=0.0)
    np.testing.assert_allclose(
        out["predicted_clv_365d"], out["predicted_avg_order_value"] * out["predicted_purchases_365d"], rtol=1e-9
    )


@pytest.mark.parametrize("discount", [0.01, 0.05])
def test_predicted_value_is_the_discounted_sum_of_twelve_months(discount) -> None:
    out = _predict(discount=discount)
    for i, (x, t_x, T, m) in enumerate(zip(PREDICT_X, PREDICT_T_X, PREDICT_T, PREDICT_M)):
        spend = float(gamma_gamma.conditional_expected_spend(CDNOW_GAMMA_GAMMA, x, m))
        cumulative = [float(bg_nbd.conditional_expected_purchases(CDNOW_BG_NBD, DAYS_PER_MONTH_IN_WEEKS * k, x, t_x, T))
                      for k in range(13)]
        value = sum(spend * (cumulative[k] - cumulative[k - 1]) / (1 + discount) ** k for k in range(1, 13))
        assert out["predicted_clv_365d"][i] == pytest.approx(value, rel=1e-9)
        assert out["predicted_avg_order_value"][i] == pytest.approx(spend, rel=1e-12)
        assert out["predicted_purchases_365d"][i] == pytest.approx(cumulative[12], rel=1e-9)
        assert out["predicted_purchases_90d"][i] == pytest.approx(
            float(bg_nbd.conditional_expected_purchases(CDNOW_BG_NBD, 90 / 7, x, t_x, T)), rel=1e-9
        )
    # discounting lowers the value of every customer who is expected to buy
    undiscounted = _predict(discount=0.0)["predicted_clv_365d"]
    buying = undiscounted > 1e-9
    assert np.all(out["predicted_clv_365d"][buying] < undiscounted[buying])


def test_churn_is_one_minus_p_alive() -> None:
    out = _predict()
    np.testing.assert_allclose(out["churn_probability"], 1.0 - out["p_alive"], rtol=0, atol=1e-15)
    expected = [_p_alive_by_hand(CDNOW_BG_NBD, x, t_x, T) for x, t_x, T in zip(PREDICT_X, PREDICT_T_X, PREDICT_T)]
    np.testing.assert_allclose(out["p_alive"], expected, rtol=1e-12)


def test_predict_without_bg_nbd_parameters_is_all_null() -> None:
    out = _predict(bg=None)
    for column in PREDICTION_COLUMNS:
        assert np.all(np.isnan(out[column])), column
    out = _predict(bg=None, gg=None)
    assert all(np.all(np.isnan(values)) for values in out.values())


def test_predict_without_gamma_gamma_parameters_keeps_the_purchases() -> None:
    out = _predict(gg=None)
    full = _predict()
    assert np.all(np.isnan(out["predicted_avg_order_value"]))
    assert np.all(np.isnan(out["predicted_clv_365d"]))
    for column in ("p_alive", "churn_probability", "predicted_purchases_90d", "predicted_purchases_365d"):
        np.testing.assert_array_equal(out[column], full[column])
        assert np.all(np.isfinite(out[column]))


def test_predict_of_no_customer() -> None:
    out = predict(CDNOW_BG_NBD, CDNOW_GAMMA_GAMMA, [], [], [], [], monthly_discount_rate=0.01)
    assert all(values.shape == (0,) for values in out.values())


@pytest.mark.parametrize("params", [*BG_NBD_POINTS, (5.0, 0.01, 0.05, 50.0), (0.01, 200.0, 5.0, 0.1)])
def test_predict_is_finite_for_extreme_customers(params) -> None:
    """Customers with up to 1,000 repeat purchases, spends up to 1e12, T from 0 to ~4.5 years: every prediction is a
    finite number in its range (the module turns non-finite values into NaN, so a NaN here is a numerical failure)."""
    rng = np.random.default_rng(3)
    n = 3000
    x = np.concatenate([[0, 1, 1000, 1000, 500], rng.integers(0, 1001, n)]).astype(float)
    T = np.concatenate([[0, 0, 235, 1, 235], rng.uniform(0, 235, n)])
    t_x = np.where(x > 0, T * np.concatenate([[0, 1, 1, 1, 0], rng.uniform(0, 1, n)]), 0.0)
    m = np.concatenate([[0, 1e12, 1e12, 1e-6, 1e12], 10 ** rng.uniform(-2, 12, n)])
    out = predict(params, (6.25, 3.74, 15.44e6), x, t_x, T, m, monthly_discount_rate=0.01)
    for column, values in out.items():
        assert np.all(np.isfinite(values)), (column, x[~np.isfinite(values)][:5], t_x[~np.isfinite(values)][:5])
    assert np.all((out["p_alive"] >= 0) & (out["p_alive"] <= 1))
    assert np.all(out["predicted_purchases_90d"] >= 0)
    assert np.all(out["predicted_purchases_365d"] >= out["predicted_purchases_90d"])
    assert np.all(out["predicted_clv_365d"] >= 0)


# --------------------------------------------------------------------------------------------------------------------
# Fitting: recovery of simulated parameters
# --------------------------------------------------------------------------------------------------------------------
RECOVERY_CUSTOMERS = 20_000
# Relative tolerances, ~4 standard deviations of the estimates. The spread was measured on 30 simulated samples like
# the one below (seeds 0-29, 20,000 CDNOW-like customers, T on whole days between 27 and 39 weeks): relative standard
# deviation r 1.6 %, alpha 3.3 %, a 8.3 %, b 11 %, p 6.5 %, q 2.5 %, gamma 9.1 %; of the better identified
# quantities: mean purchase rate r/alpha 2.2 %, mean drop-out probability a/(a+b) 3.0 %, mean spend per purchase
# p gamma/(q-1) 1.0 %; mean biases all below one standard deviation.
BG_NBD_TOLERANCE = {"r": 0.07, "alpha": 0.14, "a": 0.35, "b": 0.45}
GAMMA_GAMMA_TOLERANCE = {"p": 0.26, "q": 0.10, "gamma": 0.36}
DERIVED_TOLERANCE = {"rate": 0.09, "dropout": 0.12, "spend": 0.04}


@pytest.fixture(scope="module")
def simulated():
    observation_days = np.random.default_rng(1000).integers(27 * 7, 39 * 7 + 1, RECOVERY_CUSTOMERS)
    return simulate(RECOVERY_CUSTOMERS, *CDNOW_BG_NBD, T=observation_days / 7, p=CDNOW_GAMMA_GAMMA[0],
                    q=CDNOW_GAMMA_GAMMA[1], gamma=CDNOW_GAMMA_GAMMA[2], seed=0, resolution=1 / 7)


@pytest.fixture(scope="module")
def bg_fit(simulated):
    return fit_bg_nbd(simulated.x, simulated.t_x, simulated.T)


@pytest.fixture(scope="module")
def gg_fit(simulated):
    return fit_gamma_gamma(simulated.x, simulated.m)


def test_simulator_is_deterministic_and_consistent() -> None:
    first = simulate(1000, *CDNOW_BG_NBD, T=39.0, seed=5, resolution=1 / 7)
    second = simulate(1000, *CDNOW_BG_NBD, T=39.0, seed=5, resolution=1 / 7)
    continuous = simulate(1000, *CDNOW_BG_NBD, T=39.0, seed=5)
    for name in ("x", "t_x", "T", "m"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    np.testing.assert_array_equal(first.x, continuous.x)
    np.testing.assert_array_equal(first.m, continuous.m)
    assert np.all((first.t_x >= 0) & (first.t_x <= first.T))
    assert np.all(first.t_x[first.x == 0] == 0) and np.all(first.m[first.x == 0] == 0)
    assert np.all(first.m[first.x > 0] > 0)
    np.testing.assert_allclose(first.t_x * 7, np.round(first.t_x * 7), atol=1e-9)  # whole days
    assert not np.array_equal(first.x, simulate(1000, *CDNOW_BG_NBD, T=39.0, seed=6).x)


def test_bg_nbd_fit_recovers_the_simulated_parameters(bg_fit) -> None:
    assert bg_fit.status == "converged", bg_fit.message
    assert bg_fit.n_customers == RECOVERY_CUSTOMERS
    fitted = dict(zip(bg_fit.parameter_names, bg_fit.parameters))
    for name, truth in zip(bg_nbd.PARAMETER_NAMES, CDNOW_BG_NBD):
        assert fitted[name] == pytest.approx(truth, rel=BG_NBD_TOLERANCE[name]), name
    r, alpha, a, b = CDNOW_BG_NBD
    assert fitted["r"] / fitted["alpha"] == pytest.approx(r / alpha, rel=DERIVED_TOLERANCE["rate"])
    assert fitted["a"] / (fitted["a"] + fitted["b"]) == pytest.approx(a / (a + b), rel=DERIVED_TOLERANCE["dropout"])


def test_gamma_gamma_fit_recovers_the_simulated_parameters(gg_fit, simulated) -> None:
    assert gg_fit.status == "converged", gg_fit.message
    assert gg_fit.n_customers == int(np.count_nonzero(simulated.x > 0))
    fitted = dict(zip(gg_fit.parameter_names, gg_fit.parameters))
    for name, truth in zip(gamma_gamma.PARAMETER_NAMES, CDNOW_GAMMA_GAMMA):
        assert fitted[name] == pytest.approx(truth, rel=GAMMA_GAMMA_TOLERANCE[name]), name
    assert gamma_gamma.population_mean_spend(gg_fit.parameters) == pytest.approx(
        gamma_gamma.population_mean_spend(CDNOW_GAMMA_GAMMA), rel=DERIVED_TOLERANCE["spend"]
    )


def test_fitted_log_likelihood_is_the_maximum_and_consistent_with_the_truth(bg_fit, gg_fit, simulated) -> None:
    """The fit's log-likelihood is at least the one at the simulated parameters (else the optimiser stopped short),
    and not by more than the 99.99 % likelihood-ratio bound (2 * gain ~ chi-square with one degree of freedom per
    parameter; measured gains over 30 samples: 0.3 to 5.1 for BG/NBD)."""
    x, t_x, T, m = simulated.x, simulated.t_x, simulated.T, simulated.m
    bg_truth = float(bg_nbd.log_likelihood(CDNOW_BG_NBD, x, t_x, T).sum())
    assert bg_fit.log_likelihood == pytest.approx(float(bg_nbd.log_likelihood(bg_fit.parameters, x, t_x, T).sum()))
    assert 0 <= bg_fit.log_likelihood - bg_truth <= chi2.ppf(0.9999, 4) / 2
    repeat = x > 0
    gg_truth = float(gamma_gamma.log_likelihood(CDNOW_GAMMA_GAMMA, x[repeat], m[repeat]).sum())
    assert 0 <= gg_fit.log_likelihood - gg_truth <= chi2.ppf(0.9999, 3) / 2
    # and no nearby point is better: the fit is a local maximum
    for params, evaluate in ((bg_fit.parameters, lambda p: bg_nbd.log_likelihood(p, x, t_x, T).sum()),
                             (gg_fit.parameters, lambda p: gamma_gamma.log_likelihood(p, x[repeat], m[repeat]).sum())):
        best = evaluate(params)
        for i in range(len(params)):
            for factor in (0.999, 1.001):
                moved = list(params)
                moved[i] *= factor
                assert evaluate(tuple(moved)) <= best + 1e-6


def test_fits_agree_with_an_independent_optimiser(bg_fit, gg_fit, simulated) -> None:
    """Nelder-Mead (no gradient, no rescaling of the data) on the log-likelihood, started at the simulated values,
    lands on the same maximum: the fit's rescaling, bounds and scaling back do not move the estimate."""
    from scipy.optimize import minimize

    x, t_x, T, m = simulated.x, simulated.t_x, simulated.T, simulated.m
    rows, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    repeat = x > 0
    spends, spend_counts = np.unique(np.column_stack([x[repeat], m[repeat]]), axis=0, return_counts=True)
    cases = [
        (bg_fit, CDNOW_BG_NBD, lambda p: np.dot(counts, bg_nbd.log_likelihood(p, *rows.T))),
        (gg_fit, CDNOW_GAMMA_GAMMA, lambda p: np.dot(spend_counts, gamma_gamma.log_likelihood(p, *spends.T))),
    ]
    for fit, start, total in cases:
        def negative(log_p, total=total):
            return -total(tuple(np.exp(log_p)))

        result = minimize(negative, np.log(start), method="Nelder-Mead",
                          options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 20_000, "maxfev": 20_000})
        assert result.success, result.message
        np.testing.assert_allclose(fit.parameters, np.exp(result.x), rtol=2e-5)
        assert fit.log_likelihood >= -result.fun - 1e-6


# --------------------------------------------------------------------------------------------------------------------
# Fitting: degenerate data, scale equivariance, determinism
# --------------------------------------------------------------------------------------------------------------------
def test_everybody_bought_once_is_no_repeat_buyers() -> None:
    fit = fit_bg_nbd(np.zeros(500), np.zeros(500), np.linspace(1, 50, 500))
    assert fit.status == "no_repeat_buyers"
    assert fit.parameters is None and fit.log_likelihood is None and not fit.converged
    assert fit.n_customers == 500
    gg = fit_gamma_gamma(np.zeros(500), np.zeros(500))
    assert gg.status == "no_repeat_buyers" and gg.parameters is None and gg.n_customers == 0


def test_five_customers_are_too_few() -> None:
    fit = fit_bg_nbd([0, 1, 2, 3, 4], [0, 1, 2, 3, 4], [10, 10, 10, 10, 10])
    assert fit.status == "too_few_customers"
    assert fit.parameters is None and fit.n_customers == 5


def test_fewer_repeat_buyers_than_the_minimum(simulated) -> None:
    x = np.zeros(500)
    x[:19] = 2
    t_x = np.where(x > 0, 5.0, 0.0)
    fit = fit_bg_nbd(x, t_x, np.full(500, 20.0), min_customers=100, min_repeat_buyers=20)
    assert fit.status == "no_repeat_buyers" and fit.parameters is None
    assert "19 repeat buyers" in fit.message
    x[19] = 2
    assert fit_bg_nbd(x, np.where(x > 0, 5.0, 0.0), np.full(500, 20.0)).status != "no_repeat_buyers"
    gg = fit_gamma_gamma(simulated.x[:2000], simulated.m[:2000], min_repeat_buyers=5000)
    assert gg.status == "no_repeat_buyers" and gg.parameters is None


def test_gamma_gamma_leaves_out_zero_and_negative_spends(simulated, gg_fit) -> None:
    x, m = simulated.x.copy(), simulated.m.copy()
    repeat = np.flatnonzero(x > 0)
    m[repeat[:300]] = 0.0
    m[repeat[300:400]] = -25.0
    m[repeat[400:410]] = np.nan
    fit = fit_gamma_gamma(x, m)
    assert fit.status == "converged"
    assert fit.n_customers == repeat.size - 410
    kept = repeat[410:]
    reference = fit_gamma_gamma(x[kept], m[kept])
    assert fit.parameters == pytest.approx(reference.parameters, rel=1e-12)
    assert fit.parameters == pytest.approx(gg_fit.parameters, rel=0.05)


def test_gamma_gamma_with_identical_spends_does_not_pretend_to_fit(simulated) -> None:
    """Everyone spends exactly the same: the individual spend shape p has no finite estimate (no spread within or
    across customers). The fit must not report parameters; today it says `did_not_converge` because p and q run to
    the edge of the optimiser's range."""
    x = simulated.x
    fit = fit_gamma_gamma(x, np.where(x > 0, 25.0, 0.0))
    assert fit.status == "did_not_converge"
    assert fit.parameters is None and fit.log_likelihood is None
    assert "ran to the edge" in fit.message


def test_bg_nbd_with_identical_summaries_does_not_pretend_to_fit() -> None:
    fit = fit_bg_nbd(np.full(2000, 3.0), np.full(2000, 20.0), np.full(2000, 39.0))
    assert fit.status == "did_not_converge" and fit.parameters is None


def test_gamma_gamma_is_equivariant_to_the_currency(simulated, gg_fit) -> None:
    """Spends in VND (x 1e6) instead of dollars: gamma is multiplied by 1e6, p and q do not change."""
    fit = fit_gamma_gamma(simulated.x, simulated.m * 1e6)
    assert fit.status == "converged"
    p, q, gamma = gg_fit.parameters
    assert fit.parameters == pytest.approx((p, q, gamma * 1e6), rel=1e-8)
    # the log-likelihood of the mean spend shifts by -log(1e6) per customer (the density's Jacobian)
    assert fit.log_likelihood == pytest.approx(gg_fit.log_likelihood - gg_fit.n_customers * math.log(1e6), rel=1e-10)


def test_bg_nbd_is_equivariant_to_the_time_unit(simulated, bg_fit) -> None:
    """Times in days instead of weeks: alpha is multiplied by 7, r, a and b do not change."""
    fit = fit_bg_nbd(simulated.x, simulated.t_x * 7, simulated.T * 7)
    assert fit.status == "converged"
    r, alpha, a, b = bg_fit.parameters
    assert fit.parameters == pytest.approx((r, alpha * 7, a, b), rel=1e-8)


def _another_order(simulated):
    """Customers sorted by T: the same rows in another order (the data have many ties: whole days, same x)."""
    return np.argsort(simulated.T, kind="stable")


def test_fit_does_not_depend_on_row_order_up_to_rounding(simulated, bg_fit, gg_fit) -> None:
    order = _another_order(simulated)
    bg = fit_bg_nbd(simulated.x[order], simulated.t_x[order], simulated.T[order])
    gg = fit_gamma_gamma(simulated.x[order], simulated.m[order])
    assert bg.parameters == pytest.approx(bg_fit.parameters, rel=1e-10)
    assert gg.parameters == pytest.approx(gg_fit.parameters, rel=1e-10)
    assert bg.log_likelihood == pytest.approx(bg_fit.log_likelihood, rel=1e-12)


def test_gamma_gamma_fit_is_identical_whatever_the_row_order(simulated, gg_fit) -> None:
    order = _another_order(simulated)
    gg = fit_gamma_gamma(simulated.x[order], simulated.m[order])
    assert gg.parameters == gg_fit.parameters


def test_bg_nbd_fit_is_identical_whatever_the_row_order(simulated, bg_fit) -> None:
    """The time scale is an exactly rounded mean (math.fsum), and customers are grouped in sorted order, so the same
    customers in another order (an unordered DuckDB scan) give bit-identical parameters."""
    order = _another_order(simulated)
    assert np.mean(simulated.T[order]) != np.mean(simulated.T)  # this order does change a naive mean's rounding
    bg = fit_bg_nbd(simulated.x[order], simulated.t_x[order], simulated.T[order])
    assert bg.parameters == bg_fit.parameters


def test_an_optimiser_that_stops_early_is_not_trusted(simulated, monkeypatch) -> None:
    """An optimiser that stops after one step leaves a gradient that is not flat: the fit reports did_not_converge
    with no parameters instead of storing a half-fitted model."""
    import clv.fit

    real_minimize = clv.fit.minimize

    def one_step(*args, **kwargs):
        # TNC (the fallback) knows no maxiter: each method gets only the limits it takes
        limits = {"maxfun": 2} if kwargs.get("method") == "TNC" else {"maxiter": 1, "maxfun": 2}
        kwargs["options"] = {**kwargs.get("options", {}), **limits}
        return real_minimize(*args, **kwargs)

    monkeypatch.setattr(clv.fit, "minimize", one_step)
    fit = fit_bg_nbd(simulated.x, simulated.t_x, simulated.T)
    assert fit.status == "did_not_converge"
    assert fit.parameters is None
    assert "gradient" in fit.message


def test_expected_purchases_is_continuous_at_a_equal_one() -> None:
    """Both closed forms divide by a - 1; at a = 1 they take the limit instead of dividing by zero."""
    at_one = bg_nbd.expected_purchases((0.243, 4.414, 1.0, 2.426), 39.0)
    near_one = bg_nbd.expected_purchases((0.243, 4.414, 1.0 + 1e-6, 2.426), 39.0)
    assert math.isfinite(at_one) and at_one == pytest.approx(near_one, rel=1e-4)
    conditional = bg_nbd.conditional_expected_purchases((0.243, 4.414, 1.0, 2.426), 39.0, 2, 30.43, 38.86)
    assert float(conditional) == pytest.approx(
        float(bg_nbd.conditional_expected_purchases((0.243, 4.414, 1.0 + 1e-6, 2.426), 39.0, 2, 30.43, 38.86)),
        rel=1e-4,
    )


def test_minimum_customers_boundary(simulated) -> None:
    """clv_min_customers = 100: 99 customers with a purchase are too few, 100 are enough to try."""
    x, t_x, T = simulated.x[:100], simulated.t_x[:100], simulated.T[:100]
    assert fit_bg_nbd(x[:99], t_x[:99], T[:99], min_customers=100, min_repeat_buyers=1).status == "too_few_customers"
    assert fit_bg_nbd(x, t_x, T, min_customers=100, min_repeat_buyers=1).status != "too_few_customers"


def test_gamma_gamma_minimum_repeat_buyers_boundary(simulated) -> None:
    """clv_min_repeat_buyers = 20 for the spend model: 19 repeat buyers with a spend above 0 are too few, 20 are
    enough to try; customers without a repeat purchase do not count."""
    repeat = np.flatnonzero(simulated.x > 0)
    with_one_time = np.concatenate([repeat[:19], np.flatnonzero(simulated.x == 0)[:50]])
    assert fit_gamma_gamma(simulated.x[with_one_time], simulated.m[with_one_time],
                           min_repeat_buyers=20).status == "no_repeat_buyers"
    twenty = repeat[:20]
    assert fit_gamma_gamma(simulated.x[twenty], simulated.m[twenty], min_repeat_buyers=20).status != "no_repeat_buyers"


# ---------------------------------------------------------------------------------------------
# p_purchase_within: the probability of at least one purchase in the next t weeks
# ---------------------------------------------------------------------------------------------


def test_p_purchase_within_by_hand_for_a_one_time_buyer() -> None:
    # x = 0: alive for sure, rate Gamma(r, alpha + T); r = 1, alpha = 10, T = 10, t = 20: 1 - (20 / 40) ** 1 = 0.5
    assert bg_nbd.p_purchase_within((1.0, 10.0, 1.0, 1.0), 20.0, [0.0], [0.0], [10.0])[0] == pytest.approx(0.5)


def test_p_purchase_within_equals_the_posterior_integral() -> None:
    """1 - P(no purchase) with P(no purchase | alive) integrated numerically over the Gamma(r + x, alpha + T)
    posterior of the purchase rate: the closed form is not used on this side."""
    r, alpha, _, _ = CDNOW_BG_NBD
    x, t_x, T, t = 2.0, 30.43, 38.86, 30 / 7

    def density(rate: float) -> float:
        shape, scale_rate = r + x, alpha + T
        return math.exp(shape * math.log(scale_rate) + (shape - 1) * math.log(rate) - scale_rate * rate
                        - math.lgamma(shape))

    none_if_alive, _ = integrate.quad(lambda rate: math.exp(-rate * t) * density(rate), 0, math.inf)
    alive = bg_nbd.p_alive(CDNOW_BG_NBD, np.array([x]), np.array([t_x]), np.array([T]))[0]
    expected = alive * (1 - none_if_alive)
    assert bg_nbd.p_purchase_within(CDNOW_BG_NBD, t, [x], [t_x], [T])[0] == pytest.approx(expected, rel=1e-6)
    assert 0 < expected < alive


def test_p_purchase_within_grows_with_the_window_towards_p_alive() -> None:
    x, t_x, T = np.array([0.0, 1.0, 5.0]), np.array([0.0, 10.0, 30.0]), np.array([20.0, 40.0, 38.0])
    short, long_ = (bg_nbd.p_purchase_within(CDNOW_BG_NBD, t, x, t_x, T) for t in (30 / 7, 365 / 7))
    endless = bg_nbd.p_purchase_within(CDNOW_BG_NBD, 1e40, x, t_x, T)
    assert np.all(short < long_) and np.allclose(endless, bg_nbd.p_alive(CDNOW_BG_NBD, x, t_x, T), atol=1e-6)
    # never more than the expected number of purchases in the window (Markov's inequality)
    assert np.all(short <= bg_nbd.conditional_expected_purchases(CDNOW_BG_NBD, 30 / 7, x, t_x, T) + 1e-12)


def test_predict_gives_p_purchase_next_30d_and_its_window() -> None:
    out = _predict()
    assert np.all((out["p_purchase_next_30d"] >= 0) & (out["p_purchase_next_30d"] <= out["p_alive"]))
    wider = predict(CDNOW_BG_NBD, CDNOW_GAMMA_GAMMA, PREDICT_X, PREDICT_T_X, PREDICT_T, PREDICT_M,
                    monthly_discount_rate=0.01, next_purchase_window_days=90)
    assert np.all(wider["p_purchase_next_30d"] > out["p_purchase_next_30d"])
    assert np.all(np.isnan(predict(None, None, PREDICT_X, PREDICT_T_X, PREDICT_T, PREDICT_M, 0.01)
                           ["p_purchase_next_30d"]))
