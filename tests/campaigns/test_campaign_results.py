"""A campaign's results read from orders: a recipient converted when they bought within the
conversion window after their message was due; every recipient of a variant counts (intent to
treat), against the holdout. Counts checked by hand."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from campaigns import selectors
from campaigns.models import CampaignRecipient
from tests.campaigns.campaign_factories import campaign, shopper
from tests.campaigns.factories import order

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def after(**delta):
    return NOW + timedelta(**delta)


def test_conversions_and_revenue_per_variant_against_the_holdout():
    a1, a2, a3, b1, b2, h1, h2 = (
        shopper(name) for name in ("A1", "A2", "A3", "B1", "B2", "H1", "H2")
    )
    spring = campaign(variants=("A", "B"), conversion_window_days=7)
    a, b = spring.variants.order_by("code")
    with time_machine.travel(NOW, tick=False):
        for customer, variant in [
            (a1, a),
            (a2, a),
            (a3, a),
            (b1, b),
            (b2, b),
            (h1, None),
            (h2, None),
        ]:
            CampaignRecipient.objects.create(
                campaign=spring,
                customer=customer,
                variant=variant,
                channel="email" if variant else "",
                reason="" if variant else "holdout",
            )
    order(a1, at=after(days=1), total="100.00")  # converted
    order(a2, at=after(days=7, minutes=1), total="50.00")  # after the window
    order(a3, at=NOW - timedelta(hours=1), total="60.00")  # before the message
    order(a3, at=after(days=2), total="70.00", status="cancelled")  # never a purchase
    order(b1, at=after(days=1), total="30.00")
    order(b1, at=after(days=3), total="20.00")  # one conversion, both orders' revenue
    order(h1, at=after(hours=5), total="40.00")

    a_row, b_row, holdout = selectors.campaign_results(spring)

    assert (a_row.label, a_row.recipients, a_row.conversions) == ("A", 3, 1)
    assert a_row.revenue == Decimal("100.00")
    assert a_row.revenue_per_recipient == Decimal("33.33")
    assert (b_row.recipients, b_row.conversions, b_row.revenue) == (2, 1, Decimal("50.00"))
    assert (holdout.label, holdout.recipients, holdout.conversions) == ("holdout", 2, 1)
    assert holdout.revenue_per_recipient == Decimal("20.00")
    assert a_row.uplift.absolute == pytest.approx(1 / 3 - 1 / 2)
    assert a_row.revenue_per_recipient_vs_holdout == Decimal("13.33")
    assert b_row.uplift.absolute == 0
    assert a_row.uplift.significant is False  # 1 conversion a side: no verdict


def test_a_campaign_without_holdout_has_no_uplift():
    anna = shopper("Anna")
    spring = campaign()
    CampaignRecipient.objects.create(
        campaign=spring, customer=anna, variant=spring.variants.get(), channel="email"
    )

    [row] = selectors.campaign_results(spring)

    assert (row.recipients, row.conversions, row.uplift) == (1, 0, None)


def test_results_are_one_query(django_assert_num_queries):
    spring = campaign()

    with django_assert_num_queries(1):
        assert selectors.campaign_results(spring) == []
