"""Helpers for the outbox's tests: a consenting customer, a marketing message, tasks run in
this process, and an SMS backend that a worker process can be observed through."""

import os
from pathlib import Path

import pytest

from customers.models import ContactChannel, Notification
from customers.notifications import MemoryBackend, OutgoingMessage, notify
from omni.celery import app as celery_app
from tests.customers.factories import ConsentFactory, CustomerFactory


def consenting_customer(*channels: str, **fields):
    """A customer who agreed to marketing on ``channels`` (e-mail by default)."""
    customer = CustomerFactory(**fields)
    for channel in channels or (ContactChannel.EMAIL,):
        ConsentFactory(customer=customer, channel=channel, granted=True)
    return customer


def marketing(customer, key: str, *, channel: str = "email", **extra) -> Notification:
    return notify(
        customer=customer,
        topic=extra.pop("topic", "campaigns.spring_sale"),
        channel=channel,
        kind="marketing",
        subject=extra.pop("subject", "Spring sale"),
        body=extra.pop("body", "Everything -20 % this week."),
        idempotency_key=key,
        **extra,
    )


@pytest.fixture
def tasks_run_here():
    """Tasks sent after commit run in this process instead of going to a broker."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False


@pytest.fixture
def memory_backends(settings):
    """SMS and push go to ``MemoryBackend.sent``, emptied for each test."""
    settings.NOTIFICATION_BACKENDS = {
        **settings.NOTIFICATION_BACKENDS,
        "sms": "customers.notifications.MemoryBackend",
        "push": "customers.notifications.MemoryBackend",
    }
    MemoryBackend.sent = []
    yield MemoryBackend.sent
    MemoryBackend.sent = []


class FileBackend:
    """Appends one line per message sent to the file named by ``OUTBOX_TEST_FILE``: how a test
    sees what a worker process sent (its memory is not the test's)."""

    def send(self, message: OutgoingMessage) -> str:
        path = Path(os.environ["OUTBOX_TEST_FILE"])
        with path.open("a") as lines:
            lines.write(f"{message.notification_id} {message.recipient}\n")
        return f"file-{message.notification_id}"
