"""Maximum-likelihood fitting of the BG/NBD and Gamma-Gamma models, with the checks that keep a bad fit out of the mart.

A fit either converges (status `converged`) or says why not, and then its parameters are None so that no prediction
is made from it: `too_few_customers`, `no_repeat_buyers`, `did_not_converge` (the optimiser failed, the gradient is
not flat or a parameter ran to the edge of its range) or `invalid_parameters` (Gamma-Gamma with q <= 1, whose mean
spend is infinite).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from clv import bg_nbd, gamma_gamma
from clv.arrays import unique_rows

# Bounds of the optimiser on log-parameters, after the data are rescaled to be of order one. A fit that ends on a
# bound has run away (e.g. nobody ever drops out, or everybody spends exactly the same) and is not trusted.
LOG_BOUND = 12.0
# Largest gradient (per customer, on log-parameters) accepted as "at the optimum".
GRADIENT_TOLERANCE = 1e-4


@dataclass(frozen=True)
class FitResult:
    model: str
    parameter_names: tuple[str, ...]
    parameters: tuple[float, ...] | None
    log_likelihood: float | None
    n_customers: int
    status: str
    message: str

    @property
    def converged(self) -> bool:
        return self.status == "converged"


def _unique_with_weights(*columns):
    """Distinct rows of the given columns and how often each occurs: the likelihood is a sum over customers, so
    customers with the same summary are evaluated once."""
    rows, _, counts = unique_rows(*columns)
    return rows, counts


def _maximise(objective, n_parameters, total_weight):
    """Maximise a log-likelihood over log-parameters. Returns (log-parameters, per-customer gradient, success)."""

    def negative(log_params):
        value, gradient = objective(np.exp(log_params))
        # chain rule for the log-parameters; dividing by the number of customers keeps the scale independent of size
        return -value / total_weight, -gradient * np.exp(log_params) / total_weight

    bounds = [(-LOG_BOUND, LOG_BOUND)] * n_parameters
    start = np.zeros(n_parameters)
    with np.errstate(all="ignore"):
        result = minimize(negative, start, jac=True, method="L-BFGS-B", bounds=bounds,
                          options={"maxiter": 1000, "ftol": 1e-14, "gtol": 1e-9})
        if not np.all(np.abs(result.jac) < GRADIENT_TOLERANCE):  # polish from where L-BFGS-B stopped
            result = minimize(negative, result.x, jac=True, method="TNC", bounds=bounds,
                              options={"maxfun": 2000, "ftol": 1e-14, "gtol": 1e-10})
        _, gradient = negative(result.x)
    return result.x, gradient, bool(np.isfinite(result.fun))


def _judge(model, names, log_params, gradient, finite, evaluate, n_customers, scale_back):
    at_bound = np.abs(log_params) > LOG_BOUND - 1e-3
    if not finite or not np.all(np.isfinite(gradient)):
        return FitResult(model, names, None, None, n_customers, "did_not_converge",
                         "the log-likelihood is not finite at the optimiser's end point")
    if at_bound.any():
        runaway = ", ".join(name for name, bound in zip(names, at_bound) if bound)
        return FitResult(model, names, None, None, n_customers, "did_not_converge",
                         f"parameter {runaway} ran to the edge of its range: the data do not identify the model")
    if not np.all(np.abs(gradient) < GRADIENT_TOLERANCE):
        return FitResult(model, names, None, None, n_customers, "did_not_converge",
                         f"the optimiser stopped with a gradient of {np.max(np.abs(gradient)):.2g} per customer")
    params = scale_back(np.exp(log_params))
    return FitResult(model, names, tuple(float(v) for v in params), float(evaluate(params)), n_customers,
                     "converged", "converged")


def fit_bg_nbd(x, t_x, T, min_customers: int = 100, min_repeat_buyers: int = 20) -> FitResult:
    """Fit the BG/NBD model on customers with at least one purchase (x, t_x, T in one time unit)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    n = int(x.size)
    names = bg_nbd.PARAMETER_NAMES
    repeat_buyers = int(np.count_nonzero(x > 0))
    if n < min_customers:
        return FitResult("bg_nbd", names, None, None, n, "too_few_customers",
                         f"{n} customers with a purchase, fewer than clv_min_customers = {min_customers}")
    if repeat_buyers < min_repeat_buyers:
        return FitResult("bg_nbd", names, None, None, n, "no_repeat_buyers",
                         f"{repeat_buyers} repeat buyers, fewer than clv_min_repeat_buyers = {min_repeat_buyers}")
    # times are rescaled to a mean T of one for the optimiser; only alpha carries the time unit
    time_scale = (math.fsum(T) / n) or 1.0  # fsum: the same scale whatever the row order
    (ux, ut_x, uT), weights = _unique_with_weights(x, t_x / time_scale, T / time_scale)
    log_params, gradient, finite = _maximise(
        lambda params: bg_nbd.log_likelihood_gradient(params, ux, ut_x, uT, weights), 4, weights.sum()
    )
    return _judge("bg_nbd", names, log_params, gradient, finite,
                  lambda params: math.fsum(bg_nbd.log_likelihood(params, x, t_x, T)), n,
                  lambda params: params * np.array([1.0, time_scale, 1.0, 1.0]))


def fit_gamma_gamma(x, m, min_repeat_buyers: int = 20) -> FitResult:
    """Fit the Gamma-Gamma model on repeat buyers (x > 0) whose mean repeat spend m is above zero."""
    x, m = (np.asarray(v, dtype=float) for v in (x, m))
    names = gamma_gamma.PARAMETER_NAMES
    usable = (x > 0) & np.isfinite(m) & (m > 0)
    x, m = x[usable], m[usable]
    n = int(x.size)
    if n < min_repeat_buyers:
        return FitResult("gamma_gamma", names, None, None, n, "no_repeat_buyers",
                         f"{n} repeat buyers with a spend above zero, fewer than clv_min_repeat_buyers = "
                         f"{min_repeat_buyers}")
    spend_scale = float(np.median(m))
    (ux, um), weights = _unique_with_weights(x, m / spend_scale)
    log_params, gradient, finite = _maximise(
        lambda params: gamma_gamma.log_likelihood_gradient(params, ux, um, weights), 3, weights.sum()
    )
    result = _judge("gamma_gamma", names, log_params, gradient, finite,
                    lambda params: math.fsum(gamma_gamma.log_likelihood(params, x, m)), n,
                    lambda params: params * np.array([1.0, 1.0, spend_scale]))
    if result.converged and result.parameters[1] <= 1:
        return FitResult("gamma_gamma", names, None, None, n, "invalid_parameters",
                         f"q = {result.parameters[1]:.3g} <= 1: the mean spend per purchase would be infinite")
    return result
