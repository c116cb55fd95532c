"""Historical CLV's margin: revenue to date (net of refunds) less what the goods the customer
kept cost the retailer, each line at the cost price known when it was sold. A customer who
bought an item without a cost price has no margin (an honest blank, not a flattering one)."""

from decimal import Decimal

import pytest

from campaigns.models import ClvFit, CustomerValue
from campaigns.reporting import clv
from campaigns.reporting.clv import purchase_histories
from campaigns.reporting.clv.selectors import value_by_channel_mix
from customers.models import Customer
from orders.models import OrderLine
from tests.campaigns.conftest import NOW, ago
from tests.campaigns.factories import order
from tests.inventory.factories import SkuFactory

pytestmark = pytest.mark.django_db

TODAY = NOW.date()


def line(of, *, quantity, price, cost, returned=0, cancelled=0):
    OrderLine.objects.create(
        order=of,
        sku=SkuFactory(),
        quantity=quantity,
        unit_price=Decimal(price),
        line_total=Decimal(price) * quantity,
        unit_cost=None if cost is None else Decimal(cost),
        returned_quantity=returned,
        cancelled_quantity=cancelled,
    )


@pytest.fixture
def people(frozen):
    ann = Customer.objects.create(first_name="ann")
    first = order(ann, at=ago(days=20), total="100.00")
    line(first, quantity=2, price="30.00", cost="12.00", returned=1)  # one kept: 12.00
    line(first, quantity=1, price="40.00", cost="15.50")
    second = order(ann, at=ago(days=10), total="50.00")
    line(second, quantity=5, price="10.00", cost="4.00", cancelled=2)  # three kept: 12.00
    bob = Customer.objects.create(first_name="bob")
    theirs = order(bob, at=ago(days=5), total="20.00")
    line(theirs, quantity=1, price="20.00", cost=None)
    return ann, bob


def test_margin_is_revenue_less_the_cost_of_what_was_kept(people, django_assert_num_queries):
    with django_assert_num_queries(1):
        histories = purchase_histories(until=TODAY)

    ann, bob = (list(histories.customer_ids).index(c.pk) for c in people)
    # 150.00 paid, nothing refunded here; kept goods cost 12.00 + 15.50 + 12.00.
    assert histories.revenue(ann) == Decimal("150.00")
    assert histories.margin(ann) == Decimal("110.50")
    assert histories.margin(bob) is None


def test_the_customer_value_row_holds_the_margin(base, people, settings):
    settings.CLV_MIN_REPEAT_CUSTOMERS = 50
    ann, bob = people

    clv.compute_customer_values(
        now=NOW, horizon_days=365, annual_discount_rate=Decimal("0.10"), holdout_days=0
    )

    assert CustomerValue.objects.get(customer=ann).margin == Decimal("110.50")
    assert CustomerValue.objects.get(customer=bob).margin is None
    by_mix = {row["channel_mix"]: row for row in value_by_channel_mix(ClvFit.objects.get())}
    assert (
        sum(row["with_margin"] for row in by_mix.values())
        == CustomerValue.objects.exclude(margin=None).count()
    )
    assert sum(row["total_margin"] for row in by_mix.values()) == sum(
        CustomerValue.objects.exclude(margin=None).values_list("margin", flat=True)
    )
