"""BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): number of future purchases and
probability that a customer is still alive, for non-contractual settings.

Each customer is summarised by x (repeat purchases: purchase days after the first), t_x (time from the first to the
last purchase) and T (time from the first purchase to the end of the observation period), all in one time unit.
Parameters: r, alpha (gamma heterogeneity of the purchase rate), a, b (beta heterogeneity of the drop-out
probability after each purchase).

Everything is vectorised with NumPy; no Python loop runs per customer.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from clv.arrays import unique_rows

PARAMETER_NAMES = ("r", "alpha", "a", "b")


def _per_customer_terms(params, x, t_x, T):
    """The two log-terms of the likelihood (A3, A4 in the paper's notation) and the parameter-only part."""
    r, alpha, a, b = params
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    alive_term = -(r + x) * np.log(alpha + T)
    has_repeat = x > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        dead_term = np.where(
            has_repeat,
            np.log(a) - np.log(np.where(has_repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return head, alive_term, dead_term


def log_likelihood(params, x, t_x, T):
    """Log-likelihood of each customer (an array shaped like x)."""
    head, alive_term, dead_term = _per_customer_terms(params, x, t_x, T)
    return head + np.logaddexp(alive_term, dead_term)


def log_likelihood_gradient(params, x, t_x, T, weights):
    """Total weighted log-likelihood and its gradient with respect to (r, alpha, a, b)."""
    r, alpha, a, b = params
    head, alive_term, dead_term = _per_customer_terms(params, x, t_x, T)
    total = np.logaddexp(alive_term, dead_term)
    alive_weight = np.exp(alive_term - total)  # share of the likelihood from "still alive at T"
    dead_weight = 1.0 - alive_weight
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - alive_weight * np.log(alpha + T) - dead_weight * np.log(
        alpha + t_x
    )
    d_alpha = r / alpha - alive_weight * (r + x) / (alpha + T) - dead_weight * (r + x) / (alpha + t_x)
    d_a = digamma(a + b) - digamma(a + b + x) + dead_weight / a
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse_gap = np.where(x > 0, 1.0 / (b + x - 1), 0.0)
    d_b = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x) - dead_weight * inverse_gap
    # (w * d).sum() rather than np.dot: the same result and speed whatever BLAS threading is in force
    gradient = np.array([(weights * d).sum() for d in (d_r, d_alpha, d_a, d_b)])
    return float((weights * (head + total)).sum()), gradient


def p_alive(params, x, t_x, T):
    """Probability that the customer has not dropped out by T. Customers with no repeat purchase get 1: in the
    BG/NBD a customer can only drop out right after a purchase."""
    r, alpha, a, b = params
    x = np.asarray(x, dtype=float)
    has_repeat = x > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds_dead = (
            np.log(a) - np.log(np.where(has_repeat, b + x - 1, 1.0)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
    return np.where(has_repeat, expit(-log_odds_dead), 1.0)


def p_purchase_within(params, t, x, t_x, T):
    """Probability of at least one purchase in (T, T + t], given x repeat purchases, the last at t_x, observed for T
    (all in weeks). In the BG/NBD a customer drops out only right after a purchase, so one alive at T makes no
    purchase in the window exactly when the Poisson process has no event in it; alive, the purchase rate given the
    history is Gamma(r + x, alpha + T) (Fader, Hardie and Lee 2005, "Counting your customers the easy way", eq. 2 and
    the derivation of E[X(t) | ...]; Fader and Hardie's note on P(X(t) = x | r, alpha, a, b), n = 0), whose Laplace
    transform at t gives P(no event | alive) = ((alpha + T) / (alpha + T + t)) ** (r + x). Hence
    P(at least one) = P(alive) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x))."""
    r, alpha, _, _ = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    none_if_alive = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
    return p_alive(params, x, t_x, T) * (1.0 - none_if_alive)


def _purchases_if_alive(params, t, x, T):
    """E[purchases in (T, T+t] | x, T, alive at T].

    The paper's expression multiplies ((alpha+T)/(alpha+T+t))^(r+x) by 2F1(r+x, b+x; a+b+x-1; z), which overflows for
    frequent buyers. Euler's transformation turns the product into (1-z)^(a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z),
    whose parameters do not grow with x.
    """
    r, alpha, a, b = params
    if abs(a - 1.0) < 1e-9:  # the closed form has a removable singularity at a = 1
        a = 1.0 + 1e-9
    z = t / (alpha + T + t)
    c = a + b + x - 1
    bracket = 1.0 - (1.0 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, c, z)
    return c / (a - 1) * bracket


def conditional_expected_purchases(params, t, x, t_x, T):
    """E[Y(t) | x, t_x, T]: expected purchases in the next t time units (equation 10 of the paper)."""
    x = np.asarray(x, dtype=float)
    T = np.asarray(T, dtype=float)
    return _purchases_if_alive(params, t, x, T) * p_alive(params, x, t_x, T)


def conditional_expected_purchases_by_horizon(params, horizons, x, t_x, T):
    """E[Y(t) | x, t_x, T] for several horizons at once: an array shaped (len(horizons), customers).

    The hypergeometric part depends on (x, T) only, so it is evaluated once per distinct pair rather than once per
    customer: at retail scale that is tens of thousands of evaluations instead of millions.
    """
    x = np.asarray(x, dtype=float)
    T = np.asarray(T, dtype=float)
    (pair_x, pair_T), inverse, _ = unique_rows(x, T)
    alive = p_alive(params, x, t_x, T)
    return np.vstack([_purchases_if_alive(params, t, pair_x, pair_T)[inverse] * alive for t in horizons])


def expected_purchases(params, t):
    """E[X(t)]: expected purchases of a new customer in their first t time units (equation 9 of the paper)."""
    r, alpha, a, b = params
    if abs(a - 1.0) < 1e-9:  # the removable singularity at a = 1, as in _purchases_if_alive
        a = 1.0 + 1e-9
    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))
