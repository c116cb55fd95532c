"""The nightly attribution task, run by a real Celery worker process (on the real clock), and
its place in beat's schedule."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from campaigns import tasks
from campaigns.models import AttributionCredit
from customers.models import Customer
from tests.campaigns.factories import order, touch


def test_beat_computes_attribution_every_night():
    entry = settings.CELERY_BEAT_SCHEDULE["compute-attribution"]

    assert entry["task"] == tasks.compute_attribution.name
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({2}, {15})


def test_a_worker_computes_yesterdays_attribution(live_celery_worker):
    yesterday = timezone.localdate() - timedelta(days=1)
    noon = datetime.combine(yesterday, time(12), tzinfo=timezone.get_default_timezone())
    buyer = Customer.objects.create(first_name="buyer")
    touch(buyer, "email_click", at=noon - timedelta(days=2), campaign_code="SPRING")
    order(buyer, at=noon, total="80.00")

    credited = tasks.compute_attribution.delay().get(timeout=60)

    assert credited == 1
    rows = AttributionCredit.objects.filter(day=yesterday)
    assert {row.model for row in rows} == set(AttributionCredit.Model.values)
    assert {(row.channel, row.campaign_code) for row in rows} == {("email", "SPRING")}
