"""The purchase histories the CLV models read: one SQL query over orders reached through
Customer's relations; purchases grouped per day; cancelled and expired orders, erased
customers and customers who first bought after the observed period left out."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from campaigns.reporting.clv import history, purchase_histories
from customers.models import Customer
from tests.campaigns.conftest import NOW, ago
from tests.campaigns.factories import order
from tests.inventory.factories import LocationFactory

pytestmark = pytest.mark.django_db

TODAY = NOW.date()  # 2026-03-15, UTC


def by_name(histories):
    names = dict(Customer.objects.values_list("pk", "first_name"))
    return {names[int(pk)]: i for i, pk in enumerate(histories.customer_ids)}


def test_orders_on_one_day_are_one_purchase_and_cancelled_ones_none(
    frozen, django_assert_num_queries
):
    store = LocationFactory()
    ann = Customer.objects.create(first_name="ann")
    order(ann, at=ago(days=12, hours=2), total="10.00")  # 2026-03-03, web
    order(
        ann,
        at=ago(days=12),
        total="20.00",
        channel="store",
        fulfilment="in_store",
        store=store,
        status="completed",
    )  # the same day, at the till
    order(ann, at=ago(days=7), total="40.00", channel="ios")
    order(ann, at=ago(days=3), total="100.00", status="cancelled")
    order(ann, at=ago(days=2), total="100.00", fulfilment="pickup", store=store, status="expired")

    with django_assert_num_queries(1):
        histories = purchase_histories(until=TODAY)

    i = by_name(histories)["ann"]
    assert (histories.x[i], histories.t_x[i], histories.big_t[i]) == (1, 5, 12)
    assert histories.m_x[i] == 40.0  # the repeat day only: the first purchase is left out
    assert (histories.orders[i], histories.store_orders[i]) == (3, 1)
    assert histories.revenue(i) == Decimal("70.00")
    assert histories.first_day[i] == date(2026, 3, 3)
    assert histories.last_day[i] == date(2026, 3, 8)


def test_two_repeat_days_give_their_mean_value():
    ben = Customer.objects.create(first_name="ben")
    order(ben, at=ago(days=30), total="500.00")
    order(ben, at=ago(days=20), total="30.00")
    order(ben, at=ago(days=20, hours=-1), total="20.00")  # same day: one purchase of 50
    order(ben, at=ago(days=10), total="70.00")

    histories = purchase_histories(until=TODAY)

    i = by_name(histories)["ben"]
    assert (histories.x[i], histories.t_x[i], histories.big_t[i]) == (2, 20, 30)
    assert histories.m_x[i] == pytest.approx(60.0)
    assert histories.revenue(i) == Decimal("620.00")


def test_erased_customers_guests_and_non_buyers_have_no_history(frozen):
    gone = Customer.objects.create(first_name="gone", erased_at=ago(days=1))
    order(gone, at=ago(days=5))
    Customer.objects.create(first_name="browser")
    only_cancelled = Customer.objects.create(first_name="cancelled")
    order(only_cancelled, at=ago(days=5), status="cancelled")

    assert len(purchase_histories(until=TODAY)) == 0


def test_a_holdout_period_is_counted_apart_and_late_first_buyers_left_out(frozen):
    early = Customer.objects.create(first_name="early")
    order(early, at=ago(days=100))
    order(early, at=ago(days=60))
    order(early, at=ago(days=20))
    order(early, at=ago(days=10))
    order(early, at=ago(days=10, hours=1))  # the same day as the one before
    late = Customer.objects.create(first_name="late")
    order(late, at=ago(days=20))
    cutoff = TODAY - timedelta(days=30)

    histories = purchase_histories(until=cutoff, holdout_until=TODAY)

    assert list(by_name(histories)) == ["early"]
    assert (histories.x[0], histories.t_x[0], histories.big_t[0]) == (1, 40, 70)
    assert histories.holdout_x[0] == 2
    assert (histories.orders[0], histories.revenue(0)) == (2, Decimal("100.00"))


def test_histories_read_in_chunks_are_the_same_as_read_at_once(monkeypatch):
    for n in range(5):
        customer = Customer.objects.create(first_name=f"c{n}")
        for days in range(n + 1):
            order(customer, at=ago(days=10 * days + n), total=f"{10 + n}.50")
    whole = purchase_histories(until=TODAY)
    monkeypatch.setattr(history, "CHUNK_ROWS", 2)

    chunked = purchase_histories(until=TODAY)

    assert len(chunked) == len(whole) == 5
    for column in ("customer_ids", "first_day", "x", "t_x", "big_t", "m_x", "revenue_cents"):
        assert getattr(chunked, column).tolist() == getattr(whole, column).tolist(), column
    assert chunked.revenue(4) == Decimal("72.50")  # five orders of 14.50
