"""The e-mailing tasks' retries: growing pauses, then the row is marked failed (or the task
fails, for a sign-up link)."""

import pytest
from celery.signals import task_retry
from django.core import mail

from customers import services
from customers.models import Notification, SignUpRequest
from customers.tasks import MAX_DELIVERY_RETRIES, deliver_notification, send_sign_up_email
from omni.core.channels import Channel
from tests.customers.factories import CustomerFactory

Status = Notification.Status

pytestmark = pytest.mark.django_db


class BrokenBackend:
    def send(self, message):
        raise ConnectionRefusedError("smtp.example.com refused the connection")


class BackendThatRecoversOnTheThirdTry:
    tries = 0

    def send(self, message):
        type(self).tries += 1
        if type(self).tries < 3:
            raise ConnectionRefusedError("smtp.example.com refused the connection")


@pytest.fixture
def email_backend(settings):
    def use(path: str) -> None:
        settings.NOTIFICATION_BACKENDS = {**settings.NOTIFICATION_BACKENDS, "email": path}

    return use


@pytest.fixture
def retries():
    """The (retry number, countdown) of every retry a task asks Celery for."""
    asked = []

    def record(sender, request, reason, **kwargs):
        asked.append((request.retries, reason.when))

    task_retry.connect(record, weak=False)
    yield asked
    task_retry.disconnect(record)


def queued_notification() -> Notification:
    return Notification.objects.create(
        customer=CustomerFactory(),
        channel="email",
        kind="transactional",
        topic="orders.ready_for_pickup",
        body="Ready.",
        idempotency_key="order-ready:1003",
    )


def test_a_failing_backend_is_retried_after_30_s_1_2_4_8_min_then_the_row_is_failed(
    email_backend, retries
):
    email_backend("tests.customers.test_notification_task_retries.BrokenBackend")
    notification = queued_notification()

    # apply() runs the task here and runs each retry it asks for at once, as a worker would
    # after the countdown.
    result = deliver_notification.apply(args=[notification.pk])

    assert retries == [(0, 30), (1, 60), (2, 120), (3, 240), (4, 480)]
    assert len(retries) == MAX_DELIVERY_RETRIES
    assert result.get() == Status.FAILED
    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert notification.attempts == MAX_DELIVERY_RETRIES + 1
    assert notification.last_error.startswith("ConnectionRefusedError")
    assert notification.sent_at is None


def test_a_backend_that_recovers_sends_once_on_the_retry_that_works(email_backend, retries):
    email_backend("tests.customers.test_notification_task_retries.BackendThatRecoversOnTheThirdTry")
    BackendThatRecoversOnTheThirdTry.tries = 0
    notification = queued_notification()

    result = deliver_notification.apply(args=[notification.pk])

    assert retries == [(0, 30), (1, 60)]
    assert result.get() == Status.SENT
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SENT, 3)
    assert notification.last_error == ""
    assert notification.sent_at is not None


def test_a_message_that_leaves_on_the_first_try_is_never_retried(retries):
    notification = queued_notification()

    result = deliver_notification.apply(args=[notification.pk])

    assert retries == []
    assert result.get() == Status.SENT
    assert len(mail.outbox) == 1


class MailServerDownFor:
    """A Django e-mail backend whose server refuses the first ``failures`` messages."""

    failures = 0

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        if MailServerDownFor.failures > 0:
            MailServerDownFor.failures -= 1
            raise ConnectionRefusedError("smtp.example.com refused the connection")
        return len(messages)


@pytest.fixture
def sign_up_request(settings, django_capture_on_commit_callbacks) -> SignUpRequest:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "tests.customers.test_notification_task_retries.MailServerDownFor"
    with django_capture_on_commit_callbacks(execute=False):  # its own task is not sent here
        return services.request_sign_up(
            email="new@example.com", password="a-long-customer-password-1", channel=Channel.WEB
        )


def test_a_sign_up_link_is_retried_with_growing_pauses_until_the_server_takes_it(
    sign_up_request, retries
):
    MailServerDownFor.failures = 2

    result = send_sign_up_email.apply(args=[sign_up_request.pk])

    assert retries == [(0, 30), (1, 60)]
    assert result.get() is True
    sign_up_request.refresh_from_db()
    assert sign_up_request.email_sent_at is not None


def test_a_sign_up_link_the_server_never_takes_fails_after_five_retries(sign_up_request, retries):
    MailServerDownFor.failures = MAX_DELIVERY_RETRIES + 1

    result = send_sign_up_email.apply(args=[sign_up_request.pk])

    assert retries == [(0, 30), (1, 60), (2, 120), (3, 240), (4, 480)]
    assert result.failed()
    assert isinstance(result.result, ConnectionRefusedError)
    sign_up_request.refresh_from_db()
    assert sign_up_request.email_sent_at is None
