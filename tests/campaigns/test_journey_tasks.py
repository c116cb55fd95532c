"""The journey engine's beat task run by a real Celery worker process (on the real clock): two
runs at once, then a third, enrol each new customer once and send each step once."""

from campaigns import tasks
from campaigns.models import JourneyEnrollment
from customers.models import Notification
from tests.campaigns.campaign_factories import shopper
from tests.campaigns.journey_factories import journey


def test_a_worker_runs_the_journeys_and_sends_each_step_once(live_celery_worker):
    welcome = journey("welcome")
    people = [shopper(f"P{n}", "email") for n in range(5)]

    twins = [tasks.run_journeys.delay(), tasks.run_journeys.delay()]
    results = [twin.get(timeout=60) for twin in twins]
    again = tasks.run_journeys.delay().get(timeout=60)

    assert sum(r["entered"] for r in results) == 5
    assert sum(r["queued"] for r in results) == 5
    assert (again["entered"], again["queued"]) == (0, 0)
    assert JourneyEnrollment.objects.filter(campaign=welcome, status="completed").count() == 5
    for person in people:
        assert Notification.objects.filter(customer=person).count() == 1
