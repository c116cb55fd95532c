"""Campaigns' scheduled tasks, run by a real Celery worker process (on the real clock)."""

from datetime import timedelta

from django.utils import timezone

from campaigns import tasks
from campaigns.models import CustomerRfm, ProductAffinity, SegmentRefresh
from customers.models import Customer
from tests.campaigns.factories import order, segment
from tests.inventory.factories import SkuFactory


def test_a_worker_refreshes_the_automatic_segments(live_celery_worker):
    buyer = Customer.objects.create(first_name="buyer")
    Customer.objects.create(first_name="browser")
    order(buyer, at=timezone.now() - timedelta(days=2))
    recent = segment(
        "Bought this week",
        {"and": [{"field": "recency_days", "operator": "lte", "value": 7}]},
    )

    outcome = tasks.refresh_segments.delay().get(timeout=60)

    assert outcome == {"refreshed": 1, "failed": 0}
    assert list(recent.memberships.values_list("customer__first_name", flat=True)) == ["buyer"]
    assert recent.refreshes.get().trigger == SegmentRefresh.Trigger.SCHEDULE


def test_a_worker_computes_the_rfm_scores(live_celery_worker):
    buyer = Customer.objects.create(first_name="buyer")
    order(buyer, at=timezone.now() - timedelta(days=2), total="80.00")

    scored = tasks.refresh_rfm_scores.delay().get(timeout=60)

    assert scored == 1
    row = CustomerRfm.objects.get(customer=buyer)
    assert (row.recency_days, row.frequency, row.r_score) == (2, 1, 1)


def test_a_worker_computes_what_is_bought_together(live_celery_worker):
    buyer = Customer.objects.create(first_name="buyer")
    shoe, sock = SkuFactory(code="SHOE"), SkuFactory(code="SOCK")
    for _ in range(3):
        order(buyer, at=timezone.now() - timedelta(days=2), skus=(shoe, sock))

    kept = tasks.refresh_affinities.delay().get(timeout=60)

    assert kept == 2  # shoe → sock and sock → shoe
    assert list(ProductAffinity.objects.values_list("together", flat=True)) == [3, 3]
