"""The points expiry notice moved from loyalty to a journey: the migration gives an install
whose programme sends notices a running "Points about to expire" journey with the notice's
words, and a member hears once about points loyalty had not told them about yet."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from campaigns import services
from campaigns.models import Campaign, JourneyStep
from customers.models import Notification
from loyalty.models import PointsLot
from tests.campaigns.campaign_factories import shopper
from tests.campaigns.factories import lot, member

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("campaigns", "0011_customer_value_margin")]
AFTER = [("campaigns", "0012_journeys")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr("customers.notifications._enqueue", lambda pk: None)
    monkeypatch.setattr("customers.notifications._enqueue_batch", lambda pks: None)


def test_an_install_with_notices_gets_the_journey_and_each_member_hears_once():
    old = migrate(BEFORE)
    rewards = old.get_model("loyalty", "Programme").objects.create(
        name="Omni Rewards", expiry_notice_days=14
    )
    Tier = old.get_model("loyalty", "Tier")
    for rank, name in enumerate(("Member", "Silver")):
        Tier.objects.create(programme=rewards, name=name, rank=rank)
    # Beat's row of loyalty's daily task, as an existing install has it.
    PeriodicTask.objects.create(
        name="send-expiry-notices",
        task="loyalty.send_expiry_notices",
        crontab=CrontabSchedule.objects.create(minute="0", hour="9"),
    )

    migrate(AFTER)

    assert not PeriodicTask.objects.filter(task="loyalty.send_expiry_notices").exists()

    journey = Campaign.objects.get(name="Points about to expire")
    assert (journey.kind, journey.status, journey.trigger) == (
        "triggered",
        "running",
        "points_expiring",
    )
    assert journey.trigger_params == {"days": 14}
    assert list(journey.steps.values_list("kind", flat=True)) == [JourneyStep.Kind.MESSAGE]
    services.check_ready(journey)  # what the migration wrote is a journey the engine can run

    now = timezone.now()
    camille = shopper("Camille", "email")
    account = member(camille, journey_programme(), "Member", available=380)
    lot(account, 300, expires_at=now + timedelta(days=10))
    told = lot(account, 80, expires_at=now + timedelta(days=3))
    # Loyalty's own task told Camille about these 80 before the move: not told again.
    PointsLot.objects.filter(pk=told.pk).update(expiry_notice_sent_at=now - timedelta(days=11))

    services.run_journeys()
    services.run_journeys()

    [notice] = Notification.objects.filter(customer=camille)
    expiry = timezone.localdate(now + timedelta(days=10))
    assert notice.subject == f"300 of your points expire on {expiry.day} {expiry:%B %Y}"
    assert "Hello Camille" in notice.body
    assert "300 of your Omni Rewards points will expire" in notice.body
    assert "You have 380 points available today." in notice.body
    assert (notice.kind, notice.channel, notice.status) == ("marketing", "email", "queued")


def journey_programme():
    from loyalty.models import Programme

    return Programme.objects.get(name="Omni Rewards")


def test_an_install_without_notices_gets_no_journey():
    migrate(BEFORE)
    migrate(AFTER)

    assert not Campaign.objects.filter(name="Points about to expire").exists()


def test_loyalty_no_longer_sends_its_own_notice():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert "loyalty.send_expiry_notices" not in scheduled
    assert "campaigns.run_journeys" in scheduled
