"""Campaign ROI on hand-counted campaigns started on 15 March 2026 (messages due then):

Spring   cost 100.00, 7-day window; treated t1 100.00, t2 60.00, t3 nothing, t4 only a
         cancelled order (3 messages sent, 1 failed); holdout h1 40.00, h2 nothing.
         Revenue per recipient 40 vs 20: incremental (40 - 20) x 4 = 80.00, ROI -0.2
Solo     cost 50.00, no holdout: u1 30.00, u2 nothing
Free     no cost, a 1-day window: f1 25.00 the next morning, f2 25.00 two days later;
         holdout g1 nothing
Gift     cost 0; Old (started in February) and Draft are left out
"""

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from statistics import NormalDist

import pytest
import time_machine

from campaigns import selectors
from campaigns.models import Campaign, CampaignRecipient
from campaigns.reporting import roi
from customers.models import Notification
from omni.core.errors import InvalidInput
from tests.campaigns.campaign_factories import campaign, shopper
from tests.campaigns.factories import order

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
RANGE = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}
Z = NormalDist().inv_cdf(0.975)


def after(**delta):
    return NOW + timedelta(**delta)


def started(name: str, *, at=NOW, status="completed", **fields) -> Campaign:
    made = campaign(name=name, **fields)
    Campaign.objects.filter(pk=made.pk).update(status=status, started_at=at)
    made.refresh_from_db()
    return made


def received(made: Campaign, name: str, *, holdout=False, message="sent"):
    customer = shopper(name)
    notification = None
    if not holdout:
        notification = Notification.objects.create(
            customer=customer,
            channel="email",
            kind="marketing",
            purpose="marketing",
            topic="campaign",
            subject="Spring",
            body="Hello",
            status=message,
            idempotency_key=f"campaign:{made.pk}:{name}",
        )
    CampaignRecipient.objects.create(
        campaign=made,
        customer=customer,
        variant=None if holdout else made.variants.first(),
        channel="" if holdout else "email",
        reason="holdout" if holdout else "",
        notification=notification,
    )
    return customer


@pytest.fixture
def campaigns(db):
    with time_machine.travel(NOW, tick=False):
        spring = started("Spring", cost=Decimal("100.00"), conversion_window_days=7)
        t1, t2, _t3 = (received(spring, n) for n in ("T1", "T2", "T3"))
        t4 = received(spring, "T4", message="failed")
        h1 = received(spring, "H1", holdout=True)
        received(spring, "H2", holdout=True)
        solo = started("Solo", cost=Decimal("50.00"))
        u1 = received(solo, "U1")
        received(solo, "U2")
        free = started("Free", conversion_window_days=1)
        f1, f2 = received(free, "F1"), received(free, "F2")
        received(free, "G1", holdout=True)
        gift = started("Gift", cost=Decimal("0"))
        received(gift, "V1")
        old = started("Old", at=datetime(2026, 2, 10, tzinfo=UTC), cost=Decimal("10.00"))
        received(old, "O1")
        campaign(name="Draft", cost=Decimal("5.00"))
    order(t1, at=after(days=1), total="100.00")
    order(t2, at=after(days=6), total="60.00")
    order(t4, at=after(days=2), total="80.00", status="cancelled")
    order(h1, at=after(hours=3), total="40.00")
    order(u1, at=after(days=1), total="30.00")
    order(f1, at=after(hours=20), total="25.00")
    order(f2, at=after(days=2), total="25.00")  # after Free's 1-day window
    return {c.name: c for c in Campaign.objects.all()}


def rows():
    return {row.campaign.name: row for row in roi.campaign_roi(**RANGE).campaigns}


def test_the_campaigns_started_in_the_range_most_recent_first(campaigns):
    assert set(rows()) == {"Spring", "Solo", "Free", "Gift"}


def test_roi_from_the_holdout_uplift_and_the_cost(campaigns):
    spring = rows()["Spring"]

    assert spring.messages_sent == 3
    assert spring.cost == Decimal("100.00")
    assert (spring.treated.recipients, spring.holdout.recipients) == (4, 2)
    assert spring.conversions == 2
    assert spring.attributed_revenue == Decimal("160.00")
    assert spring.incremental_revenue == Decimal("80.00")
    assert spring.roi == pytest.approx(-0.2)
    assert spring.roas == pytest.approx(1.6)
    assert spring.cost_per_conversion == Decimal("50.00")
    assert spring.uplift.absolute == pytest.approx(2 / 4 - 1 / 2)


def test_the_incremental_revenue_has_its_95_percent_interval(campaigns):
    spring = rows()["Spring"]

    # Spends 100, 60, 0, 0 (variance 2400) against 40, 0 (variance 800).
    half = Decimal(repr(Z * math.sqrt(2400 / 4 + 800 / 2) * 4)).quantize(Decimal("0.01"))
    assert spring.incremental_interval == (Decimal("80.00") - half, Decimal("80.00") + half)
    low, high = spring.roi_interval
    assert low == pytest.approx(float((Decimal("80.00") - half - 100) / 100))
    assert high == pytest.approx(float((Decimal("80.00") + half - 100) / 100))


def test_the_figures_are_the_campaign_results_ones(campaigns):
    spring = rows()["Spring"]
    variant, holdout = selectors.campaign_results(campaigns["Spring"])

    assert (spring.treated.recipients, spring.conversions) == (
        variant.recipients,
        variant.conversions,
    )
    assert spring.attributed_revenue == variant.revenue
    assert spring.holdout.revenue == holdout.revenue
    assert spring.incremental_revenue == variant.revenue_per_recipient_vs_holdout * 4


def test_without_a_holdout_there_is_no_incremental_revenue_nor_roi(campaigns):
    solo = rows()["Solo"]

    assert solo.has_holdout is False
    assert solo.attributed_revenue == Decimal("30.00")
    assert (solo.incremental_revenue, solo.incremental_interval, solo.roi) == (None, None, None)
    assert solo.roas == pytest.approx(0.6)
    assert solo.cost_per_conversion == Decimal("50.00")


def test_without_a_cost_or_at_zero_cost_no_ratio_is_given(campaigns):
    found = rows()
    free, gift = found["Free"], found["Gift"]

    assert free.incremental_revenue == Decimal("25.00")  # f2 bought after the 1-day window
    assert free.conversions == 1
    for row in (free, gift):
        assert row.has_cost is False
        assert (row.roi, row.roi_interval, row.roas, row.cost_per_conversion) == (None,) * 4
    assert gift.incremental_interval is None  # no holdout


def test_the_report_is_two_queries(campaigns, django_assert_num_queries):
    with django_assert_num_queries(2):
        roi.campaign_roi(**RANGE)


def test_a_negative_cost_is_refused_by_the_database(campaigns):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(name="Spring").update(cost=Decimal("-1"))


def test_an_empty_range_is_refused(campaigns):
    with pytest.raises(InvalidInput, match="The date range is empty"):
        roi.campaign_roi(start=date(2026, 3, 31), end=date(2026, 3, 1))
