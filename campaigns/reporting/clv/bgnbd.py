"""The BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005, "Counting your customers
the easy way: an alternative to the Pareto/NBD model", Marketing Science 24(2)).

While alive a customer buys as a Poisson process of rate lambda ~ Gamma(r, alpha); after each
repeat purchase they drop out with probability p ~ Beta(a, b). A customer's history is
``(x, t_x, T)``: x repeat purchases, the last one t_x after the first purchase, observed for T
since the first purchase (all in days here). Every function takes numpy arrays of histories
and works on them whole: no Python loop per customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, gammaln, hyp2f1

from campaigns.reporting.clv.fitting import FloatArray, maximise

NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


def log_likelihood(params: BgNbd, x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike) -> FloatArray:
    """Each customer's log-likelihood, equation (6) of the paper in the log form of Fader &
    Hardie's note "Implementing the BG/NBD model" (2005):

        ln L = A1 + A2 + ln(exp(A3) + [x > 0] exp(A4))
        A1 = lnG(r + x) - lnG(r) + r ln(alpha)
        A2 = lnB(a, b + x) - lnB(a, b)
        A3 = -(r + x) ln(alpha + T)
        A4 = ln(a) - ln(b + x - 1) - (r + x) ln(alpha + t_x)
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, big_t = _histories(x, t_x, big_t)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + big_t)
    repeat = x > 0
    # b + x - 1 is only used where x > 0, where it is positive; elsewhere any positive value.
    a4 = np.where(
        repeat,
        np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    result: FloatArray = a1 + a2 + np.logaddexp(a3, a4)
    return result


def fit(x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike, weights: ArrayLike | None = None) -> BgNbd:
    """Maximum-likelihood parameters for these histories; ``weights`` counts customers who
    share a history (many do, in whole days), so a large base is fitted on its distinct rows.
    ``fitting.FitFailed`` when the optimiser finds no maximum."""
    x, t_x, big_t = _histories(x, t_x, big_t)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)

    def total(log_params: FloatArray) -> float:
        r, alpha, a, b = np.exp(log_params)
        return float((w * log_likelihood(BgNbd(r, alpha, a, b), x, t_x, big_t)).sum())

    # Start where the literature's fits usually land in scale: alpha near the mean age.
    start = np.log([1.0, max(float(big_t.mean()), 1.0), 1.0, 1.0])
    r, alpha, a, b = maximise(total, start, model="BG/NBD", names=NAMES)
    return BgNbd(r, alpha, a, b)


def p_alive(params: BgNbd, x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike) -> FloatArray:
    """P(still alive at T | history), equation (11) of the paper; 1 without repeat purchase
    (the model lets a customer drop out only after a repeat purchase)."""
    x, t_x, big_t = _histories(x, t_x, big_t)
    return 1.0 / (1.0 + _dropout_odds(params, x, t_x, big_t))


def expected_purchases(
    params: BgNbd, horizon: float, x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike
) -> FloatArray:
    """E[purchases in (T, T + horizon] | history], equation (10) of the paper."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, big_t = _histories(x, t_x, big_t)
    t = float(horizon)
    hyper = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
    share = ((alpha + big_t) / (alpha + big_t + t)) ** (r + x)
    numerator = (a + b + x - 1) / (a - 1) * (1 - share * hyper)
    result: FloatArray = numerator / (1.0 + _dropout_odds(params, x, t_x, big_t))
    return result


def expected_purchases_new(params: BgNbd, t: ArrayLike) -> FloatArray:
    """E[X(t)] for a customer just acquired, equation (9) of the paper."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = np.asarray(t, dtype=float)
    hyper = hyp2f1(r, b, a + b - 1, t / (alpha + t))
    result: FloatArray = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyper)
    return result


def _dropout_odds(params: BgNbd, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
    """[x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x), computed in logs so
    that long histories do not overflow."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    log_odds = (
        np.log(a)
        - np.log(np.where(repeat, b + x - 1, 1.0))
        + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
    )
    result: FloatArray = np.where(repeat, np.exp(log_odds), 0.0)
    return result


def _histories(
    x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    return (
        np.asarray(x, dtype=float),
        np.asarray(t_x, dtype=float),
        np.asarray(big_t, dtype=float),
    )


def simulate(
    params: BgNbd, big_t: ArrayLike, rng: np.random.Generator
) -> tuple[NDArray[np.int64], FloatArray]:
    """Histories ``(x, t_x)`` drawn from the model for customers observed for ``big_t``: for
    tests and benchmarks. Vectorised: the purchases in (0, T] are N ~ Poisson(lambda T), the
    dropout comes after repeat purchase J ~ Geometric(p), x = min(N, J), and the x-th of N
    uniform purchase times is T times a Beta(x, N - x + 1) draw."""
    big_t = np.asarray(big_t, dtype=float)
    n = big_t.shape[0]
    rate = rng.gamma(params.r, 1.0 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    possible = rng.poisson(rate * big_t)
    last = rng.geometric(dropout)
    x = np.minimum(possible, last)
    # Customers without a repeat purchase draw too (any valid shape), then get t_x = 0.
    safe_x = np.maximum(x, 1)
    order_statistic = rng.beta(safe_x, np.maximum(possible - safe_x + 1, 1))
    t_x = np.where(x > 0, big_t * order_statistic, 0.0)
    return x.astype(np.int64), t_x
