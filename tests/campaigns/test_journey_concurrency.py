"""Two runs of the journey engine at once (two beat deliveries, two workers) on PostgreSQL with
real threads: every occasion enters once and every step's message is recorded once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import JourneyEnrollment, JourneyMessage
from customers.models import Notification
from omni.core.errors import InvalidTransition
from tests.campaigns.campaign_factories import shopper
from tests.campaigns.journey_factories import MESSAGE, journey, wait
from tests.concurrency import run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    # Queued messages' delivery tasks are not the subject here.
    monkeypatch.setattr("customers.notifications._enqueue", lambda pk: None)
    monkeypatch.setattr("customers.notifications._enqueue_batch", lambda pks: None)


def test_three_engine_runs_at_once_send_each_step_once():
    welcome = journey("welcome", MESSAGE, wait(1), MESSAGE)
    people = [shopper(f"P{n}", "email") for n in range(12)]

    def run():
        return services.run_journeys(batch_size=3)

    first = run_concurrently([run, run, run], refusal=InvalidTransition)
    later = timezone.now() + timedelta(hours=1, minutes=1)
    second = run_concurrently(
        [lambda: services.run_journeys(now=later, batch_size=3)] * 3, refusal=InvalidTransition
    )

    assert len(first.granted) == 3, first.summary(3)
    assert len(second.granted) == 3, second.summary(3)
    assert sum(r.entered for r in first.granted) == 12
    assert JourneyEnrollment.objects.filter(campaign=welcome).count() == 12
    assert JourneyMessage.objects.count() == 24
    assert Notification.objects.count() == 24
    for person in people:
        keys = Notification.objects.filter(customer=person).values_list("idempotency_key")
        assert len(set(keys)) == 2
    assert set(JourneyEnrollment.objects.values_list("status", flat=True)) == {"completed"}
