"""Delivery in batches for large sends, retries with growing pauses, and a message sent once
whoever delivers it: a retried task, a second task, two workers at once."""

from datetime import timedelta
from pathlib import Path

import pytest
from celery.signals import before_task_publish
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import FrequencyCap, Notification
from customers.notifications import MemoryBackend, deliver, deliver_in_batches
from customers.tasks import deliver_batch, deliver_notification, release_waiting_notifications
from tests.concurrency import run_concurrently
from tests.conftest import wait_for_worker
from tests.customers.outbox import consenting_customer, marketing

Status = Notification.Status


class RefusesOneAddress:
    """A mail server that refuses one address and takes the others."""

    def send(self, message):
        if message.recipient.startswith("refused"):
            raise ConnectionRefusedError("try later")
        return f"ok-{message.notification_id}"


@pytest.fixture
def published():
    """(task name, retries, eta) of every task sent to the broker."""
    sent = []

    def record(sender, headers, **kwargs):
        sent.append((sender, headers.get("retries"), headers.get("eta")))

    before_task_publish.connect(record, weak=False)
    yield sent
    before_task_publish.disconnect(record)


def queued_campaign(count: int, key: str) -> list[int]:
    ids = []
    for n in range(count):
        customer = consenting_customer()
        ids.append(marketing(customer, f"{key}:{n}", source="campaign:spring", enqueue=False).pk)
    return ids


@pytest.mark.django_db
def test_a_batch_sends_every_queued_message_and_keeps_provider_ids():
    ids = queued_campaign(4, "spring")

    counts = deliver_batch.apply(args=[ids]).get()

    assert counts == {"sent": 4}
    assert len(mail.outbox) == 4
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}
    assert "" not in set(Notification.objects.values_list("provider_id", flat=True))


@pytest.mark.django_db
def test_a_batch_costs_the_same_queries_for_5_or_40_messages():
    FrequencyCap.objects.create(channel="", max_messages=3, period_days=7)

    def queries(count: int, key: str) -> int:
        ids = queued_campaign(count, key)
        with CaptureQueriesContext(connection) as captured:
            deliver_batch.apply(args=[ids]).get()
        return len(captured)

    assert queries(5, "few") == queries(40, "many") <= 12
    assert Notification.objects.filter(status=Status.SENT).count() == 45


@pytest.mark.django_db
def test_a_large_send_is_cut_into_batch_tasks(django_capture_on_commit_callbacks, settings):
    settings.NOTIFICATION_BATCH_SIZE = 3
    ids = queued_campaign(7, "spring")

    with django_capture_on_commit_callbacks(execute=False) as tasks:
        assert deliver_in_batches(ids) == 3

    assert len(tasks) == 3
    assert mail.outbox == []  # nothing leaves before the commit


@pytest.mark.django_db
def test_a_message_recorded_without_enqueue_sends_no_task(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as tasks:
        marketing(consenting_customer(), "spring:1", enqueue=False)

    assert tasks == []


@pytest.mark.django_db
def test_a_failure_in_a_batch_is_retried_alone_after_a_pause(settings, published):
    settings.NOTIFICATION_BACKENDS = {
        **settings.NOTIFICATION_BACKENDS,
        "email": "tests.customers.test_outbox_batches.RefusesOneAddress",
    }
    taken = marketing(consenting_customer(), "spring:taken", enqueue=False)
    refused = marketing(
        consenting_customer(email="refused@example.com"), "spring:refused", enqueue=False
    )

    counts = deliver_batch.apply(args=[[taken.pk, refused.pk]]).get()

    assert counts == {"sent": 1, "queued": 1}
    refused.refresh_from_db()
    assert (refused.status, refused.attempts) == (Status.QUEUED, 1)
    assert "ConnectionRefusedError" in refused.last_error
    ((task, retries, eta),) = published
    assert (task, retries) == ("customers.deliver_notification", 0)
    assert eta is not None  # after a pause (30 s), not at once


@pytest.mark.django_db
def test_the_attempts_are_capped_by_the_setting(settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    settings.NOTIFICATION_BACKENDS = {
        **settings.NOTIFICATION_BACKENDS,
        "email": "tests.customers.test_outbox_batches.RefusesOneAddress",
    }
    refused = marketing(consenting_customer(email="refused@example.com"), "spring:refused")

    deliver_batch.apply(args=[[refused.pk]]).get()
    assert deliver(notification_id=refused.pk, last_attempt=False) == Status.FAILED

    refused.refresh_from_db()
    assert (refused.status, refused.attempts) == (Status.FAILED, 2)


@pytest.mark.django_db
def test_rows_no_longer_queued_are_left_alone():
    ids = queued_campaign(2, "spring")
    deliver_batch.apply(args=[ids]).get()

    again = deliver_batch.apply(args=[ids]).get()

    assert again == {"sent": 2}
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_two_workers_delivering_one_message_at_once_send_it_once(memory_backends):
    camille = consenting_customer("sms", phone="+33612345678")
    notification = marketing(camille, "spring:sms", channel="sms", enqueue=False)

    results = run_concurrently(
        [
            lambda: deliver(notification_id=notification.pk),
            lambda: deliver_batch.apply(args=[[notification.pk]]).get(),
        ],
        refusal=LookupError,
    )

    assert not results.crashed, results.summary(2)
    assert len(MemoryBackend.sent) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SENT, 1)


@pytest.fixture
def sms_to_a_file(monkeypatch, tmp_path) -> Path:
    """The worker process sends SMS through ``FileBackend``: one line per message sent."""
    path = tmp_path / "sms.txt"
    path.touch()
    monkeypatch.setenv("NOTIFICATION_SMS_BACKEND", "tests.customers.outbox.FileBackend")
    monkeypatch.setenv("OUTBOX_TEST_FILE", str(path))
    return path


def test_a_real_worker_given_one_message_by_three_tasks_sends_it_once(
    sms_to_a_file, live_celery_worker
):
    camille = consenting_customer("sms", phone="+33612345678")
    notification = marketing(camille, "spring:sms", channel="sms", enqueue=False)

    # A batch, then the same message's own task twice (a retry, a redelivery by the broker).
    batch = deliver_batch.delay([notification.pk])
    single = deliver_notification.delay(notification.pk)
    again = deliver_notification.delay(notification.pk)

    assert batch.get(timeout=60) == {"sent": 1}
    assert single.get(timeout=60) == again.get(timeout=60) == Status.SENT
    assert sms_to_a_file.read_text().splitlines() == [f"{notification.pk} +33612345678"]
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SENT, 1)
    assert notification.provider_id == f"file-{notification.pk}"


def test_a_worker_releases_a_waiting_message_whose_time_came_and_sends_it(live_celery_worker):
    camille = consenting_customer()
    waiting = marketing(camille, "spring:later", not_before=timezone.now() + timedelta(hours=1))
    assert waiting.status == Status.WAITING
    Notification.objects.filter(pk=waiting.pk).update(
        send_after=timezone.now() - timedelta(minutes=1)
    )

    assert release_waiting_notifications.delay().get(timeout=60) == 1

    wait_for_worker(
        lambda: Notification.objects.filter(pk=waiting.pk, status=Status.SENT).exists(),
        what="delivered the released message",
    )
    waiting.refresh_from_db()
    assert (waiting.attempts, waiting.recipient) == (1, camille.email)
