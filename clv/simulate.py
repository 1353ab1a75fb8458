"""Simulated customers drawn from the BG/NBD purchase process and the Gamma-Gamma spend model, for tests of the
fitting code (parameter recovery) and for benchmarks.

Each customer makes a first purchase at time 0 and is observed until T. While alive, purchases follow a Poisson
process with rate lambda ~ gamma(shape r, rate alpha); after each repeat purchase the customer drops out with
probability p ~ beta(a, b) (the first purchase is not a drop-out opportunity, as in the paper). Each purchase has a
value ~ gamma(shape p_spend, rate nu), with nu ~ gamma(shape q, rate gamma) per customer.

Everything is vectorised (no Python loop per customer) and deterministic for a given seed:

* the number of repeat purchases a customer would make before dropping out is J ~ geometric(p) (1, 2, ...);
* the number of Poisson arrivals in (0, T] is N ~ Poisson(lambda T); the customer makes x = min(J, N) of them;
* given N, the arrival times are N uniform order statistics on (0, T), so the time of the x-th one is
  t_x = T * beta(x, N - x + 1);
* the mean of x purchase values is gamma(shape p_spend * x, rate nu) / x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SimulatedCustomers:
    x: np.ndarray  # repeat purchases in (0, T]
    t_x: np.ndarray  # time of the last repeat purchase (0 when x = 0)
    T: np.ndarray  # length of the observation period
    m: np.ndarray  # mean value of the repeat purchases (0 when x = 0, as in int_customers__purchase_summary)
    purchase_rate: np.ndarray  # the customer's lambda
    dropout_probability: np.ndarray  # the customer's p
    spend_rate: np.ndarray  # the customer's nu (mean purchase value p_spend / nu)


def simulate(
    n_customers: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T,
    p: float = 6.0,
    q: float = 4.0,
    gamma: float = 15.0,
    seed: int = 0,
    resolution: float | None = None,
) -> SimulatedCustomers:
    """Draw n_customers from the BG/NBD + Gamma-Gamma process.

    T is a scalar or an array of n_customers observation lengths, in the time unit of alpha. With `resolution`, the
    times are put on a grid of that step (e.g. whole days), as in summaries built from purchase dates: T is rounded
    to the nearest step, and t_x to the step its purchase falls in, counting from a first purchase at a random point
    of its step (floor(t_x / step + u) with u uniform, which leaves t_x unbiased; always rounding up would make
    everybody look more recent and bias alpha by a few per cent). x is left as drawn: two purchases in one step
    still count twice, and a repeat purchase in the step of the first one gives t_x = 0. The same seed gives the
    same x and m with or without `resolution`.
    """
    rng = np.random.default_rng(seed)
    T = np.broadcast_to(np.asarray(T, dtype=float), (n_customers,)).copy()
    if resolution is not None:
        T = np.round(T / resolution) * resolution
    purchase_rate = rng.gamma(r, 1.0 / alpha, n_customers)
    # a draw of exactly 0 (possible for a small a in floating point) would make the geometric draw invalid
    dropout_probability = np.clip(rng.beta(a, b, n_customers), 1e-300, 1.0)
    purchases_before_dropout = rng.geometric(dropout_probability)
    arrivals = rng.poisson(purchase_rate * T)
    x = np.minimum(purchases_before_dropout, arrivals)
    has_repeat = x > 0
    t_x = np.zeros(n_customers)
    t_x[has_repeat] = T[has_repeat] * rng.beta(x[has_repeat], arrivals[has_repeat] - x[has_repeat] + 1)
    spend_rate = rng.gamma(q, 1.0 / gamma, n_customers)
    m = np.zeros(n_customers)
    m[has_repeat] = rng.gamma(p * x[has_repeat], 1.0 / spend_rate[has_repeat]) / x[has_repeat]
    if resolution is not None:
        offset = rng.uniform(0.0, 1.0, n_customers)
        t_x = np.where(has_repeat, np.minimum(np.floor(t_x / resolution + offset) * resolution, T), 0.0)
    return SimulatedCustomers(x.astype(float), t_x, T, m, purchase_rate, dropout_probability, spend_rate)
