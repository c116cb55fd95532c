"""A run of the CLV models over the database: every buyer's historical and predicted value
written in bulk with the fit and its calibration report; bad settings and too little history
refused with a clear error and nothing changed."""

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.db.models import Sum

from campaigns.models import ClvFit, CustomerValue
from campaigns.reporting import clv
from campaigns.reporting.clv import BgNbd, FitFailed, GammaGamma, bgnbd
from campaigns.reporting.clv.values import discounted_purchases
from customers.models import Customer
from omni.core.errors import InvalidRequest
from orders.models import Order
from tests.campaigns.conftest import NOW, ago
from tests.campaigns.factories import order
from tests.campaigns.reporting.conftest import PURCHASES
from tests.inventory.factories import LocationFactory

pytestmark = pytest.mark.django_db


def test_every_buyer_gets_a_value_and_the_fit_is_kept(base, settings):
    settings.CLV_MIN_REPEAT_CUSTOMERS = 50

    fit = clv.compute_customer_values(
        now=NOW, horizon_days=365, annual_discount_rate=Decimal("0.10"), holdout_days=90
    )

    assert CustomerValue.objects.count() == fit.customers == 400
    assert fit.repeat_customers == CustomerValue.objects.filter(repeat_purchases__gt=0).count()
    assert set(fit.bgnbd) == {"r", "alpha", "a", "b"}
    assert set(fit.gamma_gamma) == {"p", "q", "gamma"}
    # 400 customers tell the parameters roughly: the mean purchase rate r / alpha within 30 %.
    assert fit.bgnbd["r"] / fit.bgnbd["alpha"] == pytest.approx(
        PURCHASES.r / PURCHASES.alpha, rel=0.3
    )
    revenue = Order.objects.aggregate(total=Sum("total"))["total"]
    assert CustomerValue.objects.aggregate(total=Sum("revenue"))["total"] == revenue
    assert ClvFit.objects.get() == fit
    assert fit.observed_until == NOW.date()
    assert fit.calibration[-1]["repeat_purchases"] == "total"
    assert fit.calibration_bgnbd
    assert not fit.calibration_note


def test_a_customers_row_holds_their_history_and_the_models_predictions(base, settings):
    settings.CLV_MIN_REPEAT_CUSTOMERS = 50
    fit = clv.compute_customer_values(now=NOW, horizon_days=365, holdout_days=0)
    row = (
        CustomerValue.objects.filter(repeat_purchases__gte=2, channel_mix="omnichannel")
        .select_related("customer")
        .first()
    )
    orders = Order.objects.filter(customer=row.customer)
    params = BgNbd(**fit.bgnbd)
    x = row.repeat_purchases
    t_x = (row.last_purchase_on - row.first_purchase_on).days
    big_t = (NOW.date() - row.first_purchase_on).days

    assert row.orders == orders.count()
    assert row.store_orders == orders.filter(channel="store").count()
    assert row.online_orders == orders.exclude(channel="store").count()
    assert row.revenue == orders.aggregate(total=Sum("total"))["total"]
    assert row.p_alive == pytest.approx(float(bgnbd.p_alive(params, x, t_x, big_t)), abs=1e-6)
    assert row.expected_purchases_90d == pytest.approx(
        float(bgnbd.expected_purchases(params, 90, x, t_x, big_t)), abs=1e-6
    )
    assert row.expected_spend > 0
    assert row.predicted_clv > 0
    assert row.fit == fit
    assert fit.calibration == []
    assert "0 days" in fit.calibration_note


def test_customers_are_split_by_where_they_bought(base, settings):
    till = LocationFactory()
    for name, channels in [
        ("store", ["store", "store"]),
        ("online", ["web", "android"]),
        ("both", ["ios", "store"]),
    ]:
        customer = Customer.objects.create(first_name=name)
        for days, channel in zip((40, 10), channels, strict=True):
            in_store = channel == "store"
            order(
                customer,
                at=ago(days=days),
                channel=channel,
                fulfilment="in_store" if in_store else "delivery",
                store=till if in_store else None,
            )
    settings.CLV_MIN_REPEAT_CUSTOMERS = 50

    clv.compute_customer_values(now=NOW, holdout_days=0)

    mixes = dict(
        CustomerValue.objects.filter(
            customer__first_name__in=["store", "online", "both"]
        ).values_list("customer__first_name", "channel_mix")
    )
    assert mixes == {"store": "store_only", "online": "online_only", "both": "omnichannel"}


