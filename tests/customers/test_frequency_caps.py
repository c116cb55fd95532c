"""Frequency caps: staff limit how many marketing messages a customer gets per period, per
channel and across channels, whichever campaign or app sends them."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import FrequencyCap, Notification
from customers.notifications import MemoryBackend, deliver, notify
from tests.concurrency import run_concurrently
from tests.customers.outbox import consenting_customer, marketing

Status = Notification.Status
Reason = Notification.SuppressionReason
MONDAY = datetime(2026, 6, 8, 10, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def outcome(notification):
    return notification.status, notification.suppression_reason


def test_a_cap_across_channels_holds_across_two_campaigns(time_machine):
    time_machine.move_to(MONDAY, tick=False)
    FrequencyCap.objects.create(channel="", max_messages=2, period_days=7)
    camille = consenting_customer("email", "sms", phone="+33612345678")

    spring = marketing(camille, "spring:1", source="campaign:spring")
    shoes = marketing(camille, "shoes:1", channel="sms", source="campaign:shoes")
    shoes_again = marketing(camille, "shoes:2", source="campaign:shoes")
    spring_reminder = marketing(camille, "spring:2", channel="sms", source="campaign:spring")

    assert outcome(spring) == outcome(shoes) == (Status.QUEUED, "")
    assert outcome(shoes_again) == outcome(spring_reminder) == (Status.SUPPRESSED, Reason.CAPPED)


def test_a_cap_per_channel_leaves_the_other_channels_free(time_machine):
    time_machine.move_to(MONDAY, tick=False)
    FrequencyCap.objects.create(channel="sms", max_messages=1, period_days=7)
    camille = consenting_customer("email", "sms", phone="+33612345678")

    first_sms = marketing(camille, "spring:sms", channel="sms", source="campaign:spring")
    second_sms = marketing(camille, "shoes:sms", channel="sms", source="campaign:shoes")
    email = marketing(camille, "shoes:email", source="campaign:shoes")

    assert outcome(first_sms) == (Status.QUEUED, "")
    assert outcome(second_sms) == (Status.SUPPRESSED, Reason.CAPPED)
    assert outcome(email) == (Status.QUEUED, "")


def test_the_cap_counts_only_the_period(time_machine):
    time_machine.move_to(MONDAY, tick=False)
    FrequencyCap.objects.create(channel="", max_messages=1, period_days=7)
    camille = consenting_customer()
    sent = marketing(camille, "spring:1")
    Notification.objects.filter(pk=sent.pk).update(status=Status.SENT, sent_at=MONDAY)

    time_machine.move_to(MONDAY + timedelta(days=6), tick=False)
    too_soon = marketing(camille, "shoes:1")
    time_machine.move_to(MONDAY + timedelta(days=8), tick=False)
    a_week_later = marketing(camille, "shoes:2")

    assert outcome(too_soon) == (Status.SUPPRESSED, Reason.CAPPED)
    assert outcome(a_week_later) == (Status.QUEUED, "")


def test_every_cap_holds_at_once(time_machine):
    time_machine.move_to(MONDAY, tick=False)
    FrequencyCap.objects.create(channel="", max_messages=3, period_days=7)
    FrequencyCap.objects.create(channel="", max_messages=1, period_days=1)
    camille = consenting_customer()

    monday = marketing(camille, "a")
    monday_again = marketing(camille, "b")
    time_machine.move_to(MONDAY + timedelta(days=1, hours=1), tick=False)
    tuesday = marketing(camille, "c")

    assert [outcome(n)[1] for n in (monday, monday_again, tuesday)] == ["", Reason.CAPPED, ""]


def test_transactional_messages_are_neither_capped_nor_counted(time_machine):
    time_machine.move_to(MONDAY, tick=False)
    FrequencyCap.objects.create(channel="", max_messages=1, period_days=7)
    camille = consenting_customer()

    receipts = [
        notify(
            customer=camille,
            topic="orders.placed",
            channel="email",
            kind="transactional",
            body="Thank you for your order.",
            idempotency_key=f"order-placed:{n}",
        )
        for n in range(3)
    ]
    campaign = marketing(camille, "spring:1")

    assert {n.status for n in receipts} == {Status.QUEUED}
    assert "exempt" in receipts[0].respect
    assert outcome(campaign) == (Status.QUEUED, "")
    assert "frequency caps" in campaign.respect


def test_messages_held_back_do_not_count(time_machine):
    time_machine.move_to(MONDAY, tick=False)
    FrequencyCap.objects.create(channel="", max_messages=1, period_days=7)
    camille = consenting_customer()  # e-mail only
    marketing(camille, "spring:sms", channel="sms")  # suppressed: no consent, no phone

    assert outcome(marketing(camille, "spring:email")) == (Status.QUEUED, "")


def test_a_cap_set_after_messages_were_queued_holds_when_they_leave(time_machine):
    time_machine.move_to(MONDAY, tick=False)
    camille = consenting_customer()
    older = marketing(camille, "spring:1", source="campaign:spring")
    newer = marketing(camille, "shoes:1", source="campaign:shoes")
    FrequencyCap.objects.create(channel="email", max_messages=1, period_days=7)

    newer_status = deliver(notification_id=newer.pk)  # delivered first, e.g. by another worker
    older_status = deliver(notification_id=older.pk)

    # Of two queued messages over the cap, the older one goes, whichever is delivered first.
    assert (older_status, newer_status) == (Status.SENT, Status.SUPPRESSED)
    newer.refresh_from_db()
    assert newer.suppression_reason == Reason.CAPPED


def test_recording_a_message_counts_in_one_query_whatever_the_history(time_machine):
    time_machine.move_to(MONDAY, tick=False)
    FrequencyCap.objects.create(channel="", max_messages=100, period_days=30)
    FrequencyCap.objects.create(channel="email", max_messages=50, period_days=7)

    def queries_to_notify(camille, past: int, key: str) -> int:
        for n in range(past):
            marketing(camille, f"{key}:past:{n}")
        with CaptureQueriesContext(connection) as queries:
            marketing(camille, f"{key}:now")
        return len(queries)

    few = queries_to_notify(consenting_customer(), 1, "few")
    many = queries_to_notify(consenting_customer(), 30, "many")

    assert few == many <= 8


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_two_workers_delivering_at_once_never_pass_a_cap_together(memory_backends):
    FrequencyCap.objects.create(channel="sms", max_messages=1, period_days=7)
    camille = consenting_customer("sms", phone="+33612345678")
    first = marketing(camille, "spring:sms", channel="sms", source="campaign:spring")
    # Queued before the cap could see the first one (two campaigns recorded at the same time).
    second = Notification.objects.create(
        customer=camille,
        channel="sms",
        kind="marketing",
        purpose="marketing",
        topic="campaigns.shoes",
        source="campaign:shoes",
        body="Shoes -30 %.",
        idempotency_key="shoes:sms",
    )

    results = run_concurrently(
        [lambda: deliver(notification_id=first.pk), lambda: deliver(notification_id=second.pk)],
        refusal=LookupError,
    )

    assert not results.crashed, results.summary(2)
    assert sorted(results.granted) == [Status.SENT, Status.SUPPRESSED]
    assert len(MemoryBackend.sent) == 1
    assert Notification.objects.filter(suppression_reason=Reason.CAPPED).count() == 1
