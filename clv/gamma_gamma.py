"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves"; Fader & Hardie,
"The Gamma-Gamma model of monetary value", 2013): the expected value of a customer's future purchases.

Each repeat buyer is summarised by x (repeat purchases) and m (the mean value of those repeat purchases). The value of
one purchase is gamma(p, nu) distributed, and nu varies across customers as gamma(q, gamma). The model assumes that
spend per purchase does not depend on how often a customer buys.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

PARAMETER_NAMES = ("p", "q", "gamma")


def log_likelihood(params, x, m):
    """Log-likelihood of each repeat buyer's mean spend m over x repeat purchases (x > 0, m > 0)."""
    p, q, gamma = params
    return (
        gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(gamma)
        + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(gamma + m * x)
    )


def log_likelihood_gradient(params, x, m, weights):
    """Total weighted log-likelihood and its gradient with respect to (p, q, gamma)."""
    p, q, gamma = params
    log_spend = np.log(gamma + m * x)
    d_p = x * (digamma(p * x + q) - digamma(p * x) + np.log(m) + np.log(x) - log_spend)
    d_q = digamma(p * x + q) - digamma(q) + np.log(gamma) - log_spend
    d_gamma = q / gamma - (p * x + q) / (gamma + m * x)
    gradient = np.array([(weights * d).sum() for d in (d_p, d_q, d_gamma)])  # not np.dot: see bg_nbd
    return float((weights * log_likelihood(params, x, m)).sum()), gradient


def population_mean_spend(params):
    """E[M]: mean spend per purchase of a customer we know nothing about (defined for q > 1)."""
    p, q, gamma = params
    return p * gamma / (q - 1) if q > 1 else np.nan


def conditional_expected_spend(params, x, m):
    """E[M | x, m]: a weighted mean of the population mean and the customer's own mean (equation 5 of the 2013 note).
    Customers with no repeat purchase (x = 0) get the population mean. A mean below zero counts as zero."""
    p, q, gamma = params
    x = np.asarray(x, dtype=float)
    m = np.clip(np.nan_to_num(np.asarray(m, dtype=float), nan=0.0), 0.0, None)
    return p * (gamma + m * x) / (p * x + q - 1)
