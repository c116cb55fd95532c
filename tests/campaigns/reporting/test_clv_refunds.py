"""Historical CLV is net of refunds: returns' refunds and the refunds of cancelled units come
off revenue to date (refunds given after the last observed day do not); the models still read
purchases as they were paid."""

from datetime import timedelta
from decimal import Decimal

import pytest

from campaigns.models import CustomerValue
from campaigns.reporting import clv
from campaigns.reporting.clv import purchase_histories
from customers.models import Customer
from orders.models import OrderLine
from tests.campaigns.conftest import NOW, ago
from tests.campaigns.factories import order, returned
from tests.inventory.factories import SkuFactory

pytestmark = pytest.mark.django_db

TODAY = NOW.date()


@pytest.fixture
def ann(frozen):
    ann = Customer.objects.create(first_name="ann")
    first = order(ann, at=ago(days=20), total="100.00")
    second = order(ann, at=ago(days=10), total="50.00")
    returned(first, at=ago(days=15))  # 10.00 back
    returned(first, at=ago(days=14))  # 10.00 more
    sku = SkuFactory()
    OrderLine.objects.create(
        order=second,
        sku=sku,
        quantity=2,
        unit_price=Decimal("25.00"),
        line_total=Decimal("50.00"),
        cancelled_quantity=1,
        cancelled_refund=Decimal("25.00"),
    )
    returned(second, at=ago(days=1))  # after the earlier cut-off below
    return ann


def test_revenue_to_date_deducts_returns_and_cancelled_units(ann, django_assert_num_queries):
    with django_assert_num_queries(1):
        histories = purchase_histories(until=TODAY)

    assert len(histories) == 1
    # 150.00 paid, 10 + 10 + 10 returned, 25.00 refunded for a unit never shipped.
    assert histories.revenue(0) == Decimal("95.00")
    assert histories.orders[0] == 2
    assert histories.x[0] == 1  # a refund does not undo a purchase
    assert histories.m_x[0] == 50.0  # the spend model reads what was paid


def test_refunds_after_the_last_observed_day_are_not_deducted(ann):
    histories = purchase_histories(until=TODAY - timedelta(days=5))

    assert histories.revenue(0) == Decimal("105.00")  # the return of yesterday not yet


def test_the_customer_value_row_holds_the_net_revenue(base, ann, settings):
    settings.CLV_MIN_REPEAT_CUSTOMERS = 50

    clv.compute_customer_values(
        now=NOW, horizon_days=365, annual_discount_rate=Decimal("0.10"), holdout_days=0
    )

    assert CustomerValue.objects.get(customer=ann).revenue == Decimal("95.00")