def test_too_little_history_is_refused_and_the_last_values_stay(base, settings):
    settings.CLV_MIN_REPEAT_CUSTOMERS = 50
    first = clv.compute_customer_values(now=NOW, holdout_days=0)
    settings.CLV_MIN_REPEAT_CUSTOMERS = 10_000

    with pytest.raises(InvalidRequest) as refused:
        clv.compute_customer_values(now=NOW + timedelta(days=1), holdout_days=0)

    assert refused.value.details["reason"] == "too_little_history"
    assert refused.value.details["needed"] == 10_000
    assert "Too little history" in refused.value.message
    assert list(ClvFit.objects.all()) == [first]
    assert CustomerValue.objects.filter(fit=first).count() == 400


def test_no_buyer_at_all_is_too_little_history(db, frozen):
    with pytest.raises(InvalidRequest) as refused:
        clv.compute_customer_values(now=NOW)

    assert refused.value.details["repeat_customers"] == 0
    assert not ClvFit.objects.exists()


@pytest.mark.parametrize("horizon", [0, -30, 10_000])
def test_a_horizon_outside_one_day_to_ten_years_is_refused(db, frozen, horizon):
    with pytest.raises(InvalidRequest) as refused:
        clv.compute_customer_values(now=NOW, horizon_days=horizon)

    assert "horizon" in refused.value.message
    assert refused.value.details == {"horizon_days": horizon}
    assert not ClvFit.objects.exists()


@pytest.mark.parametrize("rate", ["-0.01", "1", "NaN"])
def test_a_discount_rate_outside_0_to_1_is_refused(db, frozen, rate):
    with pytest.raises(InvalidRequest) as refused:
        clv.compute_customer_values(now=NOW, annual_discount_rate=Decimal(rate))

    assert "discount rate" in refused.value.message


def test_a_negative_holdout_is_refused(db, frozen):
    with pytest.raises(InvalidRequest) as refused:
        clv.compute_customer_values(now=NOW, holdout_days=-1)

    assert refused.value.details == {"holdout_days": -1}


def test_spend_with_an_infinite_mean_is_a_failed_fit_not_a_number(settings):
    # Values drawn with q < 1: the population's mean spend does not exist, nor does a CLV.
    rng = np.random.default_rng(5)
    x = np.clip(rng.poisson(4, 3000), 1, None).astype(float)
    m_x = clv.gamma_gamma.simulate(GammaGamma(p=3.0, q=0.7, gamma=20.0), x, rng)
    histories = clv.Histories(
        until=NOW.date(),
        customer_ids=np.arange(3000),
        first_day=np.full(3000, np.datetime64("2025-01-01")),
        last_day=np.full(3000, np.datetime64("2026-01-01")),
        x=x,
        t_x=np.full(3000, 365.0),
        big_t=np.full(3000, 438.0),
        m_x=m_x,
        orders=x.astype(np.int64) + 1,
        store_orders=np.zeros(3000, dtype=np.int64),
        revenue_cents=np.zeros(3000, dtype=np.int64),
        holdout_x=np.zeros(3000),
        cost_cents=np.zeros(3000, dtype=np.int64),
        uncosted=np.zeros(3000, dtype=np.int64),
    )

    with pytest.raises(FitFailed) as refused:
        clv.fit_models(histories, minimum=100)

    assert refused.value.details["parameters"] == ["q"]


def test_the_discount_brings_later_purchases_back_to_today():
    params = PURCHASES
    h = clv.Histories(
        until=NOW.date(),
        customer_ids=np.arange(2),
        first_day=np.full(2, np.datetime64("2025-01-01")),
        last_day=np.full(2, np.datetime64("2026-01-01")),
        x=np.array([0.0, 5.0]),
        t_x=np.array([0.0, 300.0]),
        big_t=np.array([400.0, 400.0]),
        m_x=np.zeros(2),
        orders=np.ones(2, dtype=np.int64),
        store_orders=np.zeros(2, dtype=np.int64),
        revenue_cents=np.zeros(2, dtype=np.int64),
        holdout_x=np.zeros(2),
        cost_cents=np.zeros(2, dtype=np.int64),
        uncosted=np.zeros(2, dtype=np.int64),
    )

    undiscounted = discounted_purchases(params, h, horizon_days=365, annual_rate=0.0)
    discounted = discounted_purchases(params, h, horizon_days=365, annual_rate=0.10)

    expected = bgnbd.expected_purchases(params, 365, h.x, h.t_x, h.big_t)
    assert undiscounted == pytest.approx(expected, rel=1e-12)
    # Every step is discounted by between (1.1)^(30/365) and 1.1: the total lies between.
    assert np.all(discounted < undiscounted / 1.1 ** (30 / 365))
    assert np.all(discounted > undiscounted / 1.1)
