"""The BG/NBD model (Fader, Hardie & Lee 2005) against its published closed forms and the
figures published with it (the CDNOW data set, times in weeks), then fitted on data drawn
from it with known parameters."""

import math

import numpy as np
import pytest

from campaigns.reporting.clv import BgNbd, FitFailed, GammaGamma, bgnbd
from tests.campaigns.reporting.simulation import simulate

# The maximum-likelihood estimates on CDNOW's 2,357 customers, as published (3 decimals).
CDNOW = BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)


def paper_likelihood(params: BgNbd, x: int, t_x: float, big_t: float) -> float:
    """Equation (6) of the paper, term by term with the gamma and beta functions:

    L = B(a, b + x) / B(a, b) * G(r + x) alpha^r / (G(r) (alpha + T)^(r + x))
        + [x > 0] B(a + 1, b + x - 1) / B(a, b) * G(r + x) alpha^r / (G(r) (alpha + t_x)^(r + x))
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b

    def beta(u: float, v: float) -> float:
        return math.gamma(u) * math.gamma(v) / math.gamma(u + v)

    rate_part = math.gamma(r + x) * alpha**r / math.gamma(r)
    alive = beta(a, b + x) / beta(a, b) * rate_part / (alpha + big_t) ** (r + x)
    dead = 0.0
    if x > 0:
        dead = beta(a + 1, b + x - 1) / beta(a, b) * rate_part / (alpha + t_x) ** (r + x)
    return alive + dead


HAND_MADE = [
    # (x, t_x, T): no repeat purchase; the paper's example customer; a frequent buyer who
    # stopped long ago; a frequent buyer seen last week.
    (0, 0.0, 38.86),
    (2, 30.43, 38.86),
    (1, 1.71, 38.86),
    (7, 20.0, 52.0),
    (7, 51.0, 52.0),
]


@pytest.mark.parametrize(("x", "t_x", "big_t"), HAND_MADE)
@pytest.mark.parametrize("params", [CDNOW, BgNbd(r=1.5, alpha=20.0, a=2.0, b=5.0)])
def test_the_log_likelihood_is_the_log_of_the_papers_equation_6(params, x, t_x, big_t):
    expected = math.log(paper_likelihood(params, x, t_x, big_t))

    computed = bgnbd.log_likelihood(params, [x], [t_x], [big_t])

    assert computed[0] == pytest.approx(expected, rel=1e-10)


def test_the_log_likelihood_of_many_customers_is_computed_row_by_row_at_once():
    x, t_x, big_t = (np.array(column, dtype=float) for column in zip(*HAND_MADE, strict=True))

    computed = bgnbd.log_likelihood(CDNOW, x, t_x, big_t)

    expected = [math.log(paper_likelihood(CDNOW, *row)) for row in HAND_MADE]
    assert computed == pytest.approx(expected, rel=1e-10)


def test_the_papers_example_customer_expects_1_226_purchases_in_the_next_39_weeks():
    # x = 2, t_x = 30.43, T = 38.86 under the CDNOW estimates (Fader & Hardie's spreadsheet).
    assert bgnbd.expected_purchases(CDNOW, 39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=5e-4)


def test_p_alive_of_the_example_customer_follows_equation_11():
    # 1 / (1 + a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)), written out.
    odds = 0.793 / (2.426 + 2 - 1) * ((4.414 + 38.86) / (4.414 + 30.43)) ** (0.243 + 2)

    assert bgnbd.p_alive(CDNOW, 2, 30.43, 38.86) == pytest.approx(1 / (1 + odds), rel=1e-12)


def test_a_customer_without_repeat_purchase_is_alive_for_the_model():
    assert bgnbd.p_alive(CDNOW, [0, 0], [0, 0], [1, 300]).tolist() == [1.0, 1.0]


def test_expected_purchases_of_a_new_customer_match_the_published_curve():
    # E[X(t)] at these weeks, from the CDNOW spreadsheet; the published parameters are rounded
    # to 3 decimals, which moves the curve by up to 0.003 at 78 weeks.
    weeks = [0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0]
    published = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]

    assert bgnbd.expected_purchases_new(CDNOW, weeks) == pytest.approx(published, abs=3e-3)


def test_a_customer_with_no_history_yet_expects_what_a_new_customer_does():
    # Equation (10) at x = 0, T = 0 is equation (9).
    conditional = bgnbd.expected_purchases(CDNOW, 26.0, 0, 0, 0)

    assert conditional == pytest.approx(bgnbd.expected_purchases_new(CDNOW, 26.0), rel=1e-10)


# Recovery: 10,000 customers observed for one to three years, simulated with these parameters
# (times in days). Over 30 seeds the worst error of any parameter was 13 %; the test allows 15 %.
TRUE = BgNbd(r=1.0, alpha=30.0, a=1.2, b=6.0)
TOLERANCE = 0.15


def test_the_fit_recovers_the_parameters_data_were_simulated_with():
    rng = np.random.default_rng(2026)
    big_t = rng.integers(365, 1096, 10_000).astype(float)
    x, t_x = bgnbd.simulate(TRUE, big_t, rng)

    fitted = bgnbd.fit(x, np.floor(t_x), big_t)

    for name, true in TRUE.as_dict().items():
        assert fitted.as_dict()[name] == pytest.approx(true, rel=TOLERANCE), name


def test_the_two_simulations_agree_on_what_they_draw():
    # bgnbd.simulate (order statistics) and the event-by-event simulation of the tests draw
    # the same model: their mean repeat purchases agree within sampling error.
    rng = np.random.default_rng(7)
    big_t = np.full(20_000, 500.0)
    x, _ = bgnbd.simulate(TRUE, big_t, rng)
    events = simulate(TRUE, GammaGamma(p=6.0, q=4.0, gamma=15.0), 20_000, rng)
    x_events, _ = events.history(big_t)

    assert x.mean() == pytest.approx(x_events.mean(), rel=0.05)
    assert x.mean() == pytest.approx(bgnbd.expected_purchases_new(TRUE, 500.0), rel=0.05)


def test_weights_count_customers_sharing_a_history():
    rng = np.random.default_rng(3)
    big_t = rng.integers(100, 120, 3_000).astype(float)
    x, t_x = bgnbd.simulate(TRUE, big_t, rng)
    rows, weights = np.unique(
        np.stack([x, np.floor(t_x), big_t], axis=1), axis=0, return_counts=True
    )

    whole = bgnbd.fit(x, np.floor(t_x), big_t)
    weighted = bgnbd.fit(rows[:, 0], rows[:, 1], rows[:, 2], weights=weights)

    assert len(rows) < len(x)
    for name, value in whole.as_dict().items():
        assert weighted.as_dict()[name] == pytest.approx(value, rel=1e-3), name


def test_histories_without_any_repeat_purchase_cannot_be_fitted():
    # Nobody bought twice: the likelihood grows as r goes to 0 and never reaches a maximum.
    with pytest.raises(FitFailed) as refused:
        bgnbd.fit(np.zeros(500), np.zeros(500), np.linspace(30, 300, 500))

    assert refused.value.details["reason"] == "fit_failed"
    assert "BG/NBD" in refused.value.message
