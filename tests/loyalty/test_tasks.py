"""Loyalty's scheduled tasks, run by a real Celery worker process."""

from datetime import timedelta
from decimal import Decimal

import time_machine
from django.utils import timezone

from loyalty import services, tasks
from loyalty.models import Account, PointsLot
from loyalty.services import QuoteLine
from tests.loyalty.factories import customer, programme


def test_a_worker_matures_points_whose_return_window_has_passed(live_celery_worker):
    programme()
    member = customer()
    services.earn_for_order(
        customer=member,
        reference="o1",
        lines=[QuoteLine(Decimal("120"))],
        channel="web",
        idempotency_key="o1",
    )
    # The worker runs on the real clock in its own process: move the lot's date instead.
    PointsLot.objects.update(matures_at=timezone.now() - timedelta(minutes=1))

    matured = tasks.mature_points.delay().get(timeout=60)

    assert matured == 120
    account = Account.objects.get(customer=member)
    assert (account.available, account.pending) == (120, 0)


def test_a_worker_expires_points_past_their_date(live_celery_worker):
    programme(pending_days=0)
    member = customer()
    services.adjust_points(account=services.enrol(customer=member), points=80, reason="gift")
    PointsLot.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    expired = tasks.expire_points.delay().get(timeout=60)

    assert expired == 80
    assert Account.objects.get(customer=member).available == 0


def test_a_worker_downgrades_a_tier_whose_spend_left_the_last_twelve_months(live_celery_worker):
    programme()
    member = customer()
    # The worker runs on the real clock: the spend is made 400 days ago instead.
    with time_machine.travel(timezone.now() - timedelta(days=400), tick=False):
        services.earn_for_order(
            customer=member,
            reference="o1",
            lines=[QuoteLine(Decimal("600"))],
            channel="web",
            idempotency_key="o1",
        )
    assert Account.objects.get(customer=member).tier.name == "Silver"

    changed = tasks.evaluate_tiers.delay().get(timeout=60)

    assert changed == 1
    account = Account.objects.get(customer=member)
    assert account.tier.name == "Member"
    assert account.tier_anniversary > timezone.localdate()
