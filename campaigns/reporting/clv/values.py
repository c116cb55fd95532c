"""Customer lifetime value, computed for every buyer at once: the historical part (orders and
revenue to date, online only / store only / omnichannel) from the purchase histories, the
predicted part from the BG/NBD and Gamma-Gamma models fitted on them; each run writes one
``ClvFit`` and replaces every ``CustomerValue`` in one transaction.

Predicted CLV over a horizon of H days with a yearly discount rate d:

    CLV = E[spend per purchase] * sum over steps k of
          (E[purchases in (T, T + t_k)] - E[purchases in (T, T + t_(k-1))]) / (1 + d)^(t_k / 365)

with 30-day steps (the last one shorter): the BG/NBD expectation gives when purchases fall,
the discount brings each step's revenue back to today.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.locks import lock_customer_values
from campaigns.models import ClvFit, CustomerValue
from campaigns.reporting.clv import bgnbd, gamma_gamma
from campaigns.reporting.clv.calibration import calibration_report
from campaigns.reporting.clv.fitting import FitFailed, FloatArray
from campaigns.reporting.clv.history import Histories, purchase_histories
from omni.core.errors import InvalidRequest

EXPECTED_PURCHASES_DAYS = 90
STEP_DAYS = 30
MAX_HORIZON_DAYS = 3660  # ten years: a longer prediction is a guess, not a model
BATCH_SIZE = 5_000
CENTS = Decimal("0.01")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Fitted:
    """Both models fitted on one set of histories."""

    purchases: bgnbd.BgNbd
    spend: gamma_gamma.GammaGamma


def check_settings(
    *, horizon_days: int, annual_discount_rate: Decimal, holdout_days: int = 0
) -> None:
    """``InvalidRequest`` for a horizon, discount rate or holdout no prediction can use."""
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int):
        raise InvalidRequest(
            f"The CLV horizon must be a whole number of days, not {horizon_days!r}.",
            details={"horizon_days": horizon_days},
        )
    if not 0 < horizon_days <= MAX_HORIZON_DAYS:
        raise InvalidRequest(
            f"The CLV horizon must be between 1 and {MAX_HORIZON_DAYS} days, not {horizon_days}.",
            details={"horizon_days": horizon_days},
        )
    if not annual_discount_rate.is_finite() or not 0 <= annual_discount_rate < 1:
        raise InvalidRequest(
            "The yearly discount rate must be at least 0 and below 1 (0.10 for 10 %), not "
            f"{annual_discount_rate}.",
            details={"annual_discount_rate": str(annual_discount_rate)},
        )
    if isinstance(holdout_days, bool) or not isinstance(holdout_days, int) or holdout_days < 0:
        raise InvalidRequest(
            f"The holdout period must be 0 (no calibration report) or more days, not "
            f"{holdout_days!r}.",
            details={"holdout_days": holdout_days},
        )


def fit_models(histories: Histories, *, minimum: int | None = None) -> Fitted:
    """BG/NBD on every history, Gamma-Gamma on the customers who bought again (with a
    positive spend). ``InvalidRequest`` with too few repeat customers to learn from,
    ``FitFailed`` when an optimiser finds no maximum."""
    minimum = settings.CLV_MIN_REPEAT_CUSTOMERS if minimum is None else minimum
    spenders = (histories.x > 0) & (histories.m_x > 0)
    found = int(spenders.sum())
    if found < max(minimum, 1):
        raise InvalidRequest(
            f"Too little history to fit the CLV models: {found} customers bought again on a "
            f"later day up to {histories.until}, at least {minimum} are needed "
            "(CLV_MIN_REPEAT_CUSTOMERS).",
            details={"reason": "too_little_history", "repeat_customers": found, "needed": minimum},
        )
    # Customers who share a history (most one-time buyers do) count once, with a weight.
    rows, weights = np.unique(
        np.stack([histories.x, histories.t_x, histories.big_t], axis=1),
        axis=0,
        return_counts=True,
    )
    purchases = bgnbd.fit(rows[:, 0], rows[:, 1], rows[:, 2], weights=weights)
    spend = gamma_gamma.fit(histories.x[spenders], histories.m_x[spenders])
    if spend.q <= 1:
        raise FitFailed(
            "The Gamma-Gamma model could not be fitted: its q came out at "
            f"{spend.q:.3f}, and the mean spend is only finite above 1.",
            details={"reason": "fit_failed", "model": "Gamma-Gamma", "parameters": ["q"]},
        )
    return Fitted(purchases=purchases, spend=spend)


def discounted_purchases(
    params: bgnbd.BgNbd, histories: Histories, *, horizon_days: int, annual_rate: float
) -> FloatArray:
    """Each customer's expected purchases over the horizon, each step's discounted to today."""
    total = np.zeros(len(histories))
    before = np.zeros(len(histories))
    ends = [*range(STEP_DAYS, horizon_days, STEP_DAYS), horizon_days]
    for end in ends:  # a loop over steps (at most 122), never over customers
        upto = bgnbd.expected_purchases(params, end, histories.x, histories.t_x, histories.big_t)
        total += (upto - before) / (1 + annual_rate) ** (end / 365)
        before = upto
    return total


def compute_customer_values(
    *,
    now: datetime | None = None,
    horizon_days: int | None = None,
    annual_discount_rate: Decimal | None = None,
    holdout_days: int | None = None,
    progress: Progress | None = None,
) -> ClvFit:
    """Fit the models on every purchase to date, write every buyer's ``CustomerValue`` and a
    ``ClvFit`` with the parameters and the calibration report. Refused with a clear error (and
    nothing changed, the last fit kept) on a bad horizon or rate, too little history or a
    failed fit."""
    started = clock.monotonic()
    now = now or timezone.now()
    horizon_days = settings.CLV_HORIZON_DAYS if horizon_days is None else horizon_days
    if annual_discount_rate is None:
        annual_discount_rate = Decimal(settings.CLV_DISCOUNT_PERCENT) / 100
    holdout_days = settings.CLV_HOLDOUT_DAYS if holdout_days is None else holdout_days
    check_settings(
        horizon_days=horizon_days,
        annual_discount_rate=annual_discount_rate,
        holdout_days=holdout_days,
    )
    say = progress or (lambda message: None)
    today = timezone.localdate(now)

    histories = purchase_histories(until=today)
    say(f"{len(histories)} buyers, {histories.repeat_customers} with a repeat purchase.")
    fitted = fit_models(histories)
    say(f"BG/NBD {_shown(fitted.purchases.as_dict())}")
    say(f"Gamma-Gamma {_shown(fitted.spend.as_dict())}")
    calibration, calibration_params, note = _calibrate(today, holdout_days)
    say(note or f"Calibration report over the last {holdout_days} days: {len(calibration)} rows.")

    fit = ClvFit(
        fitted_at=now,
        observed_until=today,
        horizon_days=horizon_days,
        annual_discount_rate=annual_discount_rate,
        customers=len(histories),
        repeat_customers=histories.repeat_customers,
        bgnbd=fitted.purchases.as_dict(),
        gamma_gamma=fitted.spend.as_dict(),
        holdout_days=holdout_days,
        calibration=calibration,
        calibration_bgnbd=calibration_params,
        calibration_note=note,
    )
    predictions = predict(
        fitted, histories, horizon_days=horizon_days, rate=float(annual_discount_rate)
    )
    _store(fit, histories, predictions, say, started=started)
    return fit


def _calibrate(
    today: date, holdout_days: int
) -> tuple[list[dict[str, object]], dict[str, float], str]:
    """The calibration report, or why there is none (it informs; it never stops a run)."""
    if holdout_days == 0:
        return [], {}, "No calibration report: the holdout period is 0 days (CLV_HOLDOUT_DAYS)."
    cutoff = today - timedelta(days=holdout_days)
    histories = purchase_histories(until=cutoff, holdout_until=today)
    try:
        fitted = fit_models(histories)
    except InvalidRequest as refused:
        return [], {}, f"No calibration report before {cutoff}: {refused.message}"[:300]
    report = calibration_report(fitted.purchases, histories, holdout_days=holdout_days)
    return report, fitted.purchases.as_dict(), ""


@dataclass(frozen=True)
class Predictions:
    expected_90: FloatArray
    alive: FloatArray
    spend: FloatArray
    clv: FloatArray


def predict(fitted: Fitted, h: Histories, *, horizon_days: int, rate: float) -> Predictions:
    """Every customer's predictions at once; ``FitFailed`` if any is not a finite number."""
    purchases = fitted.purchases
    expected_90 = bgnbd.expected_purchases(purchases, EXPECTED_PURCHASES_DAYS, h.x, h.t_x, h.big_t)
    spend = gamma_gamma.expected_spend(fitted.spend, h.x, h.m_x)
    clv = spend * discounted_purchases(purchases, h, horizon_days=horizon_days, annual_rate=rate)
    if not (np.all(np.isfinite(clv)) and np.all(np.isfinite(expected_90))):
        raise FitFailed(
            "The fitted CLV models give no finite prediction for some customers.",
            details={"reason": "fit_failed", "model": "BG/NBD"},
        )
    alive = np.clip(bgnbd.p_alive(purchases, h.x, h.t_x, h.big_t), 0.0, 1.0)
    return Predictions(expected_90=expected_90, alive=alive, spend=spend, clv=clv)


