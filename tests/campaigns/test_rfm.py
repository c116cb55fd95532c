"""RFM scores are quintiles computed in SQL (NTILE) over every customer who ever bought:
5 is the most recent, most frequent, biggest spender; equal figures share a score; the cell
follows the recency x frequency grid."""

from decimal import Decimal

import pytest

from campaigns.models import CustomerRfm
from campaigns.services import refresh_rfm_scores
from customers.models import Customer
from tests.campaigns.conftest import NOW, ago
from tests.campaigns.factories import order
from tests.inventory.factories import LocationFactory

pytestmark = pytest.mark.django_db


def scores() -> dict[str, tuple[int, int, int, str]]:
    return {
        row.customer.first_name: (row.r_score, row.f_score, row.m_score, row.cell)
        for row in CustomerRfm.objects.select_related("customer")
    }


def test_ten_customers_fall_two_by_two_into_the_five_quintiles(frozen):
    # Customer i bought i+1 times for 10 each, the last time 10-i days ago.
    for i in range(10):
        customer = Customer.objects.create(first_name=f"c{i}")
        for n in range(i + 1):
            order(customer, at=ago(days=10 - i + n), total="10.00")

    assert refresh_rfm_scores(now=NOW) == 10

    assert scores() == {
        "c0": (1, 1, 1, "hibernating"),
        "c1": (1, 1, 1, "hibernating"),
        "c2": (2, 2, 2, "hibernating"),
        "c3": (2, 2, 2, "hibernating"),
        "c4": (3, 3, 3, "need_attention"),
        "c5": (3, 3, 3, "need_attention"),
        "c6": (4, 4, 4, "loyal"),
        "c7": (4, 4, 4, "loyal"),
        "c8": (5, 5, 5, "champions"),
        "c9": (5, 5, 5, "champions"),
    }
    c9 = CustomerRfm.objects.get(customer__first_name="c9")
    assert (c9.recency_days, c9.frequency, c9.monetary) == (1, 10, Decimal("100.00"))


def test_customers_with_the_same_figure_share_the_lower_score(frozen):
    # NTILE alone would give the four one-order customers scores 1 to 4 by their ids.
    for name, orders in [("a", 1), ("b", 1), ("c", 1), ("d", 1), ("e", 2)]:
        customer = Customer.objects.create(first_name=name)
        for _ in range(orders):
            order(customer, at=ago(days=3), total="20.00")

    refresh_rfm_scores(now=NOW)

    assert {name: s[1] for name, s in scores().items()} == {"a": 1, "b": 1, "c": 1, "d": 1, "e": 5}
    assert {name: s[0] for name, s in scores().items()} == {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}


def test_orders_outside_the_window_count_for_recency_only_and_cancelled_ones_never(
    frozen, settings
):
    settings.SEGMENT_RFM_WINDOW_DAYS = 365
    old = Customer.objects.create(first_name="old")
    order(old, at=ago(days=500), total="999.00")
    order(old, at=ago(days=1), total="999.00", status="cancelled")
    never = Customer.objects.create(first_name="never")  # their only pick-up expired
    order(never, at=ago(days=1), fulfilment="pickup", status="expired", store=LocationFactory())

    refresh_rfm_scores(now=NOW)

    row = CustomerRfm.objects.get(customer=old)
    assert (row.recency_days, row.frequency, row.monetary) == (500, 0, Decimal("0"))
    assert not CustomerRfm.objects.filter(customer=never).exists()


def test_a_new_computation_replaces_the_last_one(frozen):
    gone = Customer.objects.create(first_name="gone")
    order(gone, at=ago(days=2))
    refresh_rfm_scores(now=NOW)
    gone.erased_at = NOW
    gone.save()

    assert refresh_rfm_scores(now=NOW) == 0
    assert not CustomerRfm.objects.exists()
