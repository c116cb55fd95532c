"""Recording a campaign's messages many at a time: the same rules as one by one, a fixed
number of queries, one INSERT."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import FrequencyCap, Notification
from customers.notifications import Message, notify_many
from omni.core.errors import InvalidInput
from tests.customers.factories import CustomerFactory
from tests.customers.outbox import consenting_customer, marketing

Status = Notification.Status
Reason = Notification.SuppressionReason

pytestmark = pytest.mark.django_db


def spring(customer, key: str, **extra) -> Message:
    return Message(
        customer=customer,
        topic="campaigns.spring_sale",
        channel=extra.pop("channel", "email"),
        kind="marketing",
        subject="Spring sale",
        body="Everything -20 %.",
        idempotency_key=key,
        source="campaign:spring",
        **extra,
    )


def test_the_same_rules_hold_as_one_by_one():
    FrequencyCap.objects.create(channel="", max_messages=1, period_days=7)
    camille = consenting_customer()
    no_consent = CustomerFactory()

    first, second, refused = notify_many(
        [spring(camille, "a"), spring(camille, "b"), spring(no_consent, "c")]
    )

    assert (first.status, first.pk is not None) == (Status.QUEUED, True)
    assert (second.status, second.suppression_reason) == (Status.SUPPRESSED, Reason.CAPPED)
    assert refused.suppression_reason == Reason.NO_CONSENT
    assert Notification.objects.count() == 3


def test_a_key_already_used_gives_its_first_row():
    camille = consenting_customer()
    earlier = marketing(camille, "spring:camille")

    (again, new) = notify_many([spring(camille, "spring:camille"), spring(camille, "other")])

    assert again == earlier
    assert new.pk != earlier.pk
    assert Notification.objects.count() == 2


def test_bad_input_records_nothing():
    camille = consenting_customer()

    with pytest.raises(InvalidInput):
        notify_many([spring(camille, "a"), spring(camille, "b", channel="fax")])
    with pytest.raises(InvalidInput):
        notify_many([spring(camille, "a"), spring(camille, "a")])

    assert not Notification.objects.exists()


def test_the_queued_rows_leave_in_batch_tasks_after_commit(
    django_capture_on_commit_callbacks, settings
):
    settings.NOTIFICATION_BATCH_SIZE = 2
    customers = [consenting_customer() for _ in range(3)]

    with django_capture_on_commit_callbacks(execute=False) as tasks:
        notify_many([spring(c, f"k{n}") for n, c in enumerate(customers)])

    assert len(tasks) == 2


def test_recording_costs_the_same_queries_for_few_or_many(django_capture_on_commit_callbacks):
    FrequencyCap.objects.create(channel="", max_messages=3, period_days=7)

    def queries(count: int, key: str) -> int:
        messages = [spring(consenting_customer(), f"{key}:{n}") for n in range(count)]
        with (
            django_capture_on_commit_callbacks(execute=False),
            CaptureQueriesContext(connection) as captured,
        ):
            notify_many(messages)
        return len(captured)

    assert queries(3, "few") == queries(50, "many") <= 10