def _channel_mix(h: Histories) -> list[str]:
    online = h.orders - h.store_orders
    mix = np.where(
        h.store_orders == 0,
        CustomerValue.ChannelMix.ONLINE_ONLY.value,
        np.where(
            online == 0,
            CustomerValue.ChannelMix.STORE_ONLY.value,
            CustomerValue.ChannelMix.OMNICHANNEL.value,
        ),
    )
    return [str(m) for m in mix]


def _rows(
    fit: ClvFit, h: Histories, p: Predictions, mix: list[str], start: int, stop: int
) -> list[CustomerValue]:
    """Rows ``start:stop`` (built a batch at a time: millions of instances would not fit)."""
    return [
        CustomerValue(
            customer_id=int(h.customer_ids[i]),
            fit=fit,
            orders=int(h.orders[i]),
            online_orders=int(h.orders[i] - h.store_orders[i]),
            store_orders=int(h.store_orders[i]),
            revenue=h.revenue(i),
            margin=h.margin(i),
            channel_mix=mix[i],
            first_purchase_on=h.first_day[i].item(),
            last_purchase_on=h.last_day[i].item(),
            repeat_purchases=int(h.x[i]),
            expected_purchases_90d=round(float(p.expected_90[i]), 6),
            p_alive=round(float(p.alive[i]), 6),
            expected_spend=_money(p.spend[i]),
            predicted_clv=_money(p.clv[i]),
            fitted_at=fit.fitted_at,
        )
        for i in range(start, stop)
    ]


@transaction.atomic
def _store(fit: ClvFit, h: Histories, p: Predictions, say: Progress, *, started: float) -> None:
    lock_customer_values()
    fit.save()
    CustomerValue.objects.all().delete()
    mix = _channel_mix(h)
    for start in range(0, len(h), BATCH_SIZE):
        stop = min(start + BATCH_SIZE, len(h))
        CustomerValue.objects.bulk_create(_rows(fit, h, p, mix, start, stop))
        say(f"Wrote {stop} of {len(h)} customer values.")
    # The whole run, writes included, in the same transaction as the rows.
    fit.seconds = round(clock.monotonic() - started, 3)
    fit.save(update_fields=["seconds"])


def _money(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(CENTS)


def _shown(params: dict[str, float]) -> str:
    return ", ".join(f"{name}={value:.4g}" for name, value in params.items())
