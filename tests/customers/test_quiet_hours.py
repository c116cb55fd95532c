"""Quiet hours: a marketing message due at night in the customer's time zone waits until
morning there (it is not dropped), and is released by a beat task that checks every rule
again."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import ContactChannel, Notification
from customers.notifications import notify, release_waiting
from customers.services import record_consent
from customers.tasks import release_waiting_notifications
from inventory.models import Location
from tests.customers.outbox import consenting_customer, marketing

Status = Notification.Status
Reason = Notification.SuppressionReason
# 20:30 UTC on a June evening: 22:30 in Paris (quiet), 16:30 in New York (not).
EVENING = datetime(2026, 6, 10, 20, 30, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quiet_at_night(settings):
    settings.MARKETING_QUIET_HOURS = "21:00-08:00"
    settings.TIME_ZONE = "UTC"


def test_a_message_waits_for_the_morning_in_each_customers_time_zone(time_machine):
    time_machine.move_to(EVENING, tick=False)
    paris = consenting_customer(time_zone="Europe/Paris")
    new_york = consenting_customer(time_zone="America/New_York")

    to_paris = marketing(paris, "spring:paris")
    to_new_york = marketing(new_york, "spring:new-york")

    assert (to_paris.status, to_paris.suppression_reason) == (Status.WAITING, Reason.QUIET_HOURS)
    # 08:00 in Paris (UTC+2 in June) the next morning.
    assert to_paris.send_after == datetime(2026, 6, 11, 6, 0, tzinfo=UTC)
    assert (to_new_york.status, to_new_york.send_after) == (Status.QUEUED, None)


def test_the_night_the_clocks_go_forward_ends_at_eight_on_the_new_clock(time_machine):
    # Saturday 28 March 2026, 22:00 in Paris (UTC+1); at 02:00 the clocks jump to 03:00.
    time_machine.move_to(datetime(2026, 3, 28, 21, 0, tzinfo=UTC), tick=False)
    paris = consenting_customer(time_zone="Europe/Paris")

    waiting = marketing(paris, "spring:dst")

    # 08:00 CEST is 06:00 UTC, not the 07:00 that "ten hours later" would give.
    assert waiting.send_after == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)


def test_early_morning_waits_until_the_end_the_same_day(time_machine):
    time_machine.move_to(datetime(2026, 6, 11, 4, 0, tzinfo=UTC), tick=False)  # 06:00 Paris
    paris = consenting_customer(time_zone="Europe/Paris")

    assert marketing(paris, "spring:early").send_after == datetime(2026, 6, 11, 6, tzinfo=UTC)


def test_without_a_time_zone_the_preferred_store_then_the_servers_is_used(time_machine):
    Location.objects.create(code="PAR-RIV", name="Rivoli", time_zone="Europe/Paris")
    Location.objects.create(code="NYC-5TH", name="Fifth Avenue", time_zone="America/New_York")
    paris_shopper = consenting_customer(preferred_store_code="PAR-RIV")
    new_york_shopper = consenting_customer(preferred_store_code="NYC-5TH")
    no_zone = consenting_customer()  # the server's TIME_ZONE: UTC

    time_machine.move_to(EVENING, tick=False)  # 20:30 UTC, 22:30 in Paris
    assert marketing(paris_shopper, "spring:paris").status == Status.WAITING
    assert marketing(no_zone, "spring:utc").status == Status.QUEUED
    time_machine.move_to(EVENING + timedelta(hours=2), tick=False)  # 22:30 UTC, 18:30 in N.Y.
    assert marketing(new_york_shopper, "spring:new-york").status == Status.QUEUED
    assert marketing(no_zone, "spring:utc-later").status == Status.WAITING


def test_transactional_messages_go_at_night(time_machine):
    time_machine.move_to(EVENING, tick=False)
    paris = consenting_customer(time_zone="Europe/Paris")

    ready = notify(
        customer=paris,
        topic="orders.ready_for_pickup",
        channel="email",
        kind="transactional",
        body="Your order is ready.",
        idempotency_key="order-ready:1",
    )

    assert ready.status == Status.QUEUED


def test_waiting_messages_are_released_and_sent_in_the_morning(
    time_machine, tasks_run_here, django_capture_on_commit_callbacks
):
    time_machine.move_to(EVENING, tick=False)
    paris = consenting_customer(time_zone="Europe/Paris")
    waiting = marketing(paris, "spring:paris", subject="Spring sale")

    time_machine.move_to(datetime(2026, 6, 11, 5, 59, tzinfo=UTC), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert release_waiting() == 0
    time_machine.move_to(datetime(2026, 6, 11, 6, 0, tzinfo=UTC), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert release_waiting_notifications.delay().get() == 1

    waiting.refresh_from_db()
    assert (waiting.status, waiting.sent_at) == (Status.SENT, datetime(2026, 6, 11, 6, tzinfo=UTC))
    assert [m.subject for m in mail.outbox] == ["Spring sale"]


def test_every_rule_is_checked_again_at_release(
    time_machine, tasks_run_here, django_capture_on_commit_callbacks
):
    time_machine.move_to(EVENING, tick=False)
    paris = consenting_customer(time_zone="Europe/Paris")
    waiting = marketing(paris, "spring:paris")
    record_consent(  # she says no during the night
        customer=paris,
        channel=ContactChannel.EMAIL,
        purpose="marketing",
        granted=False,
        source_channel="web",
    )

    time_machine.move_to(datetime(2026, 6, 11, 6, 0, tzinfo=UTC), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        release_waiting()

    waiting.refresh_from_db()
    assert (waiting.status, waiting.suppression_reason) == (Status.SUPPRESSED, Reason.NO_CONSENT)
    assert mail.outbox == []


def test_a_released_message_still_in_quiet_hours_waits_again(
    time_machine, tasks_run_here, django_capture_on_commit_callbacks
):
    time_machine.move_to(EVENING, tick=False)
    traveller = consenting_customer(time_zone="Europe/Paris")
    waiting = marketing(traveller, "spring:traveller")
    traveller.time_zone = "America/Los_Angeles"  # 23:00 there at 06:00 UTC
    traveller.save(update_fields=["time_zone"])

    time_machine.move_to(datetime(2026, 6, 11, 6, 0, tzinfo=UTC), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        release_waiting()

    waiting.refresh_from_db()
    assert (waiting.status, waiting.suppression_reason) == (Status.WAITING, Reason.QUIET_HOURS)
    assert waiting.send_after == datetime(2026, 6, 11, 15, 0, tzinfo=UTC)  # 08:00 in L.A.
    assert mail.outbox == []


def test_release_costs_the_same_queries_for_few_or_many_messages(
    time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(EVENING, tick=False)
    paris = consenting_customer(time_zone="Europe/Paris")

    def queries_to_release(count: int, key: str) -> int:
        time_machine.move_to(EVENING, tick=False)
        for n in range(count):
            marketing(paris, f"{key}:{n}")
        time_machine.move_to(datetime(2026, 6, 11, 6, 0, tzinfo=UTC), tick=False)
        with (
            django_capture_on_commit_callbacks(execute=False),
            CaptureQueriesContext(connection) as queries,
        ):
            assert release_waiting(batch_size=100) == count
        return len(queries)

    assert queries_to_release(3, "few") == queries_to_release(60, "many")
    assert not Notification.objects.filter(status=Status.WAITING).exists()


def test_release_goes_in_batches(time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to(EVENING, tick=False)
    paris = consenting_customer(time_zone="Europe/Paris")
    for n in range(5):
        marketing(paris, f"spring:{n}")
    time_machine.move_to(datetime(2026, 6, 11, 6, 0, tzinfo=UTC), tick=False)

    with django_capture_on_commit_callbacks(execute=False) as tasks:
        assert release_waiting(batch_size=2) == 5

    assert len(tasks) == 3  # one deliver_batch task per batch: 2 + 2 + 1
