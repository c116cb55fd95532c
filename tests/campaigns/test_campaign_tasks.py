"""Campaign sends run by a real Celery worker process (on the real clock): a send queued twice
and run again queues each message once; the beat's task starts a campaign whose time came."""

from datetime import timedelta

from django.utils import timezone

from campaigns import services, tasks
from campaigns.models import Campaign, CampaignRecipient
from customers.models import Notification
from tests.campaigns.campaign_factories import campaign, shopper
from tests.conftest import wait_for_worker


def completed(spring: Campaign):
    return lambda: Campaign.objects.get(pk=spring.pk).status == Campaign.Status.COMPLETED


def test_a_worker_sends_a_campaign_once_however_often_its_task_runs(live_celery_worker):
    customers = [shopper(f"P{n}", "email") for n in range(7)]
    spring = campaign(customers)

    services.start_campaign(campaign=spring)  # commits: its send task leaves now
    # A duplicate of the task (a redelivery, a second beat) racing the first, then a retry
    # after it finished: the campaign's lock and cursor, the recipients and the outbox's keys
    # each make sure nobody gets the message twice.
    twin = tasks.send_campaign.delay(spring.pk).get(timeout=60)
    wait_for_worker(completed(spring), what="completed the campaign")
    retry = tasks.send_campaign.delay(spring.pk).get(timeout=60)

    assert twin["done"] is True
    assert retry == {
        "reached": 0,
        "queued": 0,
        "suppressed": 0,
        "unreachable": 0,
        "held_out": 0,
        "done": True,
    }
    assert Notification.objects.filter(topic=f"campaign:{spring.public_id}").count() == 7
    assert CampaignRecipient.objects.filter(campaign=spring).count() == 7
    spring.refresh_from_db()
    assert (spring.recipient_count, spring.queued_count) == (7, 7)


def test_a_worker_starts_a_scheduled_campaign_whose_time_came(live_celery_worker):
    anna = shopper("Anna", "email")
    spring = campaign(
        [anna], kind=Campaign.Kind.SCHEDULED, send_at=timezone.now() + timedelta(minutes=5)
    )
    services.schedule_campaign(campaign=spring)
    Campaign.objects.filter(pk=spring.pk).update(send_at=timezone.now() - timedelta(seconds=1))

    started = tasks.start_due_campaigns.delay().get(timeout=60)

    assert started == [str(spring.public_id)]
    wait_for_worker(completed(spring), what="sent the scheduled campaign")
    assert Notification.objects.get(customer=anna).idempotency_key == (
        f"campaign:{spring.public_id}:{anna.public_id}"
    )
