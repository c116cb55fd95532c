"""The Gamma-Gamma model of spend per purchase (Fader & Hardie 2013, "The Gamma-Gamma model
of monetary value"; first in Fader, Hardie & Lee 2005, "RFM and CLV", JMR 42(4)).

Each purchase's value is Gamma(p, nu); a customer's nu is Gamma(q, gamma) across customers.
What is observed is ``m_x``, the mean value of a customer's x purchases (x > 0). Spend is
assumed independent of how often one buys (the model's premise, worth checking on the data:
``spend_frequency_correlation``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaln

from campaigns.reporting.clv.fitting import FloatArray, maximise

NAMES = ("p", "q", "gamma")


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    @property
    def mean_spend(self) -> float:
        """E[M] over all customers, p gamma / (q - 1) (finite only when q > 1)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("inf")


def log_likelihood(params: GammaGamma, x: ArrayLike, m_x: ArrayLike) -> FloatArray:
    """Each customer's log-likelihood of the mean spend, equation (3) of the 2013 note:

    f(m_x | p, q, gamma; x) = G(px + q) / (G(px) G(q)) gamma^q m_x^(px - 1) x^(px)
                              / (gamma + x m_x)^(px + q)
    """
    p, q, gamma = params.p, params.q, params.gamma
    x, m_x = np.asarray(x, dtype=float), np.asarray(m_x, dtype=float)
    px = p * x
    result: FloatArray = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m_x)
        + px * np.log(x)
        - (px + q) * np.log(gamma + x * m_x)
    )
    return result


def fit(x: ArrayLike, m_x: ArrayLike, weights: ArrayLike | None = None) -> GammaGamma:
    """Maximum-likelihood parameters from customers with x > 0 purchases of mean value m_x > 0.
    ``weights`` counts customers sharing a row."""
    x, m_x = np.asarray(x, dtype=float), np.asarray(m_x, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)

    def total(log_params: FloatArray) -> float:
        p, q, gamma = np.exp(log_params)
        return float((w * log_likelihood(GammaGamma(p, q, gamma), x, m_x)).sum())

    start = np.log([1.0, 2.0, max(float(np.average(m_x, weights=w)), 1e-3)])
    p, q, gamma = maximise(total, start, model="Gamma-Gamma", names=NAMES)
    return GammaGamma(p, q, gamma)


def expected_spend(params: GammaGamma, x: ArrayLike, m_x: ArrayLike) -> FloatArray:
    """E[M | p, q, gamma, m_x, x] = (gamma + x m_x) p / (p x + q - 1), equation (5): a weighted
    mean of the population mean and the customer's own mean; the population mean for x = 0."""
    p, q, gamma = params.p, params.q, params.gamma
    x, m_x = np.asarray(x, dtype=float), np.asarray(m_x, dtype=float)
    own = np.where(x > 0, m_x, 0.0)
    result: FloatArray = (gamma + x * own) * p / (p * x + q - 1)
    return result


def simulate(params: GammaGamma, x: ArrayLike, rng: np.random.Generator) -> FloatArray:
    """Mean purchase values drawn from the model for customers with x > 0 purchases: the sum
    of x Gamma(p, nu) values is Gamma(p x, nu), so one draw per customer."""
    x = np.asarray(x, dtype=float)
    nu = rng.gamma(params.q, 1.0 / params.gamma, x.shape[0])
    result: FloatArray = rng.gamma(params.p * x, 1.0 / nu) / x
    return result
